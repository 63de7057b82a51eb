"""F3 — the zone of tolerance, on the shock design of :mod:`sim.validation.shocks`.

The market is `scenarios/validation/f03_zone.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F3.md`."""

from __future__ import annotations

import math

import numpy as np

from ..core import interval_errors, interval_means
from ..core import Fact, band_check, below_check, ci, new_figure, ratio_ci
from ..shocks import ZONE_HALF, measure_shock, shock_effects, with_logit


def measure(markets, seed):
    return measure_shock(markets[0], seed, horizon=26)


def _slope(xs, ys):
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    return float(np.polyfit(xs, ys, 1)[0])


F3_INSIDE = (-0.08, -0.04, 0.0, 0.04, 0.08)
F3_BELOW = (-0.3, -0.2, -0.1)
F3_ABOVE = (0.1, 0.2, 0.3)


def _f3_slopes(ps, key):
    res = {}
    for name, xs in (("inside", F3_INSIDE), ("below", F3_BELOW), ("above", F3_ABOVE)):
        eff = [shock_effects(ps, key, x) for x in xs]  # per x, per seed
        res[name] = [_slope(xs, [e[i] for e in eff]) for i in range(len(ps))]
    return res


def evaluate(ps):
    checks = []
    for key, en, zh in (("int", "intention to buy again", "再购意愿"), ("dtrust", "trust", "信任")):
        sl = _f3_slopes(ps, key)
        for name, en_s, zh_s in (("inside", "inside the zone (−0.08 … +0.08)", "区间内（−0.08 … +0.08）"),
                                 ("below", "below the zone (−0.3 … −0.1)", "区间下方（−0.3 … −0.1）"),
                                 ("above", "above the zone (+0.1 … +0.3)", "区间上方（+0.1 … +0.3）")):
            checks.append(band_check(f"slope_{key}_{name}", f"slope of {en} on performance {en_s}",
                                     f"{zh}对表现的斜率，{zh_s}", ci(sl[name]), -math.inf, math.inf, info=True))
        # the intention is a probability: near its ceiling that scale compresses a surplus's effect
        # whatever the zone does, so its ratios are reported there (info) and checked on the logit scale
        # below, where the zone rule acts; trust is checked as it is
        for side, en_s, zh_s in (("below", "below", "下方"), ("above", "above", "上方")):
            checks.append(below_check(
                f"zone_{key}_{side}", f"{en}: slope inside the zone / slope {en_s} it",
                f"{zh}：区间内斜率 / 区间{zh_s}斜率", ratio_ci(sl["inside"], sl[side]), 0.25, "{:.3f}",
                significant=False, target_en="< 0.25", target_zh="< 0.25", info=key == "int"))
    lsl = _f3_slopes(with_logit(ps), "int_logit")
    for side, en_s, zh_s in (("below", "below", "下方"), ("above", "above", "上方")):
        checks.append(below_check(
            f"logit_zone_int_{side}", f"intention on its logit scale: slope inside the zone / slope {en_s} it",
            f"意愿（logit 尺度）：区间内斜率 / 区间{zh_s}斜率", ratio_ci(lsl["inside"], lsl[side]), 0.25, "{:.3f}",
            significant=False, target_en="< 0.25", target_zh="< 0.25"))
    return checks


def plot(ps, checks):
    fig, axes = new_figure(2)
    xs = sorted(set(ps[0]["delta"]))
    for ax, (key, en) in zip(axes, (("int", "intention to buy again"), ("dtrust", "trust change"))):
        m = [ci(shock_effects(ps, key, x)) for x in xs]
        ax.errorbar(xs, interval_means(m), yerr=interval_errors(m), marker="o",
                    capsize=3)
        ax.axvspan(-ZONE_HALF, ZONE_HALF, color="0.9", zorder=0, label="zone of tolerance")
        ax.set_xlabel("performance − expectation in one encounter")
        ax.set_title(f"{en} (vs control)", fontsize=9)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.legend(fontsize=7)
    return fig


FACT = Fact("F3", "f03_zone.toml", measure, evaluate, plot, cost=4, kinds=(("", "verification"),))

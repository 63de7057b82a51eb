"""F1 — disconfirmation and adaptive expectations. Every purchase of a closed market with one honest
merchant is read: expectation, perceived − expected and transaction satisfaction.

The market is `scenarios/validation/f01_expectations.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F1.md`."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ...mechanism import EV
from ..core import (Check, Fact, above_check, band_check, ci, column, nanmean, new_figure, own_buyers, run_scenario,
                    series)
from ..shocks import ZONE_HALF


def measure(markets, seed: int) -> dict:
    sc = markets[0]
    rows = []  # (step, place, id, expectation, disconfirmation, satisfaction)

    def on_step(model):
        pop = model.pop
        b = own_buyers(pop)
        b = b[(pop.flags[b] & (EV.RECOVERED | EV.BOTCHED)) == 0]  # txn_sat of a landed recovery: skip
        d = pop.disconfirmation[b].astype(float)
        E = pop.value[b].astype(float) - d
        rows.append((np.full(len(b), model.steps), pop.id[b].copy(), E, d, pop.txn_sat[b].astype(float)))

    res = run_scenario(sc, seed, on_step)
    step, ids, E, d, s = (np.concatenate([r[i] for r in rows]) for i in range(5))
    out: dict = {"steps": int(res.steps)}
    # (a) slope of satisfaction on v − E within four expectation bands of equal width, spanning the
    # middle 95% of the expectations met in the run
    lo_e, hi_e = np.quantile(E, [0.025, 0.975])
    edges = np.linspace(lo_e, hi_e, 5)
    slopes, centres = [], []
    for a, b_ in zip(edges[:-1], edges[1:]):
        m = (E >= a) & (E <= b_)
        x, y = d[m], s[m]
        slopes.append(float(np.polyfit(x, y, 1)[0]) if m.sum() >= 30 and x.std() > 0 else math.nan)
        centres.append(float(E[m].mean()))
    out["slopes"], out["band_E"] = slopes, centres
    # binned curve for the figure: mean satisfaction by disconfirmation, per expectation band
    bins = np.linspace(-0.4, 0.4, 17)
    curve = []
    for a, b_ in zip(edges[:-1], edges[1:]):
        m = (E >= a) & (E <= b_)
        k = np.digitize(d[m], bins)
        curve.append([float(s[m][k == i].mean()) if (k == i).sum() >= 5 else math.nan for i in range(1, len(bins))])
    out["curve"] = curve
    # (b), (c): customers whose first purchase fell short of / exceeded their expectation
    order = np.lexsort((step, ids))
    ids_o, d_o = ids[order], d[order]
    first = np.r_[True, ids_o[1:] != ids_o[:-1]]
    start_gap = dict(zip(ids_o[first].tolist(), d_o[first].tolist()))
    g = np.array([start_gap[i] for i in ids.tolist()])
    last = int(step.max())
    for name, grp in (("above", g < -ZONE_HALF / 2), ("below", g > ZONE_HALF / 2)):
        early = grp & (step <= 13)
        late = grp & (step > last - 13)
        out[f"gap_early_{name}"] = float(d[early].mean()) if early.any() else math.nan
        out[f"gap_late_{name}"] = float(d[late].mean()) if late.any() else math.nan
        out[f"sat_early_{name}"] = float(s[early].mean()) if early.any() else math.nan
        out[f"sat_late_{name}"] = float(s[late].mean()) if late.any() else math.nan
        # path of the mean gap per week, for the figure
        out[f"gap_path_{name}"] = [float(d[grp & (step == t)].mean()) if (grp & (step == t)).any() else math.nan
                                   for t in range(1, last + 1)]
        out[f"sat_path_{name}"] = [float(s[grp & (step == t)].mean()) if (grp & (step == t)).any() else math.nan
                                   for t in range(1, last + 1)]
    return out


def evaluate(ps: list[dict]) -> list[Check]:
    checks = []
    nb = len(ps[0]["slopes"])
    mins = [min(d["slopes"]) for d in ps]
    checks.append(above_check(
        "slope_min", "smallest slope of satisfaction on (perceived − expected) across 4 expectation bands",
        "四个预期档中满意度对（感知 − 预期）的最小斜率", ci(mins), 0.0))
    for i in range(nb):
        e = nanmean(column(ps, "band_E", i))
        checks.append(above_check(
            f"slope_{i}", f"slope in expectation band {i + 1} (mean E = {e:.2f})",
            f"预期第 {i + 1} 档（平均 E = {e:.2f}）的斜率", ci(column(ps, "slopes", i)), 0.0, info=True))
    for name, en, zh in (("above", "customers who started above what they got", "起初预期高于所得的客户"),
                         ("below", "customers who started below what they got", "起初预期低于所得的客户")):
        checks.append(band_check(f"gap_early_{name}", f"perceived − expected, first 13 weeks: {en}",
                                 f"前 13 周感知 − 预期：{zh}", ci(series(ps, f"gap_early_{name}")), -1, 1, info=True))
        checks.append(band_check(f"gap_late_{name}", f"perceived − expected, last 13 weeks: {en}",
                                 f"最后 13 周感知 − 预期：{zh}", ci(series(ps, f"gap_late_{name}")), -0.02, 0.02))
        checks.append(band_check(f"sat_early_{name}", f"transaction satisfaction, first 13 weeks: {en}",
                                 f"前 13 周单次满意度：{zh}", ci(series(ps, f"sat_early_{name}")), 0, 1, info=True))
        checks.append(band_check(f"sat_late_{name}", f"transaction satisfaction, last 13 weeks: {en}",
                                 f"最后 13 周单次满意度：{zh}", ci(series(ps, f"sat_late_{name}")), 0.48, 0.52))
    return checks


def plot(ps, checks):
    fig, (a1, a2) = new_figure(2)
    bins = np.linspace(-0.4, 0.4, 17)
    x = (bins[:-1] + bins[1:]) / 2
    for i in range(len(ps[0]["curve"])):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = np.nanmean(np.array([d["curve"][i] for d in ps], dtype=float), axis=0)
        a1.plot(x, y, marker=".", label=f"E ≈ {nanmean(column(ps, 'band_E', i)):.2f}")
    a1.axvspan(-ZONE_HALF, ZONE_HALF, color="0.9", zorder=0)
    a1.set_xlabel("perceived − expected (v − E)")
    a1.set_ylabel("transaction satisfaction")
    a1.set_title("Satisfaction by disconfirmation, per expectation band", fontsize=9)
    a1.legend(fontsize=7)
    for name, c in (("above", "C3"), ("below", "C2")):
        y = np.nanmean(np.array([d[f"gap_path_{name}"] for d in ps], dtype=float), axis=0)
        s = np.nanmean(np.array([d[f"sat_path_{name}"] for d in ps], dtype=float), axis=0)
        a2.plot(np.arange(1, len(y) + 1), y, color=c, label=f"v − E, started {name}")
        a2.plot(np.arange(1, len(s) + 1), s - 0.5, color=c, ls="--", label=f"satisfaction − 0.5, started {name}")
    a2.axhline(0, color="0.3", lw=0.8)
    a2.set_xlabel("week")
    a2.set_title("Expectations converge; satisfaction drifts to neutral", fontsize=9)
    a2.legend(fontsize=7)
    return fig


FACT = Fact("F1", "f01_expectations.toml", measure, evaluate, plot,
            kinds=(("", "verification"),))

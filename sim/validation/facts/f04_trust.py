"""F4 — trust asymmetry, on the shock design of :mod:`sim.validation.shocks` (complaints off), with
the bad encounter's buyers followed until their trust is back.

The market is `scenarios/validation/f04_trust.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F4.md`."""

from __future__ import annotations

import math

import numpy as np

from ..core import Fact, above_check, band_check, ci, new_figure, ratio_ci
from ..shocks import ZONE_HALF, measure_shock, shock_plan

F4_FOLLOW = 38  # weeks followed after the bad encounter


def measure(markets, seed):
    sc = markets[0]
    out = measure_shock(sc, seed, horizon=0, follow=F4_FOLLOW)
    # which merchants had a bad encounter followed by good ones: their quality changes again at T + 1
    T, names, _ = shock_plan(sc)
    rebuild = {e.target for e in sc.events if e.step == T + 1 and "quality" in e.changes
               and e.changes["quality"] > next(m.quality for m in sc.params.merchants if m.name == e.target)}
    out["rebuild"] = [n in rebuild for n in names]
    return out


def _pick(ps, key, delta, rebuild):
    out = []
    for d in ps:
        js = [j for j, (x, r) in enumerate(zip(d["delta"], d["rebuild"])) if abs(x - delta) < 1e-6 and r == rebuild]
        out.append(d[key][js[0]] if js else math.nan)
    return out


def evaluate(ps):
    checks = []
    for d in (0.1, 0.2, 0.3):
        q = ZONE_HALF + d
        loss = [-x for x in _pick(ps, "dtrust", -q, False)]  # trust after − before, sign flipped
        gain = _pick(ps, "dtrust", q, False)
        checks.append(above_check(
            f"asym_{d}", f"trust lost to one bad encounter − trust gained from one good one, d = {d}",
            f"一次坏服务损失的信任 − 一次好服务获得的信任，d = {d}", ci([a - b for a, b in zip(loss, gain)]), 0.0,
            "{:.4f}"))
        checks.append(band_check(f"ratio_{d}", f"trust lost / trust gained, d = {d}",
                                 f"损失的信任 / 获得的信任，d = {d}", ratio_ci(loss, gain), -math.inf, math.inf,
                                 "{:.2f}", info=True))
        back = _pick(ps, "back", -q, True)
        checks.append(above_check(
            f"rebuild_{d}", f"good encounters of size {d} needed to win back the trust lost to one bad one",
            f"挽回一次坏服务所失信任需要的幅度为 {d} 的好服务次数", ci(back), 1.0, "{:.2f}",
            target_en="> 1 (95% interval)", target_zh="> 1（95% 区间）"))
        checks.append(band_check(
            f"share_{d}", f"share of customers for whom one good encounter of size {d} is not enough",
            f"一次幅度为 {d} 的好服务不足以挽回信任的客户比例", ci(_pick(ps, "back_share1", -q, True)), 0, 1,
            "{:.2f}", info=True))
        checks.append(band_check(
            f"ordinary_{d}", f"ordinary (as-expected) purchases needed instead, d = {d} (censored at {F4_FOLLOW + 1})",
            f"改用普通（符合预期）购买所需的次数，d = {d}（上限 {F4_FOLLOW + 1}）", ci(_pick(ps, "back", -q, False)),
            0, math.inf, "{:.1f}", info=True))
    return checks


def plot(ps, checks):
    fig, (a1, a2) = new_figure(2)
    ds = [0.1, 0.2, 0.3]
    loss = [ci([-x for x in _pick(ps, "dtrust", -(ZONE_HALF + d), False)]) for d in ds]
    gain = [ci(_pick(ps, "dtrust", ZONE_HALF + d, False)) for d in ds]
    w = 0.03
    a1.bar(np.array(ds) - w / 2, [v[0] for v in loss], w, color="C3", label="lost to one bad encounter")
    a1.bar(np.array(ds) + w / 2, [v[0] for v in gain], w, color="C2", label="gained from one good encounter")
    a1.set_xlabel("size d beyond the zone")
    a1.set_ylabel("trust: after − before the encounter")
    a1.set_title("One encounter: trust lost vs gained", fontsize=9)
    a1.legend(fontsize=7)
    back = [ci(_pick(ps, "back", -(ZONE_HALF + d), True)) for d in ds]
    ordinary = [ci(_pick(ps, "back", -(ZONE_HALF + d), False)) for d in ds]
    a2.bar(np.array(ds) - w / 2, [v[0] for v in back], w, color="C0", label="good encounters of size d")
    a2.bar(np.array(ds) + w / 2, [v[0] for v in ordinary], w, color="0.6", label="ordinary purchases")
    a2.axhline(1, color="0.3", lw=0.8)
    a2.set_xlabel("size d of the bad encounter")
    a2.set_title("Purchases needed to win the trust back", fontsize=9)
    a2.legend(fontsize=7)
    return fig


FACT = Fact("F4", "f04_trust.toml", measure, evaluate, plot, cost=3, kinds=(("", "verification"),))

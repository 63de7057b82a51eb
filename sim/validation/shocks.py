"""Facts F1–F4: satisfaction, its asymmetry, the zone of tolerance and trust, measured on markets
where every customer's expectation is known and one encounter is changed on purpose.

F2–F4 share one design ("shock" scenarios): identical, perfectly consistent merchants whose
customers all buy every week, so that by the shock week each customer's expectation equals the
value it receives; scheduled events then move one merchant's quality for one week (or longer). The
measurement reads the shock from the scenario's events — the first event step is the shock, and a
merchant's shock is its new quality minus its quality in the file; merchants without an event are
the controls — and compares each merchant's buyers in the shock week with the control's buyers.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..mechanism import EV
from .core import (Check, Cohort, above_check, band_check, below_check, ci, column, nanmean, own_buyers, ratio_ci,
                   run_scenario, series)

ZONE_HALF = 0.1  # half the zone of tolerance in these scenarios (zone_of_tolerance = 0.2), checked below


# =====================================================================================================
# F1 — disconfirmation and adaptive expectations
# =====================================================================================================
def measure_f1(sc, seed: int) -> dict:
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


def evaluate_f1(ps: list[dict]) -> list[Check]:
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


def plot_f1(ps, checks):
    fig, (a1, a2) = _fig(2)
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


# =====================================================================================================
# The shock design (F2–F4)
# =====================================================================================================
def shock_plan(sc) -> tuple[int, list[str], list[float]]:
    """(shock step T, merchant names, each merchant's quality change at T) from the scenario's events."""
    names = [m.name for m in sc.params.merchants]
    base = {m.name: m.quality for m in sc.params.merchants}
    T = min(e.step for e in sc.events)
    delta = {n: 0.0 for n in names}
    for e in sc.events:
        if e.step == T and "quality" in e.changes:
            delta[e.target] = round(float(e.changes["quality"]) - base[e.target], 6)
    if abs(sc.params.zone_of_tolerance / 2 - ZONE_HALF) > 1e-9:
        raise ValueError("the shock scenarios assume zone_of_tolerance = 0.2")
    return T, names, [delta[n] for n in names]


def measure_shock(sc, seed: int, horizon: int = 26, follow: int = 0) -> dict:
    """Per merchant, the buyers of the shock week T + 1: mean transaction satisfaction, intention,
    trust before (end of week T) and after, share still with the merchant ``horizon`` weeks later,
    and — with ``follow`` — for each customer the number of later purchases until trust is back at
    its level before the shock (``follow + 1`` when it never is within ``follow`` weeks)."""
    T, names, delta = shock_plan(sc)
    m = len(names)
    st: dict = {}

    def on_step(model):
        pop, t = model.pop, model.steps
        if t == T:
            st["trust0"] = pop.trust.copy()
        elif t == T + 1:
            b = own_buyers(pop)
            b = b[(pop.flags[b] & (EV.RECOVERED | EV.BOTCHED)) == 0]
            st["cohort"] = Cohort(pop, b)
            st["sat"] = pop.txn_sat[b].astype(float)
            st["int"] = pop.intentional[b].astype(float)
            st["t0"] = st["trust0"][b].astype(float)
            st["t1"] = pop.trust[b].astype(float)
            st["back"] = np.where(st["t1"] >= st["t0"], 0, follow + 1)  # purchases until trust is back
        elif "cohort" in st and T + 1 < t <= T + 1 + follow:
            c = st["cohort"]
            now = (pop.trust[c.idx] >= st["t0"]) & c.retained(pop)
            st["back"] = np.where((st["back"] == follow + 1) & now, t - T - 1, st["back"])
        if "cohort" in st and t == T + 1 + horizon:
            st["ret"] = st["cohort"].retained(pop).astype(float)
        if "cohort" in st and t == T + 1 + follow and follow:
            st["kept"] = st["cohort"].retained(pop)

    run_scenario(sc, seed, on_step, steps=T + 2 + max(horizon, follow))
    c = st["cohort"]
    out = {"names": names, "delta": delta, "n": [], "sat": [], "int": [], "trust0": [], "dtrust": [], "ret": [],
           "back": [], "back_share1": []}
    for j in range(m):
        mask = c.merchant == j
        out["n"].append(int(mask.sum()))
        for key, arr in (("sat", st["sat"]), ("int", st["int"]), ("trust0", st["t0"]),
                         ("dtrust", st["t1"] - st["t0"]), ("ret", st.get("ret", np.full(len(c), np.nan)))):
            out[key].append(float(arr[mask].mean()) if mask.any() else math.nan)
        if follow:
            k = mask & st["kept"]
            out["back"].append(float(st["back"][k].mean()) if k.any() else math.nan)
            out["back_share1"].append(float((st["back"][k] > 1).mean()) if k.any() else math.nan)
    return out


def _effects(ps, key, target_delta, sign=1):
    """Per seed: mean of ``key`` at the merchant with quality change ``target_delta`` minus the
    control's (merchant with no change), times ``sign``."""
    out = []
    for d in ps:
        deltas = d["delta"]
        j = min(range(len(deltas)), key=lambda i: abs(deltas[i] - target_delta))
        c = deltas.index(0.0)
        if abs(deltas[j] - target_delta) > 1e-6:
            raise ValueError(f"no merchant with a quality change of {target_delta:+.2f} in the scenario")
        out.append(sign * (d[key][j] - d[key][c]))
    return out


# =====================================================================================================
# F2 — asymmetry with diminishing sensitivity
# =====================================================================================================
F2_MEASURES = (("sat", "satisfaction", "满意度", "{:.3f}"),
               ("int", "retention: intention to buy again", "保留：再购意愿", "{:.3f}"),
               ("ret", "retention: still a customer 26 weeks later", "保留：26 周后仍是客户", "{:.4f}"))


def measure_f2(sc, seed):
    return measure_shock(sc, seed, horizon=26)


def evaluate_f2(ps):
    checks = []
    for key, en, zh, fmt in F2_MEASURES:
        for d in (0.1, 0.2, 0.3):
            loss = _effects(ps, key, -(ZONE_HALF + d), -1)
            gain = _effects(ps, key, ZONE_HALF + d, 1)
            checks.append(band_check(
                f"ratio_{key}_{d}", f"{en}: effect of a shortfall / of a surplus, d = {d} beyond the zone",
                f"{zh}：不足效应 / 超出效应，超出区间 d = {d}", ratio_ci(loss, gain), 1.5, 3.0, "{:.2f}"))
        for side, sgn, en_s, zh_s in (("loss", -1, "shortfall", "不足"), ("gain", 1, "surplus", "超出")):
            eff = [_effects(ps, key, sgn * (ZONE_HALF + d), sgn) for d in (0.0, 0.1, 0.2, 0.3)]
            sd1 = [b - 2 * a + z for z, a, b in zip(eff[0], eff[1], eff[2])]
            sd2 = [b - 2 * a + z for z, a, b in zip(eff[1], eff[2], eff[3])]
            worst = [max(x, y) for x, y in zip(sd1, sd2)]
            checks.append(below_check(
                f"concave_{key}_{side}", f"{en}: concavity of the {en_s} effect in d (larger second difference "
                "over d = 0, 0.1, 0.2, 0.3 beyond the zone)",
                f"{zh}：{zh_s}效应随 d 的凹性（d = 0、0.1、0.2、0.3 上较大的二阶差分）", ci(worst), 0.0, fmt,
                significant=False, info=(key == "ret"),
                target_en="< 0 (mean)", target_zh="< 0（均值）"))
    # the same ratio with d read from the expectation instead of the zone edges (reported only)
    for key, en, zh, fmt in F2_MEASURES[:2]:
        for d in (0.1, 0.2, 0.3):
            loss = _effects(ps, key, -d, -1)
            gain = _effects(ps, key, d, 1)
            checks.append(band_check(
                f"fromE_{key}_{d}", f"{en}: shortfall / surplus with d = {d} read from the expectation",
                f"{zh}：以预期为起点的 d = {d} 的不足 / 超出", ratio_ci(loss, gain), 1.5, 3.0, "{:.2f}", info=True))
    return checks


def plot_f2(ps, checks):
    fig, axes = _fig(3)
    ds = [0.0, 0.1, 0.2, 0.3]
    for ax, (key, en, _, _) in zip(axes, F2_MEASURES):
        for sgn, lab, c in ((-1, "shortfall (sign flipped)", "C3"), (1, "surplus", "C2")):
            vals = [_effects(ps, key, sgn * (ZONE_HALF + d), sgn) for d in ds]
            m = [ci(v) for v in vals]
            ax.errorbar(ds, [x[0] for x in m], yerr=[[x[0] - x[1] for x in m], [x[2] - x[0] for x in m]],
                        marker="o", color=c, label=lab, capsize=3)
        ax.set_xlabel("d beyond the zone of tolerance")
        ax.set_title(f"Effect on {en}", fontsize=9)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.legend(fontsize=7)
    return fig


# =====================================================================================================
# F3 — the zone of tolerance
# =====================================================================================================
def measure_f3(sc, seed):
    return measure_shock(sc, seed, horizon=26)


def _slope(xs, ys):
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    return float(np.polyfit(xs, ys, 1)[0])


F3_INSIDE = (-0.08, -0.04, 0.0, 0.04, 0.08)
F3_BELOW = (-0.3, -0.2, -0.1)
F3_ABOVE = (0.1, 0.2, 0.3)


def _f3_slopes(ps, key):
    res = {}
    for name, xs in (("inside", F3_INSIDE), ("below", F3_BELOW), ("above", F3_ABOVE)):
        eff = [_effects(ps, key, x) for x in xs]  # per x, per seed
        res[name] = [_slope(xs, [e[i] for e in eff]) for i in range(len(ps))]
    return res


def evaluate_f3(ps):
    checks = []
    for key, en, zh in (("int", "intention to buy again", "再购意愿"), ("dtrust", "trust", "信任")):
        sl = _f3_slopes(ps, key)
        for name, en_s, zh_s in (("inside", "inside the zone (−0.08 … +0.08)", "区间内（−0.08 … +0.08）"),
                                 ("below", "below the zone (−0.3 … −0.1)", "区间下方（−0.3 … −0.1）"),
                                 ("above", "above the zone (+0.1 … +0.3)", "区间上方（+0.1 … +0.3）")):
            checks.append(band_check(f"slope_{key}_{name}", f"slope of {en} on performance {en_s}",
                                     f"{zh}对表现的斜率，{zh_s}", ci(sl[name]), -math.inf, math.inf, info=True))
        for side, en_s, zh_s in (("below", "below", "下方"), ("above", "above", "上方")):
            checks.append(below_check(
                f"zone_{key}_{side}", f"{en}: slope inside the zone / slope {en_s} it",
                f"{zh}：区间内斜率 / 区间{zh_s}斜率", ratio_ci(sl["inside"], sl[side]), 0.25, "{:.3f}",
                significant=False, target_en="< 0.25", target_zh="< 0.25"))
    return checks


def plot_f3(ps, checks):
    fig, axes = _fig(2)
    xs = sorted(set(ps[0]["delta"]))
    for ax, (key, en) in zip(axes, (("int", "intention to buy again"), ("dtrust", "trust change"))):
        m = [ci(_effects(ps, key, x)) for x in xs]
        ax.errorbar(xs, [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]], marker="o",
                    capsize=3)
        ax.axvspan(-ZONE_HALF, ZONE_HALF, color="0.9", zorder=0, label="zone of tolerance")
        ax.set_xlabel("performance − expectation in one encounter")
        ax.set_title(f"{en} (vs control)", fontsize=9)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.legend(fontsize=7)
    return fig


# =====================================================================================================
# F4 — trust asymmetry
# =====================================================================================================
F4_FOLLOW = 38  # weeks followed after the bad encounter


def measure_f4(sc, seed):
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


def evaluate_f4(ps):
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


def plot_f4(ps, checks):
    fig, (a1, a2) = _fig(2)
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


def _fig(n):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * n, 3.6), layout="constrained")
    axes = [fig.add_subplot(1, n, i + 1) for i in range(n)]
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return fig, axes

"""F7 — the recovery paradox: mildly failed and recovered customers of the merchant that fixes
everything, compared with its never-failed buyers of the same tenure.

The market is `scenarios/validation/f07_recovery_paradox.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F7.md`."""

from __future__ import annotations

import math

import numpy as np

from ...mechanism import EV
from ...mechanism import evaluate as evaluate_encounter
from ...mechanism import remedy_reference
from ..core import interval_errors, interval_means
from ..core import (MINOR, Check, Cohort, Fact, band_check, ci, diff_ci, new_figure, own_buyers, run_scenario, series,
                    shortfall_severity)

F7_FROM, F7_UNTIL, F7_HORIZON = 13, 78, 26
#: tenure bands (weeks with the merchant) within which recovered customers are compared with the
#: never-failed: having had a first failure takes time, and the chance of leaving falls with tenure
F7_TENURE = (0, 13, 26, 52, 10**9)
#: other worths of the compensation read for information: (key, gamma shape (mean 1; smaller = more
#: skewed), or None for every customer valuing it at ``scale``; scale of the mean worth)
F7_WORTH = (("spread1", 1.0, 1.0), ("spread0.25", 0.25, 1.0), ("half", None, 0.5))


def _matched(rec, rec_band, ctrl, ctrl_band):
    """Mean of ``rec`` and the mean of ``ctrl`` reweighted to the tenure bands of ``rec`` (bands
    without controls are left out on both sides): the never-failed compared like with like."""
    bands = [b for b in np.unique(rec_band) if np.any(ctrl_band == b)]
    if not bands:
        return math.nan, math.nan
    keep = np.isin(rec_band, bands)
    w = np.array([np.sum(rec_band[keep] == b) for b in bands], dtype=float)
    c = np.array([ctrl[ctrl_band == b].mean() for b in bands])
    return float(rec[keep].mean()), float(np.dot(w, c) / w.sum())


def measure(markets, seed):
    sc = markets[0]
    P = sc.params
    fixer = next(j for j, m in enumerate(P.merchants) if m.recovery_prob == 1.0 and m.recovery_delay == 0)
    degree = P.network_degree
    st: dict = {"prev_S": None, "prev_id": None, "talk": np.zeros(P.n_customers), "talk_id": None}
    pending: dict[int, list] = {}
    out = {k: [] for k in ("S_rec", "S_ctrl", "ret_rec", "ret_ctrl", "wom_rec", "wom_ctrl", "above_pre",
                           "trust_rec", "trust_ctrl", "band_rec", "band_ctrl", "hband_rec", "hband_ctrl",
                           "pre_rec", "E_rec", "s_rec", "fit_rec", "pre_ctrl")}

    def on_step(model):
        pop, t = model.pop, model.steps
        # expected recommendations made this week, per place (new occupants start from zero)
        if st["talk_id"] is not None:
            st["talk"][pop.id != st["talk_id"]] = 0
        st["talk_id"] = pop.id.copy()
        b = own_buyers(pop)
        f = pop.flags[b]
        delighted = (f & EV.DELIGHTED) != 0
        satisfied = ((f & EV.SATISFIED) != 0) & ~delighted
        # every delighted buyer recommends, a satisfied one with chance wom_loyal · trust (the
        # trust it ends the step with); each recommender tells each contact with chance wom_positive
        st["talk"][b] += degree * P.wom_positive * (delighted + satisfied * P.wom_loyal * pop.trust[b])
        if F7_FROM <= t <= F7_UNTIL and st["prev_S"] is not None:
            at = b[pop.merchant[b] == fixer]
            fa = pop.flags[at]
            same = st["prev_id"][at] == pop.id[at]
            rec = at[same & ((fa & EV.DISSATISFIED) != 0) & ((fa & EV.RECOVERED) != 0) & (pop.failures[at] == 1)]
            rec = rec[shortfall_severity(pop, rec, P) <= MINOR]
            ctrl = at[same & ((fa & EV.SATISFIED) != 0) & (pop.failures[at] == 0)]
            if len(rec) and len(ctrl):
                b_rec = np.digitize(pop.tenure[rec], F7_TENURE)
                b_ctrl = np.digitize(pop.tenure[ctrl], F7_TENURE)
                out["band_rec"].append(b_rec)
                out["band_ctrl"].append(b_ctrl)
                out["S_rec"].append(pop.satisfaction[rec].astype(float))
                out["S_ctrl"].append(pop.satisfaction[ctrl].astype(float))
                out["trust_rec"].append(pop.trust[rec].astype(float))
                out["trust_ctrl"].append(pop.trust[ctrl].astype(float))
                out["above_pre"].append((pop.satisfaction[rec] > st["prev_S"][rec]).astype(float))
                # what the remedy's evaluation started from, for the spread-worth reading below
                out["pre_rec"].append(st["prev_S"][rec].astype(float))
                out["pre_ctrl"].append(st["prev_S"][ctrl].astype(float))
                out["E_rec"].append(pop.expectation[rec].astype(float))
                out["s_rec"].append(pop.txn_sat[rec].astype(float))
                out["fit_rec"].append(pop.fit[rec].astype(float))
                pending.setdefault(t + F7_HORIZON, []).append(
                    (Cohort(pop, rec), Cohort(pop, ctrl), st["talk"][rec].copy(), st["talk"][ctrl].copy(), b_rec,
                     b_ctrl))
        for c_rec, c_ctrl, w_rec, w_ctrl, b_rec, b_ctrl in pending.pop(t, []):
            out["hband_rec"].append(b_rec)
            out["hband_ctrl"].append(b_ctrl)
            out["ret_rec"].append(c_rec.retained(pop).astype(float))
            out["ret_ctrl"].append(c_ctrl.retained(pop).astype(float))
            # recommendations made since (only while still in the place: otherwise nothing more)
            out["wom_rec"].append(np.where(c_rec.present(pop), st["talk"][c_rec.idx] - w_rec, 0.0))
            out["wom_ctrl"].append(np.where(c_ctrl.present(pop), st["talk"][c_ctrl.idx] - w_ctrl, 0.0))
        st["prev_S"] = pop.satisfaction.copy()
        st["prev_id"] = pop.id.copy()

    run_scenario(sc, seed, on_step)
    a = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in out.items()}
    res = {"above_pre": float(a["above_pre"].mean()) if len(a["above_pre"]) else math.nan}
    for name, band in (("S", "band"), ("trust", "band"), ("ret", "hband"), ("wom", "hband")):
        res[f"{name}_rec"], res[f"{name}_ctrl"] = _matched(a[f"{name}_rec"], a[f"{band}_rec"], a[f"{name}_ctrl"],
                                                           a[f"{band}_ctrl"])
    res["n_rec"] = int(len(a["S_rec"]))
    # where the two groups stood the week before (the recovered: before their failure), and the
    # recovered's own change: the between-groups gap right after is the sum of the two
    res["pre_rec"], res["pre_ctrl"] = _matched(a["pre_rec"], a["band_rec"], a["pre_ctrl"], a["band_ctrl"])
    res["change"] = float(np.mean(a["S_rec"] - a["pre_rec"])) if len(a["S_rec"]) else math.nan
    # Could a remedy worth more to some customers than to others, or worth less to all, give both
    # 'recovered ≥ never failed' and 'few above where they were'? Each recovered customer's remedy is
    # evaluated again at another worth (compensation × w: w ~ gamma with mean 1 and shape k, or w the
    # same for all) and its overall satisfaction moved by the difference in how the remedy felt (the
    # remedy is the last encounter: S changes by (1 − μ) times the difference); the rest is as it was.
    comp = P.merchants[fixer].compensation
    rng = np.random.default_rng(seed)
    for key, k, scale in F7_WORTH:
        if not len(a["S_rec"]):
            res[f"{key}_sat"] = res[f"{key}_above"] = math.nan
            continue
        w = scale * (rng.gamma(k, 1 / k, len(a["S_rec"])) if k else np.ones(len(a["S_rec"])))
        E = a["E_rec"].astype(np.float32)
        s_new, _, _ = evaluate_encounter((E + comp * w).astype(np.float32), remedy_reference(E, comp, True, P), P)
        felt_old = np.clip(a["s_rec"] + a["fit_rec"], 0, 1)
        felt_new = np.clip(s_new + a["fit_rec"], 0, 1)
        S_new = a["S_rec"] + (1 - P.satisfaction_memory) * (felt_new - felt_old)
        res[f"{key}_above"] = float(np.mean(S_new > a["pre_rec"]))
        m_rec, m_ctrl = _matched(S_new, a["band_rec"], a["S_ctrl"], a["band_ctrl"])
        res[f"{key}_sat"] = m_rec - m_ctrl
    return res


def evaluate(ps):
    S = diff_ci(series(ps, "S_rec"), series(ps, "S_ctrl"))
    checks = [
        band_check("sat", "cumulative satisfaction right after: recovered − never failed",
                   "补救之后的累积满意度：被补救者 − 从未遇到问题者", S, 0.0, 0.1),
        Check("repurchase", "still a customer 26 weeks later: recovered − never failed",
              "26 周后仍是客户：被补救者 − 从未遇到问题者", *diff_ci(series(ps, "ret_rec"), series(ps, "ret_ctrl")),
              "not significantly > 0", "不显著大于 0", False, "{:.3f}"),
        Check("wom", "recommendations made in the next 26 weeks: recovered − never failed",
              "此后 26 周的推荐次数：被补救者 − 从未遇到问题者", *diff_ci(series(ps, "wom_rec"), series(ps, "wom_ctrl")),
              "not significantly > 0", "不显著大于 0", False, "{:.3f}"),
        band_check("above_pre", "share of recovered customers above their own satisfaction before the failure",
                   "满意度高于自己失误之前的被补救客户比例", ci(series(ps, "above_pre")), 0.0, 0.15, "{:.3f}"),
        band_check("trust", "trust right after: recovered − never failed", "补救之后的信任：被补救者 − 从未遇到问题者",
                   diff_ci(series(ps, "trust_rec"), series(ps, "trust_ctrl")), -1, 1, info=True),
        band_check("pre_gap", "cumulative satisfaction the week before: recovered (before their failure) − never failed",
                   "前一周的累积满意度：被补救者（失误之前）− 从未遇到问题者",
                   diff_ci(series(ps, "pre_rec"), series(ps, "pre_ctrl")), -1, 1, info=True),
        band_check("change", "recovered customers' own change of satisfaction (after − before the failure), mean",
                   "被补救客户自身满意度的变化（失误之后 − 之前）的均值", ci(series(ps, "change")), -1, 1, info=True),
        band_check("n", "recovered customers followed per run", "每次运行跟踪的被补救客户数",
                   ci(series(ps, "n_rec")), 0, math.inf, "{:.0f}", info=True),
    ]
    for key, k, scale in F7_WORTH:
        if k:
            what_en = f"if the compensation's worth varied across customers (gamma, mean 1, shape {k:g})"
            what_zh = f"若补偿对不同客户的价值不同（伽马分布，均值 1，形状 {k:g}）"
        else:
            what_en = f"if every customer valued the compensation at {scale:g} of its size"
            what_zh = f"若每位客户只把补偿看作其大小的 {scale:g}"
        checks += [
            band_check(f"{key}_sat", f"{what_en}: satisfaction, recovered − never failed",
                       f"{what_zh}：满意度，被补救者 − 从未遇到问题者", ci(series(ps, f"{key}_sat")), 0.0, 0.1,
                       info=True),
            band_check(f"{key}_above", f"{what_en}: share above their own satisfaction before the failure",
                       f"{what_zh}：满意度高于失误之前的比例", ci(series(ps, f"{key}_above")), 0.0, 0.15,
                       "{:.3f}", info=True),
        ]
    for c in checks[1:3]:
        c.passed = math.isfinite(c.lo) and c.lo <= 0  # not significantly higher
    return checks


def plot(ps, checks):
    fig, axes = new_figure(3)
    for ax, (a, b, title) in zip(axes, (("S_rec", "S_ctrl", "cumulative satisfaction after"),
                                        ("ret_rec", "ret_ctrl", "still a customer 26 weeks later"),
                                        ("wom_rec", "wom_ctrl", "recommendations in 26 weeks"))):
        m = [ci(series(ps, k)) for k in (a, b)]
        ax.bar([0, 1], interval_means(m), yerr=interval_errors(m),
               color=["C0", "0.6"], capsize=3)
        ax.set_xticks([0, 1], ["recovered", "never failed"])
        ax.set_title(title, fontsize=9)
        lo = min(v[1] for v in m)
        if a != "wom_rec":
            ax.set_ylim(max(0, lo - 0.1), None)
    return fig


FACT = Fact("F7", "f07_recovery_paradox.toml", measure, evaluate, plot, cost=2)

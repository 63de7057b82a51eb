"""Facts F5–F13: complaints, recoveries, word of mouth, competition, value, products, price and
churn, measured on whole markets by following customers through a run."""

from __future__ import annotations

import math

import numpy as np

from ..mechanism import CHURNED, EV, ORDINARY, evaluate
from ..params import MERCHANT_PARAMS
from .core import (Check, Cohort, above_check, band_check, below_check, ci, column, diff_ci, nanmean, own_buyers,
                   ratio_ci, run_scenario, series, shortfall_severity)
from .shocks import _fig

MINOR, MAJOR = 1 / 3, 2 / 3  # severity bounds of a minor and of a major problem


def _lost(pop, idx):
    """Whether each of ``idx`` was lost by its merchant in the step just run (left or switched)."""
    return (pop.flags[idx] & (EV.LEFT | EV.SWITCHED)) != 0


# =====================================================================================================
# F5 — complaining rises steeply with severity
# =====================================================================================================
F5_BINS = np.array([0, 0.2, 0.4, 0.6, 0.8, 1.0 + 1e-9])


def measure_f5(markets, seed):
    sc = markets[0]
    P = sc.params
    acc = {"n": np.zeros(3), "c": np.zeros(3), "bn": np.zeros(len(F5_BINS) - 1), "bc": np.zeros(len(F5_BINS) - 1)}

    def on_step(model):
        pop = model.pop
        b = own_buyers(pop)
        b = b[(pop.flags[b] & EV.DISSATISFIED) != 0]
        sev = shortfall_severity(pop, b, P)
        said = (pop.flags[b] & EV.COMPLAINED) != 0
        cls = np.where(sev <= MINOR, 0, np.where(sev >= MAJOR, 2, 1))
        acc["n"] += np.bincount(cls, minlength=3)
        acc["c"] += np.bincount(cls, weights=said, minlength=3)
        k = np.clip(np.digitize(sev, F5_BINS) - 1, 0, len(F5_BINS) - 2)
        acc["bn"] += np.bincount(k, minlength=len(F5_BINS) - 1)
        acc["bc"] += np.bincount(k, weights=said, minlength=len(F5_BINS) - 1)

    run_scenario(sc, seed, on_step)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"rate": (acc["c"] / acc["n"]).tolist(), "n": acc["n"].tolist(),
                "bin_rate": (acc["bc"] / acc["bn"]).tolist(), "bin_n": acc["bn"].tolist()}


def evaluate_f5(ps):
    minor, mid, major = (column(ps, "rate", i) for i in range(3))
    return [
        band_check("minor", "complaint rate among the dissatisfied, minor problems (severity ≤ 1/3)",
                   "不满客户的投诉率，小问题（严重度 ≤ 1/3）", ci(minor), 0.01, 0.10, "{:.3f}"),
        band_check("major", "complaint rate among the dissatisfied, major problems (severity ≥ 2/3)",
                   "不满客户的投诉率，大问题（严重度 ≥ 2/3）", ci(major), 0.50, 0.80, "{:.3f}"),
        above_check("rise_1", "rate for moderate problems − rate for minor ones", "中等问题投诉率 − 小问题投诉率",
                    diff_ci(mid, minor), 0.0),
        above_check("rise_2", "rate for major problems − rate for moderate ones", "大问题投诉率 − 中等问题投诉率",
                    diff_ci(major, mid), 0.0),
        band_check("moderate", "complaint rate, moderate problems (1/3 < severity < 2/3)",
                   "投诉率，中等问题（1/3 < 严重度 < 2/3）", ci(mid), 0, 1, info=True),
    ]


def plot_f5(ps, checks):
    fig, (ax,) = _fig(1)
    x = (F5_BINS[:-1] + np.minimum(F5_BINS[1:], 1)) / 2
    m = [ci(column(ps, "bin_rate", i)) for i in range(len(x))]
    ax.errorbar(x, [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]], marker="o",
                capsize=3, label="model")
    ax.axhspan(0.01, 0.10, xmin=0, xmax=MINOR, color="C2", alpha=0.2, label="minor: 1–10%")
    ax.axhspan(0.50, 0.80, xmin=MAJOR, xmax=1, color="C3", alpha=0.2, label="major: 50–80%")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("severity of the problem (shortfall / severity_scale)")
    ax.set_ylabel("share of the dissatisfied who complain")
    ax.legend(fontsize=7)
    return fig


# =====================================================================================================
# F6 — retention by complaint outcome
# =====================================================================================================
F6_CELLS = ("silent", "unresolved", "resolved", "quick")
F6_LABELS = {"silent": ("no complaint", "未投诉"), "unresolved": ("complained, not resolved", "投诉未解决"),
             "resolved": ("resolved", "已解决"), "quick": ("resolved quickly", "迅速解决")}
F6_TARGET = {"minor": (0.37, 0.46, 0.70, 0.95), "major": (0.09, 0.19, 0.54, 0.82)}
F6_FROM, F6_UNTIL, F6_HORIZON = 13, 78, 26


def measure_f6(markets, seed):
    sc = markets[0]
    P = sc.params
    delay = np.array([m.recovery_delay for m in P.merchants])
    pending: dict[int, tuple] = {}
    acc = np.zeros((2, 4, 2))  # (minor/major, cell, [n, retained])
    ref_pending: dict[int, Cohort] = {}  # buyers without a problem, by the week they are looked at again
    ref = np.zeros(2)  # their [n, retained]

    def on_step(model):
        pop, t = model.pop, model.steps
        if F6_FROM <= t <= F6_UNTIL:
            b = own_buyers(pop)
            bad = (pop.flags[b] & EV.DISSATISFIED) != 0
            ref_pending[t + F6_HORIZON] = Cohort(pop, b[~bad])
            b = b[bad]
            sev = shortfall_severity(pop, b, P)
            said = (pop.flags[b] & EV.COMPLAINED) != 0
            ok = pop.recovery_ok[b] & said
            quick = delay[pop.merchant[b]] <= 1
            cell = np.where(~said, 0, np.where(~ok, 1, np.where(quick, 3, 2)))
            size = np.where(sev <= MINOR, 0, np.where(sev >= MAJOR, 1, -1))
            keep = size >= 0
            pending[t + F6_HORIZON] = (Cohort(pop, b[keep]), size[keep], cell[keep])
        if t in pending:
            c, size, cell = pending.pop(t)
            r = c.retained(pop)
            np.add.at(acc, (size, cell, 0), 1)
            np.add.at(acc, (size, cell, 1), r)
        if t in ref_pending:
            c = ref_pending.pop(t)
            ref[0] += len(c)
            ref[1] += c.retained(pop).sum()

    run_scenario(sc, seed, on_step)
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = acc[:, :, 1] / acc[:, :, 0]
        no_problem = ref[1] / ref[0]
    return {"minor": ret[0].tolist(), "major": ret[1].tolist(), "n_minor": acc[0, :, 0].tolist(),
            "n_major": acc[1, :, 0].tolist(), "no_problem": float(no_problem)}


def evaluate_f6(ps):
    checks = []
    for size, en, zh in (("minor", "minor problems", "小问题"), ("major", "major problems", "大问题")):
        for i in range(3):
            a, b = F6_CELLS[i], F6_CELLS[i + 1]
            checks.append(above_check(
                f"order_{size}_{i}", f"{en}: retention '{F6_LABELS[b][0]}' − '{F6_LABELS[a][0]}'",
                f"{zh}：保留率“{F6_LABELS[b][1]}” − “{F6_LABELS[a][1]}”",
                diff_ci(column(ps, size, i + 1), column(ps, size, i)), 0.0))
    for i, cell in enumerate(F6_CELLS):
        checks.append(below_check(
            f"major_below_{cell}", f"retention '{F6_LABELS[cell][0]}': major − minor",
            f"保留率“{F6_LABELS[cell][1]}”：大问题 − 小问题", diff_ci(column(ps, "major", i), column(ps, "minor", i)),
            0.0))
    for size, en, zh in (("minor", "minor", "小问题"), ("major", "major", "大问题")):
        for i, cell in enumerate(F6_CELLS):
            tgt = F6_TARGET[size][i]
            n = nanmean(column(ps, f"n_{size}", i))
            checks.append(band_check(
                f"calib_{size}_{cell}", f"calibrated: retention after 26 weeks, {en}, {F6_LABELS[cell][0]} "
                f"(≈{n:.0f} problems per run)", f"校准：26 周后的保留率，{zh}，{F6_LABELS[cell][1]}（每次运行约 {n:.0f} 个问题）",
                ci(column(ps, size, i)), tgt - 0.10, tgt + 0.10, "{:.2f}"))
    checks.append(band_check(
        "no_problem", "reference: retention after 26 weeks, buyers without a problem that week",
        "参照：26 周后的保留率，当周没有遇到问题的购买者",
        ci(series(ps, "no_problem")), 0.0, 1.0, "{:.2f}", info=True))
    return checks


def plot_f6(ps, checks):
    fig, axes = _fig(2)
    x = np.arange(4)
    for ax, size in zip(axes, ("minor", "major")):
        m = [ci(column(ps, size, i)) for i in range(4)]
        ax.bar(x - 0.2, [v[0] for v in m], 0.4, yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]],
               color="C0", capsize=3, label="model")
        ax.bar(x + 0.2, F6_TARGET[size], 0.4, color="0.7", label="TARP")
        ax.axhline(ci(series(ps, "no_problem"))[0], color="C2", ls="--", lw=1, label="model: no problem that week")
        ax.set_xticks(x, [F6_LABELS[c][0].replace(", ", ",\n") for c in F6_CELLS], fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(f"{size} problems: retained after 26 weeks", fontsize=9)
        ax.legend(fontsize=7)
    return fig


# =====================================================================================================
# F7 — the recovery paradox
# =====================================================================================================
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


def measure_f7(markets, seed):
    sc = markets[0]
    P = sc.params
    fixer = next(j for j, m in enumerate(P.merchants) if m.recovery_prob == 1.0 and m.recovery_delay == 0)
    degree = P.network_degree
    st: dict = {"prev_S": None, "prev_id": None, "talk": np.zeros(P.n_customers), "talk_id": None}
    pending: dict[int, list] = {}
    out = {k: [] for k in ("S_rec", "S_ctrl", "ret_rec", "ret_ctrl", "wom_rec", "wom_ctrl", "above_pre",
                           "trust_rec", "trust_ctrl", "band_rec", "band_ctrl", "hband_rec", "hband_ctrl",
                           "pre_rec", "E_rec", "s_rec", "fit_rec")}

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
        s_new, _, _ = evaluate((E + comp * w).astype(np.float32), E, P)
        felt_old = np.clip(a["s_rec"] + a["fit_rec"], 0, 1)
        felt_new = np.clip(s_new + a["fit_rec"], 0, 1)
        S_new = a["S_rec"] + (1 - P.satisfaction_memory) * (felt_new - felt_old)
        res[f"{key}_above"] = float(np.mean(S_new > a["pre_rec"]))
        m_rec, m_ctrl = _matched(S_new, a["band_rec"], a["S_ctrl"], a["band_ctrl"])
        res[f"{key}_sat"] = m_rec - m_ctrl
    return res


def evaluate_f7(ps):
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


def plot_f7(ps, checks):
    fig, axes = _fig(3)
    for ax, (a, b, title) in zip(axes, (("S_rec", "S_ctrl", "cumulative satisfaction after"),
                                        ("ret_rec", "ret_ctrl", "still a customer 26 weeks later"),
                                        ("wom_rec", "wom_ctrl", "recommendations in 26 weeks"))):
        m = [ci(series(ps, k)) for k in (a, b)]
        ax.bar([0, 1], [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]],
               color=["C0", "0.6"], capsize=3)
        ax.set_xticks([0, 1], ["recovered", "never failed"])
        ax.set_title(title, fontsize=9)
        lo = min(v[1] for v in m)
        if a != "wom_rec":
            ax.set_ylim(max(0, lo - 0.1), None)
    return fig


# =====================================================================================================
# F8 — word of mouth
# =====================================================================================================
F8_FROM = 53


def measure_f8(markets, seed):
    sc = markets[0]
    mk = run_scenario(sc, seed).metrics
    w = mk[mk.index >= F8_FROM]
    with np.errstate(invalid="ignore", divide="ignore"):
        neg_speakers = np.where(w["wom_per_negative_speaker"] > 0, w["wom_negative"] / w["wom_per_negative_speaker"], 0)
        pos_speakers = np.where(w["wom_per_positive_speaker"] > 0, w["wom_positive"] / w["wom_per_positive_speaker"], 0)
    neg, pos = float(w["wom_negative"].sum()), float(w["wom_positive"].sum())
    return {"per_neg": neg / neg_speakers.sum(), "per_pos": pos / pos_speakers.sum(), "pos": pos, "neg": neg,
            "satisfied": float((w["loyalists"] + w["mercenaries"]).mean()),
            "neg_speakers": float(neg_speakers.sum()), "pos_speakers": float(pos_speakers.sum())}


def evaluate_f8(ps):
    return [
        band_check("per_person", "listeners per dissatisfied speaker / per satisfied speaker",
                   "每位不满传播者的听众 / 每位满意传播者的听众", ratio_ci(series(ps, "per_neg"), series(ps, "per_pos")),
                   1.5, 3.0, "{:.2f}"),
        above_check("satisfied", "share of customers satisfied (cumulative satisfaction ≥ 0.45)",
                    "满意客户比例（累积满意度 ≥ 0.45）", ci(series(ps, "satisfied")), 0.70, "{:.3f}",
                    significant=False, target_en="≥ 0.70 (precondition)", target_zh="≥ 0.70（前提条件）"),
        band_check("total", "positive : negative messages heard, in total", "听到的正面 : 负面信息总量",
                   ratio_ci(series(ps, "pos"), series(ps, "neg")), 2.0, 4.0, "{:.2f}"),
        band_check("per_neg", "listeners per dissatisfied speaker", "每位不满传播者的听众", ci(series(ps, "per_neg")),
                   0, math.inf, "{:.2f}", info=True),
        band_check("per_pos", "listeners per satisfied speaker", "每位满意传播者的听众", ci(series(ps, "per_pos")),
                   0, math.inf, "{:.2f}", info=True),
        band_check("speakers", "satisfied speakers / dissatisfied speakers", "满意传播者 / 不满传播者",
                   ratio_ci(series(ps, "pos_speakers"), series(ps, "neg_speakers")), 0, math.inf, "{:.2f}",
                   info=True),
    ]


def plot_f8(ps, checks):
    fig, (a1, a2) = _fig(2)
    m = [ci(series(ps, k)) for k in ("per_neg", "per_pos")]
    a1.bar([0, 1], [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]],
           color=["C3", "C2"], capsize=3)
    a1.set_xticks([0, 1], ["per dissatisfied\nspeaker", "per satisfied\nspeaker"])
    a1.set_title("Listeners per speaker (target ratio 1.5–3)", fontsize=9)
    m = [ci(series(ps, k)) for k in ("neg", "pos")]
    a2.bar([0, 1], [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]],
           color=["C3", "C2"], capsize=3)
    a2.set_xticks([0, 1], ["negative", "positive"])
    a2.set_title("Messages heard in weeks 53–104 (target pos:neg 2–4)", fontsize=9)
    return fig


# =====================================================================================================
# F9 — only the completely satisfied stay
# =====================================================================================================
F9_AT, F9_HORIZON = 40, 78


def measure_f9(markets, seed):
    sc = markets[0]
    st = {}

    def on_step(model):
        pop, t = model.pop, model.steps
        if t == F9_AT:
            idx = np.flatnonzero(pop.stage >= ORDINARY)
            S = pop.satisfaction[idx].astype(float)
            edges = np.quantile(S, [0.2, 0.4, 0.6, 0.8])
            st["box"] = np.digitize(S, edges)  # 0 … 4
            st["S"] = S
            st["cohort"] = Cohort(pop, idx)
        if t == F9_AT + F9_HORIZON:
            st["ret"] = st["cohort"].retained(pop)

    run_scenario(sc, seed, on_step, steps=F9_AT + F9_HORIZON)
    ret = [float(st["ret"][st["box"] == k].mean()) for k in range(5)]
    meanS = [float(st["S"][st["box"] == k].mean()) for k in range(5)]
    return {"ret": ret, "S": meanS}


def evaluate_f9(ps):
    p = [column(ps, "ret", k) for k in range(5)]
    conv = [(a5 - a4) - (a4 - a3) for a3, a4, a5 in zip(p[2], p[3], p[4])]
    checks = [
        above_check("ratio", "P(still a customer after 78 weeks | top box) / P(… | second box)",
                    "P(78 周后仍是客户 | 最高档) / P(… | 第二档)", ratio_ci(p[4], p[3]), 3.0, "{:.2f}",
                    significant=False, target_en="≥ 3", target_zh="≥ 3"),
        above_check("convex", "convexity at the top: (box 5 − box 4) − (box 4 − box 3)",
                    "高端凸性：（第5档 − 第4档）−（第4档 − 第3档）", ci(conv), 0.0),
    ]
    for k in range(5):
        checks.append(band_check(f"box{k + 1}", f"retained 78 weeks, box {k + 1} (mean S = "
                                 f"{nanmean(column(ps, 'S', k)):.3f})",
                                 f"78 周保留率，第 {k + 1} 档（平均满意度 {nanmean(column(ps, 'S', k)):.3f}）", ci(p[k]), 0,
                                 1, info=True))
    return checks


def plot_f9(ps, checks):
    fig, (ax,) = _fig(1)
    m = [ci(column(ps, "ret", k)) for k in range(5)]
    ax.errorbar(range(1, 6), [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]],
                marker="o", capsize=3)
    ax.set_xticks(range(1, 6))
    ax.set_xlabel("satisfaction box (quintiles of cumulative satisfaction at week 40)")
    ax.set_ylabel("still with the same merchant 78 weeks later")
    ax.set_ylim(0, 1)
    return fig


# =====================================================================================================
# F10 — small retention gains create large value
# =====================================================================================================
F10_FROM = 53
F10_BANDS = (14, 27, 53)  # tenure bands of the margin profile: 1–13, 14–26, 27–52 and 53+ weeks
F10_HORIZON = 52 * 100  # weeks summed for a lifetime (the discounted rest is negligible)


def _value(profile, r, d, acq):
    """Net value of a newly acquired customer: ``Σ_t m(t)·(r/(1 + d))^t − acquisition cost`` over its
    weeks t = 1, 2, … with the merchant, ``m(t)`` the margin per customer-week at tenure t (``profile``,
    one value per tenure band of ``F10_BANDS``, the last held for ever), weekly retention r and
    discount rate d. With a constant margin this is the model's clv formula ``m·r/(1 + d − r)``
    (Gupta, Lehmann & Stuart 2004; sim.metrics._clv)."""
    t = np.arange(1, F10_HORIZON + 1)
    m = np.asarray(profile, dtype=float)[np.digitize(t, F10_BANDS)]
    return float((m * (r / (1 + d)) ** t).sum()) - acq


def measure_f10(markets, seed):
    token = MERCHANT_PARAMS["acquisition_cost"].default
    out = {"increase": [], "increase_token": [], "e_ret": [], "e_margin": [], "e_acq": [], "annual_defection": [],
           "growth": [], "acq_years": [], "label": []}
    nb = len(F10_BANDS) + 1
    for sc in markets:
        m_count = len(sc.params.merchants)
        acc = np.zeros((2, m_count * nb))  # customer-weeks and units bought, by merchant × tenure band

        def on_step(model):
            if model.steps < F10_FROM:
                return
            pop = model.pop
            act = np.flatnonzero(pop.stage > CHURNED)
            key = pop.merchant[act].astype(np.intp) * nb + np.digitize(pop.tenure[act], F10_BANDS)
            acc[0] += np.bincount(key, minlength=m_count * nb)
            b = own_buyers(pop)
            key = pop.merchant[b].astype(np.intp) * nb + np.digitize(pop.tenure[b], F10_BANDS)
            acc[1] += np.bincount(key, weights=pop.products[b], minlength=m_count * nb)  # products served

        res = run_scenario(sc, seed, on_step)
        mc = res.merchants[res.merchants["step"] >= F10_FROM]
        d = sc.params.discount_rate
        weeks, units = acc.reshape(2, m_count, nb)
        for j, (name, g) in enumerate(mc.groupby("merchant", sort=False)):
            acq = sc.params.merchant(name).acquisition_cost
            m = float(((g["revenue"] - g["cost"] + g["acquired"] * acq) / g["customers"]).mean())
            # the margin per customer-week by tenure: the merchant's mean margin, shaped by how much
            # its customers of each tenure buy (purchases and products served per customer-week)
            with np.errstate(invalid="ignore", divide="ignore"):
                shape = (units[j] / weeks[j]) / (units[j].sum() / weeks[j].sum())
            shape = np.where(np.isfinite(shape), shape, 1.0)
            profile = m * shape
            c = float(g["churn_rate"].mean())
            D = 1 - (1 - c) ** 52  # annual defection
            r = 1 - c
            r5 = (1 - max(D - 0.05, 0)) ** (1 / 52)
            R1 = min((1 - D) * 1.01, 1 - 1e-9) ** (1 / 52)
            base = _value(profile, r, d, acq)
            first_year = float(profile[np.digitize(np.arange(1, 53), F10_BANDS)].sum())  # a stayer's first year
            out["label"].append(f"{sc.name}: {name}")
            out["annual_defection"].append(D)
            out["increase"].append(_value(profile, r5, d, acq) / base - 1)
            out["increase_token"].append(_value(profile, r5, d, token) / _value(profile, r, d, token) - 1)
            out["e_ret"].append(_value(profile, R1, d, acq) / base - 1)
            out["e_margin"].append(_value(profile * 1.01, r, d, acq) / base - 1)
            out["e_acq"].append(_value(profile, r, d, acq * 0.99) / base - 1)
            out["growth"].append(float(shape[-1] / shape[0]))
            out["acq_years"].append(acq / first_year)
    return out


def evaluate_f10(ps):
    checks = []
    labels = ps[0]["label"]
    for i, lab in enumerate(labels):
        D = nanmean(column(ps, "annual_defection", i))
        checks.append(band_check(
            f"gain_{i}", f"{lab} (annual defection {D:.0%}): value of a customer when defection falls 5 points",
            f"{lab}（年流失 {D:.0%}）：流失减少 5 个百分点时客户价值的增幅", ci([100 * x for x in column(ps, "increase", i)]),
            30, 85, "{:.1f}", "%", "%"))
    er = [nanmean(d["e_ret"]) for d in ps]
    em = [nanmean(d["e_margin"]) for d in ps]
    ea = [nanmean(d["e_acq"]) for d in ps]
    checks.append(above_check("ret_gt_margin", "value gained by +1% retention − by +1% margin (mean over merchants)",
                              "保留率提高 1% 与利润率提高 1% 带来的价值增幅之差（各商家平均）",
                              diff_ci([100 * x for x in er], [100 * x for x in em]), 0.0, "{:.2f}"))
    checks.append(above_check("margin_gt_acq", "value gained by +1% margin − by −1% acquisition cost",
                              "利润率提高 1% 与获客成本降低 1% 带来的价值增幅之差",
                              diff_ci([100 * x for x in em], [100 * x for x in ea]), 0.0, "{:.2f}"))
    for key, en, zh in (("e_ret", "+1% retention", "保留率 +1%"), ("e_margin", "+1% margin", "利润率 +1%"),
                        ("e_acq", "−1% acquisition cost", "获客成本 −1%")):
        checks.append(band_check(f"{key}", f"value of a customer: % change for {en}", f"客户价值：{zh} 时的变化（%）",
                                 ci([100 * nanmean(d[key]) for d in ps]), -math.inf, math.inf, "{:.2f}", info=True))
    token = MERCHANT_PARAMS["acquisition_cost"].default
    for key, en, zh, fmt, unit_en, unit_zh in (
            ("acq_years", "acquisition cost in years of a new customer's margin (mean over merchants)",
             "获客成本相当于新客户几年的利润（各商家平均）", "{:.2f}", "", ""),
            ("growth", "margin per customer-week at tenure 53+ weeks / at 1–13 weeks (mean over merchants)",
             "关系时长 53 周以上与 1–13 周的每客户每周利润之比（各商家平均）", "{:.2f}", "", ""),
            ("increase_token", f"value gained when defection falls 5 points, with the default acquisition cost "
                               f"{token:g} (mean over merchants)",
             f"流失减少 5 个百分点时的价值增幅，获客成本取默认值 {token:g}（各商家平均）", "{:.1f}", "%", "%")):
        scale = 100 if unit_en == "%" else 1
        checks.append(band_check(key, en, zh, ci([scale * nanmean(d[key]) for d in ps]), -math.inf, math.inf, fmt,
                                 unit_en, unit_zh, info=True))
    return checks


def plot_f10(ps, checks):
    fig, (ax,) = _fig(1)
    labels = ps[0]["label"]
    y = np.arange(len(labels))
    for k, (key, lab, dy) in enumerate((("increase", "acquisition cost: about a year of margin", -0.2),
                                        ("increase_token", "default (token) acquisition cost", 0.2))):
        m = [ci([100 * x for x in column(ps, key, i)]) for i in range(len(labels))]
        ax.barh(y + dy, [v[0] for v in m], height=0.38, xerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]],
                capsize=2, color=f"C{k}", alpha=1.0 if k == 0 else 0.5, label=lab)
    ax.axvspan(30, 85, color="C2", alpha=0.15, label="30–85%")
    ax.set_yticks(y, labels, fontsize=6)
    ax.set_xlabel("% value gained, defection −5 points")
    ax.set_xlim(0, 110)
    ax.legend(fontsize=6, loc="upper right")
    return fig


# =====================================================================================================
# F11 — more products, less churn
# =====================================================================================================
F11_FROM = 27
F11_TENURE = (1.5, 4.0, 7.0)


def measure_f11(markets, seed):
    sc = markets[0]
    st = {"prev": None}
    acc = np.zeros((3, 2))

    def on_step(model):
        pop, t = model.pop, model.steps
        if st["prev"] is not None and t >= F11_FROM:
            pid, pstage, pprod = st["prev"]
            idx = np.flatnonzero((pstage >= ORDINARY) & (pid == pop.id))
            k = np.minimum(pprod[idx], 3).astype(int) - 1
            lost = _lost(pop, idx)
            np.add.at(acc, (k, 0), 1)
            np.add.at(acc, (k, 1), lost)
        st["prev"] = (pop.id.copy(), pop.stage.copy(), pop.products.copy())

    run_scenario(sc, seed, on_step)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = acc[:, 1] / acc[:, 0]
    return {"hazard": h.tolist(), "annual": (1 - (1 - h) ** 52).tolist(), "tenure": (1 / (52 * h)).tolist(),
            "exposure": acc[:, 0].tolist()}


def evaluate_f11(ps):
    a = [column(ps, "annual", k) for k in range(3)]
    checks = [
        above_check("fall_12", "annual churn: 1 product − 2 products", "年流失率：1 种产品 − 2 种产品", diff_ci(a[0], a[1])),
        above_check("fall_23", "annual churn: 2 products − 3 products", "年流失率：2 种产品 − 3 种产品", diff_ci(a[1], a[2])),
        band_check("single", "calibrated: annual churn of single-product customers", "校准：单一产品客户的年流失率",
                   ci(a[0]), 0.30, 0.60, "{:.2f}"),
    ]
    for k, target in enumerate(F11_TENURE):
        checks.append(band_check(
            f"tenure_{k + 1}", f"calibrated: expected tenure with {k + 1} product{'s' if k else ''} (years; ±40%)",
            f"校准：持有 {k + 1} 种产品的预期关系时长（年；±40%）", ci(column(ps, "tenure", k)), target * 0.6,
            target * 1.4, "{:.2f}"))
    for k in range(3):
        checks.append(band_check(f"exposure_{k + 1}", f"customer-weeks observed with {k + 1} product(s)",
                                 f"持有 {k + 1} 种产品的客户周数", ci(column(ps, "exposure", k)), 0, math.inf, "{:.0f}",
                                 info=True))
    return checks


def plot_f11(ps, checks):
    fig, (a1, a2) = _fig(2)
    x = np.arange(1, 4)
    m = [ci(column(ps, "annual", k)) for k in range(3)]
    a1.bar(x, [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]], capsize=3)
    a1.axhspan(0.30, 0.60, xmin=0, xmax=0.36, color="C2", alpha=0.2)
    a1.set_xticks(x)
    a1.set_xlabel("products held")
    a1.set_title("annual churn", fontsize=9)
    m = [ci(column(ps, "tenure", k)) for k in range(3)]
    a2.bar(x - 0.2, [v[0] for v in m], 0.4, yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]], capsize=3,
           label="model")
    a2.bar(x + 0.2, F11_TENURE, 0.4, color="0.7", label="industry figures")
    a2.set_xticks(x)
    a2.set_xlabel("products held")
    a2.set_title("expected tenure (years)", fontsize=9)
    a2.legend(fontsize=7)
    return fig


# =====================================================================================================
# F12 — the accepted price premium
# =====================================================================================================
def measure_f12(markets, seed):
    sc = markets[0]
    price_events = sorted((e for e in sc.events if "price" in e.changes), key=lambda e: e.step)
    target = price_events[0].target
    j = [m.name for m in sc.params.merchants].index(target)
    base = sc.params.merchants[j].price
    T0 = price_events[0].step
    st: dict = {}

    def on_step(model):
        pop, t = model.pop, model.steps
        price = model.merchant(target).policy.price
        if t == T0:
            idx = np.flatnonzero((pop.stage >= ORDINARY) & (pop.merchant == j))
            st["cohort"] = Cohort(pop, idx)
            st["S"] = pop.satisfaction[idx].astype(float)
            st["premium"] = np.full(len(idx), np.nan)
        elif "cohort" in st:
            gone = ~st["cohort"].retained(pop) & np.isnan(st["premium"])
            st["premium"][gone] = st["last_price"] - base  # the last price it stayed at
        st["last_price"] = price

    run_scenario(sc, seed, on_step)
    prem = st["premium"]
    censored = np.isnan(prem)
    prem = np.where(censored, st["last_price"] - base, prem)
    edges = np.quantile(st["S"], np.linspace(0.1, 0.9, 9))
    dec = np.digitize(st["S"], edges)
    return {"premium": [float(prem[dec == k].mean()) for k in range(10)],
            "S": [float(st["S"][dec == k].mean()) for k in range(10)],
            "censored": [float(censored[dec == k].mean()) for k in range(10)], "max": float(st["last_price"] - base)}


def _f12_slopes(d):
    x, y = np.array(d["S"]), np.array(d["premium"])

    def sl(a, b):
        return float(np.polyfit(x[a:b], y[a:b], 1)[0])

    return sl(0, 3), sl(2, 8), sl(7, 10)


def evaluate_f12(ps):
    s = [_f12_slopes(d) for d in ps]
    bottom, middle, top = ([v[i] for v in s] for i in range(3))
    flat = below_check("flat", "slope in the middle (deciles 3–8) / slope at the top (needs a rising top)",
                       "中段（第 3–8 个十分位）斜率 / 高端斜率（高端须上升）", ratio_ci(middle, top), 0.5, "{:.2f}",
                       significant=False, target_en="< 0.5 with top slope > 0", target_zh="< 0.5 且高端斜率 > 0")
    flat.passed = flat.passed and nanmean(top) > 0 and flat.value >= 0  # a ratio to a falling top means nothing
    return [
        above_check("top", "slope of the accepted premium on satisfaction, top deciles 8–10",
                    "可接受溢价对满意度的斜率，最高的第 8–10 个十分位", ci(top), 0.0, "{:.2f}"),
        flat,
        band_check("bottom", "slope at the bottom (deciles 1–3)", "低端（第 1–3 个十分位）斜率", ci(bottom), -math.inf,
                   math.inf, "{:.2f}", info=True),
        band_check("middle", "slope in the middle (deciles 3–8)", "中段（第 3–8 个十分位）斜率", ci(middle), -math.inf,
                   math.inf, "{:.2f}", info=True),
        band_check("premium", "mean accepted premium, all deciles (the full rise is 1.0)",
                   "各十分位的平均可接受溢价（全部提价为 1.0）", ci([nanmean(d["premium"]) for d in ps]), 0, math.inf,
                   "{:.2f}", info=True),
        band_check("censored", "share of all deciles still with the merchant at twice the price",
                   "价格翻倍时仍留在该商家的比例（全部十分位）", ci([nanmean(d["censored"]) for d in ps]), 0, 1, "{:.2f}",
                   info=True),
        band_check("spread", "cumulative satisfaction, mean of the bottom decile",
                   "累积满意度：最低十分位均值", ci(column(ps, "S", 0)), 0, 1, "{:.3f}", info=True),
        band_check("spread_top", "cumulative satisfaction, mean of the top decile", "累积满意度：最高十分位均值",
                   ci(column(ps, "S", 9)), 0, 1, "{:.3f}", info=True),
    ]


def plot_f12(ps, checks):
    fig, (ax,) = _fig(1)
    x = [nanmean(column(ps, "S", k)) for k in range(10)]
    m = [ci(column(ps, "premium", k)) for k in range(10)]
    ax.errorbar(x, [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]], marker="o",
                capsize=3)
    ax.set_xlabel("cumulative satisfaction when the rises begin\n(mean of each decile)")
    ax.set_ylabel("price premium accepted before leaving")
    return fig


# =====================================================================================================
# F13 — value-weighted churn and the tenure hazard
# =====================================================================================================
F13_FROM = 27
F13_BANDS = (1, 14, 27, 53, 10**9)  # tenure bands 1–13, 14–26, 27–52, 53+


def measure_f13(markets, seed):
    sc = markets[0]
    st = {"prev": None}
    acc = np.zeros((len(F13_BANDS) - 1, 2))

    def on_step(model):
        pop, t = model.pop, model.steps
        if st["prev"] is not None and t >= F13_FROM:
            pid, pstage, pten = st["prev"]
            idx = np.flatnonzero((pstage >= ORDINARY) & (pid == pop.id))
            band = np.digitize(pten[idx] + 1, F13_BANDS) - 1
            lost = _lost(pop, idx)
            np.add.at(acc, (band, 0), 1)
            np.add.at(acc, (band, 1), lost)
        st["prev"] = (pop.id.copy(), pop.stage.copy(), pop.tenure.copy())

    res = run_scenario(sc, seed, on_step)
    w = res.metrics[res.metrics.index >= F13_FROM]
    with np.errstate(invalid="ignore", divide="ignore"):
        h = acc[:, 1] / acc[:, 0]
    return {"value_churn": float(w["value_churn_rate"].mean()), "churn": float(w["merchant_churn_rate"].mean()),
            "hazard": h.tolist()}


def evaluate_f13(ps):
    h = [column(ps, "hazard", k) for k in range(len(F13_BANDS) - 1)]
    mono = [float(all(a > b for a, b in zip(v[:-1], v[1:]))) for v in zip(*h)]
    checks = [
        below_check("value", "value-weighted churn − customer churn (per week, weeks 27–104)",
                    "价值加权流失率 − 按人流失率（每周，第 27–104 周）",
                    diff_ci(series(ps, "value_churn"), series(ps, "churn")), 0.0, "{:.5f}"),
        above_check("hazard", "weekly churn hazard: tenure 1–13 weeks − tenure 53+ weeks",
                    "每周流失风险：关系时长 1–13 周 − 53 周以上", diff_ci(h[0], h[-1]), 0.0, "{:.5f}"),
        above_check("monotone", "share of runs where the hazard falls from each tenure band to the next",
                    "各关系时长段的流失风险依次下降的运行比例", ci(mono), 0.5, "{:.2f}", significant=False,
                    target_en="> 0.5 (most runs)", target_zh="> 0.5（多数运行）"),
        band_check("value_churn", "value-weighted churn per week", "每周价值加权流失率", ci(series(ps, "value_churn")), 0, 1,
                   "{:.5f}", info=True),
        band_check("churn", "customer churn per week (lost by their merchant)", "每周按人流失率（被商家失去）",
                   ci(series(ps, "churn")), 0, 1, "{:.5f}", info=True),
    ]
    names = ("1–13", "14–26", "27–52", "53+")
    for k, n in enumerate(names):
        checks.append(band_check(f"h{k}", f"weekly hazard, tenure {n} weeks", f"每周流失风险，关系时长 {n} 周", ci(h[k]), 0, 1,
                                 "{:.5f}", info=True))
    return checks


def plot_f13(ps, checks):
    fig, (a1, a2) = _fig(2)
    m = [ci(series(ps, k)) for k in ("churn", "value_churn")]
    a1.bar([0, 1], [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]],
           color=["C0", "C1"], capsize=3)
    a1.set_xticks([0, 1], ["customer churn", "value-weighted churn"])
    a1.set_title("per week, weeks 27–104", fontsize=9)
    m = [ci(column(ps, "hazard", k)) for k in range(4)]
    a2.errorbar(range(4), [v[0] for v in m], yerr=[[v[0] - v[1] for v in m], [v[2] - v[0] for v in m]], marker="o",
                capsize=3)
    a2.set_xticks(range(4), ["1–13", "14–26", "27–52", "53+"])
    a2.set_xlabel("tenure with the merchant (weeks)")
    a2.set_title("weekly churn hazard", fontsize=9)
    return fig

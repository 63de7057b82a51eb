"""F6 — repurchase intention by complaint outcome: every problem of weeks 13–78 (a service failure
that left the customer dissatisfied, as the problems customers report in a survey), by size and
outcome, read when its outcome is known (the customer's intention to buy again at the end
of the week of a silent problem, or of the week a complaint's answer lands); beside it, behaviour
(still a customer 26 weeks later), and the buyers of the same weeks without a problem.

TARP's cells are stated intentions ('would buy again'), so the intention is held to them; behaviour
must move the same way, by less (docs/VALIDATION.md, "Intention or behaviour").

The market is `scenarios/validation/f06_complaint_outcomes.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F6.md`."""

from __future__ import annotations

import numpy as np

from ...mechanism import EV
from ..core import interval_errors, interval_means
from ..core import (MAJOR, MINOR, Cohort, Fact, above_check, band_check, below_check, ci, column, diff_ci,
                    lost_by_merchant, nanmean, own_buyers, run_scenario, series, shortfall_severity)

F6_CELLS = ("silent", "unresolved", "resolved", "quick")
F6_LABELS = {"silent": ("no complaint", "未投诉"), "unresolved": ("complained, not resolved", "投诉未解决"),
             "resolved": ("resolved", "已解决"), "quick": ("resolved quickly", "迅速解决")}
F6_TARGET = {"minor": (0.37, 0.46, 0.70, 0.95), "major": (0.09, 0.19, 0.54, 0.82)}
F6_FROM, F6_UNTIL, F6_HORIZON = 13, 78, 26
F6_SIZES = (("minor", "minor problems", "小问题"), ("major", "major problems", "大问题"))


def _intention(pop, c: Cohort, gone: np.ndarray) -> np.ndarray:
    """The intention to buy again of each of cohort ``c`` now; 0 for whoever is no longer with the
    merchant it had when picked (left or switched since, or ``gone`` already in the week it was
    picked): it did not buy again."""
    ok = c.retained(pop) & ~gone
    return np.where(ok, pop.intentional[c.idx].astype(float), 0.0)


def measure(markets, seed):
    """Per size (minor, major) and outcome cell: the mean intention to buy again when the outcome is
    known (``minor``, ``major``), the share still a customer 26 weeks after the problem
    (``ret_minor``, ``ret_major``) and the number of problems; for the buyers of the same weeks
    without a problem, their intention at the end of that week and their 26-week retention."""
    sc = markets[0]
    P = sc.params
    delay = np.array([m.recovery_delay for m in P.merchants])
    acc = np.zeros((2, 4, 3))  # (minor/major, cell, [n, intention, retained])
    due: dict[int, list] = {}  # week a complaint's answer lands -> [(cohort, gone, size, cell)]
    later: dict[int, list] = {}  # week + 26 -> [(cohort, gone, size, cell)]
    ref = np.zeros(3)  # buyers without a problem: [n, intention, retained]
    ref_later: dict[int, tuple] = {}

    def on_step(model):
        pop, t = model.pop, model.steps
        if F6_FROM <= t <= F6_UNTIL:
            b = own_buyers(pop)
            # a problem: something went wrong (a service failure) and the customer was dissatisfied
            f = pop.flags[b]
            bad = ((f & EV.DISSATISFIED) != 0) & ((f & EV.FAILED) != 0)
            # whoever left or switched in this week (after buying) has lost its merchant already
            good = b[~bad]
            c, gone = Cohort(pop, good), lost_by_merchant(pop, good)
            ref[0] += len(c)
            ref[1] += _intention(pop, c, gone).sum()
            ref_later[t + F6_HORIZON] = (c, gone)
            b = b[bad]
            sev = shortfall_severity(pop, b, P)
            said = (pop.flags[b] & EV.COMPLAINED) != 0
            ok = pop.recovery_ok[b] & said
            quick = delay[pop.merchant[b]] <= 1
            cell = np.where(~said, 0, np.where(~ok, 1, np.where(quick, 3, 2)))
            size = np.where(sev <= MINOR, 0, np.where(sev >= MAJOR, 1, -1))
            keep = size >= 0
            b, size, cell = b[keep], size[keep], cell[keep]
            c, gone = Cohort(pop, b), lost_by_merchant(pop, b)
            later.setdefault(t + F6_HORIZON, []).append((c, gone, size, cell))
            # when the outcome is known: now for a silent problem; for a complaint, the week its answer
            # lands (recovery_due as the complaint set it; an answer due this week has landed already)
            lands = np.where(cell == 0, t, np.where(pop.recovery_due[b] >= 0, pop.recovery_due[b], t))
            for w in np.unique(lands):
                m = lands == w
                due.setdefault(int(w), []).append((Cohort(pop, b[m]), gone[m], size[m], cell[m]))
        for c, gone, size, cell in due.pop(t, ()):
            np.add.at(acc, (size, cell, 0), 1)
            np.add.at(acc, (size, cell, 1), _intention(pop, c, gone))
        for c, gone, size, cell in later.pop(t, ()):
            np.add.at(acc, (size, cell, 2), c.retained(pop) & ~gone)
        if t in ref_later:
            c, gone = ref_later.pop(t)
            ref[2] += (c.retained(pop) & ~gone).sum()

    run_scenario(sc, seed, on_step)
    if due or later or ref_later:
        raise RuntimeError("F6: the run ended before every problem was followed up")
    with np.errstate(invalid="ignore", divide="ignore"):
        intention = acc[:, :, 1] / acc[:, :, 0]
        ret = acc[:, :, 2] / acc[:, :, 0]
        ref_int, ref_ret = ref[1] / ref[0], ref[2] / ref[0]
    return {"minor": intention[0].tolist(), "major": intention[1].tolist(),
            "ret_minor": ret[0].tolist(), "ret_major": ret[1].tolist(),
            "n_minor": acc[0, :, 0].tolist(), "n_major": acc[1, :, 0].tolist(),
            "no_problem": float(ref_ret), "no_problem_intention": float(ref_int)}


def _spread(ps, key):
    """Per seed: the cell 'resolved quickly' minus the cell 'no complaint' of ``key``."""
    return [q - z for q, z in zip(column(ps, key, 3), column(ps, key, 0))]


def evaluate(ps):
    checks = []
    for size, en, zh in F6_SIZES:
        for i in range(3):
            a, b = F6_CELLS[i], F6_CELLS[i + 1]
            checks.append(above_check(
                f"order_{size}_{i}", f"{en}: intention to buy again '{F6_LABELS[b][0]}' − '{F6_LABELS[a][0]}'",
                f"{zh}：再购意愿“{F6_LABELS[b][1]}” − “{F6_LABELS[a][1]}”",
                diff_ci(column(ps, size, i + 1), column(ps, size, i)), 0.0))
    for i, cell in enumerate(F6_CELLS):
        checks.append(below_check(
            f"major_below_{cell}", f"intention to buy again '{F6_LABELS[cell][0]}': major − minor",
            f"再购意愿“{F6_LABELS[cell][1]}”：大问题 − 小问题", diff_ci(column(ps, "major", i), column(ps, "minor", i)),
            0.0))
    for size, en, zh in F6_SIZES:
        for i, cell in enumerate(F6_CELLS):
            tgt = F6_TARGET[size][i]
            n = nanmean(column(ps, f"n_{size}", i))
            checks.append(band_check(
                f"calib_{size}_{cell}", f"calibrated: intention to buy again once the outcome is known, {en}, "
                f"{F6_LABELS[cell][0]} (≈{n:.0f} problems per run)",
                f"校准：结果揭晓时的再购意愿，{zh}，{F6_LABELS[cell][1]}（每次运行约 {n:.0f} 个问题）",
                ci(column(ps, size, i)), tgt - 0.10, tgt + 0.10, "{:.2f}"))
    # behaviour beside the intention: the same order, and the same way by less
    for size, en, zh in F6_SIZES:
        for i in range(3):
            a, b = F6_CELLS[i], F6_CELLS[i + 1]
            checks.append(above_check(
                f"behaviour_order_{size}_{i}", f"{en}: behaviour, still a customer 26 weeks later "
                f"'{F6_LABELS[b][0]}' − '{F6_LABELS[a][0]}'",
                f"{zh}：行为，26 周后仍是客户“{F6_LABELS[b][1]}” − “{F6_LABELS[a][1]}”",
                diff_ci(column(ps, f"ret_{size}", i + 1), column(ps, f"ret_{size}", i)), 0.0))
    for size, en, zh in F6_SIZES:
        beh = ci(_spread(ps, f"ret_{size}"))
        gap = diff_ci(_spread(ps, size), _spread(ps, f"ret_{size}"))
        chk = above_check(
            f"behaviour_less_{size}", f"{en}: spread 'resolved quickly' − 'no complaint', intention − behaviour "
            f"(the behavioural spread itself: {beh[0]:.3f} [{beh[1]:.3f}, {beh[2]:.3f}])",
            f"{zh}：“迅速解决” − “未投诉”之差，意愿减去行为（行为之差本身：{beh[0]:.3f} [{beh[1]:.3f}, {beh[2]:.3f}]）",
            gap, 0.0, target_en="> 0 (95% interval), and the behavioural spread > 0 (95% interval)",
            target_zh="> 0（95% 区间），且行为之差 > 0（95% 区间）")
        chk.passed = chk.passed and beh[1] > 0
        checks.append(chk)
    checks.append(band_check(
        "no_problem_intention", "reference: intention to buy again at the end of the week, buyers without a "
        "problem that week", "参照：当周末的再购意愿，当周没有遇到问题的购买者",
        ci(series(ps, "no_problem_intention")), 0.0, 1.0, "{:.2f}", info=True))
    checks.append(band_check(
        "no_problem", "reference: retention after 26 weeks, buyers without a problem that week",
        "参照：26 周后的保留率，当周没有遇到问题的购买者",
        ci(series(ps, "no_problem")), 0.0, 1.0, "{:.2f}", info=True))
    return checks


def plot(ps, checks):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.4, 6.6), layout="constrained")
    x = np.arange(4)
    labels = [F6_LABELS[c][0].replace(", ", ",\n") for c in F6_CELLS]
    for col, (size, _, _) in enumerate(F6_SIZES):
        for row, (key, ref_key, what) in enumerate(((size, "no_problem_intention", "intention to buy again, "
                                                     "outcome known"),
                                                    (f"ret_{size}", "no_problem", "behaviour: retained after 26 weeks"))):
            ax = fig.add_subplot(2, 2, 2 * row + col + 1)
            ax.grid(True, alpha=0.3)
            m = [ci(column(ps, key, i)) for i in range(4)]
            if row == 0:
                ax.bar(x - 0.2, interval_means(m), 0.4, yerr=interval_errors(m), color="C0", capsize=3,
                       label="model")
                ax.bar(x + 0.2, F6_TARGET[size], 0.4, color="0.7", label="TARP (would buy again)")
            else:
                ax.bar(x, interval_means(m), 0.5, yerr=interval_errors(m), color="C1", capsize=3, label="model")
            ax.axhline(ci(series(ps, ref_key))[0], color="C2", ls="--", lw=1, label="model: no problem that week")
            ax.set_xticks(x, labels, fontsize=7)
            ax.set_ylim(0, 1)
            ax.set_title(f"{size} problems: {what}", fontsize=9)
            ax.legend(fontsize=7)
    return fig


FACT = Fact("F6", "f06_complaint_outcomes.toml", measure, evaluate, plot, cost=2,
            # the levels are fitted (docs/calibration.md), and TARP's levels are ordered: the order of
            # the intentions follows from the fit and is calibration evidence too; behaviour is held out
            kinds=(("calib_", "calibration"), ("order_", "calibration"), ("major_below_", "calibration")))

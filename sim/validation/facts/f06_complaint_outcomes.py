"""F6 — retention by complaint outcome: every dissatisfying purchase of weeks 13–78, by size and
outcome, followed for 26 weeks (and the buyers of the same weeks without a problem).

The market is `scenarios/validation/f06_complaint_outcomes.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F6.md`."""

from __future__ import annotations

import numpy as np

from ...mechanism import EV
from ..core import interval_errors, interval_means
from ..core import (MAJOR, MINOR, Cohort, Fact, above_check, band_check, below_check, ci, column, diff_ci, nanmean,
                    new_figure, own_buyers, run_scenario, series, shortfall_severity)

F6_CELLS = ("silent", "unresolved", "resolved", "quick")
F6_LABELS = {"silent": ("no complaint", "未投诉"), "unresolved": ("complained, not resolved", "投诉未解决"),
             "resolved": ("resolved", "已解决"), "quick": ("resolved quickly", "迅速解决")}
F6_TARGET = {"minor": (0.37, 0.46, 0.70, 0.95), "major": (0.09, 0.19, 0.54, 0.82)}
F6_FROM, F6_UNTIL, F6_HORIZON = 13, 78, 26


def measure(markets, seed):
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


def evaluate(ps):
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


def plot(ps, checks):
    fig, axes = new_figure(2)
    x = np.arange(4)
    for ax, size in zip(axes, ("minor", "major")):
        m = [ci(column(ps, size, i)) for i in range(4)]
        ax.bar(x - 0.2, interval_means(m), 0.4, yerr=interval_errors(m),
               color="C0", capsize=3, label="model")
        ax.bar(x + 0.2, F6_TARGET[size], 0.4, color="0.7", label="TARP")
        ax.axhline(ci(series(ps, "no_problem"))[0], color="C2", ls="--", lw=1, label="model: no problem that week")
        ax.set_xticks(x, [F6_LABELS[c][0].replace(", ", ",\n") for c in F6_CELLS], fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(f"{size} problems: retained after 26 weeks", fontsize=9)
        ax.legend(fontsize=7)
    return fig


FACT = Fact("F6", "f06_complaint_outcomes.toml", measure, evaluate, plot, cost=2,
            kinds=(("calib_", "calibration"),))

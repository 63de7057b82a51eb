"""F13 — value-weighted churn and the tenure hazard.

The market is `scenarios/validation/f13_churn.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F13.md`."""

from __future__ import annotations

import numpy as np

from ...mechanism import ORDINARY
from ..core import interval_errors, interval_means
from ..core import (Fact, above_check, band_check, below_check, ci, column, diff_ci, lost_by_merchant, new_figure,
                    run_scenario, series)

F13_FROM = 27
F13_BANDS = (1, 14, 27, 53, 10**9)  # tenure bands 1–13, 14–26, 27–52, 53+


def measure(markets, seed):
    sc = markets[0]
    st = {"prev": None}
    acc = np.zeros((len(F13_BANDS) - 1, 2))

    def on_step(model):
        pop, t = model.pop, model.steps
        if st["prev"] is not None and t >= F13_FROM:
            pid, pstage, pten = st["prev"]
            idx = np.flatnonzero((pstage >= ORDINARY) & (pid == pop.id))
            band = np.digitize(pten[idx] + 1, F13_BANDS) - 1
            lost = lost_by_merchant(pop, idx)
            np.add.at(acc, (band, 0), 1)
            np.add.at(acc, (band, 1), lost)
        st["prev"] = (pop.id.copy(), pop.stage.copy(), pop.tenure.copy())

    res = run_scenario(sc, seed, on_step)
    w = res.metrics[res.metrics.index >= F13_FROM]
    with np.errstate(invalid="ignore", divide="ignore"):
        h = acc[:, 1] / acc[:, 0]
    return {"value_churn": float(w["value_churn_rate"].mean()), "churn": float(w["merchant_churn_rate"].mean()),
            "hazard": h.tolist()}


def evaluate(ps):
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


def plot(ps, checks):
    fig, (a1, a2) = new_figure(2)
    m = [ci(series(ps, k)) for k in ("churn", "value_churn")]
    a1.bar([0, 1], interval_means(m), yerr=interval_errors(m),
           color=["C0", "C1"], capsize=3)
    a1.set_xticks([0, 1], ["customer churn", "value-weighted churn"])
    a1.set_title("per week, weeks 27–104", fontsize=9)
    m = [ci(column(ps, "hazard", k)) for k in range(4)]
    a2.errorbar(range(4), interval_means(m), yerr=interval_errors(m), marker="o",
                capsize=3)
    a2.set_xticks(range(4), ["1–13", "14–26", "27–52", "53+"])
    a2.set_xlabel("tenure with the merchant (weeks)")
    a2.set_title("weekly churn hazard", fontsize=9)
    return fig


FACT = Fact("F13", "f13_churn.toml", measure, evaluate, plot,
            # satisfaction_settling was chosen where the hazard falls band by band (docs/calibration.md)
            kinds=(("monotone", "calibration"),))

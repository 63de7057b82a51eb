"""F9 — only the completely satisfied stay: retention 78 weeks after week 40, by satisfaction box.

The market is `scenarios/validation/f09_competition.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F9.md`."""

from __future__ import annotations

import numpy as np

from ...mechanism import ORDINARY
from ..core import interval_errors, interval_means
from ..core import Cohort, Fact, above_check, band_check, ci, column, nanmean, new_figure, ratio_ci, run_scenario

F9_AT, F9_HORIZON = 40, 78


def measure(markets, seed):
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


def evaluate(ps):
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


def plot(ps, checks):
    fig, (ax,) = new_figure(1)
    m = [ci(column(ps, "ret", k)) for k in range(5)]
    ax.errorbar(range(1, 6), interval_means(m), yerr=interval_errors(m),
                marker="o", capsize=3)
    ax.set_xticks(range(1, 6))
    ax.set_xlabel("satisfaction box (quintiles of cumulative satisfaction at week 40)")
    ax.set_ylabel("still with the same merchant 78 weeks later")
    ax.set_ylim(0, 1)
    return fig


FACT = Fact("F9", "f09_competition.toml", measure, evaluate, plot, cost=2, kinds=(("ratio", "calibration"),))

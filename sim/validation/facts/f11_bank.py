"""F11 — more products, less churn: the weekly hazard of being lost, by products held.

The market is `scenarios/validation/f11_bank.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F11.md`."""

from __future__ import annotations

import math

import numpy as np

from ...mechanism import ORDINARY
from ..core import interval_errors, interval_means
from ..core import Fact, above_check, band_check, ci, column, diff_ci, lost_by_merchant, new_figure, run_scenario

F11_FROM = 27
F11_TENURE = (1.5, 4.0, 7.0)


def measure(markets, seed):
    sc = markets[0]
    st = {"prev": None}
    acc = np.zeros((3, 2))

    def on_step(model):
        pop, t = model.pop, model.steps
        if st["prev"] is not None and t >= F11_FROM:
            pid, pstage, pprod = st["prev"]
            idx = np.flatnonzero((pstage >= ORDINARY) & (pid == pop.id))
            k = np.minimum(pprod[idx], 3).astype(int) - 1
            lost = lost_by_merchant(pop, idx)
            np.add.at(acc, (k, 0), 1)
            np.add.at(acc, (k, 1), lost)
        st["prev"] = (pop.id.copy(), pop.stage.copy(), pop.products.copy())

    run_scenario(sc, seed, on_step)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = acc[:, 1] / acc[:, 0]
    return {"hazard": h.tolist(), "annual": (1 - (1 - h) ** 52).tolist(), "tenure": (1 / (52 * h)).tolist(),
            "exposure": acc[:, 0].tolist()}


def evaluate(ps):
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


def plot(ps, checks):
    fig, (a1, a2) = new_figure(2)
    x = np.arange(1, 4)
    m = [ci(column(ps, "annual", k)) for k in range(3)]
    a1.bar(x, interval_means(m), yerr=interval_errors(m), capsize=3)
    a1.axhspan(0.30, 0.60, xmin=0, xmax=0.36, color="C2", alpha=0.2)
    a1.set_xticks(x)
    a1.set_xlabel("products held")
    a1.set_title("annual churn", fontsize=9)
    m = [ci(column(ps, "tenure", k)) for k in range(3)]
    a2.bar(x - 0.2, interval_means(m), 0.4, yerr=interval_errors(m), capsize=3,
           label="model")
    a2.bar(x + 0.2, F11_TENURE, 0.4, color="0.7", label="industry figures")
    a2.set_xticks(x)
    a2.set_xlabel("products held")
    a2.set_title("expected tenure (years)", fontsize=9)
    a2.legend(fontsize=7)
    return fig


FACT = Fact("F11", "f11_bank.toml", measure, evaluate, plot, cost=2, kinds=(("", "calibration"),))

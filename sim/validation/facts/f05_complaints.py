"""F5 — complaining rises steeply with severity: every dissatisfying own purchase, its severity
and whether the customer complained.

The market is `scenarios/validation/f05_complaints.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F5.md`."""

from __future__ import annotations

import numpy as np

from ...mechanism import EV
from ..core import interval_errors, interval_means
from ..core import (MAJOR, MINOR, Fact, above_check, band_check, ci, column, diff_ci, new_figure, own_buyers,
                    run_scenario, shortfall_severity)

F5_BINS = np.array([0, 0.2, 0.4, 0.6, 0.8, 1.0 + 1e-9])


def measure(markets, seed):
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


def evaluate(ps):
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


def plot(ps, checks):
    fig, (ax,) = new_figure(1)
    x = (F5_BINS[:-1] + np.minimum(F5_BINS[1:], 1)) / 2
    m = [ci(column(ps, "bin_rate", i)) for i in range(len(x))]
    ax.errorbar(x, interval_means(m), yerr=interval_errors(m), marker="o",
                capsize=3, label="model")
    ax.axhspan(0.01, 0.10, xmin=0, xmax=MINOR, color="C2", alpha=0.2, label="minor: 1–10%")
    ax.axhspan(0.50, 0.80, xmin=MAJOR, xmax=1, color="C3", alpha=0.2, label="major: 50–80%")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("severity of the problem (shortfall / severity_scale)")
    ax.set_ylabel("share of the dissatisfied who complain")
    ax.legend(fontsize=7)
    return fig


FACT = Fact("F5", "f05_complaints.toml", measure, evaluate, plot, kinds=(("", "verification"),))

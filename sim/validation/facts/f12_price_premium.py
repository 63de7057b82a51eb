"""F12 — the accepted price premium: the highest price rise each decile of satisfaction stayed
through.

The market is `scenarios/validation/f12_price_premium.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F12.md`."""

from __future__ import annotations

import math

import numpy as np

from ...mechanism import ORDINARY
from ..core import interval_errors, interval_means
from ..core import (Cohort, Fact, above_check, band_check, below_check, ci, column, nanmean, new_figure, ratio_ci,
                    run_scenario)


def measure(markets, seed):
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


def evaluate(ps):
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


def plot(ps, checks):
    fig, (ax,) = new_figure(1)
    x = [nanmean(column(ps, "S", k)) for k in range(10)]
    m = [ci(column(ps, "premium", k)) for k in range(10)]
    ax.errorbar(x, interval_means(m), yerr=interval_errors(m), marker="o",
                capsize=3)
    ax.set_xlabel("cumulative satisfaction when the rises begin\n(mean of each decile)")
    ax.set_ylabel("price premium accepted before leaving")
    return fig


FACT = Fact("F12", "f12_price_premium.toml", measure, evaluate, plot, cost=2)

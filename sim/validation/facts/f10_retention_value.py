"""F10 — small retention gains create large value: a newly acquired customer's lifetime value by
merchant, from its margin shaped by tenure, and what five points less defection add to it.

The market is `scenarios/validation/f10_retention_value.toml`; the texts of the report (source, test,
measurement, diagnoses) are in `docs/validation/facts/F10.md`."""

from __future__ import annotations

import math

import numpy as np

from ...mechanism import CHURNED
from ...params import MERCHANT_PARAMS
from ..core import Fact, above_check, band_check, ci, column, diff_ci, nanmean, new_figure, own_buyers, run_scenario

F10_FROM = 53
F10_BANDS = (14, 27, 53)  # tenure bands of the margin profile: 1–13, 14–26, 27–52 and 53+ weeks
F10_HORIZON = 52 * 100  # weeks summed for a lifetime (the discounted rest is negligible)


def lifetime_value(profile, r, d, acq):
    """Net value of a newly acquired customer: ``Σ_t m(t)·(r/(1 + d))^t − acquisition cost`` over its
    weeks t = 1, 2, … with the merchant, ``m(t)`` the margin per customer-week at tenure t (``profile``,
    one value per tenure band of ``F10_BANDS``, the last held for ever), weekly retention r and
    discount rate d. With a constant margin this is the model's clv formula ``m·r/(1 + d − r)``
    (Gupta, Lehmann & Stuart 2004; the ``clv`` observable)."""
    t = np.arange(1, F10_HORIZON + 1)
    m = np.asarray(profile, dtype=float)[np.digitize(t, F10_BANDS)]
    return float((m * (r / (1 + d)) ** t).sum()) - acq


def measure(markets, seed):
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
            base = lifetime_value(profile, r, d, acq)
            first_year = float(profile[np.digitize(np.arange(1, 53), F10_BANDS)].sum())  # a stayer's first year
            out["label"].append(f"{sc.name}: {name}")
            out["annual_defection"].append(D)
            out["increase"].append(lifetime_value(profile, r5, d, acq) / base - 1)
            out["increase_token"].append(lifetime_value(profile, r5, d, token) / lifetime_value(profile, r, d, token) - 1)
            out["e_ret"].append(lifetime_value(profile, R1, d, acq) / base - 1)
            out["e_margin"].append(lifetime_value(profile * 1.01, r, d, acq) / base - 1)
            out["e_acq"].append(lifetime_value(profile, r, d, acq * 0.99) / base - 1)
            out["growth"].append(float(shape[-1] / shape[0]))
            out["acq_years"].append(acq / first_year)
    return out


def evaluate(ps):
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


def plot(ps, checks):
    fig, (ax,) = new_figure(1)
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


FACT = Fact("F10", "f10_retention_value.toml", measure, evaluate, plot, cost=6,
             kinds=(("margin_gt_acq", "verification"),))

"""Expectations: they drift toward what is experienced (F1), and a merchant's promises set
newcomers' expectations — over-promising breeds dissatisfaction
(sim.mechanism.adapt_expectations, start_relationship; LoyaltyModel)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_kit import model, population, steady, table
from sim import mechanism as mc

F32 = np.float32


@pytest.mark.parametrize("E0", [0.2, 0.5, 0.95])
def test_expectation_converges_to_constant_delivered_value(E0):
    T, P = table(steady(quality=0.7, promise=0.7, price=1.0))
    n = 10
    pop = population(n, expectation=E0, expected_price=1.0)
    idx = np.arange(n)
    where = np.zeros(n, np.intp)
    value = np.full(n, 0.7, F32)
    gaps = []
    for _ in range(80):
        mc.adapt_expectations(pop, idx, value, where, T, P)
        gaps.append(abs(float(pop.expectation[0]) - 0.7))
    assert gaps[-1] < 0.01
    assert np.all(np.diff(gaps) <= 1e-7)  # monotone approach


def test_expectation_does_not_move_without_adaptation():
    T, P = table(steady(quality=0.7, promise=0.7), expectation_adapt=0.0)
    pop = population(5, expectation=0.4)
    mc.adapt_expectations(pop, np.arange(5), np.full(5, 0.9, F32), np.zeros(5, np.intp), T, P)
    assert np.allclose(pop.expectation, 0.4)


def test_ongoing_promises_pull_expectations_above_delivered_quality():
    T, P = table(steady(quality=0.6, promise=0.9, price=1.0), promise_pull=0.3)
    pop = population(5, expectation=0.6, expected_price=1.0)
    idx = np.arange(5)
    for _ in range(100):
        mc.adapt_expectations(pop, idx, np.full(5, 0.6, F32), np.zeros(5, np.intp), T, P)
    assert 0.65 < pop.expectation[0] < 0.9


def test_expected_price_follows_the_price_paid():
    T, P = table(steady(price=1.6))
    pop = population(5, expected_price=1.0)
    for _ in range(60):
        mc.adapt_expectations(pop, np.arange(5), np.full(5, 0.6, F32), np.zeros(5, np.intp), T, P)
    assert pop.expected_price[0] == pytest.approx(1.6, abs=0.02)


@pytest.mark.parametrize("pull", [0.0, 0.5, 1.0])
def test_expected_price_is_pulled_toward_the_going_price_in_the_market(pull):
    """Customers of a merchant charging 2 in a market whose other merchant charges 1 settle on an
    expected price between what they pay and the market's mean price (1.5), by market_price_pull."""
    T, P = table(steady("A", price=2.0), steady("B", price=1.0), market_price_pull=pull)
    pop = population(5, m=2, expected_price=1.0)
    for _ in range(80):
        mc.adapt_expectations(pop, np.arange(5), np.full(5, 0.6, F32), np.zeros(5, np.intp), T, P)
    assert pop.expected_price[0] == pytest.approx((1 - pull) * 2.0 + pull * 1.5, abs=0.01)


def test_a_merchant_far_above_the_market_loses_more_customers_when_the_market_price_counts():
    """The same steep price rise by one of three equal merchants: where customers' expected price
    follows the going price, more of its customers leave than where it follows only what they pay.
    (Noticed rises prompting a comparison on value for money are switched off here: they are
    tested in test_price_rise.py, and this test isolates the expected price.)"""
    def kept(pull):
        mm = model(1500, merchants=[steady(n, quality=0.65, promise=0.65) for n in "ABC"], seed=9,
                   natural_churn=0.0, market_price_pull=pull, price_reconsider=0.0)
        for _ in range(30):
            mm.step()
        before = np.flatnonzero((mm.pop.stage > mc.PROSPECT) & (mm.pop.merchant == 0))
        ids = mm.pop.id[before].copy()
        for k in range(20):
            mm.set_policy("A", price=1.0 + 0.05 * (k + 1))
            mm.step()
        return float(np.mean((mm.pop.id[before] == ids) & (mm.pop.merchant[before] == 0) & (mm.pop.stage[before] > 0)))

    assert kept(1.0) < kept(0.0) - 0.15


def _steady_market(quality=0.7, promise=0.7, seed=1, steps=0, **kw):
    """One merchant delivering exactly ``quality`` every time. Word of mouth is off unless asked for:
    these tests isolate adaptation to experience and promises."""
    base = dict(purchase_prob=1.0, price_sensitivity=0.0, initial_share_active=1.0, natural_churn=0.0,
                outside_option=-3.0, expectation_spread=0.02, network_degree=0)
    mm = model(300, merchants=[steady(quality=quality, promise=promise)], seed=seed, **{**base, **kw})
    for _ in range(steps):
        mm.step()
    return mm


@pytest.mark.parametrize("E0", [0.35, 0.95])
def test_in_a_market_with_constant_quality_expectation_converges_and_satisfaction_turns_neutral(E0):
    mm = _steady_market(expectation_init=E0)
    gaps = []
    for _ in range(40):
        mm.step()
        gaps.append(abs(mm.metrics["expectation"] - 0.7))
    assert gaps[-1] < 0.01 and gaps[-1] < gaps[0] / 5
    pop = mm.pop
    bought = pop.stage >= mc.ORDINARY
    assert abs(float(pop.txn_sat[bought].mean()) - 0.5) < 0.01  # transaction satisfaction: neutral
    assert mm.metrics["delighted"] == 0 and mm.metrics["dissatisfied"] == 0


@pytest.mark.parametrize("E0", [0.35, 0.95])
def test_expectation_converges_under_constant_quality_with_word_of_mouth(E0):
    """Word of mouth must not keep pushing expectations away from experience (it shapes them when a
    relationship starts): with it switched on, expectations still settle on delivered quality."""
    mm = _steady_market(expectation_init=E0, network_degree=8)
    for _ in range(60):
        mm.step()
    E = mm.pop.expectation[mm.pop.stage > mc.CHURNED]
    assert abs(float(E.mean()) - 0.7) < 0.02
    assert float(E.min()) > 0.6 and float(E.max()) < 0.8


def test_early_surprise_wears_off_as_expectations_rise():
    mm = _steady_market(quality=0.8, promise=0.5, expectation_init=0.5)
    mm.step()
    early = mm.metrics["delighted"] / mm.metrics["purchases"]
    for _ in range(40):
        mm.step()
    late = mm.metrics["delighted"] / mm.metrics["purchases"]
    assert early > 0.9 and late < 0.1


def _first_purchases(promise, seed=3):
    mm = _steady_market(quality=0.6, promise=promise, seed=seed, expectation_init=0.6, promise_weight=0.8)
    E_new = float(mm.pop.expectation[mm.pop.stage > mc.CHURNED].mean())
    sat, dis = [], 0
    for _ in range(4):
        mm.step()
        sat.append(mm.metrics["satisfaction"])
        dis += mm.metrics["dissatisfied"]
    return E_new, float(np.mean(sat)), dis


def test_overpromising_raises_newcomers_expectations_and_lowers_their_satisfaction():
    E_honest, s_honest, dis_honest = _first_purchases(promise=0.6)
    E_over, s_over, dis_over = _first_purchases(promise=0.9)
    assert E_over > E_honest + 0.05
    assert s_over < s_honest - 0.01
    assert dis_over > dis_honest + 100


def test_overpromising_hurts_later_newcomers_too():
    """Newcomers who arrive into a running market (not only the first cohort) are less satisfied
    with their first purchase when the merchant promised more than it delivers."""
    def newcomer_sat(promise):
        mm = _steady_market(quality=0.6, promise=promise, seed=4, expectation_init=0.6, promise_weight=0.8,
                            natural_churn=0.05, arrival_rate=1.0)
        vals = []
        for _ in range(15):
            mm.step()
            pop = mm.pop
            first = (pop.stage >= mc.ORDINARY) & (pop.tenure <= 2) & ((pop.flags & mc.EV.PURCHASE) > 0)
            vals.extend(pop.txn_sat[first].tolist())
        return float(np.mean(vals)), len(vals)

    (s_honest, n1), (s_over, n2) = newcomer_sat(0.6), newcomer_sat(0.9)
    assert n1 > 50 and n2 > 50
    assert s_over < s_honest - 0.05


def test_promise_weight_zero_makes_promises_irrelevant_for_newcomers():
    E_honest, _, _ = _first_purchases_w(promise=0.6)
    E_over, _, _ = _first_purchases_w(promise=0.9)
    assert E_over == pytest.approx(E_honest, abs=1e-6)


def _first_purchases_w(promise):
    mm = _steady_market(quality=0.6, promise=promise, seed=3, expectation_init=0.6, promise_weight=0.0)
    E_new = float(mm.pop.expectation[mm.pop.stage > mc.CHURNED].mean())
    return E_new, None, None

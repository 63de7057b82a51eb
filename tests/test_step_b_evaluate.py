"""Step B — perception and evaluation: disconfirmation, loss aversion with diminishing
sensitivity, the zone of tolerance, price against the expected price, and loyal tolerance
(sim.mechanism.evaluate, perceive, anticipated_value)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_kit import merchant, model, population, steady, table
from sim import Params
from sim import mechanism as mc

F32 = np.float32


def sat(values, expectation, P, tolerance=None):
    v = np.asarray(values, dtype=F32)
    e = np.full(v.shape, expectation, dtype=F32)
    tol = None if tolerance is None else np.full(v.shape, tolerance, dtype=F32)
    s, short, surplus = mc.evaluate(v, e, P, tol)
    return np.asarray(s, dtype=float), np.asarray(short, dtype=float), np.asarray(surplus, dtype=float)


# ---- satisfaction follows perceived − expected (F1) ----------------------------------------------
@pytest.mark.parametrize("E", [0.3, 0.5, 0.7])
def test_satisfaction_increases_with_disconfirmation_at_every_expectation_level(E):
    P = Params()
    d = np.linspace(-0.2, 0.3, 51)
    s, _, _ = sat(E + d, E, P)
    assert np.all(np.diff(s) > 0)  # strictly increasing where not clipped
    wide = np.linspace(-1, 1, 201)
    sw, _, _ = sat(E + wide, E, P)
    assert np.all(np.diff(sw) >= -1e-7)  # never decreasing
    assert np.all((sw >= 0) & (sw <= 1))
    assert abs(sat([E], E, P)[0][0] - 0.5) < 1e-6  # exactly as expected = neutral


def test_satisfaction_depends_on_the_gap_not_the_level():
    P = Params()
    for d in (-0.15, -0.05, 0.0, 0.07, 0.2):
        levels = [sat([E + d], E, P)[0][0] for E in (0.3, 0.5, 0.7)]
        assert max(levels) - min(levels) < 1e-5


def test_evaluate_reports_shortfall_below_adequate_and_surplus_above_desired():
    P = Params(zone_of_tolerance=0.2)
    _, short, surplus = sat([0.3, 0.45, 0.5, 0.55, 0.75], 0.5, P)
    assert np.allclose(short, [0.1, 0, 0, 0, 0], atol=1e-6)
    assert np.allclose(surplus, [0, 0, 0, 0, 0.15], atol=1e-6)


# ---- shortfalls weigh more than surpluses, both concave (F2) -------------------------------------
def _effects(P, E=0.5, ds=(0.05, 0.1, 0.2, 0.3)):
    """Effect on satisfaction of a shortfall / a surplus of size d beyond the zone's edges."""
    half = P.zone_of_tolerance / 2
    edge_lo, edge_hi = sat([E - half], E, P)[0][0], sat([E + half], E, P)[0][0]
    loss = np.array([edge_lo - sat([E - half - d], E, P)[0][0] for d in ds])
    gain = np.array([sat([E + half + d], E, P)[0][0] - edge_hi for d in ds])
    return loss, gain


def test_shortfall_weighs_more_than_a_surplus_of_equal_size():
    loss, gain = _effects(Params())
    assert np.all(loss > gain)


def test_shortfall_to_surplus_ratio_is_in_the_empirical_band_where_unclipped():
    # gain_sensitivity 0.5 keeps every value inside 0…1, so the ratio is not hidden by clipping
    loss, gain = _effects(Params(gain_sensitivity=0.5), ds=(0.1, 0.2, 0.3))
    ratio = loss / gain
    assert np.all((ratio >= 1.5) & (ratio <= 3.0)), ratio


def test_shortfall_to_surplus_ratio_is_in_the_empirical_band_at_the_defaults():
    loss, gain = _effects(Params(), ds=(0.1, 0.2, 0.3))
    ratio = loss / gain
    assert np.all((ratio >= 1.5) & (ratio <= 3.0)), ratio


def test_loss_aversion_parameter_sets_the_asymmetry():
    l1, g1 = _effects(Params(gain_sensitivity=0.3, loss_aversion=1.0), ds=(0.1, 0.2))
    l3, g3 = _effects(Params(gain_sensitivity=0.3, loss_aversion=3.0), ds=(0.1, 0.2))
    assert np.allclose(l1, g1, rtol=1e-3)
    assert np.allclose(l3 / g3, 3.0, rtol=1e-3)


@pytest.mark.parametrize("kw", [{}, {"gain_sensitivity": 0.5}])
def test_both_shortfall_and_surplus_effects_are_concave(kw):
    loss, gain = _effects(Params(**kw), ds=(0.1, 0.2, 0.3))
    # f(0.1) + f(0.3) < 2 f(0.2): diminishing sensitivity
    assert loss[0] + loss[2] < 2 * loss[1]
    assert gain[0] + gain[2] < 2 * gain[1]
    # and each further 0.1 adds less than the first 0.1 did (f(0) = 0)
    assert gain[1] - gain[0] < gain[0] and gain[2] - gain[1] < gain[1] - gain[0]


def test_linear_when_diminishing_sensitivity_is_switched_off():
    _, gain = _effects(Params(diminishing_sensitivity=1.0, gain_sensitivity=0.5), ds=(0.1, 0.2, 0.3))
    assert np.allclose(np.diff(gain), gain[0], atol=1e-5)


# ---- zone of tolerance (F3) ----------------------------------------------------------------------
def _slope(P, x, E=0.5, h=0.005):
    s, _, _ = sat([x - h, x + h], E, P)
    return (s[1] - s[0]) / (2 * h)


def test_zone_of_tolerance_slope_inside_is_small_vs_outside():
    P = Params()
    half = P.zone_of_tolerance / 2
    inside = [_slope(P, 0.5 + d) for d in (-half / 2, 0.0, half / 2)]
    # (a shortfall beyond ~0.13 already drives satisfaction to 0 at the defaults, so stay nearer)
    outside = [_slope(P, 0.5 + s * (half + d)) for s in (-1, 1) for d in (0.02, 0.05, 0.1)]
    assert min(inside) > 0  # still moves a little
    assert max(inside) < 0.25 * min(outside)


def test_without_a_zone_there_is_no_flat_region():
    P = Params(zone_of_tolerance=0.0)
    assert _slope(P, 0.53) > 0.5 and _slope(P, 0.47) > 0.5


def test_wider_zone_absorbs_bigger_gaps():
    narrow, wide = Params(zone_of_tolerance=0.1), Params(zone_of_tolerance=0.4)
    s_n, short_n, _ = sat([0.35], 0.5, narrow)
    s_w, short_w, _ = sat([0.35], 0.5, wide)
    assert short_n[0] > 0 and short_w[0] == 0
    assert s_w[0] > s_n[0]


# ---- price against the expected price -------------------------------------------------------------
def _perceived(prices, quality=0.7, stage=mc.ORDINARY, expected_price=1.0, sens=0.5, **market):
    ms = [steady(f"M{i}", quality=quality, price=p) for i, p in enumerate(prices)]
    T, P = table(*ms, **market)
    k = len(prices)
    pop = population(k, m=k, stage=stage, expected_price=expected_price, price_sens=sens)
    idx = np.arange(k)
    where = np.arange(k, dtype=np.intp)
    pop.merchant[:] = where
    q = np.full(k, quality, dtype=F32)
    return np.asarray(mc.perceive(pop, idx, where, q, T, P), dtype=float), P


def test_price_above_expected_price_lowers_value_and_satisfaction():
    v, P = _perceived([0.8, 1.0, 1.2, 1.5, 2.0])
    assert abs(v[1] - 0.7) < 1e-6  # at the expected price value is the quality
    assert np.all(np.diff(v) < 0)
    assert v[2] < 0.7 and v[0] > 0.7
    s, _, _ = sat(v, 0.7, P)
    assert np.all(np.diff(s) <= 0) and s[-1] < s[1]


def test_price_sensitivity_scales_the_price_effect():
    v_low, _ = _perceived([1.5], sens=0.2)
    v_high, _ = _perceived([1.5], sens=1.5)
    v_none, _ = _perceived([1.5], sens=0.0)
    assert v_none[0] == pytest.approx(0.7, abs=1e-6)
    assert v_high[0] < v_low[0] < 0.7


def test_a_price_far_below_the_expected_price_raises_doubt_about_quality():
    ms = [merchant(f"M{i}", quality=0.6, promise=0.6, price=p) for i, p in enumerate((1.0, 0.8, 0.2))]
    T, P = table(*ms, price_doubt=0.3)
    val = np.asarray(mc.anticipated_value(T, P, np.array([1.0], F32), np.array([0.5], F32)))[0]
    assert val[1] > val[0]  # a moderate discount is attractive
    assert val[2] < val[1]  # a suspiciously low price is not


# ---- loyal customers are tolerant ------------------------------------------------------------------
def test_loyal_customers_discount_shortfalls():
    P = Params(loyal_failure_tolerance=0.5)
    s0, short0, _ = sat([0.4, 0.45], 0.6, P)
    s1, short1, _ = sat([0.4, 0.45], 0.6, P, tolerance=P.loyal_failure_tolerance)
    assert np.allclose(short1, 0.5 * short0, atol=1e-6)
    assert np.all(s1 > s0)
    # surpluses are not touched
    s2, _, sur2 = sat([0.9], 0.6, P, tolerance=0.5)
    s3, _, sur3 = sat([0.9], 0.6, P)
    assert s2[0] == pytest.approx(s3[0]) and sur2[0] == pytest.approx(sur3[0])


def test_loyal_customers_discount_price_rises_but_not_discounts():
    prices = [0.8, 1.3, 1.8]
    v_ord, _ = _perceived(prices, stage=mc.ORDINARY)
    v_loy, _ = _perceived(prices, stage=mc.LOYAL, loyal_price_tolerance=0.5)
    v_loy0, _ = _perceived(prices, stage=mc.LOYAL, loyal_price_tolerance=0.0)
    assert v_loy[0] == pytest.approx(v_ord[0], abs=1e-6)  # price below expected: same gain
    assert np.all(v_loy[1:] > v_ord[1:])  # price above expected: hurts less
    assert np.allclose(0.7 - v_loy[1:], 0.5 * (0.7 - v_ord[1:]), atol=1e-6)
    assert np.allclose(v_loy0, v_ord, atol=1e-6)


def test_loyal_tolerance_applies_in_the_running_model():
    """In a market where every encounter fails, loyal buyers are less dissatisfied than others."""
    mm = model(300, merchants=[steady(quality=0.7, promise=0.7, failure_prob=1.0, failure_severity=0.2)],
               seed=4, expectation_init=0.7, expectation_spread=0.0, price_sensitivity=0.0,
               loyal_failure_tolerance=0.9)
    pop = mm.pop
    act = np.flatnonzero(pop.stage > mc.CHURNED)
    half = act[: len(act) // 2]
    pop.stage[act] = mc.ORDINARY
    pop.stage[half] = mc.LOYAL
    pop.trust[act] = 0.99  # nobody loses loyalty in one step
    pop.expectation[act] = 0.7
    mm.set_params(purchase_prob=1.0, expectation_adapt=0.0)
    mm.step()
    loyal = half[(pop.flags[half] & mc.EV.PURCHASE) > 0]
    other = np.setdiff1d(act, half)
    other = other[(pop.flags[other] & mc.EV.PURCHASE) > 0]
    assert len(loyal) > 50 and len(other) > 50
    assert pop.txn_sat[loyal].mean() > pop.txn_sat[other].mean() + 0.1

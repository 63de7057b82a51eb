"""Step A — the service encounter: quality, consistency, failures, Kano's basic and excitement
attributes (sim.mechanism.encounter, and the model around it)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_kit import model, population, rng, steady, table
from sim import mechanism as mc
from sim.mechanism import EV

N = 20_000


def _encounter(m, n=N, seed=1, pop=None, T=None):
    T = T if T is not None else table(m)[0]
    pop = pop if pop is not None else population(n)
    buyers = np.arange(pop.n)
    where = np.zeros(pop.n, dtype=np.intp)
    q, failed = mc.encounter(pop, buyers, where, T, rng(seed))
    return np.asarray(q, dtype=float), np.asarray(failed)


def test_steady_merchant_delivers_exactly_its_quality():
    q, failed = _encounter(steady(quality=0.63), n=500)
    assert np.allclose(q, 0.63, atol=1e-6)
    assert not failed.any()


@pytest.mark.parametrize("quality", [0.3, 0.55, 0.8])
def test_mean_quality_is_the_merchants_quality(quality):
    q, _ = _encounter(steady(quality=quality, consistency=0.5))
    assert abs(q.mean() - quality) < 0.01


def test_lower_consistency_means_more_varied_service():
    sds = [_encounter(steady(quality=0.6, consistency=c))[0].std() for c in (1.0, 0.9, 0.6, 0.2)]
    assert sds[0] < 1e-6
    assert sds[0] < sds[1] < sds[2] < sds[3]


@pytest.mark.parametrize("fp", [0.05, 0.25, 0.6])
def test_failure_chance(fp):
    q, failed = _encounter(steady(quality=0.7, failure_prob=fp, failure_severity=0.3))
    assert abs(failed.mean() - fp) < 0.015
    loss = 0.7 - q
    assert np.all(loss[failed] > 0)
    assert np.allclose(loss[~failed], 0, atol=1e-6)


@pytest.mark.parametrize("severity", [0.1, 0.3, 0.6])
def test_failure_severity_is_the_mean_quality_lost(severity):
    q, failed = _encounter(steady(quality=0.7, failure_prob=0.5, failure_severity=severity))
    loss = (0.7 - q)[failed]
    assert abs(loss.mean() - severity) < 0.05 * severity
    # a failure removes between half and one and a half times the severity
    assert loss.min() >= 0.5 * severity - 1e-5
    assert loss.max() <= 1.5 * severity + 1e-5


def test_more_severe_failures_lose_more_quality():
    losses = []
    for sev in (0.1, 0.3, 0.6):
        q, failed = _encounter(steady(quality=0.7, failure_prob=0.5, failure_severity=sev))
        losses.append((0.7 - q)[failed].mean())
    assert losses[0] < losses[1] < losses[2]


# ---- Kano: basic (must-be) quality ------------------------------------------------------------
def test_missing_basic_quality_hurts():
    _, P = table(steady())
    q, failed = _encounter(steady(quality=0.7, basic_quality=0.0), n=500)
    assert failed.all()  # a missing must-be attribute counts as a failed encounter
    assert np.all(q < 0.7 - 0.1)
    s, short, _ = mc.evaluate(q.astype(np.float32), np.full(500, 0.7, np.float32), P)
    assert np.all(short > 0) and np.all(s < 0.5)


def test_basic_quality_present_adds_nothing():
    _, P = table(steady())
    q, failed = _encounter(steady(quality=0.7, basic_quality=0.5))
    assert abs(failed.mean() - 0.5) < 0.015  # missing with chance 1 − basic_quality
    present = q[~failed]
    assert np.allclose(present, 0.7, atol=1e-6)  # no bonus for meeting the basics
    s, _, surplus = mc.evaluate(present.astype(np.float32), np.full(len(present), 0.7, np.float32), P)
    assert np.allclose(s, 0.5, atol=1e-6) and not np.any(surplus > 0)
    assert q[failed].max() < 0.7


# ---- Kano: excitement quality -------------------------------------------------------------------
def test_excitement_delights_while_new_then_fades_into_expectation_and_removing_it_hurts():
    T, P = table(steady(quality=0.6, promise=0.6, excitement=0.25, price=1.0))
    n = 200
    pop = population(n, expectation=0.6, excite_expect=0.0)
    idx = np.arange(n)
    where = np.zeros(n, dtype=np.intp)
    g = rng(3)

    def one_purchase(T):
        q, _ = mc.encounter(pop, idx, where, T, g)
        v = mc.perceive(pop, idx, where, q, T, P)
        s, short, surplus = mc.evaluate(v, pop.expectation[idx], P)
        mc.adapt_expectations(pop, idx, v, where, T, P)
        return s, short, surplus

    s, short, surplus = one_purchase(T)
    assert np.all(surplus > 0) and np.all(s > 0.6)  # new: delight
    first = float(s.mean())
    for _ in range(150):
        s, short, surplus = one_purchase(T)
    assert np.allclose(pop.excite_expect, 0.25, atol=0.01)  # it is expected now
    assert float(s.mean()) < first - 0.1
    assert np.all(surplus < 0.01) and abs(float(s.mean()) - 0.5) < 0.02  # no longer delights
    # take the extra away: the customer now misses what it has come to expect
    T0, _ = table(steady(quality=0.6, promise=0.6, excitement=0.0, price=1.0))
    s, short, _ = one_purchase(T0)
    assert np.all(short > 0) and np.all(s < 0.45)


def test_excitement_in_a_market_delights_then_fades_and_its_removal_dissatisfies():
    """The same story in a running market, against a control run with the same seed."""
    common = dict(n_customers=300, seed=5, initial_share_active=1.0, natural_churn=0.0, reconsider_prob=0.0,
                  expectation_init=0.6, expectation_spread=0.0, price_sensitivity=0.0, purchase_prob=0.8)
    mk = lambda exc: model(merchants=[steady(quality=0.6, promise=0.6, excitement=exc)], **common)  # noqa: E731
    treated, control = mk(0.2), mk(0.0)
    delighted_share = []
    for t in range(40):
        treated.step()
        control.step()
        met = treated.metrics
        delighted_share.append(met["delighted"] / max(met["purchases"], 1))
    assert delighted_share[0] > 0.8  # new: nearly every purchase delights
    assert np.mean(delighted_share[-5:]) < 0.1
    assert control.metrics["delighted"] == 0
    treated.set_policy("A", excitement=0.0)
    dis_t = dis_c = 0
    for _ in range(3):
        treated.step()
        control.step()
        dis_t += treated.metrics["dissatisfied"]
        dis_c += control.metrics["dissatisfied"]
    assert dis_t > 50 and dis_c == 0


def test_encounter_flags_failed_purchases_in_the_model():
    """A merchant that always fails produces dissatisfied purchases; one that never fails does not
    (first purchases, before expectations have had time to sink)."""
    base = dict(n_customers=200, seed=2, expectation_init=0.6, expectation_spread=0.0, price_sensitivity=0.0)
    bad = model(merchants=[steady(quality=0.6, promise=0.6, failure_prob=1.0, failure_severity=0.5)], **base)
    good = model(merchants=[steady(quality=0.6, promise=0.6)], **base)
    bad.step()
    buyers_bad = (bad.pop.flags & EV.PURCHASE) > 0
    assert buyers_bad.sum() > 50
    assert np.all((bad.pop.flags[buyers_bad] & EV.DISSATISFIED) > 0)
    for _ in range(3):
        good.step()
        assert good.metrics["dissatisfied"] == 0 and good.metrics["purchases"] > 50

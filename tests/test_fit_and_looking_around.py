"""Lasting differences in overall satisfaction (``fit``; sim.mechanism.felt, update_satisfaction,
start_relationship) and looking around less when satisfied (sim.mechanism.choice.looking_around)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_kit import model, population, steady, table
from sim import mechanism as mc
from sim.mechanism.choice import LOOK_CUT

F32 = np.float32


def test_felt_adds_the_fit_and_stays_in_range():
    pop = population(4)
    pop.fit[:] = [0.1, -0.1, 0.3, -0.3]
    T, P = table(steady(), value_weight=0.0)  # the direct path of judged value aside (tested on its own)
    f = mc.felt(pop, np.arange(4), np.array([0.5, 0.5, 0.9, 0.1], F32), T, P)
    assert f.tolist() == pytest.approx([0.6, 0.4, 1.0, 0.0])
    assert pop.fit.tolist() == pytest.approx([0.1, -0.1, 0.3, -0.3])  # the fit itself is untouched


def test_overall_satisfaction_keeps_the_fit_after_expectations_adapt():
    """Steady service: expectations adapt, so transaction satisfaction drifts to neutral for every
    customer (F1), but overall satisfaction settles at 0.5 + fit, customer by customer."""
    mm = model(600, merchants=[steady(quality=0.7, promise=0.7)], seed=4, fit_spread=0.08,
               natural_churn=0.0, reconsider_prob=0.0, reconsider_dissatisfied=0.0, initial_share_active=1.0)
    for _ in range(60):
        mm.step()
    pop = mm.pop
    a = np.flatnonzero((pop.stage > mc.PROSPECT) & (pop.tenure > 40))
    assert len(a) > 400
    assert np.abs(pop.txn_sat[a] - 0.5).max() < 0.02  # the disconfirmation is neutral …
    S, fit = pop.satisfaction[a], pop.fit[a]
    assert np.corrcoef(S, fit)[0, 1] > 0.95  # … overall satisfaction is not
    assert np.abs(S - (0.5 + fit)).max() < 0.03
    assert 0.06 < fit.std() < 0.10


def test_without_fit_overall_satisfaction_converges_for_all():
    mm = model(400, merchants=[steady(quality=0.7, promise=0.7)], seed=4, fit_spread=0.0,
               natural_churn=0.0, reconsider_prob=0.0, reconsider_dissatisfied=0.0, initial_share_active=1.0)
    for _ in range(60):
        mm.step()
    a = np.flatnonzero(mm.pop.tenure > 40)
    assert np.all(mm.pop.fit == 0)
    assert mm.pop.satisfaction[a].std() < 0.005


def test_a_good_fit_builds_trust_faster():
    """Positive reinforcement follows how the encounter felt: with the same service, customers
    whose merchant suits them well reach trust sooner."""
    mm = model(2000, merchants=[steady(quality=0.7, promise=0.7)], seed=5, fit_spread=0.1,
               natural_churn=0.0, reconsider_prob=0.0, initial_share_active=1.0, trust_gain=0.05)
    for _ in range(12):
        mm.step()
    pop = mm.pop
    a = np.flatnonzero(pop.stage > mc.PROSPECT)
    good, poor = a[pop.fit[a] > 0.1], a[pop.fit[a] < -0.1]
    assert len(good) > 100 and len(poor) > 100
    assert pop.trust[good].mean() > pop.trust[poor].mean() + 0.02


def test_each_new_relationship_draws_its_own_fit():
    mm = model(3000, merchants=[steady("A", quality=0.6, promise=0.6), steady("B", quality=0.6, promise=0.6)],
               seed=6, fit_spread=0.1, reconsider_prob=0.5, reconsider_satisfaction=0.0, procedural_cost=0.0)
    before = mm.pop.fit.copy()
    assert abs(float(before[mm.pop.stage > 0].std()) - 0.1) < 0.01
    for _ in range(3):
        mm.step()
    switched = np.flatnonzero((mm.pop.switches > 0) & (mm.pop.stage > 0))
    assert len(switched) > 100
    assert np.all(mm.pop.fit[switched] != before[switched])  # a switcher's fit is drawn afresh


@pytest.mark.parametrize("k", [0.0, 20.0, 35.0])
def test_looking_around_falls_with_satisfaction_as_declared(k):
    """Each place looks around with chance min(1, r·exp(−k·(S − 0.5))): measured by level of S,
    including levels below the thinning cut (drawn one by one) and at the cap of 1."""
    r = 0.05
    mm = model(200, seed=7, reconsider_prob=r, reconsider_satisfaction=k)
    n_each = 40_000
    levels = np.array([0.25, 0.5 - LOOK_CUT - 0.01, 0.45, 0.5, 0.55, 0.65], F32)
    pop = mc.Population(n_each * len(levels), 1)
    pop.satisfaction[:] = np.repeat(levels, n_each)
    mm.pop = pop
    counts = np.zeros(len(levels))
    rounds = 5
    for _ in range(rounds):
        picked = mc.looking_around(mm.pop, mm.params, mm.rng)
        assert np.all(np.diff(picked) > 0)  # sorted places, each at most once
        counts += np.bincount(picked // n_each, minlength=len(levels))
    rate = counts / (rounds * n_each)
    expected = np.minimum(1.0, r * np.exp(-k * (levels.astype(float) - 0.5)))
    sd = np.sqrt(expected * (1 - expected) / (rounds * n_each))
    assert np.all(np.abs(rate - expected) <= 5 * sd + 1e-9), (rate, expected)
    if k > 0:
        assert rate[0] > rate[3] > rate[5]


def test_satisfied_customers_stay_longer_where_alternatives_are_close():
    """Six near-identical merchants, no switching costs: after 40 weeks the most satisfied fifth is
    far likelier to be with the same merchant 40 weeks later than the middle fifth, and much more
    so than when looking around ignores satisfaction."""
    def retention(k):
        merchants = [steady(n, quality=0.65, promise=0.65, consistency=0.7) for n in "ABCDEF"]
        mm = model(3000, merchants=merchants, seed=8, procedural_cost=0.0, relational_max=0.05,
                   reconsider_prob=0.1, choice_noise=0.3, reconsider_satisfaction=k)
        for _ in range(40):
            mm.step()
        pop = mm.pop
        idx = np.flatnonzero(pop.stage >= mc.ORDINARY)
        S = pop.satisfaction[idx]
        lo, hi = np.quantile(S, [0.4, 0.6]), np.quantile(S, 0.8)
        top, mid = idx[S >= hi], idx[(S >= lo[0]) & (S < lo[1])]
        ids, sw = pop.id.copy(), pop.switches.copy()
        for _ in range(40):
            mm.step()

        def kept(g):
            return float(np.mean((pop.id[g] == ids[g]) & (pop.switches[g] == sw[g]) & (pop.stage[g] > 0)))

        return kept(top), kept(mid)

    top, mid = retention(20.0)
    top0, mid0 = retention(0.0)
    assert top > 3 * mid
    assert top > 1.5 * top0 and top / mid > 1.5 * top0 / mid0

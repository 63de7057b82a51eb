"""Steps C/D — satisfied customers get positive reinforcement and go round Cycle A (甲循环):
consume → evaluate → satisfied → consume again (sim.mechanism.reinforce, need; LoyaltyModel)."""

from __future__ import annotations

import numpy as np

from engine_kit import model, population, reinforce, rng, steady, table
from sim import Params
from sim import mechanism as mc
from sim.mechanism import EV

F32 = np.float32


def test_reinforce_counts_one_pass_of_cycle_a_per_satisfied_purchase():
    T, P = table(steady())
    pop = population(10, cycle_a=3)
    idx = np.array([1, 4, 7])
    reinforce(pop, idx, np.full(3, 0.55, F32), T, np.zeros(3, np.intp), P)
    assert pop.cycle_a[idx].tolist() == [4, 4, 4]
    others = np.setdiff1d(np.arange(10), idx)
    assert np.all(pop.cycle_a[others] == 3)
    reinforce(pop, idx[:1], np.full(1, 0.9, F32), T, np.zeros(1, np.intp), P)
    assert pop.cycle_a[1] == 5


def test_delight_reinforces_more_than_mere_satisfaction():
    T, P = table(steady())
    just = population(5)
    delighted = population(5)
    idx = np.arange(5)
    w = np.zeros(5, np.intp)
    g_just = reinforce(just, idx, np.full(5, 0.5, F32), T, w, P)
    g_del = reinforce(delighted, idx, np.full(5, 0.9, F32), T, w, P)
    assert np.all(g_del > g_just) and np.all(g_just > 0)
    assert np.all(delighted.affective > just.affective)  # the affective facet moves up more
    # and the stronger reinforcement builds more trust (step G)
    mc.accumulate_trust(just, idx, g_just, np.zeros(5, F32), P)
    mc.accumulate_trust(delighted, idx, g_del, np.zeros(5, F32), P)
    assert np.all(delighted.trust > just.trust) and np.all(just.trust > 0.2)


def test_repeated_delight_builds_trust_faster_than_repeated_satisfaction():
    T, P = table(steady())
    pops = {s: population(1) for s in (0.5, 0.6, 0.8)}
    for s, pop in pops.items():
        for _ in range(10):
            g = reinforce(pop, np.array([0]), np.array([s], F32), T, np.zeros(1, np.intp), P)
            mc.accumulate_trust(pop, np.array([0]), g, np.zeros(1, F32), P)
    t = [float(pops[s].trust[0]) for s in (0.5, 0.6, 0.8)]
    assert t[0] < t[1] < t[2]


def test_trust_makes_customers_buy_again_and_buy_more():
    P = Params(purchase_prob=0.3, loyal_extra_purchases=1.0)
    n = 20_000
    low = population(n, trust=0.0)
    high = population(n, trust=1.0)
    f_low = len(mc.need(low, P, rng(1))) / n
    f_high = len(mc.need(high, P, rng(1))) / n
    assert abs(f_low - 0.3) < 0.015
    assert abs(f_high - 0.6) < 0.015


def test_need_ignores_empty_places():
    P = Params(purchase_prob=1.0)
    pop = population(50)
    pop.stage[::2] = mc.CHURNED
    buyers = mc.need(pop, P, rng(0))
    assert np.all(pop.stage[buyers] > mc.CHURNED) and len(buyers) == 25


def _cycle_a_market(seed=3, **kw):
    return model(400, merchants=[steady(quality=0.65, promise=0.65, failure_prob=0.15, failure_severity=0.4)],
                 seed=seed, **kw)


def test_model_counts_cycle_a_passes_from_satisfied_purchases():
    mm = _cycle_a_market()
    pop = mm.pop
    total = 0
    for _ in range(15):
        before = {int(i): int(c) for i, c in zip(pop.id, pop.cycle_a) if i >= 0}
        mm.step()
        fl = pop.flags
        sat = (fl & (EV.SATISFIED | EV.DELIGHTED)) > 0
        dis = (fl & EV.DISSATISFIED) > 0
        skip = (fl & (EV.RECOVERED | EV.SWITCHED | EV.LEFT | EV.ARRIVED)) > 0
        assert mm.metrics["cycle_a"] == int(sat.sum())
        for slot in np.flatnonzero(sat & ~skip):
            assert pop.cycle_a[slot] == before[int(pop.id[slot])] + 1
        for slot in np.flatnonzero(dis & ~skip):
            assert pop.cycle_a[slot] == before[int(pop.id[slot])]
        total += mm.metrics["cycle_a"]
    assert total > 500 and mm.metrics["dissatisfied"] >= 0


def test_cycle_a_metric_tracks_satisfied_share_of_purchases():
    good = _cycle_a_market(seed=1)
    bad = model(400, merchants=[steady(quality=0.65, promise=0.65, failure_prob=0.6, failure_severity=0.4)],
                seed=1)
    ga = gb = 0
    for _ in range(10):
        good.step()
        bad.step()
        ga += good.metrics["cycle_a"] / max(good.metrics["purchases"], 1)
        gb += bad.metrics["cycle_a"] / max(bad.metrics["purchases"], 1)
    assert ga > gb + 2  # summed over 10 steps: a clearly larger satisfied share


def test_delight_in_the_market_builds_more_trust_than_mere_satisfaction():
    """Two markets, same seed: in one the service exceeds the desired level (delight), in the other
    it just meets expectations. Trust grows faster with delight."""
    base = dict(n_customers=300, seed=6, expectation_init=0.6, expectation_spread=0.0, price_sensitivity=0.0,
                expectation_adapt=0.0, promise_weight=0.0, initial_share_active=1.0)
    meet = model(merchants=[steady(quality=0.6, promise=0.6)], **base)
    delight = model(merchants=[steady(quality=0.85, promise=0.6)], **base)
    for _ in range(10):
        meet.step()
        delight.step()
    assert delight.metrics["delighted"] > 0 and meet.metrics["delighted"] == 0
    assert delight.metrics["trust"] > meet.metrics["trust"] + 0.05
    assert delight.metrics["satisfaction"] > meet.metrics["satisfaction"]

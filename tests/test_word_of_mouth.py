"""Word of mouth: the small-world network, message delivery, and its effects
(sim.network.small_world, deliver; sim.mechanism.spread_word_of_mouth; LoyaltyModel)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_kit import model, population, rng, steady
from sim import Params, simulate
from sim import mechanism as mc
from sim.mechanism import EV, StepStats
from sim.network import deliver, small_world


def _edges(net):
    indptr, indices = net.csr()
    src = np.repeat(np.arange(net.n), np.diff(indptr))
    return src, indices


@pytest.mark.parametrize("n,degree,rewire", [(50, 2, 0.0), (200, 8, 0.1), (500, 10, 0.5), (101, 4, 1.0)])
def test_network_is_a_valid_symmetric_csr_graph_with_the_requested_mean_degree(n, degree, rewire):
    net = small_world(n, degree, rewire, rng(1))
    indptr, indices = net.csr()
    assert len(indptr) == n + 1 and indptr[0] == 0 and indptr[-1] == len(indices)
    assert np.all(np.diff(indptr) >= 0)
    assert np.all((indices >= 0) & (indices < n))
    assert net.n_ties == n * degree // 2
    assert np.asarray(net.degree).mean() == pytest.approx(degree)
    src, dst = _edges(net)
    assert not np.any(src == dst)  # no self-loops
    a = np.sort(src * n + dst)
    b = np.sort(dst * n + src)
    assert np.array_equal(a, b)  # every tie stored in both directions
    for i in (0, n // 2, n - 1):
        assert np.array_equal(np.sort(net.neighbours(i)), np.sort(dst[src == i]))


def test_without_rewiring_the_network_is_a_ring_lattice():
    n, k = 30, 6
    net = small_world(n, k, 0.0, rng(0))
    assert np.all(np.asarray(net.degree) == k)
    for i in range(n):
        expected = sorted((i + d) % n for d in range(-k // 2, k // 2 + 1) if d)
        assert sorted(net.neighbours(i).tolist()) == expected


def test_rewiring_creates_long_ties():
    n, k = 400, 4
    ring = small_world(n, k, 0.0, rng(0))
    sw = small_world(n, k, 0.3, rng(0))

    def far(net):
        src, dst = _edges(net)
        d = np.abs(src - dst)
        return np.mean(np.minimum(d, n - d) > k)

    assert far(ring) == 0 and far(sw) > 0.1


def test_degree_zero_gives_no_ties():
    net = small_world(100, 0, 0.1, rng(0))
    assert net.n_ties == 0 and len(net.csr()[1]) == 0 and np.all(np.asarray(net.degree) == 0)
    pos, listeners = deliver(net, np.arange(10), 1.0, rng(0))
    assert len(pos) == len(listeners) == 0


def test_the_model_builds_the_network_from_the_parameters():
    mm = model(300, seed=0, network_degree=12, network_rewire=0.2)
    assert mm.network.n == 300
    assert np.asarray(mm.network.degree).mean() == pytest.approx(12)


def test_deliver_reaches_every_contact_with_certainty_and_none_without():
    net = small_world(100, 6, 0.2, rng(2))
    speakers = np.array([3, 40, 77])
    pos, listeners = deliver(net, speakers, 1.0, rng(0))
    for j, s in enumerate(speakers):
        assert sorted(listeners[pos == j].tolist()) == sorted(net.neighbours(s).tolist())
    pos0, l0 = deliver(net, speakers, 0.0, rng(0))
    assert len(pos0) == len(l0) == 0


def test_deliver_uses_per_speaker_probabilities():
    net = small_world(2000, 10, 0.1, rng(3))
    speakers = np.arange(0, 2000, 2)
    prob = np.where(np.arange(len(speakers)) % 2 == 0, 0.1, 0.5).astype(np.float32)
    pos, _ = deliver(net, speakers, prob, rng(4))
    told_low = np.sum(pos % 2 == 0) / (500 * 10)
    told_high = np.sum(pos % 2 == 1) / (500 * 10)
    assert told_low == pytest.approx(0.1, abs=0.02)
    assert told_high == pytest.approx(0.5, abs=0.03)


def test_messages_move_the_listeners_view_of_the_merchant_they_are_about():
    P = Params(wom_impact=0.1, wom_memory=0.5)
    net = small_world(50, 4, 0.0, rng(0))
    pop = population(50, m=2)
    stats = StepStats()
    e = np.zeros(0, dtype=np.int64)
    one = np.ones(1, np.float32)
    # customer 10 warns about merchant 1, customer 30 recommends merchant 0
    mc.spread_word_of_mouth(pop, net, np.array([30]), np.array([0]), one, np.array([10]), np.array([1]), one,
                            P, rng(0), stats)
    for j in net.neighbours(10):
        assert pop.heard[j, 1] == pytest.approx(-0.1) and (pop.flags[j] & EV.HEARD_BAD)
    for j in net.neighbours(30):
        assert pop.heard[j, 0] == pytest.approx(0.1) and (pop.flags[j] & EV.HEARD_GOOD)
    assert stats.wom_negative == stats.wom_positive == 4
    assert stats.wom_negative_speakers == stats.wom_positive_speakers == 1
    # what was heard fades
    mc.spread_word_of_mouth(pop, net, e, e, e.astype(np.float32), e, e, e.astype(np.float32), P, rng(0), stats)
    j = int(net.neighbours(10)[0])
    assert pop.heard[j, 1] == pytest.approx(-0.05)


def test_departed_customers_hear_nothing():
    P = Params()
    net = small_world(20, 4, 0.0, rng(0))
    pop = population(20)
    pop.stage[net.neighbours(5)] = mc.CHURNED
    stats = StepStats()
    e = np.zeros(0, dtype=np.int64)
    mc.spread_word_of_mouth(pop, net, e, e, e.astype(np.float32), np.array([5]), np.array([0]),
                            np.ones(1, np.float32), P, rng(0), stats)
    assert stats.wom_negative == 0 and np.all(pop.heard == 0)


def test_negative_word_of_mouth_reaches_more_listeners_per_speaker_than_positive():
    r = simulate(Params(n_customers=1500), seed=3, steps=40)
    m = r.metrics.iloc[1:]
    both = m[(m["wom_per_positive_speaker"] > 0) & (m["wom_per_negative_speaker"] > 0)]
    assert len(both) > 30
    neg, pos = both["wom_per_negative_speaker"].mean(), both["wom_per_positive_speaker"].mean()
    print(f"listeners per speaker: negative {neg:.2f}, positive {pos:.2f}, ratio {neg / pos:.2f}")
    assert neg > pos
    p = r.params
    assert p.wom_negative > p.wom_positive  # the default probabilities are what makes it so


def test_equal_probabilities_remove_the_per_speaker_gap():
    r = simulate(Params(n_customers=1500, wom_positive=0.2, wom_negative=0.2, wom_loyal=0.2,
                        wom_botched_boost=1.0), seed=3, steps=30)
    m = r.metrics.iloc[1:]
    neg, pos = m["wom_per_negative_speaker"].mean(), m["wom_per_positive_speaker"].mean()
    assert abs(neg - pos) < 0.15 * max(neg, pos)


def test_network_degree_zero_switches_word_of_mouth_off():
    r = simulate(Params(n_customers=400, network_degree=0), seed=1, steps=25, keep_model=True)
    m = r.metrics
    assert (m["wom_positive"] == 0).all() and (m["wom_negative"] == 0).all()
    assert (m["wom_per_positive_speaker"] == 0).all() and (m["wom_per_negative_speaker"] == 0).all()
    pop = r.model.pop
    assert not np.any((pop.flags & (EV.HEARD_GOOD | EV.HEARD_BAD)) > 0)
    with_wom = simulate(Params(n_customers=400), seed=1, steps=25)
    assert with_wom.metrics["wom_positive"].sum() > 0 and with_wom.metrics["wom_negative"].sum() > 0


def test_bad_word_of_mouth_about_a_merchant_costs_it_customers():
    """Two equal merchants; one fails often. With word of mouth on, newcomers and switchers learn
    of it and it loses more share than when nobody talks."""
    def share_of_bad(degree):
        mm = model(600, merchants=[steady("Good", quality=0.7, promise=0.7),
                                   steady("Bad", quality=0.7, promise=0.7, failure_prob=0.4, failure_severity=0.5)],
                   seed=5, network_degree=degree, wom_negative=0.5, wom_impact=0.2, natural_churn=0.02,
                   arrival_rate=0.5)
        for _ in range(30):
            mm.step()
        return mm.merchant("Bad").market_share

    assert share_of_bad(10) < share_of_bad(0)


# ---- who recommends: the delighted, and satisfied customers by their trust --------------------------
def _recommenders_per_satisfied_purchase(trust, wom_loyal, seed=21):
    """Speakers of recommendations per (satisfied, not delighted) own purchase, trust frozen."""
    mm = model(3000, merchants=[steady(quality=0.65, promise=0.65)], seed=seed, expectation_init=0.65,
               trust_init=trust, trust_gain=0.0, trust_loss=0.0, wom_loyal=wom_loyal, loyalty_threshold=1.0,
               expectation_spread=0.0)
    speakers = purchases = 0
    for _ in range(6):
        mm.step()
        f = mm.pop.flags
        own = (f & EV.TRIED_OTHER) == 0
        delighted = int((((f & EV.DELIGHTED) != 0) & own).sum())  # they all recommend
        purchases += int((((f & EV.SATISFIED) != 0) & ((f & EV.DELIGHTED) == 0) & own).sum())
        speakers += mm.stats.wom_positive_speakers - delighted
    return speakers / purchases


def test_satisfied_customers_recommend_with_chance_wom_loyal_times_trust():
    for trust in (0.2, 0.8):
        rate = _recommenders_per_satisfied_purchase(trust, 0.5)
        assert rate == pytest.approx(0.5 * trust, rel=0.08), (trust, rate)
    assert _recommenders_per_satisfied_purchase(0.8, 0.0) == 0


def test_every_recommender_tells_each_contact_with_wom_positive():
    r = simulate(Params(n_customers=3000, network_degree=8, wom_positive=0.25, initial_share_active=1.0,
                        natural_churn=0.0), seed=4, steps=20)
    m = r.metrics.iloc[1:]
    per = m["wom_positive"].sum() / (m["wom_positive"] / m["wom_per_positive_speaker"]).sum()
    assert per == pytest.approx(8 * 0.25, rel=0.06)


def test_in_the_default_market_recommendations_outnumber_warnings_but_warnings_reach_more_per_speaker():
    """East, Hammond & Wright (2007): more positive word of mouth in total, because more customers
    are satisfied; TARP: each dissatisfied customer tells more people."""
    r = simulate(Params(n_customers=2000), seed=5, steps=60)
    m = r.metrics.iloc[20:]
    assert m["wom_positive"].sum() > 1.5 * m["wom_negative"].sum()
    per_pos = m["wom_positive"].sum() / (m["wom_positive"] / m["wom_per_positive_speaker"]).sum()
    per_neg = m["wom_negative"].sum() / (m["wom_negative"] / m["wom_per_negative_speaker"]).sum()
    assert 1.3 < per_neg / per_pos < 3.5

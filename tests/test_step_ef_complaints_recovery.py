"""Steps E/F — the dissatisfied complain (or stay silent); the merchant's recovery is evaluated
again: Cycle B (乙循环) (sim.mechanism.complain, recover, reevaluate_recoveries; LoyaltyModel)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_kit import model, population, rng, steady, table
from sim import mechanism as mc
from sim.mechanism import EV

F32 = np.float32
N = 20_000


def complaint_rate(severity, ease=0.0, pop=None, seed=1, **market):
    T, P = table(steady(complaint_ease=ease), **market)
    pop = pop if pop is not None else population(N)
    idx = np.arange(pop.n)
    voiced = mc.complain(pop, idx, np.full(pop.n, severity, F32), np.zeros(pop.n, np.intp), T, P, rng(seed))
    return float(np.mean(voiced))


def test_complaint_probability_rises_with_severity():
    rates = [complaint_rate(s, complaint_minor=0.04, complaint_major=0.69) for s in (0, 0.25, 0.5, 0.75, 1.0)]
    assert np.all(np.diff(rates) > 0), rates
    assert rates[0] == pytest.approx(0.04, abs=0.006)
    assert rates[-1] == pytest.approx(0.69, abs=0.015)


def test_complaining_is_steep_rather_than_linear_in_severity():
    # at half severity, far fewer than half-way between the minor and the major rate complain
    mid = complaint_rate(0.5, complaint_minor=0.04, complaint_major=0.69, complaint_curvature=2.0)
    assert mid < 0.04 + 0.5 * (0.69 - 0.04) - 0.05
    flatter = complaint_rate(0.5, complaint_minor=0.04, complaint_major=0.69, complaint_curvature=1.0)
    assert flatter > mid + 0.05


def _newcomers(n=N, seed=0, **market):
    """A population whose complaint propensities are drawn as the model draws them for newcomers."""
    mm = model(n, seed=seed, initial_share_active=1.0, **market)
    return mm.pop, mm.params


def test_about_one_in_25_with_a_minor_problem_complains_by_default():
    pop, P = _newcomers()
    assert P.complaint_minor == pytest.approx(1 / 25, abs=0.005)
    rate = complaint_rate(0.0, pop=pop)
    assert 0.03 <= rate <= 0.05, rate


def test_most_customers_with_a_major_problem_complain_by_default():
    pop, _ = _newcomers()
    rate = complaint_rate(1.0, pop=pop)
    assert 0.5 <= rate <= 0.8, rate


def test_an_easier_complaint_channel_raises_complaints():
    rates = [complaint_rate(0.2, ease=e) for e in (0.0, 0.5, 1.0)]
    assert np.all(np.diff(rates) > 0.05), rates


def test_complaints_are_counted_on_the_customer():
    T, P = table(steady())
    pop = population(100, complaint_prop=1.0)
    idx = np.arange(100)
    P1 = P.replace(complaint_minor=1.0, complaint_major=1.0)
    voiced = mc.complain(pop, idx, np.zeros(100, F32), np.zeros(100, np.intp), T, P1, rng(0))
    assert voiced.all()
    assert np.all(pop.complaints == 1) and np.all((pop.flags & EV.COMPLAINED) > 0)


# ---- the model: recovery and Cycle B ----------------------------------------------------------
def failing_market(seed=3, n=300, **policy):
    """One merchant whose service fails often and badly, with an effortless complaint channel."""
    pol = dict(quality=0.65, promise=0.65, failure_prob=0.35, failure_severity=0.5, complaint_ease=1.0)
    pol.update(policy)
    return model(n, merchants=[steady(**pol)], seed=seed, expectation_init=0.65)


def test_instant_generous_recovery_returns_every_complainer_to_cycle_a_in_the_same_step():
    mm = failing_market(recovery_prob=1.0, recovery_delay=0, compensation=0.5)
    pop = mm.pop
    complained_total = 0
    for _ in range(12):
        before = dict(zip(pop.id.tolist(), pop.cycle_a.tolist()))
        mm.step()
        complained = (pop.flags & EV.COMPLAINED) > 0
        recovered = (pop.flags & EV.RECOVERED) > 0
        assert np.all(recovered[complained])
        assert not np.any((pop.flags & EV.BOTCHED) > 0)
        met = mm.metrics
        assert met["recoveries_ok"] == met["recoveries"] == met["cycle_b"] == met["complaints"]
        # back in Cycle A: the recovered encounter counts as a satisfied pass
        stayed = complained & ((pop.flags & (EV.SWITCHED | EV.LEFT)) == 0)
        for slot in np.flatnonzero(stayed):
            assert pop.cycle_a[slot] == before[int(pop.id[slot])] + 1
        complained_total += int(complained.sum())
    assert complained_total > 100


def test_without_recovery_every_complaint_is_botched():
    mm = failing_market(recovery_prob=0.0, recovery_delay=0)
    pop = mm.pop
    total = 0
    for _ in range(10):
        mm.step()
        complained = (pop.flags & EV.COMPLAINED) > 0
        assert np.all((pop.flags[complained] & EV.BOTCHED) > 0)
        assert not np.any((pop.flags & EV.RECOVERED) > 0)
        met = mm.metrics
        assert met["recoveries_ok"] == 0 and met["cycle_b"] == met["complaints"]
        total += met["complaints"]
    assert total > 100


def test_recovery_delay_postpones_the_reevaluation():
    delay = 3
    mm = failing_market(recovery_prob=1.0, recovery_delay=delay, compensation=0.5, seed=4)
    flags_by_step = []
    ids_by_step = []
    recoveries = []
    for _ in range(14):
        mm.step()
        flags_by_step.append(dict(zip(mm.pop.id.tolist(), mm.pop.flags.tolist())))
        ids_by_step.append(mm.pop.id.copy())
        recoveries.append(mm.metrics["recoveries"])
    assert recoveries[:delay] == [0] * delay and sum(recoveries[delay:]) > 50
    checked = 0
    for t in range(len(flags_by_step) - delay):
        for cid, f in flags_by_step[t].items():
            if not f & EV.COMPLAINED or f & (EV.LEFT | EV.SWITCHED):
                continue
            later = [flags_by_step[t + k].get(cid, 0) for k in range(1, delay + 1)]
            # complained again, or left or switched, before the recovery landed: not a clean case
            # (a customer waiting for an answer does not complain again; that every complaint is
            # answered is the next test's point)
            if any(x & EV.COMPLAINED for x in later) or any(x & (EV.LEFT | EV.SWITCHED) for x in later[:-1]) \
                    or cid not in flags_by_step[t + delay]:
                continue
            assert not f & (EV.RECOVERED | EV.BOTCHED)
            for x in later[:-1]:
                assert not x & (EV.RECOVERED | EV.BOTCHED)
            assert later[-1] & (EV.RECOVERED | EV.BOTCHED)
            checked += 1
    assert checked > 30


def test_every_complaint_is_eventually_answered_even_if_the_customer_complains_again():
    mm = model(300, merchants=[steady(quality=0.65, promise=0.65, failure_prob=0.35, failure_severity=0.5,
                                      complaint_ease=1.0, recovery_prob=1.0, recovery_delay=3, compensation=0.5)],
               seed=4, expectation_init=0.65, natural_churn=0.0, outside_option=-3.0)
    complaints, recoveries = [], []
    for _ in range(30):
        mm.step()
        assert mm.metrics["left"] == 0  # nobody leaves: every complaint stays answerable
        complaints.append(mm.metrics["complaints"])
        recoveries.append(mm.metrics["recoveries"])
    # complaints of the last `delay` steps may still be pending; all earlier ones have been answered
    assert sum(recoveries) == sum(complaints[:-3])


def test_a_slow_recovery_is_worth_less():
    """recovery_decay: the same resolution, made late, more often fails to put things right."""
    def ok_share(delay):
        mm = failing_market(recovery_prob=1.0, recovery_delay=delay, compensation=0.2, seed=5)
        mm.set_params(recovery_decay=0.05)
        ok = tot = 0
        for _ in range(20):
            mm.step()
            ok += mm.metrics["recoveries_ok"]
            tot += mm.metrics["recoveries"]
        return ok / tot

    fast, slow = ok_share(0), ok_share(8)
    assert fast > 0.95 and slow < fast - 0.3


def test_cycle_b_counts_each_reevaluated_recovery():
    mm = failing_market(recovery_prob=0.5, recovery_delay=0)
    pop = mm.pop
    total = 0
    for _ in range(10):
        before = dict(zip(pop.id.tolist(), pop.cycle_b.tolist()))
        mm.step()
        evaluated = (pop.flags & (EV.RECOVERED | EV.BOTCHED)) > 0
        assert mm.metrics["cycle_b"] == int(evaluated.sum())
        assert mm.metrics["recoveries_ok"] == int(((pop.flags & EV.RECOVERED) > 0).sum())
        for slot in np.flatnonzero(evaluated & ((pop.flags & (EV.SWITCHED | EV.LEFT)) == 0)):
            assert pop.cycle_b[slot] == before[int(pop.id[slot])] + 1
        total += mm.metrics["cycle_b"]
    assert total > 100


def test_recovered_customers_keep_more_trust_than_botched_ones():
    # grievances aside (grievance_weight 0): with them the botched leave, and the market's mean trust
    # would compare those who stayed rather than the same customers recovered or not
    pol = dict(quality=0.65, promise=0.65, failure_prob=0.35, failure_severity=0.5, complaint_ease=1.0,
               recovery_delay=0)
    good = model(300, merchants=[steady(**pol, recovery_prob=1.0, compensation=0.5)], seed=7, expectation_init=0.65,
                 grievance_weight=0.0)
    bad = model(300, merchants=[steady(**pol, recovery_prob=0.0)], seed=7, expectation_init=0.65,
                grievance_weight=0.0)
    for _ in range(15):
        good.step()
        bad.step()
    # (a refusal is no second failure and a remedy an ordinary pass for trust: the gap is modest)
    assert good.metrics["trust"] > bad.metrics["trust"] + 0.02
    assert good.metrics["satisfaction"] > bad.metrics["satisfaction"]


def test_botched_recoveries_drive_customers_away_and_make_them_talk():
    common = dict(quality=0.65, promise=0.65, failure_prob=0.35, failure_severity=0.5, complaint_ease=1.0)
    two = lambda rp: model(400, merchants=[steady("A", recovery_prob=rp, recovery_delay=0, **common),  # noqa: E731
                                           steady("B", quality=0.65, promise=0.65)],
                           seed=8, expectation_init=0.65)
    good, bad = two(1.0), two(0.0)
    lost_g = lost_b = neg_g = neg_b = 0
    for _ in range(15):
        good.step()
        bad.step()
        lost_g += good.metrics["merchant_churn_rate"]
        lost_b += bad.metrics["merchant_churn_rate"]
        neg_g += good.metrics["wom_negative"]
        neg_b += bad.metrics["wom_negative"]
        assert good.metrics["left_poor_recovery"] == 0
    assert lost_b > lost_g
    assert neg_b > neg_g


# ---- voice: being heard relieves (voice_relief) -------------------------------------------------
def _two_merchant_failing(seed, **market):
    common = dict(quality=0.65, promise=0.65, failure_prob=0.35, failure_severity=0.5, complaint_ease=1.0)
    return model(600, merchants=[steady("A", **{**common, **market.pop("policy", {})}),
                                 steady("B", quality=0.65, promise=0.65)],
                 seed=seed, expectation_init=0.65, loyalty_threshold=1.0, **market)


def test_a_refused_complaint_adds_no_second_failure():
    """A refusal leaves the failed encounter as it was: when it lands, neither cumulative
    satisfaction nor trust moves (for customers who did not also buy that step)."""
    mm = failing_market(recovery_prob=0.0, recovery_delay=2, seed=11)
    pop = mm.pop
    checked = 0
    for _ in range(14):
        S0, tr0, ids = pop.satisfaction.copy(), pop.trust.copy(), pop.id.copy()
        mm.step()
        landed = np.flatnonzero(((pop.flags & EV.BOTCHED) != 0) & ((pop.flags & EV.PURCHASE) == 0)
                                & ((pop.flags & (EV.SWITCHED | EV.LEFT)) == 0) & (pop.id == ids))
        np.testing.assert_array_equal(pop.satisfaction[landed], S0[landed])
        np.testing.assert_array_equal(pop.trust[landed], tr0[landed])
        checked += len(landed)
    assert checked > 20


def test_customers_whose_complaint_is_refused_compare_less_often_than_the_silent():
    """With voice_relief = 1 a refused complainer never compares because of it; silent dissatisfied
    customers compare (reconsider_dissatisfied = 1) and some switch."""
    mm = _two_merchant_failing(12, voice_relief=1.0, reconsider_dissatisfied=1.0, reconsider_prob=0.0,
                               natural_churn=0.0, policy=dict(recovery_prob=0.0, recovery_delay=0))
    pop = mm.pop
    refused_n = silent_lost = 0
    for _ in range(12):
        mm.step()
        f = pop.flags
        gone = (f & (EV.SWITCHED | EV.LEFT)) != 0
        refused = ((f & EV.COMPLAINED) != 0) & ((f & EV.BOTCHED) != 0)
        silent = ((f & EV.DISSATISFIED) != 0) & ((f & EV.COMPLAINED) == 0) & ((f & EV.TRIED_OTHER) == 0)
        assert not np.any(gone & refused)
        refused_n += int(refused.sum())
        silent_lost += int((gone & silent).sum())
    assert refused_n > 50 and silent_lost > 20


def test_a_customer_waiting_for_an_answer_does_not_compare_after_a_new_problem():
    """Voice pending: a new (unvoiced) problem while a complaint awaits its answer prompts no
    comparison (nobody looks around otherwise here)."""
    mm = _two_merchant_failing(13, reconsider_dissatisfied=1.0, reconsider_prob=0.0, natural_churn=0.0,
                               policy=dict(recovery_prob=1.0, recovery_delay=6))
    pop = mm.pop
    waiting = lost_silent = 0
    for _ in range(15):
        t = mm.steps + 1
        due = pop.recovery_due.copy()
        mm.step()
        f = pop.flags
        silent = ((f & EV.DISSATISFIED) != 0) & ((f & EV.COMPLAINED) == 0) & ((f & EV.TRIED_OTHER) == 0)
        pending = silent & (due > t)  # was waiting, and the answer does not land this step
        assert not np.any(pending & ((f & (EV.SWITCHED | EV.LEFT)) != 0))
        waiting += int(pending.sum())
        lost_silent += int((silent & ~pending & ((f & (EV.SWITCHED | EV.LEFT)) != 0)).sum())
    assert waiting > 20 and lost_silent > 20


# ---- who voices: the well matched speak up more (voice_fit) -----------------------------------
def _fitted(n=N, sd=0.05, seed=4):
    pop = population(n)
    pop.fit[:] = (sd * np.random.default_rng(seed).standard_normal(n)).astype(F32)
    return pop


def _voiced_by_fit(voice_fit, severity, ease=0.0, seed=1):
    T, P = table(steady(complaint_ease=ease), voice_fit=voice_fit, fit_spread=0.05)
    pop = _fitted()
    idx = np.arange(pop.n)
    voiced = mc.complain(pop, idx, np.full(pop.n, severity, F32), np.zeros(pop.n, np.intp), T, P, rng(seed))
    return voiced, pop.fit


@pytest.mark.parametrize("severity,ease", [(0.0, 0.0), (0.5, 0.0), (0.2, 1.0)])
def test_customers_whom_their_merchant_suits_well_complain_more(severity, ease):
    """E with voice_fit: among customers with the same problem, those whose merchant suits them well
    (fit above one standard deviation) voice it far more often than the badly matched (below minus
    one); with voice_fit 0 the two groups complain alike."""
    voiced, fit = _voiced_by_fit(30.0, severity, ease)
    good, bad = voiced[fit > 0.05].mean(), voiced[fit < -0.05].mean()
    assert good > 1.5 * bad and good > bad + 0.03, (good, bad)
    voiced0, fit0 = _voiced_by_fit(0.0, severity, ease)
    g0, b0 = voiced0[fit0 > 0.05], voiced0[fit0 < -0.05]
    q = voiced0.mean()
    se = np.sqrt(q * (1 - q) * (1 / len(g0) + 1 / len(b0)))
    assert abs(g0.mean() - b0.mean()) < 4 * se, (g0.mean(), b0.mean(), se)


def test_voice_of_the_well_matched_leaves_the_rate_of_minor_complaints_about_as_declared():
    """The shift is centred (sim.mechanism.complaints.voice_centre): the average odds stay, so a rare
    complaint (a minor problem, 1 in 25) keeps about its declared rate whoever voices it."""
    for k in (10.0, 20.0, 30.0):
        voiced, _ = _voiced_by_fit(k, 0.0)
        assert 0.03 <= voiced.mean() <= 0.045, (k, voiced.mean())


@given(p=st.floats(0.0, 1.0), fit=st.floats(-0.5, 0.5), k=st.floats(0.0, 60.0), other=st.floats(-0.5, 0.5))
@settings(max_examples=300, deadline=None)
def test_the_voice_shift_is_a_chance_that_rises_with_fit(p, fit, k, other):
    """voice_shift (the readable rule): a chance stays a chance; it rises with fit (never falls); a
    chance of 0 or 1 and voice_fit 0 leave it as it was."""
    from sim import Params
    P = Params(voice_fit=k)
    q = mc.voice_shift(p, fit, P)
    assert 0.0 <= q <= 1.0
    if k == 0 or p in (0.0, 1.0):
        assert q == p
    lo, hi = sorted((fit, other))
    assert mc.voice_shift(p, lo, P) <= mc.voice_shift(p, hi, P) + 1e-12


def test_the_compiled_voice_and_the_readable_rule_give_the_same_chance():
    """The compiled pass (float32) and voice_shift (float64) move the chance alike: the share voiced
    among 20,000 customers with a chance of 0.3 matches the readable rule's mean chance."""
    T, P = table(steady(), voice_fit=25.0, fit_spread=0.05, complaint_minor=0.3, complaint_major=0.3)
    pop = _fitted()
    idx = np.arange(pop.n)
    voiced = mc.complain(pop, idx, np.zeros(pop.n, F32), np.zeros(pop.n, np.intp), T, P, rng(2))
    expected = np.mean([mc.voice_shift(0.3, float(f), P) for f in pop.fit])
    assert voiced.mean() == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / pop.n))


# ---- a remedy felt against what the customer counted on (recovery_expected) --------------------
def _recovered_after_one_step(recovery_expected, cls=None):
    mm = failing_market(seed=7, n=2000, recovery_prob=1.0, recovery_delay=0, compensation=0.3, consistency=1.0,
                        failure_severity=0.3)
    mm.set_params(recovery_expected=recovery_expected, recovery_decay=0.0)
    mm.step()
    ok = (mm.pop.flags & EV.RECOVERED) > 0
    return mm, ok


def test_a_remedy_the_customer_counted_on_is_felt_as_expected():
    """F → B with recovery_expected: a remedy giving exactly the compensation the customer counted on
    (recovery_expected 1) is felt as exactly what it expected (transaction satisfaction 0.5), where
    the same remedy as a surprise (0) delights; whether it puts things right is judged as before —
    the same customers are recovered."""
    surprised, ok0 = _recovered_after_one_step(0.0)
    counted, ok1 = _recovered_after_one_step(1.0)
    assert ok0.sum() > 50
    np.testing.assert_array_equal(ok0, ok1)
    assert np.all(surprised.pop.txn_sat[ok0] > 0.6)
    np.testing.assert_allclose(counted.pop.txn_sat[ok1], 0.5, atol=1e-6)
    half, ok_half = _recovered_after_one_step(0.5)
    np.testing.assert_array_equal(ok0, ok_half)
    assert np.all((half.pop.txn_sat[ok0] > 0.5) & (half.pop.txn_sat[ok0] < surprised.pop.txn_sat[ok0]))


def test_the_readable_customer_feels_a_counted_on_remedy_as_expected():
    """The readable twin (reevaluate_recovery_one) follows the same rule: with recovery_expected 1 a
    remedy of exactly the merchant's compensation is felt as 0.5."""
    from sim.reference import ReferenceModel
    from engine_kit import params as market
    P = market(400, merchants=[steady(quality=0.65, promise=0.65, failure_prob=0.35, failure_severity=0.3,
                                      complaint_ease=1.0, recovery_prob=1.0, recovery_delay=0, compensation=0.3)],
               expectation_init=0.65, recovery_expected=1.0, recovery_decay=0.0)
    ref = ReferenceModel(P, seed=3)
    felt = []
    for _ in range(3):
        ref.step()
        felt += [c.txn_sat for c in ref.places if c is not None and c.stage > 0 and c.flags & EV.RECOVERED]
    assert len(felt) > 20
    np.testing.assert_allclose(felt, 0.5, atol=1e-6)

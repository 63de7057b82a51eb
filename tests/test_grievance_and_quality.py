"""Grievance, judged quality, intention on the choice's scale, betrayed loyal customers and EV.FAILED
(sim.mechanism.aggrieve, settle_grievance, judge_value, felt, stay_utility, intention,
compare_and_churn, encounter; their readable twins; LoyaltyModel).

The new parameters are being calibrated: every test passes the values it relies on explicitly."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine_kit import merchant, model, population, rng, steady, table
from sim import LoyaltyModel, Params
from sim.mechanism import EV
from sim.mechanism.common import price_term
from sim.mechanism.choice import stay_utility
from sim.mechanism.complaints import aggrieve, aggrieve_one
from sim.mechanism.encounter import encounter, encounter_one
from sim.mechanism.evaluation import category_value, felt, felt_one, judge_value, judge_value_one
from sim.mechanism.common import anticipated_value
from sim.mechanism.evaluation import evaluate
from sim.mechanism.loyalty import alternatives_value, intention
from sim.mechanism.recovery import settle_grievance, settle_grievance_one
from sim.mechanism.state import LOYAL, ORDINARY

F32 = np.float32

#: explicit values of the new parameters (their defaults are being calibrated)
NEW = dict(grievance_memory=0.7, grievance_curvature=0.5, grievance_weight=0.8, recovery_residue=0.1,
           heard_relief=0.25, value_weight=0.6, value_learning=0.2, intention_noise=0.15)


def with_new(P, **over):
    return P.replace(**{**NEW, **over})


def tbl(*merchants, **market):
    T, P = table(*merchants, **market)
    return T, with_new(P)


# ---- aggrieve: purchases fade a grievance, problems add to it ----------------------------------
def test_a_purchase_without_a_problem_fades_the_grievance_by_its_memory():
    _, P = tbl(steady())
    pop = population(6, grievance=np.linspace(0, 1, 6))
    before = pop.grievance.copy()
    idx = np.arange(6)
    aggrieve(pop, idx, np.zeros(6, F32), P)
    assert np.allclose(pop.grievance, before * 0.7, atol=1e-7)


def test_a_problem_adds_severity_to_the_power_curvature_to_what_is_left():
    _, P = tbl(steady())
    g0 = np.array([0.0, 0.3, 0.6, 0.9, 0.5], dtype=F32)
    sev = np.array([0.25, 0.5, 1.0, 0.04, 0.0], dtype=F32)
    pop = population(7, grievance=0.4)
    pop.grievance[:5] = g0
    idx = np.arange(5)  # the last two are not buyers: untouched
    aggrieve(pop, idx, sev, P)
    kept = g0 * 0.7
    expected = np.where(sev > 0, 1 - (1 - kept) * (1 - sev.astype(float) ** 0.5), kept)
    assert np.allclose(pop.grievance[:5], expected, atol=1e-6)
    assert pop.grievance[2] == pytest.approx(1.0)  # a major problem leaves a full grievance
    assert np.all(pop.grievance[5:] == F32(0.4))
    # concave: a small problem (0.04) leaves a clear grievance (0.2), far more than its severity
    assert pop.grievance[3] - kept[3] > 0.04


def test_the_grievance_curvature_makes_small_problems_rankle():
    _, P = tbl(steady())
    out = []
    for c in (0.3, 1.0):
        pop = population(1, grievance=0.0)
        aggrieve(pop, np.arange(1), np.array([0.1], F32), P.replace(grievance_curvature=c))
        out.append(float(pop.grievance[0]))
    assert out[0] == pytest.approx(0.1 ** 0.3, rel=1e-5) and out[1] == pytest.approx(0.1, rel=1e-5)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=st.floats(0, 1), severity=st.floats(0, 1), memory=st.floats(0, 0.99), curvature=st.floats(0.05, 1.0))
def test_grievance_stays_between_0_and_1_and_never_falls_on_a_problem(g, severity, memory, curvature):
    P = Params().replace(**{**NEW, "grievance_memory": memory, "grievance_curvature": curvature})
    pop = population(1, grievance=g)
    aggrieve(pop, np.arange(1), np.array([severity], F32), P)
    after = float(pop.grievance[0])
    assert 0.0 <= after <= 1.0
    assert after >= float(F32(g)) * float(F32(memory)) - 1e-6  # a problem never removes more than fading


def _failing_dissatisfying_model(seed=2, **policy):
    """Encounters vary (low consistency) and fail often: buyers satisfied or not, failed or not."""
    pol = dict(quality=0.6, promise=0.6, consistency=0.4, failure_prob=0.3, failure_severity=0.3,
               basic_quality=1.0, excitement=0.0, recovery_prob=0.0, recovery_delay=5)
    pol.update(policy)
    mm = model(3000, merchants=[merchant(**pol)], seed=seed, expectation_init=0.6, natural_churn=0.0,
               variety_seeking=0.0, **NEW)
    for _ in range(3):
        mm.step()
    return mm


def test_through_the_model_only_a_failure_that_dissatisfied_adds_a_grievance():
    mm = _failing_dissatisfying_model()
    pop, P = mm.pop, mm.params
    pop.grievance[:] = np.where(pop.stage > 0, F32(0.5), F32(0))
    pop.recovery_due[:] = -1  # no answer lands in this step (their settlement is tested apart)
    ids_before = pop.id.copy()
    mm.step()
    same = (pop.id == ids_before) & ((pop.flags & (EV.SWITCHED | EV.LEFT | EV.ARRIVED)) == 0) & (pop.stage > 0)
    own = same & ((pop.flags & EV.PURCHASE) > 0) & ((pop.flags & EV.TRIED_OTHER) == 0)
    failed = (pop.flags & EV.FAILED) > 0
    dissat = (pop.flags & EV.DISSATISFIED) > 0
    faded = F32(0.5) * F32(P.grievance_memory)
    groups = {
        "dissatisfied, no failure": own & dissat & ~failed,
        "failed but satisfied": own & ~dissat & failed,
        "satisfied": own & ~dissat & ~failed,
    }
    for name, mask in groups.items():
        assert mask.sum() > 20, name
        assert np.allclose(pop.grievance[mask], faded, atol=1e-6), name
    hurt = own & dissat & failed
    assert hurt.sum() > 20
    # exactly the formula, with severity = shortfall below the adequate level / severity_scale
    half = P.zone_of_tolerance / 2
    not_loyal = hurt & (pop.stage != LOYAL)
    short = np.maximum(-half - pop.disconfirmation[not_loyal].astype(float), 0)
    sev = np.minimum(short / P.severity_scale, 1)
    expected = 1 - (1 - float(faded)) * (1 - sev ** P.grievance_curvature)
    assert np.allclose(pop.grievance[not_loyal], expected, atol=2e-5)
    assert np.all(pop.grievance[hurt] > faded)
    # non-buyers keep their grievance
    idle = same & ((pop.flags & EV.PURCHASE) == 0)
    assert idle.sum() > 20 and np.all(pop.grievance[idle] == F32(0.5))


# ---- settle_grievance: the answer to a complaint ------------------------------------------------
def _settle(resolved, success, severity, delay, g=0.5, **over):
    _, P = tbl(steady())
    P = P.replace(**over)
    k = len(resolved)
    pop = population(k, grievance=g)
    settle_grievance(pop, np.arange(k), np.array(resolved), np.array(success), np.array(severity, F32),
                     np.array(delay, dtype=np.int32), P)
    return pop.grievance.astype(float)


def test_a_quick_successful_recovery_removes_the_whole_grievance():
    assert np.all(_settle([True, True], [True, True], [0.5, 0.5], [0, 0], g=[0.3, 1.0]) == 0)


def test_a_slow_successful_recovery_leaves_residue_per_step_of_delay_capped_at_all():
    g = _settle([True] * 4, [True] * 4, [0.5] * 4, [1, 3, 10, 25], g=0.5)
    assert np.allclose(g, [0.5 * 0.1, 0.5 * 0.3, 0.5, 0.5], atol=1e-6)
    assert np.all(np.diff(g) >= 0)


def test_a_refused_complaint_removes_only_the_heard_relief():
    g = _settle([False, False], [False, False], [0.8, 0.8], [0, 4], g=0.6)
    assert np.allclose(g, 0.6 * 0.75, atol=1e-6)


def test_a_remedy_that_still_falls_short_adds_a_new_problem():
    g = _settle([True, True], [False, False], [0.5, 1.0], [0, 2], g=0.4)
    assert np.allclose(g, [1 - 0.6 * (1 - 0.5 ** 0.5), 1.0], atol=1e-6)


# ---- vectorised rules and their readable twins agree -------------------------------------------
def _customers(pop, P, reputation, price_paid=None):
    price_paid = [1.0] * len(reputation) if price_paid is None else list(map(float, price_paid))
    model_ = SimpleNamespace(params=P, policies=SimpleNamespace(reputation=list(map(float, reputation)),
                                                                price_paid=price_paid))
    return [SimpleNamespace(model=model_, grievance=float(pop.grievance[i]), fit=float(pop.fit[i]),
                            recovery_due=int(pop.recovery_due[i]),
                            value_belief=float(pop.value_belief[i]), expected_price=float(pop.expected_price[i]),
                            price_sens=float(pop.price_sens[i])) for i in range(pop.n)]


def _random_pop(k, seed):
    r = rng(seed)
    return population(k, grievance=r.random(k).astype(F32), fit=(0.1 * r.standard_normal(k)).astype(F32),
                      value_belief=r.random(k).astype(F32), expected_price=(0.8 + 0.4 * r.random(k)).astype(F32),
                      price_sens=(0.2 + r.random(k)).astype(F32))


def test_aggrieve_and_its_readable_twin_agree():
    _, P = tbl(steady())
    pop = _random_pop(300, 1)
    sev = np.where(rng(2).random(300) < 0.5, rng(3).random(300), 0).astype(F32)
    cs = _customers(pop, P, [0.6])
    aggrieve(pop, np.arange(300), sev, P)
    for c, s in zip(cs, sev):
        aggrieve_one(c, float(s))
    assert np.allclose(pop.grievance, [c.grievance for c in cs], rtol=0, atol=2e-6)


def test_settle_grievance_and_its_readable_twin_agree():
    _, P = tbl(steady())
    k = 400
    pop = _random_pop(k, 4)
    r = rng(5)
    resolved = r.random(k) < 0.6
    success = resolved & (r.random(k) < 0.6)
    sev = (0.5 + 0.5 * r.random(k)).astype(F32)
    delay = r.integers(0, 15, k).astype(np.int32)
    cs = _customers(pop, P, [0.6])
    settle_grievance(pop, np.arange(k), resolved, success, sev, delay, P)
    for i, c in enumerate(cs):
        settle_grievance_one(c, bool(resolved[i]), bool(success[i]), float(sev[i]), int(delay[i]))
    assert np.allclose(pop.grievance, [c.grievance for c in cs], rtol=0, atol=2e-6)


def test_judge_value_and_felt_agree_with_their_readable_twins():
    T, P = tbl(steady("A"), steady("B"), steady("C"))
    T.reputation[:] = np.array([0.5, 0.7, 0.8], dtype=F32)
    T.price_paid[:] = np.array([0.9, 1.0, 1.3], dtype=F32)
    k = 300
    pop = _random_pop(k, 6)
    r = rng(7)
    quality = r.random(k).astype(F32)
    s = r.random(k).astype(F32)
    cs = _customers(pop, P, T.reputation, T.price_paid)
    judge_value(pop, np.arange(k), quality, P)
    for c, q in zip(cs, quality):
        judge_value_one(c, float(q))
    assert np.allclose(pop.value_belief, [c.value_belief for c in cs], rtol=0, atol=2e-6)
    f = felt(pop, np.arange(k), s, T, P)
    f_one = [felt_one(c, float(x)) for c, x in zip(cs, s)]
    assert np.allclose(f, f_one, rtol=0, atol=2e-6)
    assert ((f == 0) | (f == 1)).any() and ((f > 0) & (f < 1)).any()  # both the clip and the inside


# ---- grievance in the choice, and the intention -----------------------------------------------
def test_grievance_lowers_the_stay_utility_by_exactly_its_weight():
    T, P = tbl(steady("A"), steady("B"))
    g = np.linspace(0, 1, 11).astype(F32)
    idx = np.arange(11)
    for w in (0.8, 2.5):
        Pw = P.replace(grievance_weight=w)
        clean = stay_utility(population(11, m=2), idx, T, Pw)
        sore = stay_utility(population(11, m=2, grievance=g), idx, T, Pw)
        assert np.allclose(clean - sore, w * g, atol=1e-5)
    none = P.replace(grievance_weight=0.0)
    assert np.array_equal(stay_utility(population(11, m=2), idx, T, none),
                          stay_utility(population(11, m=2, grievance=g), idx, T, none))


def _intentions(T, P, **fields):
    k = len(next(iter(fields.values()))) if fields else 11
    pop = population(k, m=2, **fields)
    idx = np.arange(k)
    intention(pop, idx, np.zeros(k, np.intp), T, P, 0.6)
    return pop.intentional.astype(float)


def test_grievance_lowers_the_intention_to_buy_again():
    T, P = tbl(steady("A"), steady("B"))
    g = np.linspace(0, 1, 11).astype(F32)
    sat = np.full(11, 0.6, F32)
    sore = _intentions(T, P, grievance=g, satisfaction=sat)
    assert np.all(np.diff(sore) < 0)
    assert np.all((sore > 0) & (sore < 1))
    assert np.ptp(_intentions(T, P.replace(grievance_weight=0.0), grievance=g, satisfaction=sat)) < 1e-6


def test_intention_is_logistic_in_the_utility_gap_and_flatter_with_more_noise():
    T, P = tbl(steady("A"), steady("B"))
    sat = np.linspace(0.1, 0.9, 17).astype(F32)
    sharp = _intentions(T, P.replace(intention_noise=0.05), satisfaction=sat)
    flat = _intentions(T, P.replace(intention_noise=0.8), satisfaction=sat)
    assert np.all(np.diff(sharp) >= 0) and np.all(np.diff(flat) > 0)
    assert np.ptp(flat) < np.ptp(sharp)
    # a logit choice among all the options: logit(intention) · noise + the inclusive value of the
    # other options (the other merchant as a customer with the mean expectation judges it, and
    # leaving the category) is the utility of staying, whatever the noise
    val = anticipated_value(T, P, np.array([P.expected_price], F32), np.array([P.price_sensitivity], F32))
    s_hat, _, _ = evaluate(val, np.array([[0.6]], F32), P)
    other = P.satisfaction_weight * (float(s_hat[0][1]) - 0.5)
    pop = population(len(sat), m=2, satisfaction=sat)
    stay = stay_utility(pop, np.arange(len(sat)), T, P, merchant=np.zeros(len(sat), np.intp)).astype(float)
    for noise, got in ((0.05, sharp), (0.8, flat)):
        Pn = P.replace(intention_noise=noise)
        inside = (got > 1e-4) & (got < 1 - 1e-4)
        assert inside.sum() >= 3
        back = np.log(got / (1 - got)) * noise + alternatives_value([other], Pn)
        assert np.allclose(back[inside], stay[inside], atol=2e-3)


def test_the_more_alternatives_the_less_sure_the_intention():
    # the same customer, with one, then three equally good alternatives: less sure it would stay
    one = _intentions(*tbl(steady("A"), steady("B")), satisfaction=np.full(5, 0.6, F32))
    three = _intentions(*tbl(steady("A"), steady("B"), steady("C"), steady("D")), satisfaction=np.full(5, 0.6, F32))
    assert np.all(three < one)


def _recovery_landing_model(seed=5, due=True, **policy):
    pol = dict(quality=0.6, promise=0.6, recovery_prob=0.5, recovery_delay=0, compensation=0.3)
    pol.update(policy)
    mm = model(400, merchants=[steady(**pol), steady("B", quality=0.6, promise=0.6)], seed=seed,
               purchase_prob=0.01, loyal_extra_purchases=0.0, natural_churn=0.0, reconsider_prob=0.0, **NEW)
    mm.step()
    pop = mm.pop
    act = pop.stage > 0
    pop.stage[act] = ORDINARY
    pop.intentional[:] = F32(0.123)
    pop.grievance[act] = F32(0.6)
    if due:
        at = act & (pop.merchant == 0)
        pop.recovery_due[at] = mm.steps + 1  # lands in the next step
        pop.recovery_merchant[at] = 0
        pop.recovery_ok[at] = rng(seed).random(int(at.sum())) < 0.5
        pop.recovery_value[at] = F32(0.3)
    return mm


def test_the_intention_is_recomputed_when_a_complaints_answer_lands_without_a_purchase():
    mm = _recovery_landing_model()
    pop = mm.pop
    mm.step()
    answered = ((pop.flags & (EV.RECOVERED | EV.BOTCHED)) > 0) & ((pop.flags & (EV.PURCHASE | EV.SWITCHED)) == 0)
    assert not (answered & ((pop.flags & EV.ARRIVED) > 0)).any()
    assert answered.sum() > 100
    assert np.all(pop.intentional[answered] != F32(0.123))
    # the recovered think better of their merchant than the botched (less grievance, more satisfaction)
    rec = answered & ((pop.flags & EV.RECOVERED) > 0)
    bot = answered & ((pop.flags & EV.BOTCHED) > 0)
    assert rec.sum() > 20 and bot.sum() > 20
    assert pop.intentional[rec].mean() > pop.intentional[bot].mean()
    # customers of B (no answer pending) who did not buy keep their intention
    idle = (pop.merchant == 1) & ((pop.flags & (EV.PURCHASE | EV.SWITCHED | EV.ARRIVED)) == 0) & (pop.stage > 0)
    assert idle.sum() > 50 and np.all(pop.intentional[idle] == F32(0.123))


def test_without_an_answer_landing_a_non_buyers_intention_is_kept():
    mm = _recovery_landing_model(due=False)
    pop = mm.pop
    mm.step()
    idle = ((pop.flags & (EV.PURCHASE | EV.SWITCHED | EV.ARRIVED)) == 0) & (pop.stage > 0)
    assert idle.sum() > 200 and np.all(pop.intentional[idle] == F32(0.123))


# ---- judged quality ---------------------------------------------------------------------------
def test_judged_quality_moves_toward_the_quality_received():
    _, P = tbl(steady())
    pop = population(3, value_belief=0.5)
    judge_value(pop, np.array([0, 1]), np.array([0.9, 0.3], F32), P)
    assert np.allclose(pop.value_belief, [0.5 + 0.2 * 0.4, 0.5 - 0.2 * 0.2, 0.5], atol=1e-6)
    pop2 = population(1, value_belief=0.5)
    judge_value(pop2, np.array([0]), np.array([0.9], F32), P.replace(value_learning=0.0))
    assert pop2.value_belief[0] == F32(0.5)


def test_judged_value_starts_at_reputation_for_the_price_and_learns_in_the_model():
    mm = model(500, merchants=[steady("A", quality=0.85, promise=0.7), steady("B", quality=0.5, promise=0.6)],
               seed=3, natural_churn=0.0, **NEW)
    pop = mm.pop
    act = pop.stage > 0
    T = mm.table
    told = T.reputation[pop.merchant[act]] - price_term(T.price_paid[pop.merchant[act]], pop.expected_price[act],
                                                         pop.price_sens[act])
    assert np.allclose(pop.value_belief[act], told, atol=1e-6)
    for _ in range(4):
        mm.step()
    before, ids = pop.value_belief.copy(), pop.id.copy()
    mm.step()
    own = (pop.id == ids) & ((pop.flags & EV.PURCHASE) > 0) & ((pop.flags & (EV.TRIED_OTHER | EV.SWITCHED
                                                                             | EV.LEFT | EV.ARRIVED)) == 0)
    assert own.sum() > 100
    expected = before[own] + F32(0.2) * (pop.value[own] - before[own])  # toward the value just received
    assert np.allclose(pop.value_belief[own], expected, atol=1e-6)
    for _ in range(40):
        mm.step()
    long = (pop.stage > 0) & (pop.tenure > 30)
    for j, q in ((0, 0.85), (1, 0.5)):  # (equal prices: the judged values keep the quality gap)
        sel = long & (pop.merchant == j)
        assert sel.sum() > 20
        assert pop.value_belief[sel].mean() == pytest.approx(pop.value[sel].mean(), abs=0.03)
    gap = (pop.value_belief[long & (pop.merchant == 0)].mean() - pop.value_belief[long & (pop.merchant == 1)].mean())
    assert gap == pytest.approx(0.35, abs=0.05)


def test_felt_adds_the_judged_value_against_the_category():
    T, P = tbl(steady("A"), steady("B"))
    T.reputation[:] = np.array([0.5, 0.7], dtype=F32)  # category 0.6 at the expected price
    T.price_paid[:] = np.array([1.0, 1.0], dtype=F32)
    one = np.ones(1, F32)
    assert category_value(T, one, one)[0] == pytest.approx(0.6)
    # a category dearer than the customer expects gives less for the money
    assert category_value(T, F32(0.8) * one, one)[0] == pytest.approx(0.6 - 0.2 / 0.8)
    belief = np.array([0.4, 0.6, 0.8, 0.9], F32)
    s = np.full(4, 0.5, F32)
    fit = F32(0.05)
    out = {}
    for w in (0.0, 0.3, 0.6):
        pop = population(4, fit=fit, value_belief=belief, expected_price=np.ones(4, F32), price_sens=np.ones(4, F32))
        out[w] = felt(pop, np.arange(4), s.copy(), T, P.replace(value_weight=w)).astype(float)
        assert np.allclose(out[w], np.clip(0.5 + 0.05 + w * (belief - 0.6), 0, 1), atol=1e-6)
        assert np.array_equal(pop.value_belief, belief) and np.all(pop.fit == fit)  # inputs untouched
    assert np.allclose(out[0.0], 0.55, atol=1e-7)  # as before: s + fit
    assert np.all(np.diff(out[0.6]) > 0)
    above = belief > 0.6
    assert np.all(out[0.6][above] > out[0.3][above]) and np.all(out[0.6][~above & (belief < 0.6)]
                                                                < out[0.3][~above & (belief < 0.6)])


def test_without_value_weight_felt_is_the_transaction_satisfaction_plus_fit_clipped():
    T, P = tbl(steady("A"), steady("B"))
    r = rng(9)
    s = r.random(200).astype(F32)
    fit = (0.3 * r.standard_normal(200)).astype(F32)
    pop = population(200, fit=fit, value_belief=r.random(200).astype(F32))
    f = felt(pop, np.arange(200), s, T, P.replace(value_weight=0.0))
    assert np.array_equal(f, np.clip(s + fit, 0, 1))


# ---- market level: a better merchant keeps more satisfied, trusting, loyal customers -------------
def _own_customers(quality, value_weight, seed):
    base = Params()
    ms = list(base.merchants)
    ms[1] = ms[1].replace(quality=quality)
    mm = LoyaltyModel(Params(n_customers=3000, merchants=tuple(ms)).replace(**{**NEW, "value_weight":
                                                                                    value_weight}), seed=seed)
    S, tr, loyal = [], [], []
    for t in range(78):
        mm.step()
        if t >= 68:
            pop = mm.pop
            own = (pop.stage > 1) & (pop.merchant == 1)
            S.append(pop.satisfaction[own].mean())
            tr.append(pop.trust[own].mean())
            loyal.append((pop.stage[own] == LOYAL).mean())
    return np.array([np.mean(S), np.mean(tr), np.mean(loyal)])


@pytest.fixture(scope="module")
def quality_runs():
    return {(q, w): np.mean([_own_customers(q, w, seed) for seed in (1, 2)], axis=0)
            for q in (0.6, 0.85) for w in (0.6, 0.0)}


def test_a_better_merchant_keeps_more_satisfied_trusting_and_loyal_customers(quality_runs):
    lo, hi = quality_runs[(0.6, 0.6)], quality_runs[(0.85, 0.6)]
    assert hi[0] > lo[0] + 0.03, (lo, hi)  # satisfaction
    assert hi[1] > lo[1] + 0.02, (lo, hi)  # trust
    assert hi[2] > lo[2] + 0.02, (lo, hi)  # loyal share


def test_the_direct_quality_path_carries_most_of_the_satisfaction_effect(quality_runs):
    with_path = quality_runs[(0.85, 0.6)][0] - quality_runs[(0.6, 0.6)][0]
    without = quality_runs[(0.85, 0.0)][0] - quality_runs[(0.6, 0.0)][0]
    assert without < 0.5 * with_path, (with_path, without)


# ---- loyal customers betrayed by a botched complaint compare ------------------------------------
def _loyal_market(recovery_prob, seed=11):
    bad = steady("A", quality=0.5, promise=0.6, price=1.0, failure_prob=1.0, failure_severity=0.4,
                 complaint_ease=1.0, recovery_prob=recovery_prob, recovery_delay=0, compensation=0.6)
    good = steady("B", quality=0.95, promise=0.95, price=0.7)
    mm = model(2000, merchants=[bad, good], seed=seed, natural_churn=0.0, reconsider_prob=0.3,
               reconsider_dissatisfied=1.0, voice_relief=0.0, loyalty_exit=0.2, outside_option=-3.0,
               initial_share_active=1.0, **NEW)
    pop = mm.pop
    act = pop.stage > 0
    pop.merchant[act] = 0
    pop.stage[act] = LOYAL
    pop.trust[act] = F32(1.0)
    pop.cycle_a[act] = 10
    return mm


def _loyal_step(recovery_prob):
    mm = _loyal_market(recovery_prob)
    pop = mm.pop
    loyal_ids = set(pop.id[pop.stage == LOYAL].tolist())
    mm.step()
    mine = np.isin(pop.id, list(loyal_ids))
    gone = mine & ((pop.flags & (EV.SWITCHED | EV.LEFT)) > 0)
    return pop, mine, gone


def test_a_loyal_customer_whose_complaint_was_botched_may_compare_and_leave():
    pop, mine, gone = _loyal_step(recovery_prob=0.0)
    botched = mine & ((pop.flags & EV.BOTCHED) > 0)
    assert botched.sum() > 200
    assert gone.sum() > 50
    # only the betrayed (botched, or loyal no more) go
    assert np.all((pop.flags[gone] & (EV.BOTCHED | EV.BETRAYED)) > 0)
    assert gone.sum() > ((mine & ((pop.flags & EV.BETRAYED) > 0)).sum())


def test_a_loyal_customer_without_a_botched_recovery_never_switches():
    pop, mine, gone = _loyal_step(recovery_prob=1.0)
    assert not ((pop.flags[mine] & EV.BOTCHED) > 0).any()
    still_loyal = mine & ((pop.flags & EV.BETRAYED) == 0)
    assert still_loyal.sum() > 1000
    assert not gone[still_loyal].any()


# ---- EV.FAILED --------------------------------------------------------------------------------
def test_encounter_reports_exactly_the_failed_encounters():
    T, _ = table(steady(quality=0.7, failure_prob=0.3, failure_severity=0.2, basic_quality=0.9))
    pop = population(5000)
    q, failed = encounter(pop, np.arange(5000), np.zeros(5000, np.intp), T, rng(0))
    assert np.array_equal(failed, q < F32(0.7) - F32(1e-6))
    assert 0.3 < failed.mean() < 0.45  # 1 − 0.7 · 0.9 = 0.37


def test_encounter_one_returns_quality_and_failed():
    T, _ = table(steady(quality=0.7, failure_prob=0.5, failure_severity=0.2))
    policies = SimpleNamespace(**{k: v.tolist() for k, v in vars(T).items()})
    c = SimpleNamespace(model=SimpleNamespace(policies=policies, rng=rng(1)), excite_expect=0.0)
    out = [encounter_one(c, 0) for _ in range(400)]
    assert all(isinstance(x, tuple) and len(x) == 2 for x in out)
    assert all(failed == (q < 0.7 - 1e-6) for q, failed in out)
    assert 0.35 < np.mean([f for _, f in out]) < 0.65


@pytest.mark.parametrize("failure_prob, expect", [(1.0, True), (0.0, False)])
def test_ev_failed_is_set_on_own_buyers_exactly_when_the_encounter_failed(failure_prob, expect):
    mm = model(600, merchants=[steady("A", failure_prob=failure_prob), steady("B", failure_prob=failure_prob)],
               seed=4, variety_seeking=0.2, **NEW)
    seen = trials = 0
    for _ in range(6):
        mm.step()
        fl = mm.pop.flags
        own = ((fl & EV.PURCHASE) > 0) & ((fl & EV.TRIED_OTHER) == 0)
        trial = (fl & EV.TRIED_OTHER) > 0
        assert np.all(((fl[own] & EV.FAILED) > 0) == expect)
        assert not ((fl[trial] & EV.FAILED) > 0).any()  # only the own merchant's encounter counts
        assert not ((fl[(fl & EV.PURCHASE) == 0] & EV.FAILED) > 0).any()
        seen += int(own.sum())
        trials += int(trial.sum())
    assert seen > 300 and trials > 10
    assert mm.pop.flags.dtype == np.uint32

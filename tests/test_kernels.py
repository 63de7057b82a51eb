"""The compiled loops (sim/kernels.py) against the numpy passes they replaced (tests/kernel_oracles.py):
same results bit for bit, the same draws from the generator, the same state written — for single
loops on random inputs, and for whole phases inside running markets with every optional rule on."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kernel_oracles as oracle
from engine_kit import rich_market
from sim import LoyaltyModel
from sim import kernels
from sim.mechanism.state import EV, F32
from sim.metrics import _recommend_latent, population_sums
from sim.model import SCHEDULE
from sim.network import bernoulli_positions, deliver, network_bytes, small_world

SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same_state(a, b) -> None:
    assert a.bit_generator.state == b.bit_generator.state, "the draws differ"


@SLOW
@given(total=st.integers(0, 4000), p=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_geometric_skipping_gives_the_numpy_positions_and_draws(total, p, seed):
    r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
    got, want = bernoulli_positions(total, p, r1), oracle.bernoulli_positions(total, p, r2)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    _same_state(r1, r2)


def test_geometric_skipping_covers_a_long_run_in_several_chunks():
    """A tiny p over many trials needs more than one chunk of uniforms; the compiled version
    crosses chunks exactly as the numpy one did."""
    r1, r2 = np.random.default_rng(7), np.random.default_rng(7)
    got, want = bernoulli_positions(10**7, 3e-7, r1), oracle.bernoulli_positions(10**7, 3e-7, r2)
    np.testing.assert_array_equal(got, want)
    _same_state(r1, r2)
    assert (np.diff(got) > 0).all() and (got < 10**7).all()


@SLOW
@given(n=st.integers(2, 400), degree=st.sampled_from([2, 4, 8, 12, 18, 34]), rewire=st.floats(0, 1),
       seed=st.integers(0, 2**32 - 1))
def test_the_compact_network_has_the_contacts_of_the_tie_list_in_its_order(n, degree, rewire, seed):
    """The network kept as its ring and the rewired ties gives every place the contacts, in the
    order, of the list of every tie it replaced (built from the same draws), masks of 8, 16 and 32
    bits alike."""
    if degree >= n:
        degree = 2 * ((n - 1) // 2)
    r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
    net = small_world(n, degree, rewire, r1)
    want_ptr, want = oracle.small_world_csr(n, degree, rewire, r2)
    _same_state(r1, r2)
    got_ptr, got = net.csr()
    np.testing.assert_array_equal(got_ptr, want_ptr)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(net.degree, np.diff(want_ptr))
    assert net.nbytes() <= network_bytes(n, degree, rewire)


def test_a_million_places_keep_their_network_in_a_quarter_of_the_tie_list():
    net = small_world(1_000_000, 8, 0.1, np.random.default_rng(1))
    assert net.nbytes() / net.n < 10  # the tie list took 36 bytes a place
    assert net.nbytes() <= network_bytes(net.n, 8, 0.1)
    assert net.degree.mean() == pytest.approx(8)


@SLOW
@given(n=st.integers(2, 300), degree=st.sampled_from([2, 4, 8]), k=st.integers(0, 120),
       p=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_messages_reach_the_contacts_the_numpy_delivery_found(n, degree, k, p, seed):
    net = small_world(n, degree, 0.2, np.random.default_rng(seed))
    speakers = np.sort(np.random.default_rng(seed + 1).choice(n, size=min(k, n), replace=False))
    positions = np.arange(len(speakers))
    r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
    got = deliver(net, speakers, p, r1)
    indptr, indices = net.csr()
    want = oracle.deliver_at(indptr, indices, speakers, positions, p, r2)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    _same_state(r1, r2)


@SLOW
@given(n=st.integers(1, 200), m=st.integers(1, 5), k=st.integers(0, 400), sign=st.sampled_from([1.0, -1.0]),
       impact=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_arriving_messages_move_views_as_numpy_did(n, m, k, sign, impact, seed):
    rng = np.random.default_rng(seed)
    heard = rng.uniform(-1, 1, n * m).astype(F32)
    stage = rng.integers(0, 5, n).astype(np.int8)
    flags = rng.integers(0, 2**16, n).astype(np.uint32)
    listeners = rng.integers(0, n, k).astype(np.int64)
    about = rng.integers(0, m, max(1, k)).astype(np.intp)
    who = rng.integers(0, len(about), k).astype(np.int64)
    delta, bit = F32(sign * impact), np.uint32(EV.HEARD_GOOD)
    h2, f2 = heard.copy(), flags.copy()
    told = kernels.tell(heard, m, stage, flags, listeners, who, about, delta, bit, 0)
    want = oracle.tell(h2, m, stage, f2, listeners, who, about, delta, bit)
    assert told == want
    np.testing.assert_array_equal(heard, h2)
    np.testing.assert_array_equal(flags, f2)
    alive = stage[listeners] > 0
    touched = listeners[alive] * m + about[who[alive]]
    assert (np.abs(heard[touched]) <= 1).all()  # bounded wherever a message arrived
    assert told == int(alive.sum())


@SLOW
@given(k=st.integers(0, 300), cols=st.integers(1, 4), tol=st.booleans(), g=st.sampled_from([1.0, 0.7, 0.5, 0.35]),
       seed=st.integers(0, 2**32 - 1))
def test_the_zone_of_tolerance_scores_as_numpy_did(k, cols, tol, g, seed):
    from sim.mechanism.evaluation import evaluate

    P = rich_market(50).replace(diminishing_sensitivity=g)
    rng = np.random.default_rng(seed)
    v = rng.uniform(-0.5, 1.5, (k, cols)).astype(F32)
    e = rng.uniform(0, 1, (k, 1)).astype(F32)
    if cols == 1:
        v, e = v[:, 0], e[:, 0]
    tolerance = rng.uniform(0, 1, v.shape).astype(F32) if tol else None
    got = evaluate(v, e, P, tolerance, positions=True)
    want = oracle.evaluate(v, e, P, tolerance)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


# ---- whole phases in running markets -----------------------------------------------------------------
def _twins(P, seed, steps):
    a, b = LoyaltyModel(P, seed=seed), LoyaltyModel(P, seed=seed)
    for _ in range(steps):
        a.step()
        b.step()
    return a, b


def _until(model, name):
    ctx = model.step_context()
    for phase in SCHEDULE:
        if phase.name == name:
            return ctx
        phase.run(ctx)
    raise AssertionError(name)


def _same_population(a, b) -> None:
    for name, x in vars(a.pop).items():
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, getattr(b.pop, name), err_msg=name)


MARKETS = {
    "rich": {},
    "price rises half noticed, loyal tolerance, slow settling": dict(
        price_reconsider=0.5, price_notice=0.0, loyal_price_tolerance=0.3, loyal_failure_tolerance=0.6,
        satisfaction_settling=8.0, value_weight=1.2, value_learning=0.3),
    "no value term, linear gains, no settling": dict(
        value_weight=0.0, value_learning=0.0, diminishing_sensitivity=1.0, satisfaction_settling=0.0,
        price_reconsider=0.0),
}


@pytest.mark.parametrize("changes", list(MARKETS.values()), ids=list(MARKETS))
@pytest.mark.parametrize("seed", [3, 11])
def test_the_compiled_evaluate_phase_equals_the_numpy_passes(changes, seed):
    P = rich_market(400).replace(**changes)
    a, b = _twins(P, seed, 12)
    for step in range(6):  # several steps, prices moving, so that rises are noticed
        for model in (a, b):
            model.set_policy("A", price=1.2 + 0.05 * step)
        ca, cb = _until(a, "evaluate"), _until(b, "evaluate")
        SCHEDULE[[p.name for p in SCHEDULE].index("evaluate")].run(ca)
        oracle.evaluate_phase(cb)
        for name in ("ep", "sens", "price", "rise", "v", "E", "short", "del_pos", "dis_pos", "f", "S", "sat"):
            np.testing.assert_array_equal(getattr(ca, name), getattr(cb, name), err_msg=name)
        for name in ("price_prompted", "satisfied", "delighted", "dissatisfied", "acsi_sum", "acsi_n"):
            assert getattr(ca.stats, name) == getattr(cb.stats, name), name
        _same_population(a, b)
        _same_state(a.rng, b.rng)
        # finish the step the same way in both
        for phase in SCHEDULE[[p.name for p in SCHEDULE].index("evaluate") + 1:]:
            phase.run(ca)
            phase.run(cb)
        _same_population(a, b)


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_stages_follow_trust_as_the_numpy_passes_did(seed):
    P = rich_market(400).replace(loyalty_threshold=0.6, loyalty_exit=0.58, trust_gain=0.2, trust_loss=0.5)
    a, b = _twins(P, seed, 20)
    rest = [p for p in SCHEDULE][[p.name for p in SCHEDULE].index("loyalty") + 1:]
    seen = {"became_trusting": 0, "became_loyal": 0, "lost_loyalty": 0}
    for _ in range(20):
        ca, cb = _until(a, "loyalty"), _until(b, "loyalty")
        from sim.mechanism.loyalty import become_loyal

        new_a = become_loyal(ca.pop, ca.idx, ca.P, ca.stats, stage=ca.st, trust=ca.tr)
        new_b = oracle.become_loyal(cb.pop, cb.idx, cb.P, cb.stats, cb.st, cb.tr)
        np.testing.assert_array_equal(new_a, new_b)
        for name in seen:
            assert getattr(ca.stats, name) == getattr(cb.stats, name), name
            seen[name] += getattr(ca.stats, name)
        _same_population(a, b)
        for phase in rest:
            phase.run(ca)
            phase.run(cb)
    assert all(seen.values()), f"every transition should have happened at least once: {seen}"


def test_the_population_pass_counts_and_sums_as_masks_do():
    model = LoyaltyModel(rich_market(3000), seed=4)
    for _ in range(40):
        model.step()
    pop, m = model.pop, model.table.m
    s = population_sums(pop, m)
    stage, mer = pop.stage, pop.merchant.astype(int)
    lat = _recommend_latent(pop)
    for j in range(m):
        assert s.by_stage[j].tolist() == [int(((mer == j) & (stage == k)).sum()) for k in range(5)]
        active, bought = (mer == j) & (stage >= 1), (mer == j) & (stage >= 2)
        assert s.spend[j] == pytest.approx(pop.spend[active].sum(dtype=np.float64), rel=1e-12)
        assert s.satisfaction[j] == pytest.approx(pop.satisfaction[bought].sum(dtype=np.float64), rel=1e-12)
        assert s.trust[j] == pytest.approx(pop.trust[bought].sum(dtype=np.float64), rel=1e-12)
        assert s.promoters_m[j] == int((bought & (lat >= F32(0.85))).sum())
        assert s.detractors_m[j] == int((bought & (lat < F32(0.65))).sum())
    bought = stage >= 2
    assert s.expectation == pytest.approx(pop.expectation[stage >= 1].sum(dtype=np.float64), rel=1e-12)
    assert s.wallet == pytest.approx(pop.wallet[bought].sum(dtype=np.float64), rel=1e-12)
    assert s.affective == int((bought & (pop.affective >= F32(0.7))).sum())
    assert s.satisfied == int((bought & (pop.satisfaction >= F32(0.45))).sum())
    assert s.promoters > 0 and s.detractors > 0


@pytest.mark.parametrize("seed", [2, 9])
def test_who_buys_and_ageing_are_as_the_numpy_passes(seed):
    from sim.mechanism.need import need, visit

    P = rich_market(500).replace(loyal_extra_purchases=1.5, variety_seeking=0.2)
    tried = 0
    a, b = _twins(P, seed, 10)
    for _ in range(8):
        ca, cb = _until(a, "age"), _until(b, "age")
        SCHEDULE[[p.name for p in SCHEDULE].index("age")].run(ca)
        oracle.age(cb.pop)
        _same_population(a, b)
        buyers = need(a.pop, P, a.rng)
        np.testing.assert_array_equal(buyers, oracle.need(b.pop, P, b.rng))
        _same_state(a.rng, b.rng)
        for positions in (True, False):  # where they buy: the own merchant or, for once, another
            got = visit(a.pop, buyers, P, a.rng, positions=positions)
            want = oracle.visit(b.pop, buyers, P, b.rng, positions=positions)
            for x, y in zip(got, want):
                np.testing.assert_array_equal(x, y)
            _same_state(a.rng, b.rng)
            tried += len(got[1])
        a.step()
        b.step()
    assert tried > 20, tried


@SLOW
@given(total=st.integers(0, 4000), p=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_geometric_skipping_inside_compiled_code_draws_what_numpy_draws(total, p, seed):
    """The generator handed to compiled code (kernels.bernoulli_draw) gives the positions and
    leaves the generator where the numpy formulation does."""
    r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
    got = kernels.bernoulli_draw(total, p, r1)
    np.testing.assert_array_equal(got, oracle.bernoulli_positions(total, p, r2))
    assert got.dtype == np.int64
    _same_state(r1, r2)


NEED_MARKETS = {
    "variety seeking, trust buys more": dict(variety_seeking=0.2, loyal_extra_purchases=1.5),
    "nobody seeks variety": dict(variety_seeking=0.0),
    "the most variety allowed": dict(variety_seeking=0.5),
    "a tiny chance of variety": dict(variety_seeking=1e-4),
}


@pytest.mark.parametrize("one_merchant", [False, True], ids=["three merchants", "one merchant"])
@pytest.mark.parametrize("changes", list(NEED_MARKETS.values()), ids=list(NEED_MARKETS))
def test_the_need_phase_in_one_compiled_call_is_need_then_visit(changes, one_merchant):
    """Phase ``need`` runs as one compiled call drawing from the model's generator
    (kernels.need_visit): the same buyers, trials and merchants tried as the numpy passes, and the
    generator left in the same state, step after step."""
    P = rich_market(500).replace(**changes)
    if one_merchant:
        P = P.replace(merchants=P.merchants[:1])
    a, b = _twins(P, 5, 6)
    tried = 0
    for _ in range(6):
        ca, cb = _until(a, "need"), _until(b, "need")
        SCHEDULE[[p.name for p in SCHEDULE].index("need")].run(ca)
        buyers = oracle.need(b.pop, P, cb.rng)
        own, pos, at = oracle.visit(b.pop, buyers, P, cb.rng, positions=True)
        np.testing.assert_array_equal(ca.idx, buyers[own])
        np.testing.assert_array_equal(ca.trial, buyers[pos])
        np.testing.assert_array_equal(ca.trial_at, at)
        np.testing.assert_array_equal(ca.st, b.pop.stage[buyers][own])
        np.testing.assert_array_equal(ca.w, b.pop.merchant[buyers[own]])
        _same_state(a.rng, b.rng)
        tried += len(pos)
        a.step()
        b.step()
    seeking = changes["variety_seeking"] >= 0.2 and not one_merchant
    assert (tried > 20) if seeking else (tried <= 2), tried


@pytest.mark.parametrize("changes", list(MARKETS.values()) + [dict(grievance_weight=0.0, price_doubt=0.6)],
                         ids=list(MARKETS) + ["no grievance, strong doubt"])
def test_the_compiled_choice_utilities_are_the_numpy_ones(changes, monkeypatch):
    """Every comparison's utilities (staying, judged on value after a noticed price rise or not,
    each other merchant, leaving), compiled, equal bit for bit the numpy passes they replaced, in
    markets with programme points, loyal tolerance and price rises; and the market then runs as
    the numpy choice would have run it."""
    import sim.mechanism.choice as choice

    P = rich_market(600).replace(**changes)
    model = LoyaltyModel(P, seed=7)
    seen = {"rows": 0, "on_value": 0}
    compiled = choice.choice_utilities

    def both(candidates, cur, on_value, *args):
        got = compiled(candidates, cur, on_value, *args)
        want = oracle.choice_utilities(model.pop, candidates, model.table, P, on_value if len(on_value) else None)
        np.testing.assert_array_equal(got, want)
        seen["rows"] += len(candidates)
        seen["on_value"] += int(on_value.sum()) if len(on_value) else 0
        return got

    monkeypatch.setattr(choice, "choice_utilities", both)
    for step in range(30):
        model.set_policy("A", price=1.2 + 0.04 * (step % 5))
        model.step()
    assert seen["rows"] > 200 and (seen["on_value"] > 0 or P.price_reconsider == 0), seen


@SLOW
@given(a=st.lists(st.integers(0, 10**6)), b=st.lists(st.integers(0, 10**6)))
def test_merging_two_ascending_runs_is_sorting_them(a, b):
    a, b = np.sort(np.array(a, dtype=np.int64)), np.sort(np.array(b, dtype=np.int64))
    np.testing.assert_array_equal(kernels.merged(a, b), np.sort(np.concatenate([a, b])))


@SLOW
@given(sizes=st.lists(st.integers(0, 60), min_size=4, max_size=4), ordered=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_merging_the_groups_that_compare_is_the_numpy_merge(sizes, ordered, seed):
    """Groups of places, each in order (as the phases give them) or not, overlapping: the compiled
    merge gives the numpy passes' places, reasons and price-rise marks."""
    from sim.mechanism.state import LOYAL, ORDINARY, R_RECOVERY, TRUSTING

    rng = np.random.default_rng(seed)
    n = 80
    stage = rng.integers(0, 5, n).astype(np.int8)
    flags = rng.choice(np.array([0, EV.LEFT, EV.PURCHASE], dtype=np.uint32), n)
    groups = []
    for k in sizes:
        g = rng.choice(n, size=min(k, n), replace=False).astype(np.int64)
        groups.append(np.sort(g) if ordered else g)
    reasons = np.array([6, 4, 2, 3], dtype=np.int8)
    args = (*groups, reasons, stage, flags, np.uint32(EV.LEFT), ORDINARY, TRUSTING, LOYAL, R_RECOVERY)
    for x, y in zip(kernels.comparers(*args), oracle.comparers(*args)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("seed", [2, 8])
def test_who_compares_is_who_the_numpy_passes_found(seed, monkeypatch):
    """The four groups prompted to compare (looking around, a noticed price rise, a silent failure,
    a botched recovery), merged in one compiled pass: the same places, reasons and price-rise marks
    as the numpy passes, in a market where customers are in several groups at once; and the market
    then runs as it ran with the numpy passes."""
    import sim.mechanism.choice as choice

    P = rich_market(500).replace(reconsider_prob=0.3, reconsider_dissatisfied=0.9, price_reconsider=0.8,
                                 loyal_failure_tolerance=0.0, trust_gain=0.3, loyalty_threshold=0.55, loyalty_exit=0.3,
                                 loyalty_min_passes=2)
    a, b = LoyaltyModel(P, seed=seed), LoyaltyModel(P, seed=seed)
    compiled = choice.comparers
    seen = {"places": 0, "in_rise": 0, "loyal": 0, "groups": 0}

    def both(*args):
        got = compiled(*args)
        want = oracle.comparers(*args)
        for x, y in zip(got, want):
            np.testing.assert_array_equal(x, y)
        seen["places"] += len(got[0])
        seen["in_rise"] += int(got[2].sum())
        seen["loyal"] += int((args[5][got[0]] == 4).sum())
        lengths = [len(g) for g in args[:4]]
        seen["groups"] += sum(lengths) - len(np.unique(np.concatenate(args[:4])))
        return got

    for step in range(25):
        for model in (a, b):
            model.set_policy("A", price=1.2 + 0.05 * (step % 4))
        with monkeypatch.context() as mp:
            mp.setattr(choice, "comparers", both)
            a.step()
        with monkeypatch.context() as mp:
            mp.setattr(choice, "comparers", oracle.comparers)
            b.step()
        _same_population(a, b)
        _same_state(a.rng, b.rng)
    assert all(v > 0 for v in seen.values()), seen


@pytest.mark.parametrize("changes", [{}, dict(price_doubt=0.6, fit_spread=0.0, product_switch_cost=0.3)],
                         ids=["rich", "strong doubt, no fit, product ties"])
def test_a_relationship_starts_as_the_numpy_passes_started_it(changes, monkeypatch):
    """Newcomers' first merchants and switches, with the compiled start of a relationship and with
    the numpy passes it replaced: the same population, draws and acquisitions, step by step."""
    import sim.mechanism.arrival as arrival
    import sim.mechanism.choice as choice

    P = rich_market(500).replace(arrival_rate=0.3, natural_churn=0.01, reconsider_prob=0.1, **changes)
    a, b = LoyaltyModel(P, seed=4), LoyaltyModel(P, seed=4)
    started = {"switched": 0, "arrived": 0}
    for step in range(25):
        a.step()
        with monkeypatch.context() as mp:
            for mod in (arrival, choice):
                mp.setattr(mod, "start_relationship", oracle.start_relationship)
            b.step()
        _same_population(a, b)
        _same_state(a.rng, b.rng)
        assert a.metrics == b.metrics
        started["switched"] += a.metrics["switched"]
        started["arrived"] += a.metrics["arrived"]
    assert started["switched"] > 20 and started["arrived"] > 50, started


PURCHASE_PATH = {
    "rich": {},
    "no market pull, square-root grievances and complaint chance, no excitement": dict(
        market_price_pull=0.0, grievance_curvature=0.5, complaint_curvature=0.5, merchants=tuple(
            m.replace(excitement=0.0) for m in rich_market().merchants)),
    "the same failure chance and must-be quality everywhere": dict(merchants=tuple(
        m.replace(failure_prob=0.12, basic_quality=0.9) for m in rich_market().merchants)),
    "linear grievances weighing nothing, fast trust, slow forgetting": dict(
        grievance_curvature=1.0, grievance_memory=0.95, trust_gain=0.3, trust_loss=0.8, relational_growth=0.05,
        grievance_weight=0.0),
    "the well matched voice more, a remedy felt against the compensation expected": dict(
        voice_fit=30.0, recovery_expected=0.6, fit_spread=0.08),
}


@pytest.mark.parametrize("changes", list(PURCHASE_PATH.values()), ids=list(PURCHASE_PATH))
def test_the_purchase_path_compiled_is_the_numpy_passes(changes, monkeypatch):
    """The compiled passes of the purchase path (A's encounter, at the own merchant and in trials;
    what a trial does; paying and share of wallet; C/D; the grievance and the voice of E; G for
    buyers and for recoveries; switching costs; expectations; the intention to buy again) and the
    numpy passes they replaced, in two markets stepped side by side with programme points, several
    products, trials, instant and slow recoveries: the same population, draws and observables, step
    by step."""
    import sim.mechanism.complaints as complaints
    encounter = importlib.import_module("sim.mechanism.encounter")  # (the package names its function so too)
    import sim.mechanism.expectations as expectations
    import sim.mechanism.loyalty as loyalty
    import sim.mechanism.purchase as purchase
    import sim.mechanism.recovery as recovery
    import sim.mechanism.reinforcement as reinforcement
    import sim.mechanism.switching_costs as switching_costs
    import sim.mechanism.trust as trust

    P = rich_market(500).replace(**changes)
    a, b = LoyaltyModel(P, seed=6), LoyaltyModel(P, seed=6)
    oracles = [(purchase, "pay_pass", oracle.pay_pass), (reinforcement, "reinforce", oracle.reinforce),
               (recovery, "reinforce", oracle.reinforce), (trust, "accumulate_trust", oracle.accumulate_trust),
               (recovery, "accumulate_trust", oracle.accumulate_trust), (complaints, "aggrieve", oracle.aggrieve),
               (switching_costs, "grow_switching_costs", oracle.grow_switching_costs),
               (expectations, "adapt_expectations", oracle.adapt_expectations),
               (complaints, "complain", oracle.complain),
               (loyalty, "intention", oracle.intention), (recovery, "intention", oracle.intention),
               (encounter, "encounter", oracle.encounter), (purchase, "encounter", oracle.encounter)]
    seen = {"tried_other": 0, "recovered": 0, "failures": 0, "complaints": 0}
    import sim.model as sm

    numpy_schedule = tuple(type(p)(p.name, p.step, oracle.trial_phase) if p.name == "trial" else p for p in SCHEDULE)
    for step in range(30):
        a.set_policy("A", price=1.2 + 0.04 * (step % 4))
        b.set_policy("A", price=1.2 + 0.04 * (step % 4))
        a.step()
        with monkeypatch.context() as mp:
            for module, name, numpy_pass in oracles:
                mp.setattr(module, name, numpy_pass)
            mp.setattr(sm, "SCHEDULE", numpy_schedule)
            b.step()
        _same_population(a, b)
        _same_state(a.rng, b.rng)
        assert a.metrics == b.metrics
        seen["tried_other"] += int(((a.pop.flags & EV.TRIED_OTHER) > 0).sum())
        seen["recovered"] += a.metrics["recoveries_ok"]
        seen["failures"] += a.metrics["dissatisfied"]
        seen["complaints"] += a.metrics["complaints"]
    assert a.pop.multi_products and a.pop.any_points
    assert all(v > 10 for v in seen.values()), seen


# ---- the chunked twins on every core ---------------------------------------------------------------
def test_the_population_pass_over_chunks_counts_and_sums_as_one_pass():
    """Over 3.5 chunks of places the twin on every core gives the same counts, and float64 sums that
    are each chunk's sum added in chunk order (equal to one pass's to rounding)."""
    rng = np.random.default_rng(8)
    n, m = int(3.5 * kernels.CHUNK), 3
    stage = rng.integers(0, 5, n).astype(np.int8)
    merchant = rng.integers(-1, m, n).astype(np.int16)
    vals = [rng.random(n, dtype=F32) for _ in range(8)]
    nps = (0.1 * rng.standard_normal(n)).astype(F32)
    args = (merchant, stage, *vals, nps, m, F32(0.45), F32(0.8), F32(0.7),
            np.array([0.3, 0.3, 0.3, 0.0, 0.1], dtype=F32), F32(0.85), F32(0.65))
    one, chunked = kernels.population_pass(*args), kernels.population_pass_chunks(*args)
    for i in (0, 2, 3):
        np.testing.assert_array_equal(one[i], chunked[i])
    np.testing.assert_allclose(one[1], chunked[1], rtol=1e-12)
    parts = [kernels.population_pass(*(a[lo:lo + kernels.CHUNK] for a in args[:11]), *args[11:])[1]
             for lo in range(0, n, kernels.CHUNK)]
    total = parts[0].copy()
    for p in parts[1:]:
        total += p
    np.testing.assert_array_equal(chunked[1], total)


def test_who_buys_over_chunks_is_who_buys_in_one_pass():
    rng = np.random.default_rng(3)
    n = int(2.7 * kernels.CHUNK)
    args = (rng.random(n, dtype=F32), rng.random(n, dtype=F32), rng.integers(0, 5, n).astype(np.int8),
            F32(0.3), F32(0.2))
    np.testing.assert_array_equal(kernels.buyers_by_chance_chunks(*args), kernels.buyers_by_chance(*args))


def test_a_large_market_on_every_core_is_the_market_of_one_loop(monkeypatch):
    """A market above PARALLEL_FROM, stepped with the twins on every core (the population pass, who
    buys, the evaluate phase in chunks; paying, C/D, the grievance, G, switching costs, expectations
    and the intention with their loops shared) and with the sequential loops: the same state,
    observables and draws, step by step — so the number of cores never changes a result."""
    P = rich_market(int(2.2 * kernels.CHUNK)).replace(purchase_prob=0.9, initial_share_active=1.0)
    a, b = LoyaltyModel(P, seed=5), LoyaltyModel(P, seed=5)
    calls = []
    twins = {v: k for k, v in kernels._ON_CORES.items()}

    def count(kernel, n):
        chosen = kernels.sized(kernel, n)
        calls.append(chosen in twins)
        return chosen

    for _ in range(4):
        monkeypatch.setattr(kernels, "threads", lambda: 1)  # a: one thread, the sequential loops
        a.step()
        monkeypatch.setattr(kernels, "threads", lambda: 2)  # b: the chunked twins
        monkeypatch.setattr(kernels, "PARALLEL_FROM", kernels.CHUNK + 1)
        for mod in ("sim.metrics", "sim.mechanism.evaluation", "sim.mechanism.need", "sim.mechanism.purchase",
                    "sim.mechanism.reinforcement", "sim.mechanism.trust", "sim.mechanism.complaints",
                    "sim.mechanism.switching_costs", "sim.mechanism.expectations", "sim.mechanism.loyalty"):
            monkeypatch.setattr(importlib.import_module(mod), "sized", count)
        b.step()
        monkeypatch.undo()
        _same_population(a, b)
        _same_state(a.rng, b.rng)
        assert a.metrics == b.metrics
    # every step ran the twins: the population pass, who buys, evaluate, paying, C/D, the grievance, G,
    # switching costs, expectations, the intention (two passes), all over more than one chunk of buyers
    assert calls.count(True) >= 4 * 11, calls

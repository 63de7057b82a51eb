"""Choice, switching costs, churn and arrivals; looking customers up by id
(LoyaltyModel, simulate, sim.mechanism.choose_merchant / leave / arrive)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_kit import model, steady
from sim import LoyaltyModel, Params
from sim import mechanism as mc
from sim.mechanism import EV, REASONS


def _captive(seed=1, **kw):
    """One merchant that delivers far less than it promises, to customers whose expectations never
    adapt: everyone ends up dissatisfied."""
    return model(300, merchants=[steady(quality=0.4, promise=0.8, failure_prob=0.2, failure_severity=0.4)],
                 seed=seed, expectation_init=0.7, expectation_adapt=0.0, promise_weight=1.0, **kw)


def test_high_switching_costs_hold_dissatisfied_customers_hostage():
    held = _captive(procedural_cost=2.0, outside_option=-3.0)
    free = _captive(procedural_cost=0.0, outside_option=0.5)
    left_held = left_free = 0
    for _ in range(20):
        held.step()
        free.step()
        left_held += held.metrics["left"] - held.metrics["left_involuntary"]
        left_free += free.metrics["left"] - free.metrics["left_involuntary"]
    assert held.metrics["satisfaction"] < 0.3  # they are not satisfied …
    assert held.metrics["hostages"] > 0.5  # … but they stay: hostages
    assert left_held <= 5
    assert left_free > 100 and free.metrics["hostages"] < 0.1
    assert held.metrics["stay_monopoly"] > 0  # with one merchant there is no alternative


def test_switching_costs_grow_with_tenure_and_hold_customers():
    """Relational switching cost builds with tenure (up to its cap) and lowers switching."""
    def switched(relational_growth):
        mm = model(400, merchants=[steady("A", quality=0.6, promise=0.6), steady("B", quality=0.6, promise=0.6)],
                   seed=3, relational_growth=relational_growth, relational_max=2.0, procedural_cost=0.0,
                   reconsider_prob=0.3)
        total = 0
        for _ in range(25):
            mm.step()
            total += mm.metrics["switched"]
        return total, mm

    s_none, m0 = switched(0.0)
    s_grow, m1 = switched(0.1)
    assert s_grow < s_none / 2
    assert float(m1.pop.relational[m1.pop.stage >= mc.ORDINARY].max()) > 0.5
    assert float(m0.pop.relational.max()) == 0


def test_involuntary_churn_rate_matches_natural_churn():
    nc = 0.02
    mm = model(2000, merchants=[steady(quality=0.7, promise=0.7)], seed=2, natural_churn=nc, outside_option=-3.0,
               reconsider_prob=0.0, reconsider_dissatisfied=0.0, arrival_rate=0.5, network_degree=4)
    left = start = 0
    active = mm.metrics["active"]
    for _ in range(30):
        mm.step()
        met = mm.metrics
        assert met["left"] == met["left_involuntary"]
        left += met["left_involuntary"]
        start += active
        active = met["active"]
    rate = left / start
    assert rate == pytest.approx(nc, rel=0.12), rate


def test_no_natural_churn_means_no_involuntary_departures():
    mm = model(500, seed=2, natural_churn=0.0)
    for _ in range(15):
        mm.step()
        assert mm.metrics["left_involuntary"] == 0


def test_newcomers_arrive_into_empty_places():
    rate = 0.3
    mm = model(2000, merchants=[steady(quality=0.7, promise=0.7)], seed=4, initial_share_active=0.5,
               arrival_rate=rate, natural_churn=0.01, network_degree=4)
    first_ids = set(mm.customer_ids().tolist())
    empty_before, arrived = [], []
    for _ in range(10):
        empty_before.append(mm.metrics["empty"])
        mm.step()
        arrived.append(mm.metrics["arrived"])
        pop = mm.pop
        new = (pop.flags & EV.ARRIVED) > 0
        assert int(new.sum()) == mm.metrics["arrived"]
        assert np.all(pop.stage[new] == mc.PROSPECT) and np.all(pop.tenure[new] == 0)
        assert not (set(pop.id[new].tolist()) & first_ids)
    assert sum(arrived) / sum(empty_before) == pytest.approx(rate, rel=0.1)
    assert mm.metrics["active"] > 1600
    ids = mm.customer_ids()
    assert len(np.unique(ids)) == len(ids)  # every customer has its own id


def test_without_arrivals_the_market_only_shrinks():
    mm = model(400, seed=4, arrival_rate=0.0, natural_churn=0.02)
    active = [mm.metrics["active"]]
    for _ in range(15):
        mm.step()
        assert mm.metrics["arrived"] == 0
        active.append(mm.metrics["active"])
    assert np.all(np.diff(active) <= 0) and active[-1] < active[0]


def _churny(seed=6):
    """Two merchants, one bad with botched recoveries; switching is cheap and leaving attractive."""
    return model(600, merchants=[
        steady("Bad", quality=0.5, promise=0.75, failure_prob=0.3, failure_severity=0.5, recovery_prob=0.1,
               recovery_delay=0, complaint_ease=1.0, price=1.0),
        steady("Good", quality=0.75, promise=0.75, price=0.9),
    ], seed=seed, procedural_cost=0.0, outside_option=0.0, natural_churn=0.01, reconsider_prob=0.1,
        reconsider_dissatisfied=0.8)


def test_churn_reasons_are_recorded():
    mm = _churny()
    totals = dict.fromkeys(REASONS[1:], 0)
    for _ in range(20):
        mm.step()
        met = mm.metrics
        assert sum(met[f"left_{r}"] for r in ("involuntary", "service_failure", "poor_recovery", "other")) \
            == met["left"]
        for r in totals:
            totals[r] += met[f"left_{r}"]
    for r in ("involuntary", "service_failure", "poor_recovery", "other"):
        assert totals[r] > 0, (r, totals)
    # customers who moved to another merchant carry why they left the old one
    pop = mm.pop
    switched = (pop.switches > 0) & (pop.stage > mc.CHURNED)
    assert switched.sum() > 20
    reasons = {REASONS[int(r)] for r in pop.churn_reason[switched]}
    assert reasons <= {"price", "competitor"} and reasons


def test_customers_lost_to_a_competitor_are_counted_by_reason():
    mm = _churny()
    switched = price = competitor = 0
    for _ in range(20):
        mm.step()
        switched += mm.metrics["switched"]
        price += mm.metrics["left_price"]
        competitor += mm.metrics["left_competitor"]
    assert switched > 20
    assert price + competitor == switched


def test_customer_lookup_returns_state_and_history():
    mm = _churny()
    first = set(mm.customer_ids().tolist())
    for _ in range(8):
        mm.step()
    cid = next(int(c) for c in mm.customer_ids("ordinary") if int(c) in first)
    info = mm.customer(cid)
    assert info["id"] == cid
    st = info["state"]
    assert st["id"] == cid and st["stage"] == "ordinary" and st["merchant"] in ("Bad", "Good")
    for key in ("trust", "satisfaction", "expectation", "cycle_a", "cycle_b", "complaints", "churn_reason"):
        assert key in st
    assert 0 <= st["trust"] <= 1 and 0 <= st["satisfaction"] <= 1
    hist = info["history"]
    steps = [row["step"] for row in hist]
    assert steps == sorted(steps) and steps[0] == 0 and len(steps) == 9  # from the start to now
    assert all({"step", "stage", "merchant", "events", "trust", "satisfaction"} <= set(row) for row in hist)
    assert hist[-1]["trust"] == pytest.approx(st["trust"], abs=1e-6)
    assert mm.customer(10**9) is None


def test_a_sampled_history_finds_its_recorded_customers_and_only_them():
    """Above history_limit a sample of places is recorded: a recorded customer's story is there from
    the start, an unrecorded one is looked up without a history, and one who left a recorded place
    keeps its story (the places' columns are found from the sorted sample, not from a table over
    every place)."""
    mm = LoyaltyModel(Params(n_customers=600, history_limit=150, history_depth=30, natural_churn=0.03), seed=6)
    hist = mm.history
    assert len(hist.places) == 150 and not hist.complete
    cols = hist.columns(np.arange(600))
    assert (cols >= 0).sum() == 150 and np.array_equal(np.flatnonzero(cols >= 0), hist.places)
    assert np.array_equal(cols[hist.places], np.arange(150)) and np.array_equal(hist.recorded(), cols >= 0)
    left = {}
    for _ in range(12):
        mm.step()
        pop = mm.pop
        for slot in np.flatnonzero((pop.flags & EV.LEFT) > 0):
            left[int(pop.id[slot])] = cols[slot] >= 0
    pop = mm.pop
    alive = np.flatnonzero(pop.stage > 0)
    rec, unrec = alive[cols[alive] >= 0], alive[cols[alive] < 0]
    a, b = mm.customer(int(pop.id[rec[0]])), mm.customer(int(pop.id[unrec[0]]))
    assert a["recorded"] and len(a["history"]) >= 1 and a["history"][-1]["step"] == mm.steps
    assert not b["recorded"] and b["history"] == []
    gone = [cid for cid, was in left.items() if was]
    assert gone and all(mm.customer(cid)["history"] for cid in gone)


def test_lookup_of_a_customer_who_left_tells_why():
    mm = _churny()
    departed = {}
    for _ in range(15):
        mm.step()
        pop = mm.pop
        for slot in np.flatnonzero((pop.flags & EV.LEFT) > 0):
            departed[int(pop.id[slot])] = (mm.steps, REASONS[int(pop.churn_reason[slot])])
    assert len(departed) > 30
    seen = set()
    for cid, (step, reason) in departed.items():
        info = mm.customer(cid)
        assert info is not None, cid
        st = info["state"]
        assert st["stage"] == "churned"
        assert st["churn_reason"] == reason != "none"
        last = info["history"][-1]
        assert last["step"] == step and "left" in last["events"]
        if reason == "service_failure":
            assert "dissatisfied" in last["events"] and "complained" not in last["events"]
        if reason == "poor_recovery":
            assert "botched" in last["events"]
        seen.add(reason)
    assert {"service_failure", "poor_recovery"} <= seen
    # the place a departed customer left is taken by someone else, with a history of its own
    ids = set(mm.customer_ids().tolist())
    assert not (ids & set(departed))

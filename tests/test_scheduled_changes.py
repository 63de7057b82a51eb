"""Scheduled changes (scenario events) are applied at their step, validated, and reproducible."""

import pytest

from sim import Params, ParamError, ScheduledChange, simulate


def small():
    return Params(n_customers=400, network_degree=4)


def test_event_applies_at_its_step_and_changes_the_market():
    ev = ScheduledChange(6, "A", {"price": 3.0})
    r = simulate(small(), seed=3, steps=12, events=[ev])
    assert [(i.step, i.target, i.changes, i.source) for i in r.interventions] == [(6, "A", {"price": 3.0}, "scenario")]
    base = simulate(small(), seed=3, steps=12)
    # identical before the change, different after it
    assert r.merchants[r.merchants.step <= 6].equals(base.merchants[base.merchants.step <= 6])
    a = r.merchants[(r.merchants.merchant == "A") & (r.merchants.step == 12)]
    b = base.merchants[(base.merchants.merchant == "A") & (base.merchants.step == 12)]
    assert float(a["price"].iloc[0]) == 3.0 != float(b["price"].iloc[0])


def test_market_event_at_step_zero_is_the_same_as_starting_with_it():
    r = simulate(small(), seed=5, steps=8, events=[ScheduledChange(0, "market", {"procedural_cost": 1.5})])
    s = simulate(small().replace(procedural_cost=1.5), seed=5, steps=8)
    assert r.metrics.equals(s.metrics)


def test_bad_event_values_are_rejected_clearly():
    with pytest.raises(ParamError, match="allowed"):
        simulate(small(), seed=1, steps=3, events=[ScheduledChange(1, "market", {"trust_gain": 7.0})])
    with pytest.raises(KeyError, match="no merchant named 'Z'"):
        simulate(small(), seed=1, steps=3, events=[ScheduledChange(1, "Z", {"price": 1.0})])
    with pytest.raises(ValueError, match="event step"):
        simulate(small(), seed=1, steps=3, events=[ScheduledChange(-1, "A", {"price": 1.0})])

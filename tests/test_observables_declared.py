"""Observables are declared once (sim.metrics): a count of the step is reported from the step's
counts by its declaration alone, and a new count needs no field of its own in StepStats."""

from __future__ import annotations

from sim import LoyaltyModel
from sim.mechanism.state import StepStats
from sim.metrics import METRICS, is_flow


def test_a_count_of_its_own_is_added_and_read():
    s = StepStats()
    assert s.count("sightings") == 0
    s.add("sightings", 3)
    s.add("sightings")
    assert s.count("sightings") == 4
    s.add("purchases", 2)  # an existing field counts the same way
    assert s.purchases == 2 == s.count("purchases")


def test_every_count_observable_reports_its_count_of_the_step():
    model = LoyaltyModel(n_customers=300, trust_gain=0.2, seed=4)
    for _ in range(5):
        model.step()
    counts = [m for m in METRICS.values() if m.stat]
    assert len(counts) >= 10
    for m in counts:
        assert model.metrics[m.name] == model.stats.count(m.stat), m.name
        assert is_flow(m.name), f"{m.name} reports a count of the step, so it is a flow"
    assert model.metrics["purchases"] > 0

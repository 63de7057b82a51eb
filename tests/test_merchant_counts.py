"""Per-merchant counts of the step (complaints, Cycle A and Cycle B passes, successful recoveries,
customers lost by reason) and each merchant's Net Promoter Score: declared once in sim.metrics,
counted where the event happens (``StepStats.add_at``), the same in the engine and the readable
reference. The workshop's participant page reads them for its own merchant."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sim import LoyaltyModel
from sim.inputs.keys import params_from_keys
from sim.mechanism.state import REASONS, StepStats
from sim.merchants import Merchant
from sim.metrics import MERCHANT_METRICS
from sim.reference import ReferenceModel

#: merchant count → the market count it splits
SPLITS = {"complaints": "complaints", "recoveries": "recoveries", "recoveries_ok": "recoveries_ok",
          "cycle_a": "cycle_a", "dissatisfied": "dissatisfied",
          **{f"lost_{r}": f"left_{r}" for r in REASONS[1:]}}


def _frames(cls, seed: int, steps: int = 30):
    P = params_from_keys({"n_customers": 600, "trust_gain": 0.2, "A.failure_prob": 0.15, "C.failure_prob": 0.1})
    model = cls(P, seed=seed)
    for _ in range(steps):
        model.step()
    dc = model.datacollector
    return model, dc.get_model_vars_dataframe(), dc.get_agenttype_vars_dataframe(Merchant)


def test_per_merchant_counts_are_added_and_read():
    s = StepStats()
    assert s.count_at("complaints", 3).tolist() == [0, 0, 0]
    s.add_at("complaints", np.array([0, 2, 2]))
    s.add_at("complaints", 1)
    s.add_at("complaints", np.array([], dtype=np.intp))
    assert s.count_at("complaints", 3).tolist() == [1, 1, 2]
    assert s.count_at("complaints", 4).tolist() == [1, 1, 2, 0]


@given(st.lists(st.integers(0, 5), max_size=40), st.integers(1, 5))
@settings(max_examples=60, deadline=None)
def test_counts_at_merchants_sum_to_the_events_counted(events, chunks):
    s = StepStats()
    for part in np.array_split(np.array(events, dtype=np.intp), chunks):
        s.add_at("x", part)
    c = s.count_at("x", 6)
    assert c.sum() == len(events)
    assert all(c[j] == events.count(j) for j in range(6))


@pytest.mark.parametrize("cls", [LoyaltyModel, ReferenceModel], ids=["engine", "reference"])
def test_merchant_counts_split_the_market_counts_every_step(cls):
    """Each step, the merchants' counts add up to the market's (nothing lost or counted twice) and
    the merchants' promoters and detractors give the market's Net Promoter Score."""
    model, market, merchants = _frames(cls, seed=5)
    by_step = merchants.groupby(level="Step")
    sums = by_step.sum(numeric_only=True)
    for mine, theirs in SPLITS.items():
        assert np.array_equal(sums[mine].to_numpy()[1:], market[theirs].to_numpy()[1:]), mine
    assert sums["complaints"].sum() > 5 and sums["recoveries_ok"].sum() > 0 and sums["cycle_a"].sum() > 100
    lost_reasons = sums[[f"lost_{r}" for r in REASONS[1:]]].sum(axis=1)
    assert np.array_equal(lost_reasons.to_numpy()[1:], sums["lost"].to_numpy()[1:])
    # NPS: the merchants' scores weighted by their customers who bought give the market's
    pop = model.pop
    bought = np.bincount(pop.merchant[pop.stage >= 2], minlength=len(model.merchant_list))
    nps = [mm.nps for mm in model.merchant_list]
    assert float(np.dot(nps, bought) / bought.sum()) == pytest.approx(model.metrics["nps"], abs=1e-9)


def test_a_merchant_that_refuses_complaints_never_recovers_and_loses_to_poor_recovery():
    """Counts land at the merchant they belong to: B turns every complaint down, A answers every one."""
    model = LoyaltyModel(n_customers=1500, seed=9, complaint_major=0.9, complaint_minor=0.5,
                         merchants=[{"name": "A", "recovery_prob": 1.0, "recovery_delay": 0, "failure_prob": 0.25},
                                    {"name": "B", "recovery_prob": 0.0, "failure_prob": 0.25}])
    for _ in range(40):
        model.step()
    df = model.datacollector.get_agenttype_vars_dataframe(Merchant)
    total = df.groupby("merchant").sum(numeric_only=True)
    assert total.loc["B", "complaints"] > 20 and total.loc["A", "complaints"] > 20
    assert total.loc["B", "recoveries_ok"] == 0
    assert total.loc["A", "recoveries_ok"] > 0.8 * total.loc["A", "recoveries"] > 0
    assert total.loc["B", "lost_poor_recovery"] > total.loc["A", "lost_poor_recovery"]


def test_merchant_counts_are_declared_and_reproducible():
    for name in SPLITS:
        assert name in MERCHANT_METRICS and MERCHANT_METRICS[name].label("zh")
    assert "nps" in MERCHANT_METRICS
    _, _, a = _frames(LoyaltyModel, seed=11, steps=12)
    _, _, b = _frames(LoyaltyModel, seed=11, steps=12)
    assert a.equals(b)

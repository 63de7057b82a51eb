"""Step H — accumulated trust turns into loyalty (quantity into quality); betrayal undoes it; a
loyal customer is exclusive (sim.mechanism.become_loyal; LoyaltyModel)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_kit import model, population, steady
from sim import Params
from sim import mechanism as mc
from sim.mechanism import EV, StepStats

P = Params(trust_threshold=0.5, loyalty_threshold=0.8, loyalty_min_passes=8, loyalty_exit=0.55)


def judge(stage, trust, cycle_a, P=P):
    n = len(stage)
    pop = population(n)
    pop.stage[:] = stage
    pop.trust[:] = trust
    pop.cycle_a[:] = cycle_a
    stats = StepStats()
    mc.become_loyal(pop, np.arange(n), P, stats)
    return pop, stats


def test_first_purchase_makes_a_prospect_an_ordinary_customer():
    pop, _ = judge([mc.PROSPECT], [0.2], [1])
    assert pop.stage[0] == mc.ORDINARY


def test_trust_past_the_bottleneck_makes_a_customer_trusting():
    pop, stats = judge([mc.ORDINARY, mc.ORDINARY], [0.49, 0.5], [3, 3])
    assert pop.stage.tolist() == [mc.ORDINARY, mc.TRUSTING]
    assert stats.became_trusting == 1
    assert (pop.flags[1] & EV.TRUSTING) and not (pop.flags[0] & EV.TRUSTING)


def test_trust_past_the_loyalty_threshold_with_enough_passes_makes_a_customer_loyal():
    pop, stats = judge([mc.TRUSTING] * 4, [0.85, 0.85, 0.79, 0.95], [8, 7, 30, 20])
    # enough trust and passes → loyal; too few passes (quantity not yet quality) → still trusting;
    # not enough trust → still trusting
    assert pop.stage.tolist() == [mc.LOYAL, mc.TRUSTING, mc.TRUSTING, mc.LOYAL]
    assert stats.became_loyal == 2
    assert np.array_equal((pop.flags & EV.LOYAL) > 0, [True, False, False, True])


def test_an_ordinary_customer_with_enough_trust_and_passes_becomes_loyal_directly():
    pop, stats = judge([mc.ORDINARY], [0.9], [10])
    assert pop.stage[0] == mc.LOYAL and stats.became_loyal == 1


def test_loyalty_is_kept_between_the_exit_and_the_loyalty_threshold():
    pop, stats = judge([mc.LOYAL, mc.LOYAL], [0.6, 0.79], [20, 20])
    assert pop.stage.tolist() == [mc.LOYAL, mc.LOYAL]
    assert stats.lost_loyalty == 0 and stats.became_loyal == 0


def test_betrayal_undoes_loyalty():
    pop, stats = judge([mc.LOYAL, mc.LOYAL, mc.LOYAL], [0.54, 0.3, 0.6], [20, 20, 20])
    assert pop.stage.tolist() == [mc.TRUSTING, mc.ORDINARY, mc.LOYAL]
    assert stats.lost_loyalty == 2
    assert np.array_equal((pop.flags & EV.BETRAYED) > 0, [True, True, False])


def test_trust_below_the_bottleneck_sends_a_trusting_customer_back():
    pop, _ = judge([mc.TRUSTING], [0.4], [20])
    assert pop.stage[0] == mc.ORDINARY


# ---- in the running market ---------------------------------------------------------------------
FAST = dict(trust_gain=0.2, loyalty_min_passes=3, purchase_prob=0.9, reconsider_prob=0.0, variety_seeking=0.1,
            trust_weight=0.0, procedural_cost=0.0, relational_max=0.0, satisfaction_weight=3.0)


def twin_market(seed=2, **kw):
    """Two merchants of equal quality and price; loyalty forms quickly."""
    return model(400, merchants=[steady("A", quality=0.75, promise=0.65, price=1.0),
                                 steady("B", quality=0.75, promise=0.65, price=1.0)], seed=seed, **{**FAST, **kw})


def test_loyalty_forms_only_through_trust_and_passes_and_is_accounted_for():
    mm = twin_market(natural_churn=0.0)
    pop = mm.pop
    prev = mm.metrics["loyal"]
    for _ in range(20):
        mm.step()
        met = mm.metrics
        assert met["loyal"] - prev == met["became_loyal"] - met["lost_loyalty"]
        prev = met["loyal"]
        loyal = pop.stage == mc.LOYAL
        assert np.all(pop.cycle_a[loyal] >= mm.params.loyalty_min_passes)
        assert np.all(pop.trust[loyal] >= mm.params.loyalty_exit)
        trusting = pop.stage == mc.TRUSTING
        assert np.all(pop.trust[trusting] >= mm.params.trust_threshold)
    assert mm.metrics["loyal"] > 100


def test_without_enough_cycle_a_passes_trust_never_turns_into_loyalty():
    mm = twin_market(loyalty_min_passes=200)
    for _ in range(20):
        mm.step()
    assert mm.metrics["loyal"] == 0
    assert mm.metrics["trusting"] > 100  # trust is there: quantity has not turned into quality


def test_betrayal_in_the_market():
    mm = twin_market(natural_churn=0.0)
    for _ in range(20):
        mm.step()
    loyal_before = mm.metrics["loyal"]
    assert loyal_before > 100
    mm.set_policy("A", failure_prob=1.0, failure_severity=0.6)
    mm.set_policy("B", failure_prob=1.0, failure_severity=0.6)
    lost = 0
    for _ in range(4):
        mm.step()
        lost += mm.metrics["lost_loyalty"]
    assert lost > loyal_before / 2
    assert mm.metrics["loyal"] < loyal_before / 2


def test_a_loyal_customer_does_not_move_to_a_cheaper_competitor_of_equal_quality():
    mm = twin_market()
    for _ in range(14):
        mm.step()
    loyal_a = [int(c) for c in mm.customer_ids("loyal") if mm.customer(int(c))["state"]["merchant"] == "A"]
    others_a = [int(c) for c in np.concatenate([mm.customer_ids("ordinary"), mm.customer_ids("trusting")])
                if mm.customer(int(c))["state"]["merchant"] == "A"]
    assert len(loyal_a) >= 30 and len(others_a) >= 20
    # B undercuts A by a quarter (not so far below the expected price that it looks suspicious),
    # and customers start looking around
    mm.set_policy("B", price=0.75)
    mm.set_params(reconsider_prob=0.5)
    start = mm.steps
    for _ in range(6):
        mm.step()
    checked = 0
    for cid in loyal_a:
        rows = [r for r in mm.customer(cid)["history"] if r["step"] >= start]
        for prev, row in zip(rows, rows[1:]):
            if prev["stage"] == "loyal":
                checked += 1
                assert row["merchant"] == prev["merchant"] == "A", (cid, prev, row)
                assert "switched" not in row["events"] and "tried_other" not in row["events"]
    assert checked >= 100
    # the offer does tempt customers who are not loyal
    moved = sum(mm.customer(c)["state"]["merchant"] == "B" for c in others_a if mm.customer(c))
    assert moved >= max(10, 0.1 * len(others_a))


def test_loyal_customers_never_try_other_merchants():
    mm = twin_market(variety_seeking=0.5)
    tried_loyal = tried_other = 0
    for _ in range(20):
        was_loyal = mm.pop.stage == mc.LOYAL
        ids = mm.pop.id.copy()
        mm.step()
        same = mm.pop.id == ids
        tried = (mm.pop.flags & EV.TRIED_OTHER) > 0
        tried_loyal += int((tried & was_loyal & same).sum())
        tried_other += int((tried & ~was_loyal & same).sum())
    assert tried_loyal == 0 and tried_other > 50


@pytest.mark.parametrize("seed", [0, 1])
def test_default_market_grows_loyal_customers_over_time(seed):
    from sim import simulate

    r = simulate(Params(n_customers=500), seed=seed, steps=104)
    loyal = r.metrics["loyal"]
    assert loyal.iloc[0] == 0 and loyal.iloc[-1] > 0
    assert (r.metrics["trusting"].iloc[-1] + loyal.iloc[-1]) > 0.2 * r.metrics["active"].iloc[-1]

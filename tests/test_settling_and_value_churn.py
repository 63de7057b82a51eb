"""First impressions settle (sim.mechanism.evaluation.encounter_weight, update_satisfaction and the
readable twin remember_one) and customers lost are valued at their spend when the step opened
(stats.start_spend, _record_loss, record_loss_one; the value churn observable)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from engine_kit import population, rng
from sim import LoyaltyModel, Params
from sim.mechanism import EV
from sim.mechanism.evaluation import encounter_weight, remember_one, update_satisfaction
from sim.reference import ReferenceModel

F32 = np.float32


# ---- encounter_weight: the first encounters of a relationship weigh more ------------------------
def test_the_weight_is_the_running_mean_share_early_and_the_memory_share_once_settled():
    P = Params(satisfaction_memory=0.8, satisfaction_settling=0.75)
    w = encounter_weight(np.array([0, 1, 2, 3, 10, 500]), P)
    assert w[0] == pytest.approx(1.0)  # the very first encounter replaces the neutral start
    assert w[1] == pytest.approx(1 / (1 + 1 / 0.75), rel=1e-6)  # 0.43
    assert w[2] == pytest.approx(1 / (1 + 2 / 0.75), rel=1e-6)  # 0.27
    assert np.allclose(w[3:], 0.2)  # from the third step on, the settled share 1 − memory


def test_settling_zero_gives_every_encounter_the_memory_share():
    P = Params(satisfaction_memory=0.8, satisfaction_settling=0.0)
    assert np.allclose(encounter_weight(np.arange(5), P), 0.2)


@settings(max_examples=60, deadline=None)
@given(memory=st.floats(0.0, 0.99), settling=st.floats(0.0, 52.0),
       tenure=st.lists(st.integers(0, 10_000), min_size=1, max_size=30))
def test_the_weight_lies_between_the_memory_share_and_one_and_never_grows_with_tenure(memory, settling, tenure):
    P = Params(satisfaction_memory=memory, satisfaction_settling=settling)
    t = np.sort(np.array(tenure))
    w = encounter_weight(t, P)
    w = np.broadcast_to(w, t.shape)
    assert (w >= F32(1 - memory) - 1e-6).all() and (w <= 1 + 1e-6).all()
    assert (np.diff(w) <= 1e-6).all()


def test_update_satisfaction_and_its_readable_twin_agree_at_every_tenure():
    P = Params(satisfaction_memory=0.8, satisfaction_settling=0.75)
    k = 400
    r = rng(5)
    tenure = r.integers(0, 20, k).astype(np.int32)
    S0 = r.random(k).astype(F32)
    f = r.random(k).astype(F32)
    pop = population(k, satisfaction=S0, tenure=tenure)
    update_satisfaction(pop, np.arange(k), f, P)
    twin = [SimpleNamespace(model=SimpleNamespace(params=P), satisfaction=float(s), tenure=int(t))
            for s, t in zip(S0, tenure)]
    for c, x in zip(twin, f):
        remember_one(c, float(x))
    assert np.allclose(pop.satisfaction, [c.satisfaction for c in twin], rtol=0, atol=2e-6)
    # a settled customer keeps the fading memory exactly
    old = tenure >= 3
    assert np.allclose(pop.satisfaction[old], 0.8 * S0[old] + 0.2 * f[old], atol=2e-6)


def test_one_bad_encounter_moves_a_new_customer_more_than_a_settled_one():
    P = Params(satisfaction_memory=0.8, satisfaction_settling=0.75)
    pop = population(2, satisfaction=0.5, tenure=np.array([1, 40], dtype=np.int32))
    update_satisfaction(pop, np.arange(2), np.array([0.1, 0.1], dtype=F32), P)
    new_drop, old_drop = 0.5 - pop.satisfaction
    assert new_drop > 2 * old_drop > 0


def _hazard_by_tenure(settling, seeds=(1, 2, 3, 4)):
    """Customers lost per customer-week, tenure 1–4 weeks and 14–26 weeks (a small baseline market)."""
    lost = np.zeros(2)
    at_risk = np.zeros(2)
    for seed in seeds:
        m = LoyaltyModel(Params(n_customers=1500, satisfaction_settling=settling), seed=seed)
        prev = None
        for _ in range(60):
            m.step()
            pop = m.pop
            if prev is not None and m.steps > 20:
                pid, pst, pten = prev
                idx = np.flatnonzero((pst >= 2) & (pid == pop.id))
                gone = ((pop.flags[idx] & (EV.LEFT | EV.SWITCHED)) != 0) | (pop.stage[idx] < 2)
                for b, (lo, hi) in enumerate(((1, 4), (14, 26))):
                    band = (pten[idx] + 1 >= lo) & (pten[idx] + 1 <= hi)
                    lost[b] += gone[band].sum()
                    at_risk[b] += band.sum()
            prev = (pop.id.copy(), pop.stage.copy(), pop.tenure.copy())
    return lost / at_risk


def test_settling_first_impressions_makes_poor_matches_leave_early():
    """With first impressions settling, customers in their first month are lost more often than
    without it (a poor match shows at once), and more often than in their second quarter."""
    off, on = _hazard_by_tenure(0.0), _hazard_by_tenure(0.75)
    assert on[0] > off[0] * 1.1
    assert on[0] > on[1]


# ---- value churn: customers lost are valued at the spend they started the step with ------------
def _lost_spend_check(model, steps=30):
    checked = 0
    for _ in range(steps):
        start = model.pop.spend.astype(np.float64).copy() if isinstance(model, LoyaltyModel) else None
        if start is None:  # the reference: its customers' spend before the step
            start = {c: c.spend for c in model.customers()}
        model.step()
        lost_v = float(sum(x.sum(dtype=np.float64) for x in model.stats.lost_value))
        if isinstance(model, LoyaltyModel):
            pop = model.pop
            # a customer who switched and then left in the same step is lost twice (by each merchant)
            expect = sum(start[(pop.flags & flag) != 0].sum() for flag in (EV.LEFT, EV.SWITCHED))
        else:
            expect = sum(v * (bool(c.flags & EV.LEFT) + bool(c.flags & EV.SWITCHED)) for c, v in start.items())
        assert lost_v == pytest.approx(expect, rel=1e-5, abs=1e-6)
        checked += lost_v > 0
    assert checked > 5  # customers were lost, and valued, in most steps


def test_the_engine_values_a_lost_customer_at_its_spend_when_the_step_opened():
    _lost_spend_check(LoyaltyModel(Params(n_customers=1500), seed=3))


def test_the_reference_values_a_lost_customer_at_its_spend_when_the_step_opened():
    _lost_spend_check(ReferenceModel(Params(n_customers=300), seed=3), steps=25)


def test_customers_lost_right_after_buying_are_not_valued_with_that_purchase():
    """Most customers leave just after a purchase that went wrong; counting that purchase in the
    lost value but not in the start value made value-weighted churn look higher than it is."""
    m = LoyaltyModel(Params(n_customers=2000), seed=4)
    for _ in range(40):
        start = m.pop.spend.copy()
        m.step()
        pop = m.pop
        gone = np.flatnonzero(((pop.flags & (EV.LEFT | EV.SWITCHED)) != 0) & ((pop.flags & EV.PURCHASE) != 0))
        if len(gone):
            valued = np.concatenate(m.stats.lost_value)
            assert np.isin(start[gone], valued).all()
            assert not np.isin(pop.spend[gone], valued).all()  # after the purchase: a different amount
            return
    pytest.fail("no customer was lost after a purchase in 40 steps")

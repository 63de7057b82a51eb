"""Arrival: newcomers take empty places, with their own traits (:func:`newcomer_traits`), and pick
their first merchant (no outside option: they came to buy).

Phase ``arrival`` of :data:`sim.model.SCHEDULE`; readable twin :func:`arrive_one`."""

from __future__ import annotations

import math

import numpy as np

from .choice import alternative_utility
from .common import logit_choice
from .relationship import start_relationship
from .state import CHURNED, EV, F32, PROSPECT, R_NONE, Population, StepStats

__all__ = ["arrive", "arrival_phase", "arrive_one"]


def arrive(pop: Population, P, T, rng, stats: StepStats, empty=None):
    """Newcomers take empty places (chance ``arrival_rate`` each), with their own expected price,
    price sensitivity, procedural switching cost and complaint propensity, and an expectation set by
    the promises and reputation of the merchant they pick first."""
    if empty is None:
        empty = np.flatnonzero(pop.stage == CHURNED)
        empty = empty[rng.random(len(empty), dtype=F32) < P.arrival_rate]
    k = len(empty)
    if k == 0:
        return empty
    pop.id[empty] = np.arange(pop.next_id, pop.next_id + k)
    pop.next_id += k
    pop.stage[empty] = PROSPECT
    pop.age[empty] = 0
    pop.expected_price[empty] = P.expected_price * np.exp(0.1 * rng.standard_normal(k)).astype(F32)
    pop.price_sens[empty] = rng.gamma(4.0, P.price_sensitivity / 4.0, size=k).astype(F32)
    pop.procedural[empty] = rng.uniform(0.5, 1.5, size=k).astype(F32)  # factor on procedural_cost
    pop.complaint_prop[empty] = np.exp(0.4 * rng.standard_normal(k) - 0.08).astype(F32)
    pop.nps_bias[empty] = (0.1 * rng.standard_normal(k)).astype(F32)
    pop.expectation[empty] = (P.expectation_init + P.expectation_spread * rng.standard_normal(k)).astype(F32)
    pop.excite_expect[empty] = 0
    pop.heard[empty] = 0
    pop.spend[empty] = 0
    pop.affective[empty] = 0
    pop.intentional[empty] = 0.5
    for name in ("perceived", "value", "disconfirmation", "txn_sat"):
        getattr(pop, name)[empty] = 0
    for name in ("complaints", "recoveries", "recoveries_ok", "failures", "switches"):
        getattr(pop, name)[empty] = 0
    pop.churn_reason[empty] = R_NONE
    pop.flags[empty] |= EV.ARRIVED
    # first choice among merchants (no outside option: they came to buy)
    U = alternative_utility(pop, empty, T, P)
    first = logit_choice(U, P.choice_noise, rng)
    start_relationship(pop, empty, first, T, P, stats, rng)
    stats.arrived += k
    return empty


def arrival_phase(ctx) -> None:
    """Newcomers take places emptied before this step (a place emptied now is taken from the next
    step on), each with chance ``arrival_rate`` (:func:`arrive`)."""
    pop = ctx.pop
    empty = np.flatnonzero(pop.stage == CHURNED)
    empty = empty[(pop.flags[empty] & EV.LEFT) == 0]
    empty = empty[ctx.rng.random(len(empty), dtype=F32) < ctx.P.arrival_rate]
    arrive(pop, ctx.P, ctx.T, ctx.rng, ctx.stats, empty=empty)


# ---- readable twin ------------------------------------------------------------------------------
def arrive_one(c, place: int) -> None:
    """A newcomer (an agent just made) takes ``place``: its own traits, an expectation, and its first
    merchant, picked among all (no outside option: it came to buy)."""
    model = c.model
    P, r = model.params, model.rng
    c.place = place  # node of the social network this customer occupies
    c.stage = PROSPECT
    c.age = 0
    # traits a newcomer brings
    c.expected_price = P.expected_price * math.exp(0.1 * r.standard_normal())
    c.price_sens = float(r.gamma(4.0, P.price_sensitivity / 4.0)) if P.price_sensitivity > 0 else 0.0
    c.procedural = float(r.uniform(0.5, 1.5))  # own factor on the market's procedural_cost
    c.complaint_prop = math.exp(0.4 * r.standard_normal() - 0.08)  # mean 1: some complain more
    c.nps_bias = 0.1 * r.standard_normal()
    c.expectation = P.expectation_init + P.expectation_spread * r.standard_normal()
    c.excite_expect = 0.0  # what it has come to expect of the excitement attribute
    c.heard = [0.0] * len(model.merchant_list)  # word of mouth heard about each merchant
    # the latest encounter and the running record
    c.perceived = c.value = c.disconfirmation = c.txn_sat = 0.0
    c.spend = c.affective = 0.0
    c.intentional = 0.5
    c.complaints = c.recoveries = c.recoveries_ok = c.failures = c.switches = 0
    c.recovery_due, c.recovery_merchant, c.recovery_ok, c.recovery_value = -1, -1, False, 0.0
    c.churn_reason = R_NONE
    c.flags = EV.ARRIVED
    # a newcomer came to buy: it picks a merchant (no outside option) and starts a relationship
    c.merchant = -1
    c.start_relationship(model.logit_choice(c.alternative_utilities()))

"""A relationship starts (a newcomer's first merchant, or a switch): trust and switching costs start
afresh (no grievance against the new merchant), the expectation moves halfway to what the customer
anticipates of the merchant, the judgement of the value it gives starts at its reputation for its price, and how well
the merchant suits the customer (``fit``) is drawn.

Readable twin :func:`start_relationship_one`."""

from __future__ import annotations

import numpy as np

from .common import anticipated_value, anticipated_value_one, price_term, price_term_one
from .state import F32, ORDINARY, PROSPECT, Population, StepStats, resets
from .switching_costs import switching_cost_base

__all__ = ["start_relationship", "start_relationship_one"]

#: (name, value) of the variables reset when a relationship starts (declared in sim.mechanism.state)
RELATIONSHIP = resets("relationship")


def start_relationship(pop: Population, idx, merchant, T, P, stats: StepStats, rng):
    """Customers ``idx`` begin with ``merchant``: trust and switching costs start afresh; the
    expectation moves halfway to what the customer anticipates of the merchant — its promise and
    reputation (:func:`anticipated_value`) plus what the customer has heard about it; how well the
    merchant suits the customer (``fit``, normal with sd ``fit_spread``) is drawn, and shows in
    overall satisfaction from the first purchase on (:func:`update_satisfaction`)."""
    merchant = np.asarray(merchant, dtype=np.intp)
    pop.merchant[idx] = merchant
    k = len(idx)
    pop.fit[idx] = (P.fit_spread * rng.standard_normal(k)).astype(F32) if P.fit_spread > 0 else F32(0)
    anticipated = anticipated_value(T, P, pop.expected_price[idx], pop.price_sens[idx])[np.arange(k), merchant]
    anticipated += pop.heard.reshape(-1)[idx * pop.m + merchant]
    pop.expectation[idx] = F32(0.5) * pop.expectation[idx] + F32(0.5) * anticipated
    pop.trust[idx] = P.trust_init
    for name, value in RELATIONSHIP:  # satisfaction, tenure, switching costs, products, cycles, …
        getattr(pop, name)[idx] = value
    pop.affective[idx] *= 0.5
    pop.acq_cost[idx] = T.acquisition_cost[merchant]
    # the value it gives, as the market tells it (its reputation for the price), until experienced
    pop.value_belief[idx] = T.reputation[merchant] - price_term(T.price_paid[merchant], pop.expected_price[idx],
                                                                pop.price_sens[idx])
    pop.last_paid[idx] = T.price_paid[merchant]  # a rise is noticed against the price when it joined
    pop.switch_cost[idx] = switching_cost_base(pop, idx, T, P)
    pop.stage[idx] = np.where(pop.stage[idx] == PROSPECT, PROSPECT, ORDINARY)
    stats.acquired_merchant.append(merchant)


# ---- readable twin ------------------------------------------------------------------------------
def start_relationship_one(c, j: int) -> None:
    """Begin with merchant ``j``: trust and switching costs start afresh; the expectation moves
    halfway to what the customer anticipates of ``j``: its promise and reputation, and what the
    customer has heard about it; how well ``j`` suits the customer (``fit``) is drawn."""
    P, T = c.model.params, c.model.policies
    anticipated = anticipated_value_one(T, P, j, c.expected_price, c.price_sens) + c.heard[j]
    c.merchant = j
    c.expectation = 0.5 * c.expectation + 0.5 * anticipated
    c.trust = P.trust_init
    c.fit = P.fit_spread * c.model.rng.standard_normal() if P.fit_spread > 0 else 0.0  # lasting match
    for name, value in RELATIONSHIP:  # satisfaction, tenure, switching costs, products, cycles, …
        setattr(c, name, value)
    c.affective *= 0.5
    c.acq_cost = T.acquisition_cost[j]
    # the value it gives, as the market tells it (its reputation for the price), until experienced
    c.value_belief = T.reputation[j] - price_term_one(T.price_paid[j], c.expected_price, c.price_sens)
    c.last_paid = T.price_paid[j]  # a rise is noticed against the price when it joined
    if c.stage != PROSPECT:
        c.stage = ORDINARY
    c.model.acquired[j] += 1

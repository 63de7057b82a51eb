"""A relationship starts (a newcomer's first merchant, or a switch): trust and switching costs start
afresh (no grievance against the new merchant), the expectation moves halfway to what the customer
anticipates of the merchant, the judgement of the value it gives starts at its reputation for its price, and how well
the merchant suits the customer (``fit``) is drawn.

Readable twin :func:`start_relationship_one`."""

from __future__ import annotations

import numpy as np

from ..kernels import relationship_start
from .common import anticipated_quality, anticipated_value_one, price_term_one
from .state import F32, ORDINARY, PROSPECT, Population, StepStats, resets

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
    for name, value in RELATIONSHIP:  # satisfaction, tenure, switching costs, products, cycles, …
        getattr(pop, name)[idx] = value
    # the rest in one compiled pass (the arithmetic of anticipated_value, price_term and
    # switching_cost_base, in their order): the expectation halfway to what the customer anticipates
    # of the merchant plus what it heard; trust afresh; the affective facet halved; the value the
    # merchant gives as the market tells it (its reputation for the price) until experienced; the
    # price when it joined (a rise is noticed against it); the switching cost afresh; the stage
    relationship_start(
        np.asarray(idx, dtype=np.intp), merchant, anticipated_quality(T, P), T.price_paid, T.reputation,
        T.acquisition_cost, T.structural, F32(1 - P.price_doubt), F32(P.trust_init), F32(P.procedural_cost),
        F32(P.product_switch_cost), pop.heard, pop.expected_price, pop.price_sens, pop.expectation, pop.trust,
        pop.affective, pop.acq_cost, pop.value_belief, pop.last_paid, pop.switch_cost, pop.procedural, pop.relational,
        pop.products, pop.stage, PROSPECT, ORDINARY)
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

"""Arrival: newcomers take empty places, with their own traits (:func:`newcomer_traits`), and pick
their first merchant (no outside option: they came to buy).

Phase ``arrival`` of :data:`sim.model.SCHEDULE`; readable twin :func:`arrive_one`."""

from __future__ import annotations

import math

import numpy as np

from .choice import alternative_utility
from .common import logit_choice
from .relationship import start_relationship
from .state import CHURNED, EV, F32, VARIABLES, Population, StepStats, resets, nonzero

__all__ = ["newcomer_traits", "arrive", "arrival_phase", "arrive_one", "arrival_readable"]

#: (name, value) of the variables reset when a newcomer arrives (declared in sim.mechanism.state)
ARRIVAL = resets("arrival")
#: (name, value) of every per-customer variable of the reference customer, as in an empty place
FRESH = tuple((v.name, float(v.empty) if v.dtype is F32 else bool(v.empty) if v.dtype is bool else int(v.empty))
              for v in VARIABLES if not v.per_merchant and v.name not in ("id", "switch_cost"))


def newcomer_traits(P, normal, gamma, uniform, exp, cast) -> dict:
    """The traits a newcomer brings, drawn in this order (the distributions, written once for the
    engine and the reference): expected price ``expected_price · e^(0.1·z)``; price sensitivity
    Gamma(4, ``price_sensitivity``/4) (mean ``price_sensitivity``); its own factor on the market's
    ``procedural_cost``, uniform 0.5–1.5; complaint propensity ``e^(0.4·z − 0.08)`` (mean about 1:
    some complain more); response style ``0.1·z``; prior expectation ``expectation_init +
    expectation_spread · z`` (z standard normal).

    ``normal()``, ``gamma(shape, scale)`` and ``uniform(lo, hi)`` draw (for all newcomers at once,
    or for one), ``exp`` is the exponential and ``cast`` the type a value is kept in."""
    return {
        "expected_price": P.expected_price * cast(exp(0.1 * normal())),
        "price_sens": cast(gamma(4.0, P.price_sensitivity / 4.0)),
        "procedural": cast(uniform(0.5, 1.5)),
        "complaint_prop": cast(exp(0.4 * normal() - 0.08)),
        "nps_bias": cast(0.1 * normal()),
        "expectation": cast(P.expectation_init + P.expectation_spread * normal()),
    }


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
    if pop.next_id + k - 1 > np.iinfo(pop.id.dtype).max:  # numbers past 32 bits: widen, never wrap
        pop.id = pop.id.astype(np.int64)
    pop.id[empty] = np.arange(pop.next_id, pop.next_id + k)
    pop.next_id += k
    traits = newcomer_traits(P, lambda: rng.standard_normal(k), lambda a, s: rng.gamma(a, s, size=k),
                             lambda a, b: rng.uniform(a, b, size=k), np.exp, lambda x: x.astype(F32))
    for name, x in traits.items():
        getattr(pop, name)[empty] = x
    for name, value in ARRIVAL:  # stage (prospect), age, the latest encounter, the counts, …
        getattr(pop, name)[empty] = value
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
    empty = nonzero(pop.stage == CHURNED)
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
    for name, value in FRESH:  # every state variable as in an empty place (pending recovery: none)
        setattr(c, name, value)
    # traits a newcomer brings (no draw for a price sensitivity that is 0 everywhere)
    traits = newcomer_traits(P, r.standard_normal, lambda a, s: float(r.gamma(a, s)) if s > 0 else 0.0,
                             lambda a, b: float(r.uniform(a, b)), math.exp, float)
    for name, x in traits.items():
        setattr(c, name, x)
    for name, value in ARRIVAL:  # stage (prospect), age, the latest encounter, the counts, …
        setattr(c, name, value)
    c.heard = [0.0] * len(model.merchant_list)  # word of mouth heard about each merchant
    c.flags = EV.ARRIVED
    # a newcomer came to buy: it picks a merchant (no outside option) and starts a relationship
    c.merchant = -1
    c.start_relationship(model.logit_choice(c.alternative_utilities()))


def arrival_readable(model, customer_class) -> None:
    """Newcomers (new ``customer_class`` agents) take places left before this step, each with chance
    ``arrival_rate``: the readable twin of :func:`arrival_phase`."""
    P = model.params
    for place, occupant in enumerate(model.places):
        if (occupant is None or (occupant.stage == CHURNED and not occupant.flags & EV.LEFT)) \
                and model.rng.random() < P.arrival_rate:
            model.places[place] = customer_class(model, place)
            model.stats.arrived += 1

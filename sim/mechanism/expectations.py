"""Expectations adapt: toward what was just perceived and a little toward what the merchant keeps
promising; the excitement attribute's expectation follows what is offered (delight fades); the
expected price moves toward the price paid, blended with the going price in the market.

Phase ``expectations`` of :data:`sim.model.SCHEDULE`; readable twin :func:`adapt_expectations_one`."""

from __future__ import annotations

from ..kernels import expect_pass, sized
from .common import price_term_one
from .state import F32, Population

__all__ = ["MIN_EXPECTED_PRICE", "adapt_expectations", "expectations_phase", "adapt_expectations_one"]

#: an expected price never falls below this, even at a merchant that gives the service away
MIN_EXPECTED_PRICE = 0.01


def adapt_expectations(pop: Population, idx, value, where, T, P, excitement: bool = True, expectation=None,
                       expected_price=None, price_sens=None, paid=None):
    """Expectations move toward what was just perceived (``expectation_adapt``) and a little toward
    what the merchant keeps promising (``promise_pull``)::

        E += expectation_adapt · ((1 − promise_pull)·(v − E) + promise_pull·(promise − price term − E))

    (What was heard by word of mouth shapes the expectation when a relationship starts, see
    :func:`start_relationship`.) Expectations of the excitement attribute and of the price move
    toward what was received and toward the price paid blended with the going price in the market
    (the mean of the merchants' prices, weight ``market_price_pull``: customers see what the others
    charge). ``expectation``, ``expected_price`` and ``price_sens`` are the
    customers' current values if already at hand, ``paid`` the price each paid per product."""
    a = P.expectation_adapt
    E = pop.expectation[idx] if expectation is None else expectation
    ep = pop.expected_price[idx] if expected_price is None else expected_price
    sens = pop.price_sens[idx] if price_sens is None else price_sens
    paid = T.price_paid[where] if paid is None else paid
    w = P.market_price_pull
    going = F32(w * float(T.price_paid.mean())) if w else F32(0)  # the market's share of the target price
    # (compiled: one pass)
    sized(expect_pass, len(idx))(idx, value, where, E, ep, sens, paid, T.promise, F32(a), F32(1 - P.promise_pull),
                                 F32(P.promise_pull), bool(excitement), T.excitement, F32(1 - w), going, w != 0,
                                 F32(MIN_EXPECTED_PRICE), pop.expectation, pop.excite_expect, pop.expected_price)


def expectations_phase(ctx) -> None:
    """Expectations of this step's buyers adapt (:func:`adapt_expectations`, with the values carried
    through the step)."""
    adapt_expectations(ctx.pop, ctx.idx, ctx.v, ctx.w, ctx.T, ctx.P, ctx.excitement, expectation=ctx.E,
                       expected_price=ctx.ep, price_sens=ctx.sens, paid=ctx.price)


# ---- readable twin ------------------------------------------------------------------------------
def adapt_expectations_one(c, value: float, j: int) -> None:
    """Expectations move toward what was just perceived and, a little, toward what the merchant
    keeps promising; expectations of the excitement attribute follow too, and the expected price
    moves toward the price paid blended with the going price in the market."""
    P, T, a = c.model.params, c.model.policies, c.model.params.expectation_adapt
    promised = T.promise[j] - price_term_one(T.price_paid[j], c.expected_price, c.price_sens)
    E = c.expectation
    c.expectation = E + a * ((1 - P.promise_pull) * (value - E) + P.promise_pull * (promised - E))
    c.excite_expect += a * (T.excitement[j] - c.excite_expect)
    going = sum(T.price_paid) / len(T.price_paid)  # the going price: what the merchants charge
    target = (1 - P.market_price_pull) * T.price_paid[j] + P.market_price_pull * going
    c.expected_price = max(c.expected_price + a * (target - c.expected_price), MIN_EXPECTED_PRICE)

"""Switching costs: procedural, relational (built by repeat purchase), structural (programme ties,
each product beyond the first) and financial (programme points that would be lost, valued by
price sensitivity: :func:`points_cost`, the one rule); cross-selling of further products.

Phase ``switching_costs`` of :data:`sim.model.SCHEDULE`; readable twins :func:`switch_cost_one`,
:func:`points_cost_one`, :func:`grow_switching_costs_one`, :func:`cross_sell_one`."""

from __future__ import annotations

import numpy as np

from ..kernels import grow_pass, sized
from ..params import POINTS_CAP
from .state import F32, TRUSTING, Population

__all__ = ["switching_cost_base", "switching_cost", "points_cost", "held_by_points", "grow_switching_costs",
           "cross_sell", "switching_costs_phase", "switch_cost_one", "points_cost_one", "grow_switching_costs_one",
           "cross_sell_one"]


def points_cost(financial, price_sens, expected_price, where=None):
    """What the programme points a customer would lose by leaving (``financial``) are worth to it:
    ``financial · price_sens / expected_price`` (per customer, arrays or plain numbers). With
    ``where`` (a mask), only there, 0 elsewhere."""
    if where is None:
        return financial * price_sens / expected_price
    return np.divide(financial * price_sens, expected_price, out=np.zeros_like(financial), where=where)


def held_by_points(points, procedural, relational, P):
    """Whether a customer stays mainly for its programme points: their worth (:func:`points_cost`)
    outweighs its procedural and relational switching costs (``procedural`` is its own factor on
    the market's ``procedural_cost``)."""
    return points > F32(P.procedural_cost) * procedural + relational


def switching_cost_base(pop: Population, idx, T, P):
    """Switching cost of customers ``idx`` without programme points: procedural (set-up, learning,
    plus a structural programme's ties), relational (built by repeat purchase) and a structural cost
    for each product held beyond the first. Kept in ``pop.switch_cost``. ``pop.procedural`` is the
    customer's own factor (drawn at arrival) on the market's ``procedural_cost``, so lowering that
    parameter mid-run (deregulation) lowers every customer's barrier.""" 
    mer = pop.merchant[idx]
    prod = (pop.products[idx].astype(F32) - 1) * F32(P.product_switch_cost)
    return F32(P.procedural_cost) * pop.procedural[idx] + T.structural[mer] + pop.relational[idx] + prod


def switching_cost(pop: Population, idx):
    """Total switching cost of customers ``idx`` toward their current merchant, in utility units:
    the kept base (:func:`switching_cost_base`) plus the financial cost of programme points that
    would be lost, valued by the customer's price sensitivity against its expected price."""
    sc = pop.switch_cost[idx]
    if pop.any_points:
        sc = sc + points_cost(pop.financial[idx], pop.price_sens[idx], pop.expected_price[idx])
    return sc


def grow_switching_costs(pop: Population, idx, where, T, P):
    """Repeat purchase builds relational switching cost (``relational_growth`` per purchase, up to
    ``relational_max``; faster with social and customised programmes); programme members bank
    points, lost if they leave. Keeps ``pop.switch_cost`` (:func:`switching_cost_base`) up to date
    by adding what changed, and returns it."""
    points = bool(T.points.any())
    # (compiled: one pass)
    sc = sized(grow_pass, len(idx))(idx, where, T.relational_x, F32(P.relational_growth), F32(P.relational_max),
                                    pop.relational, pop.switch_cost, points, T.points, F32(POINTS_CAP), pop.financial)
    if points:
        pop.any_points = True
    return sc


def cross_sell(pop: Population, idx, P, rng) -> bool:
    """Trusting and loyal buyers ``idx`` holding fewer than ``max_products`` take one more product
    with chance ``cross_sell_prob``; each product beyond the first adds ``product_switch_cost`` to
    the switching cost. Returns whether anyone did (their switching costs grew again)."""
    if P.max_products <= 1 or P.cross_sell_prob <= 0 or len(idx) == 0:
        return False
    eligible = idx[(pop.stage[idx] >= TRUSTING) & (pop.products[idx] < P.max_products)]
    take = eligible[rng.random(len(eligible), dtype=F32) < P.cross_sell_prob]
    pop.products[take] += 1
    pop.switch_cost[take] += F32(P.product_switch_cost)  # see switching_cost_base
    if len(take):
        pop.multi_products = True  # from now on purchases read how many products they serve
    return len(take) > 0


def switching_costs_phase(ctx) -> None:
    """Switching costs of this step's buyers grow (:func:`grow_switching_costs`), then cross-selling
    (:func:`cross_sell`). Sets ``ctx.sc``, the buyers' kept switching costs (``None`` when
    cross-selling changed some: read afresh)."""
    sc = grow_switching_costs(ctx.pop, ctx.idx, ctx.w, ctx.T, ctx.P)
    if cross_sell(ctx.pop, ctx.idx, ctx.P, ctx.rng):
        sc = None  # some switching costs grew again: read them afresh
    ctx.sc = sc


# ---- readable twins (one customer, plain Python) ----------------------------------------------
def switch_cost_one(c) -> float:
    """What leaving the merchant would cost, points aside: procedural (set-up, learning, plus a
    structural programme's ties), relational (built by repeat purchase), and a structural cost
    for each product held beyond the first."""
    P, T = c.model.params, c.model.policies
    return (P.procedural_cost * c.procedural + T.structural[c.merchant] + c.relational
            + (c.products - 1) * P.product_switch_cost)


def points_cost_one(c) -> float:
    """What the programme points it would lose by leaving are worth to it (:func:`points_cost`)."""
    return points_cost(c.financial, c.price_sens, c.expected_price)


def grow_switching_costs_one(c, j: int) -> None:
    """Tenure builds relational cost (faster with social programmes); members bank points."""
    P, T = c.model.params, c.model.policies
    c.relational = min(c.relational + P.relational_growth * T.relational_x[j],
                          P.relational_max * T.relational_x[j])
    c.financial = min(c.financial + T.points[j], POINTS_CAP * T.points[j])


def cross_sell_one(c) -> None:
    """A trusting or loyal buyer takes one more product with chance ``cross_sell_prob``."""
    P = c.model.params
    if (P.max_products > 1 and P.cross_sell_prob > 0 and c.stage >= TRUSTING
            and c.products < P.max_products and c.model.rng.random() < P.cross_sell_prob):
        c.products += 1  # a trusting customer takes one more product

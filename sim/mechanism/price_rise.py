"""A noticed price rise: a buyer who pays more than ``price_notice`` above what it paid last time
compares merchants on value for money this step (read by the ``evaluate`` and ``choice`` phases).

Readable twin :func:`notice_price_one`."""

from __future__ import annotations

import numpy as np

from .state import F32, ORDINARY, TRUSTING, Population, nonzero

__all__ = ["notice_price_rise", "notice_price_one"]


def notice_price_rise(pop: Population, idx, price, stage, P, rng) -> np.ndarray:
    """Buyers at their own merchant (places ``idx``, sorted, paying ``price`` per product, at
    ``stage``) who notice a price rise and will compare merchants on value for money this step
    (sorted places): the price is more than ``price_notice`` above what they paid there last time
    (``last_paid``), and an ordinary or trusting buyer then compares with chance
    ``price_reconsider`` (loyal customers are exclusive). Every buyer's reference becomes the
    price it pays now, so a price that has risen is noticed once, and a steady price never."""
    ref = pop.last_paid[idx]
    pop.last_paid[idx] = price
    if P.price_reconsider <= 0:
        return np.zeros(0, dtype=np.intp)
    ref *= F32(1 + P.price_notice)
    pos = nonzero((price > ref) & ((stage == ORDINARY) | (stage == TRUSTING)))
    if P.price_reconsider < 1:
        pos = pos[rng.random(len(pos), dtype=F32) < P.price_reconsider]
    return idx[pos]


# ---- readable twin ------------------------------------------------------------------------------
def notice_price_one(c, price: float) -> None:
    """A price more than ``price_notice`` above what it paid here last time is noticed: an
    ordinary or trusting customer then compares merchants on value for money this step, with
    chance ``price_reconsider`` (loyal customers are exclusive). The price paid now becomes the
    reference."""
    P, r = c.model.params, c.model.rng
    if (P.price_reconsider > 0 and c.stage in (ORDINARY, TRUSTING)
            and price > c.last_paid * (1 + P.price_notice)
            and (P.price_reconsider >= 1 or r.random() < P.price_reconsider)):
        c.model.price_rises.append(c)
    c.last_paid = price

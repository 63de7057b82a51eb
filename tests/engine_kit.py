"""Small helpers shared by the engine tests: tiny markets and hand-made populations.

Kept outside ``conftest.py`` so the test modules import them explicitly
(``from engine_kit import ...``); pytest puts this folder on ``sys.path``.
"""

from __future__ import annotations

import numpy as np

from sim import LoyaltyModel, MerchantParams, Params
from sim import mechanism as mc

def rich_market(n_customers: int = 300) -> Params:
    """A market with every optional mechanism switched on: programmes (points, relational,
    structural ties, tailoring), Kano attributes, instant and slow recoveries, easy complaints,
    cross-selling, variety seeking (the reference comparison and the golden fingerprints use it)."""
    return Params(
        n_customers=n_customers,
        merchants=(
            MerchantParams(name="A", quality=0.7, price=1.2, promise=0.75, failure_prob=0.15, recovery_delay=0,
                           programme="customised", excitement=0.1, complaint_ease=0.5),
            MerchantParams(name="B", quality=0.6, price=0.9, promise=0.7, failure_prob=0.2, recovery_delay=2,
                           programme="structural", programme_fee=0.05),
            MerchantParams(name="C", quality=0.55, price=0.6, promise=0.6, recovery_prob=0.3, basic_quality=0.85),
        ),
        trust_gain=0.12, loyalty_min_passes=4, max_products=3, cross_sell_prob=0.1, variety_seeking=0.1,
        natural_churn=0.01, reconsider_prob=0.1, loyal_extra_purchases=1.0,
    )


#: a merchant with no randomness in its service: every encounter delivers exactly ``quality``
STEADY = dict(consistency=1.0, failure_prob=0.0, basic_quality=1.0, excitement=0.0)


def merchant(name: str = "A", **policy) -> MerchantParams:
    return MerchantParams(name=name, **policy)


def steady(name: str = "A", **policy) -> MerchantParams:
    """A merchant whose encounters always deliver exactly its quality (unless ``policy`` says otherwise)."""
    return MerchantParams(name=name, **{**STEADY, **policy})


def params(n_customers: int = 200, merchants=None, **market) -> Params:
    if merchants is not None:
        market["merchants"] = tuple(merchants)
    return Params(n_customers=n_customers, **market)


def model(n_customers: int = 200, merchants=None, seed: int = 0, **market) -> LoyaltyModel:
    return LoyaltyModel(params(n_customers, merchants, **market), seed=seed)


def table(*merchants: MerchantParams, **market):
    """The engine's policy table for ``merchants`` (built by a throw-away model), and its Params."""
    m = model(20, merchants=merchants or None, seed=0, network_degree=2, **market)
    return m.table, m.params


def population(n: int, m: int = 1, **fields) -> mc.Population:
    """``n`` ordinary customers of merchant 0 with plain, uniform state; ``fields`` override arrays."""
    pop = mc.Population(n, m)
    pop.id[:] = np.arange(n)
    pop.next_id = n
    pop.stage[:] = mc.ORDINARY
    pop.merchant[:] = 0
    pop.products[:] = 1
    pop.expected_price[:] = 1.0
    pop.price_sens[:] = 0.5
    pop.complaint_prop[:] = 1.0
    pop.expectation[:] = 0.6
    pop.trust[:] = 0.2
    pop.satisfaction[:] = 0.5
    pop.wallet[:] = 0.5
    pop.intentional[:] = 0.5
    for name, value in fields.items():
        getattr(pop, name)[:] = value
    return pop


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def reinforce(pop, idx, s, T, where, P):
    """Call :func:`sim.mechanism.reinforce` for customers ``idx`` who were all satisfied, whether its
    signature takes a ``satisfied`` mask or not (the engine is being optimised)."""
    import inspect

    s = np.asarray(s, dtype=np.float32)
    if "satisfied" in inspect.signature(mc.reinforce).parameters:
        return mc.reinforce(pop, idx, s, np.ones(len(idx), dtype=bool), T, where, P)
    return mc.reinforce(pop, idx, s, T, where, P)

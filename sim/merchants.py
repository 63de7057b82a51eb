"""Merchants: the few agents that make decisions.

A :class:`Merchant` is a real ``mesa.Agent``. It holds its policy (a :class:`~sim.params.MerchantParams`:
quality, consistency, failures, Kano attributes, price, promise, complaint channel, recovery policy,
loyalty programme, strategy), its reputation in the market and its books. Each step it books
revenue and costs (:meth:`Merchant.book`) and, if its strategy says so, adapts its policy
(:meth:`Merchant.adapt`). :func:`policy_table` turns all merchants' policies into arrays the
customer engine indexes by merchant number.
"""

from __future__ import annotations

import copy
import itertools
import weakref
from collections import deque
from dataclasses import dataclass

import mesa
import numpy as np

from .mechanism.state import F32, StepStats
from .metrics import MERCHANT_METRICS, population_sums
from .params import MERCHANT_PARAMS, POLICY_FIELDS, PROGRAMME_TIERS, TIER_EFFECTS, ParamError

__all__ = ["AgentIds", "AGENT_IDS", "Merchant", "PolicyTable", "policy_table", "QUALITY_SD_MAX", "merchant_sums",
           "open_phase", "book",
           "books_phase", "book_readable"]

#: quality standard deviation of a merchant with consistency 0
QUALITY_SD_MAX = 0.3


class AgentIds(weakref.WeakKeyDictionary):
    """Per-model agent id counters that do not keep finished models alive.

    Mesa 3.3 counts every agent's ``unique_id`` in a class-level ``defaultdict`` keyed by model
    (``mesa.Agent._ids``), which holds every model ever made, so a web server whose sessions build
    markets would never free them (fixed upstream after 3.3). This package's agents (:class:`Merchant`
    and :class:`sim.reference.Customer`) count in :data:`AGENT_IDS` instead: the same ids (from 1,
    per model, merchants and customers in one sequence), keyed weakly. Mesa's own class and any
    other agent class are left as they are."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


#: the id counters of this package's agents (see :class:`AgentIds`)
AGENT_IDS = AgentIds()


class Merchant(mesa.Agent):
    """A merchant agent: policy, reputation and books."""

    _ids = AGENT_IDS  # unique ids counted per model, freed with the model (see AgentIds)

    def __init__(self, model: mesa.Model, index: int, policy):
        super().__init__(model)
        self.index = index  # position in the engine's arrays
        self.policy = policy
        self.name = policy.name
        # reputation: what the market believes this merchant delivers (EWMA of perceived quality)
        self.reputation = float(model.params.expectation_init)
        # books of the current step
        self.customers = 0
        self.revenue = 0.0
        self.cost = 0.0
        self.profit = 0.0
        self.acquired = 0
        self.lost = 0
        self.churn_rate = 0.0
        self.value_churn_rate = 0.0
        self.encounters = 0
        self.cumulative_profit = 0.0
        self._churn_window: deque[float] = deque(maxlen=104)
        self._profit_window: deque[float] = deque(maxlen=104)
        self._direction = None  # learner: which way it is moving
        for name in MERCHANT_METRICS:  # the observables :func:`sim.metrics.compute` fills each step
            if not hasattr(self, name):
                setattr(self, name, 0)

    # ---- policy -----------------------------------------------------------------------------
    def set_policy(self, **changes):
        """Change policy fields (validated against the declaration) and return the changes made."""
        clean = {}
        for k, v in changes.items():
            if k not in POLICY_FIELDS:
                raise ParamError(k, f"'{k}' is not a merchant policy field (allowed: {', '.join(POLICY_FIELDS)})", None,
                                 f"'{k}' 不是商家策略字段（允许：{', '.join(POLICY_FIELDS)}）")
            clean[k] = MERCHANT_PARAMS[k].validate(v, key=k)
        self.policy = self.policy.replace(**clean)
        return clean

    # ---- books ------------------------------------------------------------------------------
    def book(self, revenue: float, cost: float, customers: int, acquired: int, lost: int,
             lost_value: float, start_value: float, start_customers: int, encounters: int,
             perceived_mean: float | None):
        """Record this step's books and update reputation."""
        self.revenue, self.cost = float(revenue), float(cost)
        self.profit = self.revenue - self.cost
        self.cumulative_profit += self.profit
        self.customers, self.acquired, self.lost = int(customers), int(acquired), int(lost)
        self.encounters = int(encounters)
        self.churn_rate = lost / start_customers if start_customers else 0.0
        self.value_churn_rate = lost_value / start_value if start_value > 0 else 0.0
        self._churn_window.append(self.churn_rate)
        self._profit_window.append(self.profit)
        if perceived_mean is not None:
            self.reputation += 0.1 * (perceived_mean - self.reputation)

    def recent_churn(self, k: int | None = None) -> float:
        """Mean churn rate over the last ``k`` steps (default: the strategy's ``adapt_every``)."""
        w = self._churn_window
        k = min(len(w), k or self.policy.adapt_every)
        if not k:
            return 0.0
        last = np.fromiter(itertools.islice(w, len(w) - k, None), dtype=np.float64, count=k)
        return float(np.add.reduce(last) / k)  # (numpy's mean, without its checks)

    # ---- strategy ---------------------------------------------------------------------------
    def adapt(self, step: int) -> dict:
        """Adapt the policy if the strategy says so; returns the changes made (empty if none)."""
        pol = self.policy
        if pol.strategy == "fixed" or step == 0 or step % pol.adapt_every:
            return {}
        k = pol.adapt_every
        if pol.strategy == "rule":
            churn = self.recent_churn(k)
            if churn > pol.target_churn and pol.quality < 1.0:
                return self.set_policy(quality=min(1.0, pol.quality + pol.adapt_step))
            if churn < pol.target_churn / 2 and pol.price < MERCHANT_PARAMS["price"].hi:
                return self.set_policy(price=min(MERCHANT_PARAMS["price"].hi, pol.price + pol.adapt_step))
            return {}
        # learner: hill-climb on profit, keeping direction while profit improves
        profits = list(self._profit_window)
        if len(profits) < 2 * k:
            return {}
        now, before = float(np.mean(profits[-k:])), float(np.mean(profits[-2 * k : -k]))
        if self._direction is None:
            field = ("price", "quality")[int(self.model.rng.integers(2))]
            self._direction = (field, 1.0 if self.model.rng.random() < 0.5 else -1.0)
        elif now < before:
            field, sign = self._direction
            self._direction = (field if self.model.rng.random() < 0.5 else ("quality" if field == "price" else "price"),
                               -sign)
        field, sign = self._direction
        decl = MERCHANT_PARAMS[field]
        value = float(np.clip(getattr(pol, field) + sign * pol.adapt_step, decl.lo, decl.hi))
        return self.set_policy(**{field: value}) if value != getattr(pol, field) else {}

    def __repr__(self) -> str:
        return f"Merchant({self.name!r}, quality={self.policy.quality:g}, price={self.policy.price:g})"


@dataclass
class PolicyTable:
    """All merchants' policies as float32 arrays (index = merchant number)."""

    quality: np.ndarray
    sd: np.ndarray
    failure_prob: np.ndarray
    failure_severity: np.ndarray
    basic_missing: np.ndarray
    excitement: np.ndarray
    price: np.ndarray
    price_paid: np.ndarray  # what a customer of this merchant pays: price less benefit plus fee
    promise: np.ndarray
    complaint_ease: np.ndarray
    recovery_prob: np.ndarray
    recovery_delay: np.ndarray  # int
    compensation: np.ndarray
    points: np.ndarray  # programme points banked per purchase (money)
    relational_x: np.ndarray
    affective: np.ndarray
    tailoring: np.ndarray
    structural: np.ndarray
    programme_cost: np.ndarray
    unit_cost: np.ndarray
    acquisition_cost: np.ndarray
    reputation: np.ndarray
    member: np.ndarray  # bool: runs a programme

    @property
    def m(self) -> int:
        return len(self.quality)


def policy_table(merchants: list[Merchant], previous: tuple | None = None) -> PolicyTable:
    """Build the arrays the customer engine uses from the merchants' current policies.

    ``previous``: ``(policies, table)``, a table of an earlier step and the policies it was built
    from. When every merchant still has the very same policy (a policy is never changed in place:
    a change makes a new one), the table's arrays are shared (nothing writes into a table) and only
    the reputations are read afresh."""
    pols = [mm.policy for mm in merchants]
    if previous is not None and len(previous[0]) == len(pols) and all(a is b for a, b in zip(previous[0], pols)):
        table = copy.copy(previous[1])
        table.reputation = np.asarray([mm.reputation for mm in merchants], dtype=np.float32)
        return table
    f = lambda xs: np.asarray(xs, dtype=np.float32)  # noqa: E731
    tier = [TIER_EFFECTS[p.programme] for p in pols]
    member = np.array([p.programme != PROGRAMME_TIERS[0] for p in pols])
    price = f([p.price for p in pols])
    benefit = f([p.programme_benefit if p.programme != "none" else 0.0 for p in pols])
    fee = f([p.programme_fee if p.programme != "none" else 0.0 for p in pols])
    return PolicyTable(
        quality=f([p.quality for p in pols]),
        sd=f([(1.0 - p.consistency) * QUALITY_SD_MAX for p in pols]),
        failure_prob=f([p.failure_prob for p in pols]),
        failure_severity=f([p.failure_severity for p in pols]),
        basic_missing=f([1.0 - p.basic_quality for p in pols]),
        excitement=f([p.excitement for p in pols]),
        price=price,
        price_paid=price * (1 - benefit) + fee,
        promise=f([p.promise for p in pols]),
        complaint_ease=f([p.complaint_ease for p in pols]),
        recovery_prob=f([p.recovery_prob for p in pols]),
        recovery_delay=np.asarray([p.recovery_delay for p in pols], dtype=np.int32),
        compensation=f([p.compensation for p in pols]),
        points=price * benefit * f([t["points"] for t in tier]),
        relational_x=f([t["relational_x"] for t in tier]),
        affective=f([t["affective"] for t in tier]),
        tailoring=f([t["tailoring"] for t in tier]),
        structural=f([t["structural"] for t in tier]),
        programme_cost=f([p.programme_cost if p.programme != "none" else 0.0 for p in pols]),
        unit_cost=f([p.unit_cost + p.quality_cost * p.quality for p in pols]),
        acquisition_cost=f([p.acquisition_cost for p in pols]),
        reputation=f([mm.reputation for mm in merchants]),
        member=member,
    )


# =============================================================================================
# The books of a step (phases ``open`` and ``books`` of sim.model.SCHEDULE; readable twin book_readable)
# =============================================================================================
def merchant_sums(merchant: np.ndarray, m: int, *values):
    """Per merchant: how many entries of ``merchant`` name it, and the sum of each of ``values``
    (float32 arrays alongside, or ``None``) over them (one 0/1 mask per merchant, against which
    every value is summed: far cheaper than a weighted ``bincount``)."""
    sums = [None if v is None else np.zeros(m) for v in values]
    if m == 1:
        for v, out in zip(values, sums):
            if v is not None:
                out[0] = float(v.sum(dtype=np.float64))
        return np.array([len(merchant)], dtype=np.int64), sums
    counts = np.zeros(m, dtype=np.int64)
    for j in range(m):
        mask = merchant == j
        counts[j] = np.count_nonzero(mask)
        if counts[j]:
            f = mask.astype(F32)
            for v, out in zip(values, sums):
                if v is not None:
                    out[j] = float(np.dot(f, v))
    return counts, sums


def open_phase(ctx) -> None:
    """The step opens: every customer's event flags are cleared, and the books start from last
    step's end (``model.start_active``, ``model.start_value``); each place's recent spend is kept as
    it stands now (``stats.start_spend``), so that customers lost during the step are valued at the
    same moment as the start value they are a share of."""
    ctx.pop.flags.fill(0)
    ctx.stats.start_spend = ctx.pop.spend.copy()
    model = ctx.model
    model.start_active, _, model.start_value = model.end_books


def book(model, stats: StepStats) -> None:
    """Each merchant books this step's revenue and costs and updates its reputation; the
    customer counts and spend at the end of this step are the next step's starting point."""
    pop, T = model.pop, model.table
    m = T.m
    # one pass over the population for the books and the observables (read again by compute)
    model.sums = sums = population_sums(pop, m)
    by_stage = sums.by_stage
    customers = by_stage[:, 1:].sum(axis=1)
    spend = sums.spend
    members = customers * T.member
    if stats.visit_count is not None:
        revenue, units, encounters = stats.visit_revenue, stats.visit_units, stats.visit_count
        own, perceived = stats.own_count, stats.own_perceived
    else:
        revenue = units = encounters = own = perceived = np.zeros(m)
    acquired = np.bincount(np.concatenate(stats.acquired_merchant), minlength=m) if stats.acquired_merchant \
        else np.zeros(m, dtype=np.int64)
    lost_m = np.concatenate(stats.lost_merchant) if stats.lost_merchant else np.zeros(0, np.intp)
    lost_v = np.concatenate(stats.lost_value) if stats.lost_value else np.zeros(0)
    lost = np.bincount(lost_m, minlength=m)
    lost_value = np.bincount(lost_m, weights=lost_v, minlength=m)
    rec = np.bincount(stats.recovered_merchant, minlength=m) if stats.recovered_merchant is not None \
        else np.zeros(m)
    _, start_c, start_v = model.end_books
    # per merchant in plain Python numbers (float64 and int, as numpy's scalars would compute them)
    unit_cost, programme_cost = T.unit_cost.tolist(), T.programme_cost.tolist()
    acquisition_cost, compensation, price = T.acquisition_cost.tolist(), T.compensation.tolist(), T.price.tolist()
    units, members, acquired, rec = units.tolist(), members.tolist(), acquired.tolist(), rec.tolist()
    revenue, lost, lost_value, encounters = revenue.tolist(), lost.tolist(), lost_value.tolist(), encounters.tolist()
    own, perceived, start_c, start_v = own.tolist(), perceived.tolist(), start_c.tolist(), start_v.tolist()
    for j, (mm, n_j) in enumerate(zip(model.merchant_list, customers.tolist())):
        cost = (unit_cost[j] * units[j] + programme_cost[j] * members[j] + acquisition_cost[j] * acquired[j]
                + rec[j] * compensation[j] * price[j])
        mm.book(revenue[j], cost, n_j, acquired[j], lost[j], lost_value[j], start_v[j],
                start_c[j], encounters[j], perceived[j] / own[j] if own[j] else None)
    model.end_books = (int(customers.sum()), customers, spend)
    # the market's mean expectation, read by the next step's intention (see :func:`sim.mechanism.loyalty.intention`)
    active = int(customers.sum())
    model.mean_expectation = sums.expectation / active if active else model.params.expectation_init


def books_phase(ctx) -> None:
    """Per merchant, this step's purchases (own and trial, units, revenue, the quality its own
    customers received, compensation paid), then :func:`book`."""
    stats, T = ctx.stats, ctx.T
    m = T.m
    own_count, (own_perceived, own_units) = merchant_sums(ctx.w16, m, ctx.quality, ctx.units)
    trial_count = np.bincount(ctx.trial_at, minlength=m)
    stats.own_count, stats.own_perceived = own_count, own_perceived
    stats.visit_count = own_count + trial_count
    stats.visit_units = (own_units if ctx.multi else own_count) + np.bincount(ctx.trial_at, weights=ctx.tunits,
                                                                              minlength=m)
    price_paid = T.price_paid.astype(np.float64)
    stats.visit_revenue = price_paid * stats.visit_units
    stats.recovered_merchant = ctx.recovered_m
    book(ctx.model, stats)


def book_readable(model) -> None:
    """Each merchant books this step's revenue and costs; its reputation follows the quality its
    own customers received."""
    T, m = model.policies, len(model.merchant_list)
    customers = [0] * m
    for c in model.customers():
        customers[c.merchant] += 1
    for j, mm in enumerate(model.merchant_list):
        visits = [(paid, units, quality) for (k, paid, units, quality) in model.visits if k == j]
        revenue = sum(paid for paid, _, _ in visits)
        units = sum(u for _, u, _ in visits)
        own = [q for _, _, q in visits if q is not None]
        lost = [spend for k, spend, _ in model.lost if k == j]
        cost = (T.unit_cost[j] * units + T.programme_cost[j] * customers[j] * T.member[j]
                + T.acquisition_cost[j] * model.acquired[j] + model.compensated[j] * T.compensation[j] * T.price[j])
        mm.book(revenue, cost, customers[j], model.acquired[j], len(lost), sum(lost), model.start_value[j],
                model.start_customers[j], len(visits), sum(own) / len(own) if own else None)

"""``LoyaltyModel``: one market, stepped one period (say a week) at a time.

A real ``mesa.Model``: merchants are ``mesa.Agent`` objects (``model.agents``), data is collected
by a ``mesa.DataCollector`` every step, and the one random generator is ``model.rng``. Customers
are the array population of :mod:`sim.mechanism.state`; :meth:`LoyaltyModel.customer` looks any of
them up by id.

One step (:meth:`LoyaltyModel.step`) runs the phases of :data:`SCHEDULE` in order, the mechanism of
the theory: need → A encounter → B perception and evaluation → C/D reinforcement (Cycle A) → E
complaints and F recovery scheduled → G trust → switching costs grow, expectations adapt → trial
purchases → recoveries landing now re-evaluated (Cycle B) → H loyalty → word of mouth → choice and
churn → arrivals → merchants book and adapt → observables collected. Each phase is a function of
one :class:`~sim.mechanism.context.StepContext`, in the mechanism module of its process
(:mod:`sim.mechanism`); docs/ODD.md lists the same phases.
"""

from __future__ import annotations

import copy
import operator
from dataclasses import dataclass, field

import mesa
import numpy as np

from .history import History, history_bytes
from .inputs.keys import params_from_keys
from .mechanism.arrival import arrival_phase, arrive
from .mechanism.choice import choice_phase
from .mechanism.complaints import complain_phase
from .mechanism.context import Phase, StepContext
from .mechanism.encounter import encounter_phase
from .mechanism.evaluation import evaluate_phase
from .mechanism.expectations import expectations_phase
from .mechanism.loyalty import loyalty_phase
from .mechanism.need import age_phase, need_phase
from .mechanism.purchase import pay_phase, trial_phase
from .mechanism.recovery import cycle_b_phase, recover_phase
from .mechanism.reinforcement import reinforce_phase
from .mechanism.state import CHURNED, STAGES, Population, StepStats
from .mechanism.switching_costs import switching_cost_base, switching_costs_phase
from .mechanism.trust import trust_phase
from .mechanism.word_of_mouth import word_of_mouth_phase
from .merchants import Merchant, book, books_phase, open_phase, policy_table
from .metrics import MERCHANT_METRICS, METRICS, compute, customer_types
from .network import network_bytes, small_world
from .params import PARAMS, Params, ParamError

__all__ = ["LoyaltyModel", "Intervention", "SCHEDULE", "STRUCTURAL", "memory_estimate", "check_seed"]

#: parameters that shape the market's structure and cannot change once it exists
STRUCTURAL = ("n_customers", "network_degree", "network_rewire", "history_limit", "history_depth",
              "initial_share_active")


@dataclass
class Intervention:
    """A policy change in the middle of a run (shown on plots)."""

    step: int
    target: str  # merchant name, or "market"
    changes: dict = field(default_factory=dict)
    source: str = "user"  # "user", "strategy" or "scenario"


#: a step's temporary arrays, as a multiple of the customers' state (measured: about 0.5–1×)
STEP_OVERHEAD = 1.0


def memory_estimate(params: Params) -> int:
    """Bytes one model with ``params`` needs at most, from the declared state: the customers'
    arrays (and as much again for a step's temporaries), the network's ties and the histories
    (:func:`sim.history.history_bytes`). Used to refuse settings that cannot fit before a run starts."""
    n, m = params.n_customers, len(params.merchants)
    per_customer = Population(1, m).nbytes()
    pop = n * per_customer * (1 + STEP_OVERHEAD)
    ties = network_bytes(n, params.network_degree, params.network_rewire)
    return int(pop + ties + history_bytes(n, params.history_limit, params.history_depth))


def check_seed(key: str, value):
    """``value`` given as ``seed`` or ``rng`` (``key``), checked before numpy sees it: ``None``, a whole
    number ≥ 0 (``5.0`` is 5; not ``True``) or a ``numpy.random.SeedSequence``; as ``rng`` also what
    Mesa 3.3 takes there, a ``numpy.random.Generator`` or ``BitGenerator`` or a list of whole numbers
    ≥ 0. Anything else is a :class:`ParamError` naming the key and what is allowed (numpy's own
    error would not)."""
    if value is None or isinstance(value, np.random.SeedSequence):
        return value
    if key == "rng" and isinstance(value, (np.random.Generator, np.random.BitGenerator)):
        return value

    def whole(x):
        if isinstance(x, (bool, np.bool_)):
            return None
        if isinstance(x, (int, np.integer)):
            return int(x) if x >= 0 else None
        if isinstance(x, (float, np.floating)) and np.isfinite(x) and x >= 0 and float(x).is_integer():
            return int(x)
        return None

    v = whole(value)
    if v is not None:
        return v
    if key == "rng" and isinstance(value, (list, tuple)) and value:
        vs = [whole(x) for x in value]
        if all(x is not None for x in vs):
            return vs
    if key == "rng":
        what = ("a whole number ≥ 0 (0, 1, 2, …), a list of such numbers, a numpy SeedSequence or a numpy Generator "
                "(as Mesa's rng)")
        what_zh = "≥ 0 的整数（0、1、2……）、这类整数的列表、numpy SeedSequence 或 numpy Generator（与 Mesa 的 rng 相同）"
    else:
        what, what_zh = "a whole number ≥ 0 (0, 1, 2, …) or a numpy SeedSequence", "≥ 0 的整数（0、1、2……）或 numpy SeedSequence"
    raise ParamError(key, f"{key} = {value!r} must be {what}; the same {key} gives the same run",
                     None, f"{key} = {value!r} 必须是{what_zh}；"
                           f"相同的 {key} 得到相同的运行结果")


class LoyaltyModel(mesa.Model):
    """A market of customers and merchants.

    >>> from sim import LoyaltyModel, Params
    >>> model = LoyaltyModel(Params(n_customers=500), seed=1)
    >>> for _ in range(10):
    ...     model.step()
    >>> model.datacollector.get_model_vars_dataframe()["loyal_share"].shape
    (11,)
    """

    def __init__(self, params: Params | None = None, seed: int | np.random.SeedSequence | None = None, *,
                 rng: int | np.random.SeedSequence | np.random.Generator | None = None, **kwargs):
        """A market from ``params`` (default: the default market), with keyword parameters on top, the
        way Mesa models take them: ``LoyaltyModel(n_customers=3000, trust_gain=0.1, seed=5)``.
        Merchants' parameters are reached by the keys the CLI and scenario files use,
        ``LoyaltyModel(**{"A.price": 1.2, "merchants[2].quality": 0.6})`` (see
        :func:`sim.inputs.keys.params_from_keys`), so ``mesa.batch_run`` and Mesa's ``SolaraViz`` can
        vary any parameter. ``seed`` (or, as in Mesa, ``rng``: a seed or a ``numpy.random.Generator``)
        makes the run reproducible; with neither, a fresh seed is drawn and kept in ``model.seed``.
        Bad values raise :class:`~sim.params.ParamError` naming the key and its allowed range."""
        if seed is not None and rng is not None:
            raise ParamError("rng", "give either seed or rng, not both", None, "seed 与 rng 只能给出其一")
        seed = check_seed("seed", seed)
        rng = check_seed("rng", rng)
        if rng is None:
            if seed is None:
                seed = np.random.SeedSequence().entropy
            rng = seed
        elif not isinstance(rng, np.random.Generator):
            seed = rng  # a seed given as rng, as Mesa allows
        super().__init__(rng=np.random.default_rng(rng))
        self.seed = seed  # None when the generator itself was given
        self.params = params if params is not None else Params()
        if not isinstance(self.params, Params):
            raise ParamError("params", "params must be a sim.Params (use Params.from_dict for plain values)", None,
                             "params 必须是 sim.Params（普通数值请用 Params.from_dict）")
        if kwargs:
            self.params = params_from_keys(kwargs, base=self.params)
        P = self.params
        self.merchant_list: list[Merchant] = [Merchant(self, j, mp) for j, mp in enumerate(P.merchants)]
        self.merchant_names = [mm.name for mm in self.merchant_list]
        self.table = policy_table(self.merchant_list)
        self._built_from = None  # (policies, table) of the last step's table (see step_context)
        self.pop = Population(P.n_customers, len(self.merchant_list))
        self.network = small_world(P.n_customers, P.network_degree, P.network_rewire, self.rng)
        self.history = History(P.n_customers, P.history_limit, P.history_depth, self.rng)
        self.interventions: list[Intervention] = []
        self.stats = StepStats()
        self.excitement_seen = False  # has any merchant ever offered an excitement attribute?
        m = len(self.merchant_list)
        # the books: (active customers, customers and recent spend per merchant) at the end of the
        # last step, which are this step's start; the population's sums and mean expectation
        self.end_books = (0, np.zeros(m, dtype=np.int64), np.zeros(m))
        self.start_active, _, self.start_value = self.end_books
        self.sums = None
        self.mean_expectation = P.expectation_init
        self.metrics: dict = {}
        # the first customers: prospects who have picked a merchant but not bought yet
        k = int(round(P.initial_share_active * P.n_customers))
        first = np.sort(self.rng.choice(P.n_customers, size=k, replace=False))
        arrive(self.pop, P, self.table, self.rng, self.stats, empty=first)
        book(self, self.stats)
        self.metrics = compute(self, self.stats)
        self.datacollector = Collector(
            model_reporters={name: _reporter(name) for name in METRICS},
            agenttype_reporters={Merchant: {"merchant": "name", **{n: n for n in MERCHANT_METRICS}}},
        )
        self.datacollector.collect(self)
        self.history.record(self.pop, 0, self.merchant_names)

    # ---- interventions --------------------------------------------------------------------
    def merchant(self, name_or_index) -> Merchant:
        if isinstance(name_or_index, (int, np.integer)):
            return self.merchant_list[int(name_or_index)]
        for mm in self.merchant_list:
            if mm.name == name_or_index:
                return mm
        raise KeyError(f"no merchant named {name_or_index!r} (merchants: {', '.join(self.merchant_names)})")

    def set_policy(self, merchant, **changes) -> Intervention:
        """Change a merchant's policy from the next step on, e.g. ``set_policy("A", quality=0.9)``."""
        mm = self.merchant(merchant)
        clean = mm.set_policy(**changes)
        iv = Intervention(self.steps, mm.name, clean, "user")
        self.interventions.append(iv)
        self.table = policy_table(self.merchant_list)
        self.refresh_switching_costs()
        return iv

    def refresh_switching_costs(self) -> None:
        """Recompute every customer's total switching cost (after a policy or parameter change)."""
        idx = np.flatnonzero(self.pop.stage > CHURNED)
        self.pop.switch_cost[idx] = switching_cost_base(self.pop, idx, self.table, self.params)

    def set_params(self, **changes) -> Intervention:
        """Change market-wide parameters from the next step on (not the structural ones)."""
        for k in changes:
            if k in STRUCTURAL:
                raise ParamError(k, f"parameter '{k}' shapes the market and can only be set before it starts", None,
                                 f"参数 '{k}' 决定市场结构，只能在开始之前设置")
            if k not in PARAMS:
                raise ParamError(k, f"unknown parameter '{k}'", None, f"未知参数 '{k}'")
        self.params = self.params.replace(**changes)
        clean = {k: getattr(self.params, k) for k in changes}
        iv = Intervention(self.steps, "market", clean, "user")
        self.interventions.append(iv)
        self.refresh_switching_costs()
        return iv

    # ---- lookup ---------------------------------------------------------------------------
    def customer(self, customer_id: int) -> dict | None:
        """Current state and recent history of a customer (also of one who has left), or ``None`` for
        an id no customer has had (ids are whole numbers ≥ 0; an empty place is no customer). An id that
        is not a whole number is a :class:`ParamError`."""
        if isinstance(customer_id, (bool, np.bool_)) or not isinstance(customer_id, (int, np.integer)):
            raise ParamError("customer_id", f"a customer id is a whole number ≥ 0, not {customer_id!r} "
                             "(model.customer_ids() lists them)", None,
                             f"顾客编号是 ≥ 0 的整数，而不是 {customer_id!r}（model.customer_ids() 可列出它们）")
        if customer_id < 0:
            return None
        return self.history.lookup(self.pop, int(customer_id), self.merchant_names)

    #: the kinds of customer :meth:`pick_customer` finds
    CUSTOMER_KINDS = ("loyal", "trusting", "ordinary", "hostage", "recovered", "botched", "left")

    def pick_customer(self, kind: str, rng: np.random.Generator, merchant: int | None = None) -> int | None:
        """The id of a random customer of ``kind`` (:data:`CUSTOMER_KINDS`: a stage; "hostage", who
        means to stay without being satisfied; "recovered", whose complaint was put right;
        "botched", whose complaint was not; "left", who left the market lately), of merchant number
        ``merchant`` if given (for "left": its last merchant), or ``None`` if there is none. Customers
        whose history is recorded are preferred (large markets record a sample). Draws from ``rng``,
        never the model's generator, so looking at customers does not change the run."""
        pop, hist = self.pop, self.history
        if kind == "left":
            ids = hist.departed(merchant)
            return int(ids[rng.integers(len(ids))]) if ids else None
        active = pop.stage > CHURNED
        if kind in ("loyal", "trusting", "ordinary"):
            mask = pop.stage == STAGES.index(kind)
        elif kind == "hostage":
            mask = customer_types(pop, self.params)[2]
        elif kind == "recovered":
            mask = active & (pop.recoveries_ok > 0)
        elif kind == "botched":
            mask = active & (pop.recoveries > pop.recoveries_ok)
        else:
            raise KeyError(kind)
        if merchant is not None:
            mask = mask & (pop.merchant == merchant)
        recorded = mask & hist.recorded()
        places = np.flatnonzero(recorded if recorded.any() else mask)
        if len(places) == 0:
            return None
        return int(pop.id[places[rng.integers(len(places))]])

    def customer_ids(self, stage: str | None = None) -> np.ndarray:
        """Ids of active customers (optionally of one of their stages: 'prospect', 'ordinary',
        'trusting', 'loyal'); another stage is a :class:`ParamError` naming them."""
        if stage is None:
            return self.pop.id[self.pop.stage > CHURNED]
        active = STAGES[CHURNED + 1:]
        if stage not in active:
            raise ParamError("stage", f"stage = {stage!r}: the stages of active customers are {', '.join(active)} "
                             "(customers who left: model.pick_customer('left', rng))", None,
                             f"stage = {stage!r}：在网客户的阶段为 {'、'.join(active)}"
                             "（已离开的客户：model.pick_customer('left', rng)）")
        return self.pop.id[self.pop.stage == STAGES.index(stage)]

    # ---- the step -------------------------------------------------------------------------
    def step(self) -> None:
        """One period: the phases of :data:`SCHEDULE`, in order, on one :class:`StepContext`
        (docs/ODD.md lists them)."""
        ctx = self.step_context()
        for phase in SCHEDULE:
            phase.run(ctx)

    def step_context(self) -> StepContext:
        """A fresh context for the next step: the merchants' current policies (so that a change made
        with :meth:`set_policy` takes effect now), new counts, and whether any excitement attribute is
        offered or has ever been (then customers' expectations of it matter)."""
        policies = tuple(mm.policy for mm in self.merchant_list)
        T = self.table = policy_table(self.merchant_list, previous=self._built_from)
        self._built_from = (policies, T)
        self.stats = StepStats()
        excitement = bool(T.excitement.any()) or self.excitement_seen
        self.excitement_seen = excitement
        return StepContext(self, self.params, self.pop, self.rng, T, self.stats, self.network, self.steps,
                           excitement, self.pop.multi_products)


def adapt_phase(ctx: StepContext) -> None:
    """Each merchant with an adaptive strategy may change its policy (from the next step on); the
    change is recorded as an :class:`Intervention`."""
    model, t = ctx.model, ctx.t
    for mm in model.merchant_list:
        changes = mm.adapt(t)
        if changes:
            model.interventions.append(Intervention(t, mm.name, changes, "strategy"))
            if "programme" in changes:
                model.table = policy_table(model.merchant_list)
                model.refresh_switching_costs()


def observe_phase(ctx: StepContext) -> None:
    """Every observable is computed (:func:`sim.metrics.compute`) and collected; the recorded
    customers' histories are updated."""
    model = ctx.model
    model.metrics = compute(model, ctx.stats)
    model.datacollector.collect(model)
    model.history.record(ctx.pop, ctx.t, model.merchant_names)


#: One step, in order: each phase's name, the step of the theory it runs (A–H; "" for the processes
#: around them) and its function. :meth:`LoyaltyModel.step` runs them on one :class:`StepContext`;
#: docs/ODD.md's schedule lists the same phases (checked by tests/test_docs.py).
SCHEDULE: tuple[Phase, ...] = (
    Phase("open", "", open_phase),
    Phase("age", "", age_phase),
    Phase("need", "", need_phase),
    Phase("encounter", "A", encounter_phase),
    Phase("evaluate", "B", evaluate_phase),
    Phase("pay", "", pay_phase),
    Phase("reinforce", "C/D", reinforce_phase),
    Phase("complain", "E", complain_phase),
    Phase("recover", "F", recover_phase),
    Phase("trust", "G", trust_phase),
    Phase("switching_costs", "", switching_costs_phase),
    Phase("expectations", "", expectations_phase),
    Phase("trial", "", trial_phase),
    Phase("cycle_b", "F", cycle_b_phase),
    Phase("loyalty", "H", loyalty_phase),
    Phase("word_of_mouth", "", word_of_mouth_phase),
    Phase("choice", "", choice_phase),
    Phase("arrival", "", arrival_phase),
    Phase("books", "", books_phase),
    Phase("adapt", "", adapt_phase),
    Phase("observe", "", observe_phase),
)


class Collector(mesa.DataCollector):
    """Mesa's ``DataCollector``, used as Mesa documents it; the model's observables are plain numbers,
    so they are stored as they are, without the copy Mesa makes of every reported value in case it
    is a mutable object (other values are still copied). An agent type whose reporters are all
    attribute names (the merchants') is read with one ``operator.attrgetter`` per agent: the same
    rows as Mesa's, one call instead of one per attribute."""

    def __init__(self, model_reporters=None, agent_reporters=None, agenttype_reporters=None, tables=None):
        super().__init__(model_reporters, agent_reporters, agenttype_reporters, tables)
        self._attributes = {
            agent_type: (tuple(reporters), operator.attrgetter(*reporters.values()))
            for agent_type, reporters in (agenttype_reporters or {}).items()
            if len(reporters) > 1 and all(isinstance(r, str) for r in reporters.values())}

    def _record_agenttype(self, model, agent_type):
        names, read = self._attributes.get(agent_type, ((), None))
        if read is None or tuple(self.agenttype_reporters[agent_type]) != names or agent_type not in model.agent_types:
            return super()._record_agenttype(model, agent_type)
        step = model.steps
        try:
            return [(step, agent.unique_id, *read(agent)) for agent in model.agents_by_type[agent_type]]
        except AttributeError:  # an attribute missing: Mesa's own reading (None for it)
            return super()._record_agenttype(model, agent_type)

    def collect(self, model) -> None:
        reporters = self.model_reporters
        for name, report in reporters.items():
            v = report(model)
            self.model_vars[name].append(v if isinstance(v, (int, float)) else copy.deepcopy(v))
        self.model_reporters = {}  # Mesa collects the rest (the merchants' values)
        try:
            super().collect(model)
        finally:
            self.model_reporters = reporters


    def get_agent_vars_dataframe(self):
        """The model's agents are its merchants, collected by type (``agenttype_reporters``): with no
        agent reporters of its own, the agents' table is the merchants' table, one row per step and
        merchant indexed by ``Step`` and ``AgentID``, as :meth:`get_agenttype_vars_dataframe` gives it
        (Mesa would raise instead). ``mesa.batch_run`` still returns the market's observables only."""
        if not self.agent_reporters and len(self.agenttype_reporters) == 1:
            (agent_type,) = self.agenttype_reporters
            return self.get_agenttype_vars_dataframe(agent_type)
        return super().get_agent_vars_dataframe()


def _reporter(name: str):
    def report(model: LoyaltyModel):
        return model.metrics[name]

    report.__name__ = name
    return report

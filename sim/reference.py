"""The readable reference: the loyalty-formation mechanism, one ``Customer(mesa.Agent)`` per customer.

The fast engine (:mod:`sim.mechanism`, :class:`sim.model.LoyaltyModel`) keeps customers as numpy
arrays. This module states *the same rules* the idiomatic Mesa way: every customer is an object
with plain-Python attributes, stepped one at a time. The rules themselves are the readable twins
(``*_one``, ``*_readable``) that sit beside each vectorised rule in its :mod:`sim.mechanism` module;
this module assembles them into :class:`Customer` and :class:`ReferenceModel` and keeps the order
of one step. It is what a student reads to follow one
customer through the theory, the baseline of ``benchmarks/engine.py`` and an oracle: the tests
check that engine and reference agree *in distribution* (they cannot agree draw for draw).

One step (a period, say a week) of :class:`ReferenceModel`, in the order of ``LoyaltyModel.step``:

1. every customer, in random order (:meth:`Customer.step`): need → visit its own merchant (or,
   variety seeking, try another) → **A** encounter → **B** perceive and evaluate (zone of
   tolerance, loss aversion, diminishing sensitivity) → **C/D** reinforce (Cycle A, 甲循环) or
   **E** complain → **F** recovery scheduled → **G** trust → switching costs grow → expectations
   adapt → a recovery due now is re-evaluated (**F → B**, Cycle B, 乙循环) → **H** loyalty;
2. this step's buyers form their intention to buy again;
3. word of mouth spreads over the social network;
4. the unhappy, the curious and those who noticed a price rise compare merchants: stay, switch or
   leave; involuntary churn;
5. newcomers take empty places; merchants book revenue and costs and adapt; observables collected.
"""

from __future__ import annotations

from operator import attrgetter
from types import SimpleNamespace

import mesa
import numpy as np

from .mechanism.arrival import arrival_readable, arrive_one
from .mechanism.choice import (alternative_utilities_one, compare_and_churn_readable, compare_one, leave_one,
                               record_loss_one, stay_utility_one, value_stay_utility_one)
from .mechanism.common import logit_choice_one
from .mechanism.complaints import aggrieve_one, complain_one
from .mechanism.encounter import encounter_one
from .mechanism.evaluation import acsi_readable, evaluate_one, felt_one, judge_value_one, perceive_one, remember_one
from .mechanism.expectations import adapt_expectations_one
from .mechanism.loyalty import become_loyal_one, form_intentions_readable
from .mechanism.need import get_older_one, need_one, visit_one
from .mechanism.price_rise import notice_price_one
from .mechanism.purchase import pay_one, raise_share_of_wallet_one, try_other_one
from .mechanism.recovery import recover_one, reevaluate_recovery_one, settle_grievance_one
from .mechanism.reinforcement import reinforce_one
from .mechanism.relationship import start_relationship_one
from .mechanism.state import EV, LOYAL, R_FAILURE, Population, StepStats
from .mechanism.switching_costs import cross_sell_one, grow_switching_costs_one, points_cost_one, switch_cost_one
from .mechanism.trust import accumulate_trust_one
from .mechanism.word_of_mouth import spread_word_of_mouth_readable
from .merchants import AGENT_IDS, Merchant, book_readable, policy_table
from .metrics import MERCHANT_METRICS, METRICS, compute
from .network import small_world
from .params import ParamError, Params

__all__ = ["Customer", "ReferenceModel", "evaluate"]

#: B — the one-customer evaluation (:func:`sim.mechanism.evaluation.evaluate_one`)
evaluate = evaluate_one


class Customer(mesa.Agent):
    """One customer: its traits, its relationship with one merchant and its stage of loyalty.

    Stages: prospect (chose a merchant, has not bought) → ordinary → trusting (past the bottleneck
    G) → loyal (the peak H); ``churned`` once it has left the market. Every rule is a readable twin
    from :mod:`sim.mechanism` (named in the assignments below); :meth:`step` and :meth:`buy` keep
    their order.
    """

    _ids = AGENT_IDS  # unique ids counted per model with the merchants', freed with the model

    def __init__(self, model: ReferenceModel, place: int):
        super().__init__(model)
        self.arrive(place)

    # ---- the rules: readable twins of sim.mechanism ------------------------------------------
    arrive = arrive_one  # arrival: a newcomer's traits and first merchant
    start_relationship = start_relationship_one  # relationship
    switch_cost = property(switch_cost_one)  # switching_costs
    points_cost = property(points_cost_one)
    grow_switching_costs = grow_switching_costs_one
    cross_sell = cross_sell_one
    stay_utility = stay_utility_one  # choice
    value_stay_utility = value_stay_utility_one
    alternative_utilities = alternative_utilities_one
    compare = compare_one
    leave = leave_one
    get_older = get_older_one  # need
    needs = need_one
    visit = visit_one
    encounter = encounter_one  # A
    notice_price = notice_price_one  # price_rise
    perceive = perceive_one  # B
    felt = felt_one
    judge_value = judge_value_one
    remember = remember_one
    pay = pay_one  # purchase
    raise_share_of_wallet = raise_share_of_wallet_one
    try_other = try_other_one
    reinforce = reinforce_one  # C/D
    complain = complain_one  # E
    aggrieve = aggrieve_one
    recover = recover_one  # F
    reevaluate_recovery = reevaluate_recovery_one  # F → B
    settle_grievance = settle_grievance_one
    accumulate_trust = accumulate_trust_one  # G
    adapt_expectations = adapt_expectations_one  # expectations
    become_loyal = become_loyal_one  # H

    # ---- one step -----------------------------------------------------------------------------
    def step(self) -> None:
        """Phase 1 of a step for this customer: need, a purchase (A–G), Cycle B, then H."""
        model, P = self.model, self.model.params
        self.get_older()
        bought_own = False
        if self.needs():  # need: does it buy this period?
            j, trial = self.visit()
            self.flags |= EV.PURCHASE
            if trial:
                self.try_other(j)
            else:
                self.buy()
                bought_own = True
        # F → B (Cycle B): a recovery that lands now is evaluated again
        reevaluated = self.recovery_due == model.steps and self.reevaluate_recovery()
        if bought_own or reevaluated:
            self.become_loyal()  # H
        if reevaluated and not bought_own:
            model.reevaluated.append(self)  # the answer is known: it forms its intention anew
        if bought_own:
            model.own_buyers.append(self)
            # recommend: the delighted always; a satisfied buyer with chance wom_loyal · trust
            if self.satisfied_now and (self.delighted_now or model.rng.random() < P.wom_loyal * self.trust):
                model.messages.append((self, self.merchant, P.wom_positive, +1))


    def buy(self) -> None:
        """A purchase from its own merchant: A, B, then C/D (satisfied) or E/F (dissatisfied), G."""
        model, P, T, j = self.model, self.model.params, self.model.policies, self.merchant
        self.notice_price(T.price_paid[j])
        quality, failed = self.encounter(j)  # A
        if failed:
            self.flags |= EV.FAILED
        value = self.perceive(j, quality)  # B
        E = self.expectation
        tolerance = P.loyal_failure_tolerance if self.stage == LOYAL else 0.0
        s, short, surplus = evaluate_one(value, E, P, tolerance)
        self.value_realised += self.pay(j, quality)
        self.perceived, self.value, self.disconfirmation, self.txn_sat = quality, value, value - E, s
        self.judge_value(value)
        self.remember(self.felt(s))
        model.acsi.append((self.satisfaction, E, value, quality))
        self.raise_share_of_wallet()
        self.satisfied_now, self.delighted_now = short <= 0, surplus > 0
        if short <= 0:
            # C, D — satisfied: positive reinforcement, one more pass of Cycle A
            model.stats.satisfied += 1
            model.stats.add_at("cycle_a", j)
            model.stats.delighted += surplus > 0
            self.flags |= EV.SATISFIED | (EV.DELIGHTED if surplus > 0 else 0)
            self.accumulate_trust(self.reinforce(self.felt(s), j), 0.0)  # G
            self.aggrieve(0.0)  # an old grievance fades
        else:
            # E — dissatisfied: negative reinforcement; complain, or stay silent and maybe talk
            model.stats.dissatisfied += 1
            model.stats.add_at("dissatisfied", j)
            self.flags |= EV.DISSATISFIED
            self.failures += 1
            severity = min(short / P.severity_scale, 1.0)
            self.aggrieve(severity if failed else 0.0)  # a failure leaves a grievance
            if self.complain(severity, j):
                self.recover(j, value)  # F — the merchant answers: resolved or not, after its delay
            else:
                model.messages.append((self, j, P.wom_negative, -1))
                if self.recovery_due <= model.steps:  # not still waiting for an answer (voice pending)
                    model.unhappy.append((self, R_FAILURE, P.reconsider_dissatisfied))
            self.accumulate_trust(0.0, severity)  # G
        self.grow_switching_costs(j)
        self.cross_sell()
        self.adapt_expectations(value, j)



class ReferenceModel(mesa.Model):
    """The market of :class:`sim.model.LoyaltyModel`, with one :class:`Customer` agent per customer.

    Merchants (:class:`sim.merchants.Merchant`), the social network (:func:`sim.network.small_world`)
    and the observables (:func:`sim.metrics.compute`, collected by a ``DataCollector``) are shared
    with the engine.
    """

    def __init__(self, params: Params | None = None, seed: int | np.random.SeedSequence | None = None):
        if seed is None:
            seed = np.random.SeedSequence().entropy
        super().__init__(rng=np.random.default_rng(seed))
        self.seed = seed
        self.params = P = params if params is not None else Params()
        if not isinstance(P, Params):
            raise ParamError("params", "params must be a sim.Params (use Params.from_dict for plain values)")
        self.merchant_list = [Merchant(self, j, mp) for j, mp in enumerate(P.merchants)]
        self.merchant_names = [mm.name for mm in self.merchant_list]
        self._refresh_policies()
        net = small_world(P.n_customers, P.network_degree, P.network_rewire, self.rng)
        self.contacts = [net.neighbours(p).tolist() for p in range(P.n_customers)]
        self.places: list[Customer | None] = [None] * P.n_customers  # a place keeps its last occupant
        self._new_step_records()
        k = int(round(P.initial_share_active * P.n_customers))
        for place in np.sort(self.rng.choice(P.n_customers, size=k, replace=False)).tolist():
            self.places[place] = Customer(self, place)  # prospects who have chosen, not bought
        m = len(self.merchant_list)
        self.start_active, self.start_customers, self.start_value = 0, np.zeros(m, dtype=np.int64), np.zeros(m)
        self.book()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in METRICS},
            agenttype_reporters={Merchant: {"merchant": "name", **{n: n for n in MERCHANT_METRICS}}},
        )
        self.observe()

    # ---- the readable twins of sim.mechanism's market-wide rules ----------------------------------
    logit_choice = logit_choice_one
    record_loss = record_loss_one
    form_intentions = form_intentions_readable
    spread_word_of_mouth = spread_word_of_mouth_readable
    book = book_readable

    # ---- helpers --------------------------------------------------------------------------------
    def customers(self) -> list[Customer]:
        """The active customers (the agents of type :class:`Customer`)."""
        return list(self.agents_by_type.get(Customer, []))

    def _refresh_policies(self) -> None:
        """The merchants' current policies: a ``PolicyTable`` (for metrics) and plain lists."""
        self.table = policy_table(self.merchant_list)
        self.policies = SimpleNamespace(**{k: v.tolist() for k, v in vars(self.table).items()})

    def _new_step_records(self) -> None:
        m = len(self.merchant_list)
        self.stats = StepStats()
        self.visits: list[tuple[int, float, int, float | None]] = []  # merchant, paid, units, quality
        self.acsi: list[tuple[float, float, float, float]] = []  # satisfaction, expectation, value, quality
        self.messages: list[tuple[Customer, int, float, int]] = []  # speaker, about, chance, ±1
        self.unhappy: list[tuple[Customer, int, float]] = []  # who may reconsider, why, with what chance
        self.price_rises: list[Customer] = []  # who noticed a price rise and will compare on value
        self.own_buyers: list[Customer] = []
        self.reevaluated: list[Customer] = []  # whose recovery landed without a purchase
        self.acquired, self.compensated = [0] * m, [0] * m
        self.lost: list[tuple[int, float, int]] = []  # (merchant, recent spend, reason) per customer lost

    # ---- the step -------------------------------------------------------------------------------
    def step(self) -> None:
        self._refresh_policies()
        self._new_step_records()
        m = len(self.merchant_list)
        for c in self.places:  # flags record what happened to a place in this step
            if c is not None:
                c.flags = 0
        customers = self.customers()
        self.start_active = len(customers)
        self.start_customers, self.start_value = np.zeros(m, dtype=np.int64), np.zeros(m)
        for c in customers:
            self.start_customers[c.merchant] += 1
            self.start_value[c.merchant] += c.spend
            c.start_spend = c.spend  # a customer lost during the step is valued as it stood now
        # 1. need, purchase, A–G, Cycle B, H — customer by customer
        if customers:
            for i in self.rng.permutation(len(customers)):  # every customer, in random order
                customers[i].step()
        self.stats.purchases = len(self.visits)
        self.stats.cycle_a = self.stats.satisfied
        # 2. intention to buy again (intentional loyalty) of this step's own-merchant buyers and of
        #    those whose complaint was answered
        self.form_intentions()
        # 3. word of mouth
        self.spread_word_of_mouth(customers)
        # 4. who compares merchants, their choice; involuntary churn
        compare_and_churn_readable(self, customers)
        # 5. newcomers take places left before this step; merchants book and adapt; observe
        arrival_readable(self, Customer)
        self.book()
        for mm in self.merchant_list:
            mm.adapt(self.steps)
        self.observe()

    def to_population(self) -> Population:
        """Every place's state packed into a :class:`sim.mechanism.state.Population` (for the shared
        metrics). A place keeps its last occupant's record, as in the engine."""
        pop = Population(self.params.n_customers, len(self.merchant_list))
        occupied = [c for c in self.places if c is not None]
        if not occupied:
            return pop
        names = [name for name in Population.FLOATS + Population.INTS + Population.SCALARS
                 if hasattr(occupied[0], name)]
        columns = zip(*map(attrgetter("place", "unique_id", "heard", *names), occupied))  # one per attribute
        at = np.array(next(columns))
        pop.id[at] = next(columns)
        pop.heard[at] = next(columns)
        for name, column in zip(names, columns):
            getattr(pop, name)[at] = column
        pop.any_points = any(c.financial > 0 for c in occupied)
        return pop

    def observe(self) -> None:
        """Pack the customers and the step's counts the way :func:`sim.metrics.compute` reads them."""
        P, stats = self.params, self.stats
        stats.lost_merchant = [np.array([k for k, _, _ in self.lost], dtype=np.intp)]
        stats.lost_value = [np.array([v for _, v, _ in self.lost], dtype=np.float64)]
        stats.lost_reason = [np.array([r for _, _, r in self.lost], dtype=np.intp)]
        acsi_readable(stats, self.acsi, P)
        self.pop = self.to_population()
        active = self.customers()
        self.mean_expectation = (sum(c.expectation for c in active) / len(active) if active
                                 else P.expectation_init)
        self.metrics = compute(self, stats)
        self.datacollector.collect(self)


def _reporter(name: str):
    def report(model):
        return model.metrics[name]

    report.__name__ = name
    return report

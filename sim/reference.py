"""The readable reference: the loyalty-formation mechanism, one ``Customer(mesa.Agent)`` per customer.

The fast engine (:mod:`sim.customers`, :class:`sim.model.LoyaltyModel`) keeps customers as numpy
arrays. This module states *the same rules* the idiomatic Mesa way: every customer is an object
with plain-Python attributes, stepped one at a time. It is what a student reads to follow one
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

import math
from operator import attrgetter
from types import SimpleNamespace

import mesa
import numpy as np

from .customers import (
    CHURNED, EV, LOYAL, MIN_EXPECTED_PRICE, ORDINARY, PROSPECT, R_COMPETITOR, R_FAILURE, R_INVOLUNTARY,
    R_NONE, R_OTHER, R_PRICE, R_RECOVERY, TRUSTING, Population, StepStats,
)
from .merchants import Merchant, policy_table
from .metrics import MERCHANT_METRICS, METRICS, compute
from .network import small_world
from .params import POINTS_CAP, ParamError, Params

__all__ = ["Customer", "ReferenceModel", "evaluate"]

#: per-customer values packed into a Population besides its FLOATS and INTS
_SCALARS = ("stage", "merchant", "products", "recovery_due", "recovery_merchant", "recovery_ok", "churn_reason",
            "flags")


def clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def evaluate(value: float, expectation: float, P, tolerance: float = 0.0) -> tuple[float, float, float]:
    """B — compare a perceived value with the expectation and its zone of tolerance.

    The zone runs from the adequate level ``E − z/2`` to the desired level ``E + z/2``; inside it
    satisfaction moves little (``zone_slope``). Above it satisfaction rises with the surplus, below
    it falls with the shortfall ``loss_aversion`` times as steeply, both with diminishing
    sensitivity (``x ** diminishing_sensitivity``). A loyal customer's ``tolerance`` discounts
    shortfalls. Returns ``(satisfaction in [0, 1], shortfall, surplus)``; 0.5 = as expected.
    """
    adequate = expectation - P.zone_of_tolerance / 2
    desired = expectation + P.zone_of_tolerance / 2
    shortfall = max(adequate - value, 0.0) * (1 - tolerance)
    surplus = max(value - desired, 0.0)
    inside = clip(value, adequate, desired) - expectation
    g = P.diminishing_sensitivity
    s = 0.5 + P.zone_slope * inside + P.gain_sensitivity * (surplus**g - P.loss_aversion * shortfall**g)
    return clip(s, 0.0, 1.0), shortfall, surplus


def price_term(price: float, expected_price: float, sens: float) -> float:
    """Value lost (or gained) by paying ``price`` against the expected price."""
    return sens * (price - expected_price) / expected_price


def anticipated_value(T, P, j: int, expected_price: float, sens: float) -> float:
    """What one purchase from merchant ``j`` should be worth, before buying there: its promise and
    reputation blended, less the price, less a quality doubt when the price is suspiciously low."""
    quality = P.promise_weight * T.promise[j] + (1 - P.promise_weight) * T.reputation[j]
    doubt = max(expected_price * (1 - P.price_doubt) - T.price_paid[j], 0.0) / expected_price
    return quality - price_term(T.price_paid[j], expected_price, sens) - doubt


class Customer(mesa.Agent):
    """One customer: its traits, its relationship with one merchant and its stage of loyalty.

    Stages: prospect (chose a merchant, has not bought) → ordinary → trusting (past the bottleneck
    G) → loyal (the peak H); ``churned`` once it has left the market.
    """

    def __init__(self, model: ReferenceModel, place: int):
        super().__init__(model)
        P, r = model.params, model.rng
        self.place = place  # node of the social network this customer occupies
        self.stage = PROSPECT
        self.age = 0
        # traits a newcomer brings
        self.expected_price = P.expected_price * math.exp(0.1 * r.standard_normal())
        self.price_sens = float(r.gamma(4.0, P.price_sensitivity / 4.0)) if P.price_sensitivity > 0 else 0.0
        self.procedural = float(r.uniform(0.5, 1.5))  # own factor on the market's procedural_cost
        self.complaint_prop = math.exp(0.4 * r.standard_normal() - 0.08)  # mean 1: some complain more
        self.nps_bias = 0.1 * r.standard_normal()
        self.expectation = P.expectation_init + P.expectation_spread * r.standard_normal()
        self.excite_expect = 0.0  # what it has come to expect of the excitement attribute
        self.heard = [0.0] * len(model.merchant_list)  # word of mouth heard about each merchant
        # the latest encounter and the running record
        self.perceived = self.value = self.disconfirmation = self.txn_sat = 0.0
        self.spend = self.affective = 0.0
        self.intentional = 0.5
        self.complaints = self.recoveries = self.recoveries_ok = self.failures = self.switches = 0
        self.recovery_due, self.recovery_merchant, self.recovery_ok, self.recovery_value = -1, -1, False, 0.0
        self.churn_reason = R_NONE
        self.flags = EV.ARRIVED
        # a newcomer came to buy: it picks a merchant (no outside option) and starts a relationship
        self.merchant = -1
        self.start_relationship(model.logit_choice(self.alternative_utilities()))

    # ---- the relationship ---------------------------------------------------------------------
    def start_relationship(self, j: int) -> None:
        """Begin with merchant ``j``: trust and switching costs start afresh; the expectation moves
        halfway to what the customer anticipates of ``j``: its promise and reputation, and what the
        customer has heard about it; how well ``j`` suits the customer (``fit``) is drawn."""
        P, T = self.model.params, self.model.policies
        anticipated = anticipated_value(T, P, j, self.expected_price, self.price_sens) + self.heard[j]
        self.merchant = j
        self.expectation = 0.5 * self.expectation + 0.5 * anticipated
        self.trust, self.satisfaction = P.trust_init, 0.5
        self.fit = P.fit_spread * self.model.rng.standard_normal() if P.fit_spread > 0 else 0.0  # lasting match
        self.tenure = self.cycle_a = self.cycle_b = 0
        self.financial = self.relational = 0.0  # switching costs built with this merchant
        self.products = 1
        self.behavioural, self.wallet, self.value_realised = 0.0, 0.5, 0.0
        self.affective *= 0.5
        self.recovery_due = -1
        self.acq_cost = T.acquisition_cost[j]
        self.last_paid = T.price_paid[j]  # a rise is noticed against the price when it joined
        if self.stage != PROSPECT:
            self.stage = ORDINARY
        self.model.acquired[j] += 1

    @property
    def switch_cost(self) -> float:
        """What leaving the merchant would cost, points aside: procedural (set-up, learning, plus a
        structural programme's ties), relational (built by repeat purchase), and a structural cost
        for each product held beyond the first."""
        P, T = self.model.params, self.model.policies
        return (P.procedural_cost * self.procedural + T.structural[self.merchant] + self.relational
                + (self.products - 1) * P.product_switch_cost)

    @property
    def points_cost(self) -> float:
        """What the programme points it would lose by leaving are worth to it (by price sensitivity)."""
        return self.financial * self.price_sens / self.expected_price

    def stay_utility(self) -> float:
        """Utility of staying: own satisfaction, trust, what was heard, and everything that would be
        lost by switching (switching costs, and programme points valued by price sensitivity)."""
        P = self.model.params
        return (P.satisfaction_weight * (self.satisfaction - 0.5) + P.trust_weight * self.trust
                + self.heard[self.merchant] + self.switch_cost + self.points_cost)

    def value_stay_utility(self) -> float:
        """Utility of staying after noticing a price rise: the own merchant judged on value for money
        like any other offer (at its current price), plus everything that would be lost by switching.
        Satisfaction and trust do not enter."""
        return self.alternative_utilities()[self.merchant] + self.switch_cost + self.points_cost

    def alternative_utilities(self) -> list[float]:
        """Utility of each merchant to a customer who does not buy there (yet): the satisfaction it
        predicts from promise and reputation, through its own evaluation, plus word of mouth."""
        P, T = self.model.params, self.model.policies
        return [P.satisfaction_weight * (evaluate(anticipated_value(T, P, j, self.expected_price, self.price_sens),
                                                  self.expectation, P)[0] - 0.5) + self.heard[j]
                for j in range(len(self.heard))]

    # ---- one step -----------------------------------------------------------------------------
    def step(self) -> None:
        """Phase 1 of a step for this customer: need, a purchase (A–G), Cycle B, then H."""
        model, P = self.model, self.model.params
        self.age += 1
        self.tenure += 1
        self.spend *= 0.9
        bought_own = False
        # need: does it buy this period? Trust makes customers buy more often.
        if self.model.rng.random() < P.purchase_prob * (1 + P.loyal_extra_purchases * self.trust):
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
        if bought_own:
            model.own_buyers.append(self)
            # recommend: the delighted always; a satisfied buyer with chance wom_loyal · trust
            if self.satisfied_now and (self.delighted_now or model.rng.random() < P.wom_loyal * self.trust):
                model.messages.append((self, self.merchant, P.wom_positive, +1))

    def visit(self) -> tuple[int, bool]:
        """Where it buys: its own merchant or — variety seeking — another one for once (ordinary
        customers with chance ``variety_seeking``, trusting ones half as often, loyal ones never)."""
        P, m, r = self.model.params, len(self.heard), self.model.rng
        if m > 1 and P.variety_seeking > 0:
            chance = {ORDINARY: P.variety_seeking, TRUSTING: P.variety_seeking / 2}.get(self.stage, 0.0)
            if r.random() < chance:
                other = int(r.integers(m - 1))
                return other + (other >= self.merchant), True
        return self.merchant, False

    def encounter(self, j: int) -> float:
        """A — the quality received: core quality (plus a customised programme's tailoring), a
        service failure, Kano's must-be attribute, and the excitement attribute *minus what the
        customer has come to expect of it* (delight fades into expectation)."""
        T, r = self.model.policies, self.model.rng
        quality = T.quality[j] + T.tailoring[j] + T.sd[j] * r.standard_normal()
        if r.random() < T.failure_prob[j]:
            quality -= T.failure_severity[j] * float(r.uniform(0.5, 1.5))
        if r.random() < T.basic_missing[j]:
            quality -= 0.3
        return quality + T.excitement[j] - self.excite_expect

    def perceive(self, j: int, quality: float) -> float:
        """B — perceived value: quality less the price against the expected price (a loyal
        customer discounts a price above what it expects)."""
        P, T = self.model.params, self.model.policies
        sens = self.price_sens
        if self.stage == LOYAL and T.price_paid[j] > self.expected_price:
            sens *= 1 - P.loyal_price_tolerance
        return quality - price_term(T.price_paid[j], self.expected_price, sens)

    def pay(self, j: int, quality: float | None) -> float:
        """Pay for the purchase; the merchant's books note it (``quality`` feeds its reputation)."""
        paid = self.model.policies.price_paid[j] * self.products
        self.spend += 0.1 * paid
        self.model.visits.append((j, paid, self.products, quality))
        return paid

    def try_other(self, j: int) -> None:
        """Variety seeking: a purchase from merchant ``j`` only informs the view of ``j``; a bad one
        is talked about."""
        P = self.model.params
        s, short, _ = evaluate(self.perceive(j, self.encounter(j)), self.expectation, P)
        self.pay(j, None)
        self.wallet -= 0.1 * self.wallet  # share of wallet falls
        self.heard[j] = clip(self.heard[j] + clip(s - 0.5, -0.5, 0.5), -1.0, 1.0)
        self.flags |= EV.TRIED_OTHER
        if short > 0:
            self.model.messages.append((self, j, P.wom_negative, -1))

    def buy(self) -> None:
        """A purchase from its own merchant: A, B, then C/D (satisfied) or E/F (dissatisfied), G."""
        model, P, T, j = self.model, self.model.params, self.model.policies, self.merchant
        self.notice_price(T.price_paid[j])
        quality = self.encounter(j)  # A
        value = self.perceive(j, quality)  # B
        E = self.expectation
        tolerance = P.loyal_failure_tolerance if self.stage == LOYAL else 0.0
        s, short, surplus = evaluate(value, E, P, tolerance)
        self.value_realised += self.pay(j, quality)
        self.perceived, self.value, self.disconfirmation, self.txn_sat = quality, value, value - E, s
        self.remember(self.felt(s))
        model.acsi.append((self.satisfaction, E, value, quality))
        self.wallet += 0.1 * (1 - self.wallet)
        self.behavioural = self.wallet * self.tenure / (self.tenure + 10)
        self.satisfied_now, self.delighted_now = short <= 0, surplus > 0
        if short <= 0:
            # C, D — satisfied: positive reinforcement, one more pass of Cycle A
            model.stats.satisfied += 1
            model.stats.delighted += surplus > 0
            self.flags |= EV.SATISFIED | (EV.DELIGHTED if surplus > 0 else 0)
            self.accumulate_trust(self.reinforce(self.felt(s), j), 0.0)  # G
        else:
            # E — dissatisfied: negative reinforcement; complain, or stay silent and maybe talk
            model.stats.dissatisfied += 1
            self.flags |= EV.DISSATISFIED
            self.failures += 1
            severity = min(short / P.severity_scale, 1.0)
            if self.complain(severity, j):
                # F — the merchant answers: resolved or not, after its delay
                self.recovery_ok = self.model.rng.random() < T.recovery_prob[j]
                self.recovery_due = model.steps + T.recovery_delay[j]
                self.recovery_merchant, self.recovery_value = j, value
            else:
                model.messages.append((self, j, P.wom_negative, -1))
                if self.recovery_due <= model.steps:  # not still waiting for an answer (voice pending)
                    model.unhappy.append((self, R_FAILURE, P.reconsider_dissatisfied))
            self.accumulate_trust(0.0, severity)  # G
        self.grow_switching_costs(j)
        if (P.max_products > 1 and P.cross_sell_prob > 0 and self.stage >= TRUSTING
                and self.products < P.max_products and self.model.rng.random() < P.cross_sell_prob):
            self.products += 1  # a trusting customer takes one more product
        self.adapt_expectations(value, j)

    def notice_price(self, price: float) -> None:
        """A price more than ``price_notice`` above what it paid here last time is noticed: an
        ordinary or trusting customer then compares merchants on value for money this step, with
        chance ``price_reconsider`` (loyal customers are exclusive). The price paid now becomes the
        reference."""
        P, r = self.model.params, self.model.rng
        if (P.price_reconsider > 0 and self.stage in (ORDINARY, TRUSTING)
                and price > self.last_paid * (1 + P.price_notice)
                and (P.price_reconsider >= 1 or r.random() < P.price_reconsider)):
            self.model.price_rises.append(self)
        self.last_paid = price

    def felt(self, s: float) -> float:
        """How an encounter felt: transaction satisfaction ``s`` plus the relationship's lasting
        ``fit``, kept between 0 and 1 (overall satisfaction and reinforcement follow it)."""
        return clip(s + self.fit, 0.0, 1.0)

    def remember(self, f: float) -> None:
        """Overall satisfaction: a fading memory of how each encounter felt (``f``)."""
        P = self.model.params
        self.satisfaction = P.satisfaction_memory * self.satisfaction + (1 - P.satisfaction_memory) * f

    def reinforce(self, s: float, j: int) -> float:
        """C/D — one more pass of Cycle A; the affective facet moves toward how good the encounter
        felt (plus what a social or customised programme adds). Returns the reinforcement's strength
        for G: 0.5 when expectations are just met, up to 1 for delight."""
        self.cycle_a += 1
        target = clip(2 * (s - 0.5) + 0.5, 0.0, 1.0) + self.model.policies.affective[j]
        self.affective += 0.1 * (min(target, 1.0) - self.affective)
        return clip(0.5 + 2.5 * (s - 0.5), 0.5, 1.0)

    def complain(self, severity: float, j: int) -> bool:
        """E — complaining rises steeply with severity, from about 1 in 25 (minor) to
        ``complaint_major``; an easy channel removes up to half the remaining reluctance. A customer
        still waiting for the answer to an earlier complaint does not complain again."""
        P = self.model.params
        if self.recovery_due >= 0:
            return False
        p = P.complaint_minor + (P.complaint_major - P.complaint_minor) * severity**P.complaint_curvature
        p = min(p * self.complaint_prop, 1.0)
        p += 0.5 * self.model.policies.complaint_ease[j] * (1 - p)
        voiced = self.model.rng.random() < p
        if voiced:
            self.complaints += 1
            self.flags |= EV.COMPLAINED
            self.model.stats.complaints += 1
        return voiced

    def reevaluate_recovery(self) -> bool:
        """F → B — Cycle B: a resolved complaint restores the expected level plus compensation, less
        ``recovery_decay`` per step of delay; a refused one leaves the failed encounter as it was.
        Success (resolved and no shortfall) is a positive reinforcement, back to Cycle A; otherwise
        the recovery is botched: trust breaks, and an angry customer talks and looks around."""
        model, P, T = self.model, self.model.params, self.model.policies
        self.recovery_due = -1
        j = self.recovery_merchant
        if j != self.merchant:
            return False
        fixed = self.expectation + T.compensation[j] - P.recovery_decay * T.recovery_delay[j]
        value = max(fixed, self.recovery_value) if self.recovery_ok else self.recovery_value
        tolerance = P.loyal_failure_tolerance if self.stage == LOYAL else 0.0
        s, short, _ = evaluate(value, self.expectation, P, tolerance)
        success = self.recovery_ok and short <= 0
        self.cycle_b += 1
        self.recoveries += 1
        self.txn_sat = s
        if self.recovery_ok:  # a remedy is a new encounter; a refusal leaves the failed one as it was
            self.remember(self.felt(s))
        model.stats.cycle_b += 1
        model.stats.recoveries += 1
        if self.recovery_ok:
            model.compensated[j] += 1  # every resolved complaint costs the merchant its compensation
        if success:
            self.recoveries_ok += 1
            self.flags |= EV.RECOVERED
            model.stats.recoveries_ok += 1
            # back to Cycle A: for trust an ordinary pass (0.5), whatever the compensation's delight
            self.accumulate_trust(min(self.reinforce(self.felt(s), j), 0.5), 0.0)
        else:
            # botched: a refused complaint leaves the failed encounter as it was (already counted); a
            # remedy that still falls short fails the customer a second time (at least half severity).
            # A customer who was heard but refused compares less often (voice_relief).
            self.flags |= EV.BOTCHED
            if self.recovery_ok:
                self.accumulate_trust(0.0, max(min(short / P.severity_scale, 1.0), 0.5))
            model.messages.append((self, j, min(1.0, P.wom_negative * P.wom_botched_boost), -1))
            chance = P.reconsider_dissatisfied * ((1 - P.voice_relief) if not self.recovery_ok else 1.0)
            model.unhappy.append((self, R_RECOVERY, chance))
        return True

    def accumulate_trust(self, strength: float, severity: float) -> None:
        """G — the bottleneck: trust grows slowly with positive reinforcement (a share of what is
        still missing) and falls fast with negative (a share of what there is to lose)."""
        P, t = self.model.params, self.trust
        self.trust = clip(t + P.trust_gain * strength * (1 - t) - P.trust_loss * severity * t, 0.0, 1.0)

    def grow_switching_costs(self, j: int) -> None:
        """Tenure builds relational cost (faster with social programmes); members bank points."""
        P, T = self.model.params, self.model.policies
        self.relational = min(self.relational + P.relational_growth * T.relational_x[j],
                              P.relational_max * T.relational_x[j])
        self.financial = min(self.financial + T.points[j], POINTS_CAP * T.points[j])

    def adapt_expectations(self, value: float, j: int) -> None:
        """Expectations move toward what was just perceived and, a little, toward what the merchant
        keeps promising; expectations of the excitement attribute follow too, and the expected price
        moves toward the price paid blended with the going price in the market."""
        P, T, a = self.model.params, self.model.policies, self.model.params.expectation_adapt
        promised = T.promise[j] - price_term(T.price_paid[j], self.expected_price, self.price_sens)
        E = self.expectation
        self.expectation = E + a * ((1 - P.promise_pull) * (value - E) + P.promise_pull * (promised - E))
        self.excite_expect += a * (T.excitement[j] - self.excite_expect)
        going = sum(T.price_paid) / len(T.price_paid)  # the going price: what the merchants charge
        target = (1 - P.market_price_pull) * T.price_paid[j] + P.market_price_pull * going
        self.expected_price = max(self.expected_price + a * (target - self.expected_price), MIN_EXPECTED_PRICE)

    def become_loyal(self) -> None:
        """H — stages follow trust. Past ``trust_threshold`` (the bottleneck G) a customer is trusting;
        at ``loyalty_threshold`` with ``loyalty_min_passes`` passes of Cycle A (quantity turns into
        quality) it becomes loyal; a loyal customer whose trust falls below ``loyalty_exit`` is
        betrayed and loyal no more."""
        P, stats, before = self.model.params, self.model.stats, self.stage
        if before == LOYAL and self.trust >= P.loyalty_exit:
            return
        if before != LOYAL and self.trust >= P.loyalty_threshold and self.cycle_a >= P.loyalty_min_passes:
            self.stage = LOYAL
            self.flags |= EV.LOYAL
            stats.became_loyal += 1
            return
        if before == LOYAL:
            self.flags |= EV.BETRAYED
            stats.lost_loyalty += 1
        self.stage = TRUSTING if self.trust >= P.trust_threshold else ORDINARY
        if self.stage == TRUSTING and before < TRUSTING:
            self.flags |= EV.TRUSTING
            stats.became_trusting += 1

    def compare(self, reason: int, on_value: bool = False) -> None:
        """Compare merchants (a logit choice): stay, switch, or leave the category. After a noticed
        price rise (``on_value``) staying is judged on value for money."""
        model, P, T = self.model, self.model.params, self.model.policies
        utilities = self.alternative_utilities()
        utilities[self.merchant] = self.value_stay_utility() if on_value else self.stay_utility()
        pick = model.logit_choice(utilities + [P.outside_option])
        if pick == len(self.heard):
            self.leave(reason)
        elif pick != self.merchant:
            old = self.merchant
            model.record_loss(self)
            self.churn_reason = R_PRICE if T.price_paid[pick] < T.price_paid[old] else R_COMPETITOR
            model.stats.left_by_reason[self.churn_reason] += 1  # lost by its merchant, for this reason
            self.start_relationship(pick)
            self.switches += 1
            self.flags |= EV.SWITCHED
            model.stats.switched += 1

    def leave(self, reason: int) -> None:
        """Leave the market. The place keeps this record until a newcomer takes it (not this step)."""
        self.model.record_loss(self)
        self.stage, self.churn_reason, self.recovery_due = CHURNED, reason, -1
        self.flags |= EV.LEFT
        self.model.stats.left += 1
        self.model.stats.left_by_reason[reason] += 1
        self.remove()  # no longer among model.agents


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
        self._start_active, self._start_customers, self._start_value = 0, np.zeros(m, dtype=np.int64), np.zeros(m)
        self.book()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in METRICS},
            agenttype_reporters={Merchant: {"merchant": "name", **{n: n for n in MERCHANT_METRICS}}},
        )
        self._observe()

    # ---- helpers --------------------------------------------------------------------------------
    def customers(self) -> list[Customer]:
        """The active customers (the agents of type :class:`Customer`)."""
        return list(self.agents_by_type.get(Customer, []))

    def logit_choice(self, utilities: list[float]) -> int:
        """Pick option ``k`` with probability ∝ ``exp(U_k / choice_noise)`` (multinomial logit)."""
        top = max(utilities)
        weights = [math.exp((u - top) / self.params.choice_noise) for u in utilities]
        u = self.rng.random() * sum(weights)
        for k, wk in enumerate(weights):
            u -= wk
            if u < 0:
                return k
        return len(weights) - 1

    def record_loss(self, customer: Customer) -> None:
        self.lost.append((customer.merchant, customer.spend))

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
        self.acquired, self.compensated = [0] * m, [0] * m
        self.lost: list[tuple[int, float]] = []  # (merchant, recent spend) per customer lost

    # ---- the step -------------------------------------------------------------------------------
    def step(self) -> None:
        P = self.params
        self._refresh_policies()
        self._new_step_records()
        m = len(self.merchant_list)
        for c in self.places:  # flags record what happened to a place in this step
            if c is not None:
                c.flags = 0
        customers = self.customers()
        self._start_active = len(customers)
        self._start_customers, self._start_value = np.zeros(m, dtype=np.int64), np.zeros(m)
        for c in customers:
            self._start_customers[c.merchant] += 1
            self._start_value[c.merchant] += c.spend
        # 1. need, purchase, A–G, Cycle B, H — customer by customer
        if customers:
            for i in self.rng.permutation(len(customers)):  # every customer, in random order
                customers[i].step()
        self.stats.purchases = len(self.visits)
        self.stats.cycle_a = self.stats.satisfied
        # 2. intention to buy again (intentional loyalty) of this step's own-merchant buyers
        self.form_intentions()
        # 3. word of mouth
        self.spread_word_of_mouth(customers)
        # 4. who compares merchants: anyone ordinary or trusting may look around; those who noticed a
        #    price rise compare on value for money; the silent dissatisfied and the botched reconsider
        #    (the later reason wins); then involuntary churn. The more satisfied look around less
        comparing: dict[Customer, int] = {}
        for c in customers:
            if self.rng.random() < P.reconsider_prob * math.exp(-P.reconsider_satisfaction * (c.satisfaction - 0.5)):
                comparing[c] = R_OTHER
        for c in self.price_rises:
            comparing[c] = R_PRICE
        for c, reason, chance in self.unhappy:
            if self.rng.random() < chance:
                comparing[c] = reason
        on_value = set(self.price_rises)
        self.stats.price_prompted = len(self.price_rises)
        for c, reason in comparing.items():
            if c.stage in (ORDINARY, TRUSTING):  # loyal customers are exclusive; prospects have not bought
                c.compare(reason, c in on_value)
        for c in self.customers():
            if self.rng.random() < P.natural_churn:
                c.leave(R_INVOLUNTARY)
        # 5. newcomers take places left before this step; merchants book and adapt; observe
        for place, occupant in enumerate(self.places):
            if (occupant is None or (occupant.stage == CHURNED and not occupant.flags & EV.LEFT)) \
                    and self.rng.random() < P.arrival_rate:
                self.places[place] = Customer(self, place)
                self.stats.arrived += 1
        self.book()
        for mm in self.merchant_list:
            mm.adapt(self.steps)
        self._observe()

    def form_intentions(self) -> None:
        """Intentional facet: the chance a buyer would pick its merchant again if it compared now,
        against the best alternative as judged by a customer with the market's mean expectation (at
        the end of the last step), expected price and price sensitivity."""
        P, T, m = self.params, self.policies, len(self.merchant_list)
        alt = [P.satisfaction_weight * (evaluate(anticipated_value(T, P, j, P.expected_price, P.price_sensitivity),
                                                 self.mean_expectation, P)[0] - 0.5) for j in range(m)]
        best_other = [max([P.outside_option] + [alt[k] for k in range(m) if k != j]) for j in range(m)]
        for c in self.own_buyers:
            diff = (c.stay_utility() - best_other[c.merchant]) / (P.choice_noise * 4)
            c.intentional = 1 / (1 + math.exp(-clip(diff, -30, 30)))

    def spread_word_of_mouth(self, customers: list[Customer]) -> None:
        """What was heard fades by ``wom_memory``. Then recommendations, then warnings: each speaker
        tells each contact with its chance, moving the listener's view of the merchant by
        ``wom_impact``; after each round a view is bounded to ±1."""
        P, stats = self.params, self.stats
        for c in customers:
            c.heard = [h * P.wom_memory for h in c.heard]
        for sign, kind in ((+1, "positive"), (-1, "negative")):
            speakers = [msg for msg in self.messages if msg[3] == sign]
            touched, told = set(), 0
            for speaker, about, chance, _ in speakers:
                for place in self.contacts[speaker.place]:
                    listener = self.places[place]
                    if self.rng.random() < chance and listener is not None and listener.stage != CHURNED:
                        listener.heard[about] += sign * P.wom_impact
                        listener.flags |= EV.HEARD_GOOD if sign > 0 else EV.HEARD_BAD
                        touched.add((listener, about))
                        told += 1
            for listener, about in touched:
                listener.heard[about] = clip(listener.heard[about], -1.0, 1.0)
            setattr(stats, f"wom_{kind}", told)
            setattr(stats, f"wom_{kind}_speakers", len(speakers))

    def book(self) -> None:
        """Each merchant books this step's revenue and costs; its reputation follows the quality its
        own customers received."""
        T, m = self.policies, len(self.merchant_list)
        customers = [0] * m
        for c in self.customers():
            customers[c.merchant] += 1
        for j, mm in enumerate(self.merchant_list):
            visits = [(paid, units, quality) for (k, paid, units, quality) in self.visits if k == j]
            revenue = sum(paid for paid, _, _ in visits)
            units = sum(u for _, u, _ in visits)
            own = [q for _, _, q in visits if q is not None]
            lost = [spend for k, spend in self.lost if k == j]
            cost = (T.unit_cost[j] * units + T.programme_cost[j] * customers[j] * T.member[j]
                    + T.acquisition_cost[j] * self.acquired[j] + self.compensated[j] * T.compensation[j] * T.price[j])
            mm.book(revenue, cost, customers[j], self.acquired[j], len(lost), sum(lost), self._start_value[j],
                    self._start_customers[j], len(visits), sum(own) / len(own) if own else None)

    # ---- observation ----------------------------------------------------------------------------
    def to_population(self) -> Population:
        """Every place's state packed into a :class:`sim.customers.Population` (for the shared
        metrics). A place keeps its last occupant's record, as in the engine."""
        pop = Population(self.params.n_customers, len(self.merchant_list))
        occupied = [c for c in self.places if c is not None]
        if not occupied:
            return pop
        names = [name for name in Population.FLOATS + Population.INTS + _SCALARS if hasattr(occupied[0], name)]
        columns = zip(*map(attrgetter("place", "unique_id", "heard", *names), occupied))  # one per attribute
        at = np.array(next(columns))
        pop.id[at] = next(columns)
        pop.heard[at] = next(columns)
        for name, column in zip(names, columns):
            getattr(pop, name)[at] = column
        pop.any_points = any(c.financial > 0 for c in occupied)
        return pop

    def _observe(self) -> None:
        """Pack the customers and the step's counts the way :func:`sim.metrics.compute` reads them."""
        P, stats, m = self.params, self.stats, len(self.merchant_list)
        stats.lost_merchant = [np.array([k for k, _ in self.lost], dtype=np.intp)]
        stats.lost_value = [np.array([v for _, v in self.lost], dtype=np.float64)]
        stats.acsi_n = len(self.acsi)
        if self.acsi:
            # ACSI-style: satisfaction, confirmation of expectations, closeness to the desired level
            half = P.zone_of_tolerance / 2  # desired level = E + half
            stats.acsi_sum = sum(sat + clip(0.5 + (v - E), 0, 1) + clip(v / max(E + half, 1e-6), 0, 1)
                                 for sat, E, v, _ in self.acsi)
            stats.acsi_expectation, stats.acsi_value, stats.acsi_quality = (
                float(np.mean([row[i] for row in self.acsi])) for i in (1, 2, 3))
        self.pop = pop = self.to_population()
        self._key = pop.merchant.astype(np.intp) * 5 + pop.stage  # merchant × stage, as the engine's books
        self._by_stage = np.bincount(self._key, minlength=5 * m).reshape(m, 5)
        active = self.customers()
        self.mean_expectation = (sum(c.expectation for c in active) / len(active) if active
                                 else P.expectation_init)
        self._mean_expectation = self.mean_expectation  # the name the shared metrics read
        self.metrics = compute(self, stats)
        self.datacollector.collect(self)


def _reporter(name: str):
    def report(model):
        return model.metrics[name]

    report.__name__ = name
    return report

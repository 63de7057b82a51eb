"""``LoyaltyModel``: one market, stepped one period (say a week) at a time.

A real ``mesa.Model``: merchants are ``mesa.Agent`` objects (``model.agents``), data is collected
by a ``mesa.DataCollector`` every step, and the one random generator is ``model.rng``. Customers
are the array population of :mod:`sim.customers`; :meth:`LoyaltyModel.customer` looks any of them
up by id.

The schedule of one step (:meth:`LoyaltyModel.step`) is the mechanism of the theory, in order:
need → A encounter → B perception and evaluation → C/D reinforcement (Cycle A) → E complaints and
F recovery scheduled → G trust → switching costs grow, expectations adapt → trial purchases →
recoveries landing now re-evaluated (Cycle B) → H loyalty → word of mouth → choice and churn →
arrivals → merchants book and adapt → observables collected. docs/ODD.md lists it call by call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import itertools
import weakref

import mesa
import numpy as np

from . import customers as cu
from .customers import EV, F32, Population, StepStats
from .history import History
from .merchants import Merchant, policy_table
from .metrics import MERCHANT_METRICS, METRICS, compute, population_sums
from .network import bernoulli_positions, small_world
from .params import PARAMS, Params, ParamError

__all__ = ["LoyaltyModel", "Intervention"]

class _AgentIds(weakref.WeakKeyDictionary):
    """Per-model agent id counters that do not keep finished models alive. Mesa 3.3 keeps them in
    a class-level ``defaultdict`` keyed by model, which holds every model ever made (so a web
    server whose sessions build markets never frees them; fixed upstream after 3.3)."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


mesa.Agent._ids = _AgentIds()

#: the thinning of :meth:`LoyaltyModel._looking_around` draws candidates at the chance of a customer
#: this far below neutral satisfaction (chance reconsider_prob · e^(k·LOOK_CUT)); the less
#: satisfied are drawn one by one
LOOK_CUT = 0.1

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


class LoyaltyModel(mesa.Model):
    """A market of customers and merchants.

    >>> from sim import LoyaltyModel, Params
    >>> model = LoyaltyModel(Params(n_customers=500), seed=1)
    >>> for _ in range(10):
    ...     model.step()
    >>> model.datacollector.get_model_vars_dataframe()["loyal_share"].shape
    (11,)
    """

    def __init__(self, params: Params | None = None, seed: int | np.random.SeedSequence | None = None):
        if seed is None:
            seed = np.random.SeedSequence().entropy
        super().__init__(rng=np.random.default_rng(seed))
        self.seed = seed
        self.params = params if params is not None else Params()
        if not isinstance(self.params, Params):
            raise ParamError("params", "params must be a sim.Params (use Params.from_dict for plain values)", None,
                             "params 必须是 sim.Params（普通数值请用 Params.from_dict）")
        P = self.params
        self.merchant_list: list[Merchant] = [Merchant(self, j, mp) for j, mp in enumerate(P.merchants)]
        self.merchant_names = [mm.name for mm in self.merchant_list]
        self.table = policy_table(self.merchant_list)
        self.pop = Population(P.n_customers, len(self.merchant_list))
        self.network = small_world(P.n_customers, P.network_degree, P.network_rewire, self.rng)
        self.history = History(P.n_customers, P.history_limit, P.history_depth, self.rng)
        self.interventions: list[Intervention] = []
        self.stats = StepStats()
        self._excitement_seen = False
        self._multi_products = False  # has any customer ever held more than one product?
        m = len(self.merchant_list)
        self._end_books = (0, np.zeros(m, dtype=np.int64), np.zeros(m))
        self._start_active, _, self._start_value = self._end_books
        self.metrics: dict = {}
        # the first customers: prospects who have picked a merchant but not bought yet
        k = int(round(P.initial_share_active * P.n_customers))
        first = np.sort(self.rng.choice(P.n_customers, size=k, replace=False))
        cu.arrive(self.pop, P, self.table, self.rng, self.stats, empty=first)
        self._book(self.stats)
        self.metrics = compute(self, self.stats)
        self.datacollector = mesa.DataCollector(
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
        self._refresh_switching_costs()
        return iv

    def _refresh_switching_costs(self) -> None:
        """Recompute every customer's total switching cost (after a policy or parameter change)."""
        idx = np.flatnonzero(self.pop.stage > cu.CHURNED)
        self.pop.switch_cost[idx] = cu.switching_cost_base(self.pop, idx, self.table, self.params)

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
        self._refresh_switching_costs()
        return iv

    # ---- lookup ---------------------------------------------------------------------------
    def customer(self, customer_id: int) -> dict | None:
        """Current state and recent history of a customer (also of one who has left)."""
        return self.history.lookup(self.pop, int(customer_id), self.merchant_names)

    def customer_ids(self, stage: str | None = None) -> np.ndarray:
        """Ids of active customers (optionally of one stage: 'prospect', 'ordinary', …)."""
        mask = self.pop.stage > cu.CHURNED if stage is None else self.pop.stage == cu.STAGES.index(stage)
        return self.pop.id[mask]

    # ---- the step -------------------------------------------------------------------------
    def step(self) -> None:
        """One period. The order below is the schedule documented in docs/ODD.md.

        The buyers' values are read once where first needed and carried along the step (``st``,
        ``E``, ``ep``, ``S``, ``tr``, …); whatever a later process changes for some of them (a recovery
        landing for a buyer) is patched into the carried values, so every process sees the same state
        as if it had read the population again."""
        P, pop, rng = self.params, self.pop, self.rng
        t = self.steps
        T = self.table = policy_table(self.merchant_list)
        stats = self.stats = StepStats()
        pop.flags.fill(0)
        self._start_active, _, self._start_value = self._end_books
        act = pop.stage > cu.CHURNED
        pop.age += act
        pop.tenure += act
        pop.spend *= F32(0.9)
        excitement = bool(T.excitement.any()) or self._excitement_seen
        self._excitement_seen = excitement
        m = T.m

        # need; where each buyer goes (its own merchant, or another one for once)
        buyers = cu.need(pop, P, rng)
        st = pop.stage[buyers]
        own, trial_pos, trial_at = cu.visit(pop, buyers, P, rng, stage=st, positions=True)
        if len(trial_pos):
            idx, trial, st = buyers[own], buyers[trial_pos], st[own]
        else:
            idx, trial = buyers, trial_pos
        stats.purchases = len(buyers)
        w16 = pop.merchant[idx]
        w = w16.astype(np.intp)
        loyal = st == cu.LOYAL
        tolerance = loyal * F32(P.loyal_failure_tolerance) if loyal.any() else None
        # A — encounter; B — perception and evaluation
        quality, _ = cu.encounter(pop, idx, w, T, rng, excitement)
        ep, sens = pop.expected_price[idx], pop.price_sens[idx]
        price = T.price_paid[w]  # per product
        rise = cu.notice_price_rise(pop, idx, price, st, P, rng)
        stats.price_prompted = len(rise)
        v = cu.perceive(pop, idx, w, quality, T, P, loyal, expected_price=ep, price_sens=sens, paid=price)
        E = pop.expectation[idx]
        s, short, surplus, del_pos, dis_pos = cu.evaluate(v, E, P, tolerance, positions=True)
        multi = self._multi_products
        units = pop.products[idx].astype(F32) if multi else None  # products served at this purchase
        paid = price * units if multi else price
        x = pop.spend[idx]
        x += F32(0.1) * paid
        pop.spend[idx] = x
        x = pop.value_realised[idx]
        x += paid
        pop.value_realised[idx] = x
        pop.perceived[idx] = quality
        pop.value[idx] = v
        disc = v - E
        pop.disconfirmation[idx] = disc
        pop.txn_sat[idx] = s
        f = cu.felt(pop, idx, s)
        S = cu.update_satisfaction(pop, idx, f, P)
        self._acsi(S, E, v, quality, P, disc)
        # share of wallet and the behavioural facet
        wallet = pop.wallet[idx]
        wallet += F32(0.1) * (F32(1) - wallet)
        pop.wallet[idx] = wallet
        pop.wallet[trial] -= F32(0.1) * pop.wallet[trial]
        ten = pop.tenure[idx].astype(F32)
        wallet *= ten
        ten += F32(10)
        wallet /= ten
        pop.behavioural[idx] = wallet

        sat = np.ones(len(idx), dtype=bool)
        sat[dis_pos] = False  # (short <= 0)
        stats.satisfied, stats.delighted, stats.dissatisfied = len(idx) - len(dis_pos), len(del_pos), len(dis_pos)
        # (flags were cleared at the start of the step and nothing has set a buyer's yet)
        fl = np.full(len(idx), EV.PURCHASE | EV.SATISFIED, dtype=np.uint16)
        fl[dis_pos] = EV.PURCHASE | EV.DISSATISFIED
        fl[del_pos] |= EV.DELIGHTED
        pop.flags[idx] = fl
        pop.flags[trial] = EV.PURCHASE | EV.TRIED_OTHER
        # C/D — positive reinforcement (Cycle A)
        gain = cu.reinforce(pop, idx, f, sat, T, w, P)
        stats.cycle_a = stats.satisfied
        # E — the dissatisfied complain or stay silent; F — recovery is scheduled
        severity = np.zeros(len(idx), dtype=F32)
        severity[dis_pos] = np.minimum(short[dis_pos] / F32(P.severity_scale), F32(1))
        d_idx, d_w = idx[dis_pos], w[dis_pos]
        pop.failures[d_idx] += 1
        voiced = cu.complain(pop, d_idx, severity[dis_pos], d_w, T, P, rng)
        stats.complaints = int(voiced.sum())
        cu.recover(pop, d_idx[voiced], v[dis_pos][voiced], d_w[voiced], T, t, rng)
        # G — trust
        tr = cu.accumulate_trust(pop, idx, gain, severity, P)
        sc = cu.grow_switching_costs(pop, idx, w, T, P)
        if self._cross_sell(idx):
            sc = None  # some switching costs grew again: read them afresh
        cu.adapt_expectations(pop, idx, v, w, T, P, excitement, expectation=E, expected_price=ep, price_sens=sens,
                              paid=price)
        # trial purchases only inform the customer's view of the merchant tried
        trial_bad = np.zeros(0, dtype=np.intp)
        tunits = pop.products[trial].astype(F32) if multi else np.ones(len(trial), dtype=F32)
        if len(trial):
            tq, _ = cu.encounter(pop, trial, trial_at, T, rng, excitement)
            tv = cu.perceive(pop, trial, trial_at, tq, T, P)
            ts, tshort, _ = cu.evaluate(tv, pop.expectation[trial], P)
            pop.heard[trial, trial_at] = np.clip(pop.heard[trial, trial_at] + np.clip(ts - F32(0.5), -0.5, 0.5), -1, 1)
            trial_bad = np.flatnonzero(tshort > 0)
            pop.spend[trial] += F32(0.1) * T.price_paid[trial_at] * tunits
        # F → B — Cycle B: recoveries that land now are evaluated again
        res = cu.reevaluate_recoveries(pop, t, T, P)
        botched = np.zeros(0, dtype=np.int64)
        botched_refused = np.zeros(0, dtype=bool)
        recovered_m = np.zeros(0, dtype=np.intp)
        if res is not None:
            r_idx, r_s, r_short, _, ok = res
            r_w = pop.merchant[r_idx].astype(np.intp)
            # a refused complaint leaves the failed encounter as it was, already counted: nothing new
            # to evaluate. A remedy is a new encounter: a successful one a positive reinforcement
            # (back to Cycle A); one that still falls short fails the customer a second time, a
            # negative of at least half severity
            refused = ~pop.recovery_ok[r_idx]
            remedied = np.flatnonzero(~refused)
            r_f = cu.felt(pop, r_idx, r_s)
            cu.update_satisfaction(pop, r_idx[remedied], r_f[remedied], P)
            r_gain = cu.reinforce(pop, r_idx, r_f, ok, T, r_w, P)
            np.minimum(r_gain, F32(0.5), out=r_gain)  # back to Cycle A: an ordinary pass for trust
            r_loss = np.maximum(np.minimum(r_short / F32(P.severity_scale), F32(1)), F32(0.5))
            r_loss[ok | refused] = 0
            cu.accumulate_trust(pop, r_idx, r_gain, r_loss, P)
            stats.cycle_b = stats.recoveries = len(r_idx)
            stats.recoveries_ok = int(ok.sum())
            botched = r_idx[~ok]
            botched_refused = refused[~ok]
            recovered_m = r_w[pop.recovery_ok[r_idx]]  # every resolved complaint costs compensation
            cu.become_loyal(pop, r_idx, P, stats)
            # buyers (at their own merchant) whose recovery landed too: carry their new state
            fl = pop.flags[r_idx] & (EV.PURCHASE | EV.TRIED_OTHER)
            places = r_idx[fl == EV.PURCHASE]
            if len(places):
                at = np.searchsorted(idx, places)
                S[at], tr[at], st[at] = pop.satisfaction[places], pop.trust[places], pop.stage[places]
        # H — loyalty
        st = cu.become_loyal(pop, idx, P, stats, stage=st, trust=tr)
        self._intention(idx, w, satisfaction=S, trust=tr, switch_cost=sc)

        # word of mouth: the delighted recommend, and a satisfied buyer recommends with chance
        # wom_loyal · trust; each recommender tells each contact with chance wom_positive. Warnings
        # from the silent dissatisfied, from failed trials and (louder) from botched recoveries
        if P.wom_loyal > 1e-30:
            u = rng.random(len(idx), dtype=F32)
            u *= F32(1 / P.wom_loyal)  # u / wom_loyal < trust: chance wom_loyal · trust
            speak = u < tr
            speak &= sat
        else:
            speak = np.zeros(len(idx), dtype=bool)
        speak[del_pos] = True
        pos_pos = np.flatnonzero(speak)
        pos_prob = F32(P.wom_positive)
        silent_pos = dis_pos[~voiced]
        neg_speakers = np.concatenate([idx[silent_pos], trial[trial_bad], botched])
        neg_about = np.concatenate([w[silent_pos], trial_at[trial_bad], pop.merchant[botched].astype(np.intp)])
        neg_prob = np.full(len(neg_speakers), P.wom_negative, dtype=F32)
        neg_prob[len(neg_speakers) - len(botched):] = min(1.0, P.wom_negative * P.wom_botched_boost)
        cu.spread_word_of_mouth(pop, self.network, idx[pos_pos], w[pos_pos], pos_prob,
                                neg_speakers, neg_about, neg_prob, P, rng, stats)

        # choice and churn
        self._compare_and_churn(idx[silent_pos], botched, botched_refused, rise, rng)
        # arrivals (places emptied this step are taken from the next step on)
        empty = np.flatnonzero(pop.stage == cu.CHURNED)
        empty = empty[(pop.flags[empty] & EV.LEFT) == 0]
        empty = empty[rng.random(len(empty), dtype=F32) < P.arrival_rate]
        cu.arrive(pop, P, T, rng, stats, empty=empty)

        # merchants book and adapt
        own_count, (own_perceived, own_units) = _merchant_sums(w16, m, quality, units)
        trial_count = np.bincount(trial_at, minlength=m)
        stats.own_count, stats.own_perceived = own_count, own_perceived
        stats.visit_count = own_count + trial_count
        stats.visit_units = (own_units if multi else own_count) + np.bincount(trial_at, weights=tunits, minlength=m)
        price_paid = T.price_paid.astype(np.float64)
        stats.visit_revenue = price_paid * stats.visit_units
        stats.recovered_merchant = recovered_m
        self._book(stats)
        for mm in self.merchant_list:
            changes = mm.adapt(t)
            if changes:
                self.interventions.append(Intervention(t, mm.name, changes, "strategy"))
                if "programme" in changes:
                    self.table = policy_table(self.merchant_list)
                    self._refresh_switching_costs()
        self.metrics = compute(self, stats)
        self.datacollector.collect(self)
        self.history.record(pop, t, self.merchant_names)

    def _acsi(self, S, E, v, quality, P, disconfirmation=None) -> None:
        """Components of the ACSI-style index for this step's buyers, while their values are at hand
        (S: cumulative satisfaction, E: expectation, v: perceived value, quality: perceived quality,
        disconfirmation: v − E)."""
        st = self.stats
        k = len(S)
        st.acsi_n = k
        if k == 0:
            return
        desired = E + F32(P.zone_of_tolerance / 2)
        conf = (v - E) if disconfirmation is None else disconfirmation.copy()
        conf += F32(0.5)
        np.clip(conf, 0, 1, out=conf)
        np.maximum(desired, F32(1e-6), out=desired)
        ideal = np.divide(v, desired, out=desired)
        np.clip(ideal, 0, 1, out=ideal)
        # (float32 pairwise sums: relative error about 1e-7 · log2 k)
        st.acsi_sum = float(S.sum()) + float(conf.sum()) + float(ideal.sum())
        st.acsi_expectation = float(E.sum()) / k
        st.acsi_quality = float(quality.sum()) / k
        st.acsi_value = float(v.sum()) / k

    # ---- pieces of the step ---------------------------------------------------------------
    def _cross_sell(self, idx):
        P, pop = self.params, self.pop
        if P.max_products <= 1 or P.cross_sell_prob <= 0 or len(idx) == 0:
            return False
        eligible = idx[(pop.stage[idx] >= cu.TRUSTING) & (pop.products[idx] < P.max_products)]
        take = eligible[self.rng.random(len(eligible), dtype=F32) < P.cross_sell_prob]
        pop.products[take] += 1
        pop.switch_cost[take] += F32(P.product_switch_cost)  # see customers.switching_cost_base
        if len(take):
            self._multi_products = True  # from now on purchases read how many products they serve
        return len(take) > 0

    def _intention(self, idx, w, satisfaction=None, trust=None, switch_cost=None):
        """Intentional facet of this step's buyers: the chance they would pick their merchant again
        if they compared now, against the best alternative judged by a customer with the market's
        mean expectation (at the start of the step), expected price and price sensitivity. The
        keyword arguments are the buyers' current values if at hand (see :func:`cu.stay_utility`)."""
        pop, P, T = self.pop, self.params, self.table
        if len(idx) == 0:
            return
        E0 = np.array([[self._mean_expectation]], dtype=F32)
        val = cu.anticipated_value(T, P, np.array([P.expected_price], dtype=F32),
                                   np.array([P.price_sensitivity], dtype=F32))
        s_hat, _, _ = cu.evaluate(val, E0, P)
        alt = P.satisfaction_weight * (s_hat[0].astype(np.float64) - 0.5)  # (m,)
        m = T.m
        best_other = np.array([max([P.outside_option] + [alt[j] for j in range(m) if j != i]) for i in range(m)],
                              dtype=F32)
        stay = cu.stay_utility(pop, idx, T, P, merchant=w, satisfaction=satisfaction, trust=trust,
                               switch_cost=switch_cost)
        diff = stay
        diff -= best_other[w]
        diff /= F32(P.choice_noise * 4)
        np.clip(diff, -30, 30, out=diff)
        np.negative(diff, out=diff)
        np.exp(diff, out=diff)
        diff += F32(1)
        pop.intentional[idx] = np.reciprocal(diff, out=diff)  # 1 / (1 + exp(−diff))

    def _compare_and_churn(self, silent, botched, botched_refused, rise, rng):
        """Who compares merchants this step, their choice, and involuntary churn.

        Silent dissatisfied customers compare with chance ``reconsider_dissatisfied``, unless they are
        still waiting for the answer to an earlier complaint (voice pending: they wait for it);
        customers whose recovery was botched compare with the same chance, those whose complaint was
        refused (``botched_refused``, a mask over ``botched``) with ``reconsider_dissatisfied · (1 −
        voice_relief)`` (they were heard); buyers who noticed a price rise (``rise``, drawn by
        :func:`cu.notice_price_rise`) compare on value for money; any other customer who is neither a
        prospect nor loyal looks around with a chance that falls with its overall satisfaction
        (:meth:`_looking_around`). Then, involuntary churn (``natural_churn``)."""
        P, pop, T, stats = self.params, self.pop, self.table, self.stats
        n = pop.n
        silent = silent[pop.recovery_due[silent] < 0]  # (recoveries landing this step are done)
        chance = np.where(botched_refused, F32(P.reconsider_dissatisfied * (1 - P.voice_relief)),
                          F32(P.reconsider_dissatisfied))
        # who compares, with the reason recorded if they leave; a customer in several groups keeps
        # the last one's reason (a botched recovery over a silent failure over a price rise over
        # looking around), and one who noticed a price rise judges on value for money whatever else
        # prompted it
        groups = (self._looking_around(rng),
                  rise,
                  silent[rng.random(len(silent), dtype=F32) < P.reconsider_dissatisfied],
                  botched[rng.random(len(botched), dtype=F32) < chance])
        c = np.concatenate(groups)
        reason = np.repeat(np.array([cu.R_OTHER, cu.R_PRICE, cu.R_FAILURE, cu.R_RECOVERY], dtype=np.int8),
                           [len(g) for g in groups])
        order = np.argsort(c, kind="stable")  # each group is sorted: a merge of four runs
        c, reason = c[order], reason[order]
        last = np.ones(len(c), dtype=bool)
        last[:-1] = c[1:] != c[:-1]
        c, reason = c[last], reason[last]
        st = pop.stage[c]
        keep = np.flatnonzero(((st == cu.ORDINARY) | (st == cu.TRUSTING)) & ((pop.flags[c] & EV.LEFT) == 0))
        c, reason = c[keep], reason[keep]
        on_value = None
        if len(rise):
            on_value = np.zeros(len(c), dtype=bool)
            at = np.searchsorted(c, rise)
            inside = at < len(c)
            at, r = at[inside], rise[inside]
            on_value[at[c[at] == r]] = True
        cu.choose_merchant(pop, c, T, P, rng, stats, reason, on_value=on_value)
        # involuntary churn: each place with chance natural_churn; the active ones leave
        out = _bernoulli_places(n, P.natural_churn, rng)
        out = out[(pop.stage[out] > cu.CHURNED) & ((pop.flags[out] & EV.LEFT) == 0)]
        cu.leave(pop, out, np.full(len(out), cu.R_INVOLUNTARY, np.int8), stats)

    def _looking_around(self, rng) -> np.ndarray:
        """Places (sorted) whose occupant looks around this step without a problem prompting it:
        each with chance ``min(1, reconsider_prob · exp(−reconsider_satisfaction · (S − 0.5)))``,
        S its overall satisfaction — the more satisfied compare less, the less satisfied more.

        Drawn by thinning, so that a step does not draw for every place: candidates at the chance
        of a customer at S = 0.5 − LOOK_CUT, each kept with the ratio of its own chance to that one;
        the few customers below that level are drawn one by one."""
        P, pop = self.params, self.pop
        r, k = P.reconsider_prob, P.reconsider_satisfaction
        if r <= 0 or k <= 0:
            return _bernoulli_places(pop.n, r, rng)
        def chance(x, scale):  # scale · exp(−k · (x − 0.5)), in place on a fresh array
            x -= F32(0.5)
            x *= F32(-k)
            np.exp(x, out=x)
            x *= F32(scale)
            return x

        S = pop.satisfaction
        cut = F32(0.5 - LOOK_CUT)
        q = min(1.0, r * np.exp(k * LOOK_CUT))
        cand = _bernoulli_places(pop.n, q, rng)
        Sc = S[cand]
        keep = Sc >= cut
        keep &= rng.random(len(cand), dtype=F32) < chance(Sc.copy(), r / q)
        low = np.flatnonzero(S < cut)
        if len(low) == 0:
            return cand[keep]
        return np.sort(np.concatenate([cand[keep], low[rng.random(len(low), dtype=F32) < chance(S[low], r)]]))

    def _book(self, stats: StepStats) -> None:
        """Each merchant books this step's revenue and costs and updates its reputation; the
        customer counts and spend at the end of this step are the next step's starting point."""
        pop, T = self.pop, self.table
        m = T.m
        # one pass over the population for the books and the observables (read again by compute)
        self._sums = sums = population_sums(pop, m)
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
        _, start_c, start_v = self._end_books
        for j, mm in enumerate(self.merchant_list):
            cost = (T.unit_cost[j] * units[j] + T.programme_cost[j] * members[j] + T.acquisition_cost[j] * acquired[j]
                    + rec[j] * T.compensation[j] * T.price[j])
            mm.book(revenue[j], cost, customers[j], acquired[j], lost[j], lost_value[j], start_v[j],
                    start_c[j], encounters[j], perceived[j] / own[j] if own[j] else None)
        self._end_books = (int(customers.sum()), customers, spend)
        # the market's mean expectation, read by the next step's intention (see _intention)
        active = int(customers.sum())
        self._mean_expectation = sums.expectation / active if active else self.params.expectation_init

def _merchant_sums(merchant: np.ndarray, m: int, *values):
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


def _bernoulli_places(n: int, p: float, rng) -> np.ndarray:
    """Sorted places, each chosen independently with chance ``p``, by geometric skipping (cheaper
    than one draw per place when ``p`` is small, and no sort)."""
    return bernoulli_positions(n, p, rng)


def _reporter(name: str):
    def report(model: LoyaltyModel):
        return model.metrics[name]

    report.__name__ = name
    return report

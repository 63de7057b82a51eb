"""``LoyaltyModel``: one market, stepped one period (say a week) at a time.

A real ``mesa.Model``: merchants are ``mesa.Agent`` objects (``model.agents``), data is collected
by a ``mesa.DataCollector`` every step, and the one random generator is ``model.rng``. Customers
are the array population of :mod:`sim.customers`; :meth:`LoyaltyModel.customer` looks any of them
up by id.

The schedule of one step (:meth:`LoyaltyModel.step`) is the mechanism of the theory, in order:
need → A encounter → B perception and evaluation → C/D reinforcement (Cycle A) → E complaints →
F recovery, re-evaluated (Cycle B) → G trust → H loyalty → expectations adapt → word of mouth →
choice and churn → arrivals → merchants book and adapt → observables collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np

from . import customers as cu
from .customers import EV, F32, Population, StepStats
from .history import History
from .merchants import Merchant, policy_table
from .metrics import MERCHANT_METRICS, METRICS, compute
from .network import small_world
from .params import PARAMS, Params, ParamError

__all__ = ["LoyaltyModel", "Intervention"]

#: parameters that shape the market's structure and cannot change once it exists
STRUCTURAL = ("n_customers", "network_degree", "network_rewire", "history_limit", "history_depth",
              "initial_share_active")


@dataclass
class Intervention:
    """A policy change in the middle of a run (shown on plots)."""

    step: int
    target: str  # merchant name, or "market"
    changes: dict = field(default_factory=dict)
    source: str = "user"  # "user" or "strategy"


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
            raise ParamError("params", "params must be a sim.Params (use Params.from_dict for plain values)")
        P = self.params
        self.merchant_list: list[Merchant] = [Merchant(self, j, mp) for j, mp in enumerate(P.merchants)]
        self.merchant_names = [mm.name for mm in self.merchant_list]
        self.table = policy_table(self.merchant_list)
        self.pop = Population(P.n_customers, len(self.merchant_list))
        self.network = small_world(P.n_customers, P.network_degree, P.network_rewire, self.rng)
        self.history = History(P.n_customers, P.history_limit, P.history_depth, self.rng)
        self.interventions: list[Intervention] = []
        self.stats = StepStats()
        self._buyers_own = None
        self._start_active = 0
        self._start_value = np.zeros(len(self.merchant_list))
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
        return iv

    def set_params(self, **changes) -> Intervention:
        """Change market-wide parameters from the next step on (not the structural ones)."""
        for k in changes:
            if k in STRUCTURAL:
                raise ParamError(k, f"parameter '{k}' shapes the market and can only be set before it starts")
            if k not in PARAMS:
                raise ParamError(k, f"unknown parameter '{k}'")
        self.params = self.params.replace(**changes)
        clean = {k: getattr(self.params, k) for k in changes}
        iv = Intervention(self.steps, "market", clean, "user")
        self.interventions.append(iv)
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
        P, pop, rng = self.params, self.pop, self.rng
        t = self.steps
        T = self.table = policy_table(self.merchant_list)
        stats = self.stats = StepStats()
        m = T.m
        pop.flags[:] = 0
        act = pop.stage > cu.CHURNED
        self._start_active = int(act.sum())
        key = np.where(act, pop.merchant, m).astype(np.intp)
        self._start_customers = np.bincount(key, minlength=m + 1)[:m]
        self._start_value = np.bincount(key, weights=pop.spend, minlength=m + 1)[:m]
        pop.age[act] += 1
        pop.tenure[act] += 1
        pop.spend *= F32(0.9)

        # need, and where each buyer goes
        buyers = cu.need(pop, P, rng)
        where, trial = cu.visit(pop, buyers, P, rng)
        # A — encounter; B — perception and evaluation
        quality, failed = cu.encounter(pop, buyers, where, T, rng)
        value = cu.perceive(pop, buyers, where, quality, T, P)
        tol = (pop.stage[buyers] == cu.LOYAL) * F32(P.loyal_failure_tolerance)
        s, short, surplus = cu.evaluate(value, pop.expectation[buyers], P, tol)
        paid = T.price_paid[where] * pop.products[buyers]
        pop.spend[buyers] += F32(0.1) * paid
        pop.flags[buyers] |= EV.PURCHASE
        stats.purchases = len(buyers)
        stats.visit_merchant, stats.visit_paid, stats.visit_perceived = where, paid, quality

        # trial purchases at another merchant only inform the customer's view of that merchant
        if trial.any():
            tb = buyers[trial]
            pop.heard[tb, where[trial]] += np.clip(s[trial] - 0.5, -0.5, 0.5)
            pop.flags[tb] |= EV.TRIED_OTHER
        own = ~trial
        idx, w, s_o, sh, su, v = buyers[own], where[own], s[own], short[own], surplus[own], value[own]
        self._buyers_own = idx
        pop.perceived[idx] = quality[own]
        pop.value[idx] = v
        pop.disconfirmation[idx] = v - pop.expectation[idx]
        pop.txn_sat[idx] = s_o
        cu.update_satisfaction(pop, idx, s_o, P)
        pop.value_realised[idx] += paid[own]
        pop.wallet[buyers] += F32(0.1) * (own.astype(F32) - pop.wallet[buyers])
        pop.behavioural[idx] = pop.wallet[idx] * pop.tenure[idx] / (pop.tenure[idx] + F32(10))

        sat = sh <= 0
        delighted = su > 0
        dis = ~sat
        stats.satisfied, stats.delighted, stats.dissatisfied = int(sat.sum()), int(delighted.sum()), int(dis.sum())
        pop.flags[idx[sat & ~delighted]] |= EV.SATISFIED
        pop.flags[idx[delighted]] |= EV.DELIGHTED
        pop.flags[idx[dis]] |= EV.DISSATISFIED
        # C/D — Cycle A
        gain = np.zeros(len(idx), dtype=F32)
        gain[sat] = cu.reinforce(pop, idx[sat], s_o[sat], T, w[sat], P)
        stats.cycle_a = int(sat.sum())
        # E — complaints from the dissatisfied; F — recovery scheduled
        severity = np.clip(sh / P.severity_scale, 0, 1).astype(F32)
        d_idx = idx[dis]
        pop.failures[d_idx] += 1
        voiced = cu.complain(pop, d_idx, severity[dis], w[dis], T, P, rng)
        stats.complaints = int(voiced.sum())
        cu.recover(pop, d_idx[voiced], v[dis][voiced], w[dis][voiced], T, t, rng)
        # G — trust; H — loyalty
        cu.accumulate_trust(pop, idx, gain, severity * dis, P)
        cu.grow_switching_costs(pop, idx, w, T, P)
        self._cross_sell(idx)
        cu.adapt_expectations(pop, idx, v, w, T, P)
        # F → B — Cycle B: recoveries that land now
        res = cu.reevaluate_recoveries(pop, t, T, P)
        botched = np.zeros(0, dtype=np.int64)
        recovered_m = np.zeros(0, dtype=np.intp)
        if res is not None:
            r_idx, r_s, r_short, _, ok = res
            cu.update_satisfaction(pop, r_idx, r_s, P)
            r_gain = np.where(ok, np.clip(0.5 + 2.5 * (r_s - 0.5), 0.5, 1.0), 0).astype(F32)
            r_loss = np.where(ok, 0, np.maximum(np.clip(r_short / P.severity_scale, 0, 1), 0.5)).astype(F32)
            cu.accumulate_trust(pop, r_idx, r_gain, r_loss, P)
            pop.cycle_a[r_idx[ok]] += 1
            stats.cycle_b = len(r_idx)
            stats.recoveries = len(r_idx)
            stats.recoveries_ok = int(ok.sum())
            botched = r_idx[~ok]
            recovered_m = pop.merchant[r_idx[ok]].astype(np.intp)
            cu.become_loyal(pop, r_idx, P, stats)
        cu.become_loyal(pop, idx, P, stats)
        self._intention(idx)

        # word of mouth
        loyal_b = pop.stage[idx] == cu.LOYAL
        pos_mask = delighted | (loyal_b & sat)
        pos_prob = np.minimum(P.wom_positive * np.where(loyal_b[pos_mask], P.wom_loyal_boost, 1.0), 1.0)
        silent = np.zeros(len(idx), dtype=bool)
        silent[np.flatnonzero(dis)[~voiced]] = True
        trial_bad = trial & (short > 0)
        neg_speakers = np.concatenate([idx[silent], buyers[trial_bad], botched])
        neg_about = np.concatenate([w[silent], where[trial_bad], pop.merchant[botched].astype(np.intp)])
        neg_prob = np.concatenate([
            np.full(int(silent.sum()) + int(trial_bad.sum()), P.wom_negative, dtype=F32),
            np.full(len(botched), min(1.0, P.wom_negative * P.wom_botched_boost), dtype=F32),
        ])
        cu.spread_word_of_mouth(pop, self.network, idx[pos_mask], w[pos_mask], pos_prob.astype(F32),
                                neg_speakers, neg_about, neg_prob, P, rng, stats)

        # choice and churn
        self._compare_and_churn(idx[silent], botched, rng)
        # arrivals (places emptied this step are taken from the next step on)
        empty = np.flatnonzero((pop.stage == cu.CHURNED) & ((pop.flags & EV.LEFT) == 0))
        empty = empty[rng.random(len(empty), dtype=F32) < P.arrival_rate]
        cu.arrive(pop, P, T, rng, stats, empty=empty)

        # merchants book and adapt
        stats.recovered_merchant = recovered_m
        self._book(stats)
        for mm in self.merchant_list:
            changes = mm.adapt(t)
            if changes:
                self.interventions.append(Intervention(t, mm.name, changes, "strategy"))
        self.metrics = compute(self, stats)
        self.datacollector.collect(self)
        self.history.record(pop, t, self.merchant_names)

    # ---- pieces of the step ---------------------------------------------------------------
    def _cross_sell(self, idx):
        P, pop = self.params, self.pop
        if P.max_products <= 1 or P.cross_sell_prob <= 0 or len(idx) == 0:
            return
        eligible = idx[(pop.stage[idx] >= cu.TRUSTING) & (pop.products[idx] < P.max_products)]
        take = eligible[self.rng.random(len(eligible), dtype=F32) < P.cross_sell_prob]
        pop.products[take] += 1

    def _intention(self, idx):
        """Intentional facet of this step's buyers: the chance they would pick their merchant again
        if they compared now, against the market's best alternative for a typical customer."""
        pop, P, T = self.pop, self.params, self.table
        if len(idx) == 0:
            return
        act = pop.stage > cu.CHURNED
        E0 = np.array([pop.expectation[act].mean() if act.any() else P.expectation_init], dtype=F32)
        ep0 = np.array([P.expected_price], dtype=F32)
        sens0 = np.array([P.price_sensitivity], dtype=F32)
        val = cu.anticipated_value(T, P, ep0, sens0)
        s_hat, _, _ = cu.evaluate(val, E0[:, None], P)
        alt = (P.satisfaction_weight * (s_hat[0] - 0.5)).astype(F32)  # (m,)
        m = T.m
        best_other = np.full(m, P.outside_option, dtype=F32)
        for j in range(m):
            if m > 1:
                best_other[j] = max(P.outside_option, float(np.delete(alt, j).max()))
        mer = pop.merchant[idx].astype(np.intp)
        diff = (cu.stay_utility(pop, idx, T, P) - best_other[mer]) / F32(P.choice_noise * 4)
        pop.intentional[idx] = 1 / (1 + np.exp(-np.clip(diff, -30, 30)))

    def _compare_and_churn(self, silent, botched, rng):
        """Who compares merchants this step, their choice, and involuntary churn."""
        P, pop, T, stats = self.params, self.pop, self.table, self.stats
        n = pop.n
        cand = [silent[rng.random(len(silent), dtype=F32) < P.reconsider_dissatisfied],
                botched[rng.random(len(botched), dtype=F32) < P.reconsider_dissatisfied]]
        reason = [np.full(len(cand[0]), cu.R_FAILURE, np.int8), np.full(len(cand[1]), cu.R_RECOVERY, np.int8)]
        k = rng.binomial(n, P.reconsider_prob)
        if k:
            look = np.unique(rng.integers(0, n, size=k))
            cand.append(look)
            reason.append(np.full(len(look), cu.R_OTHER, np.int8))
        c = np.concatenate(cand)
        r = np.concatenate(reason)
        c, first = np.unique(c, return_index=True)  # a customer compares once; failure reasons first
        r = r[first]
        st = pop.stage[c]
        ok = ((st == cu.ORDINARY) | (st == cu.TRUSTING)) & ((pop.flags[c] & EV.LEFT) == 0)
        cu.choose_merchant(pop, c[ok], T, P, rng, stats, r[ok])
        # involuntary churn: a binomial number of random places, active ones leave
        k = rng.binomial(n, P.natural_churn)
        if k:
            out = np.unique(rng.integers(0, n, size=k))
            out = out[(pop.stage[out] > cu.CHURNED) & ((pop.flags[out] & EV.LEFT) == 0)]
            cu.leave(pop, out, np.full(len(out), cu.R_INVOLUNTARY, np.int8), stats)

    def _book(self, stats: StepStats) -> None:
        """Each merchant books this step's revenue and costs and updates its reputation."""
        pop, T = self.pop, self.table
        m = T.m
        act = pop.stage > cu.CHURNED
        key = np.where(act, pop.merchant, m).astype(np.intp)
        customers = np.bincount(key, minlength=m + 1)[:m]
        members = customers * T.member
        if stats.visit_merchant is not None and len(stats.visit_merchant):
            w = stats.visit_merchant
            revenue = np.bincount(w, weights=stats.visit_paid, minlength=m)
            units = np.bincount(w, minlength=m)
            serve = np.bincount(w, weights=T.unit_cost[w] * (stats.visit_paid / np.maximum(T.price_paid[w], 1e-9)),
                                minlength=m)
            perceived = np.bincount(w, weights=stats.visit_perceived, minlength=m)
        else:
            revenue = serve = perceived = units = np.zeros(m)
        acquired = np.bincount(np.concatenate(stats.acquired_merchant), minlength=m) if stats.acquired_merchant \
            else np.zeros(m, dtype=np.int64)
        lost_m = np.concatenate(stats.lost_merchant) if stats.lost_merchant else np.zeros(0, np.intp)
        lost_v = np.concatenate(stats.lost_value) if stats.lost_value else np.zeros(0)
        lost = np.bincount(lost_m, minlength=m)
        lost_value = np.bincount(lost_m, weights=lost_v, minlength=m)
        rec = np.bincount(stats.recovered_merchant, minlength=m) if stats.recovered_merchant is not None \
            else np.zeros(m)
        start_c = getattr(self, "_start_customers", np.zeros(m, dtype=np.int64))
        for j, mm in enumerate(self.merchant_list):
            cost = (serve[j] + T.programme_cost[j] * members[j] + T.acquisition_cost[j] * acquired[j]
                    + rec[j] * T.compensation[j] * T.price[j])
            mm.book(revenue[j], cost, customers[j], acquired[j], lost[j], lost_value[j], self._start_value[j],
                    start_c[j], units[j],
                    perceived[j] / units[j] if units[j] else None)


def _reporter(name: str):
    def report(model: LoyaltyModel):
        return model.metrics[name]

    report.__name__ = name
    return report

"""Merchants: their books, policy changes in the middle of a run (interventions), validation of
policy values, and adaptive strategies (sim.merchants.Merchant; LoyaltyModel; simulate)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_kit import model, steady
from sim import Intervention, ParamError, Params, simulate
from sim.model import SCHEDULE
from sim.params import MERCHANT_PARAMS, PARAMS, default_merchants


def three():
    return [steady("A", quality=0.72, promise=0.72, price=1.15), steady("B", quality=0.65, promise=0.68, price=1.0),
            steady("C", quality=0.55, promise=0.62, price=0.85)]


# ---- books -------------------------------------------------------------------------------------
def test_revenue_is_the_sum_of_prices_paid():
    r = simulate(Params(n_customers=400, merchants=tuple(three()), variety_seeking=0.1), seed=1, steps=20)
    mer = r.merchants
    prices = {"A": 1.15, "B": 1.0, "C": 0.85}
    for step, g in mer[mer["step"] > 0].groupby("step"):
        units = sum(row.revenue / prices[row.merchant] for row in g.itertuples())
        assert units == pytest.approx(r.metrics.loc[step, "purchases"], abs=1e-3)
        for row in g.itertuples():  # a whole number of purchases at each merchant
            assert row.revenue / prices[row.merchant] == pytest.approx(round(row.revenue / prices[row.merchant]),
                                                                       abs=1e-3)
        assert g["revenue"].sum() == pytest.approx(r.metrics.loc[step, "revenue"], rel=1e-6)


def test_programme_members_pay_the_discounted_price_plus_fee():
    mp = steady("A", quality=0.7, promise=0.7, price=2.0, programme="financial", programme_benefit=0.1,
                programme_fee=0.05)
    r = simulate(Params(n_customers=300, merchants=(mp,)), seed=2, steps=10)
    m = r.metrics.iloc[1:]
    assert np.allclose(m["revenue"], m["purchases"] * (2.0 * 0.9 + 0.05), rtol=1e-5)


def test_profit_is_revenue_minus_cost_and_accumulates():
    r = simulate(Params(n_customers=300), seed=3, steps=15)
    mer = r.merchants
    assert np.allclose(mer["profit"], mer["revenue"] - mer["cost"], atol=1e-6)
    assert (mer["cost"] >= 0).all() and (mer["revenue"] >= 0).all()
    for _, g in mer.groupby("merchant"):
        g = g.sort_values("step")
        assert np.allclose(g["cumulative_profit"], g["profit"].cumsum(), atol=1e-4)
    assert np.allclose(r.metrics["profit"], r.metrics["revenue"] - r.metrics["cost"], atol=1e-6)


def test_customer_counts_and_shares_add_up():
    r = simulate(Params(n_customers=300), seed=4, steps=10)
    for step, g in r.merchants.groupby("step"):
        assert g["customers"].sum() == r.metrics.loc[step, "active"]
        assert g["market_share"].sum() == pytest.approx(1.0)


def test_serving_costs_rise_with_the_cost_of_quality():
    cheap = simulate(Params(n_customers=300, merchants=(steady(quality=0.7, quality_cost=0.1),)), seed=5, steps=8)
    dear = simulate(Params(n_customers=300, merchants=(steady(quality=0.7, quality_cost=2.0),)), seed=5, steps=8)
    assert dear.metrics["cost"].iloc[1:].sum() > cheap.metrics["cost"].iloc[1:].sum()
    assert np.array_equal(dear.metrics["purchases"], cheap.metrics["purchases"])  # same market otherwise


# ---- interventions -----------------------------------------------------------------------------
def test_set_policy_changes_the_table_and_is_recorded_as_an_intervention():
    mm = model(200, merchants=three(), seed=1)
    for _ in range(3):
        mm.step()
    iv = mm.set_policy("A", quality=0.4, price=1.3)
    assert isinstance(iv, Intervention)
    assert (iv.step, iv.target, iv.source) == (3, "A", "user")
    assert iv.changes == {"quality": 0.4, "price": 1.3}
    assert mm.interventions[-1] is iv
    assert mm.merchant("A").policy.quality == 0.4 and mm.merchant("A").policy.price == 1.3
    assert mm.table.quality[0] == pytest.approx(0.4) and mm.table.price[0] == pytest.approx(1.3)
    assert mm.table.quality[1] == pytest.approx(0.65)  # others untouched
    mm.step()
    assert mm.merchant("A").quality == pytest.approx(0.4)  # the observable reports the new policy


def test_each_step_reads_the_policies_afresh_and_the_reputations_every_time():
    """A step's policy table is built afresh when a policy changed (by the user or a strategy) and
    otherwise shares the earlier table's arrays with fresh reputations: every step it equals a table
    built from scratch."""
    from sim.merchants import policy_table

    ms = list(three())
    ms[1] = ms[1].replace(strategy="rule", target_churn=0.0, adapt_every=2, adapt_step=0.05)
    mm = model(200, merchants=ms, seed=3)
    shared = rebuilt = 0
    for t in range(14):
        if t == 5:
            mm.set_policy("A", price=1.4)
        before = mm.table
        mm.steps += 1  # (as Mesa's step does before running LoyaltyModel.step)
        ctx = mm.step_context()
        fresh = policy_table(mm.merchant_list)
        for name, value in vars(fresh).items():
            np.testing.assert_array_equal(getattr(ctx.T, name), value, err_msg=name)
        same = ctx.T.quality is before.quality
        shared += same
        rebuilt += not same
        np.testing.assert_array_equal(ctx.T.reputation, np.float32([m.reputation for m in mm.merchant_list]))
        for phase in SCHEDULE:
            phase.run(ctx)
    assert shared >= 5 and rebuilt >= 3, (shared, rebuilt)  # reused while nothing changed; rebuilt after changes
    assert any(iv.source == "strategy" for iv in mm.interventions)


def test_interventions_through_simulate_are_returned_with_the_results():
    r = simulate(Params(n_customers=200, merchants=tuple(three())), seed=1, steps=12,
                 on_step=lambda m: m.steps == 5 and m.set_policy("B", price=0.9))
    user = [iv for iv in r.interventions if iv.source == "user"]
    assert len(user) == 1 and user[0].target == "B" and user[0].changes == {"price": 0.9} and user[0].step == 5
    b = r.merchants[r.merchants["merchant"] == "B"].set_index("step")["price"]
    # on_step runs after step 5 was recorded: the new price shows from step 6 on
    assert b.loc[5] == pytest.approx(1.0) and b.loc[6] == pytest.approx(0.9)


def test_set_params_mid_run_is_recorded_and_validated():
    mm = model(200, seed=1)
    mm.step()
    iv = mm.set_params(purchase_prob=0.9)
    assert (iv.target, iv.changes, iv.source) == ("market", {"purchase_prob": 0.9}, "user")
    assert mm.params.purchase_prob == 0.9
    with pytest.raises(ParamError) as e:
        mm.set_params(purchase_prob=2.0)
    assert "purchase_prob" in str(e.value) and PARAMS["purchase_prob"].range_text() in str(e.value)
    with pytest.raises(ParamError) as e:
        mm.set_params(n_customers=500)  # structural: fixed once the market exists
    assert "n_customers" in str(e.value)
    with pytest.raises(ParamError):
        mm.set_params(no_such_thing=1)
    assert mm.params.purchase_prob == 0.9 and len(mm.interventions) == 1


def test_the_market_responds_to_a_drop_in_quality():
    """Same seed, same market; at step 20 merchant A cuts its quality. Over the following steps A's
    customers are less satisfied and A loses share, compared with the control run."""
    P = Params(n_customers=600, merchants=tuple(three()))
    control = simulate(P, seed=11, steps=45)
    treated = simulate(P, seed=11, steps=45, on_step=lambda m: m.steps == 20 and m.set_policy("A", quality=0.35))
    pd_c, pd_t = control.merchants, treated.merchants
    before_c = pd_c[pd_c["step"] <= 20].reset_index(drop=True)
    before_t = pd_t[pd_t["step"] <= 20].reset_index(drop=True)
    assert before_c.equals(before_t)  # identical until the intervention

    def a(df, col, lo, hi):
        x = df[(df["merchant"] == "A") & (df["step"] >= lo) & (df["step"] <= hi)]
        return float(x[col].mean())

    assert a(pd_t, "satisfaction", 23, 45) < a(pd_c, "satisfaction", 23, 45) - 0.05
    assert a(pd_t, "market_share", 35, 45) < a(pd_c, "market_share", 35, 45) - 0.03
    assert a(pd_t, "trust", 30, 45) < a(pd_c, "trust", 30, 45)
    assert a(pd_t, "quality", 21, 45) == pytest.approx(0.35)


# ---- invalid policy values ----------------------------------------------------------------------
@pytest.mark.parametrize("key,value", [("quality", 1.5), ("quality", -0.1), ("price", 11.0), ("failure_prob", 2),
                                       ("recovery_delay", 27), ("recovery_delay", 2.5), ("consistency", float("nan")),
                                       ("excitement", "lots"), ("programme", "gold"), ("strategy", "random"),
                                       ("compensation", None), ("price", True)])
def test_invalid_policy_values_raise_a_clear_error_and_change_nothing(key, value):
    mm = model(100, merchants=three(), seed=0)
    before = mm.merchant("B").policy
    n_iv = len(mm.interventions)
    with pytest.raises(ParamError) as e:
        mm.set_policy("B", quality=0.5, **{key: value}) if key != "quality" else mm.set_policy("B", **{key: value})
    msg = str(e.value)
    assert key in msg
    assert MERCHANT_PARAMS[key].range_text() in msg
    assert e.value.key.endswith(key)
    assert mm.merchant("B").policy == before  # nothing applied, not even the valid part
    assert len(mm.interventions) == n_iv


def test_unknown_policy_field_and_unknown_merchant():
    mm = model(100, merchants=three(), seed=0)
    with pytest.raises(ParamError) as e:
        mm.set_policy("A", qualty=0.5)
    assert "qualty" in str(e.value)
    with pytest.raises(ParamError):
        mm.set_policy("A", name="Z")  # the name is not a policy
    with pytest.raises(KeyError):
        mm.set_policy("Nobody", quality=0.5)
    assert mm.merchant(0).name == "A" and mm.merchant("C").index == 2


# ---- strategies --------------------------------------------------------------------------------
def _strategy_run(strategy, steps=40, **policy):
    ms = list(default_merchants())
    ms[0] = ms[0].replace(strategy=strategy, adapt_every=4, adapt_step=0.02, **policy)
    return simulate(Params(n_customers=300, merchants=tuple(ms)), seed=7, steps=steps)


def _a(r, col):
    return r.merchants[r.merchants["merchant"] == "A"].set_index("step")[col]


def test_fixed_strategy_never_changes_policy():
    r = _strategy_run("fixed")
    assert _a(r, "quality").nunique() == 1 and _a(r, "price").nunique() == 1
    assert not [iv for iv in r.interventions if iv.source == "strategy"]


def test_rule_strategy_raises_quality_when_churn_exceeds_its_target():
    r = _strategy_run("rule", target_churn=0.0)
    q = _a(r, "quality")
    assert q.iloc[-1] > q.iloc[0] + 0.05
    assert np.all(np.diff(q.to_numpy()) >= -1e-9)
    ivs = [iv for iv in r.interventions if iv.source == "strategy"]
    assert ivs and all(iv.target == "A" and set(iv.changes) <= {"quality", "price"} for iv in ivs)
    assert all(iv.step % 4 == 0 for iv in ivs)  # reviewed every adapt_every steps


def test_rule_strategy_raises_price_when_churn_is_low():
    r = _strategy_run("rule", target_churn=1.0)
    p = _a(r, "price")
    assert p.iloc[-1] > p.iloc[0] + 0.05
    assert _a(r, "quality").nunique() == 1


def test_learner_strategy_changes_price_or_quality_over_time():
    r = _strategy_run("learner", steps=60)
    q, p = _a(r, "quality"), _a(r, "price")
    assert q.nunique() > 1 or p.nunique() > 1
    ivs = [iv for iv in r.interventions if iv.source == "strategy"]
    assert len(ivs) >= 3 and all(set(iv.changes) <= {"quality", "price"} for iv in ivs)
    # each change is one adaptation step
    for iv in ivs:
        assert len(iv.changes) == 1
    # other merchants keep their fixed policies
    b = r.merchants[r.merchants["merchant"] == "B"]
    assert b["quality"].nunique() == 1 and b["price"].nunique() == 1

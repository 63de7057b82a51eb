"""Invariants over random valid parameters, and rejection of invalid ones (hypothesis).

Valid markets: a random subset of the declared parameters, each drawn within its declared range
(small markets, few steps). Whatever the values, every step keeps trust, satisfaction,
probabilities and shares in range, produces no NaN, and conserves customers across stages.
Invalid values (out of range, wrong type, NaN/inf, unknown keys) raise ParamError naming the
parameter and its allowed range.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim import LoyaltyModel, MerchantParams, ParamError, Params
from sim import mechanism as mc
from sim.params import MERCHANT_PARAMS, PARAMS

MAX_N = 300


# ---- strategies -------------------------------------------------------------------------------
def _within(p):
    if p.kind == "int":
        return st.integers(int(p.lo), int(p.hi))
    if p.kind == "float":
        return st.floats(p.lo, p.hi, allow_nan=False, allow_infinity=False)
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    raise AssertionError(p.kind)


_MARKET_OPTIONAL = {n: _within(p) for n, p in PARAMS.items() if n != "n_customers"}
_MARKET_OPTIONAL["history_depth"] = st.integers(1, 200)  # keep memory small; the range is still exercised
_MERCHANT_OPTIONAL = {n: _within(p) for n, p in MERCHANT_PARAMS.items() if n != "name"}


@st.composite
def valid_params(draw):
    values = draw(st.fixed_dictionaries({}, optional=_MARKET_OPTIONAL))
    n = draw(st.integers(2, MAX_N))
    values["n_customers"] = n
    deg = values.get("network_degree", PARAMS["network_degree"].default)
    deg -= deg % 2
    top = n - 1 if (n - 1) % 2 == 0 else n - 2
    values["network_degree"] = max(0, min(deg, top))
    get = lambda k: values.get(k, PARAMS[k].default)  # noqa: E731
    tt, lt, ex = get("trust_threshold"), get("loyalty_threshold"), get("loyalty_exit")
    lt = max(lt, tt)
    values.update(trust_threshold=tt, loyalty_threshold=lt, loyalty_exit=min(ex, lt))
    k = draw(st.integers(1, 3))
    values["merchants"] = tuple(
        MerchantParams(name=f"M{j}", **draw(st.fixed_dictionaries({}, optional=_MERCHANT_OPTIONAL)))
        for j in range(k)
    )
    return Params(**values)


# ---- invariants --------------------------------------------------------------------------------
SHARES = ("loyal_share", "trusting_share", "affective_share", "behavioural_share", "intentional_share",
          "churn_rate", "merchant_churn_rate", "switch_rate", "complaint_rate", "loyalists", "mercenaries",
          "hostages", "defectors", "stay_trust", "stay_inertia", "stay_incentive", "stay_monopoly",
          "share_of_wallet", "satisfaction", "trust")
COUNTS = ("active", "prospects", "ordinary", "trusting", "loyal", "empty", "purchases", "cycle_a", "cycle_b",
          "delighted", "dissatisfied", "complaints", "recoveries", "recoveries_ok", "became_trusting",
          "became_loyal", "lost_loyalty", "price_prompted", "switched", "left", "arrived", "wom_positive",
          "wom_negative")
UNIT_ARRAYS = ("trust", "satisfaction", "txn_sat", "intentional", "wallet", "affective", "behavioural")


def check_step(mm: LoyaltyModel):
    met = mm.metrics
    n = mm.params.n_customers
    for k, v in met.items():
        assert math.isfinite(v), (k, v)
    assert met["prospects"] + met["ordinary"] + met["trusting"] + met["loyal"] + met["empty"] == n
    assert met["active"] + met["empty"] == n
    assert met["price_prompted"] <= met["purchases"]  # only buyers notice a price rise
    for k in SHARES:
        assert -1e-9 <= met[k] <= 1 + 1e-9, (k, met[k])
    for k in COUNTS:
        assert met[k] >= 0 and float(met[k]).is_integer(), (k, met[k])
    assert met["value_churn_rate"] >= 0
    assert -100 <= met["nps"] <= 100 and 0 <= met["acsi"] <= 100
    assert met["complaints"] <= met["dissatisfied"]
    assert met["recoveries_ok"] <= met["recoveries"]
    assert met["cycle_a"] + met["dissatisfied"] <= met["purchases"]
    assert met["delighted"] <= met["cycle_a"]
    bought = met["ordinary"] + met["trusting"] + met["loyal"]
    types = met["loyalists"] + met["mercenaries"] + met["hostages"] + met["defectors"]
    assert types == pytest.approx(1.0 if bought else 0.0, abs=1e-6)

    pop = mm.pop
    act = pop.stage > mc.CHURNED
    for name in mc.Population.FLOATS:
        arr = getattr(pop, name)[act]
        assert np.all(np.isfinite(arr)), name
    for name in UNIT_ARRAYS:
        arr = getattr(pop, name)[act]
        assert np.all((arr >= 0) & (arr <= 1)), (name, arr.min() if arr.size else None, arr.max() if arr.size else None)
    assert np.all((pop.merchant[act] >= 0) & (pop.merchant[act] < len(mm.merchant_list)))
    assert len(np.unique(pop.id[act])) == int(act.sum())

    shares = 0.0
    for m in mm.merchant_list:
        for k in ("market_share", "loyal_share", "churn_rate", "satisfaction", "trust"):
            v = getattr(m, k)
            assert math.isfinite(v) and -1e-9 <= v <= 1 + 1e-9, (m.name, k, v)
        for k in ("revenue", "cost", "profit", "cumulative_profit", "clv", "reputation"):
            assert math.isfinite(getattr(m, k)), (m.name, k)
        assert m.revenue >= 0 and m.cost >= 0
        shares += m.market_share
    assert shares == pytest.approx(1.0 if met["active"] else 0.0, abs=1e-6)
    assert sum(m.customers for m in mm.merchant_list) == met["active"]


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(P=valid_params(), steps=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_valid_parameters(P, steps, seed):
    mm = LoyaltyModel(P, seed=seed)
    check_step(mm)
    for _ in range(steps):
        mm.step()
        check_step(mm)
    df = mm.datacollector.get_model_vars_dataframe()
    assert len(df) == steps + 1 and not df.isna().any().any()


# ---- invalid parameters ------------------------------------------------------------------------
NUMERIC = sorted(n for n, p in PARAMS.items() if p.kind in ("float", "int"))
M_NUMERIC = sorted(n for n, p in MERCHANT_PARAMS.items() if p.kind in ("float", "int"))


@st.composite
def bad_value(draw, p):
    kind = draw(st.sampled_from(["below", "above", "type", "nonfinite"] + (["fraction"] if p.kind == "int" else [])))
    if kind == "below":
        return p.lo - draw(st.floats(1e-3, 1e6)) if p.kind == "float" else int(p.lo) - draw(st.integers(1, 10**6))
    if kind == "above":
        return p.hi + draw(st.floats(1e-3, 1e6)) if p.kind == "float" else int(p.hi) + draw(st.integers(1, 10**6))
    if kind == "nonfinite":
        return draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    if kind == "fraction":
        return draw(st.integers(int(p.lo), int(p.hi) - 1)) + 0.5
    return draw(st.one_of(st.text(max_size=5), st.none(), st.booleans(), st.lists(st.integers(), max_size=2),
                          st.dictionaries(st.text(max_size=2), st.integers(), max_size=1)))


@st.composite
def bad_market_entry(draw):
    name = draw(st.sampled_from(NUMERIC))
    return name, draw(bad_value(PARAMS[name]))


@st.composite
def bad_merchant_entry(draw):
    name = draw(st.sampled_from(M_NUMERIC))
    return name, draw(bad_value(MERCHANT_PARAMS[name]))


def _names_param_and_range(err: ParamError, key: str, p):
    msg = str(err)
    assert key in msg, msg
    assert p.range_text() in msg, msg
    assert err.key == key


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(entry=bad_market_entry())
def test_invalid_market_values_are_rejected_with_the_name_and_range(entry):
    name, value = entry
    p = PARAMS[name]
    for build in (lambda: Params(**{name: value}), lambda: Params.from_dict({name: value}),
                  lambda: Params().replace(**{name: value})):
        with pytest.raises(ParamError) as e:
            build()
        _names_param_and_range(e.value, name, p)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(entry=bad_merchant_entry(), index=st.integers(0, 2))
def test_invalid_merchant_values_are_rejected_with_the_merchant_key_and_range(entry, index):
    name, value = entry
    p = MERCHANT_PARAMS[name]
    tables = [{"name": f"M{j}"} for j in range(3)]
    tables[index][name] = value
    with pytest.raises(ParamError) as e:
        Params.from_dict({"merchants": tables})
    _names_param_and_range(e.value, f"merchants[{index}].{name}", p)
    with pytest.raises(ParamError) as e:
        MerchantParams(**{name: value})
    assert name in str(e.value) and p.range_text() in str(e.value)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(key=st.text(min_size=1, max_size=20))
def test_unknown_keys_are_rejected(key):
    assume(key not in PARAMS and key != "merchants")
    with pytest.raises(ParamError) as e:
        Params.from_dict({key: 1})
    assert key in str(e.value) and e.value.key == key
    with pytest.raises(ParamError) as e:
        Params().replace(**{key: 1})
    assert key in str(e.value)
    assume(key not in MERCHANT_PARAMS)
    with pytest.raises(ParamError) as e:
        Params.from_dict({"merchants": [{key: 1}]})
    assert f"merchants[0].{key}" in str(e.value)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(name=st.sampled_from(sorted(n for n, p in MERCHANT_PARAMS.items() if p.kind == "choice")),
       value=st.one_of(st.text(max_size=8), st.integers(), st.none()))
def test_invalid_choices_are_rejected(name, value):
    p = MERCHANT_PARAMS[name]
    assume(value not in p.choices)
    with pytest.raises(ParamError) as e:
        Params.from_dict({"merchants": [{name: value}]})
    _names_param_and_range(e.value, f"merchants[0].{name}", p)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(entry=bad_merchant_entry())
def test_invalid_policy_changes_mid_run_are_rejected(entry):
    name, value = entry
    mm = _SMALL_MODEL
    before = mm.merchant(0).policy
    with pytest.raises(ParamError) as e:
        mm.set_policy(0, **{name: value})
    assert name in str(e.value) and MERCHANT_PARAMS[name].range_text() in str(e.value)
    assert mm.merchant(0).policy == before


_SMALL_MODEL = LoyaltyModel(Params(n_customers=50), seed=0)


# ---- cases the property tests once found failing (fixed; kept as regression tests) --------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_free_merchant_does_not_produce_nan():
    P = Params(n_customers=100, expectation_adapt=1.0,
               merchants=(MerchantParams(name="A", price=0.0), MerchantParams(name="B", price=1.0)))
    mm = LoyaltyModel(P, seed=1)
    for _ in range(5):
        mm.step()
        assert all(math.isfinite(v) for v in mm.metrics.values())
        assert np.all(np.isfinite(mm.pop.satisfaction))


def test_what_customers_heard_stays_within_plus_minus_one():
    P = Params(n_customers=200, variety_seeking=0.5, reconsider_prob=0.0, reconsider_dissatisfied=0.0,
               merchants=(MerchantParams(name="A", quality=0.3, promise=0.3),
                          MerchantParams(name="B", quality=0.95, promise=0.3, failure_prob=0.0)))
    mm = LoyaltyModel(P, seed=2)
    for _ in range(20):
        mm.step()
        assert float(np.abs(mm.pop.heard).max()) <= 1 + 1e-6


# ---- narrowed counts -----------------------------------------------------------------------------
def test_counts_are_16_bit_and_stop_at_their_ceiling_instead_of_wrapping():
    """Steps, passes, complaints and the other counts are stored in 16 bits (docs/performance.md):
    a customer whose counts reach COUNT_MAX keeps them there through a market's steps — tenure 0
    again would make an old customer a newcomer (its encounters would weigh as a first week's)."""
    from sim.mechanism.state import COUNT, COUNT_MAX, Population

    P = Params(n_customers=400, merchants=[MerchantParams(name="A", failure_prob=0.5, recovery_prob=1.0),
                                          MerchantParams(name="B", failure_prob=0.5)])
    mm = LoyaltyModel(P, seed=4)
    for _ in range(3):
        mm.step()
    pop = mm.pop
    for name in Population.INTS:
        assert getattr(pop, name).dtype == COUNT, name
    act = pop.stage > 0
    for name in Population.INTS:
        getattr(pop, name)[act] = COUNT_MAX - 1
    ids, merchant, stage = pop.id.copy(), pop.merchant.copy(), pop.stage.copy()
    for _ in range(8):
        mm.step()
    # customers still with the merchant they had bought from, who never switched (a new relationship
    # starts tenure and the passes again): every count only went up, to the ceiling at most
    same = (act & (pop.id == ids) & (pop.merchant == merchant) & (stage > 1) & (pop.stage > 1)
            & (pop.switches == COUNT_MAX - 1))
    assert same.sum() > 100
    for name in Population.INTS:
        arr = getattr(pop, name)[same]
        assert arr.min() >= COUNT_MAX - 1, (name, arr.min())
    for name in ("age", "tenure", "cycle_a", "failures", "complaints"):  # those that grew are at it
        assert (getattr(pop, name)[same] == COUNT_MAX).sum() > 20, name


def test_count_up_adds_one_where_asked_and_stops_at_the_ceiling():
    from sim.mechanism.state import COUNT, COUNT_MAX, count_up

    c = np.array([0, 5, COUNT_MAX - 1, COUNT_MAX, 7], dtype=COUNT)
    count_up(c, np.array([0, 1, 2, 3]))
    assert c.tolist() == [1, 6, COUNT_MAX, COUNT_MAX, 7]
    count_up(c, np.array([0, 1, 3, 4]), np.array([True, False, True, True]))
    assert c.tolist() == [2, 6, COUNT_MAX, COUNT_MAX, 8]


def test_customer_numbers_are_32_bit_and_widen_rather_than_wrap():
    """Customers' numbers are stored in 32 bits (docs/performance.md); the arrival that would pass
    2³¹ − 1 widens them (and the history's) to 64 bits, so a number is never reused and every
    customer, recorded or departed, can still be looked up by it."""
    P = Params(n_customers=300, natural_churn=0.05, arrival_rate=1.0, history_limit=300, history_depth=10)
    mm = LoyaltyModel(P, seed=2)
    mm.step()
    pop = mm.pop
    assert pop.id.dtype == np.int32 and mm.history.ids.dtype == np.int32
    top = np.iinfo(np.int32).max
    pop.next_id = top - 3  # the next few newcomers cross the 32-bit ceiling
    before = set(pop.id[pop.stage > 0].tolist())
    for _ in range(6):
        mm.step()
    assert pop.id.dtype == np.int64 and mm.history.ids.dtype == np.int64
    new = pop.id[(pop.stage > 0) & (pop.id >= top - 3)]
    assert len(new) > 4 and new.max() > top  # numbers went on past the ceiling, none negative
    alive = pop.id[pop.stage > 0]
    assert len(np.unique(alive)) == len(alive) and not (set(new.tolist()) & before)
    cid = int(new.max())
    found = mm.customer(cid)  # looked up by its 64-bit number, with the steps it was recorded
    assert found["id"] == cid and found["state"]["id"] == cid and found["recorded"]
    assert len(found["history"]) >= 1

"""The model as someone who knows Mesa 3.3 uses it: seeds and ``rng`` given the ways Mesa takes them,
``mesa.batch_run`` with a data collection period, the ``DataCollector``'s tables against the model's
own observables, the merchants as an ``AgentSet``, and customers looked up by id. Small markets, few
steps."""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd
import pytest

from sim import LoyaltyModel, ParamError, Params
from sim.merchants import Merchant
from sim.metrics import MERCHANT_METRICS, METRICS
from sim.params import MERCHANT_PARAMS, PARAMS


def run(model, steps=5):
    for _ in range(steps):
        model.step()
    return model


def same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


# ---- seed and rng ----------------------------------------------------------------------------
@pytest.mark.parametrize("key, value", [("seed", "1"), ("seed", -1), ("seed", 1.5), ("seed", True),
                                        ("seed", [1, 2]), ("rng", "abc"), ("rng", -2), ("rng", 2.5),
                                        ("rng", [1, -1])])
def test_a_bad_seed_or_rng_is_a_param_error_naming_it(key, value):
    with pytest.raises(ParamError) as e:
        LoyaltyModel(n_customers=50, **{key: value})
    assert e.value.key == key
    assert f"{key} = {value!r}" in str(e.value) and "whole number ≥ 0" in str(e.value)
    assert f"{key} = {value!r}" in e.value.text("zh") and "整数" in e.value.text("zh")


def test_a_bad_seed_in_batch_run_names_the_seed():
    with pytest.raises(ParamError) as e:
        mesa.batch_run(LoyaltyModel, parameters={"n_customers": 50, "seed": ["x"]}, iterations=1, max_steps=1,
                       number_processes=1, display_progress=False)
    assert e.value.key == "seed"


def test_every_form_of_one_seed_gives_the_same_run():
    base = run(LoyaltyModel(n_customers=200, seed=5)).datacollector.get_model_vars_dataframe()
    for kw in ({"seed": 5.0}, {"seed": np.int64(5)}, {"rng": 5}, {"rng": np.uint8(5)}, {"rng": 5.0}):
        m = LoyaltyModel(n_customers=200, **kw)
        assert m.seed == 5 and type(m.seed) is int
        pd.testing.assert_frame_equal(run(m).datacollector.get_model_vars_dataframe(), base)
    assert run(LoyaltyModel(n_customers=200, rng=[5, 6])).seed == [5, 6]
    assert run(LoyaltyModel(n_customers=200, rng=np.random.PCG64(5))).steps == 5


def test_batch_run_rows_are_the_models_own_collected_values():
    rows = pd.DataFrame(mesa.batch_run(LoyaltyModel, parameters={"n_customers": 200, "seed": 4, "A.price": 1.2},
                                       iterations=2, max_steps=6, number_processes=1, data_collection_period=2,
                                       display_progress=False))
    m = run(LoyaltyModel(n_customers=200, seed=4, **{"A.price": 1.2}), 7)
    market = m.datacollector.get_model_vars_dataframe()
    for _, it in rows.groupby("iteration"):  # one seed: every iteration is the same run
        assert it.Step.tolist() == [0, 2, 4, 6]
        for _, row in it.iterrows():
            assert all(same(float(row[k]), float(market.loc[row.Step, k])) for k in METRICS)


# ---- the data collector ----------------------------------------------------------------------
def test_collected_values_equal_the_models_observables_at_every_step():
    m = LoyaltyModel(n_customers=200, seed=2, **{"A.strategy": "learner", "B.strategy": "rule"})
    for _ in range(8):
        m.step()
        row = m.datacollector.get_model_vars_dataframe().iloc[-1]
        assert row.name == m.steps and list(row.index) == list(METRICS)
        assert all(same(row[k], v) for k, v in m.metrics.items())
        per = m.datacollector.get_agenttype_vars_dataframe(Merchant).xs(m.steps, level="Step")
        for a in m.agents:
            assert per.loc[a.unique_id, "merchant"] == a.name
            assert all(same(per.loc[a.unique_id, k], getattr(a, k)) for k in MERCHANT_METRICS)


def test_the_agents_table_is_the_merchants_table():
    """Mesa users read agents' data with get_agent_vars_dataframe(); the agents are the merchants."""
    m = run(LoyaltyModel(n_customers=200, seed=3), 4)
    dc = m.datacollector
    agents = dc.get_agent_vars_dataframe()
    pd.testing.assert_frame_equal(agents, dc.get_agenttype_vars_dataframe(Merchant))
    assert agents.index.names == ["Step", "AgentID"] and len(agents) == 5 * len(m.agents)
    assert list(agents.columns) == ["merchant", *MERCHANT_METRICS]
    last = agents.xs(m.steps, level="Step")
    assert sorted(last["merchant"]) == sorted(m.merchant_names)


def test_the_merchants_rows_are_the_rows_mesa_itself_collects():
    """The model's collector reads the merchants' attributes in one call per merchant; Mesa's own
    DataCollector, given the same reporters, collects the same table; a collector with a reporter
    that is a function, or an attribute a merchant lacks, is read Mesa's way (None for the missing)."""
    from sim.model import Collector

    m = LoyaltyModel(n_customers=200, seed=4, **{"A.strategy": "rule"})
    names = {"merchant": "name", **{k: k for k in MERCHANT_METRICS}}
    ours, theirs = m.datacollector, mesa.DataCollector(agenttype_reporters={Merchant: names})
    odd = Collector(agenttype_reporters={Merchant: {"merchant": "name", "nothing": "no_such_attribute",
                                                    "twice": lambda a: 2 * a.customers}})
    plain = mesa.DataCollector(agenttype_reporters={Merchant: {"merchant": "name", "nothing": "no_such_attribute",
                                                               "twice": lambda a: 2 * a.customers}})
    for _ in range(5):
        m.step()
        for dc in (theirs, odd, plain):
            dc.collect(m)
    mine = ours.get_agenttype_vars_dataframe(Merchant)
    pd.testing.assert_frame_equal(mine[mine.index.get_level_values("Step") > 0],
                                  theirs.get_agenttype_vars_dataframe(Merchant))
    got = odd.get_agenttype_vars_dataframe(Merchant)
    pd.testing.assert_frame_equal(got, plain.get_agenttype_vars_dataframe(Merchant))
    assert got["nothing"].isna().all()
    assert (got["twice"] == 2 * theirs.get_agenttype_vars_dataframe(Merchant)["customers"]).all()


# ---- agents ----------------------------------------------------------------------------------
def test_merchants_are_an_agentset_like_any_mesa_model():
    m = run(LoyaltyModel(n_customers=200, seed=1), 2)
    assert len(m.agents) == 3 and list(m.agents_by_type) == [Merchant]
    assert m.agents.select(lambda a: a.price > 1.0).get("name") == ["A"]
    assert m.agents.agg("customers", sum) == sum(mm.customers for mm in m.merchant_list)
    assert m.agents.get(["name", "price"]) == [[mm.name, mm.price] for mm in m.merchant_list]


# ---- customers by id -------------------------------------------------------------------------
def test_a_customer_looked_up_by_id_is_the_customer_of_the_arrays():
    m = run(LoyaltyModel(n_customers=200, seed=6), 10)
    ids = m.customer_ids()
    assert len(ids) and (ids >= 0).all()
    cid = int(ids[len(ids) // 2])
    story = m.customer(cid)
    place = int(np.flatnonzero(m.pop.id == cid)[0])
    assert story["id"] == cid and story["state"]["place"] == place
    assert story["state"]["trust"] == float(m.pop.trust[place])
    assert story["history"][-1]["step"] == m.steps and story["history"][-1]["trust"] == story["state"]["trust"]
    assert m.customer(np.int64(cid)) == story
    for stage in ("prospect", "ordinary", "trusting", "loyal"):
        assert all(m.customer(int(c))["state"]["stage"] == stage for c in m.customer_ids(stage)[:5])


def test_an_empty_place_is_no_customer():
    """Empty places carry id −1: looking it up gives None, as for any id no customer has had."""
    m = run(LoyaltyModel(n_customers=200, seed=3), 4)
    assert (m.pop.id == -1).any()  # the market has empty places
    assert m.customer(-1) is None and m.customer(10**9) is None


@pytest.mark.parametrize("bad", ["x", 3.7, None, True])
def test_an_id_that_is_no_whole_number_is_refused(bad):
    m = LoyaltyModel(n_customers=50, seed=1)
    with pytest.raises(ParamError) as e:
        m.customer(bad)
    assert e.value.key == "customer_id" and repr(bad) in str(e.value) and repr(bad) in e.value.text("zh")


@pytest.mark.parametrize("stage", ["gold", "churned", 3])
def test_customer_ids_of_a_stage_no_active_customer_has_is_refused(stage):
    m = run(LoyaltyModel(n_customers=200, seed=3), 4)
    with pytest.raises(ParamError) as e:
        m.customer_ids(stage)
    assert "prospect, ordinary, trusting, loyal" in str(e.value) and "prospect、ordinary" in e.value.text("zh")


def test_reset_rng_restarts_the_draws_of_the_steps_that_follow():
    def market(reset):
        m = run(LoyaltyModel(n_customers=200, seed=1), 2)
        if reset is not None:
            m.reset_rng(reset)
        return run(m, 3).datacollector.get_model_vars_dataframe()

    a, b, c = market(9), market(9), market(None)
    pd.testing.assert_frame_equal(a, b)
    assert a.iloc[:3].equals(c.iloc[:3]) and not a.equals(c)


# ---- Mesa's SolaraViz ------------------------------------------------------------------------
def test_mesa_model_params_are_sliders_over_the_declared_ranges():
    """Every slider mesa_model_params makes, for every key of the market, starts at the market's value
    and every position of it (its ends and the first step) is a value the declaration allows."""
    from sim.inputs.keys import market_keys, mesa_model_params, resolve_key

    spec = mesa_model_params(market_keys(), {"seed": 1})
    assert spec.pop("seed") == 1 and len(spec) == len(market_keys())
    for key, s in spec.items():
        p = resolve_key(key).param
        assert s["value"] == resolve_key(key).get(Params())
        if s["type"] == "Select":
            assert s["values"] == list(p.choices)
            continue
        for x in (s["min"], s["min"] + s["step"], s["max"]):
            p.validate(x, key=key)
        assert s["min"] >= p.lo and s["max"] <= p.hi and s["max"] - s["min"] >= s["step"]
        assert s["type"] == ("SliderInt" if p.kind == "int" else "SliderFloat")
    with pytest.raises(ParamError):
        mesa_model_params(["trust_gian"])
    with pytest.raises(ParamError):
        mesa_model_params(["trust_gain"], {"n_customers": -5})


def test_solaraviz_controls_built_from_the_declarations_rebuild_the_market():
    """Mesa's ModelCreator shows the sliders of mesa_model_params (labels from the declarations, in
    English or Chinese); Reset builds the market from their values, merchant keys and seed included."""
    import ipyvuetify as v
    import solara
    from mesa.visualization.solara_viz import ModelController, ModelCreator

    from sim.inputs.keys import mesa_model_params

    spec = mesa_model_params(["n_customers", "trust_gain", "A.price", "A.programme"], {"seed": 3},
                             base=Params(n_customers=200))
    model = solara.reactive(LoyaltyModel(n_customers=200, seed=1))
    params = solara.reactive({})

    @solara.component
    def Page():
        with solara.Column():
            ModelController(model, model_parameters=params, play_interval=solara.reactive(100),
                            render_interval=solara.reactive(1), use_threads=solara.reactive(False))
            ModelCreator(model, spec, model_parameters=params)

    _, rc = solara.render(Page(), handle_error=False)
    assert [w.label for w in rc.find(v.Slider).widgets] == ["Customers", "Trust gain", "A: Price"]
    rc.find(v.Btn, children=["Step"]).widget.click()
    rc.find(v.Btn, children=["Reset"]).widget.click()
    m = model.value
    assert m.steps == 0 and m.seed == 3 and m.params == Params(n_customers=200)
    zh = mesa_model_params(["trust_gain", "A.price"], lang="zh")
    assert zh["trust_gain"]["label"] == PARAMS["trust_gain"].label_zh
    assert zh["A.price"]["label"] == "A: " + MERCHANT_PARAMS["price"].label_zh

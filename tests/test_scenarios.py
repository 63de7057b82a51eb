"""Named scenarios (sim.inputs.scenario, scenarios/*.toml): every shipped scenario loads, explains itself in
both languages and runs; events fire at their step; overrides and the TOML writer round-trip;
loading by name and by path; docs/scenarios.md is generated from the files."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import ParamError, Params, ScheduledChange
from sim.model import STRUCTURAL
from sim.params import MERCHANT_PARAMS, PARAMS, default_merchants
from sim.inputs.overrides import apply_overrides, parse_sets
from sim.inputs.scenario import (INFO_SECTIONS, MAX_BYTES, SCENARIO_DIR, Scenario, ScenarioError, list_scenarios,
                                 load_scenario, parse_scenario, scenario_names, scenario_to_toml)

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")

REQUIRED = ["baseline", "cycle_a_only", "botched_repair", "recovery_done_well", "silent_majority",
            "monopoly_hostages", "deregulation", "price_war", "overpromising", "tiered_programme",
            "membership_club", "bank_products", "relational_hotel"]
NAMES = scenario_names()


def small(sc: Scenario, n: int = 300) -> Scenario:
    return apply_overrides(sc, {"params": {"n_customers": n, "network_degree": 4}})


# ---- the shipped scenarios ------------------------------------------------------------------
def test_the_scenario_directory_is_the_repository_one():
    assert SCENARIO_DIR == ROOT / "scenarios"
    assert set(REQUIRED) <= set(NAMES), f"missing: {sorted(set(REQUIRED) - set(NAMES))}"
    assert len(NAMES) >= 13


@pytest.mark.parametrize("name", NAMES)
def test_scenario_loads_and_explains_itself_in_both_languages(name):
    sc = load_scenario(name)
    assert sc.name == name and isinstance(sc.params, Params)
    assert sc.source.endswith(f"{name}.toml")
    for section in INFO_SECTIONS:
        en, zh = sc.text(section, "en"), sc.text(section, "zh")
        assert en.strip() and zh.strip(), f"{name}: [info] {section} missing"
        assert LATIN.search(en) and not CJK.search(en), f"{name}: info.{section}.en is not English"
        assert CJK.search(zh), f"{name}: info.{section}.zh is not Chinese"
    assert len(sc.text("summary")) <= 200, "the summary is one line for `loyalty-sim list`"
    # the texts are specific: they name parameters or observables the model has
    words = set(re.findall(r"[a-z_]+", " ".join(sc.text(s) for s in ("what", "notice", "try"))))
    assert words & (set(PARAMS) | set(MERCHANT_PARAMS)), f"{name}: the texts name no parameter"
    # small enough to run in seconds
    assert sc.params.n_customers <= 3000 and sc.steps <= 520


@pytest.mark.parametrize("name", NAMES)
def test_scenario_runs_a_few_steps(name):
    sc = small(load_scenario(name))
    res = sc.run(steps=6)
    assert len(res.metrics) == 7 and res.seed == (sc.seed or 0)
    assert not res.metrics[["loyal_share", "churn_rate", "satisfaction"]].isna().any().any()
    assert set(res.merchants["merchant"]) == {m.name for m in sc.params.merchants}


@pytest.mark.parametrize("name", [n for n in NAMES if load_scenario(n).events])
def test_events_fire_at_their_step(name):
    sc = small(load_scenario(name), 200)
    last = max(e.step for e in sc.events)
    res = sc.run(seed=2, steps=last + 1)
    fired = [(i.step, i.target, i.changes) for i in res.interventions if i.source == "scenario"]
    assert fired == sorted(((e.step, e.target, e.changes) for e in sc.events), key=lambda x: x[0])
    for e in sc.events:  # the change is in the merchants' observables from the next step on
        if e.target != "market" and "price" in e.changes:
            m = res.merchants[(res.merchants.merchant == e.target) & (res.merchants.step == e.step + 1)]
            assert float(m["price"].iloc[0]) == pytest.approx(e.changes["price"])


def test_event_notes_are_bilingual_and_events_are_scheduled_changes():
    for sc in list_scenarios():
        for e in sc.events:
            assert isinstance(e, ScheduledChange)
            assert e.note_en and e.note_zh and CJK.search(e.note_zh)


def test_scenario_runs_are_reproducible_and_use_the_default_seed():
    sc = small(load_scenario("botched_repair"))
    a, b = sc.run(steps=5), sc.run(seed=sc.seed, steps=5)
    assert a.metrics.equals(b.metrics)
    c = sc.run(seed=99, steps=5)
    assert not a.metrics.equals(c.metrics)


# ---- loading --------------------------------------------------------------------------------
def test_load_by_name_and_by_path_give_the_same_scenario():
    by_name = load_scenario("deregulation")
    by_path = load_scenario(ROOT / "scenarios" / "deregulation.toml")
    by_str = load_scenario(str(ROOT / "scenarios" / "deregulation.toml"))
    for sc in (by_path, by_str):
        assert sc.name == "deregulation"
        assert sc.params == by_name.params and sc.events == by_name.events and sc.info == by_name.info
    assert by_str.source == str(ROOT / "scenarios" / "deregulation.toml")


def test_unknown_name_lists_the_known_names_and_a_close_match():
    with pytest.raises(ScenarioError) as ei:
        load_scenario("price_wars")
    msg = str(ei.value)
    assert "unknown scenario 'price_wars'" in msg and "did you mean 'price_war'" in msg
    for n in NAMES:
        assert n in msg
    assert CJK.search(ei.value.text("zh")) and "price_war" in ei.value.text("zh")
    assert isinstance(ei.value, ParamError)


def test_missing_path_and_folder_are_clear_errors(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="folder"):
        load_scenario(tmp_path)


def test_environment_variable_points_to_another_scenario_folder(tmp_path, monkeypatch):
    (tmp_path / "tiny.toml").write_text("[params]\nn_customers = 50\nnetwork_degree = 4\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a scenario", encoding="utf-8")
    monkeypatch.setenv("LOYALTY_SIM_SCENARIOS", str(tmp_path))
    assert scenario_names() == ["tiny"]
    assert load_scenario("tiny").params.n_customers == 50
    with pytest.raises(ScenarioError, match="known scenarios: tiny"):
        load_scenario("baseline")


def test_empty_file_is_the_default_market():
    sc = parse_scenario("", source="empty.toml")
    assert sc.params == Params() and sc.events == () and sc.info == {} and sc.values == {}
    assert sc.steps == 104 and sc.seed is None and sc.name == "empty"
    assert sc.text("title") == "empty" and sc.text("what") == ""
    assert parse_scenario(b"\xef\xbb\xbf# only a comment\n").params == Params()  # UTF-8 BOM


def test_merchants_replace_the_defaults_and_fields_default_to_the_declaration():
    sc = parse_scenario('[[merchants]]\nname = "Solo"\nquality = 0.8\n\n[[merchants]]\nprice = 2.0\n')
    assert [m.name for m in sc.params.merchants] == ["Solo", "B"]
    assert sc.params.merchants[0].price == MERCHANT_PARAMS["price"].default
    assert sc.values["merchants"] == [{"name": "Solo", "quality": 0.8}, {"price": 2.0, "name": "B"}]


# ---- overrides ------------------------------------------------------------------------------
def test_parse_sets_reads_keys_and_toml_values():
    got = parse_sets(["n_customers=500", "A.price=1.2", "merchants[0].quality = 0.8", "B.programme=financial",
                      'C.name="Cee"', "run.steps=52", "params.trust_gain=0.1", "B.strategy = 'rule'"])
    assert got == {"params": {"n_customers": 500, "trust_gain": 0.1},
                   "merchants": {"A": {"price": 1.2}, 0: {"quality": 0.8}, "B": {"programme": "financial",
                                                                                   "strategy": "rule"},
                                 "C": {"name": "Cee"}},
                   "run": {"steps": 52}}


@pytest.mark.parametrize("item", ["n_customers", "=5", "A.=3", "a b=1", "x=", "merchants[x].price=1", ".price=1"])
def test_malformed_set_items_name_the_item_and_the_expected_form(item):
    with pytest.raises(ScenarioError) as ei:
        parse_sets([item])
    assert f"--set {item}" in str(ei.value) and "KEY=VALUE" in str(ei.value)
    assert CJK.search(ei.value.text("zh"))


def test_apply_overrides_changes_market_merchants_and_run_settings():
    sc = load_scenario("baseline")
    new = apply_overrides(sc, ["n_customers=500", "A.price=1.3", "merchants[2].quality=0.6", "run.steps=20",
                               "run.seed=7", "B.programme=social"])
    assert new.params.n_customers == 500 and new.steps == 20 and new.seed == 7
    a, b, c = new.params.merchants
    assert (a.price, b.programme, c.quality) == (1.3, "social", 0.6)
    # the other default merchants' values are kept
    assert a.quality == default_merchants()[0].quality and c.price == default_merchants()[2].price
    assert new.info == sc.info and new.name == sc.name and new.source == sc.source
    assert apply_overrides(sc, {"n_customers": 500, "A.price": 1.3}).params == apply_overrides(
        sc, {"params": {"n_customers": 500}, "merchants": {"A": {"price": 1.3}}}).params
    assert sc.params.n_customers == 2000, "the original is unchanged"
    # values from code or a form may give a whole number as 500.0; a --set string may not
    assert apply_overrides(sc, {"n_customers": 500.0}).params.n_customers == 500
    with pytest.raises(ScenarioError, match="whole number"):
        apply_overrides(sc, ["n_customers=500.0"])


def test_override_errors_name_the_key_the_range_and_the_merchants():
    sc = load_scenario("membership_club")
    with pytest.raises(ScenarioError) as ei:
        apply_overrides(sc, ["trust_gain=2"])
    e = ei.value
    assert "--set trust_gain=2" in str(e) and "allowed 0 … 1" in str(e) and e.key == "trust_gain"
    assert CJK.search(e.text("zh")) and "0 … 1" in e.text("zh")
    with pytest.raises(ScenarioError, match=r"no merchant named 'Clubb'; did you mean 'Club'\? \(merchants: Club, B, C\)"):
        apply_overrides(sc, ["Clubb.price=1"])
    with pytest.raises(ScenarioError, match=r"no merchant at position 3"):
        apply_overrides(sc, ["merchants[3].price=1"])
    with pytest.raises(ScenarioError, match="did you mean 'price'"):
        apply_overrides(sc, ["Club.prize=1"])
    with pytest.raises(ScenarioError, match="is a merchant parameter"):
        apply_overrides(sc, ["quality=0.5"])
    with pytest.raises(ScenarioError, match="whole number"):
        apply_overrides(sc, ["n_customers=500.5"])
    with pytest.raises(ScenarioError, match="one of 'none'"):
        apply_overrides(sc, ["Club.programme=gold"])
    with pytest.raises(ScenarioError, match="loyalty lies beyond the bottleneck"):
        apply_overrides(sc, ["trust_threshold=0.9"])
    with pytest.raises(ScenarioError, match="must be below n_customers"):
        apply_overrides(sc, ["n_customers=6"])


def test_an_override_that_breaks_an_event_is_caught_at_load_time():
    sc = parse_scenario("[[events]]\nstep = 3\ntarget = 'market'\nset = { loyalty_threshold = 0.6 }\n",
                        source="x.toml")
    assert sc.events[0].changes == {"loyalty_threshold": 0.6}
    with pytest.raises(ScenarioError) as ei:
        apply_overrides(sc, ["loyalty_exit=0.7"])  # fine at the start, broken once the event applies
    assert ei.value.key == "events[0].set.loyalty_threshold" and "step 3" in str(ei.value)
    assert "must not exceed" in str(ei.value) and CJK.search(ei.value.text("zh"))


# ---- writing --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_scenario_to_toml_round_trips(name):
    sc = load_scenario(name)
    text = scenario_to_toml(sc)
    back = parse_scenario(text, source="download.toml", name=name)
    assert back.params == sc.params and back.events == sc.events
    assert back.info == sc.info and back.steps == sc.steps and back.seed == sc.seed and back.values == sc.values


def test_round_trip_after_overrides_of_default_merchants():
    sc = apply_overrides(parse_scenario("[params]\nn_customers = 300\n"), ["B.price=0.7", "run.seed=4"])
    assert "merchants" in sc.values and sc.values["merchants"][1] == {"name": "B", "price": 0.7, "promise": 0.68}
    back = parse_scenario(scenario_to_toml(sc))
    assert back.params == sc.params and back.seed == 4


# ---- property: random valid overrides load --------------------------------------------------
def _value(p, draw):
    if p.kind == "choice":
        return draw(st.sampled_from(p.choices))
    if p.kind == "str":
        return draw(st.sampled_from(["X", "Shop 2", "店"]))
    if p.kind == "int":
        return draw(st.integers(int(p.lo), int(min(p.hi, p.lo + 10_000))))
    return draw(st.floats(p.lo, p.hi, allow_nan=False, allow_infinity=False))


def _violates(params: dict) -> bool:
    """Whether a market overriding ``params`` over the defaults breaks a rule between parameters."""
    v = {k: p.default for k, p in PARAMS.items()} | params
    return (v["loyalty_threshold"] < v["trust_threshold"] or v["loyalty_exit"] > v["loyalty_threshold"]
            or v["network_degree"] % 2 == 1 or v["network_degree"] >= v["n_customers"])


@st.composite
def overrides(draw):
    keys = draw(st.lists(st.sampled_from(sorted(set(PARAMS) - {"n_customers", "history_limit"})), max_size=5,
                         unique=True))
    market = {k: _value(PARAMS[k], draw) for k in keys}
    market["n_customers"] = draw(st.integers(100, 400))
    merchants = {}
    for name in draw(st.lists(st.sampled_from(["A", "B", "C"]), max_size=2, unique=True)):
        ks = draw(st.lists(st.sampled_from(sorted(set(MERCHANT_PARAMS) - {"name"})), min_size=1, max_size=3,
                           unique=True))
        merchants[name] = {k: _value(MERCHANT_PARAMS[k], draw) for k in ks}
    return market, merchants


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides())
def test_random_valid_overrides_load_and_round_trip(ov):
    market, merchants = ov
    sc = load_scenario("baseline")
    items = [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in market.items()]
    items += [f"{m}.{k}={v!r}" if isinstance(v, str) else f"{m}.{k}={v}" for m, ch in merchants.items()
              for k, v in ch.items()]
    if _violates(market):
        with pytest.raises(ScenarioError):
            apply_overrides(sc, items)
        return
    new = apply_overrides(sc, items)
    for k, v in market.items():
        got = getattr(new.params, k)
        assert got == v or (isinstance(v, float) and math.isclose(got, v, rel_tol=1e-12))
    for m, ch in merchants.items():
        mp = new.params.merchant(m)
        for k, v in ch.items():
            got = getattr(mp, k)
            assert got == (v.strip() if isinstance(v, str) else v) or math.isclose(got, v, rel_tol=1e-12)
    assert parse_scenario(scenario_to_toml(new)).params == new.params
    assert apply_overrides(sc, {"params": market, "merchants": merchants}).params == new.params


# ---- size limit, docs -----------------------------------------------------------------------
def test_files_over_the_size_limit_are_rejected(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text("# padding\n" + "#" * MAX_BYTES + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="at most 262,144 bytes") as ei:
        load_scenario(big)
    assert "big.toml" in str(ei.value) and CJK.search(ei.value.text("zh"))
    with pytest.raises(ScenarioError, match="at most"):
        parse_scenario(b" " * (MAX_BYTES + 1), source="upload.toml")
    with pytest.raises(ScenarioError, match="at most"):
        parse_scenario(" " * (MAX_BYTES + 1), source="upload.toml")


def _docs_tool():
    spec = importlib.util.spec_from_file_location("gen_scenarios_doc", ROOT / "tools" / "gen_scenarios_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_docs_scenarios_md_is_up_to_date():
    tool = _docs_tool()
    current = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    assert tool.render(current) == current, (
        "docs/scenarios.md is out of date: run `uv run python tools/gen_scenarios_doc.py`")
    for name in NAMES:
        assert f"[`{name}`]" in current


def test_docs_describe_every_table_and_event_key():
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    for key in ("[info]", "[run]", "[params]", "[[merchants]]", "[[events]]", "`steps`", "`seed`", "`step`",
                "`target`", "`set`", "`note`", *(f"`{s}`" for s in INFO_SECTIONS), *(f"`{s}`" for s in STRUCTURAL)):
        assert key in text, key

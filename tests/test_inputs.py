"""The one key resolver, the one "did you mean" and the one TOML line locator (sim.inputs).

Every parameter key the project accepts (``--set``, experiment files, the app, keyword parameters of
the model) goes through :func:`sim.inputs.keys.resolve_key`; any string either resolves or gives a
:class:`ParamError` that names the key, in English and Chinese — never another exception.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.inputs.hints import did_you_mean
from sim.inputs.keys import ParamKey, params_from_keys, parse_key, resolve_key, set_values
from sim.inputs.toml_lines import TomlLines, find_line, path_key, split_key
from sim.params import MERCHANT_PARAMS, PARAMS, MerchantParams, ParamError, Params, default_merchants

CJK = re.compile(r"[\u4e00-\u9fff]")


# ---- did you mean ------------------------------------------------------------------------------
def test_did_you_mean_suggests_the_closest_choice_in_both_languages():
    assert did_you_mean("trust_gian", PARAMS) == ("; did you mean 'trust_gain'?", "；是否想写 'trust_gain'？")
    assert did_you_mean("zzzzzz", PARAMS) == ("", "")
    assert did_you_mean("price_wars", ["price_war", "baseline"], cutoff=0.5)[0] == "; did you mean 'price_war'?"
    assert did_you_mean(3, []) == ("", "")


@given(st.text(max_size=30), st.lists(st.text(max_size=10), max_size=5))
def test_did_you_mean_never_raises_and_suggests_only_a_choice(word, choices):
    en, zh = did_you_mean(word, choices)
    assert (en == "") == (zh == "")
    if en:
        assert any(en == f"; did you mean '{c}'?" for c in choices)


# ---- the TOML line locator ---------------------------------------------------------------------
DOC = '''# a comment
[info.what]
en = """many
lines = 3
"""
zh = "中"

[params]
trust_gain = 2

[[merchants]]
name = "A"

[[merchants]]
price = 9
"quoted.key" = 1

[[events]]
step = 3
set = { price = 1.2, quality = 0.1 }
'''


def test_the_line_locator_finds_keys_tables_and_array_elements():
    lines = TomlLines(DOC)
    assert lines.find("params", "trust_gain") == 9
    assert lines.find("params", "nowhere") == 8, "a key the file does not write points at its table"
    assert lines.find("merchants", 0, "name") == 12
    assert lines.find("merchants", 1, "price") == 15
    assert lines.find("merchants", 1, "quoted.key") == 16
    assert lines.find("events", 0, "set", "quality") == 20
    assert lines.find("info", "what", "zh") == 6, "text inside a multi-line string is not a key"
    assert lines.find("lines") is None
    assert find_line(DOC, "merchants", 1) == 14 and find_line("", "params") is None


def test_key_paths_are_written_as_messages_write_them():
    assert path_key(("merchants", 1, "price")) == "merchants[1].price"
    assert path_key(("events", 0, "set", "price")) == "events[0].set.price"
    assert split_key('a."b.c" . d') == ("a", "b.c", "d")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.lists(st.one_of(st.text(max_size=8), st.integers(0, 3)), max_size=4))
def test_the_line_locator_never_raises(text, path):
    line = TomlLines(text).find(*path)
    assert line is None or 1 <= line <= max(1, len(text.splitlines()))


# ---- the key resolver --------------------------------------------------------------------------
def test_keys_resolve_to_their_declaration_and_merchant():
    p = Params(merchants=default_merchants())
    k = resolve_key("trust_gain", p)
    assert k.is_market and k.param is PARAMS["trust_gain"] and k.get(p) == p.trust_gain
    assert resolve_key("params.trust_gain").field == "trust_gain"
    k = resolve_key("B.price", p)
    assert (k.merchant, k.merchant_name, k.param) == (1, "B", MERCHANT_PARAMS["price"]) and k.get(p) == 1.0
    k = resolve_key("merchants[ 2 ].quality", p)
    assert (k.merchant, k.merchant_name, k.get(p)) == (2, "C", 0.55)
    assert resolve_key("Shop 2.price", ["A", "Shop 2"]).merchant == 1
    assert resolve_key("A.name", name_allowed=True).field == "name"
    assert parse_key("merchants[0].price").merchant == 0 and parse_key("A.price").merchant == "A"


@pytest.mark.parametrize("key, expect", [
    ("trust_gian", "unknown parameter 'trust_gian'; did you mean 'trust_gain'?"),
    ("quality", "'quality' is a merchant parameter"),
    ("Clubb.price", "no merchant named 'Clubb'; did you mean 'Club'? (merchants: Club, B)"),
    ("merchants[3].price", "there is no merchant at position 3 (positions 0 … 1: Club, B)"),
    ("Club.prize", "unknown merchant parameter 'prize' in 'Club.prize'; did you mean 'price'?"),
    ("Club.trust_gain", "'trust_gain' is a market parameter"),
    ("Club.name", "a merchant's name cannot change here"),
    ("a b", "malformed parameter key 'a b'"),
    (".price", "merchants[0].price"),
    ("", "malformed"),
])
def test_bad_keys_name_the_key_and_what_is_allowed(key, expect):
    with pytest.raises(ParamError) as ei:
        resolve_key(key, ["Club", "B"], source="x.toml")
    e = ei.value
    assert expect in str(e) and e.key == key and str(e).startswith("x.toml: ") and CJK.search(e.text("zh"))
    with pytest.raises(ParamError) as ei:
        resolve_key(key, ["Club", "B"], where=(" in [vary]", "（位于 [vary]）"))
    assert " in [vary]" in str(ei.value) and "（位于 [vary]）" in ei.value.text("zh")


KEYISH = st.one_of(
    st.text(max_size=30),
    st.builds(lambda a, b: f"{a}.{b}", st.text(max_size=8), st.sampled_from(sorted(MERCHANT_PARAMS)) | st.text(max_size=8)),
    st.builds(lambda i, b: f"merchants[{i}].{b}", st.integers(-2, 6), st.sampled_from(sorted(MERCHANT_PARAMS))),
    st.sampled_from(sorted(PARAMS)),
    st.integers(), st.none(), st.floats(),
)


@settings(max_examples=300, deadline=None)
@given(KEYISH)
def test_any_key_resolves_or_gives_a_clear_error(key):
    try:
        k = resolve_key(key)
    except ParamError as e:
        assert e.key == str(key) and e.message and CJK.search(e.text("zh"))
        assert str(key) in e.message
    else:
        assert isinstance(k, ParamKey) and k.param in (*PARAMS.values(), *MERCHANT_PARAMS.values())
        assert k.get(Params()) is not None


# ---- applying values ---------------------------------------------------------------------------
def test_set_values_changes_the_market_and_the_merchants():
    p = set_values(Params(), {"A.price": 1.3, "merchants[2].quality": 0.6, "trust_gain": 0.1})
    assert (p.merchant("A").price, p.merchants[2].quality, p.trust_gain) == (1.3, 0.6, 0.1)
    with pytest.raises(ParamError, match=r"parameter 'A.price' = 20 is out of range: allowed 0 … 10"):
        set_values(Params(), {"A.price": 20})


def test_params_from_keys_builds_validated_parameters():
    p = params_from_keys({"n_customers": 3000, "trust_gain": 0.1, "A.price": 1.2})
    assert p == Params(n_customers=3000, trust_gain=0.1).replace(
        merchants=(default_merchants()[0].replace(price=1.2), *default_merchants()[1:]))
    assert params_from_keys({}) == Params()
    base = Params(n_customers=500)
    assert params_from_keys({"B.quality": 0.7}, base=base).n_customers == 500
    solo = params_from_keys({"merchants": [{"name": "Solo"}], "Solo.price": 2.0})
    assert solo.merchants == (MerchantParams(name="Solo", price=2.0),)
    import numpy as np

    assert params_from_keys({"n_customers": np.int64(300)}).n_customers == 300
    for bad, expect in [({"trust_gain": 2}, "allowed 0 … 1"), ({"trust_gian": 0.1}, "did you mean 'trust_gain'"),
                        ({"D.price": 1}, "no merchant named 'D'"), ({"network_degree": 7}, "must be even"),
                        ({"n_customers": 1.5}, "whole number")]:
        with pytest.raises(ParamError, match=re.escape(expect)):
            params_from_keys(bad)
    with pytest.raises(ParamError):
        params_from_keys([("n_customers", 3)])  # type: ignore[arg-type]


# ---- one resolver everywhere ------------------------------------------------------------------
@pytest.mark.parametrize("key", ["trust_gain", "B.price", "merchants[1].price"])
def test_the_same_key_means_the_same_parameter_in_every_input(key):
    """--set, an experiment's [set] and [vary], keyword parameters and the app read a key alike."""
    from sim.inputs.experiment import parse_experiment
    from sim.inputs.overrides import apply_overrides
    from sim.inputs.scenario import load_scenario
    from sim.ui.pages_logic import current_value, declaration

    base = load_scenario("baseline")
    want = set_values(base.params, {key: 0.3})
    assert apply_overrides(base, [f"{key}=0.3"]).params == want
    assert params_from_keys({key: 0.3}, base=base.params) == want
    assert declaration(key, want) is resolve_key(key).param and current_value(key, want) == 0.3
    exp = parse_experiment(f'[experiment]\nscenario = "baseline"\n[vary]\n"{key}" = [0.3]\n', "same.toml")
    assert exp.points[0].params == want
    ps = base.params.price_sensitivity
    exp = parse_experiment(f'[experiment]\nscenario = "baseline"\n[set]\n"{key}" = 0.3\n[vary]\n'
                           f'price_sensitivity = [{ps}]\n', "same.toml")
    assert exp.points[0].params == want


def test_experiment_errors_point_at_the_line_of_the_key():
    from sim.inputs.experiment import parse_experiment

    text = '[experiment]\nscenario = "baseline"\n\n[vary]\ntrust_gain = [0.1]\n"Z.price" = [1.0]\n'
    with pytest.raises(ParamError) as ei:
        parse_experiment(text, "x.toml")
    assert ei.value.line == 6 and "x.toml, line 6" in str(ei.value) and "no merchant named 'Z'" in str(ei.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(KEYISH.filter(lambda k: isinstance(k, str)))
def test_any_key_in_an_experiment_file_gives_a_clear_error_or_loads(key):
    import json

    from sim.inputs.experiment import parse_experiment

    quoted = json.dumps(key, ensure_ascii=False).replace("\x7f", "\\u007f")
    text = f'[experiment]\nscenario = "baseline"\n[vary]\n{quoted} = [0.5]\n'
    try:
        exp = parse_experiment(text, "keys.toml")
    except ParamError as e:
        assert "keys.toml" in str(e) and e.message and CJK.search(e.text("zh"))
    else:
        assert exp.factors[0].name == key


@pytest.mark.parametrize("module", ["sim.inputs.keys", "sim.inputs.hints", "sim.inputs.toml_lines",
                                    "sim.inputs.overrides", "sim.runs.design", "sim.runs.provenance"])
def test_the_examples_in_the_docstrings_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 1


def test_an_unknown_run_setting_names_the_two_there_are():
    from sim.inputs.overrides import apply_overrides
    from sim.inputs.scenario import ScenarioError, load_scenario

    for key in ("run.bogus", "run.Steps", "run.seeds"):
        with pytest.raises(ScenarioError) as e:
            apply_overrides(load_scenario("baseline"), [f"{key}=1"])
        assert "run.steps and run.seed" in str(e.value) and "no merchant" not in str(e.value)


def test_numbers_as_people_type_them_are_read_by_set():
    """'.5', '5.' and full-width digits ('１.２', '２００', as a Chinese keyboard may give them) are
    numbers; a full-width text in quotes stays as written."""
    from sim.inputs.overrides import apply_overrides
    from sim.inputs.scenario import load_scenario

    sc = apply_overrides(load_scenario("baseline"), ["trust_gain=.5", "A.price=１.２", "n_customers=２００",
                                                     "B.quality=.75"])
    assert sc.params.trust_gain == 0.5 and sc.params.n_customers == 200
    assert sc.params.merchants[0].price == 1.2 and sc.params.merchants[1].quality == 0.75
    sc = apply_overrides(load_scenario("baseline"), ['A.name="Ａ店"'])
    assert sc.params.merchants[0].name == "Ａ店"

"""The parameter declarations (sim.params): labels and help in both languages, sane defaults and
ranges, round trips, and error messages that name the key and its allowed range."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest

from sim import MerchantParams, ParamError, Params
from sim.params import GROUPS, MERCHANT_PARAMS, PARAMS, PROGRAMME_TIERS, STRATEGIES, default_merchants

ALL = [(n, p) for n, p in PARAMS.items()] + [(f"merchant.{n}", p) for n, p in MERCHANT_PARAMS.items()]
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


@pytest.mark.parametrize("name,p", ALL, ids=[n for n, _ in ALL])
def test_declaration_is_complete_in_english_and_chinese(name, p):
    assert p.label_en.strip() and p.help_en.strip()
    assert p.label_zh.strip() and p.help_zh.strip()
    assert LATIN.search(p.label_en) and LATIN.search(p.help_en)
    assert not CJK.search(p.label_en) and not CJK.search(p.help_en)
    assert CJK.search(p.label_zh) and CJK.search(p.help_zh)
    assert p.label("en") == p.label_en and p.label("zh") == p.label_zh
    assert p.help("en") == p.help_en and p.help("zh") == p.help_zh
    assert p.group in GROUPS


@pytest.mark.parametrize("name,p", ALL, ids=[n for n, _ in ALL])
def test_default_is_valid_and_within_range(name, p):
    assert p.kind in ("float", "int", "choice", "str")
    assert p.validate(p.default) == p.default
    if p.kind in ("float", "int"):
        assert p.lo is not None and p.hi is not None and p.lo <= p.hi
        assert p.lo <= p.default <= p.hi
        assert isinstance(p.default, int if p.kind == "int" else (int, float))
        if p.step is not None:
            assert 0 < p.step <= p.hi - p.lo
    if p.kind == "choice":
        assert p.default in p.choices
    assert p.range_text()


def test_groups_have_labels_in_both_languages():
    for key, (en, zh) in GROUPS.items():
        assert LATIN.search(en) and CJK.search(zh)
    assert {p.group for p in PARAMS.values()} | {p.group for p in MERCHANT_PARAMS.values()} <= set(GROUPS)


def test_choice_parameters_offer_the_declared_tiers_and_strategies():
    assert MERCHANT_PARAMS["programme"].choices == PROGRAMME_TIERS
    assert MERCHANT_PARAMS["strategy"].choices == STRATEGIES


def test_parameter_names_are_unique_and_match_their_keys():
    for table in (PARAMS, MERCHANT_PARAMS):
        for key, p in table.items():
            assert key == p.name
    # the market and merchant tables do not share names (a flat CLI/slider namespace stays unambiguous)
    assert not set(PARAMS) & set(MERCHANT_PARAMS)


def test_default_params_are_valid():
    P = Params()
    for name, p in PARAMS.items():
        assert getattr(P, name) == p.default
    assert len(P.merchants) >= 1
    assert all(isinstance(m, MerchantParams) for m in P.merchants)
    assert P.merchants == default_merchants()
    assert len({m.name for m in P.merchants}) == len(P.merchants)


def test_params_are_frozen_and_replace_validates():
    P = Params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        P.trust_gain = 0.5
    Q = P.replace(trust_gain=0.3)
    assert Q.trust_gain == 0.3 and P.trust_gain == PARAMS["trust_gain"].default
    with pytest.raises(ParamError) as e:
        P.replace(trust_gain=3.0)
    assert "trust_gain" in str(e.value) and PARAMS["trust_gain"].range_text() in str(e.value)
    with pytest.raises(ParamError) as e:
        P.replace(trust_gian=0.1)
    assert "trust_gian" in str(e.value) and "trust_gain" in str(e.value)  # a suggestion


def test_dict_round_trip():
    P = Params(n_customers=1234, trust_gain=0.11, network_degree=6,
               merchants=(MerchantParams(name="X", quality=0.9, programme="social", strategy="rule"),
                          MerchantParams(name="Y", price=2.5, recovery_delay=3)))
    d = P.to_dict()
    assert isinstance(d["merchants"], list) and isinstance(d["merchants"][0], dict)
    assert set(d) == set(PARAMS) | {"merchants"}
    Q = Params.from_dict(d)
    assert Q == P
    assert Q.to_dict() == d
    assert Params.from_dict(Params().to_dict()) == Params()


def test_from_dict_fills_defaults_and_names_merchants():
    P = Params.from_dict({"n_customers": 500, "merchants": [{"quality": 0.8}, {"price": 1.2}]})
    assert P.n_customers == 500 and P.trust_gain == PARAMS["trust_gain"].default
    assert [m.name for m in P.merchants] == ["A", "B"]
    assert P.merchants[0].quality == 0.8 and P.merchants[1].price == 1.2
    assert P.merchants[1].quality == MERCHANT_PARAMS["quality"].default


def test_int_parameters_accept_whole_floats_and_numpy_numbers():
    import numpy as np

    P = Params.from_dict({"n_customers": 500.0, "loyalty_min_passes": np.int64(4), "trust_gain": np.float32(0.25)})
    assert P.n_customers == 500 and isinstance(P.n_customers, int)
    assert P.loyalty_min_passes == 4 and isinstance(P.loyalty_min_passes, int)
    assert P.trust_gain == pytest.approx(0.25) and isinstance(P.trust_gain, float)


# ---- merchant errors name merchants[i].key ---------------------------------------------------------
def test_merchant_value_error_names_the_merchant_and_key():
    with pytest.raises(ParamError) as e:
        Params.from_dict({"merchants": [{"name": "A"}, {"name": "B", "quality": 2.0}]})
    assert e.value.key == "merchants[1].quality"
    msg = str(e.value)
    assert "merchants[1].quality" in msg and MERCHANT_PARAMS["quality"].range_text() in msg


def test_merchant_unknown_key_names_the_merchant_and_suggests():
    with pytest.raises(ParamError) as e:
        Params.from_dict({"merchants": [{"qualty": 0.5}]})
    assert e.value.key == "merchants[0].qualty"
    assert "merchants[0].qualty" in str(e.value) and "quality" in str(e.value)


def test_merchant_tables_given_directly_are_validated_with_their_index():
    with pytest.raises(ParamError) as e:
        Params(merchants=({"name": "A"}, {"name": "B"}, {"name": "C", "programme": "gold"}))
    assert e.value.key == "merchants[2].programme"
    assert MERCHANT_PARAMS["programme"].range_text() in str(e.value)


def test_merchant_params_validate_directly():
    with pytest.raises(ParamError) as e:
        MerchantParams(price=-1.0)
    assert "price" in str(e.value) and MERCHANT_PARAMS["price"].range_text() in str(e.value)
    with pytest.raises(ParamError):
        MerchantParams(name="   ")


@pytest.mark.parametrize("merchants,key", [((), "merchants"), ([{"name": "A"}, {"name": "A"}], "merchants"),
                                           ("A", "merchants"), ([{"name": "A"}] * 51, "merchants")])
def test_bad_merchant_lists_are_rejected(merchants, key):
    with pytest.raises(ParamError) as e:
        Params(merchants=merchants)
    assert e.value.key == key


def test_cross_parameter_constraints():
    with pytest.raises(ParamError) as e:
        Params(network_degree=7)
    assert e.value.key == "network_degree" and "even" in str(e.value)
    with pytest.raises(ParamError) as e:
        Params(n_customers=10, network_degree=10)
    assert e.value.key == "network_degree"
    with pytest.raises(ParamError) as e:
        Params(trust_threshold=0.7, loyalty_threshold=0.6)
    assert e.value.key == "loyalty_threshold"
    with pytest.raises(ParamError) as e:
        Params(loyalty_threshold=0.8, loyalty_exit=0.9)
    assert e.value.key == "loyalty_exit"


def test_the_source_file_is_named_in_errors():
    with pytest.raises(ParamError) as e:
        Params.from_dict({"trust_gain": 9}, source="scenarios/x.toml")
    assert str(e.value).startswith("scenarios/x.toml: ") and e.value.source == "scenarios/x.toml"
    with pytest.raises(ParamError) as e:
        Params.from_dict({"merchants": [{"price": 99}]}, source="y.toml")
    assert str(e.value).startswith("y.toml: ") and "merchants[0].price" in str(e.value)
    with pytest.raises(ParamError) as e:  # cross-parameter errors too
        Params.from_dict({"network_degree": 3}, source="z.toml")
    assert str(e.value).startswith("z.toml: ")


def test_non_table_input_is_rejected():
    with pytest.raises(ParamError):
        Params.from_dict([("trust_gain", 0.1)])
    with pytest.raises(ParamError):
        Params.from_dict({"merchants": {"name": "A"}})


def test_error_messages_show_the_value_given():
    with pytest.raises(ParamError) as e:
        Params(trust_gain=2.5)
    assert "2.5" in str(e.value)
    assert math.isclose(Params(trust_gain=0.5).trust_gain, 0.5)


# ---- messages in both languages -------------------------------------------------------------------
@pytest.mark.parametrize("bad", [
    {"trust_gain": 2.0}, {"n_customers": 3.5}, {"n_customers": "many"}, {"network_degree": 7},
    {"trust_gian": 0.1}, {"merchants": [{"programme": "gold"}]}, {"merchants": [{"nmae": "A"}]},
    {"loyalty_threshold": 0.3, "trust_threshold": 0.5}, {"merchants": []},
])
def test_every_parameter_error_has_a_chinese_message_naming_the_key(bad):
    with pytest.raises(ParamError) as info:
        Params.from_dict(bad, source="market.toml")
    err = info.value
    zh = err.text("zh")
    assert zh.startswith("market.toml: ")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)  # Chinese text, not the English fallback alone
    assert err.key.split(".")[-1].split("[")[0] in zh or "merchants" in zh
    assert "参数" in zh or "商家" in zh
    assert err.text("en") == str(err)


def test_a_refused_value_is_shown_as_given_and_huge_bounds_read_as_powers_of_two():
    from sim.inputs.scenario import RUN_PARAMS

    seed = RUN_PARAMS["seed"]
    assert seed.range_text() == "0 … 2⁶³ − 1"
    with pytest.raises(ParamError) as e:
        seed.validate(1e30)
    assert "1e+30 is out of range" in str(e.value) and "1000000000000000019884624838656" not in str(e.value)


def test_every_unit_has_its_chinese():
    """Every declared parameter's unit reads in Chinese too (the app's Chinese pages show it beside
    the slider): a new unit needs its entry in UNITS_ZH."""
    from sim.params import MERCHANT_PARAMS, PARAMS, UNITS_ZH
    missing = sorted({p.unit for p in [*PARAMS.values(), *MERCHANT_PARAMS.values()]
                      if p.unit and p.unit not in UNITS_ZH})
    assert not missing, missing

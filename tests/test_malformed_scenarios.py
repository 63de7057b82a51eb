"""Broken scenario files are rejected with a ScenarioError that a person can act on, never a traceback.

``tests/malformed/scenarios/*.toml`` is a corpus of hand-written broken files. Each starts with
``# expect: <part of the message>`` and ``# line: <line of the error>``. Every one must fail to load
with a :class:`ScenarioError` whose message contains the expected text, the file name and the line,
and whose Chinese text (``.text("zh")``) is Chinese. Then hypothesis throws random junk, random wrong
types and out-of-range values for random declared keys at the parser: the only exception allowed is
a ScenarioError (a ParamError).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import ParamError
from sim.model import STRUCTURAL
from sim.params import MERCHANT_PARAMS, PARAMS
from sim.inputs.overrides import apply_overrides
from sim.inputs.scenario import ScenarioError, load_scenario, parse_scenario

CORPUS = Path(__file__).parent / "malformed" / "scenarios"
FILES = sorted(CORPUS.glob("*.toml"))
CJK = re.compile(r"[\u4e00-\u9fff]")
HEADER = re.compile(rb"^# expect: (.+)\n# line: (\d+|none)\n")


def test_the_corpus_is_large_enough():
    assert len(FILES) >= 35


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_malformed_file_is_rejected_clearly(path):
    head = HEADER.match(path.read_bytes())
    assert head, f"{path.name} must start with '# expect: …' and '# line: …'"
    expect, line = head.group(1).decode("utf-8"), head.group(2).decode()
    with pytest.raises(ScenarioError) as ei:
        load_scenario(path)
    e = ei.value
    msg = str(e)
    assert isinstance(e, ParamError)
    assert expect in msg, f"{path.name}: expected {expect!r} in {msg!r}"
    assert path.name in msg and path.name in e.text("zh")
    assert CJK.search(e.text("zh")), f"{path.name}: no Chinese message: {e.text('zh')!r}"
    assert e.text("en") == msg and e.message and e.message_zh
    if line != "none":
        assert e.line == int(line), f"{path.name}: error reported at line {e.line}, expected {line}"
        assert f"line {line}:" in msg and f"第 {line} 行" in e.text("zh")
    # the same text uploaded (bytes, as the web app does) gives the same error
    with pytest.raises(ScenarioError) as again:
        parse_scenario(path.read_bytes(), source=path.name)
    assert again.value.message == e.message and again.value.line == e.line


# ---- generated malformed inputs -------------------------------------------------------------
def _check(text, source="fuzz.toml"):
    """Parse ``text``: success or a ScenarioError with both languages; anything else fails the test."""
    try:
        parse_scenario(text, source=source)
    except ScenarioError as e:
        assert source in str(e) and CJK.search(e.text("zh")) and e.message
        return e
    return None


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOML_BITS = ["[", "]", "[[", "]]", "=", '"', "'", '"""', "{", "}", ",", ".", "\n", " ", "#", "params", "info",
             "merchants", "events", "run", "steps", "seed", "name", "set", "step", "target", "note", "en", "zh",
             "trust_gain", "price", "1", "0.5", "-3", "true", "nan", "inf", "1979-05-27", "[1, 2]", "\\", "é", "中"]


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_never_raise_anything_else(data):
    _check(data)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_never_raises_anything_else(text):
    _check(text)


@FUZZ
@given(st.lists(st.sampled_from(TOML_BITS), max_size=40).map("".join))
def test_random_toml_like_text_never_raises_anything_else(text):
    _check(text)


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        # JSON string escapes are TOML ones; TOML also forbids a raw DEL
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + " }"
    return str(v)


def bad_values(p):
    """Values that the declaration ``p`` must reject."""
    wrong_type = st.sampled_from([True, False, [1, 2], {"a": 1}, "text" if p.kind in ("float", "int") else 3])
    if p.kind == "choice":
        return st.one_of(wrong_type, st.text(min_size=1, max_size=8).filter(lambda s: s not in p.choices))
    if p.kind == "str":
        return st.one_of(st.sampled_from([1, 2.5, True, [1], "", "   "]))
    out = [wrong_type, st.just(float("nan")), st.just(float("inf"))]
    if p.lo is not None:
        out.append(st.floats(max_value=p.lo, exclude_max=True, allow_nan=False, allow_infinity=False,
                             min_value=p.lo - 1e6))
    if p.hi is not None:
        out.append(st.floats(min_value=p.hi, exclude_min=True, allow_nan=False, allow_infinity=False,
                             max_value=p.hi + 1e6))
    if p.kind == "int":
        out.append(st.floats(p.lo, p.hi, allow_nan=False).filter(lambda x: not float(x).is_integer()))
        out.append(st.just(float(p.default)))  # 2000.0 where a whole number is required
    return st.one_of(*out)


@st.composite
def bad_market(draw):
    key = draw(st.sampled_from(sorted(PARAMS)))
    return key, draw(bad_values(PARAMS[key]))


@st.composite
def bad_merchant(draw):
    key = draw(st.sampled_from(sorted(MERCHANT_PARAMS)))
    return key, draw(bad_values(MERCHANT_PARAMS[key]))


@FUZZ
@given(bad_market(), st.integers(0, 4))
def test_bad_market_values_name_the_key_and_the_line(kv, pad):
    key, value = kv
    text = "# comment\n" * pad + f"[params]\n{key} = {_toml(value)}\n"
    e = _check(text)
    assert e is not None, f"{key} = {value!r} was accepted"
    assert f"params.{key}" in str(e) and e.line == pad + 2


@FUZZ
@given(bad_merchant(), st.integers(0, 2))
def test_bad_merchant_values_name_the_merchant_and_the_key(kv, i):
    key, value = kv
    text = "".join(f'[[merchants]]\nname = "M{j}"\n\n' for j in range(i))
    text += f"[[merchants]]\n{key} = {_toml(value)}\n"
    e = _check(text)
    assert e is not None, f"merchants[{i}].{key} = {value!r} was accepted"
    assert f"merchants[{i}].{key}" in str(e) and e.line == 3 * i + 2


@FUZZ
@given(st.one_of(bad_market().map(lambda kv: ("market", *kv)), bad_merchant().map(lambda kv: ("A", *kv))),
       st.integers(0, 60))
def test_bad_event_values_are_rejected_at_load_time(ev, step):
    target, key, value = ev
    text = f"[[events]]\nstep = {step}\ntarget = \"{target}\"\nset = {{ {key} = {_toml(value)} }}\n"
    e = _check(text)
    assert e is not None, f"events[0].set.{key} = {value!r} was accepted"
    assert f"events[0].set.{key}" in str(e) and e.line == 4


@FUZZ
@given(st.sampled_from(sorted(PARAMS)), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
def test_unknown_keys_are_rejected_with_the_allowed_ones(known, junk):
    key = known + "_" + junk
    e = _check(f"[params]\n{key} = 1\n")
    assert e is not None and f"unknown key 'params.{key}'" in str(e)


@pytest.mark.parametrize("key", STRUCTURAL)
def test_structural_parameters_cannot_change_in_an_event(key):
    e = _check(f"[[events]]\nstep = 5\ntarget = \"market\"\nset = {{ {key} = {PARAMS[key].default} }}\n")
    assert e is not None and "shapes the market" in str(e) and e.key == f"events[0].set.{key}"


@FUZZ
@given(st.lists(st.text(max_size=20), max_size=4))
def test_random_set_items_raise_only_scenario_errors(items):
    sc = parse_scenario("[params]\nn_customers = 100\n")
    try:
        apply_overrides(sc, items)
    except ScenarioError as e:
        assert CJK.search(e.text("zh"))


def test_non_text_input_is_a_scenario_error():
    with pytest.raises(ScenarioError):
        parse_scenario(123)  # type: ignore[arg-type]
    with pytest.raises(ScenarioError):
        load_scenario(3.5)  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="nested too deeply"):
        parse_scenario("x = " + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ScenarioError, match="NUL"):
        parse_scenario("[params]\nn_customers = 500\x00\n")

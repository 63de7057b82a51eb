"""Overrides of a scenario: the ``--set KEY=VALUE`` grammar and its application.

The keys are those of :mod:`sim.inputs.keys` (``n_customers=500``, ``A.price=1.2``,
``merchants[0].price=1.2``, also ``params.n_customers=500``) plus the run's settings
``run.steps=52`` and ``run.seed=3``. Values are TOML values (``1.2``, ``3``, ``true``, ``"text"``); a
bare word is a text (``B.programme=financial``).

>>> from sim.inputs.scenario import load_scenario
>>> sc = apply_overrides(load_scenario("baseline"), ["n_customers=500", "A.price=1.3", "run.steps=20"])
>>> sc.params.n_customers, sc.params.merchant("A").price, sc.steps
(500, 1.3, 20)

Every failure is a :class:`~sim.inputs.scenario.ScenarioError` naming the ``--set`` item, the key and
what is allowed, in English and Chinese.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import unicodedata
from typing import Any, Iterable, Mapping

from ..params import MERCHANT_PARAMS, PARAMS, MerchantParams, ParamError, default_merchants
from .keys import ParamKey, parse_key, resolve_key
from .scenario import RUN_PARAMS, Scenario, ScenarioError, ScenarioParser, event_table

__all__ = ["parse_sets", "apply_overrides"]

_SET_FORMS_EN = ("expected KEY=VALUE with KEY one of: a market parameter (n_customers=500), a merchant "
                 "parameter by name (A.price=1.2) or position (merchants[0].price=1.2), run.steps or run.seed")
_SET_FORMS_ZH = ("应为 KEY=VALUE，KEY 可以是：市场参数（n_customers=500）、按名称指定的商家参数（A.price=1.2）"
                 "或按位置指定的商家参数（merchants[0].price=1.2）、run.steps 或 run.seed")
_SET_RUN = re.compile(r"^run\.(steps|seed)$")


def _resolve(shown: str, merchants: list[dict], src: str) -> ParamKey:
    """``shown`` resolved against the merchants as they are so far (a renamed merchant answers to
    its new name), errors as :class:`ScenarioError` naming the ``--set`` item."""
    try:
        return resolve_key(shown, merchants, name_allowed=True)
    except ParamError as e:
        raise ScenarioError(e.key, e.message, src, e.message_zh) from None


_LOOSE_NUMBER = re.compile(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?")


def _set_value(raw: str) -> Any:
    raw = raw.strip()
    # numbers as people type them: ".5" and "5." (TOML wants 0.5 and 5.0), and in full-width
    # characters ("１.２", "２００", as a Chinese keyboard may give them)
    plain = unicodedata.normalize("NFKC", raw)
    if _LOOSE_NUMBER.fullmatch(plain):
        return float(plain)
    if plain != raw and re.fullmatch(r"[+-]?\d+", plain):
        return int(plain)
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return raw  # a bare word: a text (programme=financial)


def _parse_set(item: Any, source: str) -> tuple[str, tuple, Any]:
    """One ``KEY=VALUE`` → (where, path, value): ``("params", (key,), v)``, ``("run", (key,), v)``,
    ``("merchant", (name_or_index, key), v)``."""
    src = f"{source} {item}"
    if not isinstance(item, str) or "=" not in item:
        raise ScenarioError(str(item), f"malformed: {_SET_FORMS_EN}", src, f"格式错误：{_SET_FORMS_ZH}")
    key, _, raw = item.partition("=")
    key = key.strip()
    if not raw.strip():
        raise ScenarioError(key, f"no value after '='; {_SET_FORMS_EN}", src, f"'=' 后面没有值；{_SET_FORMS_ZH}")
    value = _set_value(raw)
    if m := _SET_RUN.match(key):
        return "run", (m.group(1),), value
    head, dot, field = key.partition(".")
    if head == "run" and dot and field not in MERCHANT_PARAMS:  # (run.price would be a merchant called "run")
        raise ScenarioError(key, f"unknown run setting '{key}': the run settings are run.steps and run.seed", src,
                            f"未知的运行设置 '{key}'：运行设置只有 run.steps 和 run.seed")
    try:
        form = parse_key(key)
    except ParamError:
        raise ScenarioError(key or str(item), f"malformed key '{key}'; {_SET_FORMS_EN}", src,
                            f"键 '{key}' 格式错误；{_SET_FORMS_ZH}") from None
    if form.merchant is None:
        return "params", (form.field,), value
    return "merchant", (form.merchant, form.field), value


def parse_sets(sets: Iterable[str]) -> dict:
    """``--set`` items → nested overrides::

        {"params": {"n_customers": 500}, "merchants": {"A": {"price": 1.2}, 0: {"quality": 0.8}},
         "run": {"steps": 52}}

    Values are read as TOML values (``1.2``, ``3``, ``true``, ``"text"``); a bare word is a text.
    Only the form is checked here; :func:`apply_overrides` checks names and ranges.
    """
    if isinstance(sets, str):
        sets = [sets]
    out: dict = {}
    for item in sets:
        where, path, value = _parse_set(item, "--set")
        if where == "merchant":
            out.setdefault("merchants", {}).setdefault(path[0], {})[path[1]] = value
        else:
            out.setdefault(where, {})[path[0]] = value
    return out


def _flatten_overrides(overrides: Mapping, source: str) -> list[tuple[str, str, tuple, Any]]:
    """Nested (or flat ``{"A.price": 1.2}``) overrides → [(shown key, where, path, value)]."""
    items: list = []
    for k, v in overrides.items():
        if k == "params" and isinstance(v, Mapping):
            items += [(str(pk), "params", (pk,), pv) for pk, pv in v.items()]
        elif k == "run" and isinstance(v, Mapping):
            items += [(f"run.{rk}", "run", (rk,), rv) for rk, rv in v.items()]
        elif k == "merchants" and isinstance(v, Mapping):
            for mk, mv in v.items():
                if not isinstance(mv, Mapping):
                    shown = f"merchants[{mk}]" if isinstance(mk, int) else str(mk)
                    raise ScenarioError(shown, f"override of merchant {shown} must be a table of its parameters",
                                        source, f"商家 {shown} 的覆盖值必须是其参数表")
                for pk, pv in mv.items():
                    shown = f"merchants[{mk}].{pk}" if isinstance(mk, int) else f"{mk}.{pk}"
                    items.append((shown, "merchant", (mk, pk), pv))
        elif k == "merchants" and isinstance(v, (list, tuple)):
            items.append(("merchants", "merchant_list", (), v))
        elif isinstance(k, str):
            try:
                where, path, _ = _parse_set(f"{k}=0", source)
            except ScenarioError as e:
                raise ScenarioError(e.key, e.message, f"{source} {k}", e.message_zh) from None
            items.append((k, where, path, v))
        else:
            raise ScenarioError(str(k), f"override key {k!r} must be a text", source, f"覆盖键 {k!r} 必须是文本")
    return items


def apply_overrides(sc: Scenario, overrides: Mapping | Iterable[str], source: str = "--set") -> Scenario:
    """A copy of ``sc`` with ``overrides`` applied and validated: ``--set`` strings (see
    :func:`parse_sets`) or a mapping, nested like :func:`parse_sets`' result or flat
    (``{"n_customers": 500, "A.price": 1.2}``). Errors name the key, the allowed range and, for
    strings, the ``--set`` item; an unknown merchant lists the merchants. A whole-number parameter
    given as an integral float (``500.0``) is refused in strings, as in files, but accepted in a
    mapping (values from code or a form)."""
    if isinstance(overrides, str):
        overrides = [overrides]
    if isinstance(overrides, Mapping):
        items = [(shown, where, path, v, f"{source} {shown}") for shown, where, path, v
                 in _flatten_overrides(overrides, source)]
    else:
        items = []
        for item in overrides:
            where, path, v = _parse_set(item, source)
            key = item.partition("=")[0].strip() if isinstance(item, str) else str(item)
            items.append((key, where, path, v, f"{source} {item}" if source == "--set" else source))
    market = {k: v for k, v in sc.values.items() if k != "merchants"}
    given = sc.values.get("merchants")
    merchants = [dict(m) for m in given] if given is not None else [_explicit(m) for m in default_merchants()]
    touched_merchants = given is not None
    steps, seed = sc.steps, sc.seed
    lenient = isinstance(overrides, Mapping)  # values from code or a form: 500.0 may stand for 500
    given_once: dict[tuple, str] = {}  # every parameter overridden, once (under any of its names)

    def once(ident: tuple, shown: str, src: str) -> None:
        if ident in given_once:
            other = given_once[ident]
            same = other == shown
            raise ScenarioError(shown, (f"'{shown}' is given twice" if same else
                                        f"'{other}' and '{shown}' set the same parameter")
                                + ": give each parameter once (otherwise one value would be silently ignored)", src,
                                (f"'{shown}' 出现了两次" if same else f"'{other}' 与 '{shown}' 设置的是同一个参数")
                                + "：每个参数只能给出一次（否则其中一个值会被悄悄忽略）")
        given_once[ident] = shown

    for shown, where, path, v, src in items:
        p = ScenarioParser(src, None, strict_int=not lenient)
        if where == "params":
            k = path[0]
            once(("market", k), shown, src)
            if k not in PARAMS:
                if k in RUN_PARAMS:
                    p.unknown((shown,), k, PARAMS, "the market parameters", "市场参数",
                              f"; the run's {k} is set with run.{k}=…", f"；运行的 {k} 请用 run.{k}=… 设置")
                _resolve(shown, merchants, src)  # says what the key is instead (a merchant's, a typo)
                p.unknown((shown,), k, PARAMS, "the market parameters", "市场参数")  # e.g. {"params": {"A.price": 1}}
            market[k] = p.value(PARAMS[k], v, shown, (shown,))
        elif where == "run":
            k = path[0]
            if k not in RUN_PARAMS:
                p.unknown((shown,), k, RUN_PARAMS, "[run]", "[run] ")
            once(("run", k), shown, src)
            val = p.value(RUN_PARAMS[k], v, shown, (shown,))
            steps, seed = (val, seed) if k == "steps" else (steps, val)
        elif where == "merchant_list":
            merchants = p.merchants(list(p.table({"merchants": list(v)}, "merchants", "array")))
            touched_merchants = True
        else:
            pk = _resolve(shown, merchants, src)
            once(("merchant", pk.merchant, pk.field), shown, src)
            merchants[pk.merchant][pk.field] = p.value(pk.param, v, shown, (shown,))
            touched_merchants = True
    doc: dict[str, Any] = {"run": {"steps": steps} | ({"seed": seed} if seed is not None else {}), "params": market}
    if touched_merchants:
        doc["merchants"] = merchants
    doc["events"] = [event_table(e) for e in sc.events]
    src = source if len(items) != 1 else items[0][4]
    new = ScenarioParser(src, None).build(doc, sc.name)
    return dataclasses.replace(new, source=sc.source, info=sc.info)


def _explicit(m: MerchantParams) -> dict[str, Any]:
    """A merchant's name and the fields that differ from the declared defaults."""
    d = {"name": m.name}
    for k, p in MERCHANT_PARAMS.items():
        v = getattr(m, k)
        if k != "name" and v != p.default:
            d[k] = v
    return d


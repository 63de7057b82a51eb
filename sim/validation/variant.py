"""A variant of the model on the facts' markets: which values reach a fact's market, and the
``--set KEY=VALUE`` of ``loyalty-sim validate``.

**Which values reach a fact's market.** Values — a calibration trial's, or ``validate --set`` — are
applied to each market of the fact's file (:func:`sim.validation.load_markets`) on top of that
market's own parameters, *except the keys the fact's file sets itself*: those are the fact's
experimental design and stay. The keys a file sets are read from the file, never guessed from
defaults: a scenario file's raw ``[params]`` keys and each ``[[merchants]]`` table's keys
(:attr:`sim.inputs.scenario.Scenario.values`); an experiment file's base scenario's keys as well, its
``[set]`` and its varied keys (``[vary]``). A merchant's key (``A.price``) reaches only a market with a
merchant of that name; a key the market cannot take is left out (:func:`fact_values`).

``loyalty-sim validate --set voice_fit=20`` runs every selected fact on the model with those
market-wide values (:func:`variant_values` reads and checks them): what a change to the customers'
rules does to every field fact at once, with the report saying which values it ran with and which
facts kept a value of their own.
"""

from __future__ import annotations

import dataclasses
import tomllib
from functools import lru_cache
from typing import Any, Iterable, Mapping

from ..inputs.keys import resolve_key, set_values
from ..inputs.overrides import parse_sets
from ..inputs.scenario import load_scenario
from ..params import ParamError, Params
from .facts import fact as fact_by_id

__all__ = ["design_keys", "fact_values", "fact_markets", "kept_keys", "variant_values"]


def _keys_of(values: Mapping) -> tuple[set[str], set[tuple[str, str]]]:
    """Market keys and (merchant name, key) pairs of a scenario's raw tables (``Scenario.values``)."""
    market = {k for k in values if k != "merchants"}
    merchants = {(m["name"], k) for m in values.get("merchants", ()) for k in m if k != "name"}
    return market, merchants


@lru_cache(maxsize=None)
def design_keys(fid: str) -> tuple[frozenset, frozenset]:
    """The keys fact ``fid``'s file sets itself: market keys, and (merchant name, key) pairs."""
    from . import load_markets

    fact = fact_by_id(fid)
    with open(fact.path, "rb") as f:
        doc = tomllib.load(f)
    if "experiment" not in doc:
        market, merchants = _keys_of(fact.scenario().values)
        return frozenset(market), frozenset(merchants)
    ref = doc["experiment"].get("scenario", "baseline")
    base = load_scenario(ref if not ref.endswith(".toml") else fact.path.parent / ref)
    market, merchants = _keys_of(base.values)
    points = load_markets(fact)
    for table in ("set", "vary"):
        for key in doc.get(table, {}):
            try:
                k = resolve_key(key, points[0].params)
            except ParamError:
                market.add(key)
                continue
            if k.is_market:
                market.add(k.field)
            else:
                merchants.add((k.merchant_name, k.field))
    return frozenset(market), frozenset(merchants)


def fact_values(fid: str, params, values: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``values`` that reaches a market (``params``) of fact ``fid``: not the keys its
    file sets, not a merchant's key for a merchant the market does not have."""
    market, merchants = design_keys(fid)
    out = {}
    for key, v in values.items():
        try:
            k = resolve_key(key, params)
        except ParamError:  # e.g. a merchant this market does not have
            continue
        if (k.field in market) if k.is_market else ((k.merchant_name, k.field) in merchants):
            continue
        out[key] = v
    return out


def fact_markets(fid: str, values: Mapping[str, Any]) -> list:
    """Fact ``fid``'s markets with ``values`` applied as :func:`fact_values` allows."""
    from . import load_markets

    fact = fact_by_id(fid)
    out = []
    for sc in load_markets(fact):
        v = fact_values(fid, sc.params, values) if values else {}
        # (a value allowed alone may clash with one the fact's file sets: the message names the file)
        out.append(dataclasses.replace(sc, params=set_values(sc.params, v, source=f"{fid} ({fact.file})"))
                   if v else sc)
    return out


def kept_keys(fid: str, values: Mapping[str, Any]) -> list[str]:
    """The keys of ``values`` that fact ``fid``'s file sets itself (they keep the file's value)."""
    market, _ = design_keys(fid)
    return [k for k in values if k in market]


def variant_values(sets: Iterable[str]) -> dict[str, Any]:
    """``validate --set`` items → ``{market parameter: value}``, each checked against its declared
    range. Only market-wide parameters: each fact's merchants and horizon are its own design (a
    merchant's key or ``run.…`` is refused with the reason). Raises :class:`ParamError` (or
    :class:`sim.inputs.scenario.ScenarioError` for a malformed item) naming the item, the key and
    what is allowed, in English and Chinese."""
    values: dict[str, Any] = {}
    given: dict[str, str] = {}
    for item in sets:
        one = parse_sets([item])
        for where, what_en, what_zh in (("merchants", "a merchant's parameter", "商家参数"),
                                        ("run", "a run setting", "运行设置")):
            if one.get(where):
                key = next(iter(one[where]))
                shown = f"run.{key}" if where == "run" else (
                    f"merchants[{key}]" if isinstance(key, int) else str(key)) + f".{next(iter(one[where][key]))}"
                raise ParamError("--set", f"--set {shown}: {what_en} cannot be changed for the validation — each "
                                 "fact's merchants and horizon are its own design (scenarios/validation/); --set takes "
                                 "market-wide parameters such as voice_fit=20 (the seed: --seed)", None,
                                 f"--set {shown}：验证时不能修改{what_zh}——每个事实的商家与时长是它自己的实验设计"
                                 "（scenarios/validation/）；--set 只接受全市场参数，例如 voice_fit=20（种子请用 --seed）")
        for key, v in one.get("params", {}).items():  # one value per parameter, as everywhere else
            if key in given:
                raise ParamError("--set", f"--set {item}: '{key}' is given twice (also --set {given[key]}): give each "
                                 "parameter once (otherwise one value would be silently ignored)", None,
                                 f"--set {item}：'{key}' 出现了两次（另见 --set {given[key]}）：每个参数只能给出一次"
                                 "（否则其中一个值会被悄悄忽略）")
            given[key], values[key] = item, v
    set_values(Params(), values, source="--set")  # names and ranges, as the scenario loader checks them
    return values

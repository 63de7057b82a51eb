"""Validation facts as calibration targets (``kind = "validation"``): a trial's values on a fact's
markets, the fact measured on the calibration's seeds, a check's measured mean.

**Which values reach a fact's market.** A trial's values — the calibration's ``[set]`` values and
the trial's values of the free parameters — are applied to each market of the fact's file
(:func:`sim.validation.load_markets`) on top of that market's own parameters, *except the keys the
fact's file sets itself*: those are the fact's experimental design and stay. The keys a file sets
are read from the file, never guessed from defaults: a scenario file's raw ``[params]`` keys and
each ``[[merchants]]`` table's keys (:attr:`sim.inputs.scenario.Scenario.values`); an experiment
file's base scenario's keys as well, its ``[set]`` and its varied keys (``[vary]``). A merchant's
key (``A.price``) reaches only a market with a merchant of that name; a key the market cannot take
is left out (:func:`fact_values`).

The fact is measured once per seed (:func:`measure_fact`, the function ``loyalty-sim validate``
runs: :func:`sim.validation.measure_task` is this with no values), evaluated over all the seeds
together (:meth:`sim.validation.Fact.checks`), and a target's value is its check's measured mean
(:attr:`sim.validation.Check.value`), with the check's 95% interval in the report.
"""

from __future__ import annotations

import dataclasses
import tomllib
import warnings
from functools import lru_cache
from typing import Any, Mapping

from ..inputs.keys import resolve_key, set_values
from ..inputs.scenario import load_scenario
from ..params import ParamError
from ..validation import FACT_IDS, Check, Fact, load_markets
from ..validation.facts import fact as fact_by_id

__all__ = ["design_keys", "fact_values", "fact_markets", "measure_fact", "fact_checks", "check_keys", "FACT_IDS"]


def _keys_of(values: Mapping) -> tuple[set[str], set[tuple[str, str]]]:
    """Market keys and (merchant name, key) pairs of a scenario's raw tables (``Scenario.values``)."""
    market = {k for k in values if k != "merchants"}
    merchants = {(m["name"], k) for m in values.get("merchants", ()) for k in m if k != "name"}
    return market, merchants


@lru_cache(maxsize=None)
def design_keys(fid: str) -> tuple[frozenset, frozenset]:
    """The keys fact ``fid``'s file sets itself: market keys, and (merchant name, key) pairs."""
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
    out = []
    for sc in load_markets(fact_by_id(fid)):
        v = fact_values(fid, sc.params, values)
        out.append(dataclasses.replace(sc, params=set_values(sc.params, v)) if v else sc)
    return out


def measure_fact(fid: str, values: Mapping[str, Any], seed: int) -> dict:
    """One seed's measurement of fact ``fid`` on its markets with ``values`` (runs in a worker)."""
    return fact_by_id(fid).measure(fact_markets(fid, values), int(seed))


def fact_checks(fid: str, per_seed: list[dict]) -> dict[str, Check]:
    """Fact ``fid``'s checks over the seeds' measurements, by key."""
    return {c.key: c for c in fact_by_id(fid).checks(per_seed)}


@lru_cache(maxsize=None)
def check_keys(fid: str) -> tuple[str, ...]:
    """The keys of fact ``fid``'s checks. Read from an evaluation of no seeds; a fact whose evaluation
    needs a measurement is measured once on its own markets (seed 0)."""
    fact: Fact = fact_by_id(fid)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tuple(c.key for c in fact.checks([]))
    except (IndexError, KeyError, ValueError, ZeroDivisionError, TypeError):
        return tuple(c.key for c in fact.checks([measure_fact(fid, {}, 0)]))

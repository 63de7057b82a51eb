"""Validation facts as calibration targets (``kind = "validation"``): a trial's values on a fact's
markets, the fact measured on the calibration's seeds, a check's measured mean.

**Which values reach a fact's market.** A trial's values — the calibration's ``[set]`` values and
the trial's values of the free parameters — reach each market of the fact's file except the keys
the file sets itself (its experimental design), as :mod:`sim.validation.variant` decides for
``loyalty-sim validate --set`` too (:func:`fact_values`, :func:`fact_markets`).

The fact is measured once per seed (:func:`measure_fact`, the function ``loyalty-sim validate``
runs: :func:`sim.validation.measure_task` is this with no values), evaluated over all the seeds
together (:meth:`sim.validation.Fact.checks`), and a target's value is its check's measured mean
(:attr:`sim.validation.Check.value`), with the check's 95% interval in the report.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any, Mapping

from ..validation import FACT_IDS, Check, Fact
from ..validation.facts import fact as fact_by_id
from ..validation.variant import design_keys, fact_markets, fact_values

__all__ = ["design_keys", "fact_values", "fact_markets", "measure_fact", "fact_checks", "check_keys", "FACT_IDS"]


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

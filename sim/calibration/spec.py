"""What a calibration is: a base market, free parameters with bounds, targets, a budget and seeds.

A :class:`Calibration` comes from a calibration file (:func:`sim.calibration.files.load_calibration`).
Its seeds all derive from the master ``seed`` (:func:`~sim.runs.provenance.replicate_seeds`):
``fit_seeds`` are the replicates every trial runs (common random numbers: trials differ only by
their parameters), ``fresh_seeds`` the replicates the best set is re-run on for the report (never
used in fitting), and :meth:`Calibration.sampler_seed` seeds the sampler of each session.

A :class:`Target` is of one of two kinds:

- ``kind = "observable"``: an observable of the base scenario (``metric``, ``at``, ``merchant``),
  one run of the base scenario per seed, the mean over the seeds
  (:func:`sim.calibration.study.achieved_values`);
- ``kind = "validation"``: a check of a validation fact (``fact = "F6"``, ``check =
  "calib_minor_silent"``), its measured mean over the seeds (:mod:`sim.calibration.facts`). The
  trial's values ([set] and free) are applied to the fact's markets on top of their own parameters,
  **except the keys the fact's file sets itself**: those are the fact's experimental design and
  stay (a scenario file's raw ``[params]`` and ``[[merchants]]`` keys; an experiment file's base
  scenario's, ``[set]`` and ``[vary]`` keys). Each fact is measured once per seed and trial, however
  many of its checks are targets; on the same seeds as the observables (common random numbers).

A calibration with no observable target does not run the base scenario at all.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..params import Params
from ..runs.provenance import replicate_seeds

if TYPE_CHECKING:
    from ..inputs.scenario import Scenario

__all__ = ["AT", "SIDES", "TARGET_KINDS", "FreeParam", "Target", "Calibration", "misfit", "objective", "observe"]

#: where an observable is read: the last step, or the mean of the last 13 steps (a quarter)
AT = {"end": 1, "mean_last_13": 13}
#: the kinds of target: an observable of the base scenario, a check of a validation fact
TARGET_KINDS = ("observable", "validation")
#: which misses of a target count: both sides (the default), only falling short of it
#: (``at_least``: a check such as F9's "≥ 3"), only going over it (``at_most``)
SIDES = ("both", "at_least", "at_most")


@dataclass(frozen=True)
class FreeParam:
    """A parameter the calibration chooses, between ``lo`` and ``hi`` (on a log scale with ``log``)."""

    key: str
    lo: float
    hi: float
    log: bool = False
    integer: bool = False
    multiple: int = 1  # drawn among the multiples of this (network_degree: even values)


def _free_spec(f: FreeParam) -> dict:
    """A free parameter as its calibration's fingerprint reads it (``multiple`` only where it is not
    1, so that a study written before it existed resumes)."""
    d = asdict(f)
    if d["multiple"] == 1:
        del d["multiple"]
    return d


@dataclass(frozen=True)
class Target:
    """A value to bring to ``target`` within ``tolerance``, with ``weight``: an observable of the
    scenario (``metric``, read ``at`` the end or over the last 13 steps, for the market or one
    ``merchant``), or with ``kind = "validation"`` the check ``check`` of the validation fact ``fact``
    (:meth:`validation`). With ``side = "at_least"`` (``"at_most"``) only falling short of (going over)
    the target is a misfit: a bound rather than a value to hit."""

    metric: str
    target: float
    tolerance: float
    at: str = "end"
    merchant: str | None = None
    weight: float = 1.0
    kind: str = "observable"
    fact: str | None = None
    check: str | None = None
    side: str = "both"

    @classmethod
    def validation(cls, fact: str, check: str, target: float, tolerance: float, weight: float = 1.0,
                   side: str = "both") -> Target:
        """A target on the measured mean of the check ``check`` of the validation fact ``fact``."""
        return cls("", target, tolerance, "", None, weight, "validation", fact, check, side)

    @property
    def label(self) -> str:
        """``loyal_share@end``, ``A.market_share@mean_last_13``, ``F6:calib_minor_silent``: the
        target's column in the tables."""
        if self.kind == "validation":
            return f"{self.fact}:{self.check}"
        return f"{self.merchant + '.' if self.merchant else ''}{self.metric}@{self.at}"


def observe(target: Target, metrics: pd.DataFrame, merchants: pd.DataFrame) -> float:
    """The value of ``target``'s observable in one run's tables (:class:`sim.simulate.Results`)."""
    k = AT[target.at]
    if target.merchant is None:
        series = metrics[target.metric]
    else:
        series = merchants.loc[merchants["merchant"].astype(str) == target.merchant, target.metric]
    return float(np.nanmean(series.to_numpy(dtype=float)[-k:]))


def misfit(t: Target, achieved: float) -> float:
    """(achieved − target) / tolerance, counting only the side of the target that ``t.side`` names
    (0 on the other side: a bound that holds is no misfit); nan stays nan."""
    d = (achieved - t.target) / t.tolerance
    if t.side == "at_least" and d > 0 or t.side == "at_most" and d < 0:
        return 0.0
    return d


def objective(targets, achieved) -> float:
    """Σ weight × misfit² over the targets (:func:`misfit`: ((achieved − target) / tolerance), one
    side only for a bound; ``achieved``: one mean each); ``inf`` when it overflows, ``nan`` when an
    achieved value is (a trial that cannot be ranked: :func:`sim.calibration.study.run_study`
    records it as failed, with the reason)."""
    try:
        return float(sum(t.weight * misfit(t, a) ** 2 for t, a in zip(targets, achieved)))
    except OverflowError:  # a float's ** raises where * and / give inf
        return math.inf


def _target_spec(t: Target) -> dict:
    """A target's fields (an observable's without the empty ``fact`` and ``check``, a two-sided one's
    without ``side``: fingerprints of calibrations written before these existed stay the same)."""
    d = asdict(t)
    if t.kind == "observable":
        del d["fact"], d["check"]
    if t.side == "both":
        del d["side"]
    return d


@dataclass(frozen=True)
class Calibration:
    """A calibration: free parameters over a base market, targets, the budget and the seeds."""

    name: str
    base: str  # the base scenario's name
    params: Params  # the base market, with the file's [set] values
    events: tuple
    fixed: dict  # the [set] values (they go into best.toml with the fitted ones)
    free: tuple  # FreeParam, …
    targets: tuple  # Target, …
    trials: int
    replicates: int
    steps: int
    seed: int
    check: int = 10  # fresh seeds for the report
    source: str | None = None
    info: dict = field(default_factory=dict)
    scenario: Scenario | None = field(default=None, compare=False, repr=False)  # the base scenario

    def seed_masters(self) -> list[int]:
        """The masters of the fitting seeds, the fresh seeds and the sampler's seeds."""
        return replicate_seeds(self.seed, 3)

    @property
    def observables(self) -> tuple:
        """The targets that are observables of the base scenario (none: the base scenario is not run)."""
        return tuple(t for t in self.targets if t.kind == "observable")

    @property
    def facts(self) -> tuple[str, ...]:
        """The validation facts the targets read, each once, in the order of the targets."""
        return tuple(dict.fromkeys(t.fact for t in self.targets if t.kind == "validation"))

    def fit_seeds(self) -> list[int]:
        return replicate_seeds(self.seed_masters()[0], self.replicates)

    def fresh_seeds(self) -> list[int]:
        return replicate_seeds(self.seed_masters()[1], self.check)

    def sampler_seed(self, trials_before: int) -> int:
        """The sampler's seed for a session that starts after ``trials_before`` trials (a resumed
        study draws new points, not the first session's again)."""
        return replicate_seeds(self.seed_masters()[2], trials_before + 1)[-1] % 2**32

    def spec(self) -> dict:
        """What defines the calibration (the budget aside: ``--resume --trials`` may extend it)."""
        return {"base": self.base, "params": self.params.to_dict(), "events": [repr(e) for e in self.events],
                "free": [_free_spec(f) for f in self.free], "targets": [_target_spec(t) for t in self.targets],
                "replicates": self.replicates, "steps": self.steps, "seed": self.seed, "check": self.check}

    def fingerprint(self) -> str:
        text = json.dumps(self.spec(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

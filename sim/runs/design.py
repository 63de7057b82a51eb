"""Experiments: configurations (*points*) × replicates, and the designs that choose the points.

An :class:`Experiment` is a list of :class:`Point` (a market's parameters and scheduled changes, and
the varied values that made it) × replicates, with how long to run and what to measure. It comes
from an experiment file (:func:`sim.inputs.experiment.load_experiment`), from one scenario
(:func:`single_experiment`, what ``loyalty-sim run`` does) or from several
(:func:`compare_experiment`). :meth:`Experiment.tasks` lists its runs: replicate ``r`` of every
point gets the seed ``replicate_seeds(master, R)[r]`` (common random numbers across points).

The designs: a full grid (:func:`grid_rows`, ``factorial``) or samples between bounds
(:func:`sample_rows`: Latin hypercube ``lhs``, Saltelli ``sobol``, ``morris`` trajectories, with SALib);
:func:`count_runs` gives the documented number of runs of each.

>>> from sim.inputs.scenario import load_scenario
>>> exp = single_experiment(load_scenario("baseline"), replicates=2, steps=5, seed=7)
>>> [(t.run_id, t.replicate) for t in exp.tasks()]
[(0, 0), (1, 1)]
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..metrics import METRICS
from ..params import ParamError, Params
from ..simulate import ScheduledChange
from .provenance import replicate_seeds

if TYPE_CHECKING:  # a scenario is only read here (name, params, events, steps, seed)
    from ..inputs.scenario import Scenario

__all__ = ["BatchError", "DESIGNS", "MEASURES", "MAX_RUNS", "Factor", "Point", "RunTask", "Experiment",
           "single_experiment", "compare_experiment", "count_runs", "grid_rows", "sample_rows", "whole_values", "point_label",
           "plain"]

DESIGNS = ("factorial", "lhs", "sobol", "morris")
MEASURES = ("every", "end")
#: the most runs one experiment may have: its manifest (about 250 bytes a run) stays small enough to
#: save every few seconds, and a sweep of that many 104-step runs of 1,000 customers is a day on 2 cores
MAX_RUNS = 100_000


# ---- errors --------------------------------------------------------------------------------------
class BatchError(ParamError):
    """A bad experiment file or results folder: names the file, the key, the line when known, and
    what is allowed, in English and Chinese (``.text("zh")``)."""

    def __init__(self, key: str, message: str, source: str | None = None, message_zh: str | None = None,
                 line: int | None = None):
        self.line = line
        where = f"{source}, line {line}" if source and line else source
        super().__init__(key, message, where, message_zh)
        self.file = source


# ---- the experiment ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Factor:
    """A varied parameter: explicit ``values`` (factorial) or bounds ``lo``…``hi`` (sampled designs).
    ``name`` is a market parameter (``price_sensitivity``) or a merchant's (``A.price``)."""

    name: str
    values: tuple | None = None
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    multiple: int = 1  # sampled integers take the multiples of this between lo and hi (network_degree: even)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"name": self.name}
        if self.values is not None:
            d["values"] = list(self.values)
        else:
            d["min"], d["max"] = self.lo, self.hi
        return d


@dataclass(frozen=True)
class Point:
    """One configuration: its parameters and scheduled changes, and the varied values that made it."""

    point: int
    label: str
    params: Params
    events: tuple = ()
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RunTask:
    """Everything one run needs (picklable: it travels to worker processes and Dask workers)."""

    run_id: int
    point: int
    label: str
    replicate: int
    seed: int
    params: Params
    events: tuple
    steps: int
    metrics: tuple
    measure: str
    stop: tuple | None
    values: dict
    customers: bool = False


@dataclass(frozen=True)
class Experiment:
    """A set of configurations × replicates, with how long to run and what to measure."""

    name: str
    kind: str  # "run", "sweep" or "compare"
    design: str  # "single", "factorial", "lhs", "sobol", "morris"
    points: tuple
    replicates: int
    steps: int
    seed: int
    measure: str = "every"
    metrics: tuple = tuple(METRICS)
    stop: tuple | None = None  # (metric, "above" | "below", value)
    factors: tuple = ()
    problem: dict | None = None
    options: dict = field(default_factory=dict)
    base: str = ""
    source: str | None = None
    customers: bool = False  # also keep each run's final per-customer table (parts/customers-*.parquet)
    #: the replicates' own seeds, given as they are (``loyalty-sim run --run-seed S``: a run re-done
    #: from the seed a results table records) instead of spawned from ``seed``
    run_seeds: tuple | None = None

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replicates

    def seeds(self) -> list[int]:
        if self.run_seeds is not None:
            return [int(s) for s in self.run_seeds]
        return replicate_seeds(self.seed, self.replicates)

    def tasks(self) -> list[RunTask]:
        seeds = self.seeds()
        out = []
        for p in self.points:
            for r in range(self.replicates):
                out.append(RunTask(p.point * self.replicates + r, p.point, p.label, r, seeds[r], p.params,
                                   tuple(p.events), self.steps, tuple(self.metrics), self.measure, self.stop,
                                   dict(p.values), self.customers))
        return out

    def spec(self) -> dict:
        """A plain description (JSON) of everything that determines the results; resume checks it."""
        base = self.points[0].params.to_dict() if self.points else {}
        own = {"run_seeds": [int(x) for x in self.run_seeds]} if self.run_seeds is not None else {}
        return {
            **own,
            "name": self.name, "kind": self.kind, "design": self.design, "base": self.base,
            "replicates": self.replicates, "steps": self.steps, "seed": self.seed, "measure": self.measure,
            "customers": self.customers,
            "metrics": list(self.metrics), "stop": list(self.stop) if self.stop else None,
            "varied": [f.to_dict() for f in self.factors], "options": dict(self.options),
            "base_params": base if self.kind == "sweep" else None,
            "points": [{"point": p.point, "label": p.label, "values": plain(p.values),
                        "params": p.params.to_dict() if self.kind != "sweep" else None,
                        "events": [_event_spec(e) for e in p.events]} for p in self.points],
        }

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.spec(), sort_keys=True, default=str).encode()).hexdigest()[:16]


def _event_spec(e: ScheduledChange) -> dict:
    """A scheduled change as plain values (the spec of an experiment)."""
    return {"step": e.step, "target": e.target, "set": plain(e.changes)}


def plain(d):
    """``d`` with numpy scalars as Python numbers and keys as texts (JSON-ready)."""
    if isinstance(d, dict):
        return {str(k): plain(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [plain(v) for v in d]
    if isinstance(d, np.generic):
        return d.item()
    return d


def count_runs(design: str, n_factors: int, samples: int, replicates: int, second_order: bool = False,
               factorial_sizes: Sequence[int] = ()) -> int:
    """The documented number of runs of a design (before replicates multiply it):
    factorial ∏ values; lhs ``samples``; sobol ``samples·(D+2)`` (``samples·(2D+2)`` with second
    order); morris ``samples·(D+1)`` (``samples`` trajectories)."""
    if design == "factorial":
        pts = math.prod(factorial_sizes) if factorial_sizes else 1
    elif design == "lhs":
        pts = samples
    elif design == "sobol":
        pts = samples * (2 * n_factors + 2 if second_order else n_factors + 2)
    elif design == "morris":
        pts = samples * (n_factors + 1)
    else:
        pts = 1
    return pts * replicates


def point_label(values: Mapping[str, Any]) -> str:
    """A point's label: its varied values (``trust_gain=0.1, A.price=1.2``), or ``base``."""
    return ", ".join(f"{k}={_fmt_value(v)}" for k, v in values.items()) or "base"


def _fmt_value(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


# ---- building experiments ------------------------------------------------------------------------
def single_experiment(scenario: Scenario, replicates: int = 1, steps: int | None = None, seed: int | None = None,
                      measure: str = "every", metrics: Sequence[str] | None = None,
                      customers: bool = False, run_seed: int | None = None) -> Experiment:
    """One scenario × ``replicates`` (what ``loyalty-sim run`` does). ``run_seed``: one run with exactly
    this seed (the ``seed`` a results table records for a run), not a seed spawned from a master seed;
    it excludes ``seed`` and more than one replicate."""
    steps = scenario.steps if steps is None else steps
    pt = Point(0, scenario.name, scenario.params, tuple(scenario.events), {})
    if run_seed is not None:
        if seed is not None or int(replicates) != 1:
            raise BatchError("--run-seed", "--run-seed is the seed of one run: give it without --seed and with one replicate",
                             None, "--run-seed 是单次运行的种子：不能与 --seed 同时给出，且只能有一个重复")
        return Experiment(scenario.name, "run", "single", (pt,), 1, int(steps), int(run_seed), measure,
                          tuple(metrics or METRICS), base=scenario.name, source=scenario.source, customers=customers,
                          run_seeds=(int(run_seed),))
    seed = (scenario.seed if scenario.seed is not None else 0) if seed is None else seed
    return Experiment(scenario.name, "run", "single", (pt,), int(replicates), int(steps), int(seed), measure,
                      tuple(metrics or METRICS), base=scenario.name, source=scenario.source, customers=customers)


def compare_experiment(scenarios: Sequence[Scenario], replicates: int = 10, steps: int | None = None,
                       seed: int = 0, labels: Sequence[str] | None = None, measure: str = "every",
                       metrics: Sequence[str] | None = None) -> Experiment:
    """Several scenarios side by side, each × ``replicates`` with the same replicate seeds."""
    steps = max(s.steps for s in scenarios) if steps is None else steps
    labels = list(labels) if labels else [s.name for s in scenarios]
    seen: dict[str, int] = {}
    pts = []
    for i, (s, lab) in enumerate(zip(scenarios, labels)):
        n = seen.get(lab, 0)
        seen[lab] = n + 1
        pts.append(Point(i, lab if n == 0 else f"{lab} ({n + 1})", s.params, tuple(s.events), {}))
    return Experiment(" vs ".join(labels), "compare", "single", tuple(pts), int(replicates), int(steps), int(seed),
                      measure, tuple(metrics or METRICS), base=labels[0])


def grid_rows(factors: Sequence[Factor]) -> list[dict]:
    """The factorial design: every combination of the factors' values, the last factor fastest."""
    return [dict(zip([f.name for f in factors], combo)) for combo in itertools.product(*[f.values for f in factors])]


def sample_rows(design: str, factors: Sequence[Factor], samples: int, seed: int, num_levels: int = 4,
                second_order: bool = False) -> tuple[list[dict], dict, dict]:
    """A sampled design between the factors' bounds: ``(rows, problem, options)``, the rows as
    ``{name: value}`` (integers as one of their whole values, :func:`_whole`), SALib's problem and
    the options the manifest records. ``design`` is ``lhs``, ``sobol`` or ``morris``."""
    problem = {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": [[f.lo, f.hi] for f in factors]}
    X = _sample(design, problem, samples, seed, num_levels, second_order)
    options: dict[str, Any] = {"samples": samples}
    if design == "sobol":
        options["calc_second_order"] = second_order
    if design == "morris":
        options["num_levels"] = num_levels
    cols = [_whole(f, X[:, j], design) if f.integer else [float(x) for x in X[:, j]] for j, f in enumerate(factors)]
    rows = [{f.name: col[i] for f, col in zip(factors, cols)} for i in range(len(X))]
    return rows, problem, options


def whole_values(f: Factor) -> list[int]:
    """The whole values a sampled integer factor can take: the multiples of :attr:`Factor.multiple`
    between its bounds (``network_degree`` from 2 to 12: 2, 4, 6, 8, 10, 12)."""
    k = int(f.multiple) or 1
    first, last = math.ceil(f.lo / k - 1e-9), math.floor(f.hi / k + 1e-9)
    return [i * k for i in range(first, last + 1)]


def _whole(f: Factor, x: np.ndarray, design: str) -> list[int]:
    """A sampled column of an integer factor as its whole values (:func:`whole_values`). Latin
    hypercube and Sobol samples are uniform between the bounds, so the range is cut into one equal
    part per whole value and each value is drawn as often as the others (rounding to the nearest
    would give the two end values half the chance of the others, and could step outside the
    bounds). Morris samples lie on a grid of levels: each level goes to its nearest whole value
    (the lower one on a tie), so the trajectories keep their order and their steps."""
    vals = whole_values(f)
    if len(vals) < 2:
        raise ValueError(f"{f.name}: fewer than two whole values between {f.lo} and {f.hi}")
    x = np.asarray(x, dtype=float)
    if design == "morris":
        idx = np.abs(x[:, None] - np.asarray(vals, dtype=float)[None, :]).argmin(axis=1)
    else:
        u = (x - f.lo) / (f.hi - f.lo)
        idx = np.clip(np.floor(u * len(vals)).astype(int), 0, len(vals) - 1)
    return [int(vals[i]) for i in idx]


def _sample(design, problem, samples, seed, num_levels, second_order) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if design == "lhs":
            from SALib.sample import latin

            return latin.sample(problem, samples, seed=int(seed % (2**32)))
        if design == "sobol":
            from SALib.sample import sobol

            return sobol.sample(problem, samples, calc_second_order=second_order, scramble=True,
                                seed=int(seed % (2**32)))
        from SALib.sample import morris

        return morris.sample(problem, samples, num_levels=num_levels, seed=int(seed % (2**32)))


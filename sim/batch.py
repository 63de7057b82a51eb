"""Batch runs for researchers: an experiment → its runs → a results folder on disk.

An :class:`Experiment` is a list of configurations (*points*: a scenario plus values for the
varied parameters) × replicates. It comes from an experiment file (:func:`load_experiment`), from
one scenario (:func:`single_experiment`, used by ``loyalty-sim run``) or from several
(:func:`compare_experiment`). :func:`run_experiment` runs it with any ``concurrent.futures``-style
executor — in this process, a local process pool, or Dask distributed — and writes

``DIR/manifest.json``
    the experiment spec, the base parameters, every point's values, the seeds, package versions,
    git revision, timestamps and each run's status;
``DIR/parts/market-<run>.parquet``
    one row per step (or only the last step) of one run: ``run_id, point, label, replicate, seed``,
    one column per varied parameter, ``step`` and the measured observables of :data:`sim.metrics.METRICS`;
``DIR/parts/merchants-<run>.parquet``
    the same per merchant (:data:`sim.metrics.MERCHANT_METRICS`);
``DIR/parts/customers-<run>.parquet``
    only when asked (``customers=True``, ``--customers``): every customer's final state;
``DIR/parts/failed-<run>.json``
    a run that raised: its error (the sweep goes on).

Each part is written atomically (a temporary file renamed into place) as its run finishes, so a
folder killed at any moment holds only whole runs; ``resume=True`` redoes exactly the runs that
have no parts. Replicate ``r`` of every point gets the seed ``replicate_seeds(master, R)[r]``
(spawned with :class:`numpy.random.SeedSequence`: common random numbers across points), so results
are the same whatever the executor and the number of workers. :func:`read_results` reads a folder
back as two tidy tables.

>>> from sim.batch import single_experiment
>>> from sim.scenario import load_scenario
>>> exp = single_experiment(load_scenario("baseline"), replicates=2, steps=5, seed=7)
>>> [(t.run_id, t.replicate) for t in exp.tasks()]
[(0, 0), (1, 1)]
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import hashlib
import io
import itertools
import json
import math
import os
import platform
import re
import subprocess
import time
import tomllib
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from .metrics import MERCHANT_METRICS, METRICS
from .params import MERCHANT_PARAMS, PARAMS, ParamError, Params
from .inputs.scenario import Scenario, load_scenario
from .simulate import ScheduledChange, simulate

__all__ = [
    "BatchError", "Experiment", "Point", "RunTask", "RunOutput", "RunParts", "Factor", "DESIGNS", "FORMAT",
    "load_experiment", "parse_experiment", "single_experiment", "compare_experiment", "replicate_seeds",
    "execute", "execute_parts", "make_executor", "local_cluster", "DASK_LOCAL_CONFIG", "run_experiment",
    "read_results", "export_csv", "Summary", "ResultSet", "count_runs",
]

FORMAT = "loyalty-sim results 1"
DESIGNS = ("factorial", "lhs", "sobol", "morris")
MEASURES = ("every", "end")
MAX_EXPERIMENT_BYTES = 256 * 1024
MAX_RUNS = 1_000_000


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


def _err(key, en, zh, source=None, text=None, table=None, line=None):
    if line is None and text is not None:
        line = _find_line(text, table, key.split(".")[-1] if "." in key and table else key)
    return BatchError(key, en, source, zh, line)


def _find_line(text: str | None, table: str | None, key: str) -> int | None:
    """Best-effort line number of ``key = …`` inside ``[table]`` (or a bare ``[table]`` header)."""
    if not text:
        return None
    current = None
    key_re = re.compile(r'^\s*(?:"' + re.escape(key) + r'"|\'' + re.escape(key) + r'\'|' + re.escape(key) + r')\s*=')
    header_re = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    for i, line in enumerate(text.splitlines(), 1):
        m = header_re.match(line)
        if m:
            current = m.group(1).strip()
            if table is None and current == key:
                return i
            continue
        if key_re.match(line) and (table is None or current == table or (table and current is None and table == "")):
            return i
    if table:
        for i, line in enumerate(text.splitlines(), 1):
            m = header_re.match(line)
            if m and m.group(1).strip() == table:
                return i
    return None


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
    multiple: int = 1  # sampled integers are rounded to a multiple of this (network_degree: even)

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


@dataclass
class RunOutput:
    run_id: int
    market: pd.DataFrame
    merchants: pd.DataFrame
    seconds: float
    steps_run: int
    customers: pd.DataFrame | None = None


@dataclass
class RunParts:
    """One finished run as its part files' bytes (Parquet, encoded in the worker), so that the
    process collecting results only writes bytes to disk and never competes with the workers for
    the CPU time of encoding them."""

    run_id: int
    parts: dict[str, bytes]
    seconds: float
    steps_run: int


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

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replicates

    def seeds(self) -> list[int]:
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
        return {
            "name": self.name, "kind": self.kind, "design": self.design, "base": self.base,
            "replicates": self.replicates, "steps": self.steps, "seed": self.seed, "measure": self.measure,
            "customers": self.customers,
            "metrics": list(self.metrics), "stop": list(self.stop) if self.stop else None,
            "varied": [f.to_dict() for f in self.factors], "options": dict(self.options),
            "base_params": base if self.kind == "sweep" else None,
            "points": [{"point": p.point, "label": p.label, "values": _plain(p.values),
                        "params": p.params.to_dict() if self.kind != "sweep" else None,
                        "events": [_event_dict(e) for e in p.events]} for p in self.points],
        }

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.spec(), sort_keys=True, default=str).encode()).hexdigest()[:16]


def _event_dict(e: ScheduledChange) -> dict:
    return {"step": e.step, "target": e.target, "set": _plain(e.changes)}


def _plain(d):
    if isinstance(d, dict):
        return {str(k): _plain(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [_plain(v) for v in d]
    if isinstance(d, np.generic):
        return d.item()
    return d


def replicate_seeds(master: int, n: int) -> list[int]:
    """``n`` independent 63-bit seeds spawned from ``SeedSequence(master)`` (numpy SPEC 7). Each is
    an ordinary integer: ``simulate(params, seed=s)`` reproduces that replicate on its own."""
    children = np.random.SeedSequence(int(master)).spawn(int(n))
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]


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


# ---- applying values to parameters ---------------------------------------------------------------
_MERCHANT_KEY = re.compile(r"^(?:merchants\[(\d+)\]|([^.\[\]]+))\.([a-z_]+)$")


def _declaration(name: str, params: Params):
    """(Param, merchant index or None) for a varied name, or raise KeyError with a message."""
    if name in PARAMS:
        return PARAMS[name], None
    m = _MERCHANT_KEY.match(name)
    if not m:
        raise KeyError(name)
    idx, mname, key = m.groups()
    if key not in MERCHANT_PARAMS or key == "name":
        raise KeyError(name)
    if idx is not None:
        i = int(idx)
        if i >= len(params.merchants):
            raise LookupError(f"merchants[{i}]")
        return MERCHANT_PARAMS[key], i
    names = [mm.name for mm in params.merchants]
    if mname not in names:
        raise LookupError(mname)
    return MERCHANT_PARAMS[key], names.index(mname)


def apply_values(params: Params, values: Mapping[str, Any]) -> Params:
    """``params`` with ``values`` set: market keys by name, merchant keys as ``A.price`` or
    ``merchants[0].price``."""
    market = {k: v for k, v in values.items() if k in PARAMS}
    merchants = list(params.merchants)
    for k, v in values.items():
        if k in PARAMS:
            continue
        p, i = _declaration(k, params)
        merchants[i] = merchants[i].replace(**{p.name: v})
    return params.replace(merchants=tuple(merchants), **market)


def _label(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in values.items()) or "base"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


# ---- building experiments ------------------------------------------------------------------------
def single_experiment(scenario: Scenario, replicates: int = 1, steps: int | None = None, seed: int | None = None,
                      measure: str = "every", metrics: Sequence[str] | None = None,
                      customers: bool = False) -> Experiment:
    """One scenario × ``replicates`` (what ``loyalty-sim run`` does)."""
    steps = scenario.steps if steps is None else steps
    seed = (scenario.seed if scenario.seed is not None else 0) if seed is None else seed
    pt = Point(0, scenario.name, scenario.params, tuple(scenario.events), {})
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


_EXPERIMENT_KEYS = {
    "name": "a title for the experiment",
    "scenario": "the base scenario: a name from `loyalty-sim list` or a path to a .toml file",
    "design": "factorial, lhs, sobol or morris",
    "replicates": "runs per configuration, each with its own seed (1 … 10000)",
    "steps": "steps per run (1 … 100000)",
    "seed": "master seed the replicate seeds are spawned from (0 … 2^63−1)",
    "measure": "every (each step) or end (only the final step)",
    "metrics": "observables to keep (names from `loyalty-sim params --metrics`), or \"all\"",
    "samples": "lhs: number of points; sobol: base sample N (a power of 2); morris: trajectories",
    "num_levels": "morris: grid levels (2 … 20)",
    "second_order": "sobol: also estimate second-order indices (true/false)",
    "stop": "stop a run early: { metric = \"active\", below = 10 } or { metric = …, above = … }",
}
_EXPERIMENT_KEYS_ZH = {
    "name": "实验名称", "scenario": "基础情景：`loyalty-sim list` 中的名称或 .toml 文件路径",
    "design": "factorial、lhs、sobol 或 morris", "replicates": "每个配置的重复次数，各有自己的种子（1 … 10000）",
    "steps": "每次运行的步数（1 … 100000）", "seed": "派生各重复种子的主种子（0 … 2^63−1）",
    "measure": "every（每一步）或 end（仅最后一步）", "metrics": "要保留的观测量名称，或 \"all\"",
    "samples": "lhs：点数；sobol：基础样本量 N（2 的幂）；morris：轨迹数", "num_levels": "morris：网格层数（2 … 20）",
    "second_order": "sobol：是否估计二阶指数（true/false）", "stop": "提前停止条件：{ metric = \"active\", below = 10 }",
}
_TABLES = {"experiment": "what to run", "set": "fixed values over the scenario", "vary": "varied parameters",
           "info": "notes (title, summary in en/zh)"}


def load_experiment(path: str | os.PathLike) -> Experiment:
    """Read and validate an experiment file; errors are :class:`BatchError` naming file, key, line."""
    p = Path(path)
    src = str(path)
    if not p.is_file():
        raise BatchError("", f"experiment file not found: {src}", src, f"找不到实验文件：{src}")
    raw = p.read_bytes()
    return parse_experiment(raw, src, base_dir=p.parent)


def parse_experiment(text: str | bytes, source: str = "<text>", base_dir: str | os.PathLike | None = None) -> Experiment:
    if isinstance(text, bytes):
        if len(text) > MAX_EXPERIMENT_BYTES:
            raise BatchError("", f"file is {len(text):,} bytes: allowed at most {MAX_EXPERIMENT_BYTES:,}", source,
                             f"文件有 {len(text):,} 字节：最多允许 {MAX_EXPERIMENT_BYTES:,} 字节")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BatchError("", f"file is not UTF-8 text (byte {e.start})", source,
                             f"文件不是 UTF-8 文本（第 {e.start} 字节）") from None
    if len(text) > MAX_EXPERIMENT_BYTES:
        raise BatchError("", f"file is too large: allowed at most {MAX_EXPERIMENT_BYTES:,} bytes", source,
                         f"文件过大：最多允许 {MAX_EXPERIMENT_BYTES:,} 字节")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"line (\d+)", msg)
        raise BatchError("", f"not valid TOML: {msg}", source, f"不是有效的 TOML：{msg}",
                         int(m.group(1)) if m else None) from None
    return _experiment_from_dict(data, source, text, Path(base_dir) if base_dir else None)


def _experiment_from_dict(data: dict, source: str, text: str | None, base_dir: Path | None) -> Experiment:
    def fail(key, en, zh, table=None, line=None):
        raise _err(key, en, zh, source, text, table, line)

    for k, v in data.items():
        if k not in _TABLES:
            fail(k, f"unknown table [{k}]: allowed " + ", ".join(f"[{t}] ({d})" for t, d in _TABLES.items()),
                 f"未知的表 [{k}]：允许 " + "、".join(f"[{t}]" for t in _TABLES), table=None)
        if not isinstance(v, dict):
            fail(k, f"'{k}' must be a table ([{k}]), not a single value", f"'{k}' 必须是表（[{k}]），而不是单个值")
    ex = data.get("experiment")
    if ex is None:
        fail("experiment", "missing table [experiment] (it names at least the base scenario: scenario = \"baseline\")",
             "缺少 [experiment] 表（至少要写出基础情景：scenario = \"baseline\"）")
    for k in ex:
        if k not in _EXPERIMENT_KEYS:
            import difflib
            close = difflib.get_close_matches(k, list(_EXPERIMENT_KEYS), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            fail(f"experiment.{k}", f"unknown key 'experiment.{k}'{hint} (allowed: {', '.join(_EXPERIMENT_KEYS)})",
                 f"未知的键 'experiment.{k}'（允许：{', '.join(_EXPERIMENT_KEYS)}）", table="experiment")

    def get(key, kind, default, lo=None, hi=None, choices=None):
        if key not in ex:
            return default
        v = ex[key]
        where = f"experiment.{key}"
        rng = f"{lo} … {hi}" if lo is not None else ""
        if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
            fail(where, f"'{where}' = {v!r} must be a whole number ({rng}): {_EXPERIMENT_KEYS[key]}",
                 f"'{where}' = {v!r} 必须是整数（{rng}）：{_EXPERIMENT_KEYS_ZH[key]}", table="experiment")
        if kind is str and not isinstance(v, str):
            fail(where, f"'{where}' = {v!r} must be text: {_EXPERIMENT_KEYS[key]}",
                 f"'{where}' = {v!r} 必须是文本：{_EXPERIMENT_KEYS_ZH[key]}", table="experiment")
        if kind is bool and not isinstance(v, bool):
            fail(where, f"'{where}' = {v!r} must be true or false: {_EXPERIMENT_KEYS[key]}",
                 f"'{where}' = {v!r} 必须是 true 或 false：{_EXPERIMENT_KEYS_ZH[key]}", table="experiment")
        if lo is not None and not (lo <= v <= hi):
            fail(where, f"'{where}' = {v} is out of range: allowed {lo} … {hi} ({_EXPERIMENT_KEYS[key]})",
                 f"'{where}' = {v} 超出范围：允许 {lo} … {hi}（{_EXPERIMENT_KEYS_ZH[key]}）", table="experiment")
        if choices and v not in choices:
            fail(where, f"'{where}' = {v!r} is not allowed: choose one of {', '.join(choices)}",
                 f"'{where}' = {v!r} 不允许：请从 {', '.join(choices)} 中选择", table="experiment")
        return v

    name = get("name", str, "")
    scen_ref = get("scenario", str, None)
    if scen_ref is None:
        fail("experiment.scenario", "missing 'experiment.scenario': " + _EXPERIMENT_KEYS["scenario"],
             "缺少 'experiment.scenario'：" + _EXPERIMENT_KEYS_ZH["scenario"], table="experiment")
    design = get("design", str, "factorial", choices=DESIGNS)
    replicates = get("replicates", int, 1, 1, 10_000)
    steps_given = "steps" in ex
    steps = get("steps", int, 104, 1, 100_000)
    seed = get("seed", int, 0, 0, 2**63 - 1)
    measure = get("measure", str, "every", choices=MEASURES)
    samples = get("samples", int, None, 1, 100_000)
    num_levels = get("num_levels", int, 4, 2, 20)
    second_order = get("second_order", bool, False)
    metrics = ex.get("metrics", "all")
    if metrics == "all":
        metrics = list(METRICS)
    elif not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        fail("experiment.metrics", "'experiment.metrics' must be a list of observable names, e.g. "
             "[\"loyal_share\", \"churn_rate\"], or \"all\"",
             "'experiment.metrics' 必须是观测量名称的列表，例如 [\"loyal_share\", \"churn_rate\"]，或 \"all\"",
             table="experiment")
    else:
        for m in metrics:
            if m not in METRICS:
                import difflib
                close = difflib.get_close_matches(m, list(METRICS), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                fail("experiment.metrics", f"unknown observable '{m}' in 'experiment.metrics'{hint} "
                     "(`loyalty-sim params --metrics` lists them)",
                     f"'experiment.metrics' 中的观测量 '{m}' 未知（`loyalty-sim params --metrics` 可列出全部）",
                     table="experiment")
    stop = None
    if "stop" in ex:
        st = ex["stop"]
        ok = (isinstance(st, dict) and set(st) <= {"metric", "above", "below"} and isinstance(st.get("metric"), str)
              and len(set(st) & {"above", "below"}) == 1)
        if ok:
            op = "above" if "above" in st else "below"
            val = st[op]
            ok = isinstance(val, (int, float)) and not isinstance(val, bool) and math.isfinite(val)
        if not ok:
            fail("experiment.stop", "'experiment.stop' must be { metric = \"<observable>\", above = <number> } "
                 "or { metric = …, below = <number> }",
                 "'experiment.stop' 必须写成 { metric = \"<观测量>\", above = <数值> } 或 { metric = …, below = <数值> }",
                 table="experiment")
        if st["metric"] not in METRICS:
            fail("experiment.stop", f"unknown observable '{st['metric']}' in 'experiment.stop' "
                 "(`loyalty-sim params --metrics` lists them)",
                 f"'experiment.stop' 中的观测量 '{st['metric']}' 未知", table="experiment")
        stop = (st["metric"], op, float(val))

    # the base scenario
    ref = scen_ref
    cand = (base_dir / ref) if base_dir is not None and (ref.endswith(".toml") or "/" in ref) else None
    try:
        sc = load_scenario(cand if cand is not None and cand.exists() else ref)
    except ParamError as e:
        raise BatchError("experiment.scenario", f"'experiment.scenario' = {ref!r}: {e}", source,
                         f"'experiment.scenario' = {ref!r}：{e.text('zh')}",
                         _find_line(text, "experiment", "scenario")) from None
    if not steps_given:
        steps = sc.steps
    base = sc.params

    # fixed values
    fixed = data.get("set", {})
    try:
        _check_values(fixed, base, "set")
        base = apply_values(base, fixed)
    except ParamError as e:
        raise BatchError(e.key, e.message, source, e.message_zh, _find_line(text, "set", e.key.split(".", 1)[-1]
                                                                            if e.key.startswith("set.") else e.key)) from None

    # factors
    vary = data.get("vary", {})
    factors = []
    for k, v in vary.items():
        key = f"vary.{k}"
        try:
            p, _ = _declaration(k, base)
        except KeyError:
            import difflib
            names = list(PARAMS) + [f"{m.name}.{q}" for m in base.merchants for q in MERCHANT_PARAMS if q != "name"]
            close = difflib.get_close_matches(k, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            fail(key, f"unknown parameter '{k}' in [vary]{hint} (market parameters by name, a merchant's as "
                 f"A.price or merchants[0].price; `loyalty-sim params` lists them)",
                 f"[vary] 中的参数 '{k}' 未知（市场参数直接写名称，商家参数写成 A.price 或 merchants[0].price）", table="vary")
        except LookupError as e:
            fail(key, f"[vary] '{k}': no merchant {e.args[0]} in the scenario (merchants: "
                 f"{', '.join(m.name for m in base.merchants)})",
                 f"[vary] '{k}'：情景中没有商家 {e.args[0]}（商家：{', '.join(m.name for m in base.merchants)}）", table="vary")
        rng_text = p.range_text()
        if isinstance(v, list):
            if design != "factorial":
                fail(key, f"'{key}': the {design} design samples between bounds: write {{ min = …, max = … }} "
                     f"(allowed {rng_text})", f"'{key}'：{design} 设计在上下限之间抽样：请写 {{ min = …, max = … }}（允许 {p.range_text_zh()}）",
                     table="vary")
            if not v:
                fail(key, f"'{key}' lists no values", f"'{key}' 没有列出任何取值", table="vary")
            vals = []
            for x in v:
                try:
                    vals.append(p.validate(x, key=key, source=None))
                except ParamError as e:
                    raise BatchError(key, e.message, source, e.message_zh, _find_line(text, "vary", k)) from None
            factors.append(Factor(k, tuple(vals), integer=p.kind == "int"))
        elif isinstance(v, dict):
            extra = set(v) - {"min", "max", "step"}
            if extra or not {"min", "max"} <= set(v):
                fail(key, f"'{key}' must be a list of values or {{ min = …, max = …[, step = …] }} "
                     f"(got keys {', '.join(sorted(v))})",
                     f"'{key}' 必须是取值列表或 {{ min = …, max = …[, step = …] }}", table="vary")
            if p.kind not in ("float", "int"):
                fail(key, f"'{key}' is a choice ({', '.join(p.choices)}): list the values to try",
                     f"'{key}' 是选项参数（{', '.join(p.choices)}）：请列出要尝试的取值", table="vary")
            try:
                lo = p.validate(v["min"], key=f"{key}.min")
                hi = p.validate(v["max"], key=f"{key}.max")
            except ParamError as e:
                raise BatchError(e.key, e.message, source, e.message_zh, _find_line(text, "vary", k)) from None
            if not lo < hi:
                fail(key, f"'{key}': min = {lo} must be below max = {hi}", f"'{key}'：min = {lo} 必须小于 max = {hi}",
                     table="vary")
            if design == "factorial":
                if "step" not in v:
                    fail(key, f"'{key}': a factorial design needs a step ({{ min = {lo}, max = {hi}, step = … }}) "
                         "or a list of values", f"'{key}'：全因子设计需要 step 或取值列表", table="vary")
                st = v["step"]
                if isinstance(st, bool) or not isinstance(st, (int, float)) or not st > 0 or not math.isfinite(st):
                    fail(key, f"'{key}.step' = {st!r} must be a number > 0", f"'{key}.step' = {st!r} 必须是大于 0 的数",
                         table="vary")
                n = int(math.floor((hi - lo) / st + 1e-9)) + 1
                if n > 10_000:
                    fail(key, f"'{key}': {n} values from min, max and step: allowed at most 10000",
                         f"'{key}'：由 min、max、step 得到 {n} 个取值：最多允许 10000 个", table="vary")
                vals = [lo + i * st for i in range(n)]
                vals = [int(round(x)) if p.kind == "int" else round(float(x), 12) for x in vals]
                factors.append(Factor(k, tuple(dict.fromkeys(vals)), integer=p.kind == "int"))
            else:
                if "step" in v:
                    fail(key, f"'{key}': step is for factorial designs; {design} samples between min and max",
                         f"'{key}'：step 仅用于全因子设计；{design} 在 min 与 max 之间抽样", table="vary")
                factors.append(Factor(k, None, float(lo), float(hi), integer=p.kind == "int",
                                      multiple=2 if p.name == "network_degree" else 1))
        else:
            fail(key, f"'{key}' = {v!r} must be a list of values or {{ min = …, max = … }} (allowed {rng_text})",
                 f"'{key}' = {v!r} 必须是取值列表或 {{ min = …, max = … }}（允许 {p.range_text_zh()}）", table="vary")
    if not factors:
        fail("vary", "[vary] names no parameter: an experiment varies at least one (e.g. price_sensitivity = [0.2, 0.5])",
             "[vary] 没有列出参数：实验至少要改变一个参数（例如 price_sensitivity = [0.2, 0.5]）", table=None)
    if design != "factorial":
        if samples is None:
            fail("experiment.samples", f"the {design} design needs 'experiment.samples': {_EXPERIMENT_KEYS['samples']}",
                 f"{design} 设计需要 'experiment.samples'：{_EXPERIMENT_KEYS_ZH['samples']}", table="experiment")
        if design == "sobol" and samples & (samples - 1):
            fail("experiment.samples", f"'experiment.samples' = {samples}: the sobol design needs a power of 2 "
                 f"(e.g. {1 << max(1, samples.bit_length() - 1)} or {1 << samples.bit_length()})",
                 f"'experiment.samples' = {samples}：sobol 设计需要 2 的幂", table="experiment")
        if design in ("sobol", "morris") and len(factors) < 2:
            fail("vary", f"the {design} design needs at least two varied parameters",
                 f"{design} 设计至少需要两个变化参数", table=None)
    sizes = [len(f.values) for f in factors if f.values is not None]
    total = count_runs(design, len(factors), samples or 0, replicates, second_order, sizes)
    if total > MAX_RUNS:
        fail("experiment", f"this experiment makes {total:,} runs: allowed at most {MAX_RUNS:,}; "
             "use fewer values, samples or replicates", f"该实验共 {total:,} 次运行：最多允许 {MAX_RUNS:,} 次", table=None,
             line=_find_line(text, None, "experiment"))

    problem = None
    options: dict[str, Any] = {}
    if design == "factorial":
        rows = [dict(zip([f.name for f in factors], combo)) for combo in itertools.product(*[f.values for f in factors])]
    else:
        problem = {"num_vars": len(factors), "names": [f.name for f in factors],
                   "bounds": [[f.lo, f.hi] for f in factors]}
        X = _sample(design, problem, samples, seed, num_levels, second_order)
        options = {"samples": samples}
        if design == "sobol":
            options["calc_second_order"] = second_order
        if design == "morris":
            options["num_levels"] = num_levels
        rows = [{f.name: (int(round(x / f.multiple)) * f.multiple if f.integer else float(x))
                 for f, x in zip(factors, row)} for row in X]

    points = []
    for i, vals in enumerate(rows):
        try:
            params = apply_values(base, vals)
        except ParamError as e:
            raise BatchError(e.key, f"point {i} ({_label(vals)}): {e.message}", source, e.message_zh,
                             _find_line(text, "vary", e.key)) from None
        points.append(Point(i, _label(vals), params, tuple(sc.events), vals))
    title = name or (Path(source).stem if source and source != "<text>" else "experiment")
    return Experiment(title, "sweep", design, tuple(points), replicates, steps, seed, measure, tuple(metrics), stop,
                      tuple(factors), problem, options, base=sc.name, source=source)


def _check_values(values: Mapping, base: Params, table: str) -> None:
    if not isinstance(values, Mapping):
        raise BatchError(table, f"[{table}] must be a table of name = value", None, f"[{table}] 必须是“名称 = 值”的表")
    for k, v in values.items():
        key = f"{table}.{k}"
        try:
            p, _ = _declaration(k, base)
        except KeyError:
            raise BatchError(key, f"unknown parameter '{k}' in [{table}] (market parameters by name, a merchant's "
                             "as A.price or merchants[0].price; `loyalty-sim params` lists them)", None,
                             f"[{table}] 中的参数 '{k}' 未知") from None
        except LookupError as e:
            raise BatchError(key, f"[{table}] '{k}': no merchant {e.args[0]} in the scenario", None,
                             f"[{table}] '{k}'：情景中没有商家 {e.args[0]}") from None
        p.validate(v, key=key)


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


# ---- one run -------------------------------------------------------------------------------------
_ID_COLS = ("run_id", "point", "label", "replicate", "seed")


def execute(task: RunTask) -> RunOutput:
    """Run one task and return its tidy tables (aggregates only). Runs in any worker process."""
    t0 = time.perf_counter()
    until = None
    if task.stop:
        metric, op, val = task.stop
        until = (lambda m: m.metrics[metric] > val) if op == "above" else (lambda m: m.metrics[metric] < val)
    res = simulate(task.params, seed=task.seed, steps=task.steps, events=task.events, until=until,
                   keep_model=task.customers)
    mk = res.metrics.reset_index()
    mc = res.merchants
    if task.measure == "end":
        last = int(mk["step"].max())
        mk = mk[mk["step"] == last]
        mc = mc[mc["step"] == last]
    ids = {"run_id": task.run_id, "point": task.point, "label": task.label, "replicate": task.replicate,
           "seed": task.seed, **task.values}
    market = pd.DataFrame({**{k: [v] * len(mk) for k, v in ids.items()}, "step": mk["step"].to_numpy(np.int64)})
    for name in task.metrics:
        market[name] = mk[name].to_numpy()
    merch = pd.DataFrame({**{k: [v] * len(mc) for k, v in ids.items()}, "step": mc["step"].to_numpy(np.int64),
                          "merchant": mc["merchant"].astype(str).to_numpy()})
    for name in MERCHANT_METRICS:
        merch[name] = mc[name].to_numpy()
    for df in (market, merch):
        df["run_id"] = df["run_id"].astype(np.int64)
        df["point"] = df["point"].astype(np.int64)
        df["replicate"] = df["replicate"].astype(np.int64)
        df["seed"] = df["seed"].astype(np.int64)
    cust = _customer_table(res.model, ids) if task.customers else None
    return RunOutput(task.run_id, market.reset_index(drop=True), merch.reset_index(drop=True),
                     time.perf_counter() - t0, res.steps, cust)


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def execute_parts(task: RunTask) -> RunParts:
    """Run one task (:func:`execute`) and encode its tables as Parquet part files, in the worker."""
    out = execute(task)
    parts = {"market": _parquet_bytes(out.market), "merchants": _parquet_bytes(out.merchants)}
    if out.customers is not None:
        parts["customers"] = _parquet_bytes(out.customers)
    return RunParts(out.run_id, parts, out.seconds, out.steps_run)


def _customer_table(model, ids: dict) -> pd.DataFrame:
    """The final state of every customer in the market: one row each (asked for with ``customers``)."""
    from .customers import CHURNED, STAGES

    pop = model.pop
    live = np.flatnonzero(pop.stage > CHURNED)
    df = pd.DataFrame({k: [v] * len(live) for k, v in ids.items()})
    df["step"] = np.int64(model.steps)
    df["customer"] = pop.id[live].astype(np.int64)
    df["merchant"] = np.asarray(model.merchant_names, dtype=object)[pop.merchant[live]]
    df["stage"] = np.asarray(STAGES, dtype=object)[pop.stage[live]]
    for name in (*type(pop).FLOATS, *type(pop).INTS):
        arr = getattr(pop, name, None)
        if isinstance(arr, np.ndarray) and arr.shape[:1] == pop.stage.shape:
            df[name] = arr[live]
    for c in ("run_id", "point", "replicate", "seed"):
        df[c] = df[c].astype(np.int64)
    return df


# ---- executors -----------------------------------------------------------------------------------
class InlineExecutor(cf.Executor):
    """A ``concurrent.futures`` executor that runs each task in this process when submitted."""

    def submit(self, fn, /, *args, **kwargs):
        f: cf.Future = cf.Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - recorded as the run's failure
            if isinstance(e, KeyboardInterrupt):
                raise
            f.set_exception(e)
        return f


#: Dask settings for a LocalCluster on this machine. Simulation runs are whole tasks of a tenth of a
#: second or more, so the cluster's own housekeeping need not run every few milliseconds: the
#: workers' statistical profiler (a stack sample every 10 ms), the system and memory monitors and
#: the event-loop tick are slowed or off, which on a 2-core machine gives the simulations back
#: about a tenth of the CPU (``benchmarks/sweep.py``). A remote cluster keeps its own settings.
DASK_LOCAL_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "1s",
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@contextlib.contextmanager
def local_cluster(workers: int | None = None) -> Iterator[tuple[cf.Executor, str]]:
    """A Dask ``LocalCluster`` of ``workers`` single-threaded worker processes (default: one per
    core) with :data:`DASK_LOCAL_CONFIG`, as a ``concurrent.futures`` executor and a description."""
    import dask
    from distributed import Client, LocalCluster

    n = workers or os.cpu_count() or 1
    with dask.config.set(DASK_LOCAL_CONFIG):
        lc = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(lc)
        try:
            yield client.get_executor(pure=False), f"Dask LocalCluster, {n} workers"
        finally:
            client.close()
            lc.close()


@contextlib.contextmanager
def make_executor(workers: int | None = None, scheduler: str | None = None, cluster: str | None = None
                  ) -> Iterator[tuple[cf.Executor, str]]:
    """An executor and a description of it: in-process (``workers=1``), a local process pool
    (default: one worker per core), Dask distributed at ``scheduler`` (``tcp://host:port``), or a Dask
    ``LocalCluster`` (``cluster="local"``, with ``workers`` processes)."""
    if scheduler and cluster:
        raise BatchError("--scheduler", "give either --scheduler or --cluster, not both", None,
                         "--scheduler 与 --cluster 只能选一个")
    if scheduler or cluster:
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - a dependency
            raise BatchError("--scheduler", "Dask distributed is not installed", None, "未安装 Dask distributed") from None
        if cluster:
            if cluster != "local":
                raise BatchError("--cluster", f"--cluster {cluster!r}: only 'local' is known (a Dask LocalCluster); "
                                 "for a remote cluster give --scheduler tcp://host:port", None,
                                 f"--cluster {cluster!r}：只支持 'local'；远程集群请用 --scheduler tcp://host:port")
            with local_cluster(workers) as got:
                yield got
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except Exception as e:  # noqa: BLE001 - shown to the user
                raise BatchError("--scheduler", f"cannot reach the Dask scheduler at {scheduler}: {e}", None,
                                 f"无法连接 Dask 调度器 {scheduler}：{e}") from None
            try:
                n = len(client.scheduler_info().get("workers", {}))
                yield client.get_executor(pure=False), f"Dask scheduler {scheduler}, {n} workers"
            finally:
                client.close()
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1:
        yield InlineExecutor(), "in this process"
        return
    import multiprocessing as mp

    with cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
        yield pool, f"process pool, {n} workers"


# ---- the results folder --------------------------------------------------------------------------
def _part(out: Path, table: str, run_id: int) -> Path:
    return out / "parts" / f"{table}-{run_id:06d}.{'json' if table == 'failed' else 'parquet'}"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    write(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _write_json(path: Path, obj) -> None:
    _atomic_write(path, lambda p: p.write_text(json.dumps(obj, indent=1, default=str, ensure_ascii=False),
                                               encoding="utf-8"))


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("loyalty-sim", "mesa", "numpy", "pandas", "pyarrow", "SALib", "dask", "distributed"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _git() -> dict:
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return {"revision": None, "dirty": None}
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
        return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"revision": None, "dirty": None}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Summary:
    """What :func:`run_experiment` did."""

    out: Path
    total: int
    done: int
    failed: int
    skipped: int
    seconds: float
    executor: str
    failures: dict = field(default_factory=dict)


def _prepare(out: Path, exp: Experiment, resume: bool) -> dict | None:
    """Check the output folder: never overwrite; on resume, the same experiment. Returns the old
    manifest when resuming."""
    out = Path(out)
    man = out / "manifest.json"
    if out.exists() and not out.is_dir():
        raise BatchError("--out", f"--out {out}: exists and is not a folder", None, f"--out {out}：已存在且不是文件夹")
    if man.exists():
        try:
            old = json.loads(man.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise BatchError("--out", f"{man}: cannot read the manifest ({e}); nothing was changed", None,
                             f"{man}：无法读取清单（{e}）；未作任何更改") from None
        if not resume:
            raise BatchError("--out", f"--out {out} already holds results; nothing was overwritten. "
                             "Use --resume to finish that experiment, or choose another folder", None,
                             f"--out {out} 已有结果，未覆盖任何内容。使用 --resume 继续该实验，或选择其他文件夹")
        if old.get("fingerprint") != exp.fingerprint():
            raise BatchError("--resume", f"--resume: {out} holds a different experiment ({old.get('name')!r}); "
                             "resume only continues the same experiment with the same settings", None,
                             f"--resume：{out} 中是另一个实验（{old.get('name')!r}）；只能以相同设置继续同一实验")
        return old
    if out.exists() and any(out.iterdir()):
        raise BatchError("--out", f"--out {out}: the folder is not empty and holds no results; nothing was "
                         "overwritten. Choose a new or empty folder", None,
                         f"--out {out}：文件夹非空且不是结果文件夹；未覆盖任何内容。请选择新的或空的文件夹")
    return None  # a fresh start (also when --resume finds nothing to resume)


def _manifest(exp: Experiment, runs: dict, created: str, executor: str) -> dict:
    return {
        "format": FORMAT,
        "name": exp.name,
        "kind": exp.kind,
        "design": exp.design,
        "base": exp.base,
        "source": exp.source,
        "fingerprint": exp.fingerprint(),
        "replicates": exp.replicates,
        "steps": exp.steps,
        "master_seed": exp.seed,
        "seeds": exp.seeds(),
        "seeding": "replicate r of every point uses seeds[r], spawned from SeedSequence(master_seed)",
        "measure": exp.measure,
        "customers": exp.customers,
        "metrics": list(exp.metrics),
        "stop": list(exp.stop) if exp.stop else None,
        "varied": [f.to_dict() for f in exp.factors],
        "problem": exp.problem,
        **({"sobol": {"calc_second_order": exp.options.get("calc_second_order", False),
                      "samples": exp.options.get("samples")}} if exp.design == "sobol" else {}),
        **({"morris": {"num_levels": exp.options.get("num_levels", 4),
                       "samples": exp.options.get("samples")}} if exp.design == "morris" else {}),
        "spec": exp.spec(),
        "points": [{"point": p.point, "label": p.label, "values": _plain(p.values)} for p in exp.points],
        "params": exp.points[0].params.to_dict() if exp.points else {},
        "versions": _versions(),
        "git": _git(),
        "executor": executor,
        "created": created,
        "updated": _now(),
        "runs": [runs[k] for k in sorted(runs)],
    }


def run_experiment(exp: Experiment, out: str | os.PathLike, *, workers: int | None = None,
                   scheduler: str | None = None, cluster: str | None = None, resume: bool = False,
                   progress: Callable[[int, int, int], None] | None = None, csv: bool = False,
                   executor: cf.Executor | None = None) -> Summary:
    """Run every run of ``exp`` not yet in ``out`` and write its parts and manifest.

    ``progress(done, failed, total)`` is called after each run. A run that raises is recorded
    (``parts/failed-*.json`` and the manifest) and the others go on. ``resume=True`` continues a
    folder made by the same experiment; otherwise an existing results folder is an error.
    ``executor``: use this ``concurrent.futures``-style executor (e.g. a Dask client's
    ``get_executor()`` in a notebook) instead of making one from ``workers``/``scheduler``/``cluster``.
    """
    out = Path(out)
    old = _prepare(out, exp, resume)
    (out / "parts").mkdir(parents=True, exist_ok=True)
    for stray in (out / "parts").glob(".tmp-*"):
        stray.unlink(missing_ok=True)
    created = (old or {}).get("created") or _now()
    tasks = exp.tasks()
    runs: dict[int, dict] = {}
    old_runs = {r["run_id"]: r for r in (old or {}).get("runs", [])}
    todo = []
    for t in tasks:
        rec = {"run_id": t.run_id, "point": t.point, "label": t.label, "replicate": t.replicate, "seed": t.seed,
               "status": "pending", "error": None, "started": None, "finished": None, "seconds": None,
               "steps_run": None}
        if _part(out, "market", t.run_id).exists() and _part(out, "merchants", t.run_id).exists():
            prev = old_runs.get(t.run_id, {})
            rec.update({k: prev.get(k) for k in ("started", "finished", "seconds", "steps_run")})
            rec["status"] = "done"
        else:
            todo.append(t)
        runs[t.run_id] = rec
    skipped = len(tasks) - len(todo)
    t_start = time.perf_counter()
    done = failed = 0
    failures: dict[int, str] = {}
    last_write = 0.0
    context = (contextlib.nullcontext((executor, f"given executor ({type(executor).__name__})"))
               if executor is not None else make_executor(workers, scheduler, cluster))
    with context as (pool, desc):
        _write_json(out / "manifest.json", _manifest(exp, runs, created, desc))
        started = _now()
        futures = {}
        for t in todo:
            runs[t.run_id]["started"] = started
            futures[pool.submit(execute_parts, t)] = t
        if progress:
            progress(skipped, 0, len(tasks))
        try:
            for fut in cf.as_completed(futures):
                t = futures.pop(fut)
                rec = runs[t.run_id]
                rec["finished"] = _now()
                try:
                    res: RunParts = fut.result()
                except Exception as e:  # noqa: BLE001 - a failed run is recorded, the sweep goes on
                    msg = f"{type(e).__name__}: {e}"
                    rec.update(status="failed", error=msg)
                    _write_json(_part(out, "failed", t.run_id), {**rec, "traceback": "".join(
                        traceback.format_exception(type(e), e, e.__traceback__))[-4000:]})
                    failures[t.run_id] = msg
                    failed += 1
                else:
                    # market last: a run counts as finished when its market part exists
                    for table in ("customers", "merchants", "market"):
                        if table in res.parts:
                            _atomic_write(_part(out, table, t.run_id),
                                          lambda p, b=res.parts[table]: p.write_bytes(b))
                    _part(out, "failed", t.run_id).unlink(missing_ok=True)
                    rec.update(status="done", seconds=round(res.seconds, 3), steps_run=res.steps_run)
                    done += 1
                if progress:
                    progress(skipped + done, failed, len(tasks))
                if time.perf_counter() - last_write > 2.0:
                    _write_json(out / "manifest.json", _manifest(exp, runs, created, desc))
                    last_write = time.perf_counter()
        finally:
            for f in futures:
                f.cancel()
            _write_json(out / "manifest.json", _manifest(exp, runs, created, desc))
    if csv:
        export_csv(out)
    return Summary(out, len(tasks), skipped + done, failed, skipped, time.perf_counter() - t_start, desc, failures)


@dataclass
class ResultSet:
    """A results folder read back: its manifest and two tidy tables."""

    manifest: dict
    market: pd.DataFrame
    merchants: pd.DataFrame
    customers: pd.DataFrame | None = None

    @property
    def varied(self) -> list[str]:
        return [v["name"] for v in self.manifest.get("varied", [])]


def read_results(out: str | os.PathLike) -> ResultSet:
    """Read ``out``'s manifest and every finished run's parts, sorted by run and step."""
    out = Path(out)
    man = out / "manifest.json"
    if not man.is_file():
        raise BatchError("DIR", f"{out}: no manifest.json here; give a folder written by `loyalty-sim run`, "
                         "`sweep` or `compare`", None, f"{out}：此处没有 manifest.json；请给出由 run、sweep 或 compare 写出的文件夹")
    try:
        manifest = json.loads(man.read_text(encoding="utf-8"))
    except ValueError as e:
        raise BatchError("DIR", f"{man}: not a valid manifest ({e})", None, f"{man}：清单无效（{e}）") from None
    if manifest.get("format") != FORMAT:
        raise BatchError("DIR", f"{man}: unknown results format {manifest.get('format')!r} (expected {FORMAT!r})",
                         None, f"{man}：未知的结果格式 {manifest.get('format')!r}")
    frames = {}
    for table in ("market", "merchants"):
        files = sorted((out / "parts").glob(f"{table}-*.parquet"))
        frames[table] = (pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files
                         else pd.DataFrame(columns=list(_ID_COLS) + ["step"]))
    mk = frames["market"].sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
    mc = frames["merchants"]
    if len(mc):
        mc = mc.sort_values(["run_id", "step", "merchant"], kind="stable").reset_index(drop=True)
    cust_files = sorted((out / "parts").glob("customers-*.parquet"))
    cu = (pd.concat([pd.read_parquet(f) for f in cust_files], ignore_index=True) if cust_files else None)
    return ResultSet(manifest, mk, mc, cu)


def export_csv(out: str | os.PathLike) -> list[Path]:
    """Write ``market.csv`` and ``merchants.csv`` beside the parts: exports derived from the
    Parquet parts, rewritten from them each time (the parts themselves are never touched)."""
    out = Path(out)
    rs = read_results(out)
    paths = []
    for name, df in (("market", rs.market), ("merchants", rs.merchants)):
        p = out / f"{name}.csv"
        _atomic_write(p, lambda q, df=df: df.to_csv(q, index=False))
        paths.append(p)
    return paths

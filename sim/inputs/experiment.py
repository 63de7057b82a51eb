"""Experiment files: a base scenario, fixed values, varied parameters and a design → an
:class:`~sim.runs.design.Experiment`.

``docs/experiments.md`` describes the format for users::

    [experiment]
    scenario = "baseline"        # a name from `loyalty-sim list` or a path to a .toml file
    design = "factorial"         # factorial, lhs, sobol or morris
    replicates = 5
    [set]                        # fixed values over the scenario (keys of sim.inputs.keys)
    n_customers = 500
    [vary]                       # the varied parameters: a list of values, or min/max(/step)
    trust_gain = [0.05, 0.1, 0.2]
    "A.price" = { min = 0.8, max = 1.4, step = 0.2 }

Every failure is a :class:`~sim.runs.design.BatchError` naming the file, the key, the line when it
can be found (:mod:`sim.inputs.toml_lines`) and what is allowed, in English and Chinese.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..metrics import METRICS
from ..metrics import bounds as metric_bounds
from ..params import MAX_STEPS, ParamError, Params
from ..runs.design import (DESIGNS, MAX_RUNS, MEASURES, BatchError, Experiment, Factor, Point, count_runs,
                           grid_rows, point_label, sample_rows, whole_values)
from .files import read_input
from .hints import did_you_mean
from .keys import check_once, resolve_key, same_parameter, set_values
from .scenario import Scenario, ScenarioError, ScenarioParser, load_scenario
from .toml_lines import TomlLines

__all__ = ["MAX_EXPERIMENT_BYTES", "EXPERIMENT_KEYS", "Where", "load_experiment", "parse_experiment", "read_toml",
           "base_scenario", "check_values"]

MAX_EXPERIMENT_BYTES = 256 * 1024


class Where:
    """The file's text and name, to put the line of a key into an error."""

    def __init__(self, source: str, text: str | None):
        self.source, self.text, self._lines = source, text, None

    def line(self, *path) -> int | None:
        if not self.text or not path:
            return None
        if self._lines is None:
            self._lines = TomlLines(self.text)
        return self._lines.find(*path)

    def error(self, key: str, en: str, zh: str, table: str | None = None, line: int | None = None) -> BatchError:
        """A :class:`BatchError` at ``key`` (``experiment.steps``, ``vary.A.price``, ``vary``) in ``table``."""
        if line is None:
            rest = key[len(table) + 1:] if table and key.startswith(table + ".") else key
            line = self.line(*((table, rest) if table else (key,)))
        return BatchError(key, en, self.source, zh, line)

    def info(self, data: Mapping, whose: tuple[str, str]) -> dict[str, dict[str, str]]:
        """The file's ``[info]`` notes, checked as a scenario's are (each section a pair of non-empty
        English and Chinese texts, no unknown section)."""
        try:
            return ScenarioParser(self.source, TomlLines(self.text) if self.text else None).info(data.get("info"), whose)
        except ScenarioError as e:
            raise BatchError(e.key, e.message, self.source, e.message_zh, e.line) from None

    def param(self, key: str, params, table: str, seen: dict | None = None, seen_in: dict | None = None):
        """The declaration a key of ``[table]`` names (the one resolver), or an error at its line.
        With ``seen`` (``{parameter: key}``, and ``seen_in``: ``{key: table}``), a key naming a
        parameter already named — under this or another name, in this table or another — is an error."""
        where = (f" in [{table}]", f"（位于 [{table}]）")
        try:
            pk = resolve_key(key, params, where=where)
            if seen is not None:
                first = (seen_in or {}).get(seen.get(same_parameter(pk)), table)
                check_once(pk, seen, where=where, first_where=(f" in [{first}]", f"（位于 [{first}]）"))
                if seen_in is not None:
                    seen_in[key] = table
            return pk.param
        except ParamError as e:
            raise self.error(f"{table}.{key}", e.message, e.message_zh, table=table) from None

    def bounds(self, p, v: dict, key: str, table: str, name: str) -> tuple:
        """``v["min"]`` and ``v["max"]`` of a range in ``[table]``, each valid for declaration ``p`` and
        min below max, or an error at the key's line."""
        try:
            lo = p.validate(v["min"], key=f"{key}.min")
            hi = p.validate(v["max"], key=f"{key}.max")
        except ParamError as e:
            raise BatchError(e.key, e.message, self.source, e.message_zh, self.line(table, name)) from None
        if not lo < hi:
            raise self.error(key, f"'{key}': min = {lo} must be below max = {hi}",
                             f"'{key}'：min = {lo} 必须小于 max = {hi}", table=table)
        return lo, hi

    def check_top(self, data: dict, tables: dict, main: str, main_keys, example: str, arrays=()) -> dict:
        """The top level of a file of tables: every table known (``tables``: name → what it holds;
        ``arrays``: those written as arrays of tables, ``[[name]]``), the ``main`` table present and
        its keys known. Returns the main table; raises a :class:`BatchError` at the first problem."""
        for k, v in data.items():
            if k not in tables:
                hint, hint_zh = did_you_mean(k, tables)
                raise self.error(k, f"unknown table [{k}]{hint}: allowed " + ", ".join(f"[{t}] ({d})" for t, d in tables.items()),
                                 f"未知的表 [{k}]{hint_zh}：允许 " + "、".join(f"[{t}]" for t in tables))
            if k not in arrays and not isinstance(v, dict):
                raise self.error(k, f"'{k}' must be a table ([{k}]), not a single value",
                                 f"'{k}' 必须是表（[{k}]），而不是单个值")
        top = data.get(main)
        if top is None:
            raise self.error(main, f"missing table [{main}] (it names at least the base scenario: {example})",
                             f"缺少 [{main}] 表（至少要写出基础情景：{example}）")
        for k in top:
            if k not in main_keys:
                hint, hint_zh = did_you_mean(k, main_keys)
                raise self.error(f"{main}.{k}", f"unknown key '{main}.{k}'{hint} (allowed: {', '.join(main_keys)})",
                                 f"未知的键 '{main}.{k}'{hint_zh}（允许：{', '.join(main_keys)}）", table=main)
        return top


EXPERIMENT_KEYS = {
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
EXPERIMENT_KEYS_ZH = {
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
    if not p.exists():
        raise BatchError("", f"experiment file not found: {src}", src, f"找不到实验文件：{src}")
    raw = read_input(p, MAX_EXPERIMENT_BYTES, BatchError, src)
    return parse_experiment(raw, src, base_dir=p.parent)


def parse_experiment(text: str | bytes, source: str = "<text>", base_dir: str | os.PathLike | None = None) -> Experiment:
    """Parse and validate an experiment from its TOML text (``bytes`` are decoded as UTF-8);
    ``source`` names it in errors, ``base_dir`` is where a relative scenario path is looked up."""
    data, text = read_toml(text, source)
    return _experiment_from_dict(data, source, text, Path(base_dir) if base_dir else None)


def read_toml(text: str | bytes, source: str, limit: int = MAX_EXPERIMENT_BYTES) -> tuple[dict, str]:
    """The TOML document of an input file's ``text`` (``bytes`` decoded as UTF-8) and its text; a
    :class:`BatchError` naming ``source`` for a file over ``limit`` bytes, not UTF-8 or not TOML."""
    if isinstance(text, bytes):
        if len(text) > limit:
            raise BatchError("", f"file is {len(text):,} bytes: allowed at most {limit:,}", source,
                             f"文件有 {len(text):,} 字节：最多允许 {limit:,} 字节")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BatchError("", f"file is not UTF-8 text (byte {e.start})", source,
                             f"文件不是 UTF-8 文本（第 {e.start} 字节）") from None
    if len(text) > limit:
        raise BatchError("", f"file is too large: allowed at most {limit:,} bytes", source,
                         f"文件过大：最多允许 {limit:,} 字节")
    if text.startswith("\ufeff"):  # a byte-order mark (some editors save UTF-8 with one), as for scenarios
        text = text[1:]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"line (\d+)", msg)
        raise BatchError("", f"not valid TOML: {msg}", source, f"不是有效的 TOML：{msg}",
                         int(m.group(1)) if m else None) from None
    return data, text


def _experiment_from_dict(data: dict, source: str, text: str | None, base_dir: Path | None) -> Experiment:
    at = Where(source, text)

    def fail(key, en, zh, table=None, line=None):
        raise at.error(key, en, zh, table, line)

    ex = at.check_top(data, _TABLES, "experiment", EXPERIMENT_KEYS, 'scenario = "baseline"')
    at.info(data, ("experiment", "实验"))

    def get(key, kind, default, lo=None, hi=None, choices=None):
        if key not in ex:
            return default
        v = ex[key]
        where = f"experiment.{key}"
        rng = f"{lo} … {hi}" if lo is not None else ""
        if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
            fail(where, f"'{where}' = {v!r} must be a whole number ({rng}): {EXPERIMENT_KEYS[key]}",
                 f"'{where}' = {v!r} 必须是整数（{rng}）：{EXPERIMENT_KEYS_ZH[key]}", table="experiment")
        if kind is str and not isinstance(v, str):
            fail(where, f"'{where}' = {v!r} must be text: {EXPERIMENT_KEYS[key]}",
                 f"'{where}' = {v!r} 必须是文本：{EXPERIMENT_KEYS_ZH[key]}", table="experiment")
        if kind is bool and not isinstance(v, bool):
            fail(where, f"'{where}' = {v!r} must be true or false: {EXPERIMENT_KEYS[key]}",
                 f"'{where}' = {v!r} 必须是 true 或 false：{EXPERIMENT_KEYS_ZH[key]}", table="experiment")
        if lo is not None and not (lo <= v <= hi):
            fail(where, f"'{where}' = {v} is out of range: allowed {lo} … {hi} ({EXPERIMENT_KEYS[key]})",
                 f"'{where}' = {v} 超出范围：允许 {lo} … {hi}（{EXPERIMENT_KEYS_ZH[key]}）", table="experiment")
        if choices and v not in choices:
            fail(where, f"'{where}' = {v!r} is not allowed: choose one of {', '.join(choices)}",
                 f"'{where}' = {v!r} 不允许：请从 {', '.join(choices)} 中选择", table="experiment")
        return v

    name = get("name", str, "")
    scen_ref = get("scenario", str, None)
    if scen_ref is None:
        fail("experiment.scenario", "missing 'experiment.scenario': " + EXPERIMENT_KEYS["scenario"],
             "缺少 'experiment.scenario'：" + EXPERIMENT_KEYS_ZH["scenario"], table="experiment")
    design = get("design", str, "factorial", choices=DESIGNS)
    replicates = get("replicates", int, 1, 1, 10_000)
    steps_given = "steps" in ex
    steps = get("steps", int, 104, 1, MAX_STEPS)
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
                hint, hint_zh = did_you_mean(m, METRICS)
                fail("experiment.metrics", f"unknown observable '{m}' in 'experiment.metrics'{hint} "
                     "(`loyalty-sim params --metrics` lists them)",
                     f"'experiment.metrics' 中的观测量 '{m}' 未知{hint_zh}（`loyalty-sim params --metrics` 可列出全部）",
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
        lo_b, hi_b = metric_bounds(st["metric"])
        if (op == "above" and val >= hi_b) or (op == "below" and val <= lo_b):
            edge, edge_zh = (f"at most {hi_b:g}", f"最大为 {hi_b:g}") if op == "above" else \
                (f"at least {lo_b:g}", f"最小为 {lo_b:g}")
            allowed = f"above < {hi_b:g}" if op == "above" else f"below > {lo_b:g}"
            op_zh = "高于" if op == "above" else "低于"
            fail("experiment.stop", f"'experiment.stop': {op} = {val:g} never stops a run: '{st['metric']}' is {edge} "
                 f"(it lies in {lo_b:g} … {hi_b:g}), so every run would go its full length; allowed: {allowed}",
                 f"'experiment.stop'：{op} = {val:g} 永远不会提前结束运行：'{st['metric']}' {edge_zh}"
                 f"（取值范围 {lo_b:g} … {hi_b:g}），每次运行都会跑满全部步数；允许：{allowed}（{op_zh}该值时停止）",
                 table="experiment")

    # the base scenario
    sc = base_scenario(scen_ref, base_dir, at, ("experiment", "scenario"))
    if not steps_given:
        steps = sc.steps
    base = sc.params

    # fixed values
    fixed = data.get("set", {})
    seen: dict = {}  # every parameter named in [set] and [vary], once
    seen_in: dict = {}
    if isinstance(fixed, Mapping):
        for k in fixed:
            at.param(k, base, "set", seen, seen_in)
    try:
        check_values(fixed, base, "set")
        base = set_values(base, fixed)
    except ParamError as e:
        raise BatchError(e.key, e.message, source, e.message_zh,
                         at.line("set", e.key[4:] if e.key.startswith("set.") else e.key)) from None

    # factors
    vary = data.get("vary", {})
    factors = []
    for k, v in vary.items():
        key = f"vary.{k}"
        p = at.param(k, base, "vary", seen, seen_in)
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
                    raise BatchError(key, e.message, source, e.message_zh, at.line("vary", k)) from None
            twice = [x for i, x in enumerate(vals) if x in vals[:i]]
            if twice:
                fail(key, f"'{key}' lists {twice[0]!r} more than once: each value is one configuration, list it once "
                     "(more replicates: experiment.replicates)",
                     f"'{key}' 多次列出 {twice[0]!r}：每个取值是一个配置，只列一次（更多重复请用 experiment.replicates）",
                     table="vary")
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
            lo, hi = at.bounds(p, v, key, "vary", k)
            if design == "factorial":
                if "step" not in v:
                    fail(key, f"'{key}': a factorial design needs a step ({{ min = {lo}, max = {hi}, step = … }}) "
                         "or a list of values", f"'{key}'：全因子设计需要 step 或取值列表", table="vary")
                st = v["step"]
                if isinstance(st, bool) or not isinstance(st, (int, float)) or not st > 0 or not math.isfinite(st):
                    fail(key, f"'{key}.step' = {st!r} must be a number > 0", f"'{key}.step' = {st!r} 必须是大于 0 的数",
                         table="vary")
                ratio = (hi - lo) / st + 1e-9
                if not math.isfinite(ratio) or ratio > 10_000:
                    fail(key, f"'{key}': min = {lo}, max = {hi} and step = {st} give more than 10000 values: allowed at "
                         "most 10000; use a larger step", f"'{key}'：min = {lo}、max = {hi}、step = {st} 得到的取值超过 10000 个："
                         "最多允许 10000 个；请用更大的 step", table="vary")
                if ratio < 1:
                    fail(key, f"'{key}.step' = {st} is larger than max − min = {hi - lo:g}: only min would be tried; "
                         "use a smaller step", f"'{key}.step' = {st} 大于 max − min = {hi - lo:g}：只会尝试 min；请用更小的 step",
                         table="vary")
                if p.kind == "int" and st != int(st):
                    fail(key, f"'{key}.step' = {st}: '{k}' is a whole number, so the step must be whole too",
                         f"'{key}.step' = {st}：'{k}' 是整数，step 也必须是整数", table="vary")
                n = int(math.floor(ratio)) + 1
                vals = [lo + i * st for i in range(n)]
                vals = [int(round(x)) if p.kind == "int" else round(float(x), 12) for x in vals]
                factors.append(Factor(k, tuple(dict.fromkeys(vals)), integer=p.kind == "int"))
            else:
                if "step" in v:
                    fail(key, f"'{key}': step is for factorial designs; {design} samples between min and max",
                         f"'{key}'：step 仅用于全因子设计；{design} 在 min 与 max 之间抽样", table="vary")
                f = Factor(k, None, float(lo), float(hi), integer=p.kind == "int", multiple=p.multiple)
                if f.integer and len(whole_values(f)) < 2:
                    what, what_zh = (("even values", "个偶数") if p.multiple == 2 else
                                     (f"multiples of {p.multiple}", f"个 {p.multiple} 的倍数") if p.multiple > 1 else
                                     ("whole values", "个整数"))
                    fail(key, f"'{key}': '{k}' is a whole number and min = {lo}, max = {hi} hold "
                         f"{len(whole_values(f))} of its allowed {what} ({p.range_text()}): every point would take the same "
                         f"value; widen the bounds to hold at least two, or fix it in [set]",
                         f"'{key}'：'{k}' 是整数，min = {lo}、max = {hi} 之间只有 {len(whole_values(f))}{what_zh}"
                         f"（允许 {p.range_text_zh()}）：所有点都会取同一个值；请放宽上下限使其至少包含两个，或在 [set] 中固定它",
                         table="vary")
                factors.append(f)
        else:
            fail(key, f"'{key}' = {v!r} must be a list of values or {{ min = …, max = … }} (allowed {rng_text})",
                 f"'{key}' = {v!r} 必须是取值列表或 {{ min = …, max = … }}（允许 {p.range_text_zh()}）", table="vary")
    if not factors:
        fail("vary", "[vary] names no parameter: an experiment varies at least one (e.g. price_sensitivity = [0.2, 0.5])",
             "[vary] 没有列出参数：实验至少要改变一个参数（例如 price_sensitivity = [0.2, 0.5]）", table=None)
    if design != "factorial":
        if samples is None:
            fail("experiment.samples", f"the {design} design needs 'experiment.samples': {EXPERIMENT_KEYS['samples']}",
                 f"{design} 设计需要 'experiment.samples'：{EXPERIMENT_KEYS_ZH['samples']}", table="experiment")
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
             line=at.line("experiment"))

    _check_events(factors, base, sc, steps, fail)

    problem = None
    options: dict[str, Any] = {}
    if design == "factorial":
        rows = grid_rows(factors)
    else:
        rows, problem, options = sample_rows(design, factors, samples, seed, num_levels, second_order)

    points = []
    for i, vals in enumerate(rows):
        try:
            params = set_values(base, vals)
        except ParamError as e:
            raise BatchError(e.key, f"point {i} ({point_label(vals)}): {e.message}", source, e.message_zh,
                             at.line("vary", e.key)) from None
        points.append(Point(i, point_label(vals), params, tuple(sc.events), vals))
    title = name or (Path(source).stem if source and source != "<text>" else "experiment")
    return Experiment(title, "sweep", design, tuple(points), replicates, steps, seed, measure, tuple(metrics), stop,
                      tuple(factors), problem, options, base=sc.name, source=source)


def _check_events(factors, base: Params, sc: Scenario, steps: int, fail) -> None:
    """A varied parameter that a scheduled event of the base scenario sets during the runs is an
    error: from the event on, every point would run with the event's value while the tables record
    the varied one, so summaries and indices would credit the varied value with what the event did."""
    for f in factors:
        pk = resolve_key(f.name, base)
        whose = "market" if pk.is_market else pk.merchant_name
        for e in sorted(sc.events, key=lambda e: e.step):
            if e.step >= steps or e.target != whose or pk.field not in (e.changes or {}):
                continue
            scen = sc.source or sc.name
            fail(f"vary.{f.name}", f"'vary.{f.name}': the base scenario '{sc.name}' ({scen}) has a scheduled event at "
                 f"step {e.step} that sets {pk.field} = {e.changes[pk.field]!r} for {whose}, within the {steps} steps of "
                 "each run: from then on every point would run with that value while the tables record the varied one. "
                 f"Allowed: steps ≤ {e.step} (the runs end before the event), a base scenario without that event, or "
                 "another parameter to vary",
                 f"'vary.{f.name}'：基础情景 '{sc.name}'（{scen}）在第 {e.step} 步有一个预定事件，把 {whose} 的 {pk.field} "
                 f"设为 {e.changes[pk.field]!r}，这发生在每次运行的 {steps} 步之内：此后所有点都以该值运行，而表格记录的仍是变化的取值。"
                 f"允许：steps ≤ {e.step}（运行在事件之前结束）、使用没有该事件的基础情景，或改变其他参数",
                 table="vary")


def base_scenario(ref: str, base_dir: Path | None, at: Where, path: tuple = ("experiment", "scenario")) -> Scenario:
    """The base scenario ``ref`` (a name, or a path looked up first beside the input file in
    ``base_dir``); a :class:`BatchError` at the key ``path`` (``("experiment", "scenario")``) if it fails."""
    cand = (base_dir / ref) if base_dir is not None and (ref.endswith(".toml") or "/" in ref) else None
    key = ".".join(path)
    try:
        return load_scenario(cand if cand is not None and cand.exists() else ref)
    except ParamError as e:
        raise BatchError(key, f"'{key}' = {ref!r}: {e}", at.source, f"'{key}' = {ref!r}：{e.text('zh')}",
                         at.line(*path)) from None


def check_values(values: Mapping, base: Params, table: str) -> None:
    """Every key of ``[table]`` names a parameter of the market ``base`` and its value is allowed."""
    if not isinstance(values, Mapping):
        raise BatchError(table, f"[{table}] must be a table of name = value", None, f"[{table}] 必须是“名称 = 值”的表")
    for k, v in values.items():
        key = f"{table}.{k}"
        try:
            p = resolve_key(k, base, where=(f" in [{table}]", f"（位于 [{table}]）")).param
        except ParamError as e:
            raise BatchError(key, e.message, None, e.message_zh) from None
        p.validate(v, key=key)

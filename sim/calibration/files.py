"""Calibration files: a base scenario, fixed values, free parameters with bounds, targets and a
budget → a :class:`~sim.calibration.spec.Calibration`.

``docs/experiments.md`` ("Calibration") describes the format for users::

    [calibration]
    scenario = "baseline"        # a name from `loyalty-sim list` or a path to a .toml file
    trials = 40                  # the budget (--trials changes it)
    replicates = 3               # runs per trial, each with its own seed
    steps = 104
    seed = 1                     # master seed
    [set]                        # fixed values over the scenario (keys of sim.inputs.keys)
    n_customers = 1000
    [free]                       # the free parameters: bounds within their declared ranges
    trust_gain = { min = 0.02, max = 0.3 }
    "A.price" = { min = 0.8, max = 1.4, log = true }
    [[targets]]                  # observables of the scenario, their target and tolerance
    metric = "loyal_share"
    at = "end"                   # or "mean_last_13"
    target = 0.45
    tolerance = 0.03
    [[targets]]                  # or a check of a validation fact (`loyalty-sim validate`)
    fact = "F6"
    check = "calib_minor_silent"
    target = 0.37
    tolerance = 0.10
    [[targets]]                  # a bound: side = "at_least" counts only falling short of it
    fact = "F9"
    check = "ratio"
    target = 3.0
    tolerance = 0.2
    side = "at_least"            # or "at_most"; "both" (the default) counts both sides

A target with ``metric`` is an observable, one with ``fact`` and ``check`` a validation target
(:mod:`sim.calibration.facts`: the trial's values reach the fact's markets except the keys the
fact's file sets itself); both or neither is an error.

Every failure is a :class:`~sim.runs.design.BatchError` naming the file, the key, the line when it
can be found and what is allowed, in English and Chinese — the same machinery as experiment files
(:mod:`sim.inputs.experiment`: :class:`~sim.inputs.experiment.Where`, ``read_toml``,
``base_scenario``, ``check_values``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping

from ..inputs.experiment import MAX_EXPERIMENT_BYTES, Where, base_scenario, check_values, read_toml
from ..inputs.files import read_input
from ..inputs.hints import did_you_mean
from ..inputs.keys import set_values
from ..metrics import MERCHANT_METRICS, METRICS
from ..params import MAX_STEPS, ParamError
from ..runs.design import BatchError
from ..validation import load_markets
from ..validation.facts import fact as fact_by_id
from .facts import FACT_IDS, check_keys, fact_values
from .spec import AT, SIDES, Calibration, FreeParam, Target

__all__ = ["CALIBRATION_KEYS", "TARGET_KEYS", "load_calibration", "parse_calibration"]

MAX_CALIBRATION_BYTES = 256 * 1024

CALIBRATION_KEYS = {
    "name": ("a title for the calibration", "校准名称"),
    "scenario": ("the base scenario: a name from `loyalty-sim list` or a path to a .toml file",
                 "基础情景：`loyalty-sim list` 中的名称或 .toml 文件路径"),
    "trials": ("the budget: number of trials (1 … 100000)", "预算：试验次数（1 … 100000）"),
    "replicates": ("runs per trial, each with its own seed (1 … 1000)", "每次试验的运行次数，各有自己的种子（1 … 1000）"),
    "steps": ("steps per run (1 … 100000)", "每次运行的步数（1 … 100000）"),
    "seed": ("master seed every seed is spawned from (0 … 2^63−1)", "派生所有种子的主种子（0 … 2^63−1）"),
    "check": ("fresh seeds the best set is re-run on for the report (2 … 1000)",
              "报告中用于重新运行最佳参数的新种子数（2 … 1000）"),
}
TARGET_KEYS = {
    "metric": ("an observable (`loyalty-sim params --metrics`)", "观测量（`loyalty-sim params --metrics`）"),
    "fact": ("a validation fact's id (F1 … F14, `loyalty-sim validate`), with 'check'",
             "验证事实的编号（F1 … F14，`loyalty-sim validate`），与 'check' 一起使用"),
    "check": ("the key of one of the fact's checks (e.g. calib_minor_silent for F6)",
              "该事实的一项检验的键（例如 F6 的 calib_minor_silent）"),
    "at": ("\"end\" (last step) or \"mean_last_13\" (mean of the last 13 steps)",
           "\"end\"（最后一步）或 \"mean_last_13\"（最后 13 步的均值）"),
    "merchant": ("a merchant's name, for a per-merchant observable", "商家名称（用于商家层面的观测量）"),
    "target": ("the value to reach", "目标值"),
    "tolerance": ("how far from the target counts as one unit of misfit (> 0)", "偏离目标多少计为一个单位的误差（> 0）"),
    "weight": ("the target's weight in the objective (≥ 0, default 1)", "该目标在目标函数中的权重（≥ 0，默认 1）"),
    "side": ("which misses count: \"both\" (default), \"at_least\" (only falling short of the target: a lower "
             "bound) or \"at_most\" (only going over it)",
             "哪一侧的偏离计为误差：\"both\"（默认，两侧）、\"at_least\"（只计低于目标的部分：下限）或 "
             "\"at_most\"（只计高于目标的部分：上限）"),
}
_TABLES = {"calibration": "what to fit", "set": "fixed values over the scenario", "free": "free parameters",
           "targets": "targets ([[targets]])", "info": "notes (title, summary in en/zh)"}
_INTS = {"trials": (8, 1, 100_000), "replicates": (3, 1, 1000), "steps": (None, 1, MAX_STEPS),
         "seed": (0, 0, 2**63 - 1), "check": (10, 2, 1000)}


def load_calibration(path: str | os.PathLike) -> Calibration:
    """Read and validate a calibration file; errors are :class:`BatchError` naming file, key, line."""
    p = Path(path)
    src = str(path)
    if not p.exists():
        raise BatchError("", f"calibration file not found: {src}", src, f"找不到校准文件：{src}")
    return parse_calibration(read_input(p, MAX_EXPERIMENT_BYTES, BatchError, src), src, base_dir=p.parent)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_calibration(text: str | bytes, source: str = "<text>", base_dir: str | os.PathLike | None = None
                      ) -> Calibration:
    """Parse and validate a calibration from its TOML text; ``source`` names it in errors,
    ``base_dir`` is where a relative scenario path is looked up."""
    data, text = read_toml(text, source, MAX_CALIBRATION_BYTES)
    at = Where(source, text)

    def fail(key, en, zh, table=None, line=None):
        raise at.error(key, en, zh, table, line)

    cal = at.check_top(data, _TABLES, "calibration", CALIBRATION_KEYS, 'scenario = "baseline"', arrays=("targets",))
    info = at.info(data, ("calibration", "校准"))
    ints = {}
    for k, (default, lo, hi) in _INTS.items():
        v = cal.get(k, default)
        en, zh = CALIBRATION_KEYS[k]
        if k in cal and (isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi):
            fail(f"calibration.{k}", f"'calibration.{k}' = {v!r}: allowed a whole number {lo} … {hi} ({en})",
                 f"'calibration.{k}' = {v!r}：允许 {lo} … {hi} 的整数（{zh}）", table="calibration")
        ints[k] = v
    for k in ("name", "scenario"):
        if k in cal and not isinstance(cal[k], str):
            fail(f"calibration.{k}", f"'calibration.{k}' = {cal[k]!r} must be text: {CALIBRATION_KEYS[k][0]}",
                 f"'calibration.{k}' = {cal[k]!r} 必须是文本：{CALIBRATION_KEYS[k][1]}", table="calibration")
    if "scenario" not in cal:
        fail("calibration.scenario", "missing 'calibration.scenario': " + CALIBRATION_KEYS["scenario"][0],
             "缺少 'calibration.scenario'：" + CALIBRATION_KEYS["scenario"][1], table="calibration")
    sc = base_scenario(cal["scenario"], Path(base_dir) if base_dir else None, at, ("calibration", "scenario"))
    fixed = data.get("set", {})
    seen: dict = {}  # every parameter named in [set] and [free], once (as experiment files: [set] and [vary])
    seen_in: dict = {}
    if isinstance(fixed, Mapping):
        for k in fixed:
            at.param(k, sc.params, "set", seen, seen_in)
    try:
        check_values(fixed, sc.params, "set")
        base = set_values(sc.params, fixed)
    except ParamError as e:
        raise BatchError(e.key, e.message, source, e.message_zh,
                         at.line("set", e.key[4:] if e.key.startswith("set.") else e.key)) from None
    free = _free(data.get("free", {}), base, at, fail, seen, seen_in)
    targets = _targets(data.get("targets"), base, at)
    _check_reach(free, targets, at)
    name = cal.get("name") or (Path(source).stem if source and source != "<text>" else "calibration")
    return Calibration(name, sc.name, base, tuple(sc.events), dict(fixed), free, targets, ints["trials"],
                       ints["replicates"], ints["steps"] or sc.steps, ints["seed"], ints["check"], source,
                       info, sc)


def _free(table: dict, base, at: Where, fail, seen: dict, seen_in: dict) -> tuple[FreeParam, ...]:
    """The free parameters; one named twice (``A.price`` and ``merchants[0].price``), or fixed in
    ``[set]`` as well, is an error (``seen``, ``seen_in``: :meth:`Where.param`)."""
    out = []
    for k, v in table.items():
        key = f"free.{k}"
        p = at.param(k, base, "free", seen, seen_in)
        if p.kind not in ("float", "int"):
            fail(key, f"'{key}' is a choice ({', '.join(p.choices)}): only numbers can be calibrated",
                 f"'{key}' 是选项参数（{', '.join(p.choices)}）：只能校准数值参数", table="free")
        if not isinstance(v, dict) or not {"min", "max"} <= set(v) or set(v) - {"min", "max", "log"}:
            fail(key, f"'{key}' must be {{ min = …, max = …[, log = true] }} within {p.range_text()}",
                 f"'{key}' 必须写成 {{ min = …, max = …[, log = true] }}，且在 {p.range_text_zh()} 之内", table="free")
        lo, hi = at.bounds(p, v, key, "free", k)
        log = v.get("log", False)
        if not isinstance(log, bool):
            fail(key, f"'{key}.log' = {log!r} must be true or false", f"'{key}.log' = {log!r} 必须是 true 或 false",
                 table="free")
        if log and lo <= 0:
            fail(key, f"'{key}': a log scale needs min > 0 (min = {lo})", f"'{key}'：对数尺度需要 min > 0（min = {lo}）",
                 table="free")
        m = p.multiple  # (network_degree: even values only)
        if m > 1:
            if log:
                fail(key, f"'{key}' takes multiples of {m} only, which a log scale cannot draw: drop log = true",
                     f"'{key}' 只能取 {m} 的倍数，对数尺度无法抽取：请去掉 log = true", table="free")
            lo, hi = math.ceil(lo / m) * m, math.floor(hi / m) * m
            if lo > hi:
                fail(key, f"'{key}' takes multiples of {m} only: none lies between min and max",
                     f"'{key}' 只能取 {m} 的倍数：min 与 max 之间没有这样的值", table="free")
        out.append(FreeParam(k, float(lo), float(hi), log, p.kind == "int", m))
    if not out:
        fail("free", "[free] names no parameter: a calibration fits at least one "
             "(e.g. trust_gain = { min = 0.02, max = 0.3 })",
             "[free] 没有列出参数：校准至少要拟合一个参数（例如 trust_gain = { min = 0.02, max = 0.3 }）")
    return tuple(out)


def _targets(ts, base, at: Where) -> tuple[Target, ...]:
    def fail(key, en, zh, line=None):
        raise at.error(key, en, zh, None, line if line is not None else at.line("targets"))

    if ts is None or ts == []:
        fail("targets", "no [[targets]]: a calibration needs at least one (metric = \"loyal_share\", target = …, "
             "tolerance = …)", "没有 [[targets]]：校准至少需要一个目标（metric = \"loyal_share\"、target = …、tolerance = …）")
    if not isinstance(ts, list) or not all(isinstance(t, dict) for t in ts):
        fail("targets", "'targets' must be tables written [[targets]]", "'targets' 必须是以 [[targets]] 写出的表")
    names = [m.name for m in base.merchants]
    out = []
    for i, t in enumerate(ts):
        where = f"targets[{i}]"
        for k in t:
            if k not in TARGET_KEYS:
                hint, hint_zh = did_you_mean(k, TARGET_KEYS)
                fail(f"{where}.{k}", f"unknown key '{k}' in {where}{hint} (allowed: {', '.join(TARGET_KEYS)})",
                     f"{where} 中有未知的键 '{k}'{hint_zh}（允许：{', '.join(TARGET_KEYS)}）",
                     line=at.line("targets", i, k))
        validation = "fact" in t or "check" in t
        if validation and "metric" in t:
            fail(f"{where}.metric", f"{where} has both 'metric' and 'fact'/'check': a target is either an observable "
                 "(metric = …) or a check of a validation fact (fact = \"F6\", check = …), not both",
                 f"{where} 同时有 'metric' 与 'fact'/'check'：目标要么是观测量（metric = …），要么是验证事实的一项检验"
                 "（fact = \"F6\"、check = …），不能两者兼有", line=at.line("targets", i))
        if not validation and "metric" not in t:
            fail(f"{where}.metric", f"{where} has neither 'metric' nor 'fact' and 'check': a target is an observable "
                 "(metric = \"loyal_share\") or a check of a validation fact (fact = \"F6\", check = "
                 "\"calib_minor_silent\")", f"{where} 既没有 'metric' 也没有 'fact' 与 'check'：目标是观测量"
                 "（metric = \"loyal_share\"）或验证事实的一项检验（fact = \"F6\"、check = \"calib_minor_silent\"）",
                 line=at.line("targets", i))
        required = ("fact", "check", "target", "tolerance") if validation else ("metric", "target", "tolerance")
        for k in required:
            if k not in t:
                fail(f"{where}.{k}", f"{where} lacks '{k}': {TARGET_KEYS[k][0]}",
                     f"{where} 缺少 '{k}'：{TARGET_KEYS[k][1]}", line=at.line("targets", i))
        if validation:
            out.append(_validation_target(t, where, i, _numbers(t, where, i, fail, at), _side(t, where, i, fail, at),
                                          fail, at))
            continue
        merchant = t.get("merchant")
        if merchant is not None and (not isinstance(merchant, str) or merchant not in names):
            hint, hint_zh = did_you_mean(merchant, names)
            fail(f"{where}.merchant", f"{where}.merchant: no merchant named {merchant!r}{hint} (merchants: {', '.join(names)})",
                 f"{where}.merchant：没有名为 {merchant!r} 的商家{hint_zh}（商家：{', '.join(names)}）", line=at.line("targets", i, "merchant"))
        table = MERCHANT_METRICS if merchant is not None else METRICS
        metric = t["metric"]
        if not isinstance(metric, str) or metric not in table:
            hint, hint_zh = did_you_mean(metric, table)
            what, what_zh = (("a per-merchant observable", "商家层面的观测量") if merchant is not None
                             else ("a market observable", "市场观测量"))
            fail(f"{where}.metric", f"{where}.metric = {metric!r} is not {what}{hint} (`loyalty-sim params --metrics` lists "
                 "them)", f"{where}.metric = {metric!r} 不是{what_zh}{hint_zh}（`loyalty-sim params --metrics` 可列出全部）",
                 line=at.line("targets", i, "metric"))
        when = t.get("at", "end")
        if not isinstance(when, str) or when not in AT:
            fail(f"{where}.at", f"{where}.at = {when!r}: allowed {', '.join(AT)}",
                 f"{where}.at = {when!r}：允许 {', '.join(AT)}", line=at.line("targets", i, "at"))
        nums = _numbers(t, where, i, fail, at)
        out.append(Target(metric, nums["target"], nums["tolerance"], when, merchant, nums["weight"],
                          side=_side(t, where, i, fail, at)))
    labels = [t.label for t in out]
    dup = next((x for x in labels if labels.count(x) > 1), None)
    if dup:
        fail("targets", f"the target {dup} is written twice", f"目标 {dup} 重复出现")
    if all(t.weight == 0 for t in out):
        keys = ", ".join(f"targets[{i}].weight" for i in range(len(out)))
        fail("targets[0].weight" if len(out) == 1 else "targets",
             f"every target has weight 0 ({keys}): the objective would be 0 for every trial and could not tell them "
             "apart; allowed: weight ≥ 0, with at least one target's weight > 0 (default 1)",
             f"所有目标的权重都是 0（{keys}）：每次试验的目标函数都为 0，无法区分试验优劣；允许：weight ≥ 0，"
             "且至少一个目标的权重 > 0（默认 1）", line=at.line("targets", 0, "weight"))
    return tuple(out)


def _check_reach(free: tuple[FreeParam, ...], targets: tuple[Target, ...], at: Where) -> None:
    """With validation targets only, every free parameter must reach a market of one of their facts
    (a key a fact's file sets is its design and stays: fitting it there would change nothing)."""
    if any(t.kind == "observable" for t in targets):
        return
    fids = list(dict.fromkeys(t.fact for t in targets))
    markets = {fid: load_markets(fact_by_id(fid)) for fid in fids}
    for f in free:
        if any(fact_values(fid, sc.params, {f.key: f.lo}) for fid in fids for sc in markets[fid]):
            continue
        facts = ", ".join(fids)
        raise at.error(f"free.{f.key}", f"'free.{f.key}' reaches no target: the targets are checks of {facts}, whose "
                       f"file sets '{f.key}' itself (the fact's design, which a calibration leaves as it is) or has no "
                       "such merchant; free another parameter, or add an observable target of the base scenario",
                       f"'free.{f.key}' 影响不到任何目标：目标都是 {facts} 的检验，而该事实的文件自己设定了 '{f.key}'"
                       "（属于事实的实验设计，校准不改动它）或没有这个商家；请改为拟合其他参数，或加入基础情景的观测量目标",
                       table="free")


def _numbers(t: dict, where: str, i: int, fail, at: Where) -> dict[str, float]:
    """A target's ``target``, ``tolerance`` (> 0) and ``weight`` (≥ 0, default 1)."""
    nums = {}
    for k, lo_ok in (("target", None), ("tolerance", "positive"), ("weight", "non-negative")):
        v = t.get(k, 1.0)
        ok = _number(v) and (lo_ok is None or (v > 0 if lo_ok == "positive" else v >= 0))
        if not ok:
            rule, rule_zh = {None: ("a finite number", "有限数值"), "positive": ("a number > 0", "大于 0 的数"),
                             "non-negative": ("a number ≥ 0", "不小于 0 的数")}[lo_ok]
            fail(f"{where}.{k}", f"{where}.{k} = {v!r} must be {rule}: {TARGET_KEYS[k][0]}",
                 f"{where}.{k} = {v!r} 必须是{rule_zh}：{TARGET_KEYS[k][1]}", line=at.line("targets", i, k))
        nums[k] = float(v)
    _check_scale(nums, where, i, fail, at)
    return nums


#: the most units of misfit a target's own size may make, max(|target|, 1) / tolerance: squared and
#: weighted it stays far from overflowing a float (≈ 1.8e308), summed over any number of targets
MAX_MISFIT_SCALE = 1e150
MAX_TERM = 1e300


def _check_scale(nums: dict, where: str, i: int, fail, at: Where) -> None:
    """A target whose misfit ((achieved − target) / tolerance)², times its weight, would overflow to
    infinity for every trial (a tolerance too small for the target, a target too large for the
    tolerance, a weight too large): the objective could not rank the trials."""
    target, tol, weight = nums["target"], nums["tolerance"], nums["weight"]
    size = max(abs(target), 1.0)
    scale = size / tol  # a float division gives inf rather than raising
    if not scale <= MAX_MISFIT_SCALE:
        least = size / MAX_MISFIT_SCALE
        fail(f"{where}.tolerance", f"{where}.tolerance = {tol!r} is too small for target = {target!r}: (achieved − "
             "target) / tolerance, squared, would overflow and make the objective infinite for every trial; allowed: "
             f"tolerance ≥ max(|target|, 1) / {MAX_MISFIT_SCALE:.0e} = {least:.3g}",
             f"{where}.tolerance = {tol!r} 相对于 target = {target!r} 过小：(实际值 − 目标值) / 容差的平方会溢出，"
             f"使每次试验的目标函数都为无穷大；允许：tolerance ≥ max(|target|, 1) / {MAX_MISFIT_SCALE:.0e} = {least:.3g}",
             line=at.line("targets", i, "tolerance"))
    if not weight * scale * scale <= MAX_TERM:
        most = MAX_TERM / (scale * scale)
        fail(f"{where}.weight", f"{where}.weight = {weight!r} is too large for tolerance = {tol!r} and target = "
             f"{target!r}: the weighted misfit would overflow and make the objective infinite for every trial; allowed: "
             f"0 ≤ weight ≤ {most:.3g}",
             f"{where}.weight = {weight!r} 相对于 tolerance = {tol!r} 与 target = {target!r} 过大：加权误差会溢出，"
             f"使每次试验的目标函数都为无穷大；允许：0 ≤ weight ≤ {most:.3g}", line=at.line("targets", i, "weight"))


def _side(t: dict, where: str, i: int, fail, at: Where) -> str:
    """A target's ``side``: ``both`` (default), ``at_least`` or ``at_most`` (:data:`SIDES`)."""
    side = t.get("side", "both")
    if not isinstance(side, str) or side not in SIDES:
        hint, hint_zh = did_you_mean(side, SIDES)
        fail(f"{where}.side", f"{where}.side = {side!r}{hint}: allowed {', '.join(SIDES)} ({TARGET_KEYS['side'][0]})",
             f"{where}.side = {side!r}{hint_zh}：允许 {', '.join(SIDES)}（{TARGET_KEYS['side'][1]}）",
             line=at.line("targets", i, "side"))
    return side


def _validation_target(t: dict, where: str, i: int, nums: dict, side: str, fail, at: Where) -> Target:
    """``fact = "F6"``, ``check = "calib_minor_silent"``: a known fact, one of its check keys."""
    for k in ("at", "merchant"):
        if k in t:
            fail(f"{where}.{k}", f"{where}.{k}: '{k}' belongs to an observable (metric = …), not to a check of a "
                 "validation fact (allowed with fact: check, target, tolerance, weight, side)",
                 f"{where}.{k}：'{k}' 用于观测量（metric = …），不用于验证事实的检验（与 fact 一起允许：check、target、"
                 "tolerance、weight、side）", line=at.line("targets", i, k))
    fid = t["fact"]
    if not isinstance(fid, str) or fid not in FACT_IDS:
        hint, hint_zh = did_you_mean(fid, FACT_IDS)
        fail(f"{where}.fact", f"{where}.fact = {fid!r} is not a validation fact{hint} (known: {', '.join(FACT_IDS)})",
             f"{where}.fact = {fid!r} 不是验证事实{hint_zh}（已知：{', '.join(FACT_IDS)}）",
             line=at.line("targets", i, "fact"))
    key = t["check"]
    keys = check_keys(fid)
    if not isinstance(key, str) or key not in keys:
        hint, hint_zh = did_you_mean(key, keys)
        fail(f"{where}.check", f"{where}.check = {key!r} is not a check of {fid}{hint} ({fid}'s checks: "
             f"{', '.join(keys)})", f"{where}.check = {key!r} 不是 {fid} 的检验{hint_zh}（{fid} 的检验：{', '.join(keys)}）",
             line=at.line("targets", i, "check"))
    return Target.validation(fid, key, nums["target"], nums["tolerance"], nums["weight"], side)

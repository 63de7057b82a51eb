'''Named scenarios: a market described in a small TOML file, loaded and validated.

A scenario file sets some parameters over the defaults, may replace the merchants, may schedule
changes during the run (events), and explains itself in English and Chinese. The files shipped
with the project live in ``scenarios/`` (:data:`SCENARIO_DIR`; the environment variable
``LOYALTY_SIM_SCENARIOS`` points elsewhere). ``docs/scenarios.md`` describes the format for users.

File format (every table is optional; an empty file is the default market)::

    [info]                       # what the scenario is about, in both languages
    title   = { en = "Baseline: a competitive market", zh = "基准：竞争市场" }
    summary = { en = "one line", zh = "一句话" }
    what    = { en = "what it shows", zh = "……" }     # also: how, notice, try
    # (long texts read better as sub-tables with multi-line strings:)
    # [info.what]
    # en = """..."""
    # zh = """..."""

    [run]
    steps = 104                  # default run length (1 … 100000; default 104)
    seed = 1                     # default seed (0 … 2^63 − 1; default: none, i.e. 0)

    [params]                     # any market-wide parameter of sim.params.PARAMS
    n_customers = 2000

    [[merchants]]                # when present, the list REPLACES the default three merchants
    name = "A"                   # any merchant parameter of sim.params.MERCHANT_PARAMS
    quality = 0.8

    [[events]]                   # changes scheduled before the run starts
    step = 52                    # applied once this many steps have run (0 = before the first)
    target = "market"            # "market" (market-wide parameters) or a merchant's name
    set = { procedural_cost = 0.0 }
    note = { en = "...", zh = "..." }   # optional; shown with the intervention

Validation is strict and every failure is a :class:`ScenarioError` (a :class:`~sim.params.ParamError`)
that names the file, the key (``params.trust_gain``, ``merchants[1].price``,
``events[0].set.price``, ``info.title.zh``), the line when it can be found, and the allowed range or
values, in English and Chinese (``err.text("zh")``)::

    scenarios/x.toml, line 12: parameter 'params.trust_gain' = 2 is out of range: allowed 0 … 1 (…)

The module is a little over 600 lines because the whole format is checked in one parser
(:class:`ScenarioParser`) whose every message names the file, key, line and allowed values in two
languages; overrides (the CLI's ``--set key=value``) live in :mod:`sim.inputs.overrides`; where a key is
written in the file comes from :mod:`sim.inputs.toml_lines`, "did you mean" from :mod:`sim.inputs.hints`.
'''

from __future__ import annotations

import datetime as _dt
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import tomli_w

from ..model import STRUCTURAL
from ..params import (MAX_STEPS, MERCHANT_PARAMS, PARAMS, POLICY_FIELDS, MerchantParams, Param, ParamError, Params,
                      default_merchants)
from ..simulate import Results, ScheduledChange, simulate
from ..words import LANGS
from .files import read_input
from .hints import did_you_mean
from .toml_lines import TomlLines, path_key

__all__ = [
    "SCENARIO_DIR", "MAX_BYTES", "INFO_SECTIONS", "INFO_LABELS", "DEFAULT_STEPS", "RUN_PARAMS", "ScenarioError",
    "Scenario", "ScenarioParser", "scenario_names", "list_scenarios", "load_scenario", "parse_scenario",
    "event_table", "scenario_to_toml",
]

SCENARIO_DIR: Path = Path(os.environ.get("LOYALTY_SIM_SCENARIOS") or
                          Path(__file__).resolve().parents[2] / "scenarios")
MAX_BYTES = 256 * 1024

#: sections of [info], in the order they are shown
INFO_SECTIONS: tuple[str, ...] = ("title", "summary", "what", "how", "notice", "try")
INFO_LABELS: dict[str, tuple[str, str]] = {
    "title": ("Title", "标题"),
    "summary": ("Summary", "摘要"),
    "what": ("What it shows", "展示什么"),
    "how": ("How to use it", "如何使用"),
    "notice": ("Things to notice", "值得注意"),
    "try": ("Things to try", "可以尝试"),
}
TABLES: tuple[str, ...] = ("info", "run", "params", "merchants", "events")
EVENT_KEYS: tuple[str, ...] = ("step", "target", "set", "note")
DEFAULT_STEPS = 104

RUN_PARAMS: dict[str, Param] = {
    "steps": Param("steps", DEFAULT_STEPS, 1, MAX_STEPS, "steps", "Steps", "步数",
                   "default number of steps a run of this scenario lasts", "该情景默认运行的期数", "market", "int"),
    "seed": Param("seed", 0, 0, 2**63 - 1, "", "Seed", "随机种子",
                  "default random seed of a run of this scenario", "该情景默认的随机种子", "market", "int"),
}
_EVENT_STEP = Param("step", 0, 0, 1_000_000, "steps", "Event step", "事件步",
                    "steps run before the change is applied (0 = before the first step)",
                    "变更生效前已运行的期数（0 表示第一期之前）", "market", "int")


# =================================================================================================
# The error
# =================================================================================================
class ScenarioError(ParamError):
    """A scenario file (or an override) that cannot be used.

    ``key`` is the offending key (``params.trust_gain``, ``merchants[1].price``, …), ``source`` the
    file (or ``--set ITEM``), ``line`` the line in the file when it could be found (else ``None``).
    ``str(e)`` is the English message with file and line; ``e.text("zh")`` the Chinese one.
    """

    def __init__(self, key: str, message: str, source: str | None = None, message_zh: str | None = None,
                 line: int | None = None):
        super().__init__(key, message, source, message_zh)
        self.line = line
        self.args = (self.text("en"),)

    def _where(self, lang: str) -> str:
        if not self.source:
            return f"line {self.line}: " if self.line and lang != "zh" else (f"第 {self.line} 行：" if self.line else "")
        if self.line:
            return f"{self.source}, line {self.line}: " if lang != "zh" else f"{self.source}，第 {self.line} 行："
        return f"{self.source}: " if lang != "zh" else f"{self.source}："

    def text(self, lang: str = "en") -> str:
        """The message in English (``"en"``) or Chinese (``"zh"``), with the file and line."""
        return self._where(lang) + (self.message_zh if lang == "zh" else self.message)

    def __str__(self) -> str:
        return self.text("en")


# =================================================================================================
# The scenario
# =================================================================================================
@dataclass(frozen=True)
class Scenario:
    """A validated scenario: parameters, scheduled events, texts and default run settings."""

    name: str
    source: str
    params: Params
    events: tuple[ScheduledChange, ...] = ()
    info: dict[str, dict[str, str]] = field(default_factory=dict)
    steps: int = DEFAULT_STEPS
    seed: int | None = None
    values: dict = field(default_factory=dict)

    def text(self, section: str, lang: str = "en") -> str:
        """One [info] section in ``lang`` ("en" or "zh"; anything else gives English). A missing
        title is the scenario's name; other missing sections are empty."""
        if section not in INFO_SECTIONS:
            raise KeyError(f"unknown info section {section!r} (sections: {', '.join(INFO_SECTIONS)})")
        texts = self.info.get(section)
        if not texts:
            return self.name if section == "title" else ""
        return texts.get("zh" if lang == "zh" else "en", "")

    def run(self, seed: int | None = None, steps: int | None = None, **kw) -> Results:
        """Simulate this scenario: its parameters and events, from ``seed`` (default: the file's
        seed, else 0) for ``steps`` steps (default: the file's). ``kw`` goes to :func:`simulate`."""
        return simulate(self.params, seed if seed is not None else (self.seed if self.seed is not None else 0),
                        steps if steps is not None else self.steps, events=self.events, **kw)


# =================================================================================================
# Describing values in messages
# =================================================================================================
def _kind(v: Any) -> tuple[str, str]:
    if isinstance(v, bool):
        return "true/false", "布尔值"
    if isinstance(v, int):
        return "a whole number", "整数"
    if isinstance(v, float):
        return "a number", "数值"
    if isinstance(v, str):
        return "a text", "文本"
    if isinstance(v, (list, tuple)):
        return "an array", "数组"
    if isinstance(v, Mapping):
        return "a table", "表"
    if isinstance(v, (_dt.date, _dt.time, _dt.datetime)):
        return "a date/time", "日期时间"
    return type(v).__name__, type(v).__name__


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _list(xs: Iterable[str]) -> str:
    return ", ".join(str(x) for x in xs)


# =================================================================================================
# Parsing
# =================================================================================================
class ScenarioParser:
    """Validates one parsed TOML document; knows the file name and where its keys are (a
    :class:`~sim.inputs.toml_lines.TomlLines`, or ``None`` for values that come from no file, such as
    ``--set`` overrides). :meth:`build` turns a document into a :class:`Scenario`; the other methods
    check one piece each and raise :class:`ScenarioError` naming the key, line and allowed values."""

    def __init__(self, source: str, lines: TomlLines | None, strict_int: bool = True):
        self.source = source
        self.lines = lines
        self.strict_int = strict_int  # a TOML float (2000.0) is not a whole number

    def fail(self, path: tuple, en: str, zh: str, key: str | None = None):
        line = self.lines.find(*path) if self.lines is not None and path else None
        raise ScenarioError(key if key is not None else path_key(path), en, self.source, zh, line)

    def rethrow(self, e: ParamError, path: tuple):
        line = self.lines.find(*path) if self.lines is not None and path else None
        raise ScenarioError(e.key or path_key(path), e.message, self.source, e.message_zh, line) from None

    # ---- pieces -------------------------------------------------------------------------------
    def table(self, doc: Mapping, name: str, kind: str = "table") -> Any:
        v = doc.get(name)
        if v is None:
            return None
        if kind == "table" and not isinstance(v, Mapping):
            k, kz = _kind(v)
            self.fail((name,), f"'{name}' must be a table [{name}] of name = value lines, not {k}",
                      f"'{name}' 必须是一个表 [{name}]（每行“名称 = 值”），而不是{kz}")
        if kind == "array" and not (isinstance(v, list) and all(isinstance(x, Mapping) for x in v)):
            k, kz = _kind(v)
            self.fail((name,), f"'{name}' must be an array of tables, each starting with [[{name}]], not {k}",
                      f"'{name}' 必须是表的数组，每个以 [[{name}]] 开头，而不是{kz}")
        return v

    def value(self, p: Param, v: Any, key: str, path: tuple):
        """One value checked against its declaration (TOML floats are not whole numbers)."""
        if p.kind == "int" and isinstance(v, float) and (self.strict_int or not v.is_integer()):
            self.fail(path, f"parameter '{key}' = {_short(v)} must be a whole number in {p.range_text()}, "
                            f"written without a decimal point ({p.help_en})",
                      f"参数 '{key}' = {_short(v)} 必须是 {p.range_text_zh()} 之间的整数，不带小数点"
                      f"（{p.label_zh}：{p.help_zh}）", key)
        if isinstance(v, bool) and p.kind in ("int", "float"):
            self.fail(path, f"parameter '{key}' = {str(v).lower()} must be "
                            f"{'a whole number' if p.kind == 'int' else 'a number'} in {p.range_text()}, not true/false "
                            f"({p.help_en})",
                      f"参数 '{key}' = {str(v).lower()} 必须是 {p.range_text_zh()} 之间的"
                      f"{'整数' if p.kind == 'int' else '数值'}，而不是布尔值（{p.label_zh}：{p.help_zh}）", key)
        if isinstance(v, (list, Mapping, _dt.date, _dt.time)):
            k, kz = _kind(v)
            what = f"one of {', '.join(repr(c) for c in p.choices)}" if p.kind == "choice" else (
                "a text" if p.kind == "str" else f"a number in {p.range_text()}")
            what_zh = p.range_text_zh() if p.kind in ("choice", "str") else f"{p.range_text_zh()} 之间的数值"
            self.fail(path, f"parameter '{key}' must be {what}, not {k} ({p.help_en})",
                      f"参数 '{key}' 必须是{what_zh}，而不是{kz}（{p.label_zh}：{p.help_zh}）", key)
        try:
            return p.validate(v, key=key)
        except ParamError as e:
            self.rethrow(e, path)
        except OverflowError:
            self.fail(path, f"parameter '{key}' = {_short(v)} is out of range: allowed {p.range_text()} ({p.help_en})",
                      f"参数 '{key}' = {_short(v)} 超出范围：允许 {p.range_text_zh()}（{p.label_zh}：{p.help_zh}）", key)

    def unknown(self, path: tuple, key: str, allowed: Iterable[str], where_en: str, where_zh: str,
                extra_en: str = "", extra_zh: str = ""):
        allowed = list(allowed)
        h, hz = did_you_mean(key, allowed) if not extra_en else ("", "")
        shown = _list(allowed) if len(allowed) <= 12 else _list(allowed[:12]) + ", …"
        self.fail(path, f"unknown key '{path_key(path)}' in {where_en}{h}{extra_en} (allowed: {shown})",
                  f"{where_zh}中有未知的键 '{path_key(path)}'{hz}{extra_zh}（允许：{shown}）")

    def texts(self, v: Any, path: tuple, what_en: str, what_zh: str) -> dict[str, str]:
        """A pair of texts ``{ en = "...", zh = "..." }``."""
        key = path_key(path)
        if not isinstance(v, Mapping):
            k, kz = _kind(v)
            self.fail(path, f"'{key}' must be a table with an English and a Chinese text, "
                            f"{{ en = \"...\", zh = \"...\" }} ({what_en}), not {k}",
                      f"'{key}' 必须是包含英文和中文文本的表 {{ en = \"...\", zh = \"...\" }}（{what_zh}），而不是{kz}")
        for lang in v:
            if lang not in LANGS:
                self.unknown(path + (lang,), lang, LANGS, f"'{key}'", f"'{key}' ")
        out = {}
        for lang, name_en, name_zh in (("en", "English", "英文"), ("zh", "Chinese", "中文")):
            t = v.get(lang)
            if t is None:
                self.fail(path + (lang,), f"'{key}' has no {name_en} text: add {lang} = \"...\" ({what_en})",
                          f"'{key}' 缺少{name_zh}文本：请添加 {lang} = \"...\"（{what_zh}）")
            if not isinstance(t, str) or not t.strip():
                k, kz = _kind(t)
                self.fail(path + (lang,), f"'{key}.{lang}' must be a non-empty text, not "
                                          f"{'an empty text' if isinstance(t, str) else k}",
                          f"'{key}.{lang}' 必须是非空文本，而不是{'空文本' if isinstance(t, str) else kz}")
            out[lang] = t.strip()
        return out

    # ---- the document -------------------------------------------------------------------------
    def build(self, doc: Mapping, name: str) -> Scenario:
        for k in doc:
            if k not in TABLES:
                extra_en = extra_zh = ""
                if k in PARAMS:
                    extra_en, extra_zh = (f"; market parameters such as '{k}' go in the [params] table",
                                          f"；'{k}' 等市场参数应写在 [params] 表中")
                elif k in ("market", "param", "parameters", "settings"):
                    extra_en, extra_zh = ("; market parameters go in the [params] table", "；市场参数应写在 [params] 表中")
                self.unknown((k,), k, TABLES, "the file", "文件", extra_en, extra_zh)
        info = self.info(self.table(doc, "info"))
        steps, seed = self.run(self.table(doc, "run"))
        market = self.params(self.table(doc, "params"))
        merchants = self.merchants(self.table(doc, "merchants", "array"))
        params = self.assemble(market, merchants)
        events = self.events(self.table(doc, "events", "array"), params)
        values: dict[str, Any] = dict(market)
        if merchants is not None:
            values["merchants"] = [dict(m) for m in merchants]
        return Scenario(name=name, source=self.source, params=params, events=events, info=info, steps=steps,
                        seed=seed, values=values)

    def info(self, t: Mapping | None, whose: tuple[str, str] = ("scenario", "情景")) -> dict[str, dict[str, str]]:
        """The ``[info]`` notes (the sections of :data:`INFO_SECTIONS`, each in English and Chinese)
        of a scenario, or of another input file (``whose``: ``("experiment", "实验")`` …)."""
        if t is not None and not isinstance(t, Mapping):
            self.table({"info": t}, "info")  # (says it must be a table)
        out: dict[str, dict[str, str]] = {}
        for sec, v in (t or {}).items():
            if sec not in INFO_SECTIONS:
                self.unknown(("info", sec), sec, INFO_SECTIONS, "[info]", "[info] ")
            out[sec] = self.texts(v, ("info", sec), f"the {whose[0]}'s {INFO_LABELS[sec][0].lower()}",
                                  f"{whose[1]}的{INFO_LABELS[sec][1]}")
        return {sec: out[sec] for sec in INFO_SECTIONS if sec in out}

    def run(self, t: Mapping | None) -> tuple[int, int | None]:
        t = t or {}
        for k in t:
            if k not in RUN_PARAMS:
                self.unknown(("run", k), k, RUN_PARAMS, "[run]", "[run] ")
        steps = self.value(RUN_PARAMS["steps"], t["steps"], "run.steps", ("run", "steps")) if "steps" in t else DEFAULT_STEPS
        seed = self.value(RUN_PARAMS["seed"], t["seed"], "run.seed", ("run", "seed")) if "seed" in t else None
        return steps, seed

    def params(self, t: Mapping | None) -> dict[str, Any]:
        out = {}
        for k, v in (t or {}).items():
            if k == "merchants":
                self.fail(("params", k), "merchants are not a market parameter: list them as [[merchants]] tables",
                          "商家不是市场参数：请用 [[merchants]] 表逐个列出")
            if k not in PARAMS:
                extra = ("", "")
                if k in MERCHANT_PARAMS:
                    extra = (f"; '{k}' is a merchant parameter: set it in a [[merchants]] table",
                             f"；'{k}' 是商家参数：请在 [[merchants]] 表中设置")
                self.unknown(("params", k), k, PARAMS, "[params]", "[params] ", *extra)
            out[k] = self.value(PARAMS[k], v, f"params.{k}", ("params", k))
        return out

    def merchant(self, t: Mapping, i: int, keys: Iterable[str] = MERCHANT_PARAMS) -> dict[str, Any]:
        out = {}
        keys = list(keys)
        for k, v in t.items():
            path = ("merchants", i, k)
            if k not in keys:
                extra = ("", "")
                if k in PARAMS:
                    extra = (f"; '{k}' is a market parameter: set it in [params]", f"；'{k}' 是市场参数：请在 [params] 中设置")
                self.unknown(path, k, keys, f"merchants[{i}]", f"merchants[{i}] ", *extra)
            out[k] = self.value(MERCHANT_PARAMS[k], v, f"merchants[{i}].{k}", path)
        return out

    def merchants(self, ts: list | None) -> list[dict[str, Any]] | None:
        if ts is None:
            return None
        if not ts:
            self.fail(("merchants",), "'merchants' must list at least one merchant (allowed 1 … 50)",
                      "'merchants' 至少要列出一个商家（允许 1 … 50 个）")
        if len(ts) > 50:
            self.fail(("merchants",), f"'merchants' lists {len(ts)} merchants: allowed 1 … 50",
                      f"'merchants' 列出了 {len(ts)} 个商家：允许 1 … 50 个")
        out, seen = [], {}
        for i, t in enumerate(ts):
            m = self.merchant(t, i)
            name = m.setdefault("name", chr(ord("A") + i) if i < 26 else f"M{i + 1}")
            if name == "market":
                self.fail(("merchants", i, "name"), f"merchants[{i}].name = 'market' is reserved for market-wide "
                                                    "events: choose another name",
                          f"merchants[{i}].name = 'market' 保留给市场范围的事件使用：请换一个名称")
            if name in seen:
                self.fail(("merchants", i, "name"), f"merchants[{i}].name = {name!r} repeats merchants[{seen[name]}]"
                                                    ": merchant names must be unique",
                          f"merchants[{i}].name = {name!r} 与 merchants[{seen[name]}] 重复：商家名称不能重复")
            seen[name] = i
            out.append(m)
        return out

    def assemble(self, market: dict, merchants: list | None) -> Params:
        try:
            ms = tuple(MerchantParams(**m) for m in merchants) if merchants is not None else default_merchants()
            return Params(**market, merchants=ms)
        except ParamError as e:
            key = e.key.split(".")[0].split("[")[0]
            if key == "merchants" or key not in PARAMS:
                self.rethrow(e, ("merchants",))
            # a rule between two parameters: point at the one the file sets
            related = [key] + _RELATED.get(key, [])
            at = next((k for k in related if k in market), key)
            self.rethrow(ParamError(f"params.{key}", e.message, None, e.message_zh), ("params", at))

    def events(self, ts: list | None, params: Params) -> tuple[ScheduledChange, ...]:
        if not ts:
            return ()
        names = [m.name for m in params.merchants]
        out = []
        for i, t in enumerate(ts):
            base = ("events", i)
            for k in t:
                if k not in EVENT_KEYS:
                    self.unknown(base + (k,), k, EVENT_KEYS, f"events[{i}]", f"events[{i}] ")
            for k in ("step", "target", "set"):
                if k not in t:
                    self.fail(base, f"events[{i}] has no '{k}': every event needs step, target and set",
                              f"events[{i}] 缺少 '{k}'：每个事件都需要 step、target 和 set", f"events[{i}].{k}")
            step = self.value(_EVENT_STEP, t["step"], f"events[{i}].step", base + ("step",))
            target = t["target"]
            targets = ["market"] + names
            if not isinstance(target, str) or target not in targets:
                h, hz = did_you_mean(str(target), targets)
                self.fail(base + ("target",), f"events[{i}].target = {_short(target)} is not 'market' or a merchant's "
                                              f"name{h} (allowed: {_list(repr(x) for x in targets)})",
                          f"events[{i}].target = {_short(target)} 既不是 'market' 也不是商家名称{hz}"
                          f"（允许：{_list(repr(x) for x in targets)}）")
            changes = t["set"]
            if not isinstance(changes, Mapping) or not changes:
                k, kz = _kind(changes)
                self.fail(base + ("set",), f"events[{i}].set must be a table of the parameters to change, "
                                           f"e.g. set = {{ price = 1.2 }}, not {'an empty table' if isinstance(changes, Mapping) else k}",
                          f"events[{i}].set 必须是要修改的参数表，例如 set = {{ price = 1.2 }}，而不是"
                          f"{'空表' if isinstance(changes, Mapping) else kz}")
            clean = {}
            for k, v in changes.items():
                path, key = base + ("set", k), f"events[{i}].set.{k}"
                if target == "market":
                    if k in STRUCTURAL:
                        self.fail(path, f"{key}: '{k}' shapes the market itself and cannot change during a run "
                                        f"(fixed once it starts: {_list(STRUCTURAL)}); set it in [params]",
                                  f"{key}：'{k}' 决定市场结构，运行中不能修改（开始后固定：{_list(STRUCTURAL)}）；"
                                  "请在 [params] 中设置", key)
                    if k not in PARAMS:
                        extra = ((f"; '{k}' is a merchant parameter: use target = a merchant's name",
                                  f"；'{k}' 是商家参数：请将 target 设为商家名称") if k in MERCHANT_PARAMS else ("", ""))
                        self.unknown(path, k, [p for p in PARAMS if p not in STRUCTURAL],
                                     f"events[{i}].set (market)", f"events[{i}].set（市场）", *extra)
                    clean[k] = self.value(PARAMS[k], v, key, path)
                else:
                    if k not in POLICY_FIELDS:
                        extra = (("; a merchant's name cannot change during a run", "；商家名称在运行中不能修改")
                                 if k == "name" else
                                 (f"; '{k}' is a market parameter: use target = \"market\"",
                                  f"；'{k}' 是市场参数：请使用 target = \"market\"") if k in PARAMS else ("", ""))
                        self.unknown(path, k, POLICY_FIELDS, f"events[{i}].set (merchant {target})",
                                     f"events[{i}].set（商家 {target}）", *extra)
                    clean[k] = self.value(MERCHANT_PARAMS[k], v, key, path)
            note = {"en": "", "zh": ""}
            if "note" in t:
                note = self.texts(t["note"], base + ("note",), "what the event means", "事件的含义")
            out.append((step, i, ScheduledChange(step, target, clean, note["en"], note["zh"])))
        # the parameters must stay valid as the events apply, in the order simulate applies them
        p = params
        for step, i, ev in sorted(out, key=lambda x: (x[0], x[1])):
            try:
                if ev.target == "market":
                    p = p.replace(**ev.changes)
                else:
                    ms = tuple(m.replace(**ev.changes) if m.name == ev.target else m for m in p.merchants)
                    p = p.replace(merchants=ms)
            except ParamError as e:
                k = e.key if e.key in ev.changes else next(iter(ev.changes))
                self.rethrow(ParamError(f"events[{i}].set.{k}", f"events[{i}] (step {step}): {e.message}", None,
                                        f"events[{i}]（第 {step} 步）：{e.message_zh}"), ("events", i, "set", k))
        return tuple(ev for _, _, ev in out)


#: parameters tied by a rule of Params (see sim.params._MarketBase)
_RELATED = {"loyalty_threshold": ["trust_threshold"], "loyalty_exit": ["loyalty_threshold"],
            "network_degree": ["n_customers"]}


def _too_large(n: int, source: str):
    raise ScenarioError("", f"the file is {n:,} bytes: scenario files may be at most {MAX_BYTES:,} bytes "
                            f"({MAX_BYTES // 1024} KB)", source,
                        f"文件大小为 {n:,} 字节：情景文件最多 {MAX_BYTES:,} 字节（{MAX_BYTES // 1024} KB）")


def _decode(data: bytes, source: str) -> str:
    if len(data) > MAX_BYTES:
        _too_large(len(data), source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ScenarioError("", f"the file is not UTF-8 text (byte {e.start}: {data[e.start:e.start + 1]!r}); "
                                "save it as UTF-8", source,
                            f"文件不是 UTF-8 文本（第 {e.start} 个字节：{data[e.start:e.start + 1]!r}）；请以 UTF-8 编码保存",
                            line) from None
    return text


_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_EOF = re.compile(r"\s*\(at end of document\)\s*$")


def _loads(text: str, source: str) -> tuple[dict, TomlLines]:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ScenarioError("", "the file contains a NUL character: it is not a text file", source,
                            "文件包含 NUL 字符：不是文本文件", line)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        line = None
        m = _TOML_AT.search(msg)
        if m:
            line, msg = int(m.group(1)), msg[: m.start()]
        elif _TOML_EOF.search(msg):
            line, msg = text.count("\n") + (0 if text.endswith("\n") else 1), _TOML_EOF.sub("", msg)
        raise ScenarioError("", f"TOML syntax error: {msg} (see https://toml.io for the syntax)", source,
                            f"TOML 语法错误：{msg}（语法见 https://toml.io）", line) from None
    except RecursionError:
        raise ScenarioError("", "TOML syntax error: values are nested too deeply", source,
                            "TOML 语法错误：值的嵌套层数过多") from None
    return doc, TomlLines(text)


def _stem(source: str) -> str:
    if source.startswith("<"):
        return "scenario"
    stem = Path(source).stem
    return stem or "scenario"


def parse_scenario(text: str | bytes, source: str = "<text>", name: str | None = None) -> Scenario:
    """Parse and validate a scenario from its TOML text (``bytes`` are decoded as UTF-8).

    ``source`` names it in error messages; ``name`` defaults to the file stem of ``source``.
    Raises :class:`ScenarioError`.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = _decode(bytes(text), source)
    elif not isinstance(text, str):
        raise ScenarioError("", f"a scenario must be TOML text, not {type(text).__name__}", source,
                            f"情景必须是 TOML 文本，而不是 {type(text).__name__}")
    elif len(text) > MAX_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        _too_large(len(text.encode("utf-8", "surrogatepass")), source)
    doc, lines = _loads(text, source)
    return ScenarioParser(source, lines).build(doc, name or _stem(source))


# =================================================================================================
# Finding and loading
# =================================================================================================
def _dir() -> Path:
    env = os.environ.get("LOYALTY_SIM_SCENARIOS")
    return Path(env) if env else SCENARIO_DIR


def scenario_names() -> list[str]:
    """Names (file stems) of the scenarios in :data:`SCENARIO_DIR`, sorted."""
    d = _dir()
    return sorted(p.stem for p in d.glob("*.toml") if p.is_file()) if d.is_dir() else []


def list_scenarios() -> list[Scenario]:
    """Every scenario in :data:`SCENARIO_DIR`, loaded and validated, sorted by name."""
    return [load_scenario(n) for n in scenario_names()]


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def load_scenario(name_or_path: str | os.PathLike) -> Scenario:
    """Load a scenario by name (a stem in :func:`scenario_names`) or from a path to a ``.toml``
    file. Raises :class:`ScenarioError` (unknown names list the known ones)."""
    if isinstance(name_or_path, os.PathLike):
        path, source = Path(name_or_path), os.fspath(name_or_path)
    elif isinstance(name_or_path, str):
        s = name_or_path.strip()
        is_path = s.endswith(".toml") or "/" in s or os.sep in s or (os.altsep and os.altsep in s)
        if is_path:
            path, source = Path(s), s
        else:
            names = scenario_names()
            if s not in names:
                h, hz = did_you_mean(s, names, cutoff=0.5)
                known = _list(names) if names else "none found"
                raise ScenarioError("scenario", f"unknown scenario '{s}'{h} (known scenarios: {known}; "
                                                "or give a path to a .toml file)", None,
                                    f"未知情景 '{s}'{hz}（已有情景：{_list(names) if names else '无'}；"
                                    "也可以给出 .toml 文件的路径）")
            path = _dir() / f"{s}.toml"
            source = _display(path)
    else:
        raise ScenarioError("scenario", f"a scenario is given by name or path, not {type(name_or_path).__name__}",
                            None, f"情景应以名称或路径给出，而不是 {type(name_or_path).__name__}")
    try:
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            _too_large(path.stat().st_size, source)
    except OSError:
        pass  # read_input says what is wrong
    data = read_input(path, MAX_BYTES, ScenarioError, source)
    return parse_scenario(data, source=source, name=path.stem)


# =================================================================================================
# Writing
# =================================================================================================
def event_table(e: ScheduledChange) -> dict[str, Any]:
    """A scheduled change as its ``[[events]]`` table (``step``, ``target``, ``set``, ``note``)."""
    d: dict[str, Any] = {"step": int(e.step), "target": e.target, "set": dict(e.changes)}
    if e.note_en or e.note_zh:
        d["note"] = {"en": e.note_en or e.note_zh, "zh": e.note_zh or e.note_en}
    return d


def scenario_to_toml(sc: Scenario) -> str:
    """The scenario as a TOML file (``parse_scenario`` of it gives the same parameters, events, run
    settings and texts). Used to download the settings of a run."""
    doc: dict[str, Any] = {}
    if sc.info:
        doc["info"] = {sec: dict(sc.info[sec]) for sec in INFO_SECTIONS if sec in sc.info}
    doc["run"] = {"steps": int(sc.steps)} | ({"seed": int(sc.seed)} if sc.seed is not None else {})
    market = {k: v for k, v in sc.values.items() if k != "merchants"}
    if market:
        doc["params"] = market
    if "merchants" in sc.values:
        doc["merchants"] = [dict(m) for m in sc.values["merchants"]]
    if sc.events:
        doc["events"] = [event_table(e) for e in sc.events]
    head = (f"# loyalty-sim scenario '{sc.name}' (from {sc.source})\n"
            "# Load it with sim.inputs.scenario.load_scenario(path) or: loyalty-sim run FILE.toml --out DIR\n"
            "# The format is described in docs/scenarios.md.\n\n")
    return head + tomli_w.dumps(doc, multiline_strings=True)

"""What the Compare and Sweep pages compute, without any widget: testable on its own.

- :func:`param_choices`, :func:`declaration`, :func:`parse_edit` — the parameters a user can
  change (market-wide ones, and each merchant's as ``A.price``), read and validated from typed text
  with :meth:`sim.params.Param.validate` (messages in English and Chinese).
- :class:`Config`, :func:`build_compare` and :func:`run_compare` — configurations (a scenario plus
  edits) run side by side with the same replicate seeds (:func:`sim.runs.compare_experiment`).
- :func:`sweep_values`, :func:`sweep_toml`, :func:`run_sweep` — a one- or two-parameter factorial
  sweep written as an experiment file (the same text ``loyalty-sim sweep FILE`` reads), parsed by
  :func:`sim.inputs.experiment.parse_experiment` and run.
- :func:`run_tasks` — every run of an :class:`~sim.runs.Experiment` in this process, one after
  another with :func:`sim.runs.execute`, reporting ``progress(done, failed, total)`` after each
  run and stopping between runs when ``cancel()`` says so.
- :func:`compare_table`, :func:`sweep_summary` — the tables the pages show and offer for download:
  summaries by :func:`sim.analysis.stats.summarize_mixed` and numbers by
  :mod:`sim.analysis.formatting`, as in the command line's reports.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import tomllib
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from sim.analysis.formatting import setting_text
from sim.analysis.labels import metric_label
from sim.analysis.stats import HEADLINE_METRICS, differences, summarize_mixed, window_for
from sim.analysis.tables import difference_texts, markdown_rows, mean_texts
from sim.inputs.experiment import parse_experiment
from sim.inputs.keys import resolve_key
from sim.inputs.overrides import apply_overrides
from sim.inputs.scenario import Scenario, ScenarioError, load_scenario
from sim.params import MERCHANT_PARAMS, PARAMS, Param, ParamError, Params
from sim.runs import Experiment, compare_experiment, execute
from sim.words import normalize_lang

#: market parameters the pages do not offer as edits: the market's size has its own input, and the
#: history settings change only what is recorded for customers' stories
HIDDEN_PARAMS = ("n_customers", "history_limit", "history_depth")
#: the largest batch a page will start (runs = configurations × replicates)
MAX_RUNS = 1000
#: the most values one swept parameter may take
MAX_VALUES = 15
#: the largest market and the longest run a page will start (bigger ones: the command line)
MAX_CUSTOMERS = 100_000
MAX_STEPS = 1040


def check_run_settings(replicates, steps, customers, seed, max_replicates: int = 200) -> None:
    """Raise :class:`ParamError` (bilingual) unless the page's run settings are in range."""
    for name, v, lo, hi in (("replicates", replicates, 1, max_replicates), ("steps", steps, 1, MAX_STEPS),
                            ("customers", customers, 10, MAX_CUSTOMERS), ("seed", seed, 0, 2**63 - 1)):
        if v is None or isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            extra_en = "; larger runs: use the command line (loyalty-sim)" if name in ("customers", "steps") else ""
            extra_zh = "；更大的运行请使用命令行（loyalty-sim）" if name in ("customers", "steps") else ""
            raise ParamError(name, f"'{name}' = {v} is out of range: allowed {lo:,} … {hi:,}{extra_en}", None,
                             f"'{name}' = {v} 超出范围：允许 {lo:,} … {hi:,}{extra_zh}")


class Cancelled(Exception):
    """The user pressed Cancel: the batch stopped between two runs."""


# ---- parameters ------------------------------------------------------------------------------------
def param_choices(params: Params, lang: str = "en") -> list[tuple[str, str]]:
    """``(key, text)`` for every parameter a user may edit or sweep: market-wide parameters by name,
    then each merchant's as ``"A.price"`` (text ``"A · Price"``)."""
    lang = normalize_lang(lang)
    out = []
    for name, p in PARAMS.items():
        if name in HIDDEN_PARAMS:
            continue
        out.append((name, f"{p.label(lang)} ({name})"))
    for m in params.merchants:
        for name, p in MERCHANT_PARAMS.items():
            if name == "name":
                continue
            out.append((f"{m.name}.{name}", f"{m.name} · {p.label(lang)} ({name})"))
    return out


def declaration(key: str, params: Params) -> Param:
    """The declaration of ``key`` (``"trust_gain"``, ``"A.price"`` or ``"merchants[0].price"``);
    :class:`ParamError` if the key names no parameter of this market (:func:`sim.inputs.keys.resolve_key`)."""
    return resolve_key(key, params).param


def current_value(key: str, params: Params) -> Any:
    """The value ``key`` has in ``params``."""
    return resolve_key(key, params).get(params)


def parse_value(p: Param, raw: Any, key: str | None = None) -> Any:
    """``raw`` (typed text or a number) converted to ``p``'s type and validated; raises
    :class:`ParamError` naming the parameter and its allowed range."""
    value = raw
    if isinstance(raw, str) and p.kind in ("float", "int"):
        text = raw.strip().replace(",", ".").replace("，", ".")
        try:
            num = float(text)
            value = int(num) if p.kind == "int" and math.isfinite(num) and num == int(num) else num
        except ValueError:
            value = raw.strip()  # validate() explains that a number is needed
    elif isinstance(raw, str):
        value = raw.strip()
    return p.validate(value, key=key or p.name)


def parse_edit(key: str, raw: Any, params: Params) -> tuple[str, Any]:
    """A validated edit ``(key, value)`` for ``params``; :class:`ParamError` with a bilingual message."""
    p = declaration(key, params)
    return key, parse_value(p, raw, key)


def error_text(e: Exception, lang: str) -> str:
    """A message for people from any error the batch layer raises (bilingual where it can be)."""
    if isinstance(e, ParamError):
        return e.text(normalize_lang(lang))
    return f"{type(e).__name__}: {e}"


# ---- running ---------------------------------------------------------------------------------------
@dataclass
class Runs:
    """Every finished run of an experiment: the two tidy tables of :mod:`sim.runs`."""

    exp: Experiment
    market: pd.DataFrame
    merchants: pd.DataFrame
    failed: dict = field(default_factory=dict)  # run_id -> error text
    seconds: float = 0.0
    #: label → (English, Chinese) name of its configuration as the page shows it (Compare)
    names: dict = field(default_factory=dict)

    def shown(self, label: str, lang: str) -> str:
        """What the page calls the configuration labelled ``label`` in ``lang``."""
        return self.names.get(label, (label, label))[lang == "zh"]

    def relabelled(self, table: pd.DataFrame, lang: str) -> pd.DataFrame:
        """``table`` with its ``label`` column as the page names the configurations in ``lang``."""
        if not self.names or "label" not in table.columns:
            return table
        return table.assign(label=table["label"].map(lambda x: self.shown(x, lang)))

    @property
    def labels(self) -> list[str]:
        return [p.label for p in self.exp.points]


def run_tasks(exp: Experiment, progress: Callable[[int, int, int], None] | None = None,
              cancel: Callable[[], bool] | threading.Event | None = None) -> Runs:
    """Run every run of ``exp`` here, one after another (replicate ``r`` of every configuration with
    the batch layer's seed ``exp.seeds()[r]``). ``progress(done, failed, total)`` is called before the
    first run and after each; ``cancel`` (a callable or an Event) is checked between runs and raises
    :class:`Cancelled`. A run that raises is recorded in ``failed`` and the others go on."""
    import time

    if isinstance(cancel, threading.Event):
        event = cancel
        cancel = event.is_set
    tasks = exp.tasks()
    total = len(tasks)
    markets, merchants, failed = [], [], {}
    t0 = time.perf_counter()
    if progress:
        progress(0, 0, total)
    for t in tasks:
        if cancel is not None and cancel():
            raise Cancelled()
        try:
            out = execute(t)
        except Exception as e:  # noqa: BLE001 - a failed run is reported, the batch goes on
            failed[t.run_id] = f"{type(e).__name__}: {e}"
        else:
            markets.append(out.market)
            merchants.append(out.merchants)
        if progress:
            progress(len(markets), len(failed), total)
    if cancel is not None and cancel():
        raise Cancelled()
    if not markets:
        first = next(iter(failed.values()), "no runs")
        raise RuntimeError(f"every run failed ({len(failed)} of {total}); the first error: {first}")
    mk = pd.concat(markets, ignore_index=True)
    mc = pd.concat(merchants, ignore_index=True)
    return Runs(exp, mk, mc, failed, time.perf_counter() - t0)


# ---- compare ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """One configuration of the Compare page: a scenario and the edits over it (``{"A.price": 1.2}``)."""

    scenario: str = "baseline"
    edits: tuple = ()  # ((key, value), ...), in the order added
    label: str = ""
    uid: int = 0  # identifies the configuration's card on the page

    def with_edit(self, key: str, value: Any) -> "Config":
        edits = [(k, v) for k, v in self.edits if k != key] + [(key, value)]
        return dataclasses.replace(self, edits=tuple(edits))

    def without(self, key: str) -> "Config":
        return dataclasses.replace(self, edits=tuple((k, v) for k, v in self.edits if k != key))

    def with_scenario(self, name: str) -> "Config":
        """Another scenario; edits that do not fit its merchants are dropped."""
        params = load_scenario(name).params
        keep = []
        for k, v in self.edits:
            try:
                parse_edit(k, v, params)
            except ParamError:
                continue
            keep.append((k, v))
        return dataclasses.replace(self, scenario=name, edits=tuple(keep))

    def auto_label(self, index: int) -> str:
        """The configuration's label in the results (their ``label`` column, as the command line
        writes it): the name given, or ``2. baseline (C.recovery_prob=0.9)``."""
        if self.label.strip():
            return self.label.strip()
        edits = ", ".join(f"{k}={setting_text(v)}" for k, v in self.edits)
        return f"{index + 1}. {self.scenario}" + (f" ({edits})" if edits else "")

    def shown_label(self, index: int, lang: str) -> str:
        """The configuration as the page names it in ``lang``: the name given, or its number, the
        scenario's title and the edits with the controls' names (``2. Baseline market (C · Recovery
        probability = 0.9)``)."""
        if self.label.strip():
            return self.label.strip()
        sc = load_scenario(self.scenario)
        edits = ("; " if lang == "en" else "；").join(edit_text(k, v, lang, sc.params) for k, v in self.edits)
        title = sc.text("title", lang)
        if not edits:
            return f"{index + 1}. {title}"
        return f"{index + 1}. {title} ({edits})" if lang == "en" else f"{index + 1}. {title}（{edits}）"


def edit_text(key: str, value: Any, lang: str, params) -> str:
    """An edit as the page shows it: the control's name in ``lang`` and the value (``C · Service
    quality = 0.7``); the key itself when it names nothing in ``params``."""
    try:
        k = resolve_key(key, params)
        name = f"{k.merchant_name} · {k.param.label(lang)}" if k.merchant_name else k.param.label(lang)
    except ParamError:
        name = key
    return f"{name} = {setting_text(value)}"


def scenario_for(config: Config, customers: int | None = None) -> Scenario:
    """The scenario of ``config`` with its edits (and the market size) applied and validated."""
    sc = load_scenario(config.scenario)
    over: dict[str, Any] = {k: v for k, v in config.edits}
    if customers is not None:
        over["n_customers"] = int(customers)
    return apply_overrides(sc, over, source="edits") if over else sc


def build_compare(configs: Sequence[Config], replicates: int, steps: int, customers: int, seed: int,
                  metrics: Sequence[str] | None = None) -> Experiment:
    """The experiment of the Compare page: every configuration × ``replicates`` with the same seeds."""
    if len(configs) < 1:
        raise ValueError("no configuration to run")
    check_run_settings(replicates, steps, customers, seed)
    scs = [scenario_for(c, customers) for c in configs]
    labels = [c.auto_label(i) for i, c in enumerate(configs)]
    exp = compare_experiment(scs, replicates=int(replicates), steps=int(steps), seed=int(seed), labels=labels,
                             metrics=metrics)
    if exp.n_runs > MAX_RUNS:
        raise ParamError("replicates", f"{exp.n_runs} runs: the page runs at most {MAX_RUNS}; use fewer replicates "
                         "or the command line (loyalty-sim compare)", None,
                         f"共 {exp.n_runs} 次运行：本页面最多运行 {MAX_RUNS} 次；请减少重复次数，或使用命令行（loyalty-sim compare）")
    return exp


def run_compare(configs: Sequence[Config], replicates: int = 5, steps: int = 104, customers: int = 1000,
                seed: int = 1, progress=None, cancel=None) -> Runs:
    """Build and run the comparison (synchronously; the page calls this in a background thread)."""
    runs = run_tasks(build_compare(configs, replicates, steps, customers, seed), progress, cancel)
    runs.names = {c.auto_label(i): (c.shown_label(i, "en"), c.shown_label(i, "zh")) for i, c in enumerate(configs)}
    return runs


def compare_table(runs: Runs, metrics: Sequence[str] | None = None, lang: str = "en") -> pd.DataFrame:
    """One row per observable: each configuration's mean with its 95% interval, then each other
    configuration's difference from the first (Welch 95% interval), marked ✱ where the interval
    excludes 0. Columns: ``metric`` (name), ``label`` (observable in ``lang``), one column per
    configuration, one ``Δ <configuration>`` column per other configuration, and ``significant``
    (list of the configurations whose difference is marked)."""
    lang = normalize_lang(lang)
    metrics = [m for m in (metrics or HEADLINE_METRICS) if m in runs.market.columns]
    labels = list(dict.fromkeys(runs.market["label"]))
    summary = summarize_mixed(runs.market, metrics, ["label"])
    base = labels[0]
    diffs = differences(summary, base) if len(labels) > 1 else pd.DataFrame(
        columns=["label", "metric", "diff", "ci_low", "ci_high", "significant"])
    rows = []
    for m in metrics:
        r: dict[str, Any] = {"metric": m, "label": metric_label(m, lang)}
        if window_for(m) is not None:
            r["label"] += "*"
        r.update(mean_texts(summary, m, labels))  # shares as percentages, as on the Explore page
        sig = []
        for lab, (txt, significant) in difference_texts(diffs, m, labels[1:]).items():
            if significant:
                txt += " ✱"
                sig.append(lab)
            r[f"Δ {lab}"] = txt
        r["significant"] = sig
        rows.append(r)
    return pd.DataFrame(rows)


def table_markdown(df: pd.DataFrame, columns: Sequence[str], headers: Sequence[str],
                   bold: Callable[[dict, str], bool] | None = None) -> str:
    """A Markdown table (:func:`sim.analysis.tables.markdown_rows`) of ``columns`` under ``headers``
    (cells made bold where ``bold(row, col)``); the first column aligned left, the others right."""
    records = df.to_dict("records")
    rows = [[r.get(c, "") for c in columns] for r in records]
    align = ["left"] + ["right"] * (len(headers) - 1)
    return markdown_rows(headers, rows, align, (lambda i, j: bold(records[i], columns[j])) if bold else None)


# ---- sweep -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """One swept parameter: ``key`` (``"trust_gain"`` or ``"A.price"``) from ``lo`` to ``hi`` in ``n``
    values (choices: every allowed value, ``lo``/``hi``/``n`` ignored)."""

    key: str
    lo: float = 0.0
    hi: float = 1.0
    n: int = 5


def default_axis(key: str, params: Params, n: int = 5) -> Axis:
    """A sensible range around the current value of ``key``: half to one and a half times it, within the
    declared bounds, rounded to the declared step."""
    p = declaration(key, params)
    if p.kind not in ("float", "int"):
        return Axis(key, 0, 0, len(p.choices))
    v = float(current_value(key, params))
    lo_b = p.lo if p.lo is not None else v - 1
    hi_b = p.hi if p.hi is not None else v + 1
    step = p.step or 0.01
    if v > 0:
        lo, hi = v * 0.5, v * 1.5
    elif v < 0:
        lo, hi = v * 1.5, v * 0.5
    else:
        lo, hi = lo_b, lo_b + (hi_b - lo_b) / 2
    lo, hi = max(lo_b, lo), min(hi_b, hi)
    lo = max(lo_b, round(lo / step) * step)
    hi = min(hi_b, round(hi / step) * step)
    if p.kind == "int":
        lo, hi = math.floor(lo), math.ceil(hi)
        n = min(n, int(hi - lo) + 1)
    if not lo < hi:
        lo, hi = lo_b, hi_b
    return Axis(key, _round(lo), _round(hi), max(2, n))


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def sweep_values(axis: Axis, params: Params) -> list:
    """The values of ``axis``, validated: ``n`` evenly spaced from ``lo`` to ``hi`` (whole numbers
    rounded and repeated ones dropped; ``network_degree`` made even), or every choice. Raises
    :class:`ParamError` for a bad range."""
    p = declaration(axis.key, params)
    if p.kind == "choice":
        return list(p.choices)
    if p.kind not in ("float", "int"):
        raise ParamError(axis.key, f"'{axis.key}' cannot be swept", None, f"'{axis.key}' 不能扫描")
    n = int(axis.n)
    if not 2 <= n <= MAX_VALUES:
        raise ParamError(axis.key, f"number of values = {n}: allowed 2 … {MAX_VALUES}", None,
                         f"取值个数 = {n}：允许 2 … {MAX_VALUES}")
    lo = parse_value(p, axis.lo, f"{axis.key} (min)")
    hi = parse_value(p, axis.hi, f"{axis.key} (max)")
    if not lo < hi:
        raise ParamError(axis.key, f"'{axis.key}': min = {setting_text(lo)} must be below max = {setting_text(hi)}",
                         None, f"'{axis.key}'：最小值 {setting_text(lo)} 必须小于最大值 {setting_text(hi)}")
    raw = np.linspace(float(lo), float(hi), n)
    if p.kind == "int":
        mult = 2 if axis.key == "network_degree" else 1
        vals = [int(round(x / mult)) * mult for x in raw]
        vals = [v for v in vals if (p.lo is None or v >= p.lo) and (p.hi is None or v <= p.hi)]
    else:
        vals = [float(f"{float(x):.5g}") for x in raw]
    return list(dict.fromkeys(vals))


def sweep_toml(scenario: str, axes: Sequence[Axis], replicates: int, steps: int, customers: int, seed: int,
               lang: str = "en") -> str:
    """The experiment file of a sweep (``loyalty-sim sweep FILE --out DIR`` runs the same thing)."""
    params = load_scenario(scenario).params
    vary = {a.key: sweep_values(a, params) for a in axes}
    if len(vary) != len(axes):
        raise ParamError(axes[-1].key, "the two swept parameters must differ", None, "两个扫描参数必须不同")
    names = " × ".join(vary)
    runs = math.prod(len(v) for v in vary.values()) * int(replicates)
    lines = [
        "# A loyalty-sim experiment, written by the Sweep page of the web app.",
        "# 由网页应用的“扫描”页面生成的 loyalty-sim 实验文件。",
        f"# {runs} runs / 次运行. From the project folder / 在项目文件夹中运行：",
        "#   uv run loyalty-sim sweep sweep.toml --out results/sweep",
        "#   uv run loyalty-sim analyze results/sweep",
        "",
        "[experiment]",
        f"name = {_toml(f'{scenario}: {names}')}",
        f"scenario = {_toml(scenario)}",
        'design = "factorial"',
        f"replicates = {int(replicates)}",
        f"steps = {int(steps)}",
        f"seed = {int(seed)}",
        "",
        "[set]",
        f"n_customers = {int(customers)}",
        "",
        "[vary]",
    ]
    for k, vals in vary.items():
        key = k if all(c.isalnum() or c in "_-" for c in k) else _toml(k)
        lines.append(f"{key} = [{', '.join(_toml(v) for v in vals)}]")
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # always valid TOML
    return text


def _toml(v: Any) -> str:
    """One TOML value (a string as a basic string, numbers as written)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        t = repr(v)
        return t if any(c in t for c in ".en") else t + ".0"
    return json.dumps(str(v), ensure_ascii=False)


def build_sweep(text: str) -> Experiment:
    exp = parse_experiment(text, source="sweep.toml")
    if exp.n_runs > MAX_RUNS:
        raise ParamError("replicates", f"{exp.n_runs} runs: the page runs at most {MAX_RUNS}; use fewer values or "
                         "replicates, or the command line (loyalty-sim sweep)", None,
                         f"共 {exp.n_runs} 次运行：本页面最多运行 {MAX_RUNS} 次；请减少取值或重复次数，或使用命令行（loyalty-sim sweep）")
    return exp


def run_sweep(text: str, progress=None, cancel=None) -> Runs:
    """Parse the experiment text and run it (synchronously; the page calls this in a background thread)."""
    return run_tasks(build_sweep(text), progress, cancel)


def sweep_summary(runs: Runs, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Per configuration (the varied parameters' values) × observable: n, mean, 95% interval, sd."""
    varied = [f.name for f in runs.exp.factors]
    metrics = [m for m in (metrics or HEADLINE_METRICS) if m in runs.market.columns]
    return summarize_mixed(runs.market, metrics, varied)


__all__ = [
    "Axis", "Cancelled", "Config", "Runs", "ScenarioError", "build_compare", "build_sweep", "compare_table",
    "current_value", "declaration", "default_axis", "edit_text", "error_text",
    "param_choices", "parse_edit", "parse_value", "run_compare", "run_sweep", "run_tasks", "scenario_for",
    "sweep_summary", "sweep_toml", "sweep_values", "table_markdown",
]

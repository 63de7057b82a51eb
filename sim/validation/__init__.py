"""Validation: does the model reproduce the stylized facts of the field literature?

The 13 facts of ``/work/shared/VALIDATION.md`` (F1–F13) are declared in :mod:`sim.validation.facts`,
each with its source, its test, a scenario or experiment file in ``scenarios/validation/`` and a
measurement on the model. :func:`run_validation` runs every selected fact's file once per seed
(seeds from :func:`sim.runs.replicate_seeds`, in a process pool), evaluates the checks over the
seeds (means with 95% intervals), and :func:`write_report` writes a Markdown report with one figure
per fact. ``loyalty-sim validate`` is the command line for both.

>>> from sim.validation import run_validation
>>> v = run_validation(["F5"], n_seeds=2, workers=1)   # doctest: +SKIP
>>> v.results[0].passed                                  # doctest: +SKIP
True
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from ..params import ParamError
from .core import VALIDATION_DIR, Check, Fact, FactResult
from .facts import FACT_IDS, FACTS

__all__ = ["FACTS", "FACT_IDS", "Fact", "Check", "FactResult", "Validation", "VALIDATION_DIR", "FULL_SEEDS",
           "FAST_SEEDS", "MASTER_SEED", "parse_only", "load_markets", "measure_task", "run_validation",
           "write_report", "console_table", "DOC_PATH"]

FULL_SEEDS = 30
FAST_SEEDS = 8
MASTER_SEED = 20240601
ROOT = Path(__file__).resolve().parent.parent.parent
DOC_PATH = ROOT / "docs" / "validation.md"


# ---- selecting facts --------------------------------------------------------------------------------
def parse_only(text: str | None) -> list[str]:
    """Fact ids from ``--only`` (``"F5,F7"``, ``"f5 f07"``, ``"5"``), in registry order; raises
    :class:`ParamError` naming the unknown ones."""
    if text is None:
        return list(FACT_IDS)
    items = [x for x in text.replace(",", " ").split() if x]
    if not items:
        raise ParamError("--only", f"--only names no fact: give ids such as F5,F7 (known: {', '.join(FACT_IDS)})",
                         None, f"--only 没有给出事实编号：请写成 F5,F7 这样的形式（已知：{', '.join(FACT_IDS)}）")
    chosen, bad = set(), []
    for x in items:
        s = x.strip().upper()
        s = s[1:] if s.startswith("F") else s
        if s.isdigit() and f"F{int(s)}" in FACT_IDS:
            chosen.add(f"F{int(s)}")
        else:
            bad.append(x)
    if bad:
        raise ParamError("--only", f"--only: unknown fact {', '.join(repr(b) for b in bad)} (known: "
                         f"{', '.join(FACT_IDS)})", None,
                         f"--only：未知的事实 {'、'.join(repr(b) for b in bad)}（已知：{', '.join(FACT_IDS)}）")
    return [f for f in FACT_IDS if f in chosen]


def _fact(fid: str) -> Fact:
    return next(f for f in FACTS if f.id == fid)


def load_markets(fact: Fact) -> list:
    """The markets of a fact's file: one scenario, or the points of an experiment file (each as a
    :class:`sim.inputs.scenario.Scenario` named by its label)."""
    from ..inputs.experiment import load_experiment
    from ..inputs.scenario import Scenario, load_scenario

    path = fact.path
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    if "experiment" in doc:
        exp = load_experiment(path)
        return [Scenario(p.label, str(path), p.params, tuple(p.events), {}, exp.steps, exp.seed) for p in exp.points]
    return [load_scenario(path)]


def measure_task(fid: str, seed: int) -> tuple[str, int, dict, float]:
    """One fact × one seed (runs in a worker process): ``(fact id, seed, numbers, seconds)``."""
    t0 = time.perf_counter()
    fact = _fact(fid)
    out = fact.measure(load_markets(fact), int(seed))
    return fid, int(seed), out, time.perf_counter() - t0


# ---- running ------------------------------------------------------------------------------------------
@dataclass
class Validation:
    """What :func:`run_validation` produced."""

    results: list[FactResult]
    seeds: list[int]
    master: int
    seconds: float
    executor: str
    started: str = ""
    versions: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def run_validation(only: Sequence[str] | None = None, n_seeds: int = FULL_SEEDS, workers: int | None = None,
                   master: int = MASTER_SEED, progress: Callable[[int, int], None] | None = None,
                   executor: cf.Executor | None = None) -> Validation:
    """Run the selected facts (all by default) with ``n_seeds`` seeds each and evaluate them."""
    from ..runs import git_revision, make_executor, package_versions, replicate_seeds

    ids = list(only) if only else list(FACT_IDS)
    for fid in ids:
        if fid not in FACT_IDS:
            raise ParamError("--only", f"unknown fact {fid!r} (known: {', '.join(FACT_IDS)})", None,
                             f"未知的事实 {fid!r}（已知：{', '.join(FACT_IDS)}）")
    for fid in ids:  # every file must load before anything runs
        load_markets(_fact(fid))
    seeds = replicate_seeds(master, n_seeds)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    per: dict[str, dict[int, dict]] = {fid: {} for fid in ids}
    secs: dict[str, float] = {fid: 0.0 for fid in ids}
    errors: dict[str, str] = {}
    # the slowest facts first, so that the pool stays busy to the end
    order = sorted(ids, key=lambda f: -_COST.get(f, 1.0))
    tasks = [(fid, s) for fid in order for s in seeds]
    ctx = (_given(executor) if executor is not None else make_executor(workers))
    done = 0
    with ctx as (pool, desc):
        futures = {pool.submit(measure_task, fid, s): (fid, s) for fid, s in tasks}
        try:
            for fut in cf.as_completed(futures):
                fid, s = futures[fut]
                try:
                    _, _, out, sec = fut.result()
                    per[fid][s] = out
                    secs[fid] += sec
                except Exception as e:  # noqa: BLE001 - a broken measurement fails its fact, not the run
                    errors.setdefault(fid, f"{type(e).__name__}: {e}")
                done += 1
                if progress:
                    progress(done, len(tasks))
        finally:
            for f in futures:
                f.cancel()
    results = []
    for fid in ids:
        fact = _fact(fid)
        ps = [per[fid][s] for s in seeds if s in per[fid]]
        checks: list[Check] = []
        err = errors.get(fid)
        if ps and err is None:
            try:
                checks = fact.evaluate(ps)
            except Exception as e:  # noqa: BLE001
                err = f"{type(e).__name__}: {e}"
        results.append(FactResult(fact, checks, ps, seeds, secs[fid], err))
    versions = {**package_versions(), "git": git_revision()}
    return Validation(results, seeds, master, time.perf_counter() - t0, desc, started, versions)


#: relative cost of one seed of each fact (to start the slow ones first)
_COST = {"F10": 6, "F3": 4, "F2": 3, "F4": 3, "F9": 2, "F11": 2, "F6": 2, "F7": 2, "F12": 2}


class _given:
    def __init__(self, ex):
        self.ex = ex

    def __enter__(self):
        return self.ex, f"given executor ({type(self.ex).__name__})"

    def __exit__(self, *a):
        return False


# ---- console -------------------------------------------------------------------------------------------
WORDS = {
    "fact": ("fact", "事实"), "measured": ("measured", "测量内容"), "value": ("value [95% interval]", "数值 [95% 区间]"),
    "target": ("target", "目标"), "result": ("result", "结果"), "pass": ("PASS", "通过"), "fail": ("FAIL", "未通过"),
    "error": ("ERROR", "出错"), "summary": ("{p} of {n} facts pass", "{n} 个事实中 {p} 个通过"),
    "seeds": ("{n} seeds per fact (master seed {m})", "每个事实 {n} 个种子（主种子 {m}）"),
}


def _w(key: str, lang: str, **fmt) -> str:
    en, zh = WORDS[key]
    return (zh if lang == "zh" else en).format(**fmt)


def _width(s: str) -> int:
    return sum(2 if ord(ch) >= 0x1100 and (0x1100 <= ord(ch) <= 0x115F or 0x2E80 <= ord(ch) <= 0xFFDC) else 1
               for ch in s)


def _pad(s: str, n: int) -> str:
    return s + " " * max(0, n - _width(s))


def _clip(s: str, n: int) -> str:
    if _width(s) <= n:
        return s
    out = ""
    for ch in s:
        if _width(out + ch + "…") > n:
            break
        out += ch
    return out + "…"


def console_table(v: Validation, lang: str = "en", width: int = 150) -> list[str]:
    """The validation table for the terminal: one row per check that counts (not the info rows)."""
    zh = lang == "zh"
    cols = [_w("fact", lang), _w("measured", lang), _w("value", lang), _w("target", lang), _w("result", lang)]
    rows = []
    for r in v.results:
        if r.error:
            rows.append([r.fact.id, _clip(r.error, 70), "", "", _w("error", lang)])
            continue
        for c in r.checks:
            if c.info:
                continue
            rows.append([r.fact.id, c.measured_zh if zh else c.measured_en, c.value_text(),
                         c.target_zh if zh else c.target_en, _w("pass" if c.passed else "fail", lang)])
    w_val = max([_width(cols[2])] + [_width(x[2]) for x in rows])
    w_tgt = min(28, max([_width(cols[3])] + [_width(x[3]) for x in rows]))
    w_res = max(_width(cols[4]), 6)
    w_meas = max(30, width - (5 + w_val + w_tgt + w_res + 8))
    widths = [5, w_meas, w_val, w_tgt, w_res]
    lines = ["  ".join(_pad(c, w) for c, w in zip(cols, widths)), "  ".join("-" * w for w in widths)]
    for row in rows:
        row = [_clip(x, w) for x, w in zip(row, widths)]
        lines.append("  ".join(_pad(x, w) for x, w in zip(row, widths)).rstrip())
    n_pass = sum(r.passed for r in v.results)
    lines.append("")
    lines.append(_w("summary", lang, p=n_pass, n=len(v.results)) + " — " +
                 ", ".join(f"{r.fact.id} {_w('pass' if r.passed else ('error' if r.error else 'fail'), lang)}"
                           for r in v.results))
    lines.append(_w("seeds", lang, n=len(v.seeds), m=v.master) + f"; {v.seconds:.0f} s, {v.executor}")
    return lines


from .report import write_report  # noqa: E402  (the report needs the names above)

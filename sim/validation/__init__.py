"""Validation: does the model reproduce the stylized facts of the field literature?

The 13 stylized facts of field studies the project holds the model to (F1–F13), and F14 (what bad word of
mouth costs a merchant, THEORY.md §4), each have a scenario or experiment
file in ``scenarios/validation/``, a module in :mod:`sim.validation.facts` (setup, measurement, checks,
figure) and a text in ``docs/validation/facts/`` (source, test, measurement, calibration, diagnoses).
:func:`run_validation` runs every selected fact's file once per seed (seeds from
:func:`sim.runs.replicate_seeds`, in a process pool), evaluates the checks over the seeds (means with
95% intervals), and :func:`write_report` writes a Markdown report with one figure per fact.
``loyalty-sim validate`` is the command line for both.

The package::

    __init__.py   choosing facts (--only), loading their markets, running them over seeds
    core.py       Fact, Check, FactResult, Validation; statistics over seeds; check builders; reading
                  customers out of a run (run_scenario, own_buyers, Cohort …); new_figure
    shocks.py     the shock design shared by F2–F4
    facts/        one module per fact, fNN_<name>.py, and the registry FACTS (facts/__init__.py)
    prose.py      reads the fact texts, docs/validation/facts/Fn.md
    paths.py      where scenarios/validation/, docs/validation/ and docs/validation.md are
    console.py    the terminal table;  report.py  the Markdown report, figures and results.json

**Adding a fact** (F15, say; F14 followed these steps):

1. Its market: ``scenarios/validation/f14_<name>.toml``, a scenario (or an experiment file for several
   markets) whose ``[info]``, in English and Chinese, says how to run it (``loyalty-sim validate --only
   F14``).
2. Its module: ``sim/validation/facts/f14_<name>.py`` with ``measure(markets, seed) -> dict`` of plain
   numbers (follow customers with ``run_scenario(..., on_step)``, ``own_buyers``, ``Cohort``),
   ``evaluate(per_seed) -> list[Check]`` (``band_check``, ``above_check``, ``below_check`` on ``ci``,
   ``diff_ci`` or ``ratio_ci`` over seeds; short check labels in English and Chinese; ``info=True`` for
   rows that do not count), ``plot(per_seed, checks)`` drawn on ``new_figure(n)``, and
   ``FACT = Fact("F14", "f14_<name>.toml", measure, evaluate, plot)`` (with ``cost=…`` when one seed
   takes several times as long as F1's: the slow facts start first).
3. Register it: add the module to the tuple in ``sim/validation/facts/__init__.py``.
4. Its texts: ``docs/validation/facts/F14.md`` with the headings :mod:`sim.validation.prose` reads
   (``# F14 — title``, 中文标题, Source, Grade, Test, Measurement; Calibration and
   ``Diagnosis: `KEY``` where they apply).
5. Run ``loyalty-sim validate --fast --only F14 --out DIR``; then regenerate docs/validation.md
   (``--doc``, a full run). In ``tests/test_validation.py`` the list of fact ids grows by one, and once
   the fact holds it joins ``HOLDING``.

A measurement must not change the model: a fact only chooses which customers to compare and which
quantities to read.

>>> from sim.validation import run_validation
>>> v = run_validation(["F5"], n_seeds=2, workers=1)   # doctest: +SKIP
>>> v.results[0].passed                                  # doctest: +SKIP
True
"""

from __future__ import annotations

import concurrent.futures as cf
import time
import tomllib
from datetime import datetime, timezone
from typing import Callable, Sequence

from ..params import ParamError
from .console import console_table
from .core import Check, Fact, FactResult, Validation
from .facts import FACT_IDS, FACTS
from .facts import fact as _fact
from .paths import DOC_PATH, VALIDATION_DIR
from .report import write_report

__all__ = ["FACTS", "FACT_IDS", "Fact", "Check", "FactResult", "Validation", "VALIDATION_DIR", "FULL_SEEDS",
           "FAST_SEEDS", "MASTER_SEED", "parse_only", "load_markets", "measure_task", "run_validation",
           "write_report", "console_table", "DOC_PATH"]

FULL_SEEDS = 30
FAST_SEEDS = 8
MASTER_SEED = 20240601


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


def measure_task(fid: str, seed: int, values: dict | None = None) -> tuple[str, int, dict, float]:
    """One fact × one seed (runs in a worker process): ``(fact id, seed, numbers, seconds)``; with
    ``values``, on the fact's markets with them (:func:`sim.validation.variant.fact_markets`)."""
    from .variant import fact_markets

    t0 = time.perf_counter()
    out = _fact(fid).measure(fact_markets(fid, values or {}), int(seed))
    return fid, int(seed), out, time.perf_counter() - t0


# ---- running ------------------------------------------------------------------------------------------
def run_validation(only: Sequence[str] | None = None, n_seeds: int = FULL_SEEDS, workers: int | None = None,
                   master: int = MASTER_SEED, progress: Callable[[int, int], None] | None = None,
                   executor: cf.Executor | None = None, values: dict | None = None) -> Validation:
    """Run the selected facts (all by default) with ``n_seeds`` seeds each and evaluate them; with
    ``values`` (market parameters, :func:`sim.validation.variant.variant_values`) on a variant of the
    model: each fact's markets with those values, except the keys its file sets itself."""
    from ..runs import WorkerLost, git_revision, make_executor, package_versions, replicate_seeds, worker_lost

    ids = list(only) if only else list(FACT_IDS)
    for fid in ids:
        if fid not in FACT_IDS:
            raise ParamError("--only", f"unknown fact {fid!r} (known: {', '.join(FACT_IDS)})", None,
                             f"未知的事实 {fid!r}（已知：{', '.join(FACT_IDS)}）")
    from .variant import fact_markets

    values = dict(values or {})
    for fid in ids:  # every file must load (and take the values) before anything runs
        fact_markets(fid, values)
    seeds = replicate_seeds(master, n_seeds)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    per: dict[str, dict[int, dict]] = {fid: {} for fid in ids}
    secs: dict[str, float] = {fid: 0.0 for fid in ids}
    errors: dict[str, str] = {}
    # the slowest facts first, so that the pool stays busy to the end
    order = sorted(ids, key=lambda f: -_fact(f).cost)
    tasks = [(fid, s) for fid in order for s in seeds]
    ctx = (_given(executor) if executor is not None else make_executor(workers))
    done = 0
    with ctx as (pool, desc):
        futures = {pool.submit(measure_task, fid, s, values or None): (fid, s) for fid, s in tasks}
        try:
            for fut in cf.as_completed(futures):
                fid, s = futures[fut]
                try:
                    _, _, out, sec = fut.result()
                    per[fid][s] = out
                    secs[fid] += sec
                except Exception as e:  # noqa: BLE001 - a broken measurement fails its fact, not the run
                    if worker_lost(e):  # the executor broke, not the measurement: no report from half a run
                        raise WorkerLost("nothing was written; run the validation again",
                                         "没有写入任何文件；请重新运行验证") from None
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
                checks = fact.checks(ps)
            except Exception as e:  # noqa: BLE001
                err = f"{type(e).__name__}: {e}"
        results.append(FactResult(fact, checks, ps, seeds, secs[fid], err))
    versions = {**package_versions(), "git": git_revision()}
    return Validation(results, seeds, master, time.perf_counter() - t0, desc, started, versions, values)


class _given:
    def __init__(self, ex):
        self.ex = ex

    def __enter__(self):
        return self.ex, f"given executor ({type(self.ex).__name__})"

    def __exit__(self, *a):
        return False

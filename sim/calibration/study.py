"""Running a calibration: an Optuna study kept in the results folder, trials on an executor.

``DIR/study.db``
    the Optuna study (SQLite, ``sqlite:///DIR/study.db``): every trial, its parameters, objective
    and user attributes (its seeds, achieved values). ``--resume`` continues it, also after
    ``kill -9``: trials that were running are marked failed (``interrupted``) and new ones drawn;
``DIR/manifest.json``
    what was calibrated, seeds, versions, git revision, executor, times, the best trial;
``DIR/trials.parquet``
    one row per trial: ``trial``, ``state``, each free parameter, ``objective``, the achieved value
    of each target (an observable's mean over the fitting replicates; a validation check's measured
    mean over them, column ``F6:calib_minor_silent``) and the ``seeds``.

A trial (:func:`run_trial`) runs the base scenario once per fitting seed for the observable targets
(not at all when there are none) and measures each fact of the validation targets once per seed
(:func:`sim.calibration.facts.measure_fact`), however many of its checks are targets.

Trials are asked in batches of one per worker, run on the executor of
:func:`sim.runs.executors.make_executor` and told in trial order, so that a calibration with the
same file, seed and number of workers gives the same trials. The sampler is Optuna's TPE, seeded
from the master seed (:meth:`~sim.calibration.spec.Calibration.sampler_seed`).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..inputs.keys import set_values
from ..params import Params
from ..runs.executors import make_executor
from ..runs.provenance import git_revision, package_versions, utc_now
from ..runs.store import atomic_write, check_folder, write_json
from ..simulate import simulate
from ..analysis.stats import ci95
from .facts import fact_checks, measure_fact
from .spec import Calibration, Target, objective, observe

__all__ = ["FORMAT", "STUDY_NAME", "StudyOutcome", "achieved_values", "run_study", "trials_table", "study_storage",
           "check_best", "trial_params", "trial_values", "run_trial"]

FORMAT = "loyalty-sim calibration 1"
STUDY_NAME = "calibration"
#: at least this many finished trials before parameter importances are estimated
MIN_TRIALS_FOR_IMPORTANCE = 8


def achieved_values(params: Params, events: tuple, steps: int, seeds: list[int], targets: tuple[Target, ...]
                    ) -> list[list[float]]:
    """Each target's value in one run per seed: ``values[t][r]`` (runs in any worker process)."""
    out: list[list[float]] = [[] for _ in targets]
    for s in seeds:
        res = simulate(params, seed=int(s), steps=steps, events=events)
        for i, t in enumerate(targets):
            out[i].append(observe(t, res.metrics, res.merchants))
    return out


def trial_params(cal: Calibration, values: dict) -> Params:
    """The base market with a trial's values of the free parameters."""
    return set_values(cal.params, values)


def trial_values(cal: Calibration, values: dict) -> dict:
    """What a trial sets in a validation fact's markets (as far as :func:`sim.calibration.facts.fact_values`
    lets it): the file's ``[set]`` values and the trial's values of the free parameters."""
    return {**cal.fixed, **values}


def run_trial(cal: Calibration, values: dict, seeds: list[int]) -> list[float]:
    """Each target's achieved value for one trial's ``values`` on ``seeds`` (runs in any worker
    process): an observable's mean over the runs of the base scenario, a validation check's
    measured mean over the fact's measurements (each fact measured once per seed)."""
    got: dict[str, float] = {}
    obs = cal.observables
    if obs:
        vals = achieved_values(trial_params(cal, values), cal.events, cal.steps, seeds, obs)
        got.update({t.label: float(np.mean(v)) for t, v in zip(obs, vals)})
    fact_vals = trial_values(cal, values)
    for fid in cal.facts:
        checks = fact_checks(fid, [measure_fact(fid, fact_vals, s) for s in seeds])
        got.update({t.label: float(checks[t.check].value) for t in cal.targets if t.fact == fid})
    return [got[t.label] for t in cal.targets]


def study_storage(out: Path):
    """The Optuna storage of the study in ``out`` (``sqlite:///out/study.db``)."""
    import optuna

    return optuna.storages.RDBStorage(f"sqlite:///{(Path(out) / 'study.db').resolve().as_posix()}")


def _distributions(cal: Calibration) -> dict:
    from optuna.distributions import FloatDistribution, IntDistribution

    return {f.key: (IntDistribution(int(f.lo), int(f.hi), log=f.log) if f.integer
                    else FloatDistribution(f.lo, f.hi, log=f.log)) for f in cal.free}


def _counted(trial) -> bool:
    """A trial that used the budget: finished, or failed by itself (not interrupted)."""
    from optuna.trial import TrialState

    return trial.state == TrialState.COMPLETE or (trial.state == TrialState.FAIL and "error" in trial.user_attrs)


def trials_table(cal: Calibration, study) -> pd.DataFrame:
    """Every trial of ``study`` as one row (see the module's docstring), in trial order."""
    rows = []
    for tr in study.get_trials(deepcopy=False):
        row = {"trial": tr.number, "state": tr.state.name}
        for f in cal.free:
            row[f.key] = tr.params.get(f.key, np.nan)
        row["objective"] = tr.value if tr.value is not None else np.nan
        achieved = tr.user_attrs.get("achieved", {})
        for t in cal.targets:
            row[t.label] = achieved.get(t.label, np.nan)
        row["seeds"] = [int(s) for s in tr.user_attrs.get("seeds", [])]
        row["error"] = tr.user_attrs.get("error") or ("interrupted" if tr.state.name == "FAIL" else None)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class StudyOutcome:
    """What :func:`run_study` did: the study, its trials table, the best trial's values, timings."""

    out: Path
    study: object
    trials: pd.DataFrame
    best_values: dict
    best_objective: float
    best_trial: int
    new: int
    done: int
    seconds: float
    executor: str
    importances: dict | None
    importance_note: tuple[str, str] | None


def _manifest(cal: Calibration, created: str, executor: str, done: int, best: dict | None) -> dict:
    return {"format": FORMAT, "kind": "calibration", "name": cal.name, "source": cal.source, "base": cal.base,
            "fingerprint": cal.fingerprint(), "spec": cal.spec(), "trials_budget": cal.trials, "trials_done": done,
            "master_seed": cal.seed, "fit_seeds": cal.fit_seeds(), "fresh_seeds": cal.fresh_seeds(),
            "seeding": "every trial runs the fit_seeds (common random numbers); the best set is re-run on "
                       "fresh_seeds for the report; all spawned from SeedSequence(master_seed)",
            "sampler": "optuna TPESampler", "storage": "study.db (sqlite)", "versions": package_versions(),
            "git": git_revision(), "executor": executor, "created": created, "updated": utc_now(), "best": best}


def _importances(cal: Calibration, study, n_done: int) -> tuple[dict | None, tuple[str, str] | None]:
    if len(cal.free) < 2:
        return None, ("one free parameter: importances compare two or more",
                      "只有一个自由参数：重要性需在两个或以上参数之间比较")
    if n_done < MIN_TRIALS_FOR_IMPORTANCE:
        return None, (f"{n_done} finished trials: importances need at least {MIN_TRIALS_FOR_IMPORTANCE}",
                      f"仅 {n_done} 次完成的试验：估计重要性至少需要 {MIN_TRIALS_FOR_IMPORTANCE} 次")
    import optuna

    try:
        # PED-ANOVA: needs no scikit-learn (optuna's default fANOVA does)
        imp = optuna.importance.get_param_importances(study, evaluator=optuna.importance.PedAnovaImportanceEvaluator())
    except (RuntimeError, ValueError, ImportError) as e:  # e.g. every trial gave the same objective
        return None, (f"not estimable: {e}", f"无法估计：{e}")
    return {k: float(v) for k, v in imp.items()}, None


def run_study(cal: Calibration, out: str | os.PathLike, *, trials: int | None = None, workers: int | None = None,
              resume: bool = False, progress: Callable[[int, int], None] | None = None,
              executor: tuple[cf.Executor, str] | None = None) -> StudyOutcome:
    """Run ``cal``'s study in ``out`` until ``trials`` (default: the file's budget) trials have
    finished, write ``manifest.json`` and ``trials.parquet``. ``resume=True`` continues the study of
    the same calibration in ``out``; otherwise an existing results folder is an error.
    ``progress(done, total)`` is called after each batch of trials. ``executor``: an executor and its
    description to use (else one is made from ``workers`` by :func:`~sim.runs.executors.make_executor`)."""
    import optuna

    out = Path(out)
    old = check_folder(out, cal.fingerprint(), resume)
    out.mkdir(parents=True, exist_ok=True)
    for stray in out.glob(".tmp-*"):
        stray.unlink(missing_ok=True)
    budget = trials or cal.trials
    created = (old or {}).get("created") or utc_now()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    write_json(out / "manifest.json", _manifest(cal, created, "", 0, None))
    study = optuna.create_study(study_name=STUDY_NAME, storage=study_storage(out), direction="minimize",
                                load_if_exists=True)
    for tr in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(tr.number, state=optuna.trial.TrialState.FAIL)
    before = sum(_counted(t) for t in study.get_trials(deepcopy=False))
    study.sampler = optuna.samplers.TPESampler(seed=cal.sampler_seed(before),
                                               n_startup_trials=min(10, max(2, budget // 2)))
    dists = _distributions(cal)
    seeds = cal.fit_seeds()
    done, t0 = before, time.perf_counter()
    batch_size = workers if workers is not None else (os.cpu_count() or 1)
    with (contextlib.nullcontext(executor) if executor else make_executor(workers)) as (pool, desc):
        write_json(out / "manifest.json", _manifest(cal, created, desc, done, None))
        if progress:
            progress(done, budget)
        while done < budget:
            batch = [study.ask(dists) for _ in range(min(batch_size, budget - done))]
            futures = []
            for tr in batch:
                tr.set_user_attr("seeds", seeds)
                futures.append(pool.submit(run_trial, cal, dict(tr.params), seeds))
            for tr, fut in zip(batch, futures):
                try:
                    means = fut.result()
                except Exception as e:  # noqa: BLE001 - a failed trial is recorded, the study goes on
                    tr.set_user_attr("error", f"{type(e).__name__}: {e}")
                    study.tell(tr, state=optuna.trial.TrialState.FAIL)
                else:
                    tr.set_user_attr("achieved", {t.label: m for t, m in zip(cal.targets, means)})
                    study.tell(tr, objective(cal.targets, means))
                done += 1
            write_json(out / "manifest.json", _manifest(cal, created, desc, done, None))
            if progress:
                progress(done, budget)
    table = trials_table(cal, study)
    atomic_write(out / "trials.parquet", lambda p: table.to_parquet(p, index=False))
    complete = table[table["state"] == "COMPLETE"]
    if not len(complete):
        from ..runs.design import BatchError

        raise BatchError("trials", "no trial finished: see the errors in trials.parquet", None,
                         "没有完成的试验：错误见 trials.parquet")
    best = study.best_trial
    imp, note = _importances(cal, study, len(complete))
    best_rec = {"trial": best.number, "objective": best.value, "values": dict(best.params)}
    write_json(out / "manifest.json", _manifest(cal, created, desc, done, best_rec))
    return StudyOutcome(out, study, table, dict(best.params), float(best.value), best.number, done - before, done,
                        time.perf_counter() - t0, desc, imp, note)


def check_best(cal: Calibration, values: dict, workers: int | None = None,
               executor: tuple[cf.Executor, str] | None = None) -> dict[str, tuple[float, float, float]]:
    """``values`` re-run on the fresh seeds (never used in fitting): each target's mean and 95%
    interval — an observable's over its per-seed values (:func:`sim.analysis.stats.ci95`), a
    validation check's as the fact's evaluation gives it over the fresh seeds. One task per seed
    (and per fact)."""
    params = trial_params(cal, values)
    fact_vals = trial_values(cal, values)
    seeds = cal.fresh_seeds()
    obs = cal.observables
    out: dict[str, tuple[float, float, float]] = {}
    with (contextlib.nullcontext(executor) if executor else make_executor(workers)) as (pool, _):
        runs = [pool.submit(achieved_values, params, cal.events, cal.steps, [s], obs) for s in seeds] if obs else []
        facts = {fid: [pool.submit(measure_fact, fid, fact_vals, s) for s in seeds] for fid in cal.facts}
        per_seed = [f.result() for f in runs]
        for i, t in enumerate(obs):
            out[t.label] = tuple(float(x) for x in ci95([v[i][0] for v in per_seed]))
        for fid, futs in facts.items():
            checks = fact_checks(fid, [f.result() for f in futs])
            for t in cal.targets:
                if t.fact == fid:
                    c = checks[t.check]
                    out[t.label] = (float(c.value), float(c.lo), float(c.hi))
    return {t.label: out[t.label] for t in cal.targets}

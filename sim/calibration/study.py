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

A trial that raises (values the scenario cannot take, e.g. a free ``trust_threshold`` above the
scenario's ``loyalty_threshold``) or whose objective is not finite is told as failed with its error
(``error``, and ``error_zh`` for an input error, in the trial's user attributes); the study goes
on, and :attr:`StudyOutcome.failures` lists them for the console and the report. When no trial
finishes, the error names the folder and the first errors. ``--resume`` refuses a ``study.db`` that
is missing, empty, damaged or holds fewer trials than the folder records (it would silently start a
new study over the earlier trials' tables), and a folder whose calibration finished no trial is
named as such.

Trials are asked in batches of one per worker, run on the executor of
:func:`sim.runs.executors.make_executor` and told in trial order, so that a calibration with the
same file, seed and number of workers gives the same trials. The sampler is Optuna's TPE, seeded
from the master seed (:meth:`~sim.calibration.spec.Calibration.sampler_seed`).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..inputs.keys import set_values
from ..params import ParamError, Params
from ..runs.executors import WorkerLost, make_executor, worker_lost
from ..runs.provenance import git_revision, package_versions, utc_now
from ..runs.design import BatchError
from ..runs.store import atomic_write, check_folder, hold_folder, write_json
from ..simulate import simulate
from ..analysis.stats import ci95
from .facts import fact_checks, measure_fact
from .spec import Calibration, Target, objective, observe

__all__ = ["FORMAT", "STUDY_NAME", "StudyOutcome", "achieved_values", "run_study", "trials_table", "study_storage",
           "check_best", "trial_params", "trial_values", "run_trial", "trial_failures", "SHOWN_FAILURES"]

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

    return {f.key: (IntDistribution(int(f.lo), int(f.hi), log=f.log, step=f.multiple) if f.integer
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


#: at most this many failed trials are listed on the console and in report.md (all are in trials.parquet)
SHOWN_FAILURES = 20


def trial_failures(study) -> list[tuple[int, str, str]]:
    """The trials of ``study`` that failed by themselves (not interrupted), in trial order: their
    number and error, in English and Chinese."""
    from optuna.trial import TrialState

    return [(tr.number, tr.user_attrs["error"], tr.user_attrs.get("error_zh") or tr.user_attrs["error"])
            for tr in study.get_trials(deepcopy=False)
            if tr.state == TrialState.FAIL and "error" in tr.user_attrs]


def _error_texts(e: BaseException) -> tuple[str, str]:
    """A trial's error, in English and Chinese (a :class:`ParamError` has both)."""
    name = type(e).__name__
    return f"{name}: {e}", (f"{name}: {e.text('zh')}" if isinstance(e, ParamError) else f"{name}: {e}")


def _first_errors(failures: list[tuple[int, str, str]], k: int = 3) -> tuple[str, str]:
    """The first ``k`` failures, one per line, in English and Chinese."""
    en = "".join(f"\n  trial {n}: {msg}" for n, msg, _ in failures[:k])
    zh = "".join(f"\n  第 {n} 次试验：{msg}" for n, _, msg in failures[:k])
    if len(failures) > k:
        en += f"\n  … and {len(failures) - k} more"
        zh += f"\n  ……另有 {len(failures) - k} 次"
    return en, zh


@dataclass
class StudyOutcome:
    """What :func:`run_study` did: the study, its trials table, the best trial's values, timings,
    and the trials that failed (``failures``: number, error in English and Chinese; interrupted
    trials are not among them)."""

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
    failures: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many trials of the study failed (not counting interrupted ones)."""
        return len(self.failures)


def _manifest(cal: Calibration, created: str, executor: str, done: int, best: dict | None, failed: int = 0) -> dict:
    return {"format": FORMAT, "kind": "calibration", "name": cal.name, "source": cal.source, "base": cal.base,
            "fingerprint": cal.fingerprint(), "spec": cal.spec(), "trials_budget": cal.trials, "trials_done": done,
            "trials_failed": failed,
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
    out = Path(out)
    with hold_folder(out):  # (a second process given this --out now is refused)
        return _study_in(cal, out, trials, workers, resume, progress, executor)


def _study_in(cal: Calibration, out: Path, trials: int | None, workers: int | None, resume: bool,
              progress: Callable[[int, int], None] | None, executor) -> StudyOutcome:
    """The body of :func:`run_study` while it holds ``out``."""
    import optuna

    _check_not_failed(out, cal.fingerprint(), resume)
    old = check_folder(out, cal.fingerprint(), resume)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if old is not None:
        _check_resumable(out, old)  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    for stray in out.glob(".tmp-*"):
        stray.unlink(missing_ok=True)
    budget = trials or cal.trials
    created = (old or {}).get("created") or utc_now()
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
            lost = False
            for tr in batch:
                tr.set_user_attr("seeds", seeds)
                try:
                    futures.append(pool.submit(run_trial, cal, dict(tr.params), seeds))
                except Exception as e:
                    if not worker_lost(e):
                        raise
                    futures.append(None)
            for tr, fut in zip(batch, futures):
                if fut is None:  # the executor broke before the trial could start: interrupted
                    study.tell(tr, state=optuna.trial.TrialState.FAIL)
                    lost = True
            for tr, fut in zip(batch, futures):
                if fut is None:
                    continue
                try:
                    means = fut.result()
                except Exception as e:  # noqa: BLE001 - a failed trial is recorded, the study goes on
                    if worker_lost(e):  # not the trial's failure: interrupted, it does not use the budget
                        study.tell(tr, state=optuna.trial.TrialState.FAIL)
                        lost = True
                        continue
                    _fail(study, tr, *_error_texts(e))
                else:
                    tr.set_user_attr("achieved", {t.label: m for t, m in zip(cal.targets, means)})
                    value = objective(cal.targets, means)
                    if math.isfinite(value):
                        study.tell(tr, value)
                    else:  # e.g. an observable with no value (nan): the trial cannot be ranked
                        got = ", ".join(f"{t.label} = {m:.6g}" for t, m in zip(cal.targets, means))
                        _fail(study, tr, f"the objective is {value} ({got}): the trial cannot be ranked",
                              f"目标函数为 {value}（{got}）：无法对该试验排序")
                done += 1
            write_json(out / "manifest.json", _manifest(cal, created, desc, done, None))
            if progress:
                progress(done, budget)
            if lost:
                raise WorkerLost(f"{done} of {budget} trials are finished and kept in {out}; continue with --resume",
                                 f"{budget} 次试验中已完成的 {done} 次保存在 {out}；用 --resume 继续")
    table = trials_table(cal, study)
    atomic_write(out / "trials.parquet", lambda p: table.to_parquet(p, index=False))
    failures = trial_failures(study)
    complete = table[table["state"] == "COMPLETE"]
    if not len(complete):
        write_json(out / "manifest.json", _manifest(cal, created, desc, done, None, len(failures)))
        raise _nothing_finished(out, len(table), failures)
    best = study.best_trial
    imp, note = _importances(cal, study, len(complete))
    best_rec = {"trial": best.number, "objective": best.value, "values": dict(best.params)}
    write_json(out / "manifest.json", _manifest(cal, created, desc, done, best_rec, len(failures)))
    return StudyOutcome(out, study, table, dict(best.params), float(best.value), best.number, done - before, done,
                        time.perf_counter() - t0, desc, imp, note, failures)


def _fail(study, trial, error: str, error_zh: str) -> None:
    """Record ``trial`` as failed by itself, with its error in English and Chinese."""
    from optuna.trial import TrialState

    trial.set_user_attr("error", error)
    if error_zh != error:
        trial.set_user_attr("error_zh", error_zh)
    study.tell(trial, state=TrialState.FAIL)


def _nothing_finished(out: Path, n: int, failures: list[tuple[int, str, str]]) -> BatchError:
    """The error when no trial of the study in ``out`` finished: the folder, the first errors, what to do."""
    en, zh = _first_errors(failures) if failures else ("", "")  # none: only interrupted trials
    parquet = out / "trials.parquet"
    return BatchError("trials", f"no trial finished: {len(failures)} of the {n} trials in {out} failed{en}\n"
                      f"Every error is in {parquet}, column 'error'. Fix the cause in the calibration file (often "
                      "bounds under which the scenario breaks a rule between its parameters), then calibrate into "
                      f"another folder: {out} keeps these trials", None,
                      f"没有完成的试验：{out} 中的 {n} 次试验有 {len(failures)} 次失败{zh}\n"
                      f"全部错误见 {parquet} 的 'error' 列。请在校准文件中排除原因（常见的是取值范围使情景违反参数之间的"
                      f"规则），然后校准到另一个文件夹：{out} 保留这些试验")


def _earlier_trials(out: Path) -> pd.DataFrame | None:
    """The trials table a calibration left in ``out`` (``None``: none, or unreadable)."""
    try:
        return pd.read_parquet(out / "trials.parquet", columns=["trial", "state", "error"])
    except Exception:  # noqa: BLE001 - missing or damaged: the caller decides without it
        return None


def _check_not_failed(out: Path, fingerprint: str, resume: bool) -> None:
    """A folder whose calibration ended with no finished trial: say so, and what to do (another
    folder; ``--resume`` only draws more trials of the same file)."""
    man = out / "manifest.json"
    if not man.is_file():
        return
    try:
        old = json.loads(man.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # check_folder says it cannot be read
    if not isinstance(old, dict) or old.get("kind") != "calibration":
        return
    table = _earlier_trials(out)
    if table is None or (table["state"] == "COMPLETE").any():
        return
    same = old.get("fingerprint") == fingerprint
    if resume and same:
        return  # more trials of the same file may finish
    first = next((e for e in table["error"] if isinstance(e, str) and e != "interrupted"), None)
    why = f" (first error: {first})" if first else ""
    why_zh = f"（第一个错误：{first}）" if first else ""
    en = (f"--out {out} holds a calibration none of whose {len(table)} trials finished{why}; nothing was overwritten. "
          f"Choose another folder (or delete {out} once its errors are read: {out / 'trials.parquet'}, column 'error')")
    zh = (f"--out {out} 中的校准 {len(table)} 次试验无一完成{why_zh}；未覆盖任何内容。请选择另一个文件夹"
          f"（或在读过错误后删除 {out}：{out / 'trials.parquet'} 的 'error' 列）")
    if same:
        en += "; --resume draws more trials of the same file"
        zh += "；--resume 会为同一文件抽取更多试验"
    raise BatchError("--resume" if resume else "--out", en, None, zh)


def _check_resumable(out: Path, old: dict) -> None:
    """``--resume`` of the calibration in ``out``: its ``study.db`` must hold at least the trials
    ``manifest.json`` and ``trials.parquet`` record. A missing, empty or damaged database would
    silently start a new study and overwrite the earlier trials' tables: refused, nothing changed."""
    import optuna

    db = out / "study.db"
    table = _earlier_trials(out)
    earlier = max(int(old.get("trials_done") or 0), 0 if table is None else len(table))
    problem = None
    if not db.exists():
        if earlier == 0 and not (out / "trials.parquet").exists():
            return  # stopped before its first trial: nothing to lose
        problem = ("is missing", "不存在")
    elif db.stat().st_size == 0:
        if earlier == 0 and not (out / "trials.parquet").exists():
            return
        problem = ("is empty (0 bytes)", "是空文件（0 字节）")
    else:
        import sqlalchemy.exc

        try:
            study = optuna.load_study(study_name=STUDY_NAME, storage=study_storage(out))
            n = len(study.get_trials(deepcopy=False))
        except KeyError:
            problem = ("holds no calibration study", "中没有校准研究")
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.OptunaError, RuntimeError, ValueError) as e:
            reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            problem = (f"is damaged ({reason})", f"已损坏（{reason}）")
        else:
            if n < earlier:
                problem = (f"holds {n} trials where the folder records {earlier}",
                           f"只有 {n} 次试验，而文件夹记录了 {earlier} 次")
    if problem is None:
        return
    raise BatchError("--resume", f"--resume: {db} {problem[0]}: the {earlier} earlier trials of {out} cannot be resumed; "
                     "nothing was changed (trials.parquet, best.toml and report.md keep what they held). Calibrate into "
                     "a new folder", None,
                     f"--resume：{db} {problem[1]}：{out} 中之前的 {earlier} 次试验无法继续；未作任何更改（trials.parquet、"
                     "best.toml 与 report.md 保持原样）。请校准到新文件夹")


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

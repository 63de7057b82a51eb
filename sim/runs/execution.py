"""Running an experiment's runs: one run (:func:`execute`), and all of them into a results folder
(:func:`run_experiment`) with any ``concurrent.futures``-style executor, progress and cancelling.
(The module is ``execution``, not ``execute``, so that the function :func:`sim.runs.execute` does
not hide it.)

Each run's tables are encoded as Parquet in the worker (:func:`execute_parts`) and written by the
process that collects them, each part atomically as its run finishes; a run that raises is recorded
and the others go on; ``resume=True`` redoes exactly the runs that have no parts; an interrupt
(Ctrl-C) cancels the runs not yet started and leaves a folder of whole runs that ``--resume``
finishes. Results are the same whatever the executor and the number of workers.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import io
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..mechanism.state import CHURNED, STAGES
from ..metrics import MERCHANT_METRICS
from ..simulate import simulate
from .design import Experiment, RunTask
from .executors import make_executor
from .provenance import utc_now
from .store import atomic_write, export_csv, manifest, part_path, prepare_folder, write_json

__all__ = ["RunOutput", "RunParts", "Summary", "execute", "execute_parts", "customer_table", "run_experiment"]


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
    cust = customer_table(res.model, ids) if task.customers else None
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


def customer_table(model, ids: dict) -> pd.DataFrame:
    """The final state of every customer in ``model``'s market: one row each, with the run's ``ids``
    (asked for with ``customers``)."""
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
    old = prepare_folder(out, exp, resume)
    (out / "parts").mkdir(parents=True, exist_ok=True)
    for stray in (out / "parts").glob(".tmp-*"):
        stray.unlink(missing_ok=True)
    created = (old or {}).get("created") or utc_now()
    tasks = exp.tasks()
    runs: dict[int, dict] = {}
    old_runs = {r["run_id"]: r for r in (old or {}).get("runs", [])}
    todo = []
    for t in tasks:
        rec = {"run_id": t.run_id, "point": t.point, "label": t.label, "replicate": t.replicate, "seed": t.seed,
               "status": "pending", "error": None, "started": None, "finished": None, "seconds": None,
               "steps_run": None}
        if part_path(out, "market", t.run_id).exists() and part_path(out, "merchants", t.run_id).exists():
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
        write_json(out / "manifest.json", manifest(exp, runs, created, desc))
        started = utc_now()
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
                rec["finished"] = utc_now()
                try:
                    res: RunParts = fut.result()
                except Exception as e:  # noqa: BLE001 - a failed run is recorded, the sweep goes on
                    msg = f"{type(e).__name__}: {e}"
                    rec.update(status="failed", error=msg)
                    write_json(part_path(out, "failed", t.run_id), {**rec, "traceback": "".join(
                        traceback.format_exception(type(e), e, e.__traceback__))[-4000:]})
                    failures[t.run_id] = msg
                    failed += 1
                else:
                    # market last: a run counts as finished when its market part exists
                    for table in ("customers", "merchants", "market"):
                        if table in res.parts:
                            atomic_write(part_path(out, table, t.run_id),
                                          lambda p, b=res.parts[table]: p.write_bytes(b))
                    part_path(out, "failed", t.run_id).unlink(missing_ok=True)
                    rec.update(status="done", seconds=round(res.seconds, 3), steps_run=res.steps_run)
                    done += 1
                if progress:
                    progress(skipped + done, failed, len(tasks))
                if time.perf_counter() - last_write > 2.0:
                    write_json(out / "manifest.json", manifest(exp, runs, created, desc))
                    last_write = time.perf_counter()
        finally:
            for f in futures:
                f.cancel()
            write_json(out / "manifest.json", manifest(exp, runs, created, desc))
    if csv:
        export_csv(out)
    return Summary(out, len(tasks), skipped + done, failed, skipped, time.perf_counter() - t_start, desc, failures)

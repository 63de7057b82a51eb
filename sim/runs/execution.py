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
import json
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
from .executors import WorkerLost, make_executor, worker_lost
from .provenance import utc_now
from .design import BatchError
from .store import (RUN_META, TABLES, atomic_write, clean_temporary, export_csv, hold_folder, manifest,
                    part_path, part_readable, part_record, prepare_folder, storage_error, write_json)

__all__ = ["RunOutput", "RunParts", "Summary", "execute", "execute_parts", "customer_table", "run_experiment",
           "runs_in_flight", "available_memory"]


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
    record: dict = field(default_factory=dict)


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


def _parquet_bytes(df: pd.DataFrame, record: dict | None = None) -> bytes:
    """``df`` as Parquet bytes; ``record`` (the run's bookkeeping) goes into the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if record is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               RUN_META: json.dumps(record).encode("utf-8")})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def execute_parts(task: RunTask) -> RunParts:
    """Run one task (:func:`execute`) and encode its tables as Parquet part files, in the worker.
    The market part carries the run's record (when it started and finished, seconds, steps run)."""
    started = utc_now()
    out = execute(task)
    record = {"run_id": task.run_id, "seed": task.seed, "started": started, "finished": utc_now(),
              "seconds": round(out.seconds, 3), "steps_run": out.steps_run}
    parts = {"market": _parquet_bytes(out.market, record), "merchants": _parquet_bytes(out.merchants)}
    if out.customers is not None:
        parts["customers"] = _parquet_bytes(out.customers)
    return RunParts(out.run_id, parts, out.seconds, out.steps_run, record)


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


def _memory_check(exp: Experiment, workers: int) -> None:
    """Refuse, before anything starts, settings whose runs cannot fit in this machine's memory:
    one run at least must fit; ``workers`` runs at once should."""
    from ..model import memory_estimate

    if not exp.points:
        return
    need = max(memory_estimate(p.params) for p in exp.points)
    avail = available_memory()
    if avail is None:
        return
    at_once = max(1, min(workers, exp.n_runs))
    if need * at_once > avail:
        gib = 1024 ** 3
        worst = max(exp.points, key=lambda p: memory_estimate(p.params)).params
        what = (f"n_customers = {worst.n_customers:,}, history_limit = {worst.history_limit:,}, "
                f"history_depth = {worst.history_depth}")
        many = f" × {at_once} runs at once" if at_once > 1 else ""
        many_zh = f" × 同时 {at_once} 次运行" if at_once > 1 else ""
        fewer = "; or fewer --workers" if at_once > 1 else ""
        raise BatchError("n_customers", f"a run with {what} needs about {need / gib:.1f} GiB{many}; this machine has "
                         f"{avail / gib:.1f} GiB available. Lower n_customers, history_limit or history_depth{fewer}. "
                         "Nothing was run or written", None,
                         f"参数为 {what} 的一次运行约需 {need / gib:.1f} GiB{many_zh}；本机可用内存为 {avail / gib:.1f} GiB。"
                         f"请减小 n_customers、history_limit 或 history_depth{'，或减少 --workers' if at_once > 1 else ''}。"
                         "未运行、未写入任何内容")


def available_memory() -> int | None:
    """Bytes of memory available for new work on this machine (Linux ``MemAvailable``), or ``None``."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def runs_in_flight(workers: int | None, local: bool) -> int:
    """How many runs :func:`run_experiment` keeps submitted at once: a few per local worker (so each
    always has the next run waiting); a cluster, or an executor of unknown size, may have many
    workers, so it gets many — still bounded, so a large sweep is never queued whole in memory."""
    if not local:
        return 1024
    return max(8, 4 * (workers if workers is not None else (os.cpu_count() or 1)))


def _workers_of(workers: int | None, scheduler: str | None, executor) -> int:
    """How many runs at once use this machine's memory (0: they run elsewhere)."""
    if scheduler:
        return 0  # a Dask scheduler elsewhere: its workers' machines, not this one
    if executor is not None:
        return 1  # an executor whose size is unknown: one run at least must fit
    return workers if workers is not None else (os.cpu_count() or 1)


def run_experiment(exp: Experiment, out: str | os.PathLike, *, workers: int | None = None,
                   scheduler: str | None = None, cluster: str | None = None, resume: bool = False,
                   progress: Callable[[int, int, int], None] | None = None, csv: bool = False,
                   executor: cf.Executor | None = None, in_flight: int | None = None) -> Summary:
    """Run every run of ``exp`` not yet in ``out`` and write its parts and manifest.

    ``progress(done, failed, total)`` is called after each run. A run that raises is recorded
    (``parts/failed/run-*.json`` and the manifest) and the others go on. ``resume=True`` continues a
    folder made by the same experiment; otherwise an existing results folder is an error.
    ``executor``: use this ``concurrent.futures``-style executor (e.g. a Dask client's
    ``get_executor()`` in a notebook) instead of making one from ``workers``/``scheduler``/``cluster``.
    ``in_flight``: at most this many runs submitted and not yet collected (default: :func:`runs_in_flight`).

    Before anything is written: the folder is checked (never overwritten, writable) and so is the
    memory the runs need; the executor is started. A start that fails therefore leaves nothing
    behind. On resume, the temporary files of a kill are removed, damaged parts are redone, and every
    finished run's record is read back from its part. Runs are submitted a few at a time, so a
    sweep of many runs does not hold them all in memory. An error of the operating system while
    writing (disk full) stops the sweep with a :class:`~sim.runs.design.BatchError` saying what to do;
    runs already written are kept and ``--resume`` continues.
    """
    out = Path(out)
    here = _workers_of(workers, scheduler, executor)
    if here:
        _memory_check(exp, here)
    with hold_folder(out):  # (a second process given this --out now is refused)
        old = prepare_folder(out, exp, resume)
        created = (old or {}).get("created") or utc_now()
        context = (contextlib.nullcontext((executor, f"given executor ({type(executor).__name__})"))
                   if executor is not None else make_executor(workers, scheduler, cluster))
        in_flight = in_flight or runs_in_flight(workers, local=executor is None and not scheduler and not cluster)
        try:
            with context as (pool, desc):
                return _run_in(exp, out, old, created, pool, desc, progress, csv, in_flight)
        except OSError as e:
            raise storage_error(e, getattr(e, "filename", None) or out) from None


def _run_in(exp: Experiment, out: Path, old: dict | None, created: str, pool, desc: str, progress, csv: bool,
            in_flight: int) -> Summary:
    """The body of :func:`run_experiment` once the executor runs."""
    for table in TABLES:
        (out / "parts" / table).mkdir(parents=True, exist_ok=True)
    clean_temporary(out)
    tasks = exp.tasks()
    runs: dict[int, dict] = {}
    old_runs = {r["run_id"]: r for r in (old or {}).get("runs", [])}
    todo = []
    for t in tasks:
        rec = {"run_id": t.run_id, "point": t.point, "label": t.label, "replicate": t.replicate, "seed": t.seed,
               "status": "pending", "error": None, "started": None, "finished": None, "seconds": None,
               "steps_run": None}
        mk, mc = part_path(out, "market", t.run_id), part_path(out, "merchants", t.run_id)
        whole = old is not None and mk.exists() and mc.exists() and part_readable(mk) and part_readable(mc)
        if whole and t.customers:
            cu = part_path(out, "customers", t.run_id)
            whole = cu.exists() and part_readable(cu)
        if whole:
            prev = {**(part_record(mk) or {}), **{k: v for k, v in old_runs.get(t.run_id, {}).items() if v is not None}}
            rec.update({k: prev.get(k) for k in ("started", "finished", "seconds", "steps_run")})
            rec["status"] = "done"
        else:
            for table in ("market", "merchants", "customers"):  # a damaged or half-written run is redone
                part_path(out, table, t.run_id).unlink(missing_ok=True)
            todo.append(t)
        runs[t.run_id] = rec
    skipped = len(tasks) - len(todo)
    t_start = time.perf_counter()
    done = failed = 0
    failures: dict[int, str] = {}
    last_write, write_cost = 0.0, 0.0

    def save_manifest() -> None:
        nonlocal last_write, write_cost
        t0 = time.perf_counter()
        write_json(out / "manifest.json", manifest(exp, runs, created, desc))
        last_write = time.perf_counter()
        write_cost = last_write - t0

    save_manifest()
    started = utc_now()
    futures: dict = {}
    queue = iter(todo)

    lost = False  # a worker process ended from outside: the executor is broken

    def submit_more() -> None:
        nonlocal lost
        while len(futures) < in_flight and not lost:
            t = next(queue, None)
            if t is None:
                return
            try:
                fut = pool.submit(execute_parts, t)
            except Exception as e:
                if not worker_lost(e):
                    raise
                lost = True
                return
            runs[t.run_id]["started"] = started
            futures[fut] = t

    if progress:
        progress(skipped, 0, len(tasks))
    try:
        submit_more()
        while futures:
            finished, _ = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                t = futures.pop(fut)
                rec = runs[t.run_id]
                rec["finished"] = utc_now()
                try:
                    res: RunParts = fut.result()
                except Exception as e:  # noqa: BLE001 - a failed run is recorded, the sweep goes on
                    if worker_lost(e):  # not the run's failure: it stays to be done (--resume)
                        rec.update(started=None, finished=None)
                        lost = True
                        continue
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
                    rec.update(status="done", seconds=round(res.seconds, 3), steps_run=res.steps_run,
                               **{k: res.record[k] for k in ("started", "finished") if res.record.get(k)})
                    done += 1
                if progress:
                    progress(skipped + done, failed, len(tasks))
            if lost:  # the runs still out were in the broken executor too: they stay to be done
                for t in futures.values():
                    runs[t.run_id].update(started=None, finished=None)
                futures.clear()
                break
            submit_more()
            # save the bookkeeping every 2 s, less often when the manifest is large (a write must not
            # take more than a twentieth of the time)
            if time.perf_counter() - last_write > max(2.0, 20 * write_cost):
                save_manifest()
    finally:
        for f in futures:
            f.cancel()
        try:
            save_manifest()
        except OSError:
            pass  # the disk is full: every finished run's record is in its part; --resume rebuilds it
    if lost:
        n = skipped + done
        also = (f" ({failed} more failed by themselves)", f"（另有 {failed} 次自身失败）") if failed else ("", "")
        raise WorkerLost(f"{n} of {len(tasks)} runs are finished and kept in {out}{also[0]}; the others are to be done: "
                         "continue with --resume",
                         f"{len(tasks)} 次运行中已完成的 {n} 次保存在 {out}{also[1]}；其余尚待运行：用 --resume 继续")
    if csv:
        export_csv(out)
    return Summary(out, len(tasks), skipped + done, failed, skipped, time.perf_counter() - t_start, desc, failures)

"""The results folder: its tidy tables written part by part, read back, exported; its manifest.

``DIR/manifest.json``
    the experiment spec, the base parameters, every point's values, the seeds, package versions,
    git revision, timestamps and each run's status;
``DIR/parts/market/run-<run>.parquet``
    one row per step (or only the last step) of one run: ``run_id, point, label, replicate, seed``,
    one column per varied parameter, ``step`` and the measured observables of :data:`sim.metrics.METRICS`.
    Each part also carries its run's record (``started``, ``finished``, ``seconds``, ``steps_run``)
    in its Parquet metadata, so the bookkeeping survives a kill between two manifest saves;
``DIR/parts/merchants/run-<run>.parquet``
    the same per merchant (:data:`sim.metrics.MERCHANT_METRICS`);
``DIR/parts/customers/run-<run>.parquet``
    only when asked (``customers=True``, ``--customers``): every customer's final state;
``DIR/parts/failed/run-<run>.json``
    a run that raised: its error (the sweep goes on).

One folder per table, so any Parquet reader given ``DIR/parts/market`` reads one table
(``pandas.read_parquet("DIR/parts/market")``, DuckDB ``read_parquet('DIR/parts/market/*.parquet')``).
Every file is written atomically (a temporary file renamed into place), so a folder killed at any
moment holds only whole runs; temporary files left by a kill are removed by the next ``--resume``.
A folder is never overwritten silently (:func:`check_folder`), and nothing is written until the
target is known to be writable (:func:`check_target`). Errors of the operating system while writing
(disk full, read-only, no permission) become a :class:`~sim.runs.design.BatchError` saying what to do
(:func:`storage_error`). :func:`read_results` reads a folder back as tidy tables.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from .design import BatchError, Experiment, plain
from .provenance import git_revision, package_versions, utc_now

__all__ = ["FORMAT", "ID_COLS", "TABLES", "RUN_META", "LOCK", "hold_folder", "part_path", "atomic_write", "write_json",
           "prepare_folder",
           "check_folder", "check_target", "storage_error", "clean_temporary", "part_record", "part_readable",
           "manifest", "ResultSet", "read_results", "export_csv"]

FORMAT = "loyalty-sim results 2"
#: earlier formats :func:`read_results` still reads (format 1: every table's parts in one folder)
OLD_FORMATS = ("loyalty-sim results 1",)
#: the tables of a results folder, one subfolder of ``parts/`` each (``failed`` holds JSON records)
TABLES = ("market", "merchants", "customers", "failed")
#: the Parquet metadata key of a part's run record
RUN_META = b"loyalty_sim_run"
#: the columns that identify a run in every table
ID_COLS = ("run_id", "point", "label", "replicate", "seed")


def part_path(out: Path, table: str, run_id: int, fmt: str = FORMAT) -> Path:
    """The part file of one run's ``table`` (market, merchants, customers or failed) in ``out``
    (in the layout of results format ``fmt``)."""
    ext = "json" if table == "failed" else "parquet"
    if fmt in OLD_FORMATS:
        return out / "parts" / f"{table}-{run_id:06d}.{ext}"
    return out / "parts" / table / f"run-{run_id:06d}.{ext}"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` to a temporary file beside ``path``, synced, then renamed to ``path``. If
    anything fails (a full disk), the temporary file is removed and the error raised."""
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise


def clean_temporary(out: Path) -> int:
    """Remove the temporary files a kill left in ``out`` and its ``parts`` folders (``.tmp-*``,
    never anything else); returns how many."""
    n = 0
    dirs = [out, out / "parts", *((out / "parts" / t) for t in TABLES)]
    for d in dirs:
        if d.is_dir():
            for stray in d.glob(".tmp-*"):
                if stray.is_file():
                    stray.unlink(missing_ok=True)
                    n += 1
    return n


#: what to do about an error of the operating system, by errno
_OS_ADVICE = {
    errno.ENOSPC: ("the disk is full", "free some space and run the same command again with --resume",
                   "磁盘已满", "请释放空间，然后加 --resume 重新运行同一命令"),
    errno.EDQUOT: ("the disk quota is used up", "free some space and run the same command again with --resume",
                   "磁盘配额已用完", "请释放空间，然后加 --resume 重新运行同一命令"),
    errno.EROFS: ("the file system is read-only", "choose a folder on a writable disk with --out",
                  "文件系统为只读", "请用 --out 选择可写磁盘上的文件夹"),
    errno.EACCES: ("permission denied", "choose a folder you may write to with --out",
                   "没有权限", "请用 --out 选择你有写权限的文件夹"),
    errno.EPERM: ("permission denied", "choose a folder you may write to with --out",
                  "没有权限", "请用 --out 选择你有写权限的文件夹"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "choose another --out",
                    "路径中有一部分是文件而不是文件夹", "请另选 --out"),
    errno.ENOENT: ("the folder cannot be created there, or was removed", "choose another --out",
                   "无法在该处创建文件夹，或它已被删除", "请另选 --out"),
    errno.EIO: ("the disk reported an input/output error", "check the disk, then run again with --resume",
                "磁盘报告输入/输出错误", "请检查磁盘，然后加 --resume 重新运行"),
}


def storage_error(e: OSError, path: os.PathLike | str, key: str = "--out", started: bool = True) -> BatchError:
    """A clear message for an error of the operating system at ``path``: what happened and what to
    do (e.g. "disk full: free space and rerun with --resume"); ``started``: some runs may have
    finished already (they are kept)."""
    what, todo, what_zh, todo_zh = _OS_ADVICE.get(e.errno, (e.strerror or type(e).__name__, "check the path and try again",
                                                            e.strerror or type(e).__name__, "请检查路径后重试"))
    kept, kept_zh = (". Runs already finished are kept", "。已完成的运行都会保留") if started else (
        ". Nothing was written", "。未写入任何内容")
    return BatchError(key, f"cannot write {path}: {what}; {todo}{kept}", None, f"无法写入 {path}：{what_zh}；{todo_zh}{kept_zh}")


def check_target(out: Path) -> None:
    """That ``out`` can be made and written, before anything is written: its nearest existing
    ancestor is a folder, writable, on a file system that is not read-only."""
    out = Path(out)
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe != out and not probe.is_dir():
        raise storage_error(OSError(errno.ENOTDIR, "not a folder"), probe, started=False)
    target = out if out.exists() else probe
    try:
        ro = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        ro = False
    if ro:
        raise storage_error(OSError(errno.EROFS, "read-only"), out, started=False)
    if not os.access(target, os.W_OK | os.X_OK):
        raise storage_error(OSError(errno.EACCES, "permission denied"), out, started=False)
    # what the checks above cannot see (a kernel file system such as /proc, a full disk, a mount that
    # refuses new files even to root): make the folder and a file in it, then remove what was made
    made = [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        trial = out / f".loyalty-sim-write-check-{os.getpid()}"
        trial.write_bytes(b"")
        trial.unlink()
    except OSError as e:
        raise storage_error(e, out, started=False) from None
    finally:
        for p in made:  # innermost first
            try:
                p.rmdir()
            except OSError:
                pass


#: the file in a results folder that the process writing there holds locked (:func:`hold_folder`)
LOCK = ".loyalty-sim.lock"


@contextlib.contextmanager
def hold_folder(out: Path):
    """Hold the results folder ``out`` for this process while it writes there: a second
    loyalty-sim given the same ``--out`` at the same time is refused (exit 2) instead of mixing its
    runs, its manifest or its clean-up with this one's. The lock is the operating system's
    (``flock`` on ``out``/:data:`LOCK`), so it goes with the process however it ends (``kill -9``
    included) and the next ``--resume`` finds the folder free; the lock file is removed again when
    the process that made it is done. Tries ``out`` (:func:`check_target`) and makes it if needed, and
    removes it again if nothing was written there. Where ``flock`` does not exist (Windows)
    nothing is locked."""
    out = Path(out)
    fresh = not out.exists()
    if fresh or out.is_dir():  # (a file there: check_folder says so in its own words)
        check_target(out)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on the platforms the project runs on
        yield
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        had_lock = (out / LOCK).exists()
        fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise storage_error(e, out, started=False) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BatchError("--out", f"--out {out}: another loyalty-sim is writing in this folder now; nothing was "
                             "changed. Wait for it to finish (continue it with --resume if it stopped) or choose "
                             "another folder", None,
                             f"--out {out}：另一个 loyalty-sim 正在向此文件夹写入；未作任何更改。请等它结束"
                             "（若已中断，可用 --resume 继续），或选择其他文件夹") from None
        yield
    finally:
        os.close(fd)  # (closing releases the lock)
        with contextlib.suppress(OSError):
            if not had_lock:  # leave the folder as this process found it, results aside
                (out / LOCK).unlink()
            if fresh and not _contents(out):  # refused before writing anything: no folder left behind
                out.rmdir()


def _contents(out: Path) -> list[Path]:
    """What ``out`` holds, its lock file aside."""
    return [p for p in out.iterdir() if p.name != LOCK]


def _debris_only(out: Path) -> bool:
    """``out`` holds nothing but what a start that failed before its first save can leave: empty
    ``parts`` folders and temporary files."""
    for p in _contents(out):
        if p.name.startswith(".tmp-") and p.is_file():
            continue
        if p.name != "parts" or not p.is_dir():
            return False
        for q in p.iterdir():
            if q.name.startswith(".tmp-") and q.is_file():
                continue
            if q.name not in TABLES or not q.is_dir() or any(not r.name.startswith(".tmp-") for r in q.iterdir()):
                return False
    return True


def write_json(path: Path, obj) -> None:
    """``obj`` as JSON (UTF-8, indented), written atomically."""
    atomic_write(path, lambda p: p.write_text(json.dumps(obj, indent=1, default=str, ensure_ascii=False),
                                               encoding="utf-8"))


def prepare_folder(out: Path, exp: Experiment, resume: bool) -> dict | None:
    """Check the output folder: never overwrite; on resume, the same experiment. Returns the old
    manifest when resuming."""
    return check_folder(out, exp.fingerprint(), resume)


def check_folder(out: Path, fingerprint: str, resume: bool) -> dict | None:
    """Check an output folder for a piece of work whose settings hash to ``fingerprint`` (an
    experiment, a calibration): never overwrite; ``resume`` only continues the same work (its
    ``manifest.json`` has the same fingerprint). Returns the old manifest when resuming."""
    out = Path(out)
    man = out / "manifest.json"
    if out.exists() and not out.is_dir():
        raise BatchError("--out", f"--out {out}: exists and is not a folder", None, f"--out {out}：已存在且不是文件夹")
    if man.exists():
        try:
            old = json.loads(man.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise BatchError("--out", f"{man}: cannot read the manifest ({e}); nothing was changed", None,
                             f"{man}：无法读取清单（{e}）；未作任何更改") from None
        if not isinstance(old, dict):
            raise BatchError("--out", f"{man}: not a manifest written by loyalty-sim (it holds a JSON "
                             f"{type(old).__name__}, not an object); nothing was changed", None,
                             f"{man}：不是 loyalty-sim 写出的清单（其中是 JSON {type(old).__name__}，不是对象）；未作任何更改")
        if not resume:
            raise BatchError("--out", f"--out {out} already holds results; nothing was overwritten. "
                             "Use --resume to finish that work, or choose another folder", None,
                             f"--out {out} 已有结果，未覆盖任何内容。使用 --resume 继续，或选择其他文件夹")
        if old.get("format", FORMAT) in OLD_FORMATS:
            raise BatchError("--resume", f"--resume: {out} was written by an earlier version of loyalty-sim "
                             f"({old.get('format')}); it can still be read (analyze), but finish the work in a new "
                             "folder", None, f"--resume：{out} 由较早版本的 loyalty-sim 写出（{old.get('format')}）；"
                             "仍可读取（analyze），但请在新文件夹中完成这项工作")
        if old.get("fingerprint") != fingerprint:
            raise BatchError("--resume", f"--resume: {out} holds a different experiment or calibration "
                             f"({old.get('name')!r}); resume only continues the same one with the same settings", None,
                             f"--resume：{out} 中是另一个实验或校准（{old.get('name')!r}）；只能以相同设置继续同一项工作")
        return old
    if out.exists() and _contents(out) and _debris_only(out):
        shutil.rmtree(out / "parts", ignore_errors=True)  # a start that failed before its first save
        clean_temporary(out)
    if out.exists() and _contents(out):
        raise BatchError("--out", f"--out {out}: the folder is not empty and holds no results; nothing was "
                         "overwritten. Choose a new or empty folder", None,
                         f"--out {out}：文件夹非空且不是结果文件夹；未覆盖任何内容。请选择新的或空的文件夹")
    return None  # a fresh start (also when --resume finds nothing to resume)


def manifest(exp: Experiment, runs: dict, created: str, executor: str) -> dict:
    """The manifest of ``exp``'s folder: what ran, with which seeds, code and packages, and each run's status."""
    return {
        "format": FORMAT,
        "name": exp.name,
        "kind": exp.kind,
        "design": exp.design,
        "base": exp.base,
        "source": exp.source,
        "fingerprint": exp.fingerprint(),
        "replicates": exp.replicates,
        "steps": exp.steps,
        "master_seed": exp.seed,
        "seeds": exp.seeds(),
        "seeding": ("the run's own seed, given with --run-seed (not spawned)" if exp.run_seeds is not None else
                    "replicate r of every point uses seeds[r], spawned from SeedSequence(master_seed)"),
        "measure": exp.measure,
        "customers": exp.customers,
        "metrics": list(exp.metrics),
        "stop": list(exp.stop) if exp.stop else None,
        "varied": [f.to_dict() for f in exp.factors],
        "problem": exp.problem,
        **({"sobol": {"calc_second_order": exp.options.get("calc_second_order", False),
                      "samples": exp.options.get("samples")}} if exp.design == "sobol" else {}),
        **({"morris": {"num_levels": exp.options.get("num_levels", 4),
                       "samples": exp.options.get("samples")}} if exp.design == "morris" else {}),
        "spec": exp.spec(),
        "points": [{"point": p.point, "label": p.label, "values": plain(p.values)} for p in exp.points],
        "params": exp.points[0].params.to_dict() if exp.points else {},
        "versions": package_versions(),
        "git": git_revision(),
        "executor": executor,
        "created": created,
        "updated": utc_now(),
        "runs": [runs[k] for k in sorted(runs)],
    }


def part_record(path: Path) -> dict | None:
    """The run record a market part carries in its Parquet metadata (``started``, ``finished``,
    ``seconds``, ``steps_run``), or ``None`` (an earlier format, or an unreadable part)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[RUN_META]) if RUN_META in meta else None
    except Exception:  # noqa: BLE001 - a damaged part has no record
        return None


def part_readable(path: Path) -> bool:
    """Whether the Parquet part at ``path`` is whole (its footer and schema can be read)."""
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
        return True
    except Exception:  # noqa: BLE001 - truncated, empty, not Parquet
        return False


@dataclass
class ResultSet:
    """A results folder read back: its manifest and two tidy tables (and the customers' when kept).
    ``missing``: the runs of the experiment that have no results in the folder (failed, or not run
    yet: ``--resume`` runs them)."""

    manifest: dict
    market: pd.DataFrame
    merchants: pd.DataFrame
    customers: pd.DataFrame | None = None
    missing: tuple = ()

    @property
    def varied(self) -> list[str]:
        return [v["name"] for v in self.manifest.get("varied", [])]


def _read_parts(files: list[Path]) -> pd.DataFrame | None:
    """The parts in ``files`` as one table; a damaged part is named in the error."""
    import pyarrow as pa

    frames = []
    for f in files:
        try:
            frames.append(pd.read_parquet(f))
        except (OSError, ValueError, pa.ArrowException) as e:
            raise BatchError("DIR", f"{f}: this part is damaged or incomplete ({type(e).__name__}); delete it and "
                             "run the same command with --resume to redo that run", None,
                             f"{f}：该部分文件已损坏或不完整（{type(e).__name__}）；请删除它，并加 --resume 重新运行同一命令以重做该次运行") from None
    return pd.concat(frames, ignore_index=True) if frames else None


def _manifest_problem(m: dict) -> str | None:
    """What is wrong with the fields of a manifest that reading and analysing rely on (None: nothing)."""
    runs = m.get("runs", [])
    if not isinstance(runs, list) or not all(isinstance(r, dict) and isinstance(r.get("run_id"), int) for r in runs):
        return "'runs' must be a list of runs, each with a whole-number run_id"
    varied = m.get("varied", [])
    if not isinstance(varied, list) or not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in varied):
        return "'varied' must be a list of parameters, each with a name"
    for key, kind in (("steps", int), ("replicates", int), ("varied", list), ("points", list), ("seeds", list)):
        if key in m and not isinstance(m[key], kind) or isinstance(m.get(key), bool):
            return f"'{key}' must be {'a whole number' if kind is int else 'a list'}"
    return None


def read_results(out: str | os.PathLike) -> ResultSet:
    """Read ``out``'s manifest and every finished run's parts, sorted by run and step."""
    out = Path(out)
    man = out / "manifest.json"
    if not man.is_file():
        raise BatchError("DIR", f"{out}: no manifest.json here; give a folder written by `loyalty-sim run`, "
                         "`sweep` or `compare`", None, f"{out}：此处没有 manifest.json；请给出由 run、sweep 或 compare 写出的文件夹")
    try:
        if man.stat().st_size > 512 * 1024 * 1024:
            raise ValueError("larger than 512 MB")
        manifest = json.loads(man.read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:
        raise BatchError("DIR", f"{man}: not a valid manifest ({e})", None, f"{man}：清单无效（{e}）") from None
    fmt = manifest.get("format") if isinstance(manifest, dict) else None
    if isinstance(fmt, str) and fmt.startswith("loyalty-sim calibration"):
        raise BatchError("DIR", f"{out} holds a calibration, not runs to analyse: its report is {out / 'report.md'} "
                         f"and its best parameters {out / 'best.toml'} (run that scenario to analyse it)", None,
                         f"{out} 中是一次校准，而不是可分析的运行：其报告是 {out / 'report.md'}，最佳参数是 "
                         f"{out / 'best.toml'}（运行该情景后即可分析）")
    if fmt != FORMAT and fmt not in OLD_FORMATS:
        raise BatchError("DIR", f"{man}: unknown results format {fmt!r} (expected {FORMAT!r})",
                         None, f"{man}：未知的结果格式 {fmt!r}")
    problem = _manifest_problem(manifest)
    if problem:
        raise BatchError("DIR", f"{man}: not a manifest written by loyalty-sim ({problem}); was it edited by hand?",
                         None, f"{man}：不是 loyalty-sim 写出的清单（{problem}）；是否被手工修改过？")

    def files(table: str) -> list[Path]:
        if fmt in OLD_FORMATS:
            return sorted((out / "parts").glob(f"{table}-*.parquet"))
        return sorted((out / "parts" / table).glob("run-*.parquet"))

    frames = {}
    for table in ("market", "merchants"):
        df = _read_parts(files(table))
        frames[table] = df if df is not None else pd.DataFrame(columns=list(ID_COLS) + ["step"])
    mk = frames["market"].sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
    mc = frames["merchants"]
    if len(mc):
        mc = mc.sort_values(["run_id", "step", "merchant"], kind="stable").reset_index(drop=True)
    cu = _read_parts(files("customers"))
    runs = manifest.get("runs") or []
    present = set(mk["run_id"].astype(int).tolist()) if len(mk) else set()
    missing = tuple(sorted(int(r["run_id"]) for r in runs if int(r["run_id"]) not in present))
    return ResultSet(manifest, mk, mc, cu, missing)


def export_csv(out: str | os.PathLike) -> list[Path]:
    """Write ``market.csv`` and ``merchants.csv`` beside the parts: exports derived from the
    Parquet parts, rewritten from them each time (the parts themselves are never touched)."""
    out = Path(out)
    rs = read_results(out)
    paths = []
    for name, df in (("market", rs.market), ("merchants", rs.merchants)):
        p = out / f"{name}.csv"
        atomic_write(p, lambda q, df=df: df.to_csv(q, index=False))
        paths.append(p)
    return paths

"""The results folder: its tidy tables written part by part, read back, exported; its manifest.

``DIR/manifest.json``
    the experiment spec, the base parameters, every point's values, the seeds, package versions,
    git revision, timestamps and each run's status;
``DIR/parts/market-<run>.parquet``
    one row per step (or only the last step) of one run: ``run_id, point, label, replicate, seed``,
    one column per varied parameter, ``step`` and the measured observables of :data:`sim.metrics.METRICS`;
``DIR/parts/merchants-<run>.parquet``
    the same per merchant (:data:`sim.metrics.MERCHANT_METRICS`);
``DIR/parts/customers-<run>.parquet``
    only when asked (``customers=True``, ``--customers``): every customer's final state;
``DIR/parts/failed-<run>.json``
    a run that raised: its error (the sweep goes on).

Every file is written atomically (a temporary file renamed into place), so a folder killed at any
moment holds only whole runs. A folder is never overwritten silently (:func:`prepare_folder`).
:func:`read_results` reads a folder back as two tidy tables.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from .design import BatchError, Experiment, plain
from .provenance import git_revision, package_versions, utc_now

__all__ = ["FORMAT", "ID_COLS", "part_path", "atomic_write", "write_json", "prepare_folder", "check_folder", "manifest",
           "ResultSet", "read_results", "export_csv"]

FORMAT = "loyalty-sim results 1"
#: the columns that identify a run in every table
ID_COLS = ("run_id", "point", "label", "replicate", "seed")


def part_path(out: Path, table: str, run_id: int) -> Path:
    """The part file of one run's ``table`` (market, merchants, customers or failed) in ``out``."""
    return out / "parts" / f"{table}-{run_id:06d}.{'json' if table == 'failed' else 'parquet'}"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` to a temporary file beside ``path``, synced, then renamed to ``path``."""
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    write(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


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
        if not resume:
            raise BatchError("--out", f"--out {out} already holds results; nothing was overwritten. "
                             "Use --resume to finish that work, or choose another folder", None,
                             f"--out {out} 已有结果，未覆盖任何内容。使用 --resume 继续，或选择其他文件夹")
        if old.get("fingerprint") != fingerprint:
            raise BatchError("--resume", f"--resume: {out} holds a different experiment or calibration "
                             f"({old.get('name')!r}); resume only continues the same one with the same settings", None,
                             f"--resume：{out} 中是另一个实验或校准（{old.get('name')!r}）；只能以相同设置继续同一项工作")
        return old
    if out.exists() and any(out.iterdir()):
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
        "seeding": "replicate r of every point uses seeds[r], spawned from SeedSequence(master_seed)",
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


@dataclass
class ResultSet:
    """A results folder read back: its manifest and two tidy tables."""

    manifest: dict
    market: pd.DataFrame
    merchants: pd.DataFrame
    customers: pd.DataFrame | None = None

    @property
    def varied(self) -> list[str]:
        return [v["name"] for v in self.manifest.get("varied", [])]


def read_results(out: str | os.PathLike) -> ResultSet:
    """Read ``out``'s manifest and every finished run's parts, sorted by run and step."""
    out = Path(out)
    man = out / "manifest.json"
    if not man.is_file():
        raise BatchError("DIR", f"{out}: no manifest.json here; give a folder written by `loyalty-sim run`, "
                         "`sweep` or `compare`", None, f"{out}：此处没有 manifest.json；请给出由 run、sweep 或 compare 写出的文件夹")
    try:
        manifest = json.loads(man.read_text(encoding="utf-8"))
    except ValueError as e:
        raise BatchError("DIR", f"{man}: not a valid manifest ({e})", None, f"{man}：清单无效（{e}）") from None
    if manifest.get("format") != FORMAT:
        raise BatchError("DIR", f"{man}: unknown results format {manifest.get('format')!r} (expected {FORMAT!r})",
                         None, f"{man}：未知的结果格式 {manifest.get('format')!r}")
    frames = {}
    for table in ("market", "merchants"):
        files = sorted((out / "parts").glob(f"{table}-*.parquet"))
        frames[table] = (pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files
                         else pd.DataFrame(columns=list(ID_COLS) + ["step"]))
    mk = frames["market"].sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
    mc = frames["merchants"]
    if len(mc):
        mc = mc.sort_values(["run_id", "step", "merchant"], kind="stable").reset_index(drop=True)
    cust_files = sorted((out / "parts").glob("customers-*.parquet"))
    cu = (pd.concat([pd.read_parquet(f) for f in cust_files], ignore_index=True) if cust_files else None)
    return ResultSet(manifest, mk, mc, cu)


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

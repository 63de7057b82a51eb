"""Runs for researchers: an experiment → its runs → a results folder on disk.

- :mod:`sim.runs.design` — :class:`Experiment` (points × replicates), grids, Latin hypercube,
  Sobol and Morris samples, :func:`single_experiment`, :func:`compare_experiment`;
- :mod:`sim.runs.execution` — one run (:func:`execute`), all runs of an experiment
  (:func:`run_experiment`: progress, failures recorded, resume, cancel);
- :mod:`sim.runs.executors` — in this process, a local process pool, Dask (:func:`make_executor`);
- :mod:`sim.runs.store` — the results folder: parts, manifest, :func:`read_results`, :func:`export_csv`;
- :mod:`sim.runs.provenance` — :func:`replicate_seeds`, :func:`package_versions`, :func:`git_revision`.

Experiment *files* are read by :mod:`sim.inputs.experiment` (``load_experiment``), scenario files by
:mod:`sim.inputs.scenario`. Everything public is importable from this package::

    from sim.inputs.experiment import load_experiment
    from sim.runs import run_experiment, read_results
"""

from .design import (DESIGNS, MAX_RUNS, MEASURES, BatchError, Experiment, Factor, Point, RunTask, compare_experiment,
                     count_runs, grid_rows, point_label, sample_rows, single_experiment)
from .execution import RunOutput, RunParts, Summary, customer_table, execute, execute_parts, run_experiment
from .executors import DASK_LOCAL_CONFIG, InlineExecutor, WorkerLost, local_cluster, make_executor, worker_lost
from .provenance import git_revision, package_versions, replicate_seeds, utc_now
from .store import FORMAT, ID_COLS, ResultSet, export_csv, read_results

__all__ = [
    "DESIGNS", "MAX_RUNS", "MEASURES", "BatchError", "Experiment", "Factor", "Point", "RunTask", "compare_experiment",
    "count_runs", "grid_rows", "point_label", "sample_rows", "single_experiment",
    "RunOutput", "RunParts", "Summary", "customer_table", "execute", "execute_parts", "run_experiment",
    "DASK_LOCAL_CONFIG", "InlineExecutor", "WorkerLost", "local_cluster", "make_executor", "worker_lost",
    "git_revision", "package_versions", "replicate_seeds", "utc_now",
    "FORMAT", "ID_COLS", "ResultSet", "export_csv", "read_results",
]

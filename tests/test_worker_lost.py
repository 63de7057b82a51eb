"""A worker process of the pool ended from outside (the system's out-of-memory killer, ``kill -9``):
sweep, calibrate and validate stop with a message in the CLI's words (no traceback, exit 1), keep
what was finished, and do not count the runs or trials the dead worker held as failed —
``--resume`` does them and ends with the same data as a run never interrupted.

The pool is a real process pool in which one task ends its own worker process (``os._exit``), which
breaks the pool as a killed worker does."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import multiprocessing as mp
import os

import pandas as pd
import pytest
from click.testing import CliRunner

import sim.calibration.report
import sim.runs
import sim.runs.execution
from sim.cli import cli
from sim.inputs.experiment import parse_experiment
from sim.runs import read_results, run_experiment, worker_lost
from sim.runs.store import part_path
from test_research_faults import SMALL  # the small sweep those tests use

CAL = """
[calibration]
scenario = "baseline"
trials = 6
replicates = 2
steps = 20
seed = 3
check = 3

[set]
n_customers = 200

[free]
trust_gain = { min = 0.02, max = 0.3 }

[[targets]]
metric = "trust"
at = "mean_last_13"
target = 0.5
tolerance = 0.02
"""


class KillsAWorker(cf.ProcessPoolExecutor):
    """A two-process pool whose ``nth`` submitted task ends its worker process abruptly."""

    def __init__(self, nth: int):
        super().__init__(max_workers=2, mp_context=mp.get_context("spawn"))
        self.nth, self.count = nth, 0

    def submit(self, fn, /, *args, **kwargs):
        self.count += 1
        if self.count == self.nth:
            return super().submit(os._exit, 9)
        return super().submit(fn, *args, **kwargs)


def killing_executor(nth: int):
    @contextlib.contextmanager
    def make(*_a, **_kw):
        with KillsAWorker(nth) as pool:
            yield pool, "process pool, 2 workers"
    return make


def invoke(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r


def test_a_broken_pool_is_told_apart_from_a_failed_run():
    assert worker_lost(cf.process.BrokenProcessPool("a child process terminated abruptly"))
    assert not worker_lost(RuntimeError("the run's own error"))
    assert not worker_lost(MemoryError())


def test_a_sweep_whose_worker_is_killed_keeps_its_runs_and_resume_completes_it(tmp_path, monkeypatch):
    exp = tmp_path / "exp.toml"
    exp.write_text(SMALL)
    reference = tmp_path / "ref"
    run_experiment(parse_experiment(SMALL, "exp.toml"), reference, workers=1)
    out = tmp_path / "out"
    monkeypatch.setattr(sim.runs.execution, "make_executor", killing_executor(3))
    r = invoke("sweep", exp, "--out", out, "-q")
    assert r.exit_code == 1, r.output
    assert "worker process ended abruptly" in r.output and "--resume" in r.output
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    status = [rec["status"] for rec in runs]
    assert "failed" not in status  # the dead worker's runs did not fail by themselves
    assert status.count("pending") >= 1 and len(status) == 6
    # what was finished is on disk, each run whole
    done = {rec["run_id"] for rec in runs if rec["status"] == "done"}
    assert done and all(part_path(out, "market", i).exists() for i in done)
    monkeypatch.undo()
    again = invoke("sweep", exp, "--out", out, "-w", "1", "-q", "--resume")
    assert again.exit_code == 0, again.output
    a, b = read_results(reference), read_results(out)
    pd.testing.assert_frame_equal(a.market, b.market)
    pd.testing.assert_frame_equal(a.merchants, b.merchants)


def test_the_message_is_in_chinese_too(tmp_path, monkeypatch):
    exp = tmp_path / "exp.toml"
    exp.write_text(SMALL)
    monkeypatch.setattr(sim.runs.execution, "make_executor", killing_executor(2))
    r = invoke("--lang", "zh", "sweep", exp, "--out", tmp_path / "out", "-q")
    assert r.exit_code == 1 and "工作进程意外终止" in r.output and "--resume" in r.output, r.output


@pytest.mark.parametrize("nth", [3, 8])  # during the study; during the best set's check on fresh seeds
def test_a_calibration_whose_worker_is_killed_resumes_without_counting_the_lost_trials(tmp_path, monkeypatch, nth):
    f = tmp_path / "cal.toml"
    f.write_text(CAL)
    out = tmp_path / "out"
    monkeypatch.setattr(sim.calibration.report, "make_executor", killing_executor(nth))
    r = invoke("calibrate", f, "--out", out, "-w", "2", "-q")
    assert r.exit_code == 1 and "worker process ended abruptly" in r.output and "--resume" in r.output, r.output
    assert not (out / "best.toml").exists()
    monkeypatch.undo()
    r = invoke("calibrate", f, "--out", out, "-w", "1", "-q", "--resume")
    assert r.exit_code == 0, r.output
    trials = pd.read_parquet(out / "trials.parquet")
    complete = trials[trials["state"] == "COMPLETE"]
    assert len(complete) == 6  # the budget is spent on trials that ran, not on the ones the worker took with it
    interrupted = trials[trials["state"] == "FAIL"]
    assert "failed" not in r.output
    if nth <= 6:
        assert len(interrupted) >= 1  # the trials the worker took: told interrupted, not failed by themselves


def test_a_validation_whose_worker_is_killed_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(sim.runs, "make_executor", killing_executor(2))
    out = tmp_path / "report"
    r = invoke("validate", "--only", "F5", "--seeds", "2", "--out", out, "-q")
    assert r.exit_code == 1 and "worker process ended abruptly" in r.output and "nothing was written" in r.output, \
        r.output
    assert not out.exists() or not any(out.iterdir())


def test_a_script_without_the_main_guard_is_told_what_to_do(tmp_path):
    """Worker processes import the script that started them again: a script whose runs are not under
    ``if __name__ == "__main__":`` breaks every worker at its start, which looks like a killed worker;
    the message names the script and the guard."""
    import subprocess
    import sys

    script = tmp_path / "no_guard.py"
    script.write_text(f"""
from sim.inputs.experiment import parse_experiment
from sim.runs import run_experiment
run_experiment(parse_experiment('''{SMALL}''', "exp.toml"), {str(tmp_path / "out")!r}, workers=2)
""")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert p.returncode != 0
    assert "worker process ended abruptly" in p.stderr and "no_guard.py" in p.stderr
    assert 'if __name__ == "__main__":' in p.stderr


def _threads_here() -> int:
    import numba

    return numba.get_num_threads()


@pytest.mark.parametrize("cluster", [None, "local"])
def test_the_workers_of_a_pool_or_local_cluster_run_the_compiled_passes_on_one_thread(cluster):
    """A pool (or local Dask cluster) keeps every core busy with one run per worker, so each worker's
    compiled passes use one thread (sim.runs.executors.WORKER_ENV): several threads per worker would
    only wait on each other. The process that starts the pool keeps its own setting."""
    from sim.runs.executors import make_executor

    before = _threads_here()
    with make_executor(workers=2, cluster=cluster) as (pool, _):
        got = [pool.submit(_threads_here).result(timeout=120) for _ in range(4)]
    assert got == [1, 1, 1, 1]
    assert _threads_here() == before

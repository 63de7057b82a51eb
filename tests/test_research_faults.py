"""Research runs that never lie: fault injection on the results folder, and the defects a researcher
only finds after trusting a result.

Each test breaks something on purpose — a parameter named twice, a run that raises, settings that
cannot fit in memory, a full disk in the middle of a sweep, a read-only or forbidden target, a
truncated part, a kill during the final save, a kill of the parent with workers running — and checks
what a researcher needs: exit code and one clear line (no traceback), nothing written when nothing
could be done, and after ``--resume`` data identical to an uninterrupted sweep, no temporary files and
complete bookkeeping.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import sim.runs.execution
import sim.runs.store
from sim.cli import cli
from sim.inputs.experiment import parse_experiment
from sim.runs import read_results, run_experiment

ROOT = Path(__file__).resolve().parent.parent
EXE = [sys.executable, "-m", "sim.cli"]

SMALL = """
[experiment]
scenario = "baseline"
replicates = 2
steps = 8
seed = 11
metrics = ["loyal_share", "churn_rate", "satisfaction", "profit"]
[set]
n_customers = 200
network_degree = 4
[vary]
trust_gain = [0.05, 0.1, 0.2]
"""


def invoke(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r


def files_under(out: Path) -> dict:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def temporary_files(out: Path) -> list[Path]:
    return [p for p in out.rglob(".tmp-*")]


def assert_same_data(a: Path, b: Path) -> None:
    ra, rb = read_results(a), read_results(b)
    pd.testing.assert_frame_equal(ra.market, rb.market)
    pd.testing.assert_frame_equal(ra.merchants, rb.merchants)


def assert_complete_bookkeeping(out: Path) -> None:
    m = json.loads((out / "manifest.json").read_text())
    assert m["runs"] and all(r["status"] == "done" for r in m["runs"])
    for r in m["runs"]:
        assert r["finished"] and r["seconds"] is not None and r["steps_run"] == m["steps"], r
    assert not temporary_files(out)


@pytest.fixture
def exp_file(tmp_path):
    p = tmp_path / "exp.toml"
    p.write_text(SMALL)
    return p


@pytest.fixture
def reference(tmp_path_factory, exp_file):
    out = tmp_path_factory.mktemp("ref") / "full"
    run_experiment(parse_experiment(SMALL, "exp.toml"), out, workers=1)
    return out


# ---- 1. silent corruption: one parameter under two names ----------------------------------------------
@pytest.mark.parametrize("vary", [
    '"A.price" = [1.2]\n"merchants[0].price" = [0.8]',
    'trust_gain = [0.1]\n"params.trust_gain" = [0.2]',
    '"C.quality" = [0.6, 0.7]\n"merchants[2].quality" = [0.5]',
])
def test_a_parameter_varied_under_two_names_is_refused_and_nothing_is_written(tmp_path, vary):
    exp = tmp_path / "two.toml"
    exp.write_text(f'[experiment]\nscenario = "baseline"\nsteps = 3\n[vary]\n{vary}\n')
    r = invoke("sweep", exp, "--out", tmp_path / "out", "-w", "1", "-q")
    assert r.exit_code == 2 and "same parameter" in r.output and "two.toml, line" in r.output
    assert not (tmp_path / "out").exists()


def test_set_and_vary_naming_one_parameter_is_refused(tmp_path):
    exp = tmp_path / "sv.toml"
    exp.write_text('[experiment]\nscenario = "baseline"\n[set]\n"A.price" = 1.0\n[vary]\n"merchants[0].price" = [0.8, 1.2]\n')
    r = invoke("sweep", exp, "--out", tmp_path / "out")
    assert r.exit_code == 2 and "[set]" in r.output and "[vary]" in r.output and "same parameter" in r.output


@pytest.mark.parametrize("sets", [
    ["A.price=1.2", "merchants[0].price=0.8"],
    ["trust_gain=0.1", "params.trust_gain=0.2"],
    ["B.quality=0.6", "B.quality=0.7"],
    ["run.steps=5", "run.steps=6"],
])
def test_a_parameter_set_twice_on_the_command_line_is_refused(tmp_path, sets):
    args = [x for s in sets for x in ("--set", s)]
    r = invoke("run", "baseline", *args, "--out", tmp_path / "out")
    assert r.exit_code == 2 and "once" in r.output
    assert not (tmp_path / "out").exists()
    r = invoke("compare", "baseline", "price_war", *args, "--out", tmp_path / "cmp")
    assert r.exit_code == 2 and "once" in r.output


def test_the_varied_value_is_the_value_the_market_had(tmp_path):
    """What the rows record is what the merchant's price was (the check that the refusal protects)."""
    exp = parse_experiment('[experiment]\nscenario = "baseline"\nsteps = 2\n[set]\nn_customers = 100\n'
                           '[vary]\n"merchants[0].price" = [0.8, 1.3]\n', "x.toml")
    for p in exp.points:
        assert p.params.merchants[0].price == p.values["merchants[0].price"]


# ---- 2. failure reported as failure; memory checked before starting -----------------------------------
def test_a_run_that_fails_gives_a_non_zero_exit(tmp_path, monkeypatch):
    real = sim.runs.execution.simulate

    def crash(params, seed, **kw):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(sim.runs.execution, "simulate", crash)
    r = invoke("run", "baseline", "--steps", "3", "--set", "n_customers=100", "--out", tmp_path / "out", "-q")
    assert r.exit_code == 1 and "1 of 1 runs failed" in r.output and "--resume" in r.output
    monkeypatch.setattr(sim.runs.execution, "simulate", real)
    r = invoke("run", "baseline", "--steps", "3", "--set", "n_customers=100", "--out", tmp_path / "out", "-q",
               "--resume", "--no-figures")
    assert r.exit_code == 0, r.output


def test_a_sweep_with_a_failed_run_exits_1_and_resume_completes_it(tmp_path, monkeypatch, exp_file, reference):
    real = sim.runs.execution.simulate
    bad = parse_experiment(SMALL, "exp.toml").tasks()[4].seed

    def flaky(params, seed, **kw):
        if seed == bad and params.trust_gain == 0.2:
            raise MemoryError("Unable to allocate 37.3 GiB")
        return real(params, seed=seed, **kw)

    monkeypatch.setattr(sim.runs.execution, "simulate", flaky)
    out = tmp_path / "out"
    r = invoke("sweep", exp_file, "--out", out, "-w", "1", "-q")
    assert r.exit_code == 1 and "1 of 6 runs failed" in r.output
    r = invoke("analyze", out)
    assert r.exit_code == 0 and "1 of 6 runs of this experiment have no results" in r.output
    monkeypatch.setattr(sim.runs.execution, "simulate", real)
    assert invoke("sweep", exp_file, "--out", out, "-w", "1", "-q", "--resume").exit_code == 0
    assert_same_data(reference, out)
    assert_complete_bookkeeping(out)


def test_settings_that_cannot_fit_in_memory_are_refused_before_starting(tmp_path):
    out = tmp_path / "out"
    r = invoke("run", "baseline", "--set", "n_customers=5000000", "--set", "history_limit=5000000",
               "--set", "history_depth=1000", "--out", out)
    assert r.exit_code == 2 and "GiB" in r.output and "available" in r.output and "history_depth" in r.output
    assert not out.exists()
    r = invoke("--lang", "zh", "run", "baseline", "--set", "n_customers=5000000", "--set", "history_limit=5000000",
               "--set", "history_depth=1000", "--out", out)
    assert r.exit_code == 2 and "内存" in r.output


def test_the_memory_estimate_bounds_what_a_model_uses():
    """The estimate is an upper bound of the arrays a model holds (so a refusal is never a false alarm
    for a market that would have fitted in its own arrays)."""
    from sim.model import LoyaltyModel, memory_estimate
    from sim.params import Params

    p = Params(n_customers=3000, history_limit=1000, history_depth=20)
    m = LoyaltyModel(params=p, seed=1)
    for _ in range(25):
        m.step()
    held = m.pop.nbytes() + m.history.nbytes() + m.network.nbytes()
    assert held < memory_estimate(p) < 20 * held
    assert memory_estimate(Params(n_customers=20_000)) < memory_estimate(Params(n_customers=200_000))


# ---- 3. the operating system says no --------------------------------------------------------------
def test_out_below_a_file_is_refused_clearly(tmp_path):
    (tmp_path / "afile").write_text("x")
    r = invoke("run", "baseline", "--steps", "2", "--out", tmp_path / "afile" / "sub")
    assert r.exit_code == 2 and "not a folder" in r.output and "Nothing was written" in r.output


@pytest.mark.parametrize("fault,expect", [("readonly", "read-only"), ("denied", "permission denied")])
def test_a_read_only_or_forbidden_target_is_refused_before_writing(tmp_path, monkeypatch, fault, expect):
    import sim.runs.store as store

    if fault == "readonly":
        real = os.statvfs

        class RO:
            def __init__(self, st):
                self.f_flag = st.f_flag | os.ST_RDONLY

        monkeypatch.setattr(store.os, "statvfs", lambda p: RO(real(p)))
    else:
        monkeypatch.setattr(store.os, "access", lambda p, mode: False)
    out = tmp_path / "res"
    r = invoke("run", "baseline", "--steps", "2", "--set", "n_customers=100", "--out", out)
    assert r.exit_code == 2 and expect in r.output and "--out" in r.output
    assert not out.exists()


def test_a_full_disk_mid_sweep_stops_clearly_and_resume_gives_the_same_data(tmp_path, monkeypatch, exp_file,
                                                                               reference):
    real = sim.runs.store.atomic_write
    writes = {"n": 0}

    def full_after_some(path, write):
        if Path(path).parent.name == "market":
            writes["n"] += 1
            if writes["n"] == 3:
                def partial(p):  # half a file, then the disk is full
                    Path(p).write_bytes(b"PAR1" + b"\0" * 100)
                    raise OSError(errno.ENOSPC, "No space left on device", str(p))
                return real(path, partial)
        return real(path, write)

    monkeypatch.setattr(sim.runs.execution, "atomic_write", full_after_some)
    out = tmp_path / "out"
    r = invoke("sweep", exp_file, "--out", out, "-w", "1", "-q")
    assert r.exit_code == 2 and "disk is full" in r.output and "--resume" in r.output
    assert not temporary_files(out)
    monkeypatch.setattr(sim.runs.execution, "atomic_write", real)
    r = invoke("sweep", exp_file, "--out", out, "-w", "1", "-q", "--resume")
    assert r.exit_code == 0, r.output
    assert_same_data(reference, out)
    assert_complete_bookkeeping(out)


def test_a_truncated_part_is_named_by_analyze_and_redone_by_resume(tmp_path, exp_file, reference):
    out = tmp_path / "out"
    assert invoke("sweep", exp_file, "--out", out, "-w", "1", "-q").exit_code == 0
    part = out / "parts" / "market" / "run-000003.parquet"
    part.write_bytes(part.read_bytes()[: len(part.read_bytes()) // 2])
    r = invoke("analyze", out)
    assert r.exit_code == 2 and "run-000003.parquet" in r.output and "--resume" in r.output
    r = invoke("sweep", exp_file, "--out", out, "-w", "1", "-q", "--resume")
    assert r.exit_code == 0
    assert_same_data(reference, out)
    assert_complete_bookkeeping(out)


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/"])
def test_an_input_that_is_not_a_regular_file_is_refused_without_reading_it(tmp_path, path):
    t0 = time.perf_counter()
    for cmd in ("run", "sweep", "calibrate"):
        r = invoke(cmd, path, "--out", tmp_path / cmd)
        assert r.exit_code == 2, (cmd, r.output)
        assert not (tmp_path / cmd).exists()
    assert time.perf_counter() - t0 < 30


# ---- 4. debris that would block the retry ---------------------------------------------------------------
def test_an_unreachable_scheduler_writes_nothing_and_the_retry_runs(tmp_path, exp_file):
    out = tmp_path / "out"
    r = invoke("sweep", exp_file, "--out", out, "--scheduler", "tcp://127.0.0.1:1")
    assert r.exit_code == 2 and "scheduler" in r.output
    assert not out.exists()
    r = invoke("sweep", exp_file, "--out", out, "--scheduler", "not a scheduler address")
    assert r.exit_code == 2 and not out.exists()
    assert invoke("sweep", exp_file, "--out", out, "-w", "1", "-q").exit_code == 0


def test_debris_of_a_start_killed_before_its_first_save_does_not_block_a_rerun(tmp_path, exp_file, reference):
    out = tmp_path / "out"
    for t in ("market", "merchants", "customers", "failed"):
        (out / "parts" / t).mkdir(parents=True)
    (out / ".tmp-4242-manifest.json").write_text("{")
    assert invoke("sweep", exp_file, "--out", out, "-w", "1", "-q").exit_code == 0
    assert_same_data(reference, out)
    assert_complete_bookkeeping(out)


def test_a_kill_during_the_final_save_leaves_a_folder_resume_completes(tmp_path, monkeypatch, exp_file, reference):
    """The last manifest save is interrupted after its temporary file was written (kill -9 there):
    --resume removes the temporary file and rebuilds the bookkeeping from the parts."""
    real_replace = sim.runs.store.os.replace
    out = tmp_path / "out"
    exp = parse_experiment(SMALL, "exp.toml")
    saves = {"n": 0}

    def killed(src, dst):
        if Path(dst).name == "manifest.json":
            saves["n"] += 1
            if saves["n"] > 1:  # the first save happens before any run; later ones are cut
                raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(sim.runs.store.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(exp, out, workers=1)
    monkeypatch.setattr(sim.runs.store.os, "replace", real_replace)
    # what a kill leaves: the cut save's temporary file (atomic_write removes it on an exception, a
    # kill -9 would not) and a manifest whose runs are all still pending
    (out / ".tmp-99999-manifest.json").write_text('{"half": ')
    (out / "parts" / "market" / ".tmp-99999-run-000001.parquet").write_bytes(b"PAR1")
    man = json.loads((out / "manifest.json").read_text())
    assert all(r["finished"] is None for r in man["runs"])
    assert len(list((out / "parts" / "market").glob("run-*.parquet"))) >= 1
    r = invoke("sweep", exp_file, "--out", out, "-w", "1", "-q", "--resume")
    assert r.exit_code == 0, r.output
    assert_same_data(reference, out)
    assert_complete_bookkeeping(out)


def test_bookkeeping_lost_between_two_saves_is_rebuilt_from_the_parts(tmp_path, exp_file):
    out = tmp_path / "out"
    assert invoke("sweep", exp_file, "--out", out, "-w", "1", "-q").exit_code == 0
    man = json.loads((out / "manifest.json").read_text())
    want = {r["run_id"]: (r["finished"], r["seconds"], r["steps_run"]) for r in man["runs"]}
    for r in man["runs"]:
        r.update(status="pending", finished=None, seconds=None, steps_run=None)
    (out / "manifest.json").write_text(json.dumps(man))
    r = invoke("sweep", exp_file, "--out", out, "-w", "1", "-q", "--resume")
    assert r.exit_code == 0 and "6/6 done (6 already done" in r.output, r.output
    got = {r["run_id"]: (r["finished"], r["seconds"], r["steps_run"]) for r in
           json.loads((out / "manifest.json").read_text())["runs"]}
    assert got == want


# ---- 5. random kills, then resume ----------------------------------------------------------------
def _sweep_proc(exp: Path, out: Path, *extra) -> subprocess.Popen:
    return subprocess.Popen([*EXE, "sweep", str(exp), "--out", str(out), "-q", *extra], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def assert_rerun_completes(exp_file: Path, out: Path, reference: Path) -> None:
    """After a kill: the same sweep again (with --resume when the folder holds a manifest) ends with
    the reference's data, complete bookkeeping and no temporary files."""
    args = ["sweep", exp_file, "--out", out, "-w", "1", "-q"]
    if (out / "manifest.json").exists():
        args.append("--resume")
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    assert_same_data(reference, out)
    assert_complete_bookkeeping(out)


@pytest.mark.parametrize("delay", [0.3, 1.2, 2.5, 4.0])
def test_kill_at_a_random_moment_then_resume_equals_an_uninterrupted_sweep(tmp_path, exp_file, reference, delay):
    """A kill -9 anywhere — before the first save, between runs, during a write — then --resume."""
    out = tmp_path / "out"
    proc = _sweep_proc(exp_file, out, "-w", "1")
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert_rerun_completes(exp_file, out, reference)


def test_a_kill_while_a_local_cluster_starts_leaves_nothing_that_blocks_the_retry(tmp_path, exp_file, reference):
    out = tmp_path / "out"
    proc = _sweep_proc(exp_file, out, "--cluster", "local", "-w", "1")
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and the cluster it was starting
    proc.wait()
    assert_rerun_completes(exp_file, out, reference)


# ---- 6. orphaned workers ----------------------------------------------------------------------------
def test_pool_workers_exit_when_their_parent_is_killed(tmp_path):
    psutil = pytest.importorskip("psutil")
    exp = tmp_path / "long.toml"
    exp.write_text(SMALL.replace("steps = 8", "steps = 400").replace("n_customers = 200", "n_customers = 20000")
                   .replace("replicates = 2", "replicates = 4"))
    proc = subprocess.Popen([*EXE, "sweep", str(exp), "--out", str(tmp_path / "out"), "-q", "-w", "2"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 120
    workers: list = []
    # wait until two workers are computing runs (each has used seconds of CPU: imports done, the
    # pool's initializer has run), however slow the machine is today
    while time.time() < deadline:
        kids = [c for c in parent.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())]
        busy = [c for c in kids if sum(c.cpu_times()[:2]) > 4.0]
        if len(busy) >= 2:
            workers = busy
            break
        time.sleep(0.5)
    assert len(workers) >= 2, "the pool did not start computing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"{len(alive)} computing workers still alive 10 s after their parent was killed"


# ---- 7. limits and the scale of the bookkeeping ---------------------------------------------------------
def test_runs_are_submitted_a_few_at_a_time(tmp_path):
    """A sweep of many runs keeps only a few in flight (not all of them queued in memory at once)."""
    import concurrent.futures as cf

    class Counting(cf.ThreadPoolExecutor):
        most = 0
        open = 0

        def submit(self, fn, *a, **kw):
            Counting.open += 1
            Counting.most = max(Counting.most, Counting.open)
            f = super().submit(fn, *a, **kw)
            f.add_done_callback(lambda _: setattr(Counting, "open", Counting.open - 1))
            return f

    exp = parse_experiment(SMALL.replace("replicates = 2", "replicates = 20").replace("steps = 8", "steps = 2")
                           .replace("n_customers = 200", "n_customers = 30"), "exp.toml")
    with Counting(max_workers=1) as pool:
        summ = run_experiment(exp, tmp_path / "out", executor=pool, in_flight=5)
    assert summ.done == 60 and 1 <= Counting.most <= 5
    from sim.runs.execution import runs_in_flight

    assert runs_in_flight(2, local=True) == 8 and runs_in_flight(16, local=True) == 64
    assert runs_in_flight(None, local=False) == 1024  # a cluster: many, still bounded


# ---- 8. one table per folder -----------------------------------------------------------------------------
def test_each_table_is_one_folder_that_any_parquet_reader_reads_alone(tmp_path, exp_file):
    out = tmp_path / "out"
    assert invoke("sweep", exp_file, "--out", out, "-w", "1", "-q").exit_code == 0
    market = pd.read_parquet(out / "parts" / "market")
    merchants = pd.read_parquet(out / "parts" / "merchants")
    assert len(market) == 6 * 9 and "merchant" not in market.columns  # 6 runs × (steps 0…8)
    assert len(merchants) == 6 * 9 * 3 and set(merchants["merchant"]) == {"A", "B", "C"}


def test_one_replicate_reports_no_interval(tmp_path):
    out = tmp_path / "one"
    r = invoke("run", "baseline", "--steps", "3", "--set", "n_customers=100", "--out", out, "-q")
    assert r.exit_code == 0 and "one replicate" in r.output
    summary = (out / "analysis" / "summary.md").read_text()
    assert "one replicate per configuration, so no interval" in summary
    csv = pd.read_csv(out / "analysis" / "summary.csv")
    assert csv.filter(like="95%").isna().all().all()


def test_a_dry_run_needs_no_folder_and_a_real_run_does(tmp_path, exp_file):
    r = invoke("sweep", exp_file, "--dry-run")
    assert r.exit_code == 0 and "= 6 runs" in r.output and sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]
    r = invoke("sweep", exp_file)
    assert r.exit_code == 2 and "--out" in r.output


@pytest.mark.parametrize("args", [["--steps", "5", "--set", "run.steps=6"], ["--seed", "3", "--set", "run.seed=4"]])
def test_an_option_and_a_set_of_the_same_run_setting_are_refused(tmp_path, args):
    r = invoke("run", "baseline", *args, "--out", tmp_path / "out")
    assert r.exit_code == 2 and "give it once" in r.output and not (tmp_path / "out").exists()


@pytest.mark.parametrize("edit", ["runs", "varied", "column", "type"])
def test_a_folder_edited_by_hand_gets_a_message_not_a_traceback(tmp_path, exp_file, edit):
    out = tmp_path / "out"
    assert invoke("sweep", exp_file, "--out", out, "-w", "1", "-q").exit_code == 0
    man = json.loads((out / "manifest.json").read_text())
    part = out / "parts" / "market" / "run-000000.parquet"
    if edit == "runs":
        man["runs"] = [1, "x"]
    elif edit == "varied":
        man["varied"] = [{"nam": 1}]
    elif edit == "column":
        pd.read_parquet(part).drop(columns=["step"]).to_parquet(part)
    else:
        df = pd.read_parquet(part)
        df["loyal_share"] = "x"
        df.to_parquet(part)
    (out / "manifest.json").write_text(json.dumps(man))
    r = invoke("analyze", out)
    assert r.exit_code == 2 and str(out) in r.output

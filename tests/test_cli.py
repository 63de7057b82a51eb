"""The ``loyalty-sim`` command: every command through a real subprocess, bad input → exit 2."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sim.runs import read_results
from sim.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXE = [sys.executable, "-m", "sim.cli"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def sh(*args, check=True, timeout=300, **kw):
    p = subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                       env={**os.environ, "COLUMNS": "120"}, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


SMALL_EXP = """
[experiment]
scenario = "baseline"
replicates = 2
steps = 10
seed = 4
metrics = ["loyal_share", "churn_rate", "value_churn_rate", "satisfaction", "profit"]
[set]
n_customers = 300
network_degree = 4
[vary]
trust_gain = [0.05, 0.2]
"""


def test_help_on_every_command_has_examples():
    top = sh("--help").stdout
    for cmd in ("list", "describe", "params", "run", "sweep", "analyze", "compare"):
        assert cmd in top
        out = sh(cmd, "--help").stdout
        assert "Example" in out and "示例" in out, cmd


def test_list_describe_params_in_both_languages():
    out = sh("list").stdout
    names = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
    for n in names:
        assert n in out
    zh = sh("--lang", "zh", "list").stdout
    assert CJK.search(zh)
    d = sh("describe", "deregulation").stdout
    assert "step" in d and "procedural_cost" in d
    assert CJK.search(sh("--lang", "zh", "describe", "baseline").stdout)
    p = sh("params").stdout
    assert "trust_gain" in p and "0.08" in p and "0 … 1" in p
    assert "loyal_share" in sh("params", "--metrics").stdout
    assert "信任" in sh("--lang", "zh", "params", "--group", "customers").stdout


def test_run_writes_results_summary_and_figures(tmp_path):
    out = tmp_path / "base"
    p = sh("run", "baseline", "--set", "n_customers=300", "--set", "A.price=1.3", "--steps", "15",
           "--replicates", "3", "--seed", "9", "--workers", "1", "--out", out)
    assert "loyal share at the end" in p.stdout and "[" in p.stdout  # mean [95% interval]
    assert "merchant A" in p.stdout
    rs = read_results(out)
    assert len(rs.market) == 3 * 16 and rs.manifest["kind"] == "run"
    assert rs.manifest["params"]["merchants"][0]["price"] == 1.3
    figs = [Path(l.strip()) for l in p.stdout.splitlines() if l.strip().endswith((".png", ".svg"))]
    assert figs and all(f.exists() and f.stat().st_size > 0 for f in figs)
    # the printed summary shows each number as the written report (and the app) does
    md = (out / "analysis" / "summary.md").read_text(encoding="utf-8")
    printed = [re.search(r"\s(\S+ \[[^\]]+\]|\S+)$", line).group(1) for line in p.stdout.splitlines()
               if line.startswith("    ")]
    assert len(printed) == 4 + 3  # loyal share, churn, value churn, satisfaction; profit of A, B, C
    assert all(f"| {x} |" in md for x in printed), (printed, md)
    # never overwritten: a second run into the same folder is refused, exit 2, no traceback
    again = sh("run", "baseline", "--steps", "3", "--out", out, check=False)
    assert again.returncode == 2 and "already holds results" in again.stderr and "Traceback" not in again.stderr
    assert read_results(out).market.equals(rs.market)


def test_sweep_analyze_and_csv(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(SMALL_EXP)
    out = tmp_path / "sw"
    dry = sh("sweep", exp, "--out", out, "--dry-run").stdout
    assert "= 4 runs" in dry and not out.exists()
    sh("sweep", exp, "--out", out, "--workers", "1", "--csv")
    assert (out / "market.csv").exists()
    a = sh("analyze", out)
    assert "trust_gain" in a.stdout or "Trust" in a.stdout
    assert (out / "analysis" / "summary.csv").exists() and (out / "analysis" / "summary.md").exists()
    zh = sh("--lang", "zh", "analyze", out)
    assert CJK.search(zh.stdout)


def test_compare_two_scenarios(tmp_path):
    out = tmp_path / "cmp"
    p = sh("compare", "botched_repair", "recovery_done_well", "--set", "n_customers=300", "--steps", "12",
           "--replicates", "2", "--workers", "1", "--out", out)
    assert "botched_repair" in p.stdout and "recovery_done_well" in p.stdout
    rs = read_results(out)
    assert set(rs.market["label"]) == {"botched_repair", "recovery_done_well"}
    assert any(f.suffix == ".png" for f in (out / "analysis" / "figures").iterdir())


def test_kill_minus_9_and_resume_equals_an_uninterrupted_sweep(tmp_path):
    exp = tmp_path / "exp.toml"
    # 24 runs long enough (~0.1 s each) that the kill lands part-way
    exp.write_text(SMALL_EXP.replace("replicates = 2", "replicates = 12").replace("steps = 10", "steps = 60")
                   .replace("n_customers = 300", "n_customers = 2000"))
    full, cut = tmp_path / "full", tmp_path / "cut"
    sh("sweep", exp, "--out", full, "--workers", "1", "-q")
    proc = subprocess.Popen([*EXE, "sweep", str(exp), "--out", str(cut), "--workers", "1", "-q"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((cut / "parts" / "market").glob("run-*.parquet"))) < 3:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_done = len(list((cut / "parts" / "market").glob("run-*.parquet")))
    assert 3 <= n_done < 24, "the sweep should have been killed part-way"
    refused = sh("sweep", exp, "--out", cut, "--workers", "1", check=False)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    p = sh("sweep", exp, "--out", cut, "--workers", "1", "--resume", "-q")
    assert "already done" in p.stdout
    a, b = read_results(full), read_results(cut)
    pd.testing.assert_frame_equal(a.market, b.market)
    pd.testing.assert_frame_equal(a.merchants, b.merchants)
    assert [r["status"] for r in b.manifest["runs"]] == ["done"] * 24


@pytest.mark.parametrize("args,expect", [
    (["run", "no_such_scenario", "--out", "{tmp}/x"], "no_such_scenario"),
    (["run", "baseline", "--set", "trust_gain=2", "--out", "{tmp}/x"], "allowed 0 … 1"),
    (["run", "baseline", "--set", "nonsense", "--out", "{tmp}/x"], "--set"),
    (["run", "baseline", "--set", "Z.price=1", "--out", "{tmp}/x"], "Z"),
    (["run", "baseline", "--steps", "0", "--out", "{tmp}/x"], "--steps"),
    (["run", "baseline"], "--out"),
    (["sweep", "{tmp}/missing.toml", "--out", "{tmp}/x"], "missing.toml"),
    (["sweep", "{exp}", "--out", "{tmp}/x", "--scheduler", "tcp://127.0.0.1:1", "--cluster", "local"], "either"),
    (["analyze", "{tmp}"], "manifest.json"),
    (["compare", "baseline", "--out", "{tmp}/x"], "at least two"),
    (["describe", "basline"], "baseline"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path, args, expect):
    exp = tmp_path / "exp.toml"
    exp.write_text(SMALL_EXP)
    args = [a.format(tmp=tmp_path, exp=exp) for a in args]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2, r.output
    assert expect in r.output
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)


def test_bad_input_in_chinese():
    r = CliRunner().invoke(cli, ["--lang", "zh", "run", "baseline", "--set", "trust_gain=2", "--out", "/tmp/never"])
    assert r.exit_code == 2 and CJK.search(r.output) and "错误" in r.output


MALFORMED = sorted((ROOT / "tests" / "malformed" / "experiments").glob("*.toml"))


def test_the_corpus_is_large_enough():
    assert len(MALFORMED) >= 20


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.stem)
def test_malformed_experiment_files_are_rejected_with_exit_2(path, tmp_path):
    first = path.read_bytes().split(b"\n", 1)[0].decode()
    expect = first.split("expect:", 1)[1].strip()
    r = CliRunner().invoke(cli, ["sweep", str(path), "--out", str(tmp_path / "x")])
    assert r.exit_code == 2, r.output
    assert expect in r.output, r.output
    assert path.name in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x").exists(), "nothing is written for a rejected file"
    z = CliRunner().invoke(cli, ["--lang", "zh", "sweep", str(path), "--out", str(tmp_path / "x")])
    assert z.exit_code == 2 and CJK.search(z.output)


MALFORMED_SCENARIOS = sorted((ROOT / "tests" / "malformed" / "scenarios").glob("*.toml"))


def test_the_scenario_corpus_and_the_experiment_corpus_together_pass_fifty():
    assert len(MALFORMED_SCENARIOS) + len(MALFORMED) >= 50


@pytest.mark.parametrize("path", MALFORMED_SCENARIOS, ids=lambda p: p.stem)
def test_malformed_scenario_files_are_rejected_by_run_with_exit_2(path, tmp_path):
    expect = None
    for line in path.read_bytes().decode("utf-8", "replace").splitlines()[:3]:
        if line.startswith("# expect:"):
            expect = line.split("expect:", 1)[1].strip()
    r = CliRunner().invoke(cli, ["run", str(path), "--steps", "2", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and path.name in r.output
    if expect:
        assert expect in r.output, r.output
    assert not (tmp_path / "x").exists(), "nothing is written for a rejected file"


def test_names_with_dollar_signs_are_drawn_and_written_as_written(tmp_path):
    """A merchant called "$$ Discount" and a file called p$$x.toml are ordinary names: the figures
    draw them literally (matplotlib would read "$…$" as a formula and fail), the Markdown report
    escapes them."""
    sc = tmp_path / "p$$x.toml"
    sc.write_text('[params]\nn_customers = 200\n[[merchants]]\nname = "$$ Discount"\n[[merchants]]\nname = "B"\n',
                  encoding="utf-8")
    out = tmp_path / "cmp"
    r = CliRunner().invoke(cli, ["compare", "baseline", str(sc), "--steps", "3", "-r", "1", "-w", "1",
                                 "--set", "n_customers=200", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    figs = sorted((out / "analysis" / "figures").glob("*.svg"))
    assert figs and any("Discount" in f.read_text(encoding="utf-8") for f in figs)
    report = (out / "analysis" / "summary.md").read_text(encoding="utf-8")
    assert "\\$\\$ Discount" in report and "p\\$\\$x" in report


@pytest.mark.parametrize("content", ["[]", '"x"', "null", "3"])
def test_resume_on_a_manifest_that_is_not_an_object_exits_2(tmp_path, content):
    out = tmp_path / "odd"
    out.mkdir()
    (out / "manifest.json").write_text(content, encoding="utf-8")
    for lang, words in (("en", "not a manifest written by loyalty-sim"), ("zh", "不是 loyalty-sim 写出的清单")):
        r = CliRunner().invoke(cli, ["--lang", lang, "run", "baseline", "--steps", "2", "--set", "n_customers=200",
                                     "--out", str(out), "--resume"])
        assert r.exit_code == 2, r.output
        assert words in r.output and "Traceback" not in r.output
    assert (out / "manifest.json").read_text(encoding="utf-8") == content and sorted(out.iterdir()) == [out / "manifest.json"]


def test_checking_out_tries_a_write_and_leaves_nothing_behind(tmp_path):
    """check_target makes the folder and a file to be sure it can write, then removes what it made;
    where no folder can be made (/proc, even for root) `run` exits 2 saying nothing was written."""
    from sim.runs.store import check_target

    check_target(tmp_path / "new" / "deeper")
    assert list(tmp_path.iterdir()) == []
    r = CliRunner().invoke(cli, ["run", "baseline", "--steps", "2", "--set", "n_customers=200", "--out",
                                 "/proc/loyalty-sim-test"])
    assert r.exit_code == 2 and "Nothing was written" in r.output and "already finished" not in r.output, r.output


def test_experiment_and_calibration_files_saved_with_a_byte_order_mark_load_like_scenarios(tmp_path):
    """Some editors save UTF-8 with a byte-order mark; scenario files already accepted it, experiment
    and calibration files said 'not valid TOML' at line 1."""
    from sim.calibration.files import load_calibration
    from sim.inputs.experiment import load_experiment

    root = Path(__file__).resolve().parents[1] / "scenarios" / "experiments"
    for src, load, fields in ((root / "price_sensitivity.toml", load_experiment, ("design", "points", "steps", "seed")),
                              (root / "calibration" / "trust.toml", load_calibration, ("free", "targets", "trials"))):
        bom = tmp_path / src.name
        bom.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
        a, b = load(bom), load(src)
        for f in fields:
            assert repr(getattr(a, f)) == repr(getattr(b, f)), f


def test_compare_takes_its_seed_from_set_run_seed_and_refuses_it_twice(tmp_path):
    args = ["compare", "baseline", "price_war", "--steps", "2", "-r", "1", "--set", "n_customers=200", "-q"]
    r = CliRunner().invoke(cli, args + ["--set", "run.seed=4", "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["master_seed"] == 4
    r = CliRunner().invoke(cli, args + ["--set", "run.seed=7", "--seed", "3", "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and "give it once" in r.output and not (tmp_path / "b").exists()
    r = CliRunner().invoke(cli, args + ["--out", str(tmp_path / "c")])
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["master_seed"] == 0


def test_a_second_process_writing_to_the_same_out_is_refused_and_changes_nothing(tmp_path):
    """Two runs given one --out at the same time mixed their runs and manifests; the folder is now
    held by the process writing there (an operating-system lock, gone with the process)."""
    from sim.runs.store import LOCK, hold_folder

    out = tmp_path / "busy"
    args = ["run", "baseline", "--steps", "2", "--set", "n_customers=200", "-r", "1", "-w", "1", "-q", "--no-figures"]
    with hold_folder(out):  # another loyalty-sim is writing here
        for extra in ([], ["--resume"]):
            r = CliRunner().invoke(cli, args + extra + ["--out", str(out)])
            assert r.exit_code == 2 and "another loyalty-sim is writing" in r.output, r.output
        assert [p.name for p in out.iterdir()] == [LOCK]
    assert not out.exists()  # (made only to be held)
    r = CliRunner().invoke(cli, args + ["--out", str(out)])  # free: the run goes ahead
    assert r.exit_code == 0, r.output
    assert (out / "manifest.json").exists() and not (out / LOCK).exists()
    refused = tmp_path / "never"
    with hold_folder(refused):
        pass
    assert not refused.exists()  # a folder made only to hold it is not left behind


@pytest.mark.parametrize("args,en,zh", [
    (["run", "baseline", "--steps", "0", "--out", "X"], "'0' is not allowed: give a whole number from 1 to 100,000",
     "不允许 '0'，请给出 1 到 100,000 之间的整数"),
    (["run", "baseline", "--replicates", "1e30", "--out", "X"], "'1e30' is not a whole number", "'1e30' 不是整数"),
    (["run", "baseline"], "missing option --out / -o", "缺少选项 --out / -o"),
    (["run", "baseline", "--bogus", "--out", "X"], "no option --bogus", "没有选项 --bogus"),
    (["sweep", "x.toml", "--out", "X", "--measure", "often"], "no option --measure", "没有选项 --measure"),
    (["params", "--group", "nope"], "'nope' is not one of", "'nope' 不在可选值"),
])
def test_command_line_mistakes_are_told_in_the_chosen_language(args, en, zh, tmp_path):
    """Click's own checks (ranges, missing and unknown options) speak English only; the CLI says
    them in its own words, in English or Chinese, with exit 2 and where to look."""
    args = [str(tmp_path / a) if a == "X" else a for a in args]
    for lang, words, hint in (("en", en, "see: loyalty-sim"), ("zh", zh, "参见：loyalty-sim")):
        r = CliRunner().invoke(cli, ["--lang", lang, *args])
        assert r.exit_code == 2, r.output
        assert words in r.output and hint in r.output and "Traceback" not in r.output, r.output
        assert "Invalid value" not in r.output and "Usage:" not in r.output
    assert not (tmp_path / "X").exists()


@pytest.mark.parametrize("info,words", [
    ("title = 5", "'info.title' must be a table with an English and a Chinese text"),
    ('bogus = { en = "a", zh = "b" }', "bogus"),
    ('summary = { en = "only English" }', "has no Chinese text"),
    ('title = "plain"', "'info.title' must be a table"),
])
def test_experiment_and_calibration_notes_are_checked_as_a_scenarios_are(tmp_path, info, words):
    exp = tmp_path / "e.toml"
    exp.write_text(f'[info]\n{info}\n[experiment]\nscenario = "baseline"\ndesign = "grid"\nreplicates = 1\nsteps = 2\n'
                   '[vary]\ntrust_gain = [0.1, 0.2]\n', encoding="utf-8")
    cal = tmp_path / "c.toml"
    cal.write_text(f'[info]\n{info}\n[calibration]\nscenario = "baseline"\ntrials = 2\nreplicates = 1\nsteps = 2\n'
                   '[free]\ntrust_gain = {{ min = 0.05, max = 0.3 }}\n[[targets]]\nmetric = "trust"\ntarget = 0.5\n'
                   'tolerance = 0.1\n'.replace("{{", "{").replace("}}", "}"), encoding="utf-8")
    for cmd, f in (("sweep", exp), ("calibrate", cal)):
        r = CliRunner().invoke(cli, [cmd, str(f), "--out", str(tmp_path / cmd)])
        assert r.exit_code == 2 and words in r.output and "line 2" in r.output, r.output
        assert not (tmp_path / cmd).exists()


def test_words_of_the_summaries(tmp_path):
    """validate's help names every fact; a dry run of one replicate and one configuration says
    so in the singular; the executor is named in the language of the output; analyze --csv lists
    its CSV tables under their own heading, not under the figures."""
    from sim.validation import FACT_IDS

    helptext = CliRunner().invoke(cli, ["validate", "--help"]).output
    assert FACT_IDS[-1] in helptext
    exp = tmp_path / "one.toml"
    exp.write_text(SMALL_EXP.replace("replicates = 2", "replicates = 1").replace("[0.05, 0.2]", "[0.05]"))
    r = CliRunner().invoke(cli, ["sweep", str(exp), "--dry-run"])
    assert r.exit_code == 0 and "1 configuration × 1 replicate = 1 run," in r.output, r.output
    out = tmp_path / "r"
    r = CliRunner().invoke(cli, ["--lang", "zh", "run", "baseline", "--steps", "3", "--set", "n_customers=100", "-w", "1",
                                 "-q", "--no-figures", "--out", str(out)])
    assert r.exit_code == 0 and "在本进程中" in r.output and "in this process" not in r.output, r.output
    r = CliRunner().invoke(cli, ["analyze", str(out), "--csv"])
    assert r.exit_code == 0, r.output
    figures, csvs = r.output.split("Figures:")[1].split("Tables as CSV:")
    assert ".csv" not in figures and "market.csv" in csvs

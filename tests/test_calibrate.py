"""``loyalty-sim calibrate``: a known parameter is recovered, trials are deterministic, a study
resumes without repeating trials, bad calibration files give exit 2 and a message naming file, key
and line, and a results folder is never overwritten silently. Tiny markets (200 customers, 20 steps)."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.calibration import achieved_values, calibrate, load_calibration, parse_calibration
from sim.calibration.spec import Target
from sim.cli import cli
from sim.inputs.scenario import load_scenario
from sim.params import ParamError, Params

KNOWN = 0.15  # the trust_gain the targets are generated at


def _target_trust() -> float:
    """Mean trust over the last 13 of 20 steps at trust_gain = KNOWN (seeds not used by any trial)."""
    t = (Target("trust", 0.0, 1.0, "mean_last_13"),)
    vals = achieved_values(Params(n_customers=200).replace(trust_gain=KNOWN), (), 20, [901, 902, 903], t)
    return float(np.mean(vals[0]))


def cal_text(trials: int = 6, target: float = 0.5, extra_free: str = "", seed: int = 3) -> str:
    return f"""
[calibration]
scenario = "baseline"
trials = {trials}
replicates = 2
steps = 20
seed = {seed}
check = 3

[set]
n_customers = 200

[free]
trust_gain = {{ min = 0.02, max = 0.3 }}
{extra_free}

[[targets]]
metric = "trust"
at = "mean_last_13"
target = {target}
tolerance = 0.02
"""


def write(tmp_path: Path, text: str, name: str = "cal.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_recovers_a_known_parameter(tmp_path):
    target = _target_trust()
    f = write(tmp_path, cal_text(trials=12, target=round(target, 4)))
    r = invoke("calibrate", f, "--out", tmp_path / "out", "--workers", 1, "-q")
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    trials = pd.read_parquet(out / "trials.parquet")
    assert len(trials) == 12 and (trials["state"] == "COMPLETE").all()
    best = trials.loc[trials["objective"].idxmin()]
    assert abs(best["trust_gain"] - KNOWN) < 0.03, trials[["trust_gain", "objective"]]
    # the objective drops: the best of the later (TPE) trials beats the first random ones
    assert trials["objective"].iloc[6:].min() < trials["objective"].iloc[:3].min()
    assert best["objective"] < 0.05 * trials["objective"].max()
    assert all(len(s) == 2 for s in trials["seeds"])  # every trial records its seeds
    # best.toml is a scenario `loyalty-sim run` accepts, with the fitted value and the [set] value
    sc = load_scenario(out / "best.toml")
    assert sc.params.trust_gain == pytest.approx(best["trust_gain"]) and sc.params.n_customers == 200
    assert sc.steps == 20
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "trust@mean_last_13" in report and "fresh seeds" in report and "objective_history.png" in report
    assert "one free parameter" in report  # importances: says why not
    for name in ("manifest.json", "study.db", "figures/objective_history.png", "figures/objective_history.svg"):
        assert (out / name).exists(), name
    assert not list(out.glob(".tmp-*"))


def test_same_file_and_seed_give_the_same_trials(tmp_path):
    f = write(tmp_path, cal_text(trials=4, extra_free='"A.price" = { min = 0.9, max = 1.4 }'))
    tables = []
    for k in range(2):
        cal = load_calibration(f)
        calibrate(cal, tmp_path / f"out{k}", workers=1)
        tables.append(pd.read_parquet(tmp_path / f"out{k}" / "trials.parquet"))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert tables[0]["A.price"].nunique() == 4


def test_resume_continues_without_repeating(tmp_path):
    f = write(tmp_path, cal_text(trials=6))
    out = tmp_path / "out"
    assert invoke("calibrate", f, "--out", out, "--trials", 3, "-w", 1, "-q").exit_code == 0
    again = invoke("calibrate", f, "--out", out, "--trials", 6, "-w", 1, "-q")
    assert again.exit_code == 2 and "already holds results" in again.output  # never overwritten silently
    assert len(pd.read_parquet(out / "trials.parquet")) == 3
    r = invoke("calibrate", f, "--out", out, "--trials", 6, "-w", 1, "-q", "--resume")
    assert r.exit_code == 0, r.output
    trials = pd.read_parquet(out / "trials.parquet")
    assert list(trials["trial"]) == list(range(6)) and (trials["state"] == "COMPLETE").all()
    assert trials["trust_gain"].nunique() == 6  # no trial repeated


def test_analyze_on_a_calibration_folder_says_where_its_report_is(tmp_path):
    f = write(tmp_path, cal_text(trials=1))
    out = tmp_path / "cal"
    assert invoke("calibrate", f, "--out", out, "-w", 1, "-q").exit_code == 0
    for lang, words in (("en", "holds a calibration"), ("zh", "中是一次校准")):
        r = CliRunner().invoke(cli, ["--lang", lang, "analyze", str(out)])
        assert r.exit_code == 2 and words in r.output and "report.md" in r.output, r.output


def test_a_calibration_folder_in_use_by_another_process_is_refused(tmp_path):
    from sim.runs.store import hold_folder

    f = write(tmp_path, cal_text(trials=2))
    out = tmp_path / "out"
    with hold_folder(out):
        for extra in ((), ("--resume",)):
            r = invoke("calibrate", f, "--out", out, "-w", 1, "-q", *extra)
            assert r.exit_code == 2 and "another loyalty-sim is writing" in r.output, r.output
    assert not out.exists()
    assert invoke("calibrate", f, "--out", out, "-w", 1, "-q").exit_code == 0


def test_resume_after_a_kill_marks_running_trials_interrupted(tmp_path):
    import optuna

    from sim.calibration.study import STUDY_NAME, study_storage

    f = write(tmp_path, cal_text(trials=2))
    out = tmp_path / "out"
    assert invoke("calibrate", f, "--out", out, "-w", 1, "-q").exit_code == 0
    study = optuna.load_study(study_name=STUDY_NAME, storage=study_storage(out))
    study.ask()  # a trial that was running when the process was killed
    r = invoke("calibrate", f, "--out", out, "--trials", 3, "-w", 1, "-q", "--resume")
    assert r.exit_code == 0, r.output
    trials = pd.read_parquet(out / "trials.parquet")
    assert (trials["state"] == "COMPLETE").sum() == 3
    assert list(trials.loc[trials["state"] == "FAIL", "error"]) == ["interrupted"]


def test_a_different_calibration_is_not_resumed_into_a_folder(tmp_path):
    out = tmp_path / "out"
    assert invoke("calibrate", write(tmp_path, cal_text(trials=1)), "--out", out, "-w", 1, "-q").exit_code == 0
    other = write(tmp_path, cal_text(trials=1, seed=4), "other.toml")
    r = invoke("calibrate", other, "--out", out, "-w", 1, "-q", "--resume")
    assert r.exit_code == 2 and "different" in r.output
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    r = invoke("calibrate", write(tmp_path, cal_text(trials=1), "c3.toml"), "--out", tmp_path / "busy", "-q")
    assert r.exit_code == 2 and "not empty" in r.output
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


BAD = {
    "unknown key": (cal_text().replace("replicates = 2", "replicats = 2"), "calibration.replicats",
                    "did you mean 'replicates'", 5),
    "unknown free key": (cal_text().replace("trust_gain = {", "trust_gian = {"), "'trust_gian' in [free]",
                         "did you mean 'trust_gain'", 14),
    "out of range bound": (cal_text().replace("max = 0.3", "max = 1.3"), "free.trust_gain.max", "1.3", 14),
    "min above max": (cal_text().replace("min = 0.02, max = 0.3", "min = 0.3, max = 0.1"), "free.trust_gain",
                      "must be below", 14),
    "missing targets": (cal_text().split("[[targets]]")[0], "targets", "at least one", None),
    "unknown metric": (cal_text().replace('metric = "trust"', 'metric = "trusst"'), "targets[0].metric",
                       "did you mean 'trust'", 18),
    "unknown merchant": (cal_text().replace('metric = "trust"', 'metric = "trust"\nmerchant = "Z"'),
                         "targets[0].merchant", "no merchant named 'Z'", 19),
    "bad tolerance": (cal_text().replace("tolerance = 0.02", "tolerance = 0"), "targets[0].tolerance", "> 0", 21),
    "no free": (cal_text().replace("trust_gain = { min = 0.02, max = 0.3 }", ""), "free", "names no parameter", 13),
    # one parameter fitted twice, or both fixed and fitted: refused as experiment files refuse it
    "free twice": (cal_text(extra_free='"A.price" = { min = 0.9, max = 1.4 }\n"merchants[0].price" = { min = 0.9, '
                            'max = 1.2 }'), "'merchants[0].price' in [free]", "'A.price' in [free]", 16),
    "set and free": (cal_text().replace("n_customers = 200", "n_customers = 200\ntrust_gain = 0.1"),
                     "'trust_gain' in [free]", "'trust_gain' in [set]", 15),
    # an objective that cannot rank the trials: all weights 0, or infinite for every trial
    "weights all 0": (cal_text().replace("tolerance = 0.02", "tolerance = 0.02\nweight = 0"), "targets[0].weight",
                      "every target has weight 0", 22),
    "target too large": (cal_text().replace("target = 0.5", "target = 1e308").replace("tolerance = 0.02",
                                                                                     "tolerance = 1e-308"),
                         "targets[0].tolerance", "tolerance ≥", 21),
    "tolerance subnormal": (cal_text().replace("tolerance = 0.02", "tolerance = 5e-324"), "targets[0].tolerance",
                            "infinite for every trial", 21),
    "misfit overflows": (cal_text().replace("tolerance = 0.02", "tolerance = 1e-200"), "targets[0].tolerance",
                         "1e-150", 21),
    "weight too large": (cal_text().replace("tolerance = 0.02", "tolerance = 0.02\nweight = 1e300"),
                         "targets[0].weight", "weight ≤", 22),
    "unknown side": (cal_text().replace("tolerance = 0.02", 'tolerance = 0.02\nside = "above"'),
                     "targets[0].side", "allowed both, at_least, at_most", 22),
    "side not a word": (cal_text().replace("tolerance = 0.02", "tolerance = 0.02\nside = 1"),
                        "targets[0].side", "at_least", 22),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_files_exit_2_naming_file_key_and_line(tmp_path, case):
    text, key, needle, line = BAD[case]
    f = write(tmp_path, text)
    r = invoke("calibrate", f, "--out", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and key in r.output and needle in r.output and str(f) in r.output
    if line is not None:
        assert f"line {line}" in r.output, r.output
    assert not (tmp_path / "out").exists()
    zh = CliRunner().invoke(cli, ["--lang", "zh", "calibrate", str(f), "--out", str(tmp_path / "out")])
    assert zh.exit_code == 2 and "错误" in zh.output


_keys = st.sampled_from(["calibration.trials", "calibration.replicates", "calibration.steps", "calibration.seed",
                         "calibration.check", "calibration.scenario", "calibration.bogus", "set.trust_gain",
                         "set.n_customers", "free.trust_gain", "free.A_price", "free.loss_aversion",
                         "targets.metric", "targets.at", "targets.merchant", "targets.tolerance", "targets.weight",
                         "targets.target", "targets.side", "nonsense.key"])
_values = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    st.text(max_size=8), st.lists(st.integers(-3, 3), max_size=3),
                    st.dictionaries(st.sampled_from(["min", "max", "log", "x"]),
                                    st.one_of(st.floats(-2, 2), st.booleans(), st.text(max_size=3)), max_size=4))


def _toml_value(v) -> str:
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else ("-inf" if v == float("-inf") else repr(v)))
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys, _values, max_size=5))
def test_junk_never_gives_a_traceback(junk):
    data = tomllib.loads(cal_text())
    for k, v in junk.items():
        table, key = k.split(".")
        if table == "targets":
            data["targets"][0][key] = v
        else:
            data.setdefault(table, {})[key] = v
    lines = []
    for table, body in data.items():
        if table == "targets":
            for t in body:
                lines += ["[[targets]]"] + [f"{k} = {_toml_value(v)}" for k, v in t.items()]
        else:
            lines += [f"[{table}]"] + [f'"{k}" = {_toml_value(v)}' for k, v in body.items()]
    try:
        parse_calibration("\n".join(lines), "junk.toml")
    except ParamError as e:
        assert e.text("en") and e.text("zh")


def test_shipped_calibrations_load():
    d = Path(__file__).resolve().parent.parent / "scenarios" / "experiments" / "calibration"
    files = sorted(d.glob("*.toml"))
    assert files
    for f in files:
        cal = load_calibration(f)
        assert cal.free and cal.targets and cal.trials >= 1


def _complete_trials(db: Path) -> int:
    """Finished trials in a study database that another process is writing, read without ever
    writing to it: opening it through Optuna from here would also create its tables, which can
    collide with the calibration creating them at the same moment."""
    import sqlite3

    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db.as_posix()}?mode=ro", uri=True, timeout=0.2)
        try:
            return int(con.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:  # not created yet, or busy this instant
        return 0


def test_kill_9_then_resume(tmp_path):
    """A calibration killed with SIGKILL in the middle of its study resumes to its full budget."""
    import os
    import signal
    import subprocess
    import sys
    import time

    f = write(tmp_path, cal_text(trials=500))
    out = tmp_path / "out"
    root = Path(__file__).resolve().parent.parent
    log = open(tmp_path / "calibrate.log", "wb")  # what the killed process said, shown if it never got going
    p = subprocess.Popen([sys.executable, "-m", "sim.cli", "calibrate", str(f), "--out", str(out), "-w", "1", "-q"],
                         cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        n = 0
        while time.time() < deadline and n < 3:
            time.sleep(0.5)
            n = _complete_trials(out / "study.db")
        said = (tmp_path / "calibrate.log").read_text(errors="replace")[-3000:]
        assert n >= 3, f"the calibration did not get going (still running: {p.poll() is None}); it said:\n{said}"
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        log.close()
    assert not (out / "trials.parquet").exists()  # killed before the end
    total = n + 3
    r = invoke("calibrate", f, "--out", out, "--trials", total, "-w", 1, "-q", "--resume")
    assert r.exit_code == 0, r.output
    trials = pd.read_parquet(out / "trials.parquet")
    done = trials[trials["state"] == "COMPLETE"]
    assert len(done) >= total and done["trust_gain"].nunique() == len(done)
    assert set(trials.loc[trials["state"] != "COMPLETE", "error"]) <= {"interrupted"}


# ---- validation targets (fact = "F5", check = …) ----------------------------------------------------
def fact_text(extra_target: str = "", check: str = "minor", fact: str = "F5", trials: int = 3) -> str:
    """F5 (complaining by severity: one of the cheapest facts, 0.3 s a seed) as the only target: the base
    scenario is never run. F5's file sets n_customers itself, so [set] n_customers does not reach it."""
    return f"""
[calibration]
scenario = "baseline"
trials = {trials}
replicates = 2
seed = 4
check = 2

[set]
n_customers = 200

[free]
complaint_minor = {{ min = 0.01, max = 0.2 }}

[[targets]]
fact = "{fact}"
check = "{check}"
target = 0.08
tolerance = 0.02
{extra_target}
"""


def test_validation_target_equals_what_validate_measures(tmp_path):
    from sim.validation import load_markets, measure_task
    from sim.validation.facts import fact

    cal = parse_calibration(fact_text(trials=2), "f5.toml")
    (t,) = cal.targets
    assert t.kind == "validation" and t.label == "F5:minor" and not cal.observables and cal.facts == ("F5",)
    res = calibrate(cal, tmp_path / "out", workers=1, lang="en")
    table = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    assert "F5:minor" in table.columns and "`F5:minor`" in res.markdown
    seeds = cal.fit_seeds()
    best = res.outcome.best_values
    f5 = fact("F5")
    # what `validate` measures on the same seeds, F5's market with the trial's complaint_minor
    markets = [dataclasses.replace(sc, params=sc.params.replace(complaint_minor=best["complaint_minor"]))
               for sc in load_markets(f5)]
    want = {c.key: c.value for c in f5.checks([f5.measure(markets, s) for s in seeds])}["minor"]
    got = table.loc[table["trial"] == res.outcome.best_trial, "F5:minor"].iloc[0]
    assert got == pytest.approx(want, rel=1e-12)
    # n_customers of [set] did not reach F5's market (its file sets it): the market is F5's own
    assert markets[0].params.n_customers == load_markets(f5)[0].params.n_customers == 2000
    # with no values the calibration's measurement is validate's own
    plain = {c.key: c.value for c in f5.checks([measure_task("F5", s)[2] for s in seeds])}["minor"]
    from sim.calibration.facts import fact_checks, measure_fact
    assert fact_checks("F5", [measure_fact("F5", {}, s) for s in seeds])["minor"].value == plain
    # the fresh seeds give the check's own interval
    m, lo, hi = res.fresh["F5:minor"]
    assert lo <= m <= hi


def test_validation_targets_are_deterministic(tmp_path):
    from sim.calibration import run_study

    a = run_study(parse_calibration(fact_text(trials=2), "f5.toml"), tmp_path / "a", workers=1)
    b = run_study(parse_calibration(fact_text(trials=2), "f5.toml"), tmp_path / "b", workers=1)
    cols = ["complaint_minor", "objective", "F5:minor"]
    pd.testing.assert_frame_equal(a.trials[cols], b.trials[cols])


def test_a_fact_keeps_the_keys_its_file_sets():
    from sim.calibration.facts import design_keys, fact_values
    from sim.validation import load_markets
    from sim.validation.facts import fact

    market, merchants = design_keys("F6")
    assert "n_customers" in market and ("Quick1", "recovery_delay") in merchants
    assert "reconsider_dissatisfied" not in market  # the file leaves it to the market's defaults
    p = load_markets(fact("F6"))[0].params
    vals = {"n_customers": 500, "reconsider_dissatisfied": 0.2, "reconsider_prob": 0.05, "Quick1.recovery_delay": 3,
            "Quick1.price": 1.2, "A.price": 1.3}
    assert fact_values("F6", p, vals) == {"reconsider_dissatisfied": 0.2, "reconsider_prob": 0.05, "Quick1.price": 1.2}
    bad = fact_text().replace("complaint_minor = {", "n_customers = { min = 100, max = 900 }\ncomplaint_minor = {")
    # n_customers reaches no target (F5's file sets it): refused, naming it
    with pytest.raises(ParamError, match="free.n_customers"):
        parse_calibration(bad.replace("[set]\nn_customers = 200", ""), "f5.toml")


BAD_FACT = {
    "unknown fact": (fact_text(fact="F55"), "targets[0].fact", "F1, F2", "did you mean 'F5'"),
    "unknown check": (fact_text(check="minr"), "targets[0].check", "F5's checks: minor, major",
                      "did you mean 'minor'"),
    "metric and fact": (fact_text().replace('fact = "F5"', 'fact = "F5"\nmetric = "trust"'), "targets[0] has both",
                        "'metric' and 'fact'", "not both"),
    "neither": (fact_text().replace('fact = "F5"\ncheck = "minor"\n', ""), "targets[0] has neither",
                "'metric' nor 'fact'", "fact = \"F6\""),
    "at with fact": (fact_text().replace('fact = "F5"', 'fact = "F5"\nat = "end"'), "targets[0].at",
                     "belongs to an observable", "allowed with fact"),
}


@pytest.mark.parametrize("case", list(BAD_FACT))
def test_bad_validation_targets_exit_2(tmp_path, case):
    text, key, needle, needle2 = BAD_FACT[case]
    f = write(tmp_path, text)
    r = invoke("calibrate", f, "--out", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and key in r.output and needle in r.output and needle2 in r.output
    assert str(f) in r.output and not (tmp_path / "out").exists()


# ---- failed trials, damaged folders ----------------------------------------------------------------
def crossing_text(lo: float, hi: float, trials: int = 3, seed: int = 1) -> str:
    """trust_threshold free between ``lo`` and ``hi``: above the baseline's loyalty_threshold (0.8) a
    trial breaks the rule loyalty_threshold ≥ trust_threshold and fails (seed 1: trials 0 and 1)."""
    return cal_text(trials=trials, seed=seed).replace("trust_gain = { min = 0.02, max = 0.3 }",
                                                      f"trust_threshold = {{ min = {lo}, max = {hi} }}")


@pytest.mark.parametrize("workers", [1, 2])
def test_failed_trials_are_reported_and_exit_1(tmp_path, workers):
    f = write(tmp_path, crossing_text(0.6, 0.9))
    out = tmp_path / "out"
    r = invoke("calibrate", f, "--out", out, "-w", workers, "-q")
    trials = pd.read_parquet(out / "trials.parquet")
    failed = trials[trials["state"] == "FAIL"]
    n_done = int((trials["state"] == "COMPLETE").sum())
    assert len(failed) and n_done, trials  # some of each (a process pool brings a trial's error back whole)
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    assert f"{len(failed)} of 3 trials failed" in r.output and f"{len(failed)} failed" in r.output
    first = failed["trial"].iloc[0]
    assert f"trial {first}: ParamError: parameter 'loyalty_threshold'" in r.output
    # everything that finished is written, and the report says what failed
    assert (out / "best.toml").exists()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Failed trials" in report and f"{len(failed)} of 3 trials failed" in report
    assert "must be at least trust_threshold" in report
    zh = CliRunner().invoke(cli, ["--lang", "zh", "calibrate", str(f), "--out", str(tmp_path / "zh"), "-w", "1", "-q"])
    assert zh.exit_code == 1 and "次试验中有" in zh.output and "不能低于" in zh.output  # the error in Chinese too
    assert "## 失败的试验" in (tmp_path / "zh" / "report.md").read_text(encoding="utf-8")


def test_no_trial_finished_names_the_folder_and_the_errors(tmp_path):
    f = write(tmp_path, crossing_text(0.85, 0.95))
    out = tmp_path / "out"
    r = invoke("calibrate", f, "--out", out, "-w", 1, "-q")
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert "no trial finished: 3 of the 3 trials" in r.output and str(out) in r.output
    assert "trial 0: ParamError: parameter 'loyalty_threshold' = 0.8 must be at least trust_threshold" in r.output
    assert not (out / "report.md").exists() and len(pd.read_parquet(out / "trials.parquet")) == 3
    # the file fixed, the same folder: says that it holds no finished trial and to choose another folder
    fixed = write(tmp_path, crossing_text(0.6, 0.75), "fixed.toml")
    for extra in ([], ["--resume"]):
        again = invoke("calibrate", fixed, "--out", out, "-w", 1, "-q", *extra)
        assert again.exit_code == 2, again.output
        assert "none of whose 3 trials finished" in again.output and "another folder" in again.output
    assert len(pd.read_parquet(out / "trials.parquet")) == 3  # nothing overwritten
    assert invoke("calibrate", fixed, "--out", tmp_path / "new", "-w", 1, "-q").exit_code == 0


@pytest.mark.parametrize("damage", ["random bytes", "empty", "deleted", "another study"])
def test_resume_refuses_a_damaged_or_missing_study(tmp_path, damage):
    import os

    f = write(tmp_path, cal_text(trials=2))
    out = tmp_path / "out"
    assert invoke("calibrate", f, "--out", out, "-w", 1, "-q").exit_code == 0
    db = out / "study.db"
    if damage == "random bytes":
        db.write_bytes(os.urandom(4096))
    elif damage == "empty":
        db.write_bytes(b"")
    elif damage == "deleted":
        db.unlink()
    else:  # a study of no trial (e.g. study.db replaced by a fresh one)
        import optuna

        from sim.calibration.study import STUDY_NAME, study_storage

        db.unlink()
        optuna.create_study(study_name=STUDY_NAME, storage=study_storage(out))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    r = invoke("calibrate", f, "--out", out, "--trials", 4, "-w", 1, "-q", "--resume")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "study.db" in r.output and "cannot be resumed" in r.output
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # nothing written
    zh = CliRunner().invoke(cli, ["--lang", "zh", "calibrate", str(f), "--out", str(out), "--resume", "-q"])
    assert zh.exit_code == 2 and "无法继续" in zh.output


def test_an_overflowing_objective_is_infinite_and_its_figure_quiet():
    import warnings

    from sim.analysis.figures import plot_objective_history
    from sim.calibration.spec import objective

    assert objective((Target("trust", 0.5, 1e-149),), [1e10]) == float("inf")  # not an OverflowError
    trials = pd.DataFrame({"trial": [0, 1, 2], "objective": [2.0, float("inf"), 5e3]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_objective_history(trials)
    assert fig.axes[0].get_yscale() == "log"


def test_a_bound_counts_only_the_side_it_names(tmp_path):
    from sim.calibration.spec import Calibration, objective

    def obj(side, achieved):
        return objective((Target("trust", 0.5, 0.1, side=side),), [achieved])

    assert obj("both", 0.7) == pytest.approx(4.0) and obj("both", 0.3) == pytest.approx(4.0)
    assert obj("at_least", 0.7) == 0.0 and obj("at_least", 0.3) == pytest.approx(4.0)
    assert obj("at_most", 0.3) == 0.0 and obj("at_most", 0.7) == pytest.approx(4.0)
    assert np.isnan(obj("at_least", float("nan")))  # a trial that cannot be ranked stays so
    # a calibration: only the trials whose trust went over the upper bound have a misfit
    f = write(tmp_path, cal_text(trials=6, target=0.62).replace("tolerance = 0.02", 'tolerance = 0.02\nside = "at_most"'))
    cal = load_calibration(f)
    assert cal.targets[0].side == "at_most"
    r = invoke("calibrate", f, "--out", tmp_path / "out", "--workers", 1, "-q")
    assert r.exit_code == 0, r.output
    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    col = trials["trust@mean_last_13"]
    assert (col <= 0.62).any() and (col > 0.62).any(), col  # both sides were tried
    assert (trials.loc[col <= 0.62, "objective"] == 0).all()
    assert np.allclose(trials.loc[col > 0.62, "objective"], ((col[col > 0.62] - 0.62) / 0.02) ** 2)
    assert "| ≤ 0.62 |" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    # a two-sided target's fingerprint is what it was before bounds existed; a bound changes it
    two = load_calibration(write(tmp_path, cal_text(), "two.toml"))
    assert "side" not in two.spec()["targets"][0]
    assert isinstance(two, Calibration) and two.fingerprint() != dataclasses.replace(
        two, targets=(dataclasses.replace(two.targets[0], side="at_least"),)).fingerprint()


def test_an_input_error_from_a_worker_process_arrives_whole():
    import pickle

    from sim.inputs.scenario import ScenarioError
    from sim.runs.design import BatchError

    for e in (ParamError("k", "bad", "f.toml", "坏"), BatchError("k", "bad", "f.toml", "坏", 3),
              ScenarioError("k", "bad", "f.toml", "坏", 4)):
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is type(e) and back.text("zh") == e.text("zh") and str(back) == str(e)
        assert back.__dict__ == e.__dict__


def test_a_parameter_that_takes_even_values_is_drawn_among_them(tmp_path):
    """network_degree must be even (declared once: Param.multiple): a calibration draws it among the
    even values between its bounds (odd draws failed every such trial), and refuses a log scale for it."""
    f = write(tmp_path, cal_text(trials=4, extra_free="network_degree = { min = 3, max = 13 }"))
    cal = load_calibration(f)
    (free,) = [x for x in cal.free if x.key == "network_degree"]
    assert (free.lo, free.hi, free.multiple) == (4, 12, 2)
    calibrate(cal, tmp_path / "out", workers=1)
    trials = pd.read_parquet(tmp_path / "out" / "trials.parquet")
    assert (trials["state"] == "COMPLETE").all() and (trials["network_degree"] % 2 == 0).all()
    bad = write(tmp_path, cal_text(trials=2, extra_free="network_degree = { min = 2, max = 12, log = true }"), "bad.toml")
    with pytest.raises(ParamError, match="multiples of 2 only"):
        load_calibration(bad)
    other = load_calibration(write(tmp_path, cal_text(trials=2), "plain.toml"))
    assert all("multiple" not in d for d in other.spec()["free"])  # (fingerprints of earlier studies kept)

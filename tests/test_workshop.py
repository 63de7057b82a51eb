"""The live classroom market's engine (issue 19): seats, rounds, the facilitator's controls, the log.

- A participant's decisions reach their own merchant only, in their own market; bots play the rest.
- Every change is in the log before it counts: a workshop rebuilt from its log (after a restart, even
  after ``kill -9`` in the middle of a round) is the same market as one that never stopped.
- Undo, market events, the scorecard and the export.
- Bad input (out-of-range values, text for a number, a forged token, a wrong key or code, a seat
  held by someone else) gets a message naming what was wrong, in English and Chinese, and changes
  nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.params import MERCHANT_PARAMS, ParamError
from sim.workshop import DECISIONS, MARKET_EVENTS, EventLog, Workshop, WorkshopError, check_decision

N = 400  # customers per market: small and quick


@pytest.fixture
def log(tmp_path):
    lg = EventLog(tmp_path / "workshops.sqlite")
    yield lg
    lg.close()


def _play(ws, key, tokens, plan):
    """Apply ``plan``: per round, {seat index: decisions}; then advance."""
    for decisions in plan:
        for i, fields in decisions.items():
            ws.decide(tokens[i], fields)
        ws.advance(key)


def test_decisions_reach_only_the_participants_own_merchant(log, tmp_path):
    ws, key = Workshop.create(log, "baseline", seed=3, markets=2, customers=N)
    (a, ta), (b, tb) = ws.join("Ann"), ws.join("Bo")
    assert (a.market, a.merchant, b.market, b.merchant) == (0, "A", 0, "B")
    before = {m: ws.models[0].merchant(m).policy for m in ws.merchant_names}
    ws.decide(ta, {"price": 1.4, "quality": 0.9})
    ws.advance(key)
    pol = {m: ws.models[0].merchant(m).policy for m in ws.merchant_names}
    assert (pol["A"].price, pol["A"].quality) == (1.4, 0.9)
    assert pol["B"].price == before["B"].price and pol["B"].quality == before["B"].quality  # Bo decided nothing
    # the same merchant in the other market (a bot there: it may adapt on its own) is where it would be
    # had Ann decided nothing
    other = ws.models[1].merchant("A").policy
    still, skey = Workshop.create(EventLog(tmp_path / "undecided.sqlite"), "baseline", seed=3, markets=2, customers=N)
    for name in ("Ann", "Bo"):
        still.join(name)
    still.advance(skey)
    alone = still.models[1].merchant("A").policy
    assert (other.price, other.quality) == (alone.price, alone.quality) != (1.4, 0.9)
    # seated merchants follow their participant; empty seats are played by the scenario's strategy
    assert pol["A"].strategy == "fixed" and pol["B"].strategy == "fixed" and pol["C"].strategy != "fixed"
    rounds = ws.round_table(0)
    assert list(rounds["round"].unique()) == [1] and set(rounds["merchant"]) == {"A", "B", "C"}
    assert ws.weeks(0)["step"].max() == ws.round_weeks == 13
    board = ws.scorecard(0)
    assert list(board.columns[:3]) == ["merchant", "player", "score"]
    assert dict(zip(board["merchant"], board["player"])) == {"A": "Ann", "B": "Bo", "C": ""}
    assert board["score"].between(0, 1).all() and board["score"].is_monotonic_decreasing


def test_a_workshop_rebuilt_from_its_log_is_the_same_market(log):
    ws, key = Workshop.create(log, "baseline", seed=11, markets=2, customers=N)
    tokens = [ws.join(n)[1] for n in ("Ann", "Bo", "Cy", "Di")]  # Di sits in market 2
    ws.inject(key, "price_war")
    _play(ws, key, tokens, [{0: {"price": 1.3}, 3: {"quality": 0.85}}, {1: {"compensation": 0.6, "recovery_prob": 0.9}}])
    ws.leave(tokens[2])  # Cy leaves: a bot plays C
    ws.inject(key, "regulation")
    _play(ws, key, tokens, [{0: {"programme": "financial"}}])
    again = Workshop.resume(log, ws.code)  # what a restarted server does
    assert len(again.rounds) == 3 and again.round_number == 4
    for m in range(2):
        pd.testing.assert_frame_equal(again.weeks(m), ws.weeks(m))
    assert again.seats[(0, "C")].name == "" and again.seats[(1, "A")].name == "Di"
    assert again.pending == ws.pending == {}
    # and both go on alike
    for w in (ws, again):
        w.decide(tokens[0], {"price": 0.9})
        w.advance(key)
    pd.testing.assert_frame_equal(again.weeks(0), ws.weeks(0))


def test_undo_takes_the_last_round_back(log):
    ws, key = Workshop.create(log, "baseline", seed=5, customers=N)
    _, t = ws.join("Ann")
    _play(ws, key, [t], [{0: {"price": 1.2}}])
    after_one = ws.weeks(0)
    ws.decide(t, {"price": 2.5})
    ws.inject(key, "scandal")
    ws.advance(key)
    assert ws.models[0].merchant("A").policy.price == 2.5
    left = ws.undo(key)
    assert left == 1 and len(ws.rounds) == 1
    pd.testing.assert_frame_equal(ws.weeks(0), after_one)  # back at the start of round 2
    assert ws.pending == {(0, "A"): {"price": 2.5}} and ws.pending_events == ["scandal"]  # to be played again
    ws.advance(key)
    ws2 = Workshop.resume(log, ws.code)
    pd.testing.assert_frame_equal(ws2.weeks(0), ws.weeks(0))
    fresh, fresh_key = Workshop.create(log, "baseline", seed=5, customers=N)
    with pytest.raises(WorkshopError, match="no round"):
        fresh.undo(fresh_key)


def test_market_events_last_a_round_or_for_good(log):
    ws, key = Workshop.create(log, "baseline", seed=2, customers=N)
    m = ws.models[0]
    fail = {n: m.merchant(n).policy.failure_prob for n in ws.merchant_names}
    cost = m.params.procedural_cost
    ws.inject(key, "scandal")
    ws.inject(key, "regulation")
    seen = []
    real_step = m.step

    def watch():  # the values in force while the round plays
        seen.append((m.merchant("A").policy.failure_prob, m.params.procedural_cost))
        real_step()
    m.step = watch
    ws.advance(key)
    assert seen and all(f == pytest.approx(min(1.0, fail["A"] + MARKET_EVENTS["scandal"].merchants_add[0][1]))
                        for f, _ in seen)
    assert all(c == pytest.approx(cost * 0.5) for _, c in seen)
    assert m.merchant("A").policy.failure_prob == fail["A"]  # the scandal is over with its round
    assert m.params.procedural_cost == pytest.approx(cost * 0.5)  # the rule stays
    with pytest.raises(ParamError, match="unknown market event"):
        ws.inject(key, "meteor")


def test_bad_input_is_refused_with_a_message_and_changes_nothing(log):
    ws, key = Workshop.create(log, "baseline", seed=1, customers=N)
    (seat, token) = ws.join("Ann")
    n = len(log.records(ws.code))
    cases = [
        (lambda: ws.decide(token, {"price": 99}), "A.price", "0 … 10"),
        (lambda: ws.decide(token, {"quality": "high"}), "A.quality", None),
        (lambda: ws.decide(token, {"price": 1.2, "quality": -1}), "A.quality", None),  # one bad: none taken
        (lambda: ws.decide(token, {"merchant": "B", "price": 1}), "merchant", None),  # not a decision
        (lambda: ws.decide(token, {}), "decision", None),
        (lambda: ws.decide("forged-token", {"price": 1}), "token", None),
        (lambda: ws.advance("wrong-key"), "key", None),
        (lambda: ws.join("Bo", market=1, merchant="A"), "merchant", "taken"),  # a second tab, same seat
        (lambda: ws.join("Bo", market=1, merchant="Z"), "merchant", None),
        (lambda: ws.join("Bo", market=3, merchant="B"), "market", "1 … 1"),
        (lambda: ws.join("   "), "name", None),
        (lambda: ws.message(key, ""), "message", None),
        (lambda: ws.set_weights(key, {"profit": 2}), "weights.profit", "0 … 1"),
        (lambda: ws.set_weights(key, {"profit": 0, "loyalty": 0, "satisfaction": 0}), "weights", None),
        (lambda: Workshop.resume(log, "NOPE1"), "code", None),
        (lambda: Workshop.create(log, "no_such_scenario"), "scenario", None),
        (lambda: Workshop.create(log, "baseline", seed=-4), "seed", None),
        (lambda: Workshop.create(log, "baseline", markets=0), "markets", None),
        (lambda: Workshop.create(log, "baseline", merchants=7), "merchants", "2 … 6"),
        (lambda: Workshop.create(log, "baseline", round_weeks="a quarter"), "round_weeks", None),
        (lambda: Workshop.create(log, "baseline", code=ws.code), "code", "exists"),
    ]
    for call, key_named, words in cases:
        with pytest.raises(ParamError) as e:
            call()
        assert e.value.key == key_named, (key_named, str(e.value))
        assert e.value.text("zh") != e.value.text("en") and e.value.text("zh").strip()
        if words:
            assert words in str(e.value), str(e.value)
    assert len(log.records(ws.code)) == n  # nothing written
    assert ws.pending == {} and ws.rounds == []
    # the seat's own token gets the seat back (a reload); leaving frees it for someone else
    assert ws.join("", token=token)[0] is seat
    ws.leave(token)
    seat2, _ = ws.join("Bo", market=1, merchant="A")
    assert seat2.name == "Bo"
    with pytest.raises(WorkshopError):
        ws.decide(token, {"price": 1.0})  # the old token holds nothing any more


def test_a_closed_workshop_takes_nothing_more_and_leaves_the_open_list(log):
    ws, key = Workshop.create(log, "baseline", seed=1, customers=N)
    other, _ = Workshop.create(log, "baseline", seed=2, customers=N)
    assert log.rooms() == [ws.code, other.code]
    ws.close(key)
    assert log.rooms() == [other.code]
    with pytest.raises(WorkshopError, match="closed"):
        ws.join("Ann")
    assert Workshop.resume(log, ws.code).closed


def test_the_export_holds_decisions_weeks_rounds_and_the_log_without_secrets(log, tmp_path):
    ws, key = Workshop.create(log, "baseline", seed=4, markets=2, customers=N)
    tokens = [ws.join(n)[1] for n in ("Ann", "Bo")]
    _play(ws, key, tokens, [{0: {"price": 1.25}}, {1: {"quality": 0.7}}])
    paths = ws.export(tmp_path / "export")
    names = sorted(p.name for p in paths)
    assert names == ["decisions.csv", "log.csv", "rounds.csv", "weeks.csv"]
    dec = pd.read_csv(tmp_path / "export" / "decisions.csv")
    assert dec.to_dict("records") == [
        {"round": 1, "market": 1, "merchant": "A", "field": "price", "value": 1.25, "player": "participant"},
        {"round": 2, "market": 1, "merchant": "B", "field": "quality", "value": 0.7, "player": "participant"}]
    weeks = pd.read_csv(tmp_path / "export" / "weeks.csv")
    assert set(weeks["market"]) == {1, 2} and weeks["step"].max() == 26
    rounds = pd.read_csv(tmp_path / "export" / "rounds.csv")
    assert len(rounds) == 2 * (1 + 2) * 3  # markets × (the start + rounds) × merchants
    assert list(rounds["round"].unique()) == [0, 1, 2]
    text = (tmp_path / "export" / "log.csv").read_text(encoding="utf-8")
    assert "hash" not in text and not any(t in text for t in tokens) and "advance" in text


def test_the_start_and_the_rounds_add_up_to_the_cumulative_profit_in_the_export(log, tmp_path):
    """Week 0, before round 1, each merchant wins its first customers and pays their acquisition
    cost: the export's rounds.csv has it as round 0 (as weeks.csv does), so that for every merchant
    the start's profit plus each round's profit is the cumulative profit of that round."""
    ws, key = Workshop.create(log, "baseline", seed=4, markets=2, customers=N, round_weeks=4)
    for _ in range(3):
        ws.advance(key)
    start = ws.opening(0)
    weeks = ws.weeks(0)
    week0 = weeks[weeks["step"] == 0].set_index("merchant")
    assert list(start["round"]) == [0] * 3 and list(start["merchant"]) == ws.merchant_names
    for r in start.itertuples():
        assert r.profit < 0 and r.profit == r.cumulative_profit == week0.loc[r.merchant, "profit"]
        assert r.customers == r.acquired == week0.loc[r.merchant, "customers"] > 0
    ws.export(tmp_path / "export")
    rounds = pd.read_csv(tmp_path / "export" / "rounds.csv")
    assert len(rounds) == 2 * (1 + 3) * 3
    for (market, merchant), rows in rounds.groupby(["market", "merchant"]):
        rows = rows.sort_values("round")
        assert list(rows["round"]) == [0, 1, 2, 3]
        assert rows["profit"].cumsum().to_numpy() == pytest.approx(rows["cumulative_profit"].to_numpy())
    # without round 0 the rounds do not add up: what the results table showed
    r1 = rounds[(rounds["round"] == 1) & (rounds["market"] == 1) & (rounds["merchant"] == "B")].iloc[0]
    assert r1["profit"] != pytest.approx(r1["cumulative_profit"])


def test_a_round_is_played_once_however_often_it_is_asked_for(log):
    """"Play round N" plays round N once: asked again (a double click, a second facilitator's tab,
    a request that waited for the round before it), it is refused with a message and changes
    nothing; a round that is not open yet is refused too; after an undo the round can be played again."""
    ws, key = Workshop.create(log, "baseline", seed=6, customers=N, round_weeks=2)
    assert ws.advance(key, 1) == 1
    with pytest.raises(WorkshopError, match="round 1 has been played already") as e:
        ws.advance(key, 1)
    assert e.value.key == "round" and "第 1 轮已经进行过了" in e.value.text("zh")
    with pytest.raises(WorkshopError, match="round 3 is not open yet"):
        ws.advance(key, 3)
    with pytest.raises(WorkshopError, match="round"):
        ws.advance(key, "two")
    assert len(ws.rounds) == 1 and [r.kind for r in log.records(ws.code)].count("advance") == 1
    assert ws.weeks(0)["step"].max() == 2
    ws.undo(key)
    assert ws.advance(key, 1) == 1  # taken back: round 1 is open again
    # two facilitator's pages asking for round 2 at the same moment: one round is played
    import threading
    outcomes, go = [], threading.Barrier(2)

    def ask():
        go.wait()
        try:
            outcomes.append(ws.advance(key, 2))
        except WorkshopError as err:
            outcomes.append(err.key)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == [2, "round"] and len(ws.rounds) == 2
    assert ws.weeks(0)["step"].max() == 4
    again = Workshop.resume(log, ws.code)
    assert len(again.rounds) == 2
    pd.testing.assert_frame_equal(again.weeks(0), ws.weeks(0))
    assert ws.advance(key) == 3  # without a number: the open round, as before


def test_a_server_killed_in_the_middle_of_a_round_resumes_with_every_decision(tmp_path):
    """kill -9 after some decisions of round 2 were made: the workshop rebuilt from the log has
    them, and the workshop played to its end equals one that was never interrupted."""
    path = tmp_path / "killed.sqlite"
    child = textwrap.dedent(f"""
        import os, signal, json, sys
        from sim.workshop import EventLog, Workshop
        log = EventLog({str(path)!r})
        ws, key = Workshop.create(log, "baseline", seed=21, customers={N}, code="KILLD")
        tokens = [ws.join(n)[1] for n in ("Ann", "Bo")]
        ws.decide(tokens[0], {{"price": 1.3}})
        ws.advance(key)
        ws.decide(tokens[1], {{"quality": 0.8}})
        ws.decide(tokens[0], {{"compensation": 0.5}})
        print(json.dumps({{"key": key, "tokens": tokens}}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    import json

    got = json.loads(proc.stdout.strip().splitlines()[-1])
    log = EventLog(path)
    ws = Workshop.resume(log, "KILLD")
    assert len(ws.rounds) == 1 and ws.pending == {(0, "B"): {"quality": 0.8}, (0, "A"): {"compensation": 0.5}}
    ws.advance(got["key"])
    ws.decide(got["tokens"][1], {"price": 0.95})
    ws.advance(got["key"])
    # the same decisions, never interrupted
    ref_log = EventLog(tmp_path / "ref.sqlite")
    ref, rkey = Workshop.create(ref_log, "baseline", seed=21, customers=N, code="KILLD")
    rt = [ref.join(n)[1] for n in ("Ann", "Bo")]
    _play(ref, rkey, rt, [{0: {"price": 1.3}}, {1: {"quality": 0.8}, 0: {"compensation": 0.5}}, {1: {"price": 0.95}}])
    pd.testing.assert_frame_equal(ws.weeks(0), ref.weeks(0))
    log.close()
    ref_log.close()


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from([*DECISIONS, "name", "strategy", "bogus"]),
                       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20),
                                 st.text(max_size=8), st.none(), st.booleans(),
                                 st.sampled_from(["none", "financial", "social", "points", "0.5", "1e3"])),
                       max_size=4))
def test_any_decision_is_either_taken_within_its_range_or_refused_with_a_message(fields):
    try:
        clean = check_decision(fields, "A")
    except ParamError as e:
        assert e.key and e.text("en") and e.text("zh")
        return
    assert set(clean) == set(fields) and set(clean) <= set(DECISIONS)
    for k, v in clean.items():
        p = MERCHANT_PARAMS[k]
        if p.lo is not None:
            assert p.lo <= v <= p.hi


def test_the_round_clock_locks_decisions_and_a_pause_keeps_what_was_left(log, monkeypatch):
    import time as _time

    ws, key = Workshop.create(log, "baseline", seed=1, customers=N)
    _, t = ws.join("Ann")
    assert ws.accepting() and ws.seconds_left() is None  # no deadline: open until the facilitator advances
    deadline = ws.start_timer(key, 60)
    assert 59 <= ws.seconds_left() <= 60
    ws.decide(t, {"price": 1.1})
    ws.pause(key)
    left = ws.seconds_left()
    assert 59 <= left <= 60 and not ws.accepting()
    with pytest.raises(WorkshopError, match="locked") as e:
        ws.decide(t, {"price": 1.2})
    assert "锁定" in e.value.text("zh")
    ws.go_on(key)
    assert ws.accepting() and ws.deadline > deadline - 1
    monkeypatch.setattr(_time, "time", lambda: ws.deadline + 1)  # the clock ran out
    assert not ws.accepting() and ws.seconds_left() == 0
    with pytest.raises(WorkshopError, match="locked"):
        ws.decide(t, {"price": 1.3})
    monkeypatch.undo()
    assert ws.pending == {(0, "A"): {"price": 1.1}}  # what was decided in time counts
    ws.advance(key)
    assert ws.accepting() and ws.seconds_left() is None  # the next round is open
    for bad in (5, 4000, "soon"):
        with pytest.raises(WorkshopError, match="seconds"):
            ws.start_timer(key, bad)
    again = Workshop.resume(log, ws.code)
    assert again.models[0].merchant("A").policy.price == 1.1


def test_pages_wake_when_the_workshop_changes(log):
    import threading

    ws, key = Workshop.create(log, "baseline", seed=1, customers=N)
    seen = ws.version
    got = []
    th = threading.Thread(target=lambda: got.append(ws.wait_change(seen, timeout=10)))
    th.start()
    ws.message(key, "Round 1 starts now")
    th.join(timeout=10)
    assert got == [seen + 1] and ws.messages == ["Round 1 starts now"]
    assert ws.wait_change(ws.version, timeout=0.05) == ws.version  # nothing new: back after the timeout


def test_the_registry_rebuilds_workshops_from_its_log_after_a_restart(tmp_path):
    from sim.workshop.registry import Registry

    reg = Registry(tmp_path / "w.sqlite")
    ws, key = reg.create("baseline", 9, customers=N)
    seat, token = ws.join("Ann")
    ws.decide(token, {"quality": 0.75})
    ws.advance(key)
    assert reg.get(f" {ws.code.lower()} ") is ws  # as typed: spaces, lower case
    reg.connect(ws.code, seat, "page-1")
    assert reg.connected(ws.code, seat)
    reg.disconnect(ws.code, seat, "page-1")
    assert not reg.connected(ws.code, seat)
    restarted = Registry(tmp_path / "w.sqlite")
    again = restarted.get(ws.code)
    assert again is not ws and restarted.codes() == [ws.code]
    pd.testing.assert_frame_equal(again.weeks(0), ws.weeks(0))
    assert again.seat_of(token).name == "Ann"  # the participant gets the seat back with their token
    with pytest.raises(WorkshopError, match="no workshop"):
        restarted.get("ZZZZZ")


def test_the_command_line_lists_exports_and_replays_a_workshop(tmp_path):
    from click.testing import CliRunner

    from sim.cli import cli
    from sim.workshop.registry import Registry

    db = tmp_path / "w.sqlite"
    reg = Registry(db)
    ws, key = reg.create("baseline", 8, customers=N)
    tokens = [ws.join(n)[1] for n in ("Ann", "Bo")]
    _play(ws, key, tokens, [{0: {"price": 1.3}}, {1: {"quality": 0.8}}])
    ws.undo(key)
    ws.advance(key)
    log_before = db.read_bytes()
    run = CliRunner().invoke
    r = run(cli, ["workshop", "list", "--db", str(db)])
    assert r.exit_code == 0 and ws.code in r.output and "2 round(s) played" in r.output and "2/3 seats" in r.output
    out = tmp_path / "export"
    r = run(cli, ["workshop", "export", ws.code.lower(), "--out", str(out), "--db", str(db)])
    assert r.exit_code == 0, r.output
    weeks = pd.read_csv(out / "weeks.csv")
    assert weeks["step"].max() == 26 and list(weeks["customers"]) == list(ws.weeks(0)["customers"])
    assert len(pd.read_csv(out / "rounds.csv")) == (1 + 2) * 3  # the start and two rounds
    before = (out / "weeks.csv").read_bytes()
    r = run(cli, ["workshop", "export", ws.code, "--out", str(out), "--db", str(db)])  # not silently overwritten
    assert r.exit_code == 2 and "--force" in r.output and (out / "weeks.csv").read_bytes() == before
    assert run(cli, ["workshop", "export", ws.code, "--out", str(out), "--db", str(db), "--force"]).exit_code == 0
    r = run(cli, ["workshop", "replay", ws.code, "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert [ln for ln in r.output.splitlines() if ln.startswith("Round")] == [
        "Round 1 played:", "Round 2 played:", "Round 2 undone", "Round 2 played:"]
    assert "1:A Ann" in r.output and "1:C bot" in r.output
    r = run(cli, ["--lang", "zh", "workshop", "replay", ws.code, "--db", str(db)])
    assert "第 2 轮已撤销" in r.output and "机器人" in r.output
    assert db.read_bytes() == log_before  # list, export and replay only read the log
    for args in (["workshop", "replay", "NOPE9", "--db", str(db)], ["workshop", "list", "--db", str(tmp_path / "none.sqlite")]):
        r = run(cli, args)
        assert r.exit_code == 2 and "Traceback" not in r.output and r.output.strip(), r.output


def _other_apps_database(path):
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    con.execute("INSERT INTO notes (text) VALUES ('keep me')")
    con.commit()
    con.close()


def _table_of_other_records(path):
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE records (a, b)")
    con.execute("INSERT INTO records VALUES (1, 2)")
    con.commit()
    con.close()


NOT_A_LOG = {  # what the --db file holds → how to make it
    "random bytes": lambda p: p.write_bytes(bytes(range(256)) * 16),
    "a scenario file": lambda p: p.write_text('name = "x"\n[params]\nn_customers = 100\n', encoding="utf-8"),
    "an empty file": lambda p: p.write_bytes(b""),
    "another application's database": _other_apps_database,
    "a table records of other columns": _table_of_other_records,
}
WORKSHOP_COMMANDS = (["list"], ["export", "ABCDE", "--out", "{tmp}/export"], ["replay", "ABCDE"])


@pytest.mark.parametrize("command", WORKSHOP_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("kind", NOT_A_LOG)
def test_a_file_that_is_not_a_workshop_log_is_refused_and_left_as_it_was(tmp_path, kind, command):
    """``workshop list|export|replay --db FILE`` only read FILE: one that is not a workshop log gets
    exit 2 and a message naming it (English and Chinese), no traceback, and is not changed — not a
    table added, not switched to WAL."""
    from click.testing import CliRunner

    from sim.cli import cli

    db = tmp_path / "other.sqlite"
    NOT_A_LOG[kind](db)
    before = db.read_bytes()
    args = ["workshop", *[a.format(tmp=tmp_path) for a in command], "--db", str(db)]
    for lang, words in (("en", "not a loyalty-sim workshop log"), ("zh", "不是 loyalty-sim 的工作坊日志")):
        r = CliRunner().invoke(cli, ["--lang", lang, *args])
        assert r.exit_code == 2, r.output
        assert str(db) in r.output and words in r.output, r.output
        assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit))
        assert db.read_bytes() == before, "a read-only command changed the file"
    assert not (tmp_path / "export").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite"]  # no journal or WAL file beside it


@pytest.mark.parametrize("command", WORKSHOP_COMMANDS, ids=lambda c: c[0])
def test_a_missing_log_is_refused_and_not_created(tmp_path, command):
    from click.testing import CliRunner

    from sim.cli import cli

    db = tmp_path / "logs" / "none.sqlite"
    args = ["workshop", *[a.format(tmp=tmp_path) for a in command], "--db", str(db)]
    for lang, words in (("en", "no workshop log at"), ("zh", "没有工作坊日志")):
        r = CliRunner().invoke(cli, ["--lang", lang, *args])
        assert r.exit_code == 2 and str(db) in r.output and words in r.output, r.output
        assert "Traceback" not in r.output
    assert not (tmp_path / "logs").exists() and not (tmp_path / "export").exists()


@pytest.mark.parametrize("damage,why", [("{", "is not JSON"), ("{}", "has no 'scenario'"), ("[1, 2]", "not a JSON object")])
def test_a_damaged_record_is_named_and_the_other_workshops_are_still_listed(tmp_path, damage, why):
    """A record edited by hand (its data not JSON, or without what it needs): the command says which
    record of which workshop; ``list`` still lists the others (exit 2); the log is not changed."""
    import sqlite3

    from click.testing import CliRunner

    from sim.cli import cli
    from sim.workshop.registry import Registry

    db = tmp_path / "w.sqlite"
    reg = Registry(db)
    good, key = reg.create("baseline", 4, customers=N, code="GOOD1")
    good.advance(key)
    reg.create("baseline", 5, customers=N, code="BAD22")
    reg.log.close()
    con = sqlite3.connect(db)
    con.execute("UPDATE records SET data = ? WHERE room = 'BAD22' AND kind = 'create'", (damage,))
    con.commit()
    con.close()
    before = db.read_bytes()
    run = CliRunner().invoke
    r = run(cli, ["workshop", "list", "--db", str(db)])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert "GOOD1  baseline  seed 4" in r.output and "1 round(s) played" in r.output
    assert str(db) in r.output and "record 1 of 1 of workshop BAD22" in r.output and why in r.output
    assert "kind 'create'" in r.output and "damaged" in r.output
    z = run(cli, ["--lang", "zh", "workshop", "list", "--db", str(db)])
    assert z.exit_code == 2 and "GOOD1" in z.output and "工作坊 BAD22 共 1 条记录中的第 1 条" in z.output, z.output
    assert "已损坏" in z.output and str(db) in z.output
    for args in (["replay", "bad22"], ["export", "BAD22", "--out", str(tmp_path / "export")]):
        for lang in ("en", "zh"):
            r = run(cli, ["--lang", lang, "workshop", *args, "--db", str(db)])
            assert r.exit_code == 2 and "BAD22" in r.output and str(db) in r.output, r.output
            assert "Traceback" not in r.output
    assert not (tmp_path / "export").exists()
    assert run(cli, ["workshop", "replay", "GOOD1", "--db", str(db)]).exit_code == 0
    assert db.read_bytes() == before
    with pytest.raises(WorkshopError, match="BAD22"):  # the app's registry says the same, no crash
        Registry(db).get("BAD22")


def test_the_app_does_not_make_another_applications_database_its_log(tmp_path):
    """The server writes its log, but not into a file that is something else; an empty file or a
    new path becomes a log as before."""
    from sim.workshop.registry import Registry

    for kind in ("random bytes", "another application's database", "a table records of other columns"):
        db = tmp_path / f"{len(kind)}.sqlite"
        NOT_A_LOG[kind](db)
        before = db.read_bytes()
        with pytest.raises(WorkshopError, match="not a loyalty-sim workshop log") as e:
            Registry(db).create("baseline", 1, customers=N)
        assert str(db) in e.value.text("en") and "不是 loyalty-sim 的工作坊日志" in e.value.text("zh")
        assert db.read_bytes() == before
    for db in (tmp_path / "empty.sqlite", tmp_path / "new" / "w.sqlite"):
        if db.name == "empty.sqlite":
            db.write_bytes(b"")
        ws, _ = Registry(db).create("baseline", 1, customers=N)
        assert Registry(db).codes() == [ws.code]
    with pytest.raises(WorkshopError, match="read only"):
        Registry(db, readonly=True).create("baseline", 1, customers=N)


def test_a_market_can_hold_up_to_six_merchants_copied_from_the_scenarios(log):
    ws, key = Workshop.create(log, "baseline", seed=6, markets=2, merchants=6, customers=N)
    assert ws.merchant_names == ["A", "B", "C", "D", "E", "F"] and len(ws.seats) == 12
    base = {m.name: m for m in ws.scenario.params.merchants}
    d = ws.models[0].merchant("D").policy
    assert (d.price, d.quality) == (base["A"].price, base["A"].quality)  # D starts as A did
    tokens = [ws.join(f"P{i}")[1] for i in range(12)]
    assert ws.seat_of(tokens[11]).actor == "2:F"
    ws.decide(tokens[4], {"price": 1.5})  # E of market 1
    ws.advance(key)
    assert ws.models[0].merchant("E").policy.price == 1.5 and ws.models[1].merchant("E").policy.price != 1.5
    assert set(ws.round_table(1)["merchant"]) == set("ABCDEF")
    pd.testing.assert_frame_equal(Workshop.resume(log, ws.code).weeks(0), ws.weeks(0))
    two, _ = Workshop.create(log, "baseline", seed=6, merchants=2, customers=N)
    assert two.merchant_names == ["A", "B"]


def test_stories_are_of_the_merchants_own_customers_and_the_same_within_a_round(log):
    """Each merchant's stories: a customer of its own (the one who left: whose last merchant it
    was), one per kind group, drawn again identically within a round (and by a workshop rebuilt from
    the log), others after the next round; looking at them does not change the market."""
    ws, key = Workshop.create(log, "baseline", seed=4, customers=N, round_weeks=10)
    _, token = ws.join("Ann")
    ws.decide(token, {"failure_prob": 0.3, "recovery_prob": 0.1})
    ws.advance(key)
    ws.advance(key)
    for merchant in ws.merchant_names:
        stories = ws.stories(0, merchant)
        assert stories, merchant
        kinds = [k for k, _ in stories]
        assert len(kinds) == len(set(kinds)) and kinds[0] in ("loyal", "trusting", "ordinary")
        for kind, st_ in stories:
            assert st_["state"]["merchant"] == merchant, (merchant, kind)
            if kind == "left":
                assert st_["state"]["stage"] == "churned"
        assert ws.stories(0, merchant) == stories
    before = ws.stories(0, "A")
    assert "left" in [k for k, _ in before]
    assert [(k, s["id"]) for k, s in Workshop.resume(log, ws.code).stories(0, "A")] == [(k, s["id"]) for k, s in before]
    state = ws.models[0].rng.bit_generator.state
    ws.stories(0, "A")
    assert ws.models[0].rng.bit_generator.state == state  # reading stories draws nothing from the market
    ws.advance(key)
    assert [s["id"] for _, s in ws.stories(0, "A")] != [s["id"] for _, s in before]

"""The server-wide gate that lets many playing sessions share the cores in turn."""

import contextlib
import threading
import time

import pytest

from sim.ui.pace import Gate


def test_no_more_than_slots_hold_a_turn_at_once():
    gate = Gate(slots=2)
    inside = []
    peak = []
    lock = threading.Lock()

    def work():
        for _ in range(20):
            with gate.turn() as ok:
                assert ok
                with lock:
                    inside.append(1)
                    peak.append(len(inside))
                time.sleep(0.001)
                with lock:
                    inside.pop()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(peak) == 120
    assert max(peak) == 2


def test_turns_are_handed_out_in_order_of_arrival():
    gate = Gate(slots=1)
    order = []
    assert gate.acquire()
    waiting = []
    for i in range(5):
        t = threading.Thread(target=lambda i=i: (gate.acquire(), order.append(i), gate.release()))
        t.start()
        waiting.append(t)
        time.sleep(0.05)  # so that they queue in this order
    gate.release()
    for t in waiting:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_cancelled_waiter_gives_up_its_place_and_holds_nothing():
    gate = Gate(slots=1)
    assert gate.acquire()
    cancel = threading.Event()
    got = []
    t = threading.Thread(target=lambda: got.append(gate.acquire(cancel)))
    t.start()
    time.sleep(0.1)
    cancel.set()
    t.join(5)
    assert got == [False]
    gate.release()
    assert gate.acquire(threading.Event())  # the slot is free again: nobody kept it
    gate.release()


def test_redraws_are_spaced_only_when_more_play_than_there_are_slots():
    gate = Gate(slots=2, redraw_share=0.5)
    gate.note_draw(0.25)
    with gate.playing(), gate.playing():
        assert gate.players == 2
        assert gate.min_redraw_gap() == 0.0
    stack = [gate.playing() for _ in range(20)]
    for cm in stack:
        cm.__enter__()
    try:
        # 20 players: their redraws share half of one core (the interpreter runs one thread at a time)
        assert gate.min_redraw_gap() == gate._draw_cost * 20 / 0.5
        assert gate.min_redraw_gap() > 2.0
    finally:
        for cm in stack:
            cm.__exit__(None, None, None)
    assert gate.players == 0


def test_a_click_goes_ahead_of_waiting_loops_and_never_waits_long():
    gate = Gate(slots=1)
    assert gate.acquire()
    order = []
    loop = threading.Thread(target=lambda: (gate.acquire(), order.append("loop"), gate.release()))
    loop.start()
    time.sleep(0.1)

    def click():
        with gate.priority():
            order.append("click")

    t = threading.Thread(target=click)
    t.start()
    time.sleep(0.1)
    gate.release()
    t.join(5)
    loop.join(5)
    assert order == ["click", "loop"]
    # a slot that is never released: the click goes ahead after about a second
    assert gate.acquire()
    t0 = time.perf_counter()
    click()
    assert 0.8 < time.perf_counter() - t0 < 3.0
    assert order[-1] == "click"


def test_clicks_are_served_in_their_own_order_ahead_of_loops():
    gate = Gate(slots=1)
    assert gate.acquire()
    order = []
    threads = []
    for name, first in (("loop1", False), ("click1", True), ("loop2", False), ("click2", True)):
        t = threading.Thread(target=lambda n=name, f=first: (gate.acquire(first=f, timeout=5), order.append(n),
                                                             gate.release()))
        t.start()
        threads.append(t)
        time.sleep(0.05)
    gate.release()
    for t in threads:
        t.join(10)
    assert order == ["click1", "click2", "loop1", "loop2"]


class _Market:
    """Stands in for a session: each step takes 0.1 s of a fake clock."""

    def __init__(self):
        self.steps, self.t = 0, 0.0
        self.lock = threading.RLock()
        self.run_no = 0

    def step(self, run=None):
        self.steps += 1
        self.t += 0.1
        return True


class _CrowdedGate:
    """A gate whose redraws are spaced by ``gap`` seconds (more players than slots)."""

    def __init__(self, gap):
        self.gap = gap

    def playing(self):
        return contextlib.nullcontext()

    def turn(self, cancel=None):
        return contextlib.nullcontext(True)

    def min_redraw_gap(self):
        return self.gap

    def note_draw(self, seconds):
        pass


@pytest.mark.parametrize("gap", [0.0, 0.35])
def test_the_week_counter_is_rendered_alone_only_between_redraws_and_not_in_a_crowd(gap):
    from sim.ui.state import TICK_GAP, play_loop

    m = _Market()
    events = []
    gate = _CrowdedGate(gap)
    play_loop(m, threading.Event(), speed=lambda: 0, every=lambda: 5, max_steps=40, clock=lambda: m.t, gate=gate,
              draw=lambda: events.append(("draw", m.steps, m.t)), tick=lambda: events.append(("tick", m.steps, m.t)))
    draws = [e for e in events if e[0] == "draw"]
    ticks = [e for e in events if e[0] == "tick"]
    assert len({s for _, s, _ in events}) == len(events)  # never a tick and a redraw after one step
    renders = sorted(events, key=lambda e: e[1])
    if gap == 0.0:
        assert [s for _, s, _ in draws] == [5, 10, 15, 20, 25, 30, 35, 40]  # every 5 steps
        # a tick comes at least TICK_GAP after the render before it (a tick or a redraw)
        assert ticks and all(b[2] - a[2] >= TICK_GAP - 1e-9 for a, b in zip(renders, renders[1:]) if b[0] == "tick")
        assert len(ticks) == 8  # one between each two redraws (0.5 s apart)
    else:  # a crowd: the counter moves with the redraws, which are spaced by the gap
        assert ticks == []
        assert all(b[2] - a[2] >= gap - 1e-9 for a, b in zip(draws[:-1], draws[1:-1]))

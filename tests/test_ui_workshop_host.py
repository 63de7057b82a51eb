"""The facilitator's page (/workshop) and the projector's view (/screen), rendered without a browser
(``solara.render``), and the "what happened" lines of :mod:`sim.workshop.debrief`.

The pages use the server's registry; each test gets one of its own on a temporary file
(``sim.workshop.registry._REGISTRY``), so workshops never outlive a test.
"""

from __future__ import annotations

import io
import re
import time
import zipfile

import ipyvuetify as v
import pandas as pd
import pytest
import solara
from solara.routing import Router, router_context

import sim.workshop.registry as registry_module
from sim.inputs.scenario import load_scenario
from sim.ui import i18n, workshop_host, workshop_screen
from sim.ui.workshop_charts import CHART_METRICS, rounds_svg
from sim.ui.workshop_host import join_url, qr_svg, workshop_scenarios, zip_export
from sim.workshop.debrief import Line, change_text, debrief, what_happened
from sim.workshop.registry import Registry
from sim.workshop.room import Workshop, WorkshopError
from ui_kit import all_widgets, widgets_under

N = 300  # customers per market: small and quick
_contexts: list = []


LAN = "192.168.1.20"  # this computer's network address, as the pages are told it in these tests


@pytest.fixture(autouse=True)
def reg(tmp_path, monkeypatch):
    r = Registry(tmp_path / "workshops.sqlite")
    monkeypatch.setattr(registry_module, "_REGISTRY", r)
    # the pages are opened at localhost here (no browser says otherwise): a network address of our own
    monkeypatch.setattr(workshop_host, "lan_address", lambda: LAN, raising=False)
    monkeypatch.delenv("SERVER_NAME", raising=False)
    i18n.lang.value = "en"
    workshop_host.held.set(("", ""))
    yield r
    while _contexts:
        _contexts.pop().close()
    i18n.lang.value = "en"
    workshop_host.held.set(("", ""))


@solara.component
def _At(path: str, page):
    """``page`` as the app shows it at the address ``path`` (its query read by ``use_router``)."""
    router_context.provide(Router(path, []))
    page()


def render(path: str, page=workshop_host.WorkshopHost):
    box, rc = solara.render(_At(path, page), handle_error=False)
    _contexts.append(rc)
    return rc


def _wait(cond, timeout=20.0):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def _text(w) -> str:
    """The text a widget shows: its own and its children's (an HTML widget's inner HTML)."""
    parts = [getattr(w, "unsafe_innerHTML", None) or ""]
    for name in ("label",):
        x = getattr(w, name, None)
        if isinstance(x, str):
            parts.append(x)
    for c in getattr(w, "children", None) or []:
        parts.append(c if isinstance(c, str) else _text(c) if hasattr(c, "keys") else "")
    return " ".join(p for p in parts if p)


def _with(rc, cls) -> list:
    """Every widget of the page whose CSS classes include ``cls``."""
    def classes(w) -> list[str]:
        own = getattr(w, "class_", None) or ""
        attrs = getattr(w, "attributes", None)
        return (own + " " + ((attrs or {}).get("class") or "" if isinstance(attrs, dict) else "")).split()

    return [w for w in all_widgets(rc) if cls in classes(w)]


def _all_text(rc, cls) -> str:
    return "\n".join(_text(w) for w in _with(rc, cls))


def _shown(rc, cls, kind, timeout=10.0) -> list:
    """The widgets of ``kind`` with class ``cls``, waiting up to ``timeout`` seconds for them: the page
    also renders from the workshop's own thread, so what a click opened (a confirmation) may be drawn
    a moment after the click returns. Empty if they never appear."""
    deadline = time.time() + timeout
    while True:
        found = [w for w in _with(rc, cls) if isinstance(w, kind)]
        if found or time.time() > deadline:
            return found
        time.sleep(0.05)


def _click(rc, cls, i=0):
    btns = _shown(rc, cls, v.Btn)
    assert btns, f"no button .{cls}"
    btns[i].click()


def _type(rc, cls, value):
    fields = _shown(rc, cls, v.TextField)
    assert fields, f"no text box .{cls}"
    fields[0].v_model = value


def key_of(rc) -> str:
    """The facilitator key the page holds (written into its address)."""
    return [w for w in all_widgets(rc) if "values" in getattr(w, "keys", [])][0].values["key"]


def _new(reg, **kw):
    kw.setdefault("customers", N)
    return reg.create("baseline", 4, **kw)


# ---- creating ------------------------------------------------------------------------------------
def test_create_form_makes_a_workshop_and_shows_its_code_link_and_qr(reg):
    rc = render("/workshop")
    scenario = _with(rc, "lsim-ws-scenario")[0]
    values = [i["value"] for i in scenario.items]
    assert values == workshop_scenarios() and "baseline" in values
    assert all(len(load_scenario(n).params.merchants) <= 6 for n in values)
    assert "monopoly_hostages" in values  # one merchant is fine
    assert "Baseline: a competitive market" in [i["text"] for i in scenario.items]
    _type(rc, "lsim-ws-seed", "7")
    _type(rc, "lsim-ws-markets", "2")
    _type(rc, "lsim-ws-merchants", "5")
    _type(rc, "lsim-ws-weeks", "4")
    _type(rc, "lsim-ws-customers", str(N))
    _click(rc, "lsim-ws-create-button")
    codes = reg.codes()
    assert len(codes) == 1
    ws = reg.get(codes[0])
    assert (ws.seed, ws.n_markets, ws.round_weeks, ws.customers) == (7, 2, 4, N)
    assert ws.merchant_names == ["A", "B", "C", "D", "E"]
    assert _all_text(rc, "lsim-ws-code").strip() == ws.code
    # opened at localhost: participants join at this computer's network address
    assert _all_text(rc, "lsim-ws-join-link") == f"http://{LAN}:8765/join?code={ws.code}"
    assert _all_text(rc, "lsim-ws-screen-link") == f"http://localhost:8765/screen?code={ws.code}"
    assert _all_text(rc, "lsim-ws-host-link").startswith(f"http://{LAN}:8765/workshop?code={ws.code}&amp;key=")
    assert f"key={key_of(rc)}" in _all_text(rc, "lsim-ws-host-link") and ws.check_key(key_of(rc)) is None
    assert _all_text(rc, "lsim-ws-qr").startswith("<svg")
    assert _with(rc, "lsim-ws-market-1") and _with(rc, "lsim-ws-market-2")
    # the code and key go into the page's address
    url = [w for w in all_widgets(rc) if "values" in getattr(w, "keys", [])]
    assert url and url[0].values == {"code": ws.code, "key": key_of(rc)}


@pytest.mark.parametrize("field, value, message", [
    ("lsim-ws-seed", "abc", "seed"),
    ("lsim-ws-markets", "11", "1 … 10"),
    ("lsim-ws-merchants", "7", "2 … 6"),
    ("lsim-ws-weeks", "0", "1 … 52"),
    ("lsim-ws-customers", "999999999", "at most"),
])
def test_create_form_bad_values_give_a_message_under_the_field_and_create_nothing(reg, field, value, message):
    rc = render("/workshop")
    _type(rc, field, value)
    _click(rc, "lsim-ws-create-button")
    assert reg.codes() == []
    errors = _all_text(rc, "lsim-ws-error")
    assert message in errors, errors
    key = {"lsim-ws-seed": "seed", "lsim-ws-markets": "markets", "lsim-ws-merchants": "merchants",
           "lsim-ws-weeks": "round_weeks",
           "lsim-ws-customers": "customers"}[field]
    assert _with(rc, f"lsim-ws-error-{key}")
    assert not _with(rc, "lsim-ws-code")
    i18n.lang.value = "zh"  # the message follows the language
    assert any("\u4e00" <= ch <= "\u9fff" for ch in _all_text(rc, "lsim-ws-error"))


def test_a_workshop_larger_than_the_server_allows_is_refused(reg, monkeypatch):
    monkeypatch.setenv("LSIM_MAX_CUSTOMERS", "1000")
    rc = render("/workshop")
    _type(rc, "lsim-ws-markets", "6")
    _type(rc, "lsim-ws-customers", "1000")  # 6 × 1,000 > 5 × 1,000
    _click(rc, "lsim-ws-create-button")
    assert reg.codes() == [] and "more than this server allows" in _all_text(rc, "lsim-ws-error-customers")
    _type(rc, "lsim-ws-markets", "5")
    _click(rc, "lsim-ws-create-button")
    assert len(reg.codes()) == 1


def test_a_server_holds_at_most_its_number_of_open_workshops(reg, monkeypatch):
    """LSIM_MAX_WORKSHOPS open workshops at most: the next is refused on the form with a message in
    both languages naming the setting; closing one makes room again."""
    monkeypatch.setenv("LSIM_MAX_WORKSHOPS", "2")
    first, key = reg.create("baseline", 1, customers=200)
    reg.create("baseline", 2, customers=200)
    rc = render("/workshop")
    _type(rc, "lsim-ws-customers", "200")
    _click(rc, "lsim-ws-create-button")
    assert len(reg.codes()) == 2 and not _with(rc, "lsim-ws-code")
    assert "LSIM_MAX_WORKSHOPS = 2" in _all_text(rc, "lsim-ws-error-form")
    i18n.lang.value = "zh"
    assert "已达上限" in _all_text(rc, "lsim-ws-error-form")
    i18n.lang.value = "en"
    first.close(key)
    _click(rc, "lsim-ws-create-button")
    assert len(reg.codes()) == 2 and _with(rc, "lsim-ws-code")
    assert first.code not in reg._rooms  # the closed one left memory …
    again = reg.get(first.code)  # … and comes back from the log when asked for
    assert again is not first and again.closed and again.code == first.code
    monkeypatch.setenv("LSIM_MAX_WORKSHOPS", "not a number")  # an unreadable setting: the default
    assert registry_module.max_workshops() == registry_module.DEFAULT_MAX_WORKSHOPS


def test_a_wrong_key_shows_a_message_and_no_controls(reg):
    ws, key = _new(reg)
    rc = render(f"/workshop?code={ws.code}&key=not-the-key")
    assert "wrong facilitator key" in _all_text(rc, "lsim-ws-denied")
    for cls in ("lsim-ws-advance", "lsim-ws-undo", "lsim-ws-inject", "lsim-ws-code"):
        assert not _with(rc, cls), cls
    rc2 = render("/workshop?code=NOPE9&key=x")
    assert "no workshop" in _all_text(rc2, "lsim-ws-denied")
    rc3 = render(f"/workshop?code={ws.code}&key={key}")  # another device with the facilitator's address
    assert _with(rc3, "lsim-ws-advance") and _all_text(rc3, "lsim-ws-code").strip() == ws.code
    rc4 = render("/workshop")  # back from the top bar (no code in the address): the same workshop
    assert _with(rc4, "lsim-ws-advance") and _all_text(rc4, "lsim-ws-code").strip() == ws.code


# ---- the controls --------------------------------------------------------------------------------
def test_controls_call_the_engine(reg):
    ws, key = _new(reg, round_weeks=3)
    seat, token = ws.join("Ann")
    rc = render(f"/workshop?code={ws.code}&key={key}")
    assert "Ann" in _all_text(rc, "lsim-ws-seat-A") and "bot" in _all_text(rc, "lsim-ws-seat-B")
    assert _all_text(rc, "lsim-ws-seat-A") == "A Ann no not yet Free"  # not connected, not decided yet
    ws.decide(token, {"price": 1.5})  # another browser: shows without a reload
    _wait(lambda: _all_text(rc, "lsim-ws-seat-A") == "A Ann no yes Free")
    reg.connect(ws.code, seat, "page-1")  # the participant's page is open
    _wait(lambda: _all_text(rc, "lsim-ws-seat-A") == "A Ann yes yes Free", timeout=10)
    reg.disconnect(ws.code, seat, "page-1")
    _wait(lambda: _all_text(rc, "lsim-ws-seat-A") == "A Ann no yes Free", timeout=10)
    # timer, pause, go on
    _type(rc, "lsim-ws-timer-seconds", "5")
    _click(rc, "lsim-ws-timer-start")
    assert ws.deadline is None
    _wait(lambda: "10 … 3600" in _all_text(rc, "lsim-ws-error"))  # (another thread may be drawing the page)
    _type(rc, "lsim-ws-timer-seconds", "300")
    _click(rc, "lsim-ws-timer-start")
    assert ws.deadline is not None
    _wait(lambda: not _with(rc, "lsim-ws-error"))
    _wait(lambda: "left" in _all_text(rc, "lsim-ws-clock"))
    _click(rc, "lsim-ws-pause")
    assert ws.locked
    _wait(lambda: "Paused" in _all_text(rc, "lsim-ws-clock"))
    _wait(lambda: [w for w in _with(rc, "lsim-ws-go-on") if isinstance(w, v.Btn)])  # the controls caught up too
    _click(rc, "lsim-ws-go-on")
    assert not ws.locked
    _wait(lambda: _with(rc, "lsim-ws-pause"))  # the page has caught up with the workshop
    time.sleep(0.3)
    # inject an event, broadcast a message
    _with(rc, "lsim-ws-event")[0].v_model = "scandal"
    _click(rc, "lsim-ws-inject")
    assert ws.pending_events == ["scandal"]
    _wait(lambda: "scandal" in _all_text(rc, "lsim-ws-pending-events"))
    _type(rc, "lsim-ws-message-text", "   ")
    _click(rc, "lsim-ws-message-send")
    assert ws.messages == []
    _wait(lambda: "1 … 500" in _all_text(rc, "lsim-ws-error"))
    _type(rc, "lsim-ws-message-text", "Five minutes left")
    _click(rc, "lsim-ws-message-send")
    assert ws.messages == ["Five minutes left"]
    _wait(lambda: "Five minutes left" in _all_text(rc, "lsim-ws-message"))
    # weights: text in a number changes nothing
    _type(rc, "lsim-ws-weight-profit", "lots")
    _click(rc, "lsim-ws-weights-apply")
    assert ws.weights["profit"] == pytest.approx(1 / 3)
    _wait(lambda: "profit" in _all_text(rc, "lsim-ws-error"))
    _type(rc, "lsim-ws-weight-profit", "1")
    _type(rc, "lsim-ws-weight-loyalty", "0")
    _type(rc, "lsim-ws-weight-satisfaction", "0")
    _click(rc, "lsim-ws-weights-apply")
    assert ws.weights == {"profit": 1.0, "loyalty": 0.0, "satisfaction": 0.0}  # all three boxes, as typed
    # play the round: the page shows round 2, the leaderboard, the charts and the lines
    _click(rc, "lsim-ws-advance")
    _wait(lambda: len(ws.rounds) == 1)
    _wait(lambda: "Round 2" in _all_text(rc, "lsim-ws-round"))
    _wait(lambda: "Round 1" in _all_text(rc, "lsim-ws-lines"))
    assert ws.models[0].merchant("A").policy.price == 1.5
    rows = _with(rc, "lsim-ws-board-row")
    assert len(rows) == 3 and "Ann" in _all_text(rc, "lsim-ws-board")
    board = ws.scorecard(0)  # profit only: the best cumulative profit leads
    assert board["cumulative_profit"].iloc[0] == board["cumulative_profit"].max()
    assert "raised its price" in _all_text(rc, "lsim-ws-lines") and "market event" in _all_text(rc, "lsim-ws-lines")
    assert "Price = 1.5" in _all_text(rc, "lsim-ws-decisions")
    assert _with(rc, "lsim-ws-chart")
    # undo needs a confirmation
    _click(rc, "lsim-ws-undo")
    assert len(ws.rounds) == 1
    _click(rc, "lsim-ws-confirm-no")
    assert len(ws.rounds) == 1
    _click(rc, "lsim-ws-undo")
    _click(rc, "lsim-ws-confirm-yes")
    assert len(ws.rounds) == 0 and ws.pending[(0, "A")] == {"price": 1.5} and ws.pending_events == ["scandal"]
    _wait(lambda: "Round 1" in _all_text(rc, "lsim-ws-round"))
    # close, after a confirmation
    _click(rc, "lsim-ws-close")
    _click(rc, "lsim-ws-confirm-yes")
    assert ws.closed
    _wait(lambda: "ended" in _all_text(rc, "lsim-ws-clock"))


def test_a_double_click_on_play_plays_one_round(reg):
    """Two clicks on "Play round 1" in a row (a double click): the first plays round 1, the second
    finds the button busy and is ignored — round 2 is not played. The page then offers round 2 with
    no error, and one more click plays it."""
    ws, key = _new(reg, round_weeks=3)
    rc = render(f"/workshop?code={ws.code}&key={key}")
    _click(rc, "lsim-ws-advance")
    btn = [w for w in _with(rc, "lsim-ws-advance") if isinstance(w, v.Btn)][0]
    assert btn.disabled  # at once, while the round plays
    _click(rc, "lsim-ws-advance")
    _wait(lambda: len(ws.rounds) == 1)
    _click(rc, "lsim-ws-advance")  # the round was quick: a click just after it is still the same gesture
    _wait(lambda: "Round 2" in _all_text(rc, "lsim-ws-round") and "Round 1 played" in _all_text(rc, "lsim-ws-notice"))
    time.sleep(0.5)  # a second round would have been played by now
    assert len(ws.rounds) == 1 and ws.weeks(0)["step"].max() == 3
    assert not _with(rc, "lsim-ws-error")
    _wait(lambda: "Play round 2" in _all_text(rc, "lsim-ws-advance"))
    _click(rc, "lsim-ws-advance")
    _wait(lambda: len(ws.rounds) == 2 and "Round 3" in _all_text(rc, "lsim-ws-round"))


def test_a_round_played_from_another_page_is_not_played_again(reg):
    """Two facilitator's pages: the other one played round 1 already; this page's "Play round 1"
    (asked before it showed round 2) is refused by the workshop with a message, and no round 2 is
    played."""
    ws, key = _new(reg, round_weeks=2)
    rc = render(f"/workshop?code={ws.code}&key={key}")
    handlers = []
    real = workshop_host.Workshop.advance

    def other_page_first(self, k, number=None):  # the other page's click arrives just before this one's
        if not handlers:
            handlers.append(real(self, k, 1))
        return real(self, k, number)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(workshop_host.Workshop, "advance", other_page_first)
        _click(rc, "lsim-ws-advance")
        _wait(lambda: _with(rc, "lsim-ws-error-advance"))
    assert len(ws.rounds) == 1
    assert "round 1 has been played already (round 2 is open)" in _all_text(rc, "lsim-ws-error-advance")
    i18n.lang.value = "zh"
    _wait(lambda: "第 1 轮已经进行过了" in _all_text(rc, "lsim-ws-error-advance"))


def test_the_facilitator_frees_a_seat_for_another_device(reg):
    """"Free" beside a participant's seat takes it back: the old page's token holds nothing, the
    seat is offered again, and the participant (say, on a phone now) takes it; bots' seats have no
    button; a seat freed already gives a message, not a traceback."""
    ws, key = _new(reg, round_weeks=3)
    _, old_token = ws.join("Ann")
    ws.decide(old_token, {"price": 1.4})
    rc = render(f"/workshop?code={ws.code}&key={key}")
    assert not [w for w in _with(rc, "lsim-ws-free-seat") if w in widgets_under(_with(rc, "lsim-ws-seat-B")[0])]
    _click(rc, "lsim-ws-free-seat")
    assert not ws.seats[(0, "A")].taken
    assert "Ann no longer holds A" in _all_text(rc, "lsim-ws-notice")
    _wait(lambda: "bot" in _all_text(rc, "lsim-ws-seat-A") and not _with(rc, "lsim-ws-free-seat"))
    with pytest.raises(WorkshopError):
        ws.decide(old_token, {"price": 1.0})  # the old page holds no seat any more
    assert ws.pending[(0, "A")] == {"price": 1.4}  # what was decided for A stays A's
    seat, _ = ws.join("Ann (phone)", market=1, merchant="A")
    assert seat.name == "Ann (phone)"
    _wait(lambda: "Ann (phone)" in _all_text(rc, "lsim-ws-seat-A"))
    with pytest.raises(WorkshopError) as e:
        ws.free_seat(key, 1, "B")  # a bot's seat
    assert e.value.key == "seat" and e.value.text("zh")
    with pytest.raises(WorkshopError):
        ws.free_seat("wrong", 1, "A")
    assert ws.seats[(0, "A")].taken
    # the log tells the same: rebuilt, the seat is the phone's
    assert Workshop.resume(reg.log, ws.code).seats[(0, "A")].name == "Ann (phone)"


def test_export_is_a_zip_of_the_workshops_tables(reg):
    ws, key = _new(reg, round_weeks=2)
    ws.advance(key)
    with zipfile.ZipFile(io.BytesIO(zip_export(ws))) as z:
        names = sorted(n.split("/")[-1] for n in z.namelist())
        assert names == ["decisions.csv", "log.csv", "rounds.csv", "weeks.csv"]
        rounds = pd.read_csv(z.open(f"workshop_{ws.code}/rounds.csv"))
    assert set(rounds["round"]) == {0, 1} and len(rounds) == 2 * 3  # the start (before round 1) and round 1


# ---- the projector -------------------------------------------------------------------------------
def test_screen_shows_the_room_without_controls_and_keeps_up(reg):
    ws, key = _new(reg, round_weeks=2)
    rc = render(f"/screen?code={ws.code.lower()}", workshop_screen.Screen)
    assert _all_text(rc, "lsim-ws-code").strip() == ws.code
    assert _all_text(rc, "lsim-ws-qr").startswith("<svg")
    assert not [w for w in all_widgets(rc) if isinstance(w, (v.Btn, v.TextField, v.Select))]  # no control at all
    assert not _with(rc, "lsim-ws-host-link") and not _with(rc, "lsim-ws-screen-link")
    assert "Round 1" in _all_text(rc, "lsim-ws-round")
    assert _with(rc, "lsim-ws-board-empty") and not _with(rc, "lsim-ws-board-row")  # no ranking before play
    assert _with(rc, "lsim-ws-chart-empty")
    ws.message(key, "Welcome")
    ws.advance(key)
    _wait(lambda: "Round 2" in _all_text(rc, "lsim-ws-round"))
    _wait(lambda: "Welcome" in _all_text(rc, "lsim-ws-messages"))
    _wait(lambda: len(_with(rc, "lsim-ws-board-row")) == 3)
    _wait(lambda: "Round 1" in _all_text(rc, "lsim-ws-lines"))
    _wait(lambda: _with(rc, "lsim-ws-chart"))  # (the page follows from its own thread: wait for it)
    assert "<polyline" in _all_text(rc, "lsim-ws-chart") or any(
        "<polyline" in (getattr(w, "unsafe_innerHTML", "") or "") for w in _with(rc, "lsim-ws-chart"))
    for name in ("Ann", "Bo", "Cy"):  # every seat taken: the room code and QR code make way
        ws.join(name)
    _wait(lambda: not _with(rc, "lsim-ws-qr"))
    assert "Ann" in _all_text(rc, "lsim-ws-board")
    bad = render("/screen?code=ZZZZZ", workshop_screen.Screen)
    assert "no workshop" in _all_text(bad, "lsim-ws-denied")
    assert not _with(bad, "lsim-ws-round")


def _join_panel(ws, origin, big=False):
    box, rc = solara.render(workshop_host.JoinPanel(ws, origin, big=big), handle_error=False)
    _contexts.append(rc)
    return rc


def test_opened_at_localhost_the_join_link_is_this_computers_network_address(reg):
    """The facilitator opens the page at localhost (as the guide's step used to say): a phone
    cannot open localhost, so the join link and its QR code use this computer's network address,
    with a note saying so and that the app must be started with --host 0.0.0.0; the projector's
    view (opened at localhost too) the same. In Chinese too."""
    ws, key = _new(reg)
    url = f"http://{LAN}:8765/join?code={ws.code}"
    for rc in (render(f"/workshop?code={ws.code}&key={key}"), render(f"/screen?code={ws.code}", workshop_screen.Screen)):
        assert _all_text(rc, "lsim-ws-join-link") == url
        qr = _all_text(rc, "lsim-ws-qr")
        assert qr in (qr_svg(url, scale=5), qr_svg(url, scale=10))  # the QR code of that link
        note = _all_text(rc, "lsim-ws-address-lan")
        assert "localhost" in note and LAN in note and "--host 0.0.0.0" in note, note
    i18n.lang.value = "zh"
    rc = render(f"/workshop?code={ws.code}&key={key}")
    note = _all_text(rc, "lsim-ws-address-lan")
    assert "本机的网络地址 192.168.1.20" in note and "--host 0.0.0.0" in note


@pytest.mark.parametrize("origin", ["http://localhost:8765", "http://127.0.0.1:8765", "http://[::1]:8765"])
def test_without_a_network_address_there_is_no_join_link_but_a_message(reg, monkeypatch, origin):
    """Opened at a loopback address and this computer has no network address: no link or QR code
    that could not work, but a message saying why and what to do; the room code still shows."""
    monkeypatch.setattr(workshop_host, "lan_address", lambda: None)
    ws, key = _new(reg)
    for big in (False, True):
        rc = _join_panel(ws, origin, big=big)
        assert not _with(rc, "lsim-ws-join-link") and not _with(rc, "lsim-ws-qr")
        assert _all_text(rc, "lsim-ws-code").strip() == ws.code
        note = _all_text(rc, "lsim-ws-address-no_lan")
        assert note.startswith("No join link") and "network address" in note and "--host 0.0.0.0" in note
    i18n.lang.value = "zh"
    assert "没有加入链接" in _all_text(_join_panel(ws, origin), "lsim-ws-address-no_lan")


def test_an_app_that_answers_this_computer_only_says_to_restart_it_on_the_network(reg, monkeypatch):
    """``solara run`` without --host 0.0.0.0 listens on this computer only (SERVER_NAME 127.0.0.1 or
    localhost): no address would work, so no join link, and the message gives the command to start
    it again."""
    ws, key = _new(reg)
    for listening in ("127.0.0.1", "localhost"):
        monkeypatch.setenv("SERVER_NAME", listening)
        rc = _join_panel(ws, "http://localhost:8811")
        assert not _with(rc, "lsim-ws-join-link") and not _with(rc, "lsim-ws-qr")
        note = _all_text(rc, "lsim-ws-address-local_only")
        assert "started without --host 0.0.0.0" in note and "--host 0.0.0.0 --port 8811" in note
    monkeypatch.setenv("SERVER_NAME", "0.0.0.0")  # listening on the network: this computer's address
    assert _all_text(_join_panel(ws, "http://localhost:8811"), "lsim-ws-join-link") == f"http://{LAN}:8811/join?code={ws.code}"


def test_opened_at_a_network_address_the_join_link_is_that_address(reg):
    """Opened at the address participants use, the page keeps it: no note."""
    ws, key = _new(reg)
    for origin in ("http://192.168.1.7:8765", "http://trainer-laptop.local:8765", "https://room.example.org"):
        rc = _join_panel(ws, origin)
        assert _all_text(rc, "lsim-ws-join-link") == f"{origin}/join?code={ws.code}"
        assert _all_text(rc, "lsim-ws-qr") == qr_svg(f"{origin}/join?code={ws.code}", scale=5)
        assert not _with(rc, "lsim-ws-address-note")


def test_loopback_addresses_and_this_computers_network_address(monkeypatch):
    from sim.ui.workshop_host import is_loopback, room_origin

    for loop in ("http://localhost:8765", "http://LOCALHOST:1", "http://127.0.0.1:8765", "http://127.1.2.3",
                 "http://[::1]:8765", "localhost", "127.0.0.1", "::1", "http://app.localhost:8765"):
        assert is_loopback(loop), loop
    for net in ("http://192.168.1.20:8765", "http://10.0.0.5", "http://[fe80::1]:8765", "http://laptop.local:8765",
                "0.0.0.0", ""):
        assert not is_loopback(net), net
    monkeypatch.delenv("SERVER_NAME", raising=False)
    monkeypatch.setattr(workshop_host, "lan_address", lambda: "10.1.2.3")
    assert room_origin("http://127.0.0.1:8811") == ("http://10.1.2.3:8811", "lan")
    assert room_origin("http://localhost") == ("http://10.1.2.3", "lan")
    assert room_origin("http://10.9.9.9:8765") == ("http://10.9.9.9:8765", "opened")
    # the real lookup: no packet sent, a network address or none
    monkeypatch.undo()
    found = workshop_host.lan_address()
    assert found is None or not is_loopback(found)

    class NoNetwork:  # no route to any private address …
        def __init__(self, *a):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def connect(self, addr):
            raise OSError("Network is unreachable")

    monkeypatch.setattr(workshop_host.socket, "socket", NoNetwork)
    monkeypatch.setattr(workshop_host.socket, "getaddrinfo", lambda *a: [(2, 2, 17, "", ("127.0.1.1", 0))])
    assert workshop_host.lan_address() is None  # … and the computer's name is a loopback address only
    monkeypatch.setattr(workshop_host.socket, "getaddrinfo", lambda *a: [(2, 2, 17, "", ("127.0.1.1", 0)),
                                                                          (2, 2, 17, "", ("192.168.0.9", 0))])
    assert workshop_host.lan_address() == "192.168.0.9"


def test_join_link_and_qr_are_made_here():
    url = join_url("http://192.168.1.20:8765/", "AB2CD")
    assert url == "http://192.168.1.20:8765/join?code=AB2CD"
    svg = qr_svg(url)
    assert svg.startswith("<svg") and "http" not in svg.split(">", 1)[1]  # a picture, not a link to a service


# ---- debrief lines and charts --------------------------------------------------------------------
def test_debrief_names_the_decision_before_the_losses():
    table = pd.DataFrame([
        {"round": 1, "merchant": "A", "lost": 10, "churn_rate": 0.02, "loyal_share": 0.10, "profit": 100.0,
         "price": 1.0, "quality": 0.6},
        {"round": 1, "merchant": "B", "lost": 12, "churn_rate": 0.03, "loyal_share": 0.12, "profit": 90.0,
         "price": 0.95, "quality": 0.6},
        {"round": 2, "merchant": "A", "lost": 8, "churn_rate": 0.015, "loyal_share": 0.13, "profit": 110.0,
         "price": 1.0, "quality": 0.6},
        {"round": 2, "merchant": "B", "lost": 31, "churn_rate": 0.098, "loyal_share": 0.12, "profit": 140.0,
         "price": 1.4, "quality": 0.6},
        {"round": 3, "merchant": "A", "lost": 5, "churn_rate": 0.01, "loyal_share": 0.20, "profit": 120.0,
         "price": 1.0, "quality": 0.6},
        {"round": 3, "merchant": "B", "lost": 6, "churn_rate": 0.02, "loyal_share": 0.13, "profit": 100.0,
         "price": 1.4, "quality": 0.6},
    ])
    lines = debrief(table, {2: {"B": {"price": 1.4}}, 3: {"A": {"compensation": 0.6, "price": 1.0}}},
                    {2: ("price_war",)}, {"A": {"price": 1.0, "compensation": 0.2}, "B": {"price": 0.95}})
    en = [ln.en for ln in lines]
    assert "Round 2: B raised its price 0.95 → 1.4" in en
    assert "Round 2: B lost the most customers: 31 (churn 3.0% → 9.8%), after it raised its price 0.95 → 1.4 (round 2)" in en
    assert any(t.startswith("Round 2: market event: A newcomer's price war") for t in en)
    # A's price did not change (1.0 → 1.0): only the compensation is named
    assert "Round 3: A raised its recovery compensation 0.2 → 0.6" in en
    assert ("Round 3: A's loyal share rose the most: 13.0% → 20.0%, after it raised its recovery compensation "
            "0.2 → 0.6 (round 3)") in en
    assert "Round 2: B made the most profit: 140" in en
    assert [ln.round for ln in lines] == sorted(ln.round for ln in lines)
    zh = [ln.text("zh") for ln in lines]
    assert "第 2 轮：B 流失的客户最多：31 人（流失率 3.0% → 9.8%），此前它把价格从 0.95 提高到 1.4（第 2 轮）" in zh
    assert debrief(table.iloc[:0], {}, {}, {}) == []
    # with the round's losses by reason, the line names the main one
    table.loc[3, [f"lost_{r}" for r in ("price", "competitor", "service_failure")]] = [22, 7, 2]
    lost = [ln for ln in debrief(table, {2: {"B": {"price": 1.4}}}, {}, {"B": {"price": 0.95}}) if ln.kind == "lost"]
    assert lost[1].en.endswith("(round 2); the main reason: a cheaper offer, or a price rise it would not pay (22 of 31)")
    assert lost[1].zh.endswith("；主要原因：更便宜的报价，或不愿接受的涨价（31 人中 22 人）")
    assert "reason" not in lost[0].en  # round 1 has no counts by reason in this table


def test_change_text_in_both_languages():
    assert change_text("price", 1.2, 0.9) == ("lowered its price 1.2 → 0.9", "把价格从 1.2 降到 0.9")
    en, zh = change_text("programme", "none", "social")
    assert en == "switched its loyalty programme no programme → social (clubs, personal contact)"
    assert zh.startswith("把忠诚计划从 无忠诚计划 改为 社交层")


def test_what_happened_from_a_small_workshop(reg):
    ws, key = _new(reg, round_weeks=4)
    (_, ta), (_, tb) = ws.join("Ann"), ws.join("Bo")
    ws.decide(ta, {"price": 2.5})  # a steep rise: A loses customers
    ws.advance(key)
    ws.decide(tb, {"recovery_prob": 0.95, "compensation": 0.8})
    ws.inject(key, "regulation")
    ws.advance(key)
    lines = what_happened(ws, 0)
    assert all(isinstance(ln, Line) for ln in lines)
    by = {(ln.round, ln.kind): ln for ln in lines}
    assert by[(1, "decision")].en == "Round 1: A raised its price 1.15 → 2.5"
    assert by[(2, "decision")].merchant == "B" and "recovery compensation 0.3 → 0.8" in by[(2, "decision")].en
    assert by[(2, "event")].en.startswith("Round 2: market event: New rules")
    table = ws.round_table(0)
    worst = table[table["round"] == 1].set_index("merchant")["lost"].idxmax()
    assert by[(1, "lost")].merchant == worst
    if worst == "A":  # A's steep price rise: its customers leave for cheaper offers
        assert "the main reason: a cheaper offer" in by[(1, "lost")].en
    else:
        assert "; the main reason: " in by[(1, "lost")].en
    assert (1, "loyal") not in by  # no round before the first to compare with
    assert all(ln.zh.startswith(f"第 {ln.round} 轮") for ln in lines)


def test_round_charts_draw_every_metric_per_merchant_in_both_languages(reg):
    import xml.etree.ElementTree as ET

    ws, key = _new(reg, round_weeks=2)
    ws.advance(key)
    ws.advance(key)
    table = ws.round_table(0)
    ns = "{http://www.w3.org/2000/svg}"
    for lng in ("en", "zh"):
        root = ET.fromstring(rounds_svg(table, lng, merchants=ws.merchant_names))
        charts = list(root.iter(f"{ns}svg"))
        assert len(charts) == len(CHART_METRICS)
        for chart, metric in zip(charts, CHART_METRICS):
            lines = [el for el in chart.iter(f"{ns}polyline")]
            assert [el.get("data-label") for el in lines] == ws.merchant_names  # one per merchant, named
            a = table[table["merchant"] == "A"].sort_values("round")[metric].to_numpy(dtype=float)
            ys = [float(p.split(",")[1]) for p in lines[0].get("points").split()]
            assert len(ys) == 2 and (ys[0] > ys[1]) == (a[0] < a[1])  # drawn the way the values go
        titles = [chart.find(f"{ns}title").text for chart in charts]
        assert ("市场份额" in titles) == (lng == "zh") and ("Market share" in titles) == (lng == "en")
        if lng == "en":  # shares in percent on the axis
            assert any(t.text.endswith("%") for t in charts[0].iter(f"{ns}text") if t.text)
    empty = ET.fromstring(rounds_svg(table.iloc[:0], "en"))
    assert not list(empty.iter(f"{ns}polyline"))
    with pytest.raises(ValueError):
        rounds_svg(table, "en", metrics=("nps",))


def test_the_facilitators_page_in_chinese_has_no_english_left(reg):
    ws, key = _new(reg, round_weeks=2)
    _, token = ws.join("Ann")
    ws.decide(token, {"price": 1.3, "programme": "social"})
    ws.inject(key, "price_war")
    ws.advance(key)
    i18n.lang.value = "zh"
    rc = render(f"/workshop?code={ws.code}&key={key}")
    skip = {"lsim-ws-join-link", "lsim-ws-screen-link", "lsim-ws-host-link", "lsim-ws-qr"}
    texts = []
    for w in all_widgets(rc):
        classes = set((getattr(w, "class_", None) or "").split()) | set(
            ((getattr(w, "attributes", None) or {}).get("class") or "").split())
        if classes & skip or isinstance(w, v.Icon):  # links, QR code, icon names
            continue
        for name in ("label", "message", "unsafe_innerHTML"):
            x = getattr(w, name, None)
            if isinstance(x, str):
                texts.append(re.sub(r"<[^>]*>", " ", x) if name == "unsafe_innerHTML" else x)  # the text, not the markup
        texts += [c for c in getattr(w, "children", None) or [] if isinstance(c, str)]
        texts += [i["text"] for i in getattr(w, "items", None) or [] if isinstance(i, dict)]
    assert any("市场份额" in t for t in texts)  # the charts' text is read too
    # commands and addresses (the note on the join address) are typed as they are, in any language
    shown_text = re.sub(r"uv run solara run app\.py[\w .-]*|https?://\S+|--host 0\.0\.0\.0|localhost", " ",
                        " ".join(texts).replace(ws.code, ""))
    assert "--host 0.0.0.0" in " ".join(texts)  # the note is there (opened at localhost), in Chinese
    words = set(re.findall(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]", shown_text))
    allowed = {"CSV", "Ann", "LSIM", "MAX", "CUSTOMERS"}
    assert words - allowed == set(), sorted(words - allowed)
    assert "第 1 轮" in _all_text(rc, "lsim-ws-lines") and "价格" in _all_text(rc, "lsim-ws-decisions")

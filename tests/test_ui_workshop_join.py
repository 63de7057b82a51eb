"""The participant's page of a live classroom market (``/join``), rendered without a browser.

A workshop made in the test's own registry (a log on a tmp path) is joined through the page: good
and bad joins, a reload with the seat's token, the presence in the roster, decisions (validation,
the lock, only the participant's own merchant changes), the cost preview against the merchant's own
books, the round results and the market research one round late.
"""

from __future__ import annotations

import contextlib
import io
import re
import time

import pandas as pd

import ipyvuetify as v
import pytest
import solara
import solara.server.starlette  # noqa: F401  (reactive values scoped per virtual kernel, as under the server)

from sim.model import LoyaltyModel
from sim.inputs.scenario import load_scenario
from sim.ui import i18n, workshop_join
from sim.ui.workshop_seat import cost_preview, flows, kpi_cells, own_svg, rival_cells, rivals_table
from sim.workshop import registry as registry_mod
from sim.workshop.decisions import DECISIONS
from sim.workshop.registry import Registry
from ui_kit import all_widgets, virtual_session, widgets_under

N = 300  # customers per market: small and quick


@pytest.fixture
def reg(tmp_path, monkeypatch):
    r = Registry(tmp_path / "w.sqlite")
    monkeypatch.setattr(registry_mod, "_REGISTRY", r)
    i18n.lang.value = "en"
    yield r
    while _contexts:  # before the router is given back (monkeypatch undone after this fixture)
        try:
            _contexts.pop().close()
        except Exception:  # noqa: BLE001
            pass
    i18n.lang.value = "en"


_contexts: list = []


@contextlib.contextmanager
def session(prefix: str):
    """A browser session (virtual kernel) whose pages are closed with it (a page left open would go on
    following the workshop from its thread after its session closed)."""
    with virtual_session(prefix) as ctx:
        try:
            yield ctx
        finally:
            while _contexts:
                try:
                    _contexts.pop().close()
                except Exception:  # noqa: BLE001
                    pass


class _Router:
    def __init__(self, search: str):
        self.search = search
        self.path = "/join"

    def push(self, *a, **k):
        pass


def render(search: str = "", monkeypatch=None):
    router = _Router(search)
    monkeypatch.setattr(workshop_join.solara, "use_router", lambda: router)
    box, rc = solara.render(workshop_join.Join(), handle_error=False)
    _contexts.append(rc)
    return rc


def classed(rc, cls: str, widget_class=v.VuetifyWidget) -> list:
    return [w for w in all_widgets(rc) if isinstance(w, widget_class) and cls in (getattr(w, "class_", "") or "").split()]


def one(rc, cls: str, widget_class=v.VuetifyWidget):
    found = classed(rc, cls, widget_class)
    assert found, f"no {cls}"
    return found[0]


def html_of(rc, cls: str) -> str:
    """The inner HTML (or text) of the element of class ``cls``."""
    for w in all_widgets(rc):
        attrs = getattr(w, "attributes", None) or {}
        if cls in str(attrs.get("class", "")).split():
            return getattr(w, "unsafe_innerHTML", "") or ""
        if cls in (getattr(w, "class_", "") or "").split():
            return texts_of(w)
    raise AssertionError(f"no {cls}")


def texts_of(widget) -> str:
    out, todo = [], [widget]
    while todo:
        w = todo.pop(0)
        for name in ("v_model", "children", "label", "unsafe_innerHTML", "value"):
            x = getattr(w, name, None)
            items = x if isinstance(x, (list, tuple)) else [x]
            for i in items:
                if isinstance(i, str):
                    out.append(i)
                elif hasattr(i, "keys"):
                    todo.append(i)
    return " ".join(out)


def page_text(rc) -> str:
    out = []
    for w in all_widgets(rc):
        for name in ("children", "label", "unsafe_innerHTML", "value", "v_model"):
            x = getattr(w, name, None)
            for i in (x if isinstance(x, (list, tuple)) else [x]):
                if isinstance(i, str):
                    out.append(i)
    return " | ".join(out)


def wait(cond, timeout: float = 15.0):
    """Wait until ``cond()`` holds: the page follows the workshop from a thread of its own."""
    deadline = time.time() + timeout
    while True:
        try:
            if cond():
                return
        except AssertionError:
            pass
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def table_rows(markup: str) -> list[list[str]]:
    """The cells of each row of an HTML table, as text."""
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", markup)]


def box(rc, cls: str):
    return one(rc, cls, v.TextField)


def field_box(rc, field: str):
    cont = [w for w in all_widgets(rc) if f"lsim-ws-field-{field}" in str(getattr(w, "class_", "") or "").split()]
    assert cont, field
    for w in widgets_under(cont[0]):
        if isinstance(w, v.TextField) and "lsim-input" in (w.class_ or ""):
            return w
        if isinstance(w, v.Select) and "lsim-select" in (w.class_ or ""):
            return w
    raise AssertionError(field)


def join_as(rc, code: str, name: str):
    box(rc, "lsim-ws-code").fire_event("change", code)
    box(rc, "lsim-ws-name").fire_event("change", name)
    one(rc, "lsim-ws-join-btn", v.Btn).click()


def seat_token(rc) -> str | None:
    """The token written into the page's address (the hidden address writer's value)."""
    for w in all_widgets(rc):
        if getattr(w, "key", None) == "seat" and hasattr(w, "token"):
            return w.token
    return None


def test_join_good_and_bad(reg, monkeypatch):
    ws, key = reg.create("baseline", 3, customers=N)
    with session("join") as ctx:
        rc = render("", monkeypatch)
        join_as(rc, "NOPE9", "Ann")  # a wrong code
        assert "no workshop with code 'NOPE9'" in html_of(rc, "lsim-ws-error")
        join_as(rc, ws.code.lower(), "")  # an empty name
        assert "display name has 1 … 40 characters" in html_of(rc, "lsim-ws-error")
        join_as(rc, ws.code, "x" * 41)  # too long
        assert "1 … 40" in html_of(rc, "lsim-ws-error")
        assert not any(s.taken for s in ws.seats.values())  # nothing changed
        i18n.lang.value = "zh"
        join_as(rc, "NOPE9", "Ann")
        assert "没有代码为" in html_of(rc, "lsim-ws-error")
        i18n.lang.value = "en"
        join_as(rc, ws.code, "Ann")
        seat = ws.seats[(0, "A")]
        assert seat.taken and seat.name == "Ann"  # the first free seat
        token = seat_token(rc)
        assert token and ws.seat_of(token) is seat
        text = page_text(rc)
        assert "Ann" in text and "Merchant A" in text and "Round 1" in text
        assert "No deadline" in html_of(rc, "lsim-ws-clock")
        # the page counts as connected to its seat while its browser session is open
        assert reg.connected(ws.code, seat)
    assert not reg.connected(ws.code, seat)  # the session closed


def test_choose_a_seat_and_a_second_tab_cannot_take_it(reg, monkeypatch):
    ws, key = reg.create("baseline", 3, markets=2, customers=N)
    with session("a"):
        rc = render(f"code={ws.code}", monkeypatch)
        assert box(rc, "lsim-ws-code").v_model == ws.code  # filled in from the link
        sel = one(rc, "lsim-ws-seat", v.Select)
        assert "Market 2 · Merchant B" in [i["text"] for i in sel.items]
        sel.v_model = "1|B"
        box(rc, "lsim-ws-name").fire_event("change", "Bo")
        one(rc, "lsim-ws-join-btn", v.Btn).click()
        assert ws.seats[(1, "B")].name == "Bo"
        assert "Market 2" in page_text(rc)
    with session("b"):  # a second tab: the held seat is not offered
        rc2 = render(f"code={ws.code}", monkeypatch)
        assert "Market 2 · Merchant B" not in [i["text"] for i in one(rc2, "lsim-ws-seat", v.Select).items]
        one(rc2, "lsim-ws-seat", v.Select).v_model = "0|B"
        box(rc2, "lsim-ws-name").fire_event("change", "Ed")
        ws.join("Fay", market=1, merchant="B")  # another tab takes that seat first
        before = {k: (s.name, s.token_hash) for k, s in ws.seats.items()}
        one(rc2, "lsim-ws-join-btn", v.Btn).click()
        assert "merchant B of market 1 is taken by Fay" in html_of(rc2, "lsim-ws-error")
        assert {k: (s.name, s.token_hash) for k, s in ws.seats.items()} == before  # nothing changed


def test_reload_with_the_token_gives_the_seat_back(reg, monkeypatch):
    ws, key = reg.create("baseline", 3, customers=N)
    seat, token = ws.join("Ann")
    with session("reload"):
        rc = render(f"code={ws.code}&seat={token}", monkeypatch)
        assert "Ann" in page_text(rc) and "Merchant A" in page_text(rc)
        assert reg.connected(ws.code, seat)
    ws.advance(key)
    ws.close(key)
    with session("closed"):  # after the end: the results, no decisions
        rc = render(f"code={ws.code}&seat={token}", monkeypatch)
        assert "The workshop has ended" in html_of(rc, "lsim-ws-clock")
        assert len(table_rows(html_of(rc, "lsim-ws-kpis"))) == 3 and not classed(rc, "lsim-ws-submit")  # head, start, round 1
    with session("forged"):
        rc = render(f"code={ws.code}&seat=forged", monkeypatch)
        assert "holds no seat" in html_of(rc, "lsim-ws-error")
        assert classed(rc, "lsim-ws-join-btn", v.Btn)  # the join form instead


def _seated(reg, monkeypatch, prefix="p", **kw):
    ws, key = reg.create("baseline", 3, customers=N, **kw)
    seat, token = ws.join("Ann")
    rc = render(f"code={ws.code}&seat={token}", monkeypatch)
    return ws, key, seat, token, rc


def test_decisions_validated_and_only_the_own_merchant_changes(reg, monkeypatch):
    with session("dec"):
        ws, key, seat, token, rc = _seated(reg, monkeypatch)
        other = {m: ws.policy(0, m) for m in ws.merchant_names if m != "A"}
        assert {f"lsim-ws-field-{f}" for f in DECISIONS} <= {
            c for w in all_widgets(rc) for c in str(getattr(w, "class_", "") or "").split()}
        field_box(rc, "price").fire_event("change", "12")  # out of range
        assert "'price' = 12 is out of range: allowed 0 … 10" in html_of(rc, "lsim-ws-field-error")
        one(rc, "lsim-ws-submit", v.Btn).click()  # refused: the price box is wrong
        assert "price" in html_of(rc, "lsim-ws-error") and "0 … 10" in html_of(rc, "lsim-ws-error")
        assert ws.pending == {}
        field_box(rc, "quality").fire_event("change", "abc")  # text in a number
        field_box(rc, "quality").fire_event("change", "0.8")
        field_box(rc, "price").fire_event("change", "1.4")
        field_box(rc, "programme").fire_event("change", "social")
        assert not classed(rc, "lsim-ws-decided")
        one(rc, "lsim-ws-submit", v.Btn).click()
        assert ws.pending == {(0, "A"): {"price": 1.4, "quality": 0.8, "programme": "social"}}
        assert "Decided for round 1 ✓" in page_text(rc)
        assert {m: ws.policy(0, m) for m in other} == other  # the rivals untouched
        ws.advance(key)
        assert ws.models[0].merchant("A").policy.price == 1.4
        wait(lambda: "Round 2" in page_text(rc))
        assert "Decided for round 2" not in page_text(rc)
        # locked (paused): the engine's message, the controls disabled
        ws.pause(key)
        wait(lambda: one(rc, "lsim-ws-submit", v.Btn).disabled)
        assert field_box(rc, "price").disabled
        assert "Paused" in html_of(rc, "lsim-ws-clock")
        assert "Decisions are locked" in page_text(rc)
        # a click sent before the page learnt of the lock: the engine's message, nothing taken
        field_box(rc, "price").fire_event("change", "2")
        one(rc, "lsim-ws-submit", v.Btn).click()
        assert "decisions for round 2 are locked" in html_of(rc, "lsim-ws-error")
        assert ws.pending == {}


def test_results_and_rivals_one_round_late(reg, monkeypatch):
    with session("res"):
        ws, key, seat, token, rc = _seated(reg, monkeypatch)
        assert "No round has been played yet" in page_text(rc)
        ws.decide(token, {"price": 1.3})
        ws.advance(key)
        wait(lambda: "<tr>" in html_of(rc, "lsim-ws-kpis"))
        kpis = html_of(rc, "lsim-ws-kpis")
        assert "Customer value" in kpis and "%" in kpis and kpis.count("<tr>") == 3  # head, before round 1, round 1
        assert "one round late" in page_text(rc)  # no research after round 1
        ws.message(key, "first message")
        ws.message(key, "second message")
        wait(lambda: "second message" in page_text(rc))
        text = texts_of(one(rc, "lsim-ws-messages"))
        assert text.index("second message") < text.index("first message")  # newest first
        ws.inject(key, "scandal")
        wait(lambda: "A scandal in the trade" in page_text(rc))
        ws.decide(token, {"price": 1.6})
        ws.advance(key)
        table = ws.round_table(0)
        at, rows = rivals_table(table, "A")
        assert at == 1 and set(rows["merchant"]) == set(ws.merchant_names) - {"A"}
        wait(lambda: "As of round 1" in page_text(rc))
        rivals = html_of(rc, "lsim-ws-rivals")
        r1 = table[(table["round"] == 1) & (table["merchant"] == "B")].iloc[0]
        r2 = table[(table["round"] == 2) & (table["merchant"] == "B")].iloc[0]
        rows = table_rows(rivals)
        assert [r[0] for r in rows[1:]] == sorted(set(ws.merchant_names) - {"A"})  # not their own merchant
        b = next(r for r in rows if r[0] == "B")
        assert b[1:] == rival_cells(r1)  # round 1's figures …
        assert b[1:] != rival_cells(r2)  # … not round 2's
        own_rows = table_rows(html_of(rc, "lsim-ws-kpis"))
        assert len(own_rows) == 4 and own_rows[3][0] == "2"
        a2 = table[(table["round"] == 2) & (table["merchant"] == "A")].iloc[0]
        assert own_rows[3][1:] == kpi_cells(a2) and own_rows[3][2] == f"{100 * a2['market_share']:.0f}%"
        ws.undo(key)  # the facilitator takes round 2 back: its results go, research is as after round 1
        wait(lambda: len(table_rows(html_of(rc, "lsim-ws-kpis"))) == 3)
        assert "one round late" in page_text(rc) and "Decided for round 2 ✓" in page_text(rc)
        ws.advance(key)
        wait(lambda: len(table_rows(html_of(rc, "lsim-ws-kpis"))) == 4)
        i18n.lang.value = "zh"
        wait(lambda: "截至第 1 轮" in page_text(rc))
        assert "客户价值" in html_of(rc, "lsim-ws-kpis")


def test_the_results_table_adds_up_from_the_start(reg, monkeypatch):
    """The participant's results per round start with the market before round 1: the first
    customers and what winning them cost (week 0's profit, in the export's rounds.csv as round 0),
    so that its profit and each round's add up to the cumulative profit shown in every row; 中文."""
    with session("start"):
        ws, key, seat, token, rc = _seated(reg, monkeypatch, round_weeks=4)
        ws.advance(key)
        wait(lambda: len(table_rows(html_of(rc, "lsim-ws-kpis"))) == 3)
        ws.advance(key)
        wait(lambda: len(table_rows(html_of(rc, "lsim-ws-kpis"))) == 4)
        rows = table_rows(html_of(rc, "lsim-ws-kpis"))
        head = rows[0]
        profit, cumulative = head.index("Profit"), head.index("Cumulative profit")
        assert [r[0] for r in rows[1:]] == ["Before round 1", "1", "2"]
        start = ws.opening(0).query("merchant == 'A'").iloc[0]
        assert rows[1][1:] == kpi_cells(start) and float(start["profit"]) < 0  # the first customers' cost
        assert rows[1][profit] == rows[1][cumulative] and rows[1][1] == f"{int(start['customers']):,}"
        own = pd.concat([ws.opening(0), ws.round_table(0)]).query("merchant == 'A'").sort_values("round")
        assert own["profit"].cumsum().to_numpy() == pytest.approx(own["cumulative_profit"].to_numpy())
        assert [r[cumulative] for r in rows[1:]] == [kpi_cells(r)[cumulative - 1] for r in own.to_dict("records")]
        i18n.lang.value = "zh"
        wait(lambda: "第 1 轮之前" in html_of(rc, "lsim-ws-kpis"))


def test_own_customers_flows_reasons_and_stories(reg, monkeypatch):
    """After a round the participant reads its own customers' Cycle A / Cycle B flows, why it lost
    customers, and a few stories of its own customers; the same stories after a reload; 中文."""
    with session("flows"):
        ws, key, seat, token, rc = _seated(reg, monkeypatch, round_weeks=6)
        ws.decide(token, {"failure_prob": 0.3, "recovery_prob": 0.0, "complaint_ease": 1.0})  # A lets every complaint down
        ws.advance(key)
        wait(lambda: "lsim-ws-flow-satisfied" in html_of(rc, "lsim-ws-flows"))
        row = ws.round_table(0).query("merchant == 'A'").iloc[-1]
        f = flows(row)
        assert f.complained > 0 and f.put_right == 0 and f.answered == f.let_down
        markup = html_of(rc, "lsim-ws-flows")
        numbers = {m.group(1): m.group(2) for m in re.finditer(r"lsim-ws-flow-(\w+)'.*?text-align:right[^>]*>([\d,]+)", markup)}
        assert numbers["satisfied"] == f"{int(row['cycle_a']):,}" and numbers["complained"] == f"{int(row['complaints']):,}"
        assert numbers["put_right"] == "0" and int(numbers["let_down"].replace(",", "")) == f.let_down
        kpis = table_rows(html_of(rc, "lsim-ws-kpis"))
        assert kpis[0][-3:] == ["NPS", "Complaints", "Put right"] and kpis[2][-1] == f"0 / {f.answered}"
        # stories of A's own customers (the one who left: whose last merchant was A)
        wait(lambda: "lsim-ws-story" in page_text(rc) or any(
            "lsim-ws-story" in str((getattr(w, "attributes", None) or {}).get("class", "")) for w in all_widgets(rc)))
        stories = ws.stories(0, "A")
        assert stories and all(st["state"]["merchant"] == "A" for kind, st in stories if kind != "left")
        assert [k for k, _ in stories][0] in ("loyal", "trusting", "ordinary")
        assert "botched" in [k for k, _ in stories]  # A turned every complaint down
        text = page_text(rc)
        for kind, st in stories:
            assert f"(#{st['id']})" in text
        assert ws.stories(0, "A") == stories  # the same customers for every page in the round
        i18n.lang.value = "zh"
        wait(lambda: "满意的购买——甲循环" in html_of(rc, "lsim-ws-flows"))
        assert "净推荐值" in html_of(rc, "lsim-ws-kpis")


def test_cost_preview_numbers(reg, monkeypatch):
    with session("cost"):
        ws, key, seat, token, rc = _seated(reg, monkeypatch)
        pol = ws.models[0].merchant("A").policy
        params = ws.models[0].params
        c = cost_preview({"price": 2.0, "quality": 0.8, "programme": "financial"}, pol, params)
        assert c.serve_cost == pytest.approx(pol.unit_cost + pol.quality_cost * 0.8)
        assert c.price_paid == pytest.approx(2.0 * (1 - pol.programme_benefit) + pol.programme_fee)
        assert c.margin == pytest.approx(c.price_paid - c.serve_cost)
        assert c.cost_week == pytest.approx(params.purchase_prob * c.serve_cost + pol.programme_cost
                                            + c.compensation_week)
        none = cost_preview({"price": 2.0, "quality": 0.8, "programme": "none", "compensation": 0.0}, pol, params)
        assert none.programme_week == 0 and none.compensation_week == 0 and none.price_paid == 2.0
        # the page shows the preview of what is typed, before it is submitted
        field_box(rc, "quality").fire_event("change", "0.8")
        field_box(rc, "price").fire_event("change", "2")
        shown = cost_preview({**ws.policy(0, "A"), "quality": 0.8, "price": 2.0}, pol, params)
        assert f"{shown.margin:,.3f}" in html_of(rc, "lsim-ws-cost")
        assert f"{shown.cost_week:,.3f}" in html_of(rc, "lsim-ws-cost")
        assert ws.pending == {}  # a preview takes nothing


def test_the_clock_runs_and_decisions_lock_when_it_runs_out(reg, monkeypatch):
    with session("clock"):
        ws, key, seat, token, rc = _seated(reg, monkeypatch)
        ws.start_timer(key, 10)
        wait(lambda: re.search(r"0:(09|10) left", html_of(rc, "lsim-ws-clock")))
        assert not one(rc, "lsim-ws-submit", v.Btn).disabled
        # the deadline as the log would have it a few seconds later (a 10 s minimum is too long to wait)
        ws.deadline = time.time() + 1.5
        wait(lambda: "Time is up" in html_of(rc, "lsim-ws-clock"))
        wait(lambda: one(rc, "lsim-ws-submit", v.Btn).disabled and field_box(rc, "price").disabled)


def test_a_seat_given_back_offers_to_join_again(reg, monkeypatch):
    with session("lost"):
        ws, key, seat, token, rc = _seated(reg, monkeypatch)
        ws.leave(token)  # from another tab of the same seat
        wait(lambda: classed(rc, "lsim-ws-rejoin", v.Btn))
        assert "holds no seat" in html_of(rc, "lsim-ws-error")
        one(rc, "lsim-ws-rejoin", v.Btn).click()
        # the join form comes back; the page also renders from the thread that follows the workshop,
        # so the click's render may land a moment later
        wait(lambda: classed(rc, "lsim-ws-code", v.TextField))
        join_as(rc, ws.code, "Ann again")
        wait(lambda: "Ann again" in page_text(rc))
        assert ws.seats[(0, "A")].name == "Ann again"


def test_own_figure_is_an_svg_of_the_rounds_in_either_language():
    """Share and loyal share as two lines with a point per round, profit as a bar per round (red
    below zero), titles in the page's language; well-formed XML."""
    import xml.etree.ElementTree as ET

    rows = pd.DataFrame({"round": [1, 2, 3], "market_share": [0.3, 0.35, 0.42], "loyal_share": [0.1, 0.12, 0.2],
                         "profit": [120.0, -40.0, 300.0]})
    svg = own_svg(rows, "zh")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "份额（%）" in texts and "每轮利润" in texts and "轮次" in texts and "忠诚" in texts
    lines = [el.get("points").split() for el in root.iter(f"{ns}polyline")]
    assert [len(pts) for pts in lines] == [3, 3]
    ys = [float(p.split(",")[1]) for p in lines[0]]
    assert ys[0] > ys[1] > ys[2]  # a rising share is drawn rising (y grows downwards)
    bars = [el for el in root.iter(f"{ns}rect") if el.get("class") == "lsim-svg-bar"]
    assert [b.get("fill") for b in bars] == ["#2e7d32", "#c62828", "#2e7d32"]
    assert float(bars[2].get("height")) > float(bars[0].get("height")) > float(bars[1].get("height"))
    assert "Profit per round" in own_svg(rows, "en") and "<script" not in svg
    assert ET.fromstring(own_svg(rows.iloc[:1], "en")) is not None  # one round, one point


def test_cost_preview_mirrors_the_merchants_own_books():
    """One week of a market: the merchant's booked revenue and cost are the preview's per-purchase
    figures times its purchases, plus the programme per customer and the acquisitions (no
    compensation paid: recovery off, so no resolved complaint is booked)."""
    sc = load_scenario("baseline")
    params = sc.params.replace(n_customers=400)
    model = LoyaltyModel(params, seed=5)
    model.set_policy("A", price=1.7, quality=0.75, programme="financial", compensation=0.0, recovery_prob=0.0)
    for _ in range(3):
        model.step()
        m = model.merchant("A")
        c = cost_preview({}, m.policy, model.params)
        assert m.encounters > 0
        assert m.revenue == pytest.approx(c.price_paid * m.encounters, rel=1e-5)
        assert m.cost == pytest.approx(c.serve_cost * m.encounters + c.programme_week * m.customers
                                       + c.acquisition * m.acquired, rel=1e-5)

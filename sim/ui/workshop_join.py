"""A participant's page of a live classroom market (``/join``).

``/join?code=XXXXX`` (the room code from the facilitator's QR code or link, filled in) or ``/join``
with a box for the code; a display name; a free seat to take (market and merchant; the first free
one unless another is chosen). Joining takes the seat (:meth:`Workshop.join`) and writes the seat's
token into the page's address (``/join?code=XXXXX&seat=TOKEN``, without a new history entry), so
that a reload or a dropped connection gives the seat back. A wrong code, an empty or too long name,
a seat someone else holds get the engine's message in the page's language and change nothing.

While the page is open it counts as connected to its seat in the facilitator's roster
(:meth:`Registry.connect`; :meth:`Registry.disconnect` when the browser session closes).

Seated, the page shows the participant's name, merchant (and market when there are several), the
round and its clock, the facilitator's messages (newest first) and the market events of the open
round; the decision form (one control per decision of :data:`sim.workshop.decisions.DECISIONS`,
labels, help and ranges from :data:`sim.params.MERCHANT_PARAMS`) with a cost preview
(:func:`sim.ui.workshop_seat.cost_preview`) and "Submit decisions"; the seat's own figures per
played round (table and figure: customers, share, loyal share, churn, satisfaction, trust, profit,
cumulative profit, customer value, NPS, complaints and those put right; the table starts with the
market before round 1, whose profit is what winning the first customers cost); the last round's Cycle A / Cycle B flows of its
customers and the customers it lost by reason; a few of its customers' stories (a loyal one, one whose
complaint went badly or was put right, one who left: :meth:`Workshop.stories`, the same customers
for every reload within a round); and the market research about the rivals, one round late. The page
follows the workshop without a reload (:func:`sim.ui.workshop_common.use_changes`).

Stable CSS classes (for browser tests)
--------------------------------------
=============================  ================================================================
``lsim-ws-join``               the page
``lsim-ws-code``               the room code box (text box inside)
``lsim-ws-name``               the display name box
``lsim-ws-seat``               the free seats (select; "Market 1 · A")
``lsim-ws-join-btn``           the Join button
``lsim-ws-error``              the last refusal (wrong code, name, seat taken, bad decision …)
``lsim-ws-header``             name, merchant, market, round; ``lsim-ws-round`` the round
``lsim-ws-clock``              the round's clock ("4:59 left", "No deadline", …)
``lsim-ws-messages``           the facilitator's messages, newest first (each ``lsim-ws-message``)
``lsim-ws-events``             the market events of the open round
``lsim-ws-decisions``          the decision form; each control ``lsim-ws-field lsim-ws-field-NAME``
                               (NAME a field of DECISIONS) with ``lsim-slider`` and ``lsim-input``
                               (numbers) or ``lsim-select`` (the programme); its error
                               ``lsim-ws-field-error``
``lsim-ws-cost``               the cost preview (``lsim-ws-cost-margin`` the margin per purchase,
                               ``lsim-ws-cost-week`` the cost per customer per week)
``lsim-ws-submit``             "Submit decisions"
``lsim-ws-decided``            "Decided for round N ✓" (shown when this seat has pending decisions)
``lsim-ws-notice``             what the last submission did
``lsim-ws-kpis``               own figures per round (a table: "Before round 1", the first
                               customers and what winning them cost, then one row per round);
                               ``lsim-ws-figure`` its figure
``lsim-ws-rivals``             the rivals as of the round before the last played one (a table)
``lsim-ws-flows``              the last round's Cycle A / Cycle B flows of the seat's customers:
                               each row ``lsim-ws-flow lsim-ws-flow-KEY`` (satisfied, short,
                               complained, silent, answered, put_right, let_down), each reason
                               customers were lost for ``lsim-ws-lost lsim-ws-lost-REASON``
``lsim-ws-lost-table``         customers lost per round by reason (folded)
``lsim-ws-stories``            a few of the seat's customers; each story ``lsim-ws-story
                               lsim-ws-story-KIND`` (loyal, trusting or ordinary; botched or
                               recovered; left)
=============================  ================================================================
"""

from __future__ import annotations

import html
from typing import Any

import reacton.ipyvuetify as rv
import solara

from ..params import MERCHANT_PARAMS, ParamError
from ..workshop.decisions import DECISIONS, MARKET_EVENTS
from ..workshop.room import Seat, Workshop, WorkshopError
from . import controls
from .controls import choice_label, format_value, parse_value, same_value, use_commit
from .i18n import both, lang, shown, tr
from .workshop_common import clock_text, query, registry, use_changes, use_clock
from .inspector import kind_title, story_lines
from .workshop_seat import (KPI_COLUMNS, RIVAL_COLUMNS, cost_preview, flows, flows_html, kpi_rows, lost_table,
                            own_rounds, own_svg, rival_cells, rivals_table)

__all__ = ["Join", "seat_label"]


@solara.component_vue("market_url.vue")
def _AddressValue(token: str, key: str):
    """Writes ``?KEY=TOKEN`` into the page's address without a new history entry (see market_url.vue)."""


def _kernel_id() -> str:
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context().id
    except Exception:  # outside a server or test kernel
        return "local"


def _on_close(callback) -> None:
    try:
        from solara.server import kernel_context

        kernel_context.get_current_context().on_close(callback)
    except Exception:
        pass


def seat_label(seat: Seat, n_markets: int) -> str:
    """A seat as the list of free seats shows it."""
    merchant = tr(f"Merchant {seat.merchant}", f"商家 {seat.merchant}")
    if n_markets > 1:
        return tr(f"Market {seat.market + 1} · ", f"市场 {seat.market + 1} · ") + merchant
    return merchant


def _error_text(e: Exception) -> tuple[str, str]:
    if isinstance(e, ParamError):
        return both(e.text("en"), e.text("zh"))
    return both(str(e), str(e))


@solara.component
def Join():
    solara.Title(tr("Join a workshop — loyalty-sim", "加入工作坊 — loyalty-sim"))
    router = solara.use_router()
    first = solara.use_memo(lambda: (query(router.search).get("code", ""), query(router.search).get("seat", "")), [])
    # (workshop, seat token) once seated; the page's own session
    held, set_held = solara.use_state(None)
    error, set_error = solara.use_state(("", ""))

    def come_back():
        code, token = first
        if not (code and token):
            return
        try:
            ws = registry().get(code)
            if ws.closed:  # nothing to take any more, but the results are still to be seen
                ws.seat_of(token)
            else:
                ws.join("", token=token)
        except ParamError as e:
            set_error(_error_text(e))
            return
        set_held((ws, token))

    solara.use_effect(come_back, [])
    with solara.Column(classes=["lsim-ws-join"], style={"max-width": "980px", "padding": "8px"}):
        if held is None:
            _JoinForm(first[0], lambda ws, token: set_held((ws, token)), error, set_error)
        else:
            ws, token = held
            _AddressValue(token=ws.code, key="code")
            _AddressValue(token=token, key="seat")
            _Seated(ws, token, error, set_error, on_lost=lambda: set_held(None))


@solara.component
def _Error(error):
    if shown(error):
        solara.Error(shown(error), classes=["lsim-ws-error"], dense=True)


@solara.component
def _JoinForm(code0: str, on_joined, error, set_error):
    # (a plain heading: solara.Markdown would load a maths renderer this offline server does not have)
    solara.Text(tr("Join a workshop", "加入工作坊"), style={"font-size": "1.6em", "font-weight": "500",
                                                           "margin": "8px 0 12px"})
    code, set_code = solara.use_state(code0)
    name, set_name = solara.use_state("")
    choice, set_choice = solara.use_state(None)  # (market, merchant) or None: the first free seat
    code_ref, name_ref, seat_ref = solara.use_ref(code0), solara.use_ref(""), solara.use_ref("")
    code_ref.current, name_ref.current = code, name
    ws = None
    if code.strip():
        try:
            ws = registry().get(code)
        except ParamError:
            ws = None
    use_changes(ws)

    def take_code(text: str):
        code_ref.current = text
        set_code(text)

    def take_name(text: str):
        name_ref.current = text
        set_name(text)

    def join():
        try:
            w = registry().get(code_ref.current)
            kw = {}
            if seat_ref.current and w is ws:  # the seat the list shows (chosen, or the first free one)
                m, merchant = seat_ref.current.split("|", 1)
                kw = {"market": int(m) + 1, "merchant": merchant}
            seat, token = w.join(name_ref.current, **kw)
        except ParamError as e:
            set_error(_error_text(e))
            return
        set_error(("", ""))
        on_joined(w, token)

    box = rv.TextField(label=tr("Room code", "房间代码"), v_model=code, on_v_model=take_code, dense=True,
                       outlined=True, class_="lsim-ws-code", style_="max-width: 320px")
    use_commit(box, take_code)
    box = rv.TextField(label=tr("Your display name (1 … 40 characters)", "你的显示名称（1 … 40 个字符）"),
                       v_model=name, on_v_model=take_name, dense=True, outlined=True, class_="lsim-ws-name",
                       style_="max-width: 320px")
    use_commit(box, take_name)
    seat_ref.current = ""
    if ws is not None:
        with ws.lock:
            free = [s for s in ws.seats.values() if not s.taken]
            n_markets = ws.n_markets
        items = [{"text": seat_label(s, n_markets), "value": f"{s.market}|{s.merchant}"} for s in free]
        if items:
            value = f"{choice[0]}|{choice[1]}" if choice is not None else items[0]["value"]
            seat_ref.current = value

            def pick(v):
                if v:
                    m, merchant = str(v).split("|", 1)
                    seat_ref.current = str(v)
                    set_choice((int(m), merchant))

            rv.Select(label=tr("Seat (a free merchant)", "席位（空闲的商家）"), items=items, v_model=value,
                      on_v_model=pick, dense=True, outlined=True, class_="lsim-ws-seat", style_="max-width: 320px")
        solara.Text(tr(f"Workshop {ws.code}: scenario {ws.scenario_name}, {len(free)} free seats",
                       f"工作坊 {ws.code}：情景 {ws.scenario_name}，空闲席位 {len(free)} 个"),
                    style={"color": "#546e7a", "font-size": "0.9em"})
    solara.Button(tr("Join", "加入"), on_click=join, color="primary", classes=["lsim-ws-join-btn"],
                  style={"max-width": "200px"})
    _Error(error)


@solara.component
def _Seated(ws: Workshop, token: str, error, set_error, on_lost=None):
    version = use_changes(ws)
    _, set_expired = solara.use_state(0)  # bumped when the clock runs out (decisions lock)
    lng = lang.value
    page = solara.use_memo(_kernel_id, [])

    def presence():
        try:
            seat = ws.seat_of(token)
        except WorkshopError:
            return None
        reg = registry()
        reg.connect(ws.code, seat, page)

        def gone():
            reg.disconnect(ws.code, seat, page)
        _on_close(gone)
        return gone

    solara.use_effect(presence, [ws.code, token])
    seat0 = solara.use_memo(lambda: _seat_or_none(ws, token), [version, token])
    # the round table changes only when a round is played or taken back: not at every decision
    played = (len(ws.rounds), ws.rounds[-1] if ws.rounds else None)
    table = solara.use_memo(lambda: _round_table(ws, seat0.market) if seat0 else None, [played, token])
    # the market before round 1 (the same however many rounds are played or taken back)
    start = solara.use_memo(lambda: _opening(ws, seat0.market) if seat0 else None,
                            [id(ws), token, seat0.market if seat0 else None])
    with ws.lock:
        try:
            seat = ws.seat_of(token)
        except WorkshopError as e:  # the seat was given back (from another tab of this seat)
            _Error(_error_text(e))
            if on_lost is not None:
                solara.Button(tr("Join again", "重新加入"), on_click=on_lost, color="primary",
                              classes=["lsim-ws-rejoin"])
            return
        market, merchant = seat.market, seat.merchant
        rnd = ws.round_number
        accepting = ws.accepting()
        policy = ws.policy(market, merchant)
        live = ws.models[market].merchant(merchant).policy
        params = ws.models[market].params
        decided = (market, merchant) in ws.pending
        messages = list(reversed(ws.messages))
        events = list(ws.pending_events)
        n_markets = ws.n_markets
        closed = ws.closed
    with solara.Row(classes=["lsim-ws-header"], style={"align-items": "baseline", "flex-wrap": "wrap", "gap": "14px"}):
        solara.Text(seat.name, style={"font-size": "1.4em", "font-weight": "600"})
        solara.Text(tr(f"Merchant {merchant}", f"商家 {merchant}"), style={"font-size": "1.2em"})
        if n_markets > 1:
            solara.Text(tr(f"Market {market + 1}", f"市场 {market + 1}"))
        solara.Text(tr(f"Round {rnd}", f"第 {rnd} 轮"), classes=["lsim-ws-round"], style={"font-weight": "600"})
        _Clock(ws, version, lambda: set_expired(lambda n: n + 1))
    _Error(error)
    if messages:
        with solara.Column(classes=["lsim-ws-messages"], gap="2px"):
            for m in messages:
                solara.Info(m, dense=True, classes=["lsim-ws-message"])
    if events:
        with solara.Column(classes=["lsim-ws-events"], gap="2px"):
            for e in events:
                ev = MARKET_EVENTS.get(e)
                solara.Warning(ev.title(lng) if ev else e, dense=True)
    if not closed:
        _Decisions(ws, token, rnd, policy, live, params, accepting, decided, set_error)
    _Rounds(table, start, merchant, lng, played)
    _Customers(ws, market, merchant, table, lng, played)


@solara.component
def _Clock(ws: Workshop, version: int, on_expired):
    """The round's clock: the only part of the page re-rendered every second while it runs; the
    page is re-rendered once when it runs out (decisions lock). ``version``: the workshop's, so
    that it is drawn again when the facilitator starts or pauses it."""
    left = use_clock(ws)
    with ws.lock:
        text, accepting = clock_text(ws, left), ws.accepting()
    expired = left is not None and left <= 0
    solara.use_effect(lambda: on_expired() if expired else None, [expired])
    solara.Text(text, classes=["lsim-ws-clock"], style={"font-weight": "600", "color": "#2e7d32" if accepting else "#c62828"})


def _seat_or_none(ws: Workshop, token: str) -> Seat | None:
    try:
        return ws.seat_of(token)
    except WorkshopError:
        return None


def _round_table(ws: Workshop, market: int):
    with ws.lock:
        return ws.round_table(market)


def _opening(ws: Workshop, market: int):
    with ws.lock:
        return ws.opening(market)


@solara.component
def _Decisions(ws: Workshop, token: str, rnd: int, policy: dict, live, params, accepting: bool, decided: bool,
               set_error):
    lng = lang.value
    draft, set_draft = solara.use_state({})  # field → value chosen (validated), not yet submitted
    bad, set_bad = solara.use_state({})  # field → what was wrong with the text typed
    notice, set_notice = solara.use_state(("", ""))
    notice_round, set_notice_round = solara.use_state(0)
    draft_ref, bad_ref = solara.use_ref({}), solara.use_ref({})
    # the refs are what the handlers read and write (a render between two state updates of one
    # handler shows the state of before; the refs always hold the latest)

    def new_round():
        set_draft({})
        set_bad({})
        draft_ref.current, bad_ref.current = {}, {}
    solara.use_effect(new_round, [rnd])

    def commit(field: str, raw: Any):
        p = MERCHANT_PARAMS[field]
        try:
            v = p.validate(parse_value(p, raw), key=field)
        except ParamError as e:
            bad_ref.current = {**bad_ref.current, field: both(e.text("en"), e.text("zh"))}
            set_bad(bad_ref.current)
            return
        bad_ref.current = {k: t for k, t in bad_ref.current.items() if k != field}
        draft_ref.current = {**draft_ref.current, field: v}
        set_bad(bad_ref.current)
        set_draft(draft_ref.current)

    def submit():
        if bad_ref.current:
            field, text = next(iter(bad_ref.current.items()))
            set_error(text)
            return
        changed = {k: v for k, v in draft_ref.current.items() if not same_value(v, policy.get(k))}
        fields = changed or {k: policy[k] for k in DECISIONS}  # nothing changed: keep these (confirmed)
        try:
            ws.decide(token, fields)
        except ParamError as e:
            set_error(_error_text(e))
            return
        set_error(("", ""))
        names_en = ", ".join(MERCHANT_PARAMS[k].label("en") for k in changed) or "no change"
        names_zh = "、".join(MERCHANT_PARAMS[k].label("zh") for k in changed) or "没有改动"
        set_notice(both(f"Submitted for round {rnd}: {names_en}", f"已提交第 {rnd} 轮：{names_zh}"))
        set_notice_round(rnd)
        set_draft({})
        draft_ref.current = {}

    values = {k: draft.get(k, policy[k]) for k in DECISIONS}
    with solara.Card(tr(f"Decisions for round {rnd}", f"第 {rnd} 轮的决策"), classes=["lsim-ws-decisions"]):
        if not accepting:
            solara.Warning(tr("Decisions are locked for now.", "决策目前已锁定。"), dense=True)
        with solara.ColumnsResponsive(12, medium=[6, 6]):  # one column on a phone
            with solara.Column(gap="0px"):
                for k in DECISIONS:
                    _Field(k, values[k], lambda raw, k=k: commit(k, raw), bad.get(k), not accepting,
                           changed=not same_value(values[k], policy[k]))
            with solara.Column():
                _Cost(values, live, params, lng)
                solara.Button(tr("Submit decisions", "提交决策"), on_click=submit, color="primary",
                              disabled=not accepting, classes=["lsim-ws-submit"])
                if decided:
                    solara.Success(tr(f"Decided for round {rnd} ✓", f"第 {rnd} 轮已决策 ✓"), dense=True,
                                   classes=["lsim-ws-decided"])
                if shown(notice) and notice_round == rnd:  # what was said of an earlier round is over
                    solara.Text(shown(notice), classes=["lsim-ws-notice"], style={"color": "#455a64"})


@solara.component
def _Field(field: str, value: Any, commit, error, disabled: bool, changed: bool = False):
    """One decision: its label (help on hover), a slider and a box (numbers) or a list (the programme),
    its range or what was wrong with the text typed."""
    lng = lang.value
    p = MERCHANT_PARAMS[field]
    text, set_text = solara.use_state(format_value(p, value))
    solara.use_effect(lambda: set_text(format_value(p, value)), [value])
    with solara.Column(gap="0px", classes=["lsim-ws-field", f"lsim-ws-field-{field}"], style={"margin-bottom": "6px"}):
        with solara.Tooltip(p.help(lng)):
            solara.Text(p.label(lng) + (" •" if changed else ""), style={"font-weight": "500", "font-size": "0.92em"})
        if p.kind == "choice":
            controls.ChoiceControl(p, value, commit, shown(error) if error else "", disabled, lng)
        else:
            controls.NumberControl(p, value, text, set_text, commit, disabled)
        unit = p.unit_text(lng)
        if p.kind == "choice":
            hint = tr("one of: ", "可选：") + ("、" if lng == "zh" else ", ").join(choice_label(p, c, lng) for c in p.choices)
        else:
            hint = (p.range_text_zh() if lng == "zh" else p.range_text()) + ((f"（{unit}）" if lng == "zh" else f" ({unit})") if unit else "")
        if error:
            solara.Text(shown(error), classes=["lsim-ws-field-error"], style={"color": "#c62828", "font-size": "0.82em"})
        else:
            solara.Text(hint, style={"color": "#546e7a", "font-size": "0.78em"})


def _money(x: float) -> str:
    return f"{x:,.3f}"


@solara.component
def _Cost(values: dict, live, params, lng: str):
    c = cost_preview(values, live, params)
    rows = [
        (tr("Customer pays per purchase", "顾客每次购买支付"), _money(c.price_paid), ""),
        (tr("Serving one purchase costs", "每次服务成本"), _money(c.serve_cost),
         tr("unit cost + cost of quality × quality", "单位成本 + 质量成本 × 质量")),
        (tr("Margin per purchase", "每次购买的毛利"), _money(c.margin) + (
            f" ({c.margin_share:.0%})" if c.price_paid else ""), "margin"),
        (tr("Purchases per customer per week", "每位顾客每周购买次数"), f"{c.purchases:.2f}", ""),
        (tr("Serving, per customer per week", "服务成本（每位顾客每周）"), _money(c.serve_week), ""),
        (tr("Loyalty programme, per customer per week", "忠诚计划（每位顾客每周）"), _money(c.programme_week), ""),
        (tr("Compensation (expected), per customer per week", "补偿（预计，每位顾客每周）"), _money(c.compensation_week), ""),
        (tr("Cost per customer per week", "每位顾客每周成本"), _money(c.cost_week), "week"),
        (tr("Profit per customer per week", "每位顾客每周利润"), _money(c.profit_week), ""),
        (tr("Winning one new customer", "赢得一位新顾客"), _money(c.acquisition), ""),
    ]
    body = []
    for label, val, tag in rows:
        cls = {"margin": " class='lsim-ws-cost-margin'", "week": " class='lsim-ws-cost-week'"}.get(tag, "")
        body.append(f"<tr><td>{html.escape(label)}</td><td{cls} style='text-align:right;font-weight:500'>"
                    f"{html.escape(val)}</td></tr>")
    title = tr("What these decisions cost (before you submit)", "这些决策的成本（提交前）")
    note = tr("Expected values: purchases and complaints vary customer by customer.",
              "预计值：购买和投诉因顾客而异。")
    solara.HTML(tag="div", classes=["lsim-ws-cost"], unsafe_innerHTML=(
        f"<div style='font-weight:600;margin-bottom:4px'>{html.escape(title)}</div>"
        f"<table style='border-collapse:collapse;font-size:0.9em'>{''.join(body)}</table>"
        f"<div style='color:#546e7a;font-size:0.8em'>{html.escape(note)}</div>"))


def _table_html(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th style='padding:2px 8px;text-align:right'>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td style='padding:2px 8px;text-align:right'>{html.escape(c)}</td>" for c in r)
                  + "</tr>" for r in rows)
    return f"<table style='border-collapse:collapse;font-size:0.9em'><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


@solara.component
def _Rounds(table, start, merchant: str, lng: str, played: tuple):
    zh = lng == "zh"
    own = own_rounds(table, merchant)
    first = own_rounds(start, merchant) if start is not None else None
    svg = solara.use_memo(lambda: "" if own.empty else own_svg(own, lng), [played, lng])
    with solara.Card(tr("Your results per round", "你每轮的结果")):
        if own.empty:
            solara.Text(tr("No round has been played yet.", "还没有进行过任何一轮。"), classes=["lsim-ws-kpis"])
        else:
            head = [tr("Round", "轮次")] + [zh_ if zh else en for _, en, zh_, _ in KPI_COLUMNS]
            rows = kpi_rows(own, first.iloc[0].to_dict() if first is not None and not first.empty else None, lng)
            solara.HTML(tag="div", classes=["lsim-ws-kpis"], unsafe_innerHTML=_table_html(head, rows),
                        style="overflow-x: auto")
            solara.HTML(tag="div", classes=["lsim-ws-figure"], unsafe_innerHTML=svg)
    at, rivals = rivals_table(table, merchant)
    with solara.Card(tr("Market research: your rivals", "市场调研：你的竞争对手")):
        if not at:
            solara.Text(tr("Market research arrives one round late: after round 2 you see your rivals as of round 1.",
                           "市场调研晚一轮送达：第 2 轮结束后，你会看到竞争对手在第 1 轮的情况。"),
                        classes=["lsim-ws-rivals"])
        else:
            solara.Text(tr(f"As of round {at}", f"截至第 {at} 轮"), style={"color": "#546e7a"})
            head = [tr("Merchant", "商家")] + [zh_ if zh else en for _, en, zh_, _ in RIVAL_COLUMNS]
            rows = [[str(r["merchant"])] + rival_cells(r) for r in rivals.to_dict("records")]
            solara.HTML(tag="div", classes=["lsim-ws-rivals"], unsafe_innerHTML=_table_html(head, rows),
                        style="overflow-x: auto")


def _stories(ws: Workshop, market: int, merchant: str) -> list:
    with ws.lock:
        return ws.stories(market, merchant) if ws.rounds else []


@solara.component
def _Customers(ws: Workshop, market: int, merchant: str, table, lng: str, played: tuple):
    """The last round's Cycle A / Cycle B flows of the seat's own customers, the customers it lost
    per round by reason, and a few of its customers' stories (drawn once per round)."""
    zh = lng == "zh"
    own = own_rounds(table, merchant)
    stories = solara.use_memo(lambda: _stories(ws, market, merchant), [played, market, merchant])
    if own.empty:
        return
    last = own.iloc[-1].to_dict()
    rnd = int(last["round"])
    with solara.Card(tr(f"Your customers in round {rnd}", f"第 {rnd} 轮你的客户")):
        solara.Text(tr("Cycle A: buy, be satisfied, buy again. Cycle B: fall short, complain, get an answer.",
                       "甲循环：购买、满意、再购买。乙循环：未达预期、投诉、得到答复。"),
                    style={"color": "#546e7a", "font-size": "0.88em"})
        solara.HTML(tag="div", classes=["lsim-ws-flows"], unsafe_innerHTML=flows_html(flows(last), lng))
        head, rows = lost_table(own, lng)
        if len(head) > 1:
            with solara.Details(tr("Customers lost per round, by reason", "每轮流失的客户（按原因）"), expand=False):
                solara.HTML(tag="div", classes=["lsim-ws-lost-table"], unsafe_innerHTML=_table_html(head, rows),
                            style="overflow-x: auto")
    with solara.Card(tr("Some of your customers", "你的几位客户")):
        if not stories:
            solara.Text(tr("No customer to tell about yet.", "暂时没有可以讲述的客户。"), classes=["lsim-ws-stories"])
            return
        with solara.Column(classes=["lsim-ws-stories"], gap="4px"):
            for kind, story in stories:
                with solara.Details(kind_title(kind, int(story["id"]), lng), expand=False):
                    solara.HTML(tag="div", classes=["lsim-ws-story", f"lsim-ws-story-{kind}"], unsafe_innerHTML="".join(
                        f"<div style='font-size:0.88em;margin:1px 0'>{html.escape(t)}</div>"
                        for t in story_lines(story, "zh" if zh else "en")))

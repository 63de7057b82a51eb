"""The facilitator's page of a live classroom market (``/workshop``), and the pieces it shares with
the projector's view (:mod:`sim.ui.workshop_screen`): the room code with its join link and QR code,
the round and its clock, the leaderboards, the debrief charts and the "what happened" lines.

Without a workshop the page is a form to create one: a named scenario of at most six merchants
(listed by title), a seed, the number of parallel markets, weeks per round and customers per market
(at most this server's limit, :func:`sim.ui.keep.max_customers`). Creating one writes its code and
the facilitator's key into the page's address (``/workshop?code=XXXXX&key=…``): a reload keeps the
facilitator in, and the same address opened on another device lets them in; a wrong key shows a
message and no controls. With a workshop the page shows the room code, the join link and its QR code
(made on the server with ``segno``) at the address participants' devices reach (:func:`room_origin`:
the address the page was opened at; opened at ``localhost``, ``127.x`` or ``::1``, which a phone
cannot open, this computer's network address with a note saying so and that the app must listen on
the network, ``--host 0.0.0.0``; no link, and a note saying why, when there is no such address or
the app answers this computer only), the projector's link, the roster of every market (who plays each merchant,
connected or not, decided this round or not), the round's controls (timer, pause, go on, play the
round, undo, market events, messages, the scorecard's weights, export, close), the leaderboards, the
debrief charts (:mod:`sim.ui.workshop_charts`), the "what happened" lines
(:mod:`sim.workshop.debrief`) and the decisions of the last round. Another browser's action shows
without a reload (:func:`sim.ui.workshop_common.use_changes`).

Stable CSS classes (for browser tests)
--------------------------------------
=====================================  ==========================================================
``lsim-ws-host``                       the page
``lsim-ws-create``                     the create form: ``lsim-ws-scenario`` (select),
                                       ``lsim-ws-seed``, ``lsim-ws-markets``, ``lsim-ws-merchants``, ``lsim-ws-weeks``,
                                       ``lsim-ws-customers`` (text boxes), ``lsim-ws-create-button``;
                                       a bad value: ``lsim-ws-error lsim-ws-error-FIELD`` under it
                                       (FIELD: scenario, seed, markets, merchants, round_weeks, customers)
``lsim-ws-denied``                     the message of a wrong code or key (no controls);
                                       ``lsim-ws-new`` "create a new workshop" under it
``lsim-ws-code``                       the room code (text)
``lsim-ws-join-link``                  the join link (an <a>); ``lsim-ws-qr`` its QR code (<svg>)
``lsim-ws-address-note``               why the join link is not the page's own address, or why there
                                       is none: ``lsim-ws-address-lan`` (this computer's network
                                       address), ``lsim-ws-address-no_lan`` (none found),
                                       ``lsim-ws-address-local_only`` (the app answers this computer only)
``lsim-ws-screen-link``                the projector's link; ``lsim-ws-host-link`` the facilitator's
``lsim-ws-round`` / ``lsim-ws-clock``  "Round N" / the clock
``lsim-ws-timer-seconds``              seconds (text box); ``lsim-ws-timer-start`` start the timer
``lsim-ws-pause`` / ``lsim-ws-go-on``  pause / go on
``lsim-ws-advance``                    play the open round (``lsim-ws-busy`` while it runs, at least
                                       PLAY_AT_LEAST seconds: clicks then are ignored)
``lsim-ws-undo``                       undo the last round; ``lsim-ws-confirm-yes`` /
                                       ``lsim-ws-confirm-no`` confirm or not (undo, close)
``lsim-ws-event`` / ``lsim-ws-inject`` the market event (select) / inject it;
                                       ``lsim-ws-pending-events`` the events of the open round
``lsim-ws-message-text``               the message (text box); ``lsim-ws-message-send`` send it;
                                       ``lsim-ws-messages`` the messages sent (each
                                       ``lsim-ws-message``, newest first)
``lsim-ws-weight-KEY``                 scorecard weights (profit, loyalty, satisfaction);
                                       ``lsim-ws-weights-apply``
``lsim-ws-export``                     download every table of the workshop (zip of CSVs)
``lsim-ws-close``                      close the workshop (then confirm)
``lsim-ws-notice``                     the result of the last action; errors ``lsim-ws-error``
``lsim-ws-market-N``                   market N (1, 2 …): ``lsim-ws-roster`` with rows
                                       ``lsim-ws-seat lsim-ws-seat-MERCHANT`` (a participant's
                                       with ``lsim-ws-free-seat``: take the seat back);
                                       ``lsim-ws-board``
                                       the leaderboard with rows ``lsim-ws-board-row``
                                       (``lsim-ws-board-empty`` before the first round);
                                       ``lsim-ws-chart`` the debrief charts (SVG panels, each
                                       line ``lsim-svg-line``; ``lsim-ws-chart-empty`` before
                                       the first round);
                                       ``lsim-ws-lines-title`` their heading (below the charts);
                                       ``lsim-ws-lines`` the "what happened" lines, each
                                       ``lsim-ws-line lsim-ws-line-KIND`` (event, decision, lost,
                                       loyal, profit); ``lsim-ws-decisions`` the last round's
                                       decisions, each ``lsim-ws-decision``
=====================================  ==========================================================
"""

from __future__ import annotations

import html
import io
import ipaddress
import os
import socket
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import reacton.ipyvuetify as rv
import segno
import solara

from ..analysis.formatting import number_text, percent_text, value_text
from ..inputs.scenario import load_scenario, scenario_names
from ..params import MERCHANT_PARAMS, PARAMS, ParamError
from ..workshop.debrief import what_happened
from ..workshop.decisions import DECISIONS, MARKET_EVENTS
from ..workshop.room import DEFAULT_ROUND_WEEKS, MAX_MERCHANTS, SCORE_WEIGHTS, Seat, Workshop
from . import keep
from .i18n import both, lang, shown, tr
from .workshop_charts import rounds_svg
from .workshop_common import clock_text, query, registry, use_changes, use_clock

__all__ = ["WorkshopHost", "workshop_scenarios", "join_url", "screen_url", "qr_svg", "lan_address", "is_loopback",
           "room_origin", "JoinPanel", "RoundStatus",
           "Leaderboard", "RoundCharts", "WhatHappened", "Messages", "PageUrl", "use_origin", "query", "zip_export"]

#: the workshop (code, facilitator key) this browser session steers: back on /workshop from the top bar
held = solara.reactive(("", ""))
#: how often (seconds) the roster looks at who is connected
ROSTER_POLL = 2.0
#: seconds the "Play round" button stays busy at least after a click (longer than a double click)
PLAY_AT_LEAST = 1.0
#: the origin the join link is built from until the page has said where it was opened
FALLBACK_ORIGIN = "http://localhost:8765"


# ---- shared with the projector's view ------------------------------------------------------------
def workshop_scenarios() -> list[str]:
    """The named scenarios a workshop can be made from (at most :data:`MAX_MERCHANTS` merchants)."""
    return [n for n in scenario_names() if len(load_scenario(n).params.merchants) <= MAX_MERCHANTS]


def join_url(origin: str, code: str) -> str:
    return f"{origin.rstrip('/')}/join?code={quote(code)}"


def screen_url(origin: str, code: str) -> str:
    return f"{origin.rstrip('/')}/screen?code={quote(code)}"


def qr_svg(url: str, scale: int = 6) -> str:
    """The QR code of ``url`` as inline SVG, made here (no service asked)."""
    return segno.make(url, error="m").svg_inline(scale=scale, dark="#000", light="#fff")


#: private addresses a UDP socket is "connected" to, to learn which address of this computer faces its
#: network (connecting a UDP socket sends nothing: it only picks the route)
_PROBES = ("10.254.254.254", "192.168.254.254", "172.31.254.254")


def is_loopback(origin_or_host: str) -> bool:
    """Whether an origin (``http://localhost:8765``) or a host name names this computer only:
    ``localhost``, ``127.x.x.x`` or ``::1``."""
    text = str(origin_or_host or "").strip()
    host = urlsplit(text).hostname if "://" in text else text.strip("[]")
    host = (host or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reachable(ip: str) -> bool:
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return not (a.is_loopback or a.is_unspecified or a.is_link_local or a.is_multicast)


def lan_address() -> str | None:
    """This computer's IPv4 address on its network (e.g. ``192.168.1.20``), found without the
    internet and without sending anything: the address a UDP socket connected to a private address
    would send from, else an address of this computer's name; None when it has none other devices
    could reach (no network, only loopback or link-local addresses)."""
    for probe in _PROBES:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                ip = s.getsockname()[0]
        except OSError:
            continue
        if _reachable(ip):
            return ip
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except (OSError, UnicodeError):
        infos = []
    for *_, addr in infos:
        if _reachable(addr[0]):
            return addr[0]
    return None


def serves_this_computer_only() -> bool | None:
    """Whether this server answers this computer only (started without ``--host 0.0.0.0``):
    ``solara run`` puts the address it listens on in ``SERVER_NAME``; None when that is unknown."""
    host = os.environ.get("SERVER_NAME")
    return is_loopback(host) if host else None


def room_origin(origin: str) -> tuple[str | None, str]:
    """Where participants' devices reach this app: ``(origin, how)``.

    A page opened at an address of the network keeps it (``how`` ``"opened"``). A page opened at
    ``localhost``/``127.x``/``::1`` names this computer only, which a participant's phone cannot
    open: the same scheme and port at this computer's network address (``"lan"``, see
    :func:`lan_address`); ``(None, "no_lan")`` when it has none; ``(None, "local_only")`` when the
    server answers this computer only (:func:`serves_this_computer_only`), whatever its address."""
    if not is_loopback(origin):
        return origin, "opened"
    if serves_this_computer_only():
        return None, "local_only"
    ip = lan_address()
    if ip is None:
        return None, "no_lan"
    parts = urlsplit(origin)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or 'http'}://{ip}{port}", "lan"


def _header_origin() -> str:
    """The origin the browser asked for (its Host header), before the page says it itself."""
    try:
        headers = solara.lab.headers.value or {}
    except Exception:  # noqa: BLE001 - outside a server (component tests)
        headers = {}
    host = headers.get("host") or headers.get("Host")
    if isinstance(host, (list, tuple)):
        host = host[0] if host else None
    return f"http://{host}" if host else FALLBACK_ORIGIN


@solara.component_vue("workshop_url.vue")
def _WorkshopUrl(values: dict, event_origin: Callable[[str], None]):
    pass


@solara.component
def PageUrl(values: dict, on_origin: Callable[[str], None]):
    """Writes ``values`` into the page's address and tells ``on_origin`` where the page was opened."""
    _WorkshopUrl(values=values, event_origin=on_origin)


def use_origin() -> tuple[str, Callable[[str], None]]:
    origin, set_origin = solara.use_state(_header_origin())
    return origin, set_origin


def _address_note(how: str, origin: str, room: str | None) -> str:
    """What the facilitator must know about the join address (empty when the page's own address
    is the room's)."""
    opened = urlsplit(origin).hostname or origin
    port = urlsplit(origin).port or 8765
    start = (f"uv run solara run app.py --host 0.0.0.0 --port {port} --production --no-check-version")
    if how == "lan":
        ip = urlsplit(room).hostname
        return tr(f"This page was opened at {opened}, an address of this computer only: participants' phones "
                  f"and laptops cannot open it. They need this computer's network address, {ip}: the join link "
                  f"and QR code use it. It works only if the app was started with --host 0.0.0.0 ({start}); "
                  f"try the link on your own phone first. If {ip} is not this computer's address on the room's "
                  f"network, open this page at the right address instead (http://<address>:{port}/workshop).",
                  f"本页面是在 {opened} 打开的，这个地址只有本机能用：参与者的手机和电脑打不开。他们需要本机的网络"
                  f"地址 {ip}：加入链接和二维码用的就是它。只有在应用以 --host 0.0.0.0 启动时才能访问（{start}）；"
                  f"请先用自己的手机试一下链接。如果 {ip} 不是本机在教室网络中的地址，请改用正确的地址打开本页面"
                  f"（http://<地址>:{port}/workshop）。")
    if how == "no_lan":
        return tr(f"No join link: this page was opened at {opened}, an address of this computer only, and this "
                  "computer has no network address that participants' phones and laptops could reach. Connect it "
                  "to the room's network (Wi-Fi), make sure the app was started with --host 0.0.0.0 "
                  f"({start}), then reload this page: the join link and QR code will show this computer's "
                  "network address.",
                  f"没有加入链接：本页面是在 {opened} 打开的，这个地址只有本机能用，而本机没有参与者的手机和电脑能"
                  f"访问的网络地址。请把本机连接到教室的网络（Wi-Fi），确认应用以 --host 0.0.0.0 启动（{start}），"
                  "然后重新加载本页面：加入链接和二维码将使用本机的网络地址。")
    if how == "local_only":
        return tr("No join link: this app answers this computer only (it was started without --host 0.0.0.0), so "
                  "participants' phones and laptops cannot reach it at any address. Stop it and start it again "
                  f"with: {start} — the workshop continues where it was — then reload this page: the join link "
                  "and QR code will show this computer's network address.",
                  "没有加入链接：本应用只响应本机（启动时没有加 --host 0.0.0.0），参与者的手机和电脑无论用什么地址"
                  f"都无法访问。请停止应用并用以下命令重新启动：{start}（工作坊会从原处继续），然后重新加载本页面："
                  "加入链接和二维码将使用本机的网络地址。")
    return ""


@solara.component
def JoinPanel(ws: Workshop, origin: str, big: bool = False, host_link: str = "", version: int = 0):
    """The room code, the join link and its QR code (at the address participants' devices reach:
    :func:`room_origin`, with a note when that is not the address the page was opened at), and the
    projector's link."""
    room, how = solara.use_memo(lambda: room_origin(origin), [origin])
    url = join_url(room, ws.code) if room else ""
    svg = solara.use_memo(lambda: qr_svg(url, scale=10 if big else 5) if url else "", [url, big])
    size = "5rem" if big else "3rem"
    note = _address_note(how, origin, room)
    if note:
        (solara.Warning if url else solara.Error)(
            note, classes=["lsim-ws-address-note", f"lsim-ws-address-{how}"],
            style_=f"font-size: {'1.2rem' if big else '0.95rem'}; max-width: 1100px")
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "24px"}, classes=["lsim-ws-join"]):
        if svg:
            solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["lsim-ws-qr"])
        with solara.Column(gap="4px"):
            solara.Text(tr("Room code", "房间代码"), style={"font-size": "1.6rem" if big else "1rem"})
            solara.Text(ws.code, classes=["lsim-ws-code"],
                        style={"font-size": size, "font-weight": "bold", "letter-spacing": "0.15em",
                               "font-family": "monospace"})
            if url:
                with solara.Row(gap="6px", style={"align-items": "baseline", "font-size": "1.6rem" if big else "1rem",
                                                  "flex-wrap": "wrap"}):
                    solara.Text(tr("Join at", "加入地址"), style={"white-space": "nowrap"})
                    # a long address wraps inside a narrow screen instead of running off its edge
                    solara.HTML(tag="a", unsafe_innerHTML=html.escape(url), attributes={"href": url, "target": "_blank"},
                                classes=["lsim-ws-join-link"], style={"overflow-wrap": "anywhere", "min-width": "0"})
            if not big:
                s_url = screen_url(origin, ws.code)
                with solara.Row(gap="6px", style={"align-items": "baseline"}):
                    solara.Text(tr("Projector", "投影"))
                    solara.HTML(tag="a", unsafe_innerHTML=html.escape(s_url), attributes={"href": s_url, "target": "_blank"},
                                classes=["lsim-ws-screen-link"])
            if host_link:  # folded: a facilitator who mirrors this screen on the projector does not show the key
                with solara.Details(tr("Facilitator's link (keep it private; opens these controls on another device)",
                                       "主持人链接（请勿公开；可在另一台设备上打开这些控制）"), expand=False):
                    solara.HTML(tag="a", unsafe_innerHTML=html.escape(host_link), attributes={"href": host_link},
                                classes=["lsim-ws-host-link"])


@solara.component
def RoundStatus(ws: Workshop, big: bool = False, version: int = 0):
    """The open round's number and its clock."""
    left = use_clock(ws)
    with solara.Row(style={"align-items": "baseline", "gap": "24px", "flex-wrap": "wrap"}):
        played = len(ws.rounds)
        text = (tr(f"Round {ws.round_number}", f"第 {ws.round_number} 轮") if not ws.closed
                else tr(f"{played} rounds played", f"共进行了 {played} 轮"))
        solara.Text(text, classes=["lsim-ws-round"],
                    style={"font-size": "3rem" if big else "1.5rem", "font-weight": "bold"})
        solara.Text(clock_text(ws, left), classes=["lsim-ws-clock"], style={"font-size": "2.4rem" if big else "1.2rem"})


@solara.component
def Messages(ws: Workshop, big: bool = False, most: int = 3, version: int = 0):
    if not ws.messages:
        return
    with solara.Column(gap="2px", classes=["lsim-ws-messages"]):
        for text in ws.messages[-most:][::-1]:
            solara.Text(tr("Message: ", "消息：") + text, classes=["lsim-ws-message"], style={"font-size": "2rem" if big else "1rem"})


def _cell(tag: str, text: str, style: str = "") -> Any:
    return solara.v.Html(tag=tag, children=[text], style_=f"padding: 2px 10px; {style}")


@solara.component
def Leaderboard(ws: Workshop, market: int, big: bool = False, version: int = 0):
    """The market's balanced scorecard, best first (once a round has been played)."""
    if not ws.rounds:
        solara.Text(tr("The leaderboard appears after the first round.", "排行榜在第一轮之后出现。"),
                    classes=["lsim-ws-board-empty"], style={"color": "#616161", "font-size": "1.5rem" if big else "0.95rem"})
        return
    with ws.lock:
        board = ws.scorecard(market)
    font = "1.7rem" if big else "0.95rem"
    head = [tr("#", "名次"), tr("Merchant", "商家"), tr("Player", "玩家"), tr("Score (0–100)", "得分（0–100）"),
            tr("Cumulative profit", "累计利润"), tr("Loyal share", "忠诚客户占比"), tr("Satisfaction", "满意度")]
    rows = [solara.v.Html(tag="tr", children=[_cell("th", h, "text-align: left") for h in head])]
    for i, r in enumerate(board.itertuples(index=False), start=1):
        rows.append(solara.v.Html(tag="tr", class_="lsim-ws-board-row", children=[
            _cell("td", str(i)), _cell("td", str(r.merchant), "font-weight: bold"),
            _cell("td", r.player or tr("bot", "机器人")), _cell("td", f"{100 * r.score:.0f}"),
            _cell("td", number_text(round(float(r.cumulative_profit), 1))), _cell("td", percent_text(r.loyal_share, 1)),
            _cell("td", f"{float(r.satisfaction):.2f}")]))
    solara.v.Html(tag="table", class_="lsim-ws-board", children=rows,
                  style_=f"border-collapse: collapse; font-size: {font}")


@solara.component
def RoundCharts(ws: Workshop, market: int, big: bool = False, version: int = 0):
    """The market's debrief charts (redrawn when a round is played or undone, or the language changes)."""
    lng = lang.value
    signature = tuple(id(r) for r in ws.rounds)

    def build():
        with ws.lock:
            table = ws.round_table(market)
            names = list(ws.merchant_names)
        return rounds_svg(table, lng, merchants=names, big=big)

    svg = solara.use_memo(lambda: build() if signature else "", [signature, lng, big, market, id(ws)])
    if not svg:
        solara.Text(tr("The charts appear after the first round.", "图表在第一轮之后出现。"),
                    classes=["lsim-ws-chart-empty"], style={"color": "#616161", "font-size": "1.5rem" if big else "0.95rem"})
        return
    solara.HTML(tag="div", classes=["lsim-ws-chart"], unsafe_innerHTML=svg,
                style=f"max-width: {'1800px' if big else '1360px'}")


@solara.component
def WhatHappened(ws: Workshop, market: int, big: bool = False, rounds: int = 0, version: int = 0):
    """The "what happened" lines of the market, newest round first (``rounds``: only the last ones)."""
    signature = tuple(id(r) for r in ws.rounds)
    lines = solara.use_memo(lambda: what_happened(ws, market), [signature, market, id(ws)])
    if rounds:
        lines = [ln for ln in lines if ln.round > len(ws.rounds) - rounds]
    with solara.Column(gap="2px", classes=["lsim-ws-lines"]):
        if not lines:
            solara.Text(tr("Nothing yet: play a round.", "暂无：请先进行一轮。"), style={"color": "#616161"})
        for ln in sorted(lines, key=lambda ln: -ln.round):
            solara.Text(ln.text(lang.value), classes=["lsim-ws-line", f"lsim-ws-line-{ln.kind}"],
                        style={"font-size": "1.5rem" if big else "0.95rem"})


def zip_export(ws: Workshop) -> bytes:
    """Every table of the workshop (:meth:`Workshop.export`) as one zip."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = ws.export(Path(tmp))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in paths:
                z.write(p, arcname=f"workshop_{ws.code}/{p.name}")
    return buf.getvalue()


# ---- the facilitator's page ----------------------------------------------------------------------
def _error(errors: dict, field: str):
    if errors.get(field):
        solara.Text(shown(errors[field]), classes=["lsim-ws-error", f"lsim-ws-error-{field}"],
                    style={"color": "#c62828", "font-size": "0.9rem"})


def _whole_or_text(text: str) -> Any:
    t = str(text or "").strip().replace(",", "").replace("_", "")
    try:
        return int(t)
    except ValueError:
        return text


@solara.component
def CreateForm(on_created: Callable[[Workshop, str], None]):
    names = solara.use_memo(workshop_scenarios, [])
    scenario, set_scenario = solara.use_state("baseline" if "baseline" in names else names[0])
    seed, set_seed = solara.use_state("1")
    markets, set_markets = solara.use_state("1")
    n_sc = len(load_scenario(scenario).params.merchants)
    merchants, set_merchants = solara.use_state("")
    weeks, set_weeks = solara.use_state(str(DEFAULT_ROUND_WEEKS))
    default_customers = min(int(load_scenario(scenario).params.n_customers), keep.max_customers())
    customers, set_customers = solara.use_state("")
    errors, set_errors = solara.use_state({})
    lng = lang.value

    def create():
        most = keep.max_customers()
        n = _whole_or_text(customers) if str(customers).strip() else default_customers
        if isinstance(n, int) and n > most:
            label_en, label_zh = PARAMS["n_customers"].label("en"), PARAMS["n_customers"].label("zh")
            set_errors({"customers": both(f"{label_en}: at most {most:,} on this server (the limit per market, "
                                          "set by the trainer: LSIM_MAX_CUSTOMERS)",
                                          f"{label_zh}：本服务器最多 {most:,}（每个市场的上限，由培训者通过 "
                                          "LSIM_MAX_CUSTOMERS 设置）")})
            return
        m = _whole_or_text(markets)
        if isinstance(n, int) and isinstance(m, int) and m * n > keep.KEPT_CUSTOMERS_FACTOR * most:
            total = keep.KEPT_CUSTOMERS_FACTOR * most
            set_errors({"customers": both(f"{m} markets × {n:,} customers is more than this server allows for one "
                                          f"workshop ({total:,} customers in all; LSIM_MAX_CUSTOMERS × "
                                          f"{keep.KEPT_CUSTOMERS_FACTOR})",
                                          f"{m} 个市场 × {n:,} 名客户超出了本服务器对一个工作坊的上限（合计 {total:,} 名客户；"
                                          f"LSIM_MAX_CUSTOMERS × {keep.KEPT_CUSTOMERS_FACTOR}）")})
            return
        try:
            ws, key = registry().create(scenario, _whole_or_text(seed), markets=_whole_or_text(markets),
                                        round_weeks=_whole_or_text(weeks), customers=n,
                                        merchants=_whole_or_text(merchants) if str(merchants).strip() else None)
        except ParamError as e:
            field = {"n_customers": "customers"}.get(e.key, e.key)
            if field not in ("scenario", "seed", "markets", "merchants", "round_weeks", "customers"):
                field = "form"
            set_errors({field: both(e.text("en"), e.text("zh"))})
            return
        set_errors({})
        on_created(ws, key)

    items = [{"text": load_scenario(n).text("title", lng), "value": n} for n in names]
    with solara.Card(tr("Create a workshop", "创建工作坊"), classes=["lsim-ws-create"], style={"max-width": "640px"}):
        solara.Text(tr("Participants join with the room code and play the merchants of a market; a market "
                           f"holds at most {MAX_MERCHANTS} merchants, so larger groups play parallel markets of the "
                           "same scenario and seed. Empty seats are played by bots.",
                           f"参与者用房间代码加入，各自经营市场中的一个商家；每个市场最多 {MAX_MERCHANTS} 个商家，"
                           "人数更多时可开设多个平行市场（同一情景、同一随机种子）。空席位由机器人经营。"))
        rv.Select(label=tr("Scenario", "情景"), items=items, v_model=scenario, on_v_model=set_scenario,
                  class_="lsim-ws-scenario")
        _error(errors, "scenario")
        fields = (("seed", tr("Seed", "随机种子"), seed, set_seed, "lsim-ws-seed",
                   tr("a whole number: the same seed gives every market the same start",
                      "整数：相同的种子让每个市场有相同的起点")),
                  ("markets", tr("Parallel markets (1–10)", "平行市场数（1–10）"), markets, set_markets,
                   "lsim-ws-markets", tr(f"one per group of up to {MAX_MERCHANTS} participants",
                                         f"每组最多 {MAX_MERCHANTS} 名参与者一个市场")),
                  ("merchants", tr(f"Merchants per market (2–{MAX_MERCHANTS})", f"每个市场的商家数（2–{MAX_MERCHANTS}）"),
                   merchants, set_merchants, "lsim-ws-merchants",
                   tr(f"empty: the scenario's {n_sc}; more are copies of its merchants (D starts as A)",
                      f"留空：采用情景的 {n_sc} 个；更多的商家是情景商家的副本（D 的起点同 A）")),
                  ("round_weeks", tr("Weeks per round (1–52)", "每轮周数（1–52）"), weeks, set_weeks,
                   "lsim-ws-weeks", tr("13 weeks: a quarter", "13 周：一个季度")),
                  ("customers", tr(f"Customers per market (at most {keep.max_customers():,})",
                                   f"每个市场的客户数（最多 {keep.max_customers():,}）"), customers, set_customers,
                   "lsim-ws-customers", tr(f"empty: the scenario's {default_customers:,}",
                                           f"留空：采用情景的 {default_customers:,}")))
        for field, label, value, setter, css, hint in fields:
            solara.InputText(label, value=value, on_value=setter, continuous_update=True, classes=[css],
                             message=hint, error=bool(errors.get(field)))
            _error(errors, field)
        _error(errors, "form")
        solara.Button(tr("Create workshop", "创建工作坊"), on_click=create, color="primary",
                      classes=["lsim-ws-create-button"], style={"margin-top": "12px"})


@solara.component
def WorkshopHost():
    solara.Title(tr("Workshop — loyalty-sim", "工作坊 — loyalty-sim"))
    router = solara.use_router()
    q = query(router.search)
    start = (q.get("code", ""), q.get("key", "")) if q.get("code") else held.value
    code, set_code = solara.use_state(start[0])
    key, set_key = solara.use_state(start[1])
    origin, set_origin = use_origin()

    def forget():
        held.set(("", ""))
        set_code("")
        set_key("")

    def created(ws: Workshop, k: str):
        set_key(k)
        set_code(ws.code)

    with solara.Column(classes=["lsim-ws-host"], style={"padding": "12px", "gap": "12px"}):
        PageUrl(values={"code": code, "key": key}, on_origin=set_origin)
        solara.HTML(tag="h2", unsafe_innerHTML=tr("Workshop: a live classroom market", "工作坊：课堂实时市场"))
        if not code:
            CreateForm(on_created=created)
            return
        ws, denied = None, None
        try:
            ws = registry().get(code)
            ws.check_key(key)
        except ParamError as e:
            denied = e.text(lang.value)
            if e.key == "key":
                denied += tr(f" — the projector's view needs no key: /screen?code={code}",
                             f" — 投影视图不需要密钥：/screen?code={code}")
        if denied:
            solara.Error(denied, classes=["lsim-ws-denied"])
            solara.Button(tr("Create a new workshop", "创建新的工作坊"), text=True,
                          on_click=forget, classes=["lsim-ws-new"])
            return
        Dashboard(ws, key, origin)


def use_typed(initial: str):
    """A control's value as state, its setter, and a reader of the latest value set: a button's
    handler made in an earlier render (another page's event can re-render this one between a key
    press and a click) would otherwise act on what the box held then."""
    value, set_value = solara.use_state(initial)
    latest = solara.use_ref(initial)

    def set_(v):
        latest.current = v
        set_value(v)

    return value, set_, lambda: latest.current


@solara.component
def Dashboard(ws: Workshop, key: str, origin: str):
    version = use_changes(ws)
    solara.use_effect(lambda: held.set((ws.code, key)), [ws.code, key])  # the key checked: kept for this browser
    errors, set_errors = solara.use_state({})
    notice, set_notice = solara.use_state(None)
    confirm, set_confirm = solara.use_state("")
    seconds, set_seconds, typed_seconds = use_typed("120")
    event, set_event, chosen_event = use_typed(next(iter(MARKET_EVENTS)))
    text, set_text, typed_text = use_typed("")
    weights, set_weights = solara.use_state({k: value_text(round(v, 3)) for k, v in ws.weights.items()})
    # the three boxes' texts as typed, whatever render they were typed in (a closure's ``weights`` may
    # be one render old when two boxes change before the page is drawn again)
    typed_weights = solara.use_ref(dict(weights))

    def type_weight(k: str, v: str) -> None:
        typed_weights.current = {**typed_weights.current, k: v}
        set_weights(dict(typed_weights.current))
    # "play round N": the round asked for and a serial number (a new request each time); ``playing``
    # is set by the click itself, before any render, so a second click of the same gesture (a double
    # click, a click before the page has caught up) is ignored while the round plays
    run, set_run = solara.use_state((0, 0))
    serial = solara.use_ref(0)
    playing = solara.use_ref(False)
    played_here = solara.use_ref(0)
    lng = lang.value

    def act(field: str, fn: Callable[[], Any], done: tuple[str, str] | None = None) -> bool:
        try:
            fn()
        except ParamError as e:
            set_errors({field: both(e.text("en"), e.text("zh"))})
            set_notice(None)
            return False
        set_errors({})
        set_notice(done)
        return True

    def free_seat(seat: Seat):
        name, where = seat.name, f"{seat.merchant}" + (f" (market {seat.market + 1})" if ws.n_markets > 1 else "")
        where_zh = f"{seat.merchant}" + (f"（市场 {seat.market + 1}）" if ws.n_markets > 1 else "")
        act("seat", lambda: ws.free_seat(key, seat.market + 1, seat.merchant),
            both(f"{name} no longer holds {where}: the seat is free to take (a bot plays it until then)",
                 f"{name} 已不再担任 {where_zh}：该席位可以被重新选择（在此之前由机器人经营）"))

    def ask_play(number: int) -> None:
        """A click on "Play round ``number``" (the number the button showed)."""
        if playing.current:
            return  # a round is playing: one gesture plays one round
        if number == played_here.current and number < ws.round_number:
            return  # this page played that round a moment ago and has not shown the next one yet
        playing.current = True
        serial.current += 1
        set_run((number, serial.current))

    def play():
        number = run[0]
        if not number:
            return None
        started = time.monotonic()
        try:
            n = ws.advance(key, number)  # refused if round ``number`` was played meanwhile (another page)
            played_here.current = n
            # busy a moment at least: the second click of a double click on a quick round would find
            # the button free again, showing the next round
            time.sleep(max(0.0, PLAY_AT_LEAST - (time.monotonic() - started)))
        except ParamError as e:
            return ("error", both(e.text("en"), e.text("zh")))
        finally:
            playing.current = False
        return ("ok", both(f"Round {n} played", f"第 {n} 轮已完成"))

    result = solara.use_thread(play, dependencies=[run], intrusive_cancel=False)
    busy = playing.current or result.state in (solara.ResultState.STARTING, solara.ResultState.WAITING,
                                                solara.ResultState.RUNNING)

    def undo():
        set_confirm("")
        act("undo", lambda: ws.undo(key), both("The last round was taken back: its decisions are open again",
                                               "上一轮已撤销：其决策重新开放"))

    def close():
        set_confirm("")
        act("close", lambda: ws.close(key), both("The workshop is closed", "工作坊已结束"))

    room, _ = solara.use_memo(lambda: room_origin(origin), [origin])  # "another device" cannot open localhost
    host_link = f"{(room or origin).rstrip('/')}/workshop?code={quote(ws.code)}&key={quote(key)}"
    JoinPanel(ws, origin, host_link=host_link, version=version)
    RoundStatus(ws, version=version)
    Messages(ws, version=version)

    # ---- the round's controls
    with solara.Card(tr("Round controls", "本轮控制"), classes=["lsim-ws-controls"]):
        if ws.closed:
            solara.Info(tr("This workshop is closed: its results stay here and in the export.",
                           "本工作坊已结束：结果仍可在此查看并导出。"))
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center", "gap": "8px"}):
            solara.Button(tr(f"Play round {ws.round_number}", f"进行第 {ws.round_number} 轮") if not busy
                          else tr("Playing the round …", "正在进行本轮 …"),
                          on_click=lambda n=ws.round_number: ask_play(n), color="primary",
                          disabled=busy or ws.closed,
                          loading=busy, classes=["lsim-ws-advance"] + (["lsim-ws-busy"] if busy else []))
            solara.Button(tr("Undo last round", "撤销上一轮"), on_click=lambda: set_confirm("undo"), outlined=True,
                          disabled=busy or ws.closed or not ws.rounds, classes=["lsim-ws-undo"])
            solara.InputText(tr("Timer (seconds, 10–3600)", "计时（秒，10–3600）"), value=seconds,
                             on_value=set_seconds, continuous_update=True, classes=["lsim-ws-timer-seconds"],
                             style={"max-width": "190px"})
            solara.Button(tr("Start timer", "开始计时"), outlined=True, disabled=ws.closed,
                          on_click=lambda: act("seconds", lambda: ws.start_timer(key, _whole_or_text(typed_seconds()))),
                          classes=["lsim-ws-timer-start"])
            if ws.locked:
                solara.Button(tr("Go on", "继续"), outlined=True, disabled=ws.closed,
                              on_click=lambda: act("round", lambda: ws.go_on(key)), classes=["lsim-ws-go-on"])
            else:
                solara.Button(tr("Pause (lock decisions)", "暂停（锁定决策）"), outlined=True, disabled=ws.closed,
                              on_click=lambda: act("round", lambda: ws.pause(key)), classes=["lsim-ws-pause"])
        if confirm:
            with solara.Row(style={"align-items": "center"}, classes=["lsim-ws-confirm"]):
                solara.Text(tr(f"Undo round {len(ws.rounds)}? Its decisions become the open round's again.",
                               f"撤销第 {len(ws.rounds)} 轮？其决策将重新成为本轮的决策。") if confirm == "undo"
                            else tr("Close the workshop? Nobody can decide or play afterwards.",
                                    "结束工作坊？之后不能再决策或进行新的一轮。"))
                solara.Button(tr("Yes", "是"), color="red darken-3", on_click=undo if confirm == "undo" else close,
                              classes=["lsim-ws-confirm-yes"])
                solara.Button(tr("No", "否"), text=True, on_click=lambda: set_confirm(""), classes=["lsim-ws-confirm-no"])
        if result.value and result.value[0] == "error":
            solara.Text(shown(result.value[1]), classes=["lsim-ws-error", "lsim-ws-error-advance"],
                        style={"color": "#c62828"})
        for field in ("seconds", "round", "undo", "close"):
            _error(errors, field)
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center", "gap": "8px"}):
            rv.Select(label=tr("Market event", "市场事件"), v_model=event, on_v_model=set_event,
                      items=[{"text": ev.title(lng), "value": name} for name, ev in MARKET_EVENTS.items()],
                      class_="lsim-ws-event", style_="max-width: 560px")
            solara.Button(tr("Inject into this round", "加入本轮"), outlined=True, disabled=ws.closed,
                          on_click=lambda: act("event", lambda: ws.inject(key, chosen_event()),
                                               both("Market event added to the open round", "市场事件已加入本轮")),
                          classes=["lsim-ws-inject"])
        _error(errors, "event")
        if ws.pending_events:
            solara.Text(tr("This round's events: ", "本轮事件：") + "; ".join(
                MARKET_EVENTS[e].title(lng) if e in MARKET_EVENTS else e for e in ws.pending_events),
                classes=["lsim-ws-pending-events"])
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center", "gap": "8px"}):
            solara.InputText(tr("Message to everyone (1–500 characters)", "发给所有人的消息（1–500 个字符）"),
                             value=text, on_value=set_text, continuous_update=True, classes=["lsim-ws-message-text"],
                             style={"min-width": "360px"})

            def send():
                if act("message", lambda: ws.message(key, typed_text()), both("Message sent", "消息已发送")):
                    set_text("")

            solara.Button(tr("Send", "发送"), outlined=True, on_click=send, classes=["lsim-ws-message-send"])
        _error(errors, "message")
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center", "gap": "8px"}):
            solara.Text(tr("Scorecard weights (0–1):", "计分卡权重（0–1）："))
            names = {"profit": tr("Profit", "利润"), "loyalty": tr("Loyalty", "忠诚"),
                     "satisfaction": tr("Satisfaction", "满意度")}
            for k in SCORE_WEIGHTS:
                solara.InputText(names[k], value=weights.get(k, ""), continuous_update=True,
                                 on_value=lambda v, k=k: type_weight(k, v),
                                 classes=[f"lsim-ws-weight-{k}"], style={"max-width": "120px"})
            solara.Button(tr("Apply weights", "应用权重"), outlined=True,
                          on_click=lambda: act("weights", lambda: ws.set_weights(key, dict(typed_weights.current)),
                                               both("Weights applied", "权重已应用")),
                          classes=["lsim-ws-weights-apply"])
        for field in [f for f in errors if f.startswith("weights")]:
            _error(errors, field)
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center", "gap": "8px"}):
            solara.FileDownload(lambda: zip_export(ws), filename=f"workshop_{ws.code}.zip", mime_type="application/zip",
                                children=[solara.Button(tr("Export (zip of CSVs)", "导出（CSV 压缩包）"),
                                                        icon_name="mdi-download", outlined=True,
                                                        classes=["lsim-ws-export"])])
            solara.Button(tr("Close the workshop", "结束工作坊"), color="red darken-3", text=True, disabled=ws.closed,
                          on_click=lambda: set_confirm("close"), classes=["lsim-ws-close"])
        shown_notice = notice or (result.value[1] if result.value and result.value[0] == "ok" else None)
        if shown_notice:
            solara.Text(shown(shown_notice), classes=["lsim-ws-notice"], style={"color": "#2e7d32"})
        _error(errors, "seat")

    # ---- each market
    for m in range(ws.n_markets):
        with solara.Card(tr(f"Market {m + 1}", f"市场 {m + 1}"), classes=[f"lsim-ws-market-{m + 1}", "lsim-ws-market"]):
            with solara.Row(style={"flex-wrap": "wrap", "gap": "32px", "align-items": "flex-start"}):
                with solara.Column(gap="4px"):
                    solara.Text(tr("Seats", "席位"), style={"font-weight": "bold"})
                    Roster(ws, m, version=version, on_free=free_seat)
                with solara.Column(gap="4px"):
                    solara.Text(tr("Leaderboard (balanced scorecard)", "排行榜（平衡计分卡）"),
                                style={"font-weight": "bold"})
                    Leaderboard(ws, m, version=version)
            with solara.Column(gap="8px"):  # one below the other (texts side by side would run together)
                RoundCharts(ws, m, version=version)
                solara.Text(tr("What happened", "发生了什么"), style={"font-weight": "bold"},
                            classes=["lsim-ws-lines-title"])
                WhatHappened(ws, m, version=version)
                LastDecisions(ws, m, version=version)


@solara.component
def Roster(ws: Workshop, market: int, version: int = 0, on_free: Callable[[Seat], None] | None = None):
    """Who plays each merchant of the market, connected or not, decided this round or not; with
    ``on_free``, a "Free" button beside each participant's seat (the facilitator takes the seat back,
    e.g. for the participant to take it again from another device). Connections are not changes of
    the workshop, so the roster looks at them every :data:`ROSTER_POLL` seconds."""
    with ws.lock:
        seats = [ws.seats[(market, name)] for name in ws.merchant_names]
        decided = {merchant for (m, merchant) in ws.pending if m == market}
    reg = registry()
    _, set_online = solara.use_state(())

    def poll(cancel: threading.Event):
        seen = None
        while not cancel.is_set():
            now = tuple(reg.connected(ws.code, s) for s in seats)
            if now != seen:
                seen = now
                set_online(now)
            if cancel.wait(ROSTER_POLL):
                break

    solara.use_thread(poll, dependencies=[id(ws), market, version], intrusive_cancel=False)
    head = [tr("Merchant", "商家"), tr("Played by", "经营者"), tr("Connected", "在线"),
            tr(f"Decided (round {ws.round_number})", f"已决策（第 {ws.round_number} 轮）")]
    rows = [solara.v.Html(tag="tr", children=[_cell("th", h, "text-align: left") for h in head])]
    for s in seats:
        who = s.name if s.taken else tr("bot", "机器人")
        online = reg.connected(ws.code, s) if s.taken else None
        rows.append(solara.v.Html(tag="tr", class_=f"lsim-ws-seat lsim-ws-seat-{s.merchant}", children=[
            _cell("td", s.merchant, "font-weight: bold"), _cell("td", who),
            _cell("td", "–" if online is None else (tr("yes", "是") if online else tr("no", "否")),
                  "" if online is None else ("color: #2e7d32" if online else "color: #c62828")),
            _cell("td", tr("yes", "是") if s.merchant in decided else ("–" if not s.taken else tr("not yet", "尚未"))),
            solara.v.Html(tag="td", children=[solara.Button(
                tr("Free", "释放"), text=True, small=True, on_click=lambda s=s: on_free(s),
                classes=["lsim-ws-free-seat"])] if (on_free is not None and s.taken and not ws.closed) else [])]))
    solara.v.Html(tag="table", class_="lsim-ws-roster", children=rows, style_="border-collapse: collapse")


@solara.component
def LastDecisions(ws: Workshop, market: int, version: int = 0):
    """The decisions made for the last round played, per merchant."""
    if not ws.rounds:
        return
    rnd = ws.rounds[-1]
    lng = lang.value
    items = [(merchant, fields) for (m, merchant), fields in sorted(rnd.decisions.items()) if m == market]
    with solara.Column(gap="2px", classes=["lsim-ws-decisions"]):
        solara.Text(tr(f"Decisions of round {rnd.number}", f"第 {rnd.number} 轮的决策"), style={"font-weight": "bold"})
        if not items:
            solara.Text(tr("No participant changed a decision.", "没有参与者修改决策。"), style={"color": "#616161"})
        for merchant, fields in items:
            parts = [f"{MERCHANT_PARAMS[k].label(lng)} = {_decision_value(k, fields[k], lng)}" for k in DECISIONS
                     if k in fields]
            solara.Text(f"{merchant}: " + ("; " if lng != "zh" else "；").join(parts), classes=["lsim-ws-decision"])


def _decision_value(k: str, v: Any, lng: str) -> str:
    from .controls import choice_label

    if MERCHANT_PARAMS[k].kind == "choice":
        return choice_label(MERCHANT_PARAMS[k], v, lng)
    return value_text(v)

"""The projector's view of a live classroom market (``/screen?code=XXXXX``): the market without any
control, in large type. While seats are free: the room code, the join link and its QR code. Always:
the round and its clock, the facilitator's messages, each market's leaderboard, debrief charts and
"what happened" lines. It keeps up by itself (:func:`sim.ui.workshop_common.use_changes`). A wrong
code shows a message. The pieces are those of the facilitator's page (:mod:`sim.ui.workshop_host`).

Stable CSS classes (for browser tests)
--------------------------------------
=====================================  ==========================================================
``lsim-ws-screen``                     the page
``lsim-ws-denied``                     the message of a wrong or missing code
``lsim-ws-code``, ``lsim-ws-join-link``, ``lsim-ws-qr``   the room code, join link, QR code
                                       (while a seat is free; at the address participants' devices
                                       reach, with ``lsim-ws-address-note`` when it is not this
                                       page's own: see :mod:`sim.ui.workshop_host`)
``lsim-ws-round`` / ``lsim-ws-clock``  "Round N" / the clock
``lsim-ws-messages``                   the facilitator's messages (each ``lsim-ws-message``)
``lsim-ws-market-N``                   market N: ``lsim-ws-board`` (rows ``lsim-ws-board-row``),
                                       ``lsim-ws-chart``, ``lsim-ws-lines`` (``lsim-ws-line``: the
                                       last round's); ``lsim-ws-board-empty`` /
                                       ``lsim-ws-chart-empty`` before the first round
=====================================  ==========================================================
"""

from __future__ import annotations

import solara

from ..params import ParamError
from .i18n import lang, tr
from .workshop_common import query, registry, use_changes
from .workshop_host import JoinPanel, Leaderboard, Messages, PageUrl, RoundCharts, RoundStatus, WhatHappened, use_origin

__all__ = ["Screen"]


@solara.component
def Screen():
    solara.Title(tr("Workshop screen — loyalty-sim", "工作坊大屏 — loyalty-sim"))
    router = solara.use_router()
    code = query(router.search).get("code", "")
    origin, set_origin = use_origin()
    with solara.Column(classes=["lsim-ws-screen"], style={"padding": "16px", "gap": "16px"}):
        PageUrl(values={}, on_origin=set_origin)
        ws, denied = None, ""
        if not code:
            denied = tr("Open this view with the room code: /screen?code=XXXXX (the facilitator's page shows the link).",
                        "请带上房间代码打开此视图：/screen?code=XXXXX（主持人页面上有此链接）。")
        else:
            try:
                ws = registry().get(code)
            except ParamError as e:
                denied = e.text(lang.value)
        if denied:
            solara.Error(denied, classes=["lsim-ws-denied"], style={"font-size": "1.6rem"})
            return
        ScreenBody(ws, origin)


@solara.component
def ScreenBody(ws, origin: str):
    version = use_changes(ws)
    with ws.lock:
        free = any(not s.taken for s in ws.seats.values()) and not ws.closed
    if free:
        JoinPanel(ws, origin, big=True, version=version)
    RoundStatus(ws, big=True, version=version)
    Messages(ws, big=True, version=version)
    for m in range(ws.n_markets):
        with solara.Column(classes=[f"lsim-ws-market-{m + 1}", "lsim-ws-market"], gap="8px"):
            if ws.n_markets > 1:
                solara.Text(tr(f"Market {m + 1}", f"市场 {m + 1}"), style={"font-size": "2.2rem", "font-weight": "bold"})
            with solara.Row(style={"flex-wrap": "wrap", "gap": "32px", "align-items": "flex-start"}):
                Leaderboard(ws, m, big=True, version=version)
                WhatHappened(ws, m, big=True, rounds=1, version=version)
            RoundCharts(ws, m, big=True, version=version)

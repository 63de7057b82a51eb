"""A participant's page of a live classroom market (``/join``). (Being built.)"""

from __future__ import annotations

import solara

from .i18n import tr


@solara.component
def Join():
    solara.Title(tr("Join a workshop — loyalty-sim", "加入工作坊 — loyalty-sim"))
    solara.Markdown("## " + tr("Join a workshop", "加入工作坊"))

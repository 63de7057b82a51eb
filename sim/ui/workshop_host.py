"""The facilitator's page of a live classroom market (``/workshop``). (Being built.)"""

from __future__ import annotations

import solara

from .i18n import tr


@solara.component
def WorkshopHost():
    solara.Title(tr("Workshop — loyalty-sim", "工作坊 — loyalty-sim"))
    solara.Markdown("## " + tr("Workshop", "工作坊"))

"""The projector's view of a live classroom market (``/screen``): the market without controls. (Being built.)"""

from __future__ import annotations

import solara

from .i18n import tr


@solara.component
def Screen():
    solara.Title(tr("Workshop screen — loyalty-sim", "工作坊大屏 — loyalty-sim"))
    solara.Markdown("## " + tr("Workshop", "工作坊"))

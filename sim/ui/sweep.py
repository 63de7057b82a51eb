"""The Sweep page (being built)."""

import solara

from .i18n import tr


@solara.component
def Sweep():
    solara.Markdown(tr("This page is being built.", "此页面正在建设中。"))

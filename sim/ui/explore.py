"""The Explore page (being built)."""

import solara

from .i18n import tr


@solara.component
def Explore():
    solara.Markdown(tr("This page is being built.", "此页面正在建设中。"))

"""The page's own attributes, which no widget owns: ``<html lang>`` and the viewport.

Solara's page template writes ``<html>`` without a ``lang`` and a viewport that forbids zooming
(``maximum-scale=1, user-scalable=no``). :func:`PageAttributes`, put once into the app's layout,
sets ``lang`` to the session's language (:data:`HTML_LANG`, following the EN / 中文 toggle), so
that a screen reader reads Chinese text with a Chinese voice, and lets a phone's user zoom the page
(:data:`VIEWPORT`), from a hidden widget (``page_attrs.vue``).
"""

from __future__ import annotations

import solara

from .i18n import lang

__all__ = ["HTML_LANG", "VIEWPORT", "PageAttributes"]

#: the ``lang`` attribute of the page in each language of :data:`sim.words.LANGS` (BCP 47)
HTML_LANG: dict[str, str] = {"en": "en", "zh": "zh-CN"}
#: the page's viewport: the width of the device, zooming allowed
VIEWPORT = "width=device-width, initial-scale=1"


@solara.component_vue("page_attrs.vue")
def _PageAttrs(lang: str, viewport: str = VIEWPORT):
    pass


@solara.component
def PageAttributes():
    """The hidden widget that keeps ``<html lang>`` on the session's language and the viewport zoomable."""
    return _PageAttrs(lang=HTML_LANG[lang.value])

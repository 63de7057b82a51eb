"""Language of the web app: one reactive value per browser session, and ``tr(en, zh)``.

Every user-visible string is written at its call site in both languages::

    solara.Button(tr("Play", "播放"))

``lang`` is a :func:`solara.reactive`; Solara keeps one value per browser session (virtual
kernel), so one participant switching to Chinese does not switch anybody else. The languages
themselves are declared once in :mod:`sim.words`.
"""

from __future__ import annotations

import solara

from ..words import DEFAULT_LANG, LANGS, pick

__all__ = ["LANGS", "lang", "tr", "current"]

lang = solara.reactive(DEFAULT_LANG)


def tr(en: str, zh: str) -> str:
    """The string in the session's current language (:func:`sim.words.pick`)."""
    return pick(en, zh, lang.value)


def current() -> str:
    return lang.value

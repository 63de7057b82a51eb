"""Language of the web app: one reactive value per browser session, and ``tr(en, zh)``.

Every user-visible string is written at its call site in both languages::

    solara.Button(tr("Play", "播放"))

A text kept to be shown later (a notice, a message in a reactive value) is kept in both languages,
``both(en, zh)``, and picked when it is shown, ``shown(text)``: a participant who switches language
then reads it in the new one.

``lang`` is a :func:`solara.reactive`; Solara keeps one value per browser session (virtual
kernel), so one participant switching to Chinese does not switch anybody else. The languages
themselves are declared once in :mod:`sim.words`.
"""

from __future__ import annotations

import solara

from ..words import DEFAULT_LANG, LANGS, pick

__all__ = ["LANGS", "lang", "tr", "current", "both", "shown"]

lang = solara.reactive(DEFAULT_LANG)


def tr(en: str, zh: str) -> str:
    """The string in the session's current language (:func:`sim.words.pick`)."""
    return pick(en, zh, lang.value)


def current() -> str:
    return lang.value


def both(en: str, zh: str) -> tuple[str, str]:
    """A text kept in both languages, to be shown with :func:`shown`."""
    return (en, zh)


def shown(text) -> str:
    """A kept text in the session's current language (``both(en, zh)``, or a plain string as is)."""
    if isinstance(text, tuple) and len(text) == 2:
        return tr(*text)
    return text or ""

"""Language of the web app: one reactive value per browser session, and ``tr(en, zh)``.

Every user-visible string is written at its call site in both languages::

    solara.Button(tr("Play", "播放"))

``lang`` is a :func:`solara.reactive`; Solara keeps one value per browser session (virtual
kernel), so one participant switching to Chinese does not switch anybody else.
"""

from __future__ import annotations

import solara

LANGS = ("en", "zh")
lang = solara.reactive("en")


def tr(en: str, zh: str) -> str:
    """The string in the session's current language."""
    return zh if lang.value == "zh" else en


def current() -> str:
    return lang.value

"""The one "did you mean" of the project: a close match to a mistyped word, in English and Chinese.

>>> did_you_mean("trust_gian", ["trust_gain", "trust_loss"])
("; did you mean 'trust_gain'?", "；是否想写 'trust_gain'？")
>>> did_you_mean("zzz", ["trust_gain"])
('', '')
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable

__all__ = ["did_you_mean", "CUTOFF"]

#: how alike a word and a suggestion must be (:func:`difflib.get_close_matches`' ratio)
CUTOFF = 0.6


def did_you_mean(word: Any, choices: Iterable[Any], cutoff: float = CUTOFF) -> tuple[str, str]:
    """``("; did you mean 'x'?", "；是否想写 'x'？")`` for the choice closest to ``word``, or
    ``("", "")`` when none is close enough. Both parts are meant to follow the quoted word in a
    message (``f"unknown parameter '{word}'{en} (known: …)"``). Never raises on odd input."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    if not close:
        return "", ""
    return f"; did you mean '{close[0]}'?", f"；是否想写 '{close[0]}'？"

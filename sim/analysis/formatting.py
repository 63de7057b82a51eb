"""Numbers as people read them: the one formatter of the reports, the web app and the command line.

Every number a person sees goes through one of these functions, so the app's tables, the CLI's
printed summaries and the written reports (``summary.md``) show the same value the same way:

- :func:`interval_text` — a mean with its 95% interval, ``0.4123 [0.4011, 0.4235]``: the decimals
  that show about four significant digits of the mean, the same decimals throughout, thousands
  separated from 10,000 on, no exponents; ``+`` before positive differences (``sign=True``).
- :func:`number_text` — one number in a table or a tick label: four significant digits, thousands
  separated, ``–`` for a missing value, ``∞`` for an infinite one.
- :func:`value_text` — a parameter's value as a level in a table or figure (``0.5``, ``1``,
  ``financial``): whole numbers without ``.0``.
- :func:`fixed_text` — a number with given decimals (thousands separated from 10,000 on).
- :func:`percent_text` — a share as a percentage, ``42%``.
- :func:`setting_text` — a parameter's setting as text a person can type and that reads back as
  the same value (six significant digits, no thousands separators, ``true``/``false``): the app's
  input boxes, the labels of its configurations, a scenario's settings.

Nothing here imports the rest of the project.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["MISSING", "decimals", "fixed_text", "number_text", "value_text", "interval_text", "percent_text",
           "setting_text"]

#: what a missing value (None, NaN) shows as
MISSING = "–"


def decimals(*values, most: int = 6) -> int:
    """Decimals that show about 4 significant digits of the largest of ``values`` (0 … ``most``);
    0 when none is a finite non-zero number."""
    finite = [abs(float(v)) for v in values if v is not None and np.isfinite(v) and v != 0]
    if not finite:
        return 0
    return int(min(most, max(0, 3 - math.floor(math.log10(max(finite))))))


def fixed_text(x, digits: int) -> str:
    """``x`` with ``digits`` decimals; thousands separated from 10,000 on; a value that rounds to
    zero has no sign (``0.0``, never ``-0.0``)."""
    x = float(x)
    t = f"{x:,.{digits}f}" if abs(x) >= 10000 else f"{x:.{digits}f}"
    return t[1:] if t.startswith("-") and not t.strip("-0.,") else t


def number_text(x, digits: int = 4) -> str:
    """A number for tables and tick labels: ``digits`` significant digits, thousands separated,
    '–' for None or NaN, '∞' for infinity; whole numbers (ints) as they are."""
    if x is None:
        return MISSING
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}" if abs(int(x)) >= 10000 else str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return MISSING
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if abs(x) >= 10000:
            return f"{x:,.0f}"
        if x == 0:
            return "0"
        s = f"{x:.{digits}g}"
        if "e" in s:
            return f"{x:.2e}"
        return s
    return str(x)


def value_text(v) -> str:
    """A parameter's value as a level in a table, a legend or a tick label: whole numbers without
    ``.0`` (``1``, ``52``), others as :func:`number_text`; text as it is."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer() and abs(v) < 1e6:
        return f"{float(v):g}"
    return number_text(v)


def interval_text(mean, lo, hi, sign: bool = False, percent: bool = False) -> str:
    """``mean [low, high]`` with the same decimals throughout (those that show about 4 significant
    digits of the mean), no exponents; only the mean when there is no interval; '–' when there is
    no value. ``sign=True`` puts ``+`` before a positive mean (a difference). ``percent=True`` shows
    shares as percentages, as :func:`percent_text` does (``42.1% [40.3%, 44.0%]``)."""
    if mean is None or not np.isfinite(mean):
        return MISSING
    if percent:
        scale = lambda v: v if v is None else 100 * float(v)  # noqa: E731
        mean, lo, hi = scale(mean), scale(lo), scale(hi)
        d = 1  # as the Explore page's key numbers
        pct = lambda v, plus=False: ("+" if plus and v > 0 else "") + fixed_text(v, d) + "%"  # noqa: E731
        if lo is None or not np.isfinite(lo) or lo == hi:
            return pct(mean, sign)
        return f"{pct(mean, sign)} [{pct(lo)}, {pct(hi)}]"
    d = decimals(mean) if mean != 0 else decimals(lo, hi)

    def f(v, plus=False):
        t = fixed_text(v, d)
        return ("+" + t) if plus and float(v) > 0 else t

    if lo is None or not np.isfinite(lo) or lo == hi:
        return f(mean, sign)
    return f"{f(mean, sign)} [{f(lo)}, {f(hi)}]"


def percent_text(share, digits: int = 0) -> str:
    """A share (0.42) as a percentage (``42%``) with ``digits`` decimals; '–' when missing."""
    if share is None or not np.isfinite(share):
        return MISSING
    return f"{100 * float(share):.{digits}f}%"


def setting_text(v: Any, kind: str | None = None) -> str:
    """A parameter's setting as text a person can type and that reads back as the same value: six
    significant digits, no thousands separators, ``true``/``false``. ``kind`` (a parameter's
    ``"int"`` or ``"float"``) converts the value first (a slider may give 3.0 for an int)."""
    if kind == "int":
        v = int(v)
    elif kind == "float":
        v = float(v)
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v)).lower()
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return str(v)

"""Numbers a trainer sets for a server in its environment (``LSIM_MAX_CUSTOMERS=20000 uv run solara
run app.py …``): read once where they are used, with a default for an unset or unreadable value."""

from __future__ import annotations

import os

__all__ = ["env_number"]


def env_number(name: str, default: float, lo: float) -> float:
    """The number in environment variable ``name`` (``_`` and ``,`` between digits allowed), at least
    ``lo``; ``default`` when it is unset, empty or not a number."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        v = float(raw.replace("_", "").replace(",", ""))
    except ValueError:
        return default
    if v != v:  # nan
        return default
    return max(lo, v)

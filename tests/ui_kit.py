"""Shared pieces of the component tests (``solara.render`` without a browser).

- :func:`virtual_session`: a virtual kernel context, as one browser tab has under the server, so the
  reactive values of :mod:`sim.ui.state` are this test's own; closed afterwards.
- :func:`all_widgets`: every widget under a render context, children and slots included.

Tests import it as ``from ui_kit import ...`` (pytest puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Iterator

import ipywidgets
from solara.server import kernel, kernel_context

_ids = itertools.count(1)


@contextlib.contextmanager
def virtual_session(prefix: str) -> Iterator[kernel_context.VirtualKernelContext]:
    """A fresh virtual kernel context named ``prefix``-N, entered, and closed on the way out."""
    n = next(_ids)
    c = kernel_context.VirtualKernelContext(id=f"{prefix}-{n}", kernel=kernel.Kernel(), session_id=f"{prefix}-session-{n}")
    with c:
        yield c
    try:
        c.close()
    except Exception:  # noqa: BLE001 - a context whose widgets are already gone
        pass


def widgets_under(*roots) -> list:
    """Every widget reachable from ``roots`` through their traits (children, slots, …)."""
    seen, todo, out = set(), list(roots), []
    while todo:
        w = todo.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        out.append(w)
        for name in w.keys:
            x = getattr(w, name, None)
            items = x if isinstance(x, (list, tuple)) else [x]
            todo.extend(i for i in items if isinstance(i, ipywidgets.Widget))
    return out


def all_widgets(rc) -> list:
    """Every widget reachable from the render context ``rc``'s roots."""
    return widgets_under(*rc.find(ipywidgets.Widget).widgets)

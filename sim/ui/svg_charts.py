"""Small charts drawn directly as SVG text: lines or bars over a few whole-numbered x values (rounds).

The workshop's pages redraw their charts at every round on thirty or more pages served by one
process; a matplotlib figure costs a tenth of a second or more of that process to render, an SVG
written as text a millisecond, and the browser draws it (in the page's own fonts, so Chinese needs
nothing more). :func:`panel` draws one chart; :func:`panels` sets several side by side, wrapping on
a narrow screen.

Each chart is a standalone ``<svg>`` element: title, grid lines at round values (:func:`ticks`),
x labels, the series (``<polyline class="lsim-svg-line">`` with a point per value, or
``<rect class="lsim-svg-bar">`` bars from zero, red below it, each with its value as a tooltip) and a
legend of the lines.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Callable, Sequence

__all__ = ["Series", "ticks", "panel", "panels"]


@dataclass(frozen=True)
class Series:
    """One line (or the bars) of a chart: its label, colour and one value per x (``None``: no value)."""

    label: str
    colour: str
    values: Sequence[float | None]


def ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About ``n`` round tick values from at or below ``lo`` to at or above ``hi``."""
    span = hi - lo if hi - lo > 1e-9 else max(abs(hi), 1.0)
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(k * mag for k in (1, 2, 2.5, 5, 10) if k * mag >= raw)
    out, t = [], math.floor(lo / step) * step
    while True:  # up to the first tick at or above hi
        out.append(round(t, 10))
        if t >= hi - 1e-9 * step and len(out) >= 2:
            return out
        t += step


def _plain(v: float) -> str:
    return f"{v:g}"


def panel(title: str, x: Sequence[int], series: Sequence[Series], *, kind: str = "line",
          y_text: Callable[[float], str] = _plain, x_label: str = "", zero: bool = True,
          big: bool = False, css: str = "") -> str:
    """One chart as an ``<svg>``: ``series`` over ``x`` as lines (``kind="line"``, a legend when
    there are several) or bars (``kind="bar"``, the first series). The y axis covers the values
    (and 0 if ``zero``) with round ticks labelled by ``y_text``. ``big``: larger type (a projector).
    ``css``: the element's own style (e.g. its flex basis)."""
    font = 17 if big else 12
    W, H = (420, 290) if big else (320, 230)
    legend = kind == "line" and len(series) > 1
    pad_l, pad_r, pad_b = (58 if big else 42), 10, (40 if big else 30)
    pad_t = (font + 8) * (2 if legend else 1) + 14
    pw, ph = W - pad_l - pad_r, H - pad_t - pad_b
    values = [float(v) for s in series for v in s.values if v is not None and v == v]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-12:
        hi = lo + 1.0
    tk = ticks(lo, hi)
    lo, hi = min(lo, tk[0]), max(hi, tk[-1])

    def y(v: float) -> float:
        return pad_t + ph * (1 - (v - lo) / (hi - lo))

    n = max(len(x), 1)
    xs = [pad_l + pw * (k + 0.5) / n for k in range(len(x))]
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {W} {H}' role='img' font-family='sans-serif' "
           f"font-size='{font}' style='flex:1 1 {int(W * 0.85)}px;max-width:{W}px;{css}'>",
           f"<title>{html.escape(title)}</title>",
           f"<text x='2' y='{font + 4}' font-size='{font + 2}' font-weight='600'>{html.escape(title)}</text>"]
    for t in tk:
        out.append(f"<line x1='{pad_l}' x2='{W - pad_r}' y1='{y(t):.1f}' y2='{y(t):.1f}' stroke='#e0e0e0'/>"
                   f"<text x='{pad_l - 4}' y='{y(t) + font / 3:.1f}' text-anchor='end' fill='#555'>"
                   f"{html.escape(y_text(t))}</text>")
    every = max(1, math.ceil(len(x) / 12))  # at most a dozen x labels
    for k, (px, xv) in enumerate(zip(xs, x)):
        if k % every == 0 or k == len(x) - 1:
            out.append(f"<text x='{px:.1f}' y='{H - pad_b + font + 3}' text-anchor='middle' fill='#555'>{xv}</text>")
    if x_label:
        out.append(f"<text x='{pad_l + pw / 2:.1f}' y='{H - 2}' text-anchor='middle' fill='#555'>"
                   f"{html.escape(x_label)}</text>")
    if kind == "bar" and series:
        bw = min(36.0 * (1.3 if big else 1), 0.6 * pw / n)
        for k, (px, v) in enumerate(zip(xs, series[0].values)):
            if v is None or v != v:
                continue
            a, b = sorted((y(0.0), y(float(v))))
            colour = series[0].colour if v >= 0 else "#c62828"
            out.append(f"<rect class='lsim-svg-bar' x='{px - bw / 2:.1f}' y='{a:.1f}' width='{bw:.1f}' "
                       f"height='{max(b - a, 0.5):.1f}' fill='{colour}'><title>{html.escape(y_text(float(v)))}"
                       f"</title></rect>")
    else:
        lx, ly = pad_l, font * 2 + 12
        for s in series:
            pts = [(px, y(float(v))) for px, v in zip(xs, s.values) if v is not None and v == v]
            if pts:
                out.append(f"<polyline class='lsim-svg-line' data-label='{html.escape(s.label)}' points='"
                           + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
                           + f"' fill='none' stroke='{s.colour}' stroke-width='{3 if big else 2}'/>")
                out.extend(f"<circle cx='{a:.1f}' cy='{b:.1f}' r='{4 if big else 3}' fill='{s.colour}'/>" for a, b in pts)
            if legend:
                out.append(f"<line x1='{lx}' x2='{lx + 16}' y1='{ly - font / 3:.1f}' y2='{ly - font / 3:.1f}' "
                           f"stroke='{s.colour}' stroke-width='3'/><text x='{lx + 20}' y='{ly}'>"
                           f"{html.escape(s.label)}</text>")
                lx += 28 + int(0.62 * font * max(len(s.label), 1) * (1.7 if not s.label.isascii() else 1))
    out.append("</svg>")
    return "".join(out)


def panels(charts: Sequence[str], gap: str = "12px 28px") -> str:
    """Charts of :func:`panel` side by side, wrapping onto new rows on a narrow screen."""
    return f"<div style='display:flex;flex-wrap:wrap;gap:{gap}'>" + "".join(charts) + "</div>"

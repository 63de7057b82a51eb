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

:func:`time_panel` draws a long series over weeks the same way (the Explore and Compare pages'
figures, redrawn while a market plays): lines without points (``lsim-svg-line``) or stacked areas
(``<polygon class="lsim-svg-area">``), a numeric x axis with round ticks, and vertical marks at the
weeks something changed (``lsim-svg-mark``, each with its text as a tooltip, the latest labelled).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Callable, Sequence

__all__ = ["Series", "Marker", "ticks", "panel", "panels", "time_panel", "text_width", "fit_text"]


@dataclass(frozen=True)
class Series:
    """One line (or the bars) of a chart: its label, colour and one value per x (``None``: no value)."""

    label: str
    colour: str
    values: Sequence[float | None]


def ticks(lo: float, hi: float, n: int = 4, whole: bool = False) -> list[float]:
    """About ``n`` round tick values from at or below ``lo`` to at or above ``hi`` (``whole``: whole
    numbers only, e.g. weeks)."""
    span = hi - lo if hi - lo > 1e-9 else max(abs(hi), 1.0)
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(k * mag for k in (1, 2, 2.5, 5, 10) if k * mag >= raw and (not whole or (k * mag) % 1 == 0
                                                                           or k * mag < 1))
    if whole:
        step = max(1.0, step)
    out, t = [], math.floor(lo / step) * step
    while True:  # up to the first tick at or above hi
        out.append(round(t, 10))
        if t >= hi - 1e-9 * step and len(out) >= 2:
            return out
        t += step


def _plain(v: float) -> str:
    return f"{v:g}"


def _grid(out: list, tk: Sequence[float], y: Callable[[float], float], left: float, right: float, font: int,
          y_text: Callable[[float], str]) -> None:
    """Grid lines at the ticks ``tk`` from ``left`` to ``right``, labelled at the left."""
    for t in tk:
        out.append(f"<line x1='{left}' x2='{right}' y1='{y(t):.1f}' y2='{y(t):.1f}' stroke='#e0e0e0'/>"
                   f"<text x='{left - 4}' y='{y(t) + font / 3:.1f}' text-anchor='end' fill='#555'>"
                   f"{html.escape(y_text(t))}</text>")


def _x_label(out: list, text: str, x: float, H: float) -> None:
    """The x axis' name, centred at ``x`` at the foot of a chart ``H`` high."""
    if text:
        out.append(f"<text x='{x:.1f}' y='{H - 2}' text-anchor='middle' fill='#555'>{html.escape(text)}</text>")


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
    _grid(out, tk, y, pad_l, W - pad_r, font, y_text)
    every = max(1, math.ceil(len(x) / 12))  # at most a dozen x labels
    for k, (px, xv) in enumerate(zip(xs, x)):
        if k % every == 0 or k == len(x) - 1:
            out.append(f"<text x='{px:.1f}' y='{H - pad_b + font + 3}' text-anchor='middle' fill='#555'>{xv}</text>")
    _x_label(out, x_label, pad_l + pw / 2, H)
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


@dataclass(frozen=True)
class Marker:
    """A vertical mark on a :func:`time_panel` at week ``x``: ``style`` ``"solid"`` (the user's
    change), ``"dashed"`` (a scheduled one) or ``"dotted"`` (a merchant's own move); ``text`` is its
    tooltip, and its label when ``label`` is set."""

    x: float
    text: str
    colour: str = "#212121"
    style: str = "solid"
    label: bool = True


_DASH = {"solid": "", "dashed": " stroke-dasharray='5 3'", "dotted": " stroke-dasharray='1.5 2.5'"}


def text_width(text: str, size: float) -> float:
    """A generous estimate of a text's width at font ``size`` (points or pixels, as ``size`` is): CJK
    characters 1 em, others 0.62 em."""
    return size * sum(1.0 if ord(c) >= 0x2E80 else 0.62 for c in text)


def fit_text(text: str, room: float, size: float) -> str:
    """``text`` cut (with "…") to fit in ``room`` (by :func:`text_width` at ``size``)."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text.rstrip(" ,，:：") + "…"


#: most points drawn per line of a :func:`time_panel` (longer series are thinned evenly)
MAX_POINTS = 600


def time_panel(title: str, series: Sequence[Series], *, stacked: bool = False, lo: float | None = None,
               hi: float | None = None, markers: Sequence[Marker] = (), x_label: str = "",
               y_text: Callable[[float], str] = _plain, width: int = 330, css: str = "",
               zero_line: bool = False, legend: bool = True) -> str:
    """One chart of series over weeks 0, 1, … as an ``<svg>``: lines (or, ``stacked``, areas piled
    from zero in the order given), a legend when there are several series, the y axis from ``lo`` to
    ``hi`` (each from the values when ``None``) with round ticks labelled by ``y_text``, the x axis
    from 0 to the last week (at least 10), a line at zero (``zero_line``), and ``markers`` (at most the
    last 6 with ``label`` are labelled, on the side of their line with more room, cut to fit).
    ``legend=False`` leaves the legend out (another panel beside it shows the same series')."""
    font, W, H = 11, width, 230
    n = max((len(s.values) for s in series), default=0)
    x_hi = max(10, n - 1)
    legend = legend and len(series) > 1
    legend_rows = 0
    if legend:  # the legend's rows: entries wrap onto a new row when the next would not fit
        lx, legend_rows = 4.0, 1  # (as the legend is drawn below)
        for s in series:
            w = 26 + text_width(s.label, font)
            if lx > 4 and lx + w > W - 8:
                lx, legend_rows = 4.0, legend_rows + 1
            lx += w
    pad_l, pad_r, pad_b = 46, 10, 30
    pad_t = font + 10 + (font + 5) * legend_rows + 6
    pw, ph = W - pad_l - pad_r, H - pad_t - pad_b
    arrays = [[float(v) if v is not None else float("nan") for v in s.values] for s in series]
    if stacked:
        tops, base = [], [0.0] * n
        for a in arrays:
            a = a + [0.0] * (n - len(a))
            base = [b + (v if v == v else 0.0) for b, v in zip(base, a)]
            tops.append(base)
        values = [0.0] + [v for t in tops for v in t]  # the areas stand on zero
    else:
        values = [v for a in arrays for v in a if v == v]
    y_lo = lo if lo is not None else (min(values) if values else 0.0)
    y_hi = hi if hi is not None else (max(values) if values else 1.0)
    if y_hi - y_lo < 1e-12:
        y_hi = y_lo + 1.0
    tk = [t for t in ticks(y_lo, y_hi) if (lo is None or t >= lo - 1e-9) and (hi is None or t <= hi + 1e-9)]
    if lo is None and tk:
        y_lo = min(y_lo, tk[0])
    if hi is None and tk:
        y_hi = max(y_hi, tk[-1])

    def X(k: float) -> float:
        return pad_l + pw * k / x_hi

    def Y(v: float) -> float:
        return pad_t + ph * (1 - (min(max(v, y_lo), y_hi) - y_lo) / (y_hi - y_lo))

    stride = max(1, math.ceil(n / MAX_POINTS))
    keep = list(range(0, n, stride))
    if n and keep[-1] != n - 1:
        keep.append(n - 1)
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {W} {H}' role='img' font-family='sans-serif' "
           f"font-size='{font}' style='flex:1 1 {int(W * 0.9)}px;max-width:{int(W * 1.3)}px;{css}'>",
           f"<title>{html.escape(title)}</title>",
           f"<text x='2' y='{font + 4}' font-size='{font + 1}' font-weight='600'>"
           f"{html.escape(fit_text(title, W - 4, font + 1))}</text>"]
    _grid(out, tk, Y, pad_l, W - pad_r, font, y_text)
    for t in ticks(0, x_hi, 5, whole=True):
        if 0 <= t <= x_hi:
            out.append(f"<text x='{X(t):.1f}' y='{H - pad_b + font + 3}' text-anchor='middle' fill='#555'>"
                       f"{t:g}</text>")
    _x_label(out, x_label, pad_l + pw / 2, H)
    if stacked:
        below = [0.0] * n
        for s, top in zip(series, tops):
            up = " ".join(f"{X(k):.1f},{Y(top[k]):.1f}" for k in keep)
            down = " ".join(f"{X(k):.1f},{Y(below[k]):.1f}" for k in reversed(keep))
            if keep:
                out.append(f"<polygon class='lsim-svg-area' data-label='{html.escape(s.label)}' points='{up} {down}' "
                           f"fill='{s.colour}' fill-opacity='0.95'/>")
            below = top
    else:
        for s, a in zip(series, arrays):
            pts = [f"{X(k):.1f},{Y(a[k]):.1f}" for k in keep if k < len(a) and a[k] == a[k]]
            if pts:
                out.append(f"<polyline class='lsim-svg-line' data-label='{html.escape(s.label)}' points='"
                           + " ".join(pts) + f"' fill='none' stroke='{s.colour}' stroke-width='1.8' "
                           "stroke-linejoin='round'/>")
    labelled = [m for m in markers if m.label and 0 <= m.x <= x_hi][-6:]
    for m in markers:
        if 0 <= m.x <= x_hi:
            out.append(f"<line class='lsim-svg-mark' x1='{X(m.x):.1f}' x2='{X(m.x):.1f}' y1='{pad_t}' "
                       f"y2='{pad_t + ph}' stroke='{m.colour}' stroke-width='{1.2 if m.label else 0.8}'"
                       f"{_DASH.get(m.style, '')}><title>{html.escape(m.text)}</title></line>")
    for i, m in enumerate(labelled):
        px = X(m.x)
        before = (px - pad_l) > pw / 2  # the side with more room
        room = (px - pad_l if before else W - pad_r - px) - 4
        text = fit_text(m.text, room, 9)
        tx = px - 2 if before else px + 2
        out.append(f"<text class='lsim-svg-mark-label' x='{tx:.1f}' y='{pad_t + 10 + 11 * (i % 3)}' font-size='9' "
                   f"text-anchor='{'end' if before else 'start'}' fill='{m.colour}' paint-order='stroke' "
                   f"stroke='white' stroke-width='3'>{html.escape(text)}</text>")
    if zero_line and y_lo < 0 < y_hi:
        out.append(f"<line x1='{pad_l}' x2='{W - pad_r}' y1='{Y(0.0):.1f}' y2='{Y(0.0):.1f}' stroke='#616161'/>")
    if legend:
        lx, ly = 4.0, font + 10 + font
        for s in series:
            w = 26 + text_width(s.label, font)
            if lx > 4 and lx + w > W - 8:
                lx, ly = 4.0, ly + font + 5
            out.append(f"<line x1='{lx:.0f}' x2='{lx + 16:.0f}' y1='{ly - font / 3:.1f}' y2='{ly - font / 3:.1f}' "
                       f"stroke='{s.colour}' stroke-width='{8 if stacked else 3}'/><text x='{lx + 20:.0f}' y='{ly}'>"
                       f"{html.escape(s.label)}</text>")
            lx += w
    out.append("</svg>")
    return "".join(out)

"""The loyalty-formation mechanism A–H as an SVG diagram whose arrows carry this step's flows.

:func:`mechanism_svg` draws the boxes of the theory (A encounter, B perception and evaluation, C/D
reinforcement, E complaint, F recovery, G the trust bottleneck, H loyalty, and the way out) and
the arrows between them. Each arrow's width grows with the number of customers who went along it
in the last step (from ``model.metrics``), arrows that carried nobody fade, and while the model
plays the busy arrows "march" (a CSS animation), so the mechanism lights up as it runs.
"""

from __future__ import annotations

import html
import math

from .plots import STAGE_COLORS

__all__ = ["mechanism_svg", "flows", "title_text", "summary_text"]

W, H = 1050, 446
_R1, _R2, _BH = 112, 286, 90  # the two rows of boxes and their height
#: every text's size in the SVG's units. The page keeps the SVG at least ``MIN_WIDTH`` CSS px wide
#: (scrolling sideways below it, sim/ui/offline.py), so a text is never drawn under
#: FONT × MIN_WIDTH / W ≈ 12 px — readable on a projector. Names and counts take two lines where
#: one would not fit in the box.
FONT = 15.5
MIN_WIDTH = 815
_LINE = 19

# boxes: key → (x, y, w, h, colour)
_BOX = {
    "A": (12, _R1, 140, _BH, "#546e7a"),
    "B": (222, _R1, 170, _BH, "#5e35b1"),
    "CD": (462, _R1, 175, _BH, "#2e7d32"),
    "G": (707, _R1, 150, _BH, STAGE_COLORS["trusting"]),
    "H": (922, _R1, 122, _BH, STAGE_COLORS["loyal"]),
    "E": (222, _R2, 170, _BH, "#e53935"),
    "F": (462, _R2, 175, _BH, "#fb8c00"),
    "X": (707, _R2, 150, _BH, "#757575"),
}

#: box names (a newline starts a second line)
_NAMES = {
    "A": ("A  Service\nencounter", "A  服务接触"),
    "B": ("B  Perceive &\nevaluate", "B  感受与评价"),
    "CD": ("C/D  Reinforcement", "C/D  正强化"),
    "G": ("G  Trust\n(bottleneck)", "G  信任（瓶颈）"),
    "H": ("H  Loyalty\n(peak)", "H  忠诚\n（顶峰）"),
    "E": ("E  Complaint", "E  投诉"),
    "F": ("F  Service\nrecovery", "F  服务补偿"),
    "X": ("Leave or\nswitch", "离开或转换"),
}


def _n(x) -> str:
    return f"{int(round(x)):,}"


def flows(metrics: dict) -> dict[str, float]:
    """This step's flows along each arrow, from the model's observables."""
    g = lambda k: float(metrics.get(k, 0) or 0)  # noqa: E731
    botched = max(0.0, g("recoveries") - g("recoveries_ok"))
    return {
        "purchases": g("purchases"),
        "satisfied": g("cycle_a"),
        "cycle_a": g("cycle_a"),
        "dissatisfied": g("dissatisfied"),
        "complaints": g("complaints"),
        "silent": max(0.0, g("dissatisfied") - g("complaints")),
        "cycle_b": g("cycle_b"),
        "recovered": g("recoveries_ok"),
        "botched": botched,
        "trusting": g("became_trusting"),
        "loyal": g("became_loyal"),
        "betrayed": g("lost_loyalty"),
        "out": g("left") + g("switched"),
    }


def _box_text(key: str, m: dict, lang: str) -> list[str]:
    """The counts shown in a box, one line each."""
    zh = lang == "zh"
    f = flows(m)
    if key == "A":
        return [f"{'购买' if zh else 'purchases'} {_n(f['purchases'])}"]
    if key == "B":
        return [f"{'平均预期' if zh else 'expectation'} {m.get('expectation', 0):.2f}"]
    if key == "CD":
        return [f"{'满意' if zh else 'satisfied'} {_n(f['satisfied'])}", f"{'惊喜' if zh else 'delighted'} {_n(m.get('delighted', 0))}"]
    if key == "G":
        return [f"{'信任客户' if zh else 'trusting'} {_n(m.get('trusting', 0))}"]
    if key == "H":
        return [f"{'忠诚客户' if zh else 'loyal'} {_n(m.get('loyal', 0))}"]
    if key == "E":
        return [f"{'不满' if zh else 'dissatisfied'} {_n(f['dissatisfied'])}", f"{'投诉' if zh else 'complained'} {_n(f['complaints'])}"]
    if key == "F":
        return [f"{'解决' if zh else 'put right'} {_n(f['recovered'])}", f"{'搞砸' if zh else 'botched'} {_n(f['botched'])}"]
    if key == "X":
        return [f"{'离开' if zh else 'left'} {_n(m.get('left', 0))}", f"{'转换' if zh else 'switched'} {_n(m.get('switched', 0))}"]
    return []


def _mid(key: str, side: str) -> tuple[float, float]:
    x, y, w, h, _ = _BOX[key]
    return {"l": (x, y + h / 2), "r": (x + w, y + h / 2), "t": (x + w / 2, y), "b": (x + w / 2, y + h)}[side]


def _arrows() -> list[tuple[str, str, str, tuple[str, str], tuple[float, float], str]]:
    """(flow key, SVG path, colour, (label en, label zh), label position, text-anchor)."""
    a_r, b_l, b_r, cd_l, cd_r = _mid("A", "r"), _mid("B", "l"), _mid("B", "r"), _mid("CD", "l"), _mid("CD", "r")
    g_l, g_r, h_l = _mid("G", "l"), _mid("G", "r"), _mid("H", "l")
    cd_t, a_t = _mid("CD", "t"), _mid("A", "t")
    b_x = _BOX["B"][0]
    e_t, b_b1 = (b_x + 45, _R2), (b_x + 45, _R1 + _BH)
    f_t, b_b2 = (_BOX["F"][0] + 35, _R2), (b_x + 135, _R1 + _BH)
    e_r, f_l, f_r, x_l = _mid("E", "r"), _mid("F", "l"), _mid("F", "r"), _mid("X", "l")
    e_b, x_b, h_b = _mid("E", "b"), _mid("X", "b"), _mid("H", "b")
    g_b = (_BOX["G"][0] + 115, _R1 + _BH)
    top = _R1 - 6  # labels of the first row's arrows sit above the boxes
    gap = _R2 - 6
    return [
        ("purchases", f"M{a_r[0]},{a_r[1]} L{b_l[0] - 4},{b_l[1]}", "#546e7a", ("buy", "购买"),
         ((a_r[0] + b_l[0]) / 2, top), "middle"),
        ("satisfied", f"M{b_r[0]},{b_r[1]} L{cd_l[0] - 4},{cd_l[1]}", "#2e7d32", ("satisfied", "满意"),
         ((b_r[0] + cd_l[0]) / 2, top), "middle"),
        ("cycle_a", f"M{cd_t[0]},{cd_t[1]} C{cd_t[0]},{20} {a_t[0]},{20} {a_t[0]},{a_t[1] - 4}", "#2e7d32",
         ("Cycle A (甲循环): buy again", "甲循环：再次购买"), ((cd_t[0] + a_t[0]) / 2, 30), "middle"),
        ("dissatisfied", f"M{b_b1[0]},{b_b1[1]} L{e_t[0]},{e_t[1] - 4}", "#e53935", ("dissatisfied", "不满"),
         (b_b1[0] - 8, (b_b1[1] + e_t[1]) / 2 + 4), "end"),
        ("complaints", f"M{e_r[0]},{e_r[1]} L{f_l[0] - 4},{f_l[1]}", "#fb8c00", ("complain", "投诉"),
         ((e_r[0] + f_l[0]) / 2, gap), "middle"),
        ("cycle_b", f"M{f_t[0]},{f_t[1]} C{f_t[0]},{f_t[1] - 30} {b_b2[0]},{b_b2[1] + 30} {b_b2[0]},{b_b2[1] + 4}",
         "#8d6e63", ("Cycle B (乙循环): re-evaluate", "乙循环：再评价"), (f_t[0] + 10, (_R1 + _BH + _R2) / 2 + 4),
         "start"),
        ("trusting", f"M{cd_r[0]},{cd_r[1]} L{g_l[0] - 4},{g_l[1]}", STAGE_COLORS["trusting"],
         ("trust builds", "信任积累"), ((cd_r[0] + g_l[0]) / 2, top), "middle"),
        ("loyal", f"M{g_r[0]},{g_r[1]} L{h_l[0] - 4},{h_l[1]}", STAGE_COLORS["loyal"], ("loyal", "忠诚"),
         ((g_r[0] + h_l[0]) / 2, top), "middle"),
        ("betrayed", f"M{h_b[0]},{h_b[1]} C{h_b[0]},{h_b[1] + 36} {g_b[0]},{g_b[1] + 36} {g_b[0]},{g_b[1] + 4}",
         "#c62828", ("trust broken", "信任破裂"), ((h_b[0] + g_b[0]) / 2, h_b[1] + 44), "middle"),
        ("botched", f"M{f_r[0]},{f_r[1]} L{x_l[0] - 4},{x_l[1]}", "#6d4c41", ("botched", "补救失败"),
         ((f_r[0] + x_l[0]) / 2, gap), "middle"),
        ("silent", f"M{e_b[0]},{e_b[1]} C{e_b[0]},{H - 14} {x_b[0]},{H - 14} {x_b[0]},{x_b[1] + 4}", "#9e9e9e",
         ("silent: most never complain", "沉默：大多数人从不投诉"), ((e_b[0] + x_b[0]) / 2, H - 4), "middle"),
    ]


def title_text(lang: str = "en", step: int | None = None) -> str:
    """The diagram's name for a screen reader (its ``<title>``)."""
    zh = lang == "zh"
    name = "机制 A–H" if zh else "The mechanism A–H"
    if step is None:
        return name
    return f"{name}：第 {step} 周的流量" if zh else f"{name}: flows in week {step}"


def summary_text(metrics: dict, lang: str = "en") -> str:
    """What the diagram shows, as text (its ``<desc>``): each box with its counts, then each arrow
    with the customers who went along it — the same names and numbers the picture draws."""
    zh = lang == "zh"
    f = flows(metrics)
    boxes = [_NAMES[k][1 if zh else 0].replace("\n", "" if zh else " ").replace("  ", " ") + ("：" if zh else ": ")
             + ("，" if zh else ", ").join(_box_text(k, metrics, lang)) for k in _BOX]
    arrows = [f"{zh_ if zh else en}{'：' if zh else ': '}{_n(f[key])}" for key, _, _, (en, zh_), _, _ in _arrows()]
    return ("；" if zh else "; ").join(boxes + arrows) + ("。" if zh else ".")


def mechanism_svg(metrics: dict, lang: str = "en", playing: bool = False, step: int | None = None,
                  uid: str = "lsim") -> str:
    """The diagram as an SVG string (fits its container's width)."""
    zh = lang == "zh"
    f = flows(metrics)
    scale = max(1.0, f["purchases"])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" '
           f'style="max-width:{W}px;min-width:{MIN_WIDTH}px;font-family:sans-serif" class="lsim-diagram-svg" role="img" '
           f'aria-describedby="{uid}-desc">',
           f'<title>{html.escape(title_text(lang, step))}</title>'
           f'<desc id="{uid}-desc">{html.escape(summary_text(metrics, lang))}</desc>']
    out.append("<style>"
               f".{uid}-flow{{stroke-dasharray:12 7;animation:{uid}-march 0.8s linear infinite}}"
               f"@keyframes {uid}-march{{to{{stroke-dashoffset:-19}}}}"
               f".{uid}-lbl{{font-size:{FONT}px;fill:#37474f}}"
               f".{uid}-num{{font-size:{FONT}px;font-weight:bold}}"
               "</style>")
    out.append("<defs>")
    arrows = _arrows()
    widths = {}
    for key, _, color, _, _, _ in arrows:
        width = 1.5 + 11 * math.sqrt(min(1.0, f[key] / scale))
        widths[key] = width
        size = max(10.0, 2.2 * width)
        out.append(f'<marker id="{uid}-ah-{key}" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="{size:.1f}" '
                   f'markerHeight="{size:.1f}" markerUnits="userSpaceOnUse" orient="auto">'
                   f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>')
    out.append("</defs>")
    # arrows first, boxes on top
    for key, path, color, (en, zh_), (lx, ly), anchor in arrows:
        v = f[key]
        width = widths[key]
        live = v > 0
        cls = f' class="{uid}-flow"' if (live and playing) else ""
        out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="{width:.1f}" '
                   f'stroke-opacity="{1 if live else 0.22}" marker-end="url(#{uid}-ah-{key})"{cls}>'
                   f'<title>{html.escape(zh_ if zh else en)}: {_n(v)}</title></path>')
        label = html.escape(zh_ if zh else en)
        out.append(f'<text x="{lx:.0f}" y="{ly:.0f}" text-anchor="{anchor}" class="{uid}-lbl" '
                   f'opacity="{1 if live else 0.5}">{label} <tspan class="{uid}-num" fill="{color}">{_n(v)}</tspan></text>')
    lit = {"A": f["purchases"], "B": f["purchases"], "CD": f["satisfied"], "G": f["trusting"], "H": f["loyal"],
           "E": f["dissatisfied"], "F": f["cycle_b"], "X": f["out"]}
    for key, (x, y, w, h, color) in _BOX.items():
        on = lit[key] > 0
        out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="10" fill="{color}" '
                   f'fill-opacity="{0.16 if on else 0.06}" stroke="{color}" stroke-width="{2.5 if on else 1.2}"/>')
        names = _NAMES[key][1 if zh else 0].split("\n")
        counts = _box_text(key, metrics, lang)
        lines = [(t, True) for t in names] + [(t, False) for t in counts]
        top = y + h / 2 - _LINE * len(lines) / 2 + FONT * 0.85  # the lines centred in the box
        for i, (text, bold) in enumerate(lines):
            weight = ' font-weight="bold" fill="#263238"' if bold else ' fill="#37474f"'
            out.append(f'<text x="{x + w / 2}" y="{top + i * _LINE:.1f}" text-anchor="middle" font-size="{FONT}"'
                       f'{weight}>{html.escape(text)}</text>')
    if step is not None:
        out.append(f'<text x="8" y="20" font-size="{FONT}" fill="#455a64">'
                   f'{html.escape(("第 %d 周的流量" % step) if zh else ("Flows in week %d" % step))}</text>')
    out.append("</svg>")
    return "".join(out)

"""The social network, coloured by stage, with clickable customers.

The network is a small world built on a ring (:func:`sim.network.small_world`), so the natural
layout is a circle: place ``i`` sits at angle ``2πi/n``. Markets of more than :data:`MAX_NODES`
places show a fixed window of that many consecutive places (the same window all run long, so the
picture does not jump) and the ties among them; ties that leave the window are left out.

The drawing is an SVG rendered by the browser from a small Vue template (ipyvue, served by the app
itself, no CDN); clicking a customer sends its id back to Python (``on_pick``). The dots are a few
pixels wide, so each place also has an invisible hit area (``lsim-node-hit``): its slice of a band
:data:`HIT_BAND` units either side of the ring, under the dots, so a click near a dot picks it.
"""

from __future__ import annotations

import math

import ipyvuetify as v
import numpy as np
import solara
import traitlets

from .. import mechanism as mc
from .plots import STAGE_COLORS, merchant_colors

__all__ = ["NetworkSvg", "NetworkView", "network_data", "node_key", "hit_areas", "MAX_NODES", "HIT_BAND"]

MAX_NODES = 300
SIZE = 520
#: half the width of the ring's clickable band (SVG units; the ring's radius is SIZE / 2 - 16)
HIT_BAND = 14


class NetworkSvg(v.VuetifyTemplate):
    """An SVG circle of customers; ``picked`` is the id of the last customer clicked."""

    template = traitlets.Unicode("""
<template>
  <svg :viewBox="'0 0 ' + size + ' ' + size" width="100%" :style="'max-width:' + size + 'px'"
       class="lsim-network-svg">
    <path :d="edges" stroke="#90a4ae" stroke-opacity="0.55" stroke-width="0.7" fill="none"/>
    <path v-for="(n, i) in nodes" :key="'hit-' + i" :d="hits[i]" fill="transparent" stroke="none"
          style="cursor:pointer" class="lsim-node-hit" @click="pick(n[3])"><title>{{ n[7] }}</title></path>
    <circle v-for="n in nodes" :key="n[8]" :cx="n[0]" :cy="n[1]" :r="n[4]" :fill="n[2]"
            :stroke="n[5]" :stroke-width="n[6]" style="cursor:pointer" :class="'lsim-node lsim-node-' + n[3]"
            @click="pick(n[3])"><title>{{ n[7] }}</title></circle>
  </svg>
</template>
""").tag(sync=True)
    nodes = traitlets.List([]).tag(sync=True)
    edges = traitlets.Unicode("").tag(sync=True)
    hits = traitlets.List([]).tag(sync=True)
    size = traitlets.Int(SIZE).tag(sync=True)
    picked = traitlets.Int(-1).tag(sync=True)

    def vue_pick(self, data):
        try:
            cid = int(data)
        except (TypeError, ValueError):
            return
        if cid < 0:
            return
        self.picked = -1  # so that clicking the same customer again still reports it
        self.picked = cid


def hit_areas(k: int) -> list[str]:
    """Each of ``k`` places' slice of the band around the ring (SVG paths), in place order."""
    c, r = SIZE / 2, SIZE / 2 - 16
    r0, r1 = r - HIT_BAND, r + HIT_BAND
    half = math.pi / max(k, 1)
    out = []
    for i in range(k):
        a = 2 * math.pi * i / k - math.pi / 2
        p = [(c + rr * math.cos(a + s * half), c + rr * math.sin(a + s * half)) for rr, s in
             ((r1, -1), (r1, 1), (r0, 1), (r0, -1))]
        out.append(f"M{p[0][0]:.1f},{p[0][1]:.1f}A{r1},{r1} 0 0 1 {p[1][0]:.1f},{p[1][1]:.1f}"
                   f"L{p[2][0]:.1f},{p[2][1]:.1f}A{r0},{r0} 0 0 0 {p[3][0]:.1f},{p[3][1]:.1f}Z")
    return out


def node_key(place: int) -> str:
    """The Vue key of the dot of a place: one per place, empty or not (an empty place has no
    customer id: every one of them shows -1 as its id)."""
    return f"place-{place}"


def network_data(sess, selected: int = -1, lang: str = "en") -> tuple[list, str, int, int]:
    """(nodes, edges path, places shown, places in the market) for the current model. A node is
    ``[x, y, fill, customer id (-1 for an empty place), radius, stroke, stroke width, tooltip, key]``."""
    with sess.lock:
        model = sess.model
        pop, net = model.pop, model.network
        n = pop.n
        k = min(n, MAX_NODES)
        places = np.arange(k)
        stage = pop.stage[:k].copy()
        ids = pop.id[:k].copy()
        merchant = pop.merchant[:k].copy()
        trust = pop.trust[:k].copy()
        names = list(model.merchant_names)
        seg = []
        for i in range(k):
            nb = net.neighbours(i)
            nb = nb[(nb > i) & (nb < k)]
            seg.extend((i, int(j)) for j in nb)
    c = SIZE / 2
    r = SIZE / 2 - 16
    ang = 2 * math.pi * places / k - math.pi / 2
    xs, ys = c + r * np.cos(ang), c + r * np.sin(ang)
    mcol = merchant_colors(len(names))
    zh = lang == "zh"
    nodes = []
    for i in range(k):
        st = mc.STAGES[int(stage[i])]
        active = stage[i] > mc.CHURNED
        cid = int(ids[i]) if active else -1
        sel = active and cid == selected
        rad = 7.5 if sel else (4.2 if active else 2.2)
        stroke = "#000000" if sel else (mcol[int(merchant[i])] if active else "#bdbdbd")
        sw = 2.5 if sel else (1.2 if active else 0.6)
        if active:
            title = (f"#{cid} · {mc.STAGE_LABELS[st][1 if zh else 0]} · {names[int(merchant[i])]} · "
                     f"{'信任' if zh else 'trust'} {float(trust[i]):.2f}")
        else:
            title = "空位" if zh else "empty place"
        nodes.append([round(float(xs[i]), 1), round(float(ys[i]), 1), STAGE_COLORS[st], cid, rad, stroke, sw, title,
                      node_key(i)])
    edges = " ".join(f"M{xs[a]:.1f},{ys[a]:.1f}L{xs[b]:.1f},{ys[b]:.1f}" for a, b in seg)
    return nodes, edges, k, n


@solara.component
def NetworkView(sess, version: int, lang: str, selected: int, on_pick):
    """The network picture (``version`` only tells the component when to redraw)."""
    nodes, edges, k, n = solara.use_memo(lambda: network_data(sess, selected, lang),
                                         [id(sess), version, lang, selected])
    with solara.Column(classes=["lsim-network"], gap="4px"):
        hits = solara.use_memo(lambda: hit_areas(k), [k])
        NetworkSvg.element(nodes=nodes, edges=edges, hits=hits, on_picked=lambda cid: cid >= 0 and on_pick(cid))
        zh = lang == "zh"
        if k < n:
            solara.Text((f"显示 {n:,} 个名额中的前 {k} 个（小世界环上的连续名额）及它们之间的关系；点击一位客户查看其故事。")
                        if zh else (f"The first {k} of {n:,} places (neighbours on the small-world ring) and the ties "
                                    "among them; click a customer to read their story."),
                        style={"font-size": "0.85em", "color": "#546e7a"})
        else:
            solara.Text("点击一位客户查看其故事。颜色 = 阶段；外圈颜色 = 商家。" if zh else
                        "Click a customer to read their story. Fill = stage; ring = merchant.",
                        style={"font-size": "0.85em", "color": "#546e7a"})

"""Layout measured without a browser: the plots' change labels and the mechanism diagram's text.

The plots are PNGs drawn by matplotlib, so their labels are measured with matplotlib's own renderer:
every change label must lie inside its axes (it used to run into the next plot and off the
figure's right edge). The browser measures the rest (``tests/test_browser_layout.py``).
"""

from __future__ import annotations

import re

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim.ui import diagram, plots, state


@pytest.fixture(scope="module")
def sess():
    s = state.ExploreSession("baseline")
    for _ in range(6):
        s.step()
    s.set_policy("C", "quality", 0.65)  # early: the label goes right of its line
    s.set_policy("C", "recovery_prob", 0.9)
    for _ in range(30):
        s.step()
    s.set_policy("A", "complaint_ease", 0.45)  # late: near the right edge
    s.set_policy("A", "recovery_delay", 3)
    s.set_policy("B", "compensation", 0.3)
    s.step()
    return s


@pytest.mark.parametrize("key", ["loyal_churn", "stages", "cycles", "profit"])
@pytest.mark.parametrize("lng", ["en", "zh"])
def test_change_labels_stay_inside_their_plot(sess, key, lng):
    build, _, _ = plots.FIGURES[key]
    fig = build(sess, lng)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    labels = [t for ax in fig.axes for t in ax.texts if t.get_text() and hasattr(t, "xy")]
    assert len(labels) >= 2, "the changes are labelled"
    for t in labels:
        box, area = t.get_window_extent(renderer), t.axes.get_window_extent(renderer)
        assert box.x0 >= area.x0 - 1 and box.x1 <= area.x1 + 1, (
            f"{key} {lng}: the label {t.get_text()!r} spans x {box.x0:.0f}–{box.x1:.0f}, its plot {area.x0:.0f}–{area.x1:.0f}")
    fig.clear()


def test_diagram_text_is_large_enough_at_its_minimum_width():
    svg = diagram.mechanism_svg({"purchases": 1800, "cycle_a": 1500}, "en", step=3)
    sizes = [float(x) for x in re.findall(r'font-size[=:]"?([\d.]+)', svg)]
    assert sizes and min(sizes) * diagram.MIN_WIDTH / diagram.W >= 12
    assert f"min-width:{diagram.MIN_WIDTH}px" in svg

"""What a user types on the Explore and Compare pages, rendered without a browser (``solara.render``).

- a typed value is committed from the text box's ``change`` event, whose data is the text the box
  shows: the server's copy of ``v_model`` may still hold an older text (the browser sends state
  changes one at a time, an event at once), and the value must not come from it;
- Enter and then leaving the box fire ``change`` twice: one change, one entry in the run's list;
- every seed and every "pause at week" typed is checked against its declared range, with a message
  naming the field and the range, never an exception;
- changing Speed or Redraw while the market plays never sends the page into an endless render loop;
- Compare's Run button is off (with the reason) when its settings give no run.

The same reproductions in a real browser: ``tests/test_ui_inputs_browser.py``.
"""

from __future__ import annotations

import threading
import time

import ipyvuetify as v
import ipywidgets
import pytest

import solara.server.starlette  # noqa: F401  (reactive values scoped per virtual kernel, as under the server)
import solara

from sim.inputs.scenario import RUN_PARAMS, parse_scenario
from sim.ui import compare, explore, i18n, state
from sim.ui.files import toml_text
from ui_kit import all_widgets, virtual_session

@pytest.fixture
def ctx():
    with virtual_session("test-inputs") as c:
        yield c



def classed(rc, cls: str, widget_class=v.VuetifyWidget):
    return [w for w in all_widgets(rc) if isinstance(w, widget_class) and cls in (getattr(w, "class_", None) or "").split()]


def one(rc, cls: str, widget_class=v.VuetifyWidget):
    found = classed(rc, cls, widget_class)
    assert len(found) == 1, f"{cls}: {len(found)} widgets"
    return found[0]


def control_of(rc, name: str, kind):
    """The one widget of class ``kind`` in the parameter control ``lsim-param-NAME``."""
    sheet = one(rc, f"lsim-param-{name}", v.Sheet)
    todo, found = list(sheet.children), []
    while todo:
        w = todo.pop(0)
        if isinstance(w, kind):
            found.append(w)
        todo.extend(c for c in (getattr(w, "children", None) or []) if isinstance(c, ipywidgets.Widget))
    assert len(found) == 1
    return found[0]


def box_of(rc, name: str) -> v.TextField:
    """The text box of the parameter control ``lsim-param-NAME``."""
    return control_of(rc, name, v.TextField)


def texts(rc) -> str:
    out = []
    for w in all_widgets(rc):
        for c in getattr(w, "children", []) or []:
            if isinstance(c, str):
                out.append(c)
        for attr in ("md", "value", "unsafe_innerHTML"):
            x = getattr(w, attr, None)
            if isinstance(x, str):
                out.append(x)
    return " ".join(out)


def open_merchant(rc, name: str) -> None:
    for panels in classed(rc, "lsim-panels", v.ExpansionPanels):
        for i, p in enumerate(panels.children):
            if f"lsim-merchant-{name}" in (getattr(p, "class_", "") or ""):
                panels.v_model = i
                return
    raise AssertionError(name)


def user_changes(sess) -> list:
    return [(iv.step, iv.target, dict(iv.changes)) for iv in sess.model.interventions if iv.source == "user"]


def render_explore():
    _, rc = solara.render(explore.Explore(), handle_error=False)
    return rc


# ------------------------------------------------------------------------------------------------
# typed values
# ------------------------------------------------------------------------------------------------
def test_the_text_the_box_shows_is_committed_not_a_lagging_v_model(ctx):
    rc = render_explore()
    sess = state.session.value
    one(rc, "lsim-step", v.Btn).click()
    open_merchant(rc, "C")
    box = box_of(rc, "C-quality")
    # the browser: "0.71" typed, Enter pressed; the server has only seen the first keystroke yet
    box.v_model = "0"
    box.fire_event("change", "0.71")
    assert sess.model.merchant("C").policy.quality == 0.71
    assert sess.params.merchants[2].quality == 0.71
    # the late keystrokes arrive, then the box is left (Vuetify fires change again): no second change
    box.v_model = "0.7"
    box.v_model = "0.71"
    box.fire_event("change", "0.71")
    assert user_changes(sess) == [(1, "C", {"quality": 0.71})]
    assert box.v_model == "0.71"
    assert "Service quality 0.71" in texts(rc)  # the panel's title
    # the same value typed again later records nothing either; a new value does
    one(rc, "lsim-step", v.Btn).click()
    box_of(rc, "C-quality").fire_event("change", "0.710")
    assert user_changes(sess) == [(1, "C", {"quality": 0.71})]
    box_of(rc, "C-quality").fire_event("change", "0.6")
    assert user_changes(sess) == [(1, "C", {"quality": 0.71}), (2, "C", {"quality": 0.6})]


def slider_of(rc, name: str) -> v.Slider:
    """The slider of the parameter control ``lsim-param-NAME``."""
    return control_of(rc, name, v.Slider)


def open_panel(rc, css: str) -> None:
    for panels in classed(rc, "lsim-panels", v.ExpansionPanels):
        for i, p in enumerate(panels.children):
            if css in (getattr(p, "class_", "") or "").split():
                panels.v_model = i
                return
    raise AssertionError(css)


def test_a_slider_is_not_sent_back_to_a_value_it_has_moved_past(ctx):
    """Quick arrow-key presses: the browser's slider is already at 1.18 when the change to 1.16
    arrives. Committing 1.16, and every render after it (a step of the market), leaves the slider
    where the browser has it; only a value set otherwise (typed, refused) moves it from here."""
    rc = render_explore()
    sess = state.session.value
    open_merchant(rc, "A")
    slider = slider_of(rc, "A-price")
    assert slider.v_model == sess.params.merchants[0].price == 1.15  # placed at mount
    slider.v_model = 1.18  # the browser's position after three presses
    slider.fire_event("change", 1.16)
    assert sess.params.merchants[0].price == 1.16
    assert slider.v_model == 1.18
    one(rc, "lsim-step", v.Btn).click()
    assert slider_of(rc, "A-price").v_model == 1.18
    slider.fire_event("change", 1.17)
    slider.fire_event("change", 1.18)
    assert sess.params.merchants[0].price == 1.18 and slider.v_model == 1.18
    # a value typed in the box moves the slider
    box_of(rc, "A-price").fire_event("change", "1.5")
    assert sess.params.merchants[0].price == 1.5 and slider.v_model == 1.5
    # a value the market refuses (a trust bottleneck above the loyalty threshold, 0.8): the reason is
    # shown and the slider goes back to the value in force
    open_panel(rc, "lsim-group-customers")
    trust = slider_of(rc, "trust_threshold")
    assert trust.v_model == sess.params.trust_threshold == 0.5
    trust.v_model = 0.9
    trust.fire_event("change", 0.9)
    assert sess.params.trust_threshold == 0.5 and trust.v_model == 0.5
    assert "loyalty_threshold" in texts(rc)


def test_the_session_records_no_change_for_the_current_value(ctx):
    render_explore()
    sess = state.session.value
    sess.step(2)
    assert sess.set_policy("A", "price", sess.params.merchants[0].price) == "same"
    assert sess.set_param("trust_gain", sess.params.trust_gain) == "same"
    assert user_changes(sess) == [] and sess.user_events == []
    assert sess.set_param("trust_gain", 0.25) == "live"
    assert sess.set_param("trust_gain", 0.25) == "same"
    assert len(user_changes(sess)) == 1


# ------------------------------------------------------------------------------------------------
# seed and "pause at week"
# ------------------------------------------------------------------------------------------------
BAD_SEEDS = ["99999999999999999999999", "-1", "abc", "1.5", "", "1e30", "nan", "inf", str(2**63)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_any_typed_seed_is_used_or_refused_with_its_range(ctx, lang):
    i18n.lang.value = lang
    rc = render_explore()
    sess = state.session.value
    seed0 = sess.seed
    hi = f"{RUN_PARAMS['seed'].hi}"
    for bad in BAD_SEEDS:
        one(rc, "lsim-seed-input", v.TextField).fire_event("change", bad)
        shown = one(rc, "lsim-notice", v.Html).children[0]
        assert "0 … 2⁶³ − 1" in shown and int(hi) == 2**63 - 1, (bad, shown)
        assert ("Seed" if lang == "en" else "随机种子") in shown
        assert ("out of range" in shown or "whole number" in shown or "finite" in shown) if lang == "en" else \
            ("超出范围" in shown or "整数" in shown), shown
        assert one(rc, "lsim-seed-input", v.TextField).error is True
        assert sess.seed == seed0
        assert parse_scenario(toml_text(sess), source="x.toml").seed == seed0  # the TOML still works
    # the largest seed allowed is used, and saved and read back
    one(rc, "lsim-seed-input", v.TextField).fire_event("change", f" {hi} ")
    assert sess.seed == 2**63 - 1 and sess.steps == 0
    assert one(rc, "lsim-seed-input", v.TextField).error is False
    assert parse_scenario(toml_text(sess), source="x.toml").seed == 2**63 - 1
    # Enter, then leaving the box: the market is reset once, not again after it has moved on
    one(rc, "lsim-seed-input", v.TextField).fire_event("change", "42")
    assert sess.seed == 42
    sess.step(3)
    one(rc, "lsim-seed-input", v.TextField).fire_event("change", "42")
    assert sess.steps == 3


def test_the_session_refuses_a_seed_out_of_range(ctx):
    from sim.params import ParamError

    render_explore()
    sess = state.session.value
    with pytest.raises(ParamError, match=r"out of range: allowed 0 … 2⁶³ − 1"):
        sess.reset(seed=10**23)


def test_pause_at_week_is_checked_with_a_message(ctx):
    rc = render_explore()
    sess = state.session.value
    before = sess.stop_at
    for bad in ["-3", "abc", "2.5", "1000000"]:
        one(rc, "lsim-stop-at", v.TextField).fire_event("change", bad)
        shown = one(rc, "lsim-notice", v.Html).children[0]
        assert "Pause at week" in shown and "0 … 100000" in shown, shown
        assert sess.stop_at == before
        assert one(rc, "lsim-stop-at", v.TextField).error is True
    one(rc, "lsim-stop-at", v.TextField).fire_event("change", "0")
    assert sess.stop_at == 0 and one(rc, "lsim-stop-at", v.TextField).error is False
    assert "does not pause" in one(rc, "lsim-notice", v.Html).children[0]
    one(rc, "lsim-stop-at", v.TextField).fire_event("change", "30")
    assert sess.stop_at == 30


# ------------------------------------------------------------------------------------------------
# Speed and Redraw while playing
# ------------------------------------------------------------------------------------------------
def test_speed_and_redraw_changes_while_playing_do_not_loop_the_render(ctx):
    """The play thread used to go on changing the page while another thread rendered it, so that
    render never ended (reacton: "Too many renders triggered" after 100 passes, the page frozen)."""
    rc = render_explore()
    sess = state.session.value
    sess.stop_at = 0
    state.speed.value = 0
    state.redraw_every.value = 2
    state.playing.value = True
    try:
        t = time.monotonic()
        while sess.steps < 3 and time.monotonic() - t < 30:
            time.sleep(0.05)
        start = sess.steps
        worst = 0.0
        for i in range(24):
            t0 = time.monotonic()
            if i % 2:
                state.redraw_every.value = state.REDRAWS[i % 3]  # raises RuntimeError on a render loop
            else:
                state.speed.value = (0, 50)[i % 4 // 2]
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.15)
        assert worst < 5.0, f"a change of Speed or Redraw took {worst:.1f} s to render"
        assert sess.steps > start, "the market stopped playing"
    finally:
        state.playing.value = False
        t, last = time.monotonic(), -1
        while sess.steps != last and time.monotonic() - t < 10:  # the play thread has stopped
            last = sess.steps
            time.sleep(0.3)
    assert state.speed.value in (0, 50) and state.redraw_every.value in state.REDRAWS
    rc.close()  # nothing of this page may listen to the shared values any more


def test_rendered_waits_for_a_render_in_another_thread():
    class RC:
        thread_lock = threading.Lock()

    done = []
    RC.thread_lock.acquire()
    threading.Timer(0.3, RC.thread_lock.release).start()
    t = time.monotonic()
    state.rendered(lambda: done.append(1), RC(), threading.Event())()
    assert done == [1] and time.monotonic() - t >= 0.25
    # at most ``limit`` seconds, and not at all after cancel
    RC.thread_lock.acquire()
    cancel = threading.Event()
    cancel.set()
    t = time.monotonic()
    state.rendered(lambda: None, RC(), cancel)()
    state.rendered(lambda: None, RC(), None, limit=0.2)()
    assert time.monotonic() - t < 1.0
    RC.thread_lock.release()


# ------------------------------------------------------------------------------------------------
# Compare
# ------------------------------------------------------------------------------------------------
def test_compare_run_is_off_when_there_is_nothing_to_run(ctx):
    compare.reset()
    _, rc = solara.render(compare.Compare(), handle_error=False)
    run = one(rc, "lsim-compare-run", v.Btn)
    assert run.disabled is False and "Run (10 runs)" in run.children
    compare.replicates.value = 0
    run = one(rc, "lsim-compare-run", v.Btn)
    assert run.disabled is True
    assert "replicates" in texts(rc) and "1 … 200" in texts(rc)
    assert not any("(0 runs)" in c for c in run.children if isinstance(c, str))
    compare.replicates.value = 5
    compare.seed.value = 10**23
    assert one(rc, "lsim-compare-run", v.Btn).disabled is True and "seed" in texts(rc)
    compare.seed.value = 1
    assert one(rc, "lsim-compare-run", v.Btn).disabled is False


def test_compare_run_settings_take_the_text_the_box_shows(ctx):
    compare.reset()
    _, rc = solara.render(compare.Compare(), handle_error=False)
    box = one(rc, "lsim-compare-replicates", v.TextField)
    box.v_model = "1"  # the first keystroke of "12"; the Enter's event carries the whole text
    box.fire_event("change", "12")
    assert compare.replicates.value == 12
    assert "Run (24 runs)" in one(rc, "lsim-compare-run", v.Btn).children
    one(rc, "lsim-compare-seed", v.TextField).fire_event("change", "ten")
    assert one(rc, "lsim-compare-run", v.Btn).disabled is True
    assert "'seed' = ten is out of range: allowed 0 … 9,223,372,036,854,775,807" in texts(rc)
    one(rc, "lsim-compare-seed", v.TextField).fire_event("change", "10")
    assert compare.seed.value == 10 and one(rc, "lsim-compare-run", v.Btn).disabled is False

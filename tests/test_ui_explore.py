"""The Explore page, rendered without a browser (``solara.render`` in virtual kernels).

Each test renders in its own virtual kernel, as the server does for each browser tab, so every
test starts from a fresh session (and one test checks that two sessions do not share anything).
"""

from __future__ import annotations

import io
import math
import threading
import time

import ipyvuetify as v
import ipywidgets
import pytest

import solara.server.starlette  # noqa: F401  (reactive values scoped per virtual kernel, as under the server)
import solara
from solara.server import kernel, kernel_context

from sim.params import PARAMS, Params
from sim.runs.provenance import replicate_seeds
from sim.inputs.scenario import MAX_BYTES, parse_scenario
from sim.ui import explore, i18n, state
from sim.ui.controls import ParameterPanels
from sim.ui.diagram import mechanism_svg
from sim.ui.files import handle_upload, toml_text
from sim.ui.inspector import pick, story_lines, why_text
from ui_kit import all_widgets, virtual_session

@pytest.fixture
def ctx():
    with virtual_session("test-explore") as c:
        yield c


def classed(rc, cls: str, widget_class=v.VuetifyWidget):
    return [w for w in all_widgets(rc) if isinstance(w, widget_class) and cls in (getattr(w, "class_", None) or "").split()]


def one(rc, cls: str, widget_class=v.VuetifyWidget):
    found = classed(rc, cls, widget_class)
    assert len(found) == 1, f"{cls}: {len(found)} widgets"
    return found[0]


def descendants(widget):
    out, todo = [], list(getattr(widget, "children", []) or [])
    while todo:
        w = todo.pop(0)
        if hasattr(w, "children"):
            out.append(w)
            todo.extend(c for c in (w.children or []) if not isinstance(c, str))
    return out


def control(rc, name: str, widget_class):
    box = one(rc, f"lsim-param-{name}", v.Sheet)
    found = [w for w in descendants(box) if isinstance(w, widget_class)]
    assert found, f"no {widget_class.__name__} in the control of {name}"
    return found[0]



def texts(rc) -> str:
    """All text on the page: widgets' string children, and Markdown / HTML sources."""
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


def open_panels(rc, cls: str, i: int):
    for panels in classed(rc, "lsim-panels", v.ExpansionPanels):
        if any(cls in (getattr(p, "class_", "") or "") for p in panels.children):
            panels.v_model = i
            return
    raise AssertionError(cls)


def render_explore():
    box, rc = solara.render(explore.Explore(), handle_error=False)
    return rc


# ------------------------------------------------------------------------------------------------
def test_parameter_controls_follow_the_declaration(ctx):
    """Every PARAMS entry has a control with the declared default, min, max and step."""
    seen = []
    box, rc = solara.render(ParameterPanels(Params(), lambda name, value: seen.append((name, value))),
                            handle_error=False)
    groups = [g for g in ("customers", "market", "word_of_mouth") if any(p.group == g for p in PARAMS.values())]
    checked = set()
    for i, g in enumerate(groups):
        open_panels(rc, f"lsim-group-{g}", i)
        for p in PARAMS.values():
            if p.group != g:
                continue
            s = control(rc, p.name, v.Slider)
            # the slider's grid starts at a multiple of the step at or below the least value (so
            # typed values on the step's grid stay where they are); the range itself is checked on commit
            grid_lo = math.floor(p.lo / p.step + 1e-9) * p.step
            assert (s.min, s.max, s.step) == (grid_lo, p.hi, p.step), p.name
            assert grid_lo <= p.lo < grid_lo + p.step
            assert s.v_model == p.default, p.name
            box_ = control(rc, p.name, v.TextField)
            assert float(box_.v_model) == pytest.approx(p.default), p.name
            checked.add(p.name)
    assert checked == set(PARAMS)
    # a slider released at a value reports it, validated
    open_panels(rc, "lsim-group-customers", 0)
    control(rc, "trust_gain", v.Slider).fire_event("change", 0.2)
    assert seen[-1] == ("trust_gain", 0.2)


def test_a_bad_typed_value_shows_the_param_error(ctx):
    box, rc = solara.render(ParameterPanels(Params(), lambda n, x: None), handle_error=False)
    open_panels(rc, "lsim-group-customers", 0)
    field = control(rc, "trust_gain", v.TextField)
    # (the box's "change" event, fired on Enter and on leaving it, carries the text it shows)
    field.fire_event("change", "7")
    assert "out of range: allowed 0 … 1" in texts(rc)
    field.fire_event("change", "abc")
    assert "'abc' must be a number" in texts(rc)
    i18n.lang.value = "zh"
    field.fire_event("change", "7")
    assert "超出范围" in texts(rc)


def test_reset_keeps_edits_and_seed_reuse_reproduces(ctx, monkeypatch):
    rc = render_explore()
    sess = state.session.value
    open_panels(rc, "lsim-group-customers", 0)
    control(rc, "trust_gain", v.Slider).fire_event("change", 0.2)
    assert sess.params.trust_gain == 0.2 and sess.model.params.trust_gain == 0.2
    step = one(rc, "lsim-step", v.Btn)
    for _ in range(8):
        step.click()
    first = dict(sess.model.metrics)
    assert sess.steps == 8
    one(rc, "lsim-reset", v.Btn).click()
    assert sess.steps == 0
    assert sess.params.trust_gain == 0.2 and sess.model.params.trust_gain == 0.2  # the edit is kept
    for _ in range(8):
        step.click()
    assert dict(sess.model.metrics) == first  # same settings + same seed = same run
    monkeypatch.setattr(state, "new_seed", lambda: 4242)
    one(rc, "lsim-seed", v.Btn).click()
    assert sess.seed == 4242 and sess.steps == 0 and sess.params.trust_gain == 0.2
    assert "seed 4242" in texts(rc)


def test_structural_parameters_wait_for_reset(ctx):
    rc = render_explore()
    sess = state.session.value
    one(rc, "lsim-step", v.Btn).click()
    n0 = sess.model.pop.n
    assert sess.set_param("n_customers", 700) == "pending"
    state.edited()
    assert sess.model.pop.n == n0 and "n_customers" in sess.pending()
    assert classed(rc, "lsim-pending", v.Sheet)
    one(rc, "lsim-reset", v.Btn).click()
    assert sess.model.pop.n == 700 and not sess.pending()


def test_notes_are_replaced_when_they_would_be_stale(ctx):
    """"Reset now" of settings waiting for Reset says the market was reset (the note still said the
    settings applied on Reset); pressing Play drops an earlier note ("Playing pauses at week 6" once
    past week 6)."""
    rc = render_explore()
    sess = state.session.value
    one(rc, "lsim-step", v.Btn).click()
    assert sess.set_param("n_customers", 700) == "pending"
    state.notice.value = ("info", "Customers = 700: applies on Reset (it shapes the market).")
    state.edited()
    one(rc, "lsim-apply-pending", v.Btn).click()
    assert sess.model.pop.n == 700 and sess.steps == 0
    assert "Reset: week 0" in str(state.notice.value[1]) and "applies on Reset" not in str(state.notice.value[1])
    state.notice.value = ("info", "Playing pauses at week 6.")
    state.speed.value = 1
    one(rc, "lsim-play", v.Btn).click()
    assert state.notice.value == ("", "")
    one(rc, "lsim-pause", v.Btn).click()
    time.sleep(1.2)  # (the play thread ends before the next Play)
    state.notice.value = ("error", "a bad value")  # an error stays until it is answered
    one(rc, "lsim-play", v.Btn).click()
    assert state.notice.value == ("error", "a bad value")
    one(rc, "lsim-pause", v.Btn).click()
    time.sleep(1.2)  # the play thread has seen the Pause (at 1 week a second it was waiting)


def test_policy_change_mid_run_is_an_intervention(ctx):
    rc = render_explore()
    sess = state.session.value
    step = one(rc, "lsim-step", v.Btn)
    for _ in range(3):
        step.click()
    open_panels(rc, "lsim-merchant-A", 0)
    control(rc, "A-price", v.Slider).fire_event("change", 1.3)
    ivs = [iv for iv in sess.model.interventions if iv.source == "user"]
    assert len(ivs) == 1 and ivs[0].step == 3 and ivs[0].target == "A" and ivs[0].changes == {"price": 1.3}
    assert sess.model.merchant("A").policy.price == 1.3
    assert "Week 3" in texts(rc) and "A: Price → 1.3" in texts(rc)  # notice and list of changes
    step.click()
    from sim.ui.plots import _grouped_interventions
    assert (3, "A", "user", {"price": 1.3}) in _grouped_interventions(sess.model.interventions)


def test_language_toggle_changes_visible_text(ctx):
    rc = render_explore()
    play = one(rc, "lsim-play", v.Btn)
    assert "Play" in play.children
    assert "Loyalty over time" in texts(rc)
    i18n.lang.value = "zh"
    assert "播放" in one(rc, "lsim-play", v.Btn).children
    assert "忠诚的形成" in texts(rc)
    svg = mechanism_svg(state.session.value.model.metrics, "zh")
    assert "信任（瓶颈）" in svg and "甲循环" in svg


def test_bad_upload_shows_the_error_and_keeps_settings(ctx):
    rc = render_explore()
    sess = state.session.value
    sess.set_param("trust_gain", 0.3)
    before = sess.params
    loaded = []
    bad = b"[params]\ntrust_gain = 2.0\n"
    err, ok = handle_upload({"name": "bad.toml", "size": len(bad), "file_obj": io.BytesIO(bad), "data": None},
                            loaded.append, "en")
    assert not ok and not loaded
    assert err.startswith("bad.toml, line 2: parameter 'params.trust_gain' = 2 is out of range")
    err_zh, _ = handle_upload({"name": "bad.toml", "size": len(bad), "file_obj": io.BytesIO(bad), "data": None},
                              loaded.append, "zh")
    assert "超出范围" in err_zh
    big = b"#" * (MAX_BYTES + 10)
    err, _ = handle_upload({"name": "big.toml", "size": len(big), "file_obj": io.BytesIO(big), "data": None},
                           loaded.append, "en")
    assert "at most" in err and not loaded
    err, _ = handle_upload({"name": "x.toml", "size": 5, "file_obj": io.BytesIO(b"a = ["), "data": None},
                           loaded.append, "en")
    assert err.startswith("x.toml") and not loaded
    assert sess.params == before  # the current settings stay
    good = b'[params]\nn_customers = 600\n[run]\nseed = 5\n'
    err, ok = handle_upload({"name": "good.toml", "size": len(good), "file_obj": io.BytesIO(good), "data": None},
                            loaded.append, "en")
    assert not err and ok.startswith("Loaded good.toml") and len(loaded) == 1
    assert classed(rc, "lsim-upload", v.Sheet)


def test_toml_download_round_trips_and_reproduces_the_run(ctx):
    render_explore()
    sess = state.session.value
    sess.set_param("n_customers", 800)
    sess.reset(seed=7)
    sess.set_param("trust_loss", 0.5)  # at week 0: part of the starting settings
    sess.step(4)
    sess.set_policy("A", "price", 1.3)  # during the run: an event at week 4
    sess.set_param("wom_negative", 0.4)
    sess.step(4)
    text = toml_text(sess)
    sc = parse_scenario(text, source="download.toml")
    assert sc.params == sess.base_params and sc.seed == 7
    assert [(e.step, e.target, e.changes) for e in sc.events][-2:] == [(4, "A", {"price": 1.3}),
                                                                        (4, "market", {"wom_negative": 0.4})]
    res = sc.run(seed=replicate_seeds(sc.seed, 1)[0], steps=8)  # as `loyalty-sim run` seeds it
    assert res.metrics.iloc[-1].to_dict() == pytest.approx(dict(sess.model.metrics))
    csv = sess.market_csv().decode()
    assert csv.splitlines()[0].startswith("step,seed,") and len(csv.splitlines()) == 10


def test_two_sessions_do_not_share_state():
    ctxs = [kernel_context.VirtualKernelContext(id=f"two-{i}", kernel=kernel.Kernel(), session_id=f"two-s{i}")
            for i in range(2)]
    with ctxs[0]:
        rc1 = render_explore()
        s1 = state.session.value
        one(rc1, "lsim-step", v.Btn).click()
        s1.set_param("trust_gain", 0.3)
        i18n.lang.value = "zh"
        state.speed.value = 50
    with ctxs[1]:
        rc2 = render_explore()
        s2 = state.session.value
        assert s2 is not s1 and s2.steps == 0 and s2.params.trust_gain != 0.3
        assert i18n.lang.value == "en" and state.speed.value != 50
        assert "Play" in one(rc2, "lsim-play", v.Btn).children
    with ctxs[0]:
        assert state.session.value is s1 and s1.steps == 1 and i18n.lang.value == "zh"
    for c in ctxs:
        try:
            c.close()
        except Exception:
            pass


def test_play_loop_steps_and_redraws_every_n(ctx):
    render_explore()
    sess = state.session.value
    draws = []
    n = state.play_loop(sess, threading.Event(), speed=lambda: 0, every=lambda: 3, draw=lambda: draws.append(sess.steps),
                        max_steps=7)
    assert n == 7 and sess.steps == 7 and draws == [3, 6, 7]
    # stop at a step; cancel stops at once
    sess.stop_at = 9
    assert state.play_loop(sess, threading.Event(), speed=lambda: 0, every=lambda: 5, draw=lambda: None,
                           stop_at=lambda: sess.stop_at) == 2
    cancel = threading.Event()
    cancel.set()
    assert state.play_loop(sess, cancel, speed=lambda: 0, every=lambda: 1, draw=lambda: None) == 0


def test_a_play_loop_never_steps_a_market_started_again_under_it(ctx):
    """Switching scenario (or Reset) while playing: the page sets Pause and loads the new market at
    once, while the play thread may be between two steps and not yet cancelled. It must not step
    the new market (it ended paused at week 1 in about one switch in five at 10–20 weeks/s)."""
    from sim.inputs.scenario import load_scenario

    render_explore()
    sess = state.session.value
    cancel = threading.Event()
    switched = []

    def draw():  # the user picks another scenario in the middle of the run; Pause not seen yet
        if sess.steps >= 3 and not switched:
            sess.load(load_scenario("price_war"))
            switched.append(sess.steps)

    n = state.play_loop(sess, cancel, speed=lambda: 0, every=lambda: 1, draw=draw, max_steps=20)
    assert switched == [0] and sess.steps == 0 and n == 3
    sess.step()
    assert sess.steps == 1  # (a step of the page itself, without a run number, still steps)
    run = sess.run_no
    sess.reset()
    assert not sess.step(run=run) and sess.steps == 0


def test_play_button_runs_in_a_thread_and_pauses(ctx):
    rc = render_explore()
    sess = state.session.value
    state.speed.value = 0
    one(rc, "lsim-play", v.Btn).click()
    t = time.time()
    while sess.steps < 3 and time.time() - t < 20:
        time.sleep(0.05)
    one(rc, "lsim-pause", v.Btn).click()
    time.sleep(0.3)
    n = sess.steps
    assert n >= 3
    time.sleep(0.3)
    assert sess.steps == n  # paused


def test_customer_stories(ctx):
    render_explore()
    sess = state.session.value
    sess.step(30)
    cid = pick(sess, "trusting") or pick(sess, "ordinary")
    story = sess.model.customer(cid)
    en, zh = story_lines(story, "en"), story_lines(story, "zh")
    assert en and zh and en[0].startswith("Week") and zh[0].startswith("第")
    assert why_text(story, sess.model.params, 3, "en")
    left = pick(sess, "left")
    if left is not None:
        assert "left the market" in why_text(sess.model.customer(left), sess.model.params, 3, "en")


def test_why_text_tells_how_well_the_offer_suits_the_customer():
    """The inspector's 'why' names a clearly good or poor fit with the merchant, in both languages,
    and says nothing about fit when it is near zero."""
    from sim import LoyaltyModel, Params

    model = LoyaltyModel(Params(n_customers=400, fit_spread=0.1), seed=3)
    for _ in range(20):
        model.step()
    by_fit = {}
    for cid in model.customer_ids("ordinary"):
        story = model.customer(int(cid))
        f = story["state"]["fit"]
        by_fit.setdefault("good" if f >= 0.03 else "poor" if f <= -0.03 else "near", story)
    assert set(by_fit) == {"good", "poor", "near"}
    P = model.params
    assert "suits" in why_text(by_fit["good"], P, 3, "en") and "well, fit +" in why_text(by_fit["good"], P, 3, "en")
    assert "很契合" in why_text(by_fit["good"], P, 3, "zh")
    assert "less well, fit -" in why_text(by_fit["poor"], P, 3, "en")
    assert "不太契合" in why_text(by_fit["poor"], P, 3, "zh")
    assert "fit" not in why_text(by_fit["near"], P, 3, "en") and "契合" not in why_text(by_fit["near"], P, 3, "zh")


def test_picking_a_customer_is_reproducible_and_leaves_the_run_alone():
    a, b = state.ExploreSession("baseline"), state.ExploreSession("baseline")
    for s in (a, b):
        s.step(20)
    picks_a = [pick(a, "ordinary") for _ in range(5)]
    assert picks_a == [pick(b, "ordinary") for _ in range(5)]  # same seed, same picks
    assert len(set(picks_a)) > 1  # they are draws, not always the first customer
    a.step(5)
    c = state.ExploreSession("baseline")  # a session that never picks a customer
    c.step(25)
    assert c.model.metrics == a.model.metrics  # picking did not touch the model's stream


def test_a_redraw_renders_the_page_once_and_the_counter_follows_steps_between(ctx, monkeypatch):
    """``moved`` (a redraw) renders the page once, the week counter with it; ``ticked`` between
    redraws renders the counter's week only when it changed. (Each render of the page costs
    15–20 ms: a second render per redraw for the counter cost the play loop about 40% of its time.)"""
    rc = render_explore()
    sess = state.session.value
    counts = {"counter": 0, "kpis": 0}
    for name, comp in (("counter", explore.StepCounter), ("kpis", explore.KPIs)):
        f = comp.f

        def counting(*a, _f=f, _n=name, **k):
            counts[_n] += 1
            return _f(*a, **k)
        monkeypatch.setattr(comp, "f", counting)

    def counter_text():
        return " ".join(c for w in classed(rc, "lsim-step-counter", v.Html) for c in w.children if isinstance(c, str))

    sess.step()
    state.moved()
    assert counts == {"counter": 1, "kpis": 1} and "Week 1" in counter_text()
    state.ticked()  # already shown at this week: nothing to render
    assert counts == {"counter": 1, "kpis": 1}
    sess.step()
    state.ticked()  # a step between redraws: the counter alone
    assert counts == {"counter": 2, "kpis": 1} and "Week 2" in counter_text()


def test_every_dot_of_the_network_has_its_own_key(ctx):
    """Vue needs a distinct key for each element of a ``v-for`` among its siblings; an empty place has
    no customer (id -1), and keyed by that id every empty place had the same key ("Duplicate keys
    detected: '-1'" on each redraw)."""
    import re as _re

    from sim.ui.network_view import NetworkSvg, hit_areas, network_data

    render_explore()
    sess = state.session.value
    template = NetworkSvg.template.default_value
    loops = _re.findall(r'<(\w+) v-for="(?:\((\w+), (\w+)\)|(\w+)) in nodes" :key="([^"]+)"', template)
    assert len(loops) == 2  # the hit areas and the dots, siblings in the same <svg>

    def key(expr: str, n: list, i: int):
        """A ``:key`` expression of the template for node ``n`` at index ``i``: ``'text' + i`` or ``n[k]``."""
        m = _re.fullmatch(r"'([\w-]*)' \+ (\w+)", expr) or _re.fullmatch(r"(\w+)\[(\d+)\]", expr)
        assert m, f"a key the test cannot read: {expr}"
        return f"{m.group(1)}{i}" if expr.startswith("'") else n[int(m.group(2))]

    for week in (0, 20):
        sess.step(week - sess.steps)
        nodes, _, k, _ = network_data(sess)
        assert sum(n[3] == -1 for n in nodes) >= 2  # several empty places
        assert len(hit_areas(k)) == len(nodes)
        keys = [key(expr, n, i) for *_, expr in loops for i, n in enumerate(nodes)]
        assert len(set(keys)) == len(keys) == 2 * len(nodes), [x for x in keys if keys.count(x) > 1][:5]

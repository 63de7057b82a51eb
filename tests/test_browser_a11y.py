"""Accessibility of the web app in a real browser (Debian's chromium driven by Playwright).

What a student with a screen reader or only a keyboard needs, checked property by property (no
audit library is needed at test time):

- the page's ``<html lang>`` follows the EN / 中文 toggle (a screen reader picks its voice from it),
  and the page can be zoomed on a phone (the viewport does not forbid it);
- every slider, text box and list of a parameter is named by the parameter's own label and described
  by its help (:mod:`sim.params`), in both languages; an icon-only button has a name;
- the mechanism diagram has a name and a text description of what it shows, and its box (which
  scrolls sideways on a phone) can be reached with the Tab key;
- each page link of the app bar is one stop of the Tab key and the current page's says so;
- whatever has the keyboard's focus shows a ring;
- the small grey texts (ranges, the seed) are dark enough to read on white (WCAG AA, 4.5:1).

Skipped (with the reason) only when ``/usr/bin/chromium`` is missing. Never ``playwright install``.
"""

from __future__ import annotations

import re

import pytest
from browser_kit import (AppServer, chromium, chromium_missing, close_contexts, open_page, open_panel, output_dir,
                         wait_quiet)

from sim.params import MERCHANT_PARAMS, PARAMS
from sim.ui.controls import MERCHANT_MAIN
from sim.ui.diagram import title_text

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

VIEWPORT = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("a11y-workshops") / "workshops.sqlite"  # a workshop log of its own
    with AppServer(cull="60s", env={"LSIM_WORKSHOP_DB": str(db)},
                   log=output_dir("logs") / "test_browser_a11y-server.log") as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def new_page(server, browser):
    """``new_page(path, ready, viewport)``: a page of a fresh session (closed afterwards)."""
    made = []

    def make(path: str = "/", ready: str = ".lsim-play", viewport: dict | None = None):
        ctx = browser.new_context(viewport=viewport or VIEWPORT, locale="en-US")
        ctx.set_default_timeout(60_000)
        made.append(ctx)
        return open_page(ctx, server.url, path, ready=ready)

    yield make
    close_contexts(made)


def to_chinese(page) -> None:
    page.locator(".lsim-lang-zh").click()
    page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")


def tab_to(page, selector: str, limit: int = 150, back: bool = False) -> int:
    """Press Tab (Shift+Tab) until the focus is in ``selector``; the number of presses."""
    for i in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate("s => !!(document.activeElement && document.activeElement.closest(s))", selector):
            return i + 1
    raise AssertionError(f"the Tab key never reached {selector}")


# ------------------------------------------------------------------------------------------------
# the page itself
# ------------------------------------------------------------------------------------------------
def test_page_language_follows_the_toggle_and_the_page_can_be_zoomed(new_page):
    page = new_page()
    assert page.evaluate("document.documentElement.lang") == "en"
    # each language's button is named in its own language
    assert page.locator(".lsim-lang-zh").get_attribute("lang") == "zh-CN"
    assert page.locator(".lsim-lang-en").get_attribute("lang") == "en"
    # (a name that starts with what the button shows, so that a speech-input user can say "click EN")
    assert page.locator(".lsim-lang-en").get_attribute("aria-label") == "EN — English"
    to_chinese(page)
    page.locator(".lsim-nav-link[href$='learn']").click()  # the language belongs to the session
    page.wait_for_selector(".lsim-learn-page")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.locator(".lsim-lang-en").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    viewport = page.get_attribute("meta[name=viewport]", "content")
    assert "user-scalable=no" not in viewport and "maximum-scale=1" not in viewport, viewport

    join = new_page("/join", ready=".lsim-ws-join")  # a participant's page (no layout of its own)
    assert join.evaluate("document.documentElement.lang") == "en"
    to_chinese(join)


# ------------------------------------------------------------------------------------------------
# names
# ------------------------------------------------------------------------------------------------
def _check_named(panel, params, lng: str) -> None:
    from playwright.sync_api import expect

    for p in params:
        name, help_ = p.label(lng), p.help(lng)
        if p.kind == "choice":
            box = panel.locator(f"[class*='lsim-param-'][class*='{p.name}'] .lsim-select input").first
            expect(box).to_have_accessible_name(name)
            continue
        # (expect waits: after a change of language the names follow with the page's next render)
        slider = panel.get_by_role("slider", name=name, exact=True)
        expect(slider, f"{lng}: no slider named {name!r} ({p.name})").to_have_count(1)
        expect(slider).to_have_accessible_description(help_)
        expect(panel.get_by_role("textbox", name=name, exact=True), f"{lng}: no text box named {name!r}").to_have_count(1)


def test_parameter_controls_are_named_by_their_labels(new_page):
    page = new_page()
    for lng in ("en", "zh"):
        if lng == "zh":
            to_chinese(page)
        open_panel(page, "lsim-merchant-A")
        _check_named(page.locator(".lsim-merchant-A"), [MERCHANT_PARAMS[f] for f in MERCHANT_MAIN], lng)
        open_panel(page, "lsim-group-word_of_mouth")
        _check_named(page.locator(".lsim-group-word_of_mouth"),
                     [p for p in PARAMS.values() if p.group == "word_of_mouth"], lng)
    # a slider found by its name moves with the arrow keys
    slider = page.locator(".lsim-group-word_of_mouth").get_by_role("slider", name=PARAMS["wom_negative"].label("zh"))
    before = slider.get_attribute("aria-valuenow")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([s, v]) => document.querySelector(s).getAttribute('aria-valuenow') !== v",
                           arg=[".lsim-param-wom_negative [role=slider]", before])


def test_icon_only_button_has_a_name(new_page):
    from playwright.sync_api import expect

    page = new_page("/compare", ready=".lsim-compare-page")
    button = page.locator(".lsim-compare-remove-edit").first
    edit = button.locator("xpath=ancestor::*[contains(@class, 'lsim-compare-edit')][1]").inner_text().strip()
    expect(button).to_have_accessible_name(f"Remove this edit: {edit}")
    to_chinese(page)
    expect(page.locator(".lsim-compare-remove-edit").first).to_have_accessible_name(re.compile(r"^删除此修改："))


def test_diagram_has_a_name_a_description_and_a_tab_stop(new_page):
    from playwright.sync_api import expect

    page = new_page(viewport=PHONE)  # where it scrolls sideways
    page.locator(".lsim-step").click()
    page.wait_for_function("() => /1/.test(document.querySelector('.lsim-step-counter').textContent)")
    img = page.get_by_role("img", name=title_text("en", 1), exact=True)
    expect(img).to_have_count(1)
    expect(img).to_have_accessible_description(re.compile(r"A Service encounter: purchases [\d,]+;.*Cycle A"))
    region = page.get_by_role("region", name=title_text("en"), exact=True)
    expect(region).to_have_count(1)
    assert region.get_attribute("tabindex") == "0"
    to_chinese(page)
    expect(page.get_by_role("img", name=title_text("zh", 1), exact=True)).to_have_accessible_description(
        re.compile(r"A 服务接触：购买 [\d,]+"))


# ------------------------------------------------------------------------------------------------
# the keyboard
# ------------------------------------------------------------------------------------------------
def test_page_links_are_one_tab_stop_each_and_say_which_page_is_shown(new_page):
    page = new_page()
    wait_quiet(page, 800, 8000)
    tab_to(page, ".lsim-navs")
    stops = []
    while page.evaluate("() => !!document.activeElement.closest('.lsim-navs')"):
        stops.append(page.evaluate("() => [document.activeElement.tagName, document.activeElement.textContent.trim()]"))
        page.keyboard.press("Tab")
    assert [tag for tag, _ in stops] == ["A"] * 5, stops
    assert page.locator("[aria-current=page]").count() == 1
    assert page.locator("[aria-current=page]").inner_text().strip().lower() == "explore"
    # back to Compare's link, followed with Enter
    tab_to(page, ".lsim-nav-link[href$='compare']", back=True)
    page.keyboard.press("Enter")
    page.wait_for_selector(".lsim-compare-page")
    page.wait_for_function("() => /compare/i.test(document.querySelector('[aria-current=page]').textContent)")


def test_the_keyboard_focus_shows(new_page):
    page = new_page()
    wait_quiet(page, 800, 8000)
    for selector in (".lsim-play", ".lsim-lang-zh", ".lsim-panel-header"):
        tab_to(page, selector)
        ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                             " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
        assert ring[0] == "solid" and ring[1] >= 2, (selector, ring)


# ------------------------------------------------------------------------------------------------
# colours
# ------------------------------------------------------------------------------------------------
_CONTRAST_JS = """sel => Array.from(document.querySelectorAll(sel)).filter(e => e.getClientRects().length).map(e => {
  const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  return [e.textContent.trim().slice(0, 40), (1.05) / (lum(getComputedStyle(e).color) + 0.05)]; })"""


def test_small_grey_texts_are_dark_enough(new_page):
    page = new_page()
    open_panel(page, "lsim-group-customers")
    texts = page.evaluate(_CONTRAST_JS, ".lsim-param > span:last-child, .lsim-seed-value")
    assert len(texts) >= 5
    low = [(t, round(c, 2)) for t, c in texts if c < 4.5]  # against the cards' white
    assert not low, low

    # a red text button (Vuetify's "error" red, #ff5252, is 3.3:1 on white)
    host = new_page("/workshop", ready=".lsim-ws-create-button")
    host.locator(".lsim-ws-weeks input").fill("4")
    host.locator(".lsim-ws-customers input").fill("300")
    host.locator(".lsim-ws-create-button").click()
    host.wait_for_selector(".lsim-ws-close")
    (text, contrast), = host.evaluate(_CONTRAST_JS, ".lsim-ws-close .v-btn__content")
    assert contrast >= 4.5, (text, contrast)

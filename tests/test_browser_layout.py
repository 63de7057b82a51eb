"""The Explore page's layout, measured in a real browser at the widths a classroom uses.

For each window (a phone, a tablet, laptops, a 1280×720 projector at 150 % zoom — a CSS viewport
of 853×480 with 1.5 device pixels per CSS pixel —, desktops) and each language, the test opens the
Explore page, switches the language with the app bar's toggle (a real click, so the toggle must be
inside the window and not covered) and measures:

- the run controls: no two of the buttons, the week counter, the select/box labels and their input
  areas overlap (text measured by its own extent, not its element's box);
- the language toggle, the page links and the buttons of the run controls and of the Files section
  are inside the window once scrolled to, and the point at their centre belongs to them (nothing —
  e.g. a "runs on Solara" badge — lies on top);
- every text of the mechanism diagram is drawn at 12 CSS px or more;
- on the 1280×720 projector at 150 %, the first screen shows at least half of the diagram.

A screenshot of each window goes to ``test-output/layout/`` (:func:`browser_kit.output_dir`).
The change labels on the plots are PNG pixels, measured in ``tests/test_ui_layout.py``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from browser_kit import AppServer, chromium, chromium_missing, open_page, output_dir, wait_quiet

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

#: (name, CSS width, CSS height, device pixels per CSS pixel)
WINDOWS = [
    ("phone-390", 390, 844, 2),
    ("tablet-768", 768, 1024, 1),
    ("laptop-1024", 1024, 768, 1),
    ("projector-1280x720-zoom150", 853, 480, 1.5),
    ("laptop-1366", 1366, 768, 1),
    ("laptop-1440", 1440, 900, 1),
    ("desktop-1920", 1920, 1080, 1),
]

# text (its own extent) or element boxes inside the run controls; parts of one control may touch
_RUN_BOXES_JS = r"""() => {
  const run = document.querySelector('.lsim-run');
  const out = [];
  const box = (r, group, what) => { if (r.width > 0 && r.height > 0)
      out.push({group, what, x: r.left, y: r.top, r: r.right, b: r.bottom}); };
  const textBox = e => { const rg = document.createRange(); rg.selectNodeContents(e); return rg.getBoundingClientRect(); };
  for (const sel of ['.lsim-play', '.lsim-pause', '.lsim-step', '.lsim-reset', '.lsim-seed']) {
    const e = run.querySelector(sel); if (e) box(e.getBoundingClientRect(), sel, 'button');
  }
  for (const sel of ['.lsim-step-counter', '.lsim-seed-value']) {
    const e = run.querySelector(sel); if (e) box(textBox(e), sel, 'text');
  }
  for (const sel of ['.lsim-speed', '.lsim-redraw', '.lsim-stop-at', '.lsim-seed-input']) {
    const root = run.querySelector(sel);
    if (!root) { out.push({group: sel, what: 'missing'}); continue; }
    const label = root.querySelector('label');
    if (label) box(textBox(label), sel, 'label ' + label.textContent.trim());
    const slot = root.querySelector('.v-input__slot');
    if (slot) box(slot.getBoundingClientRect(), sel, 'input');
    for (const m of root.querySelectorAll('.v-messages__message')) box(textBox(m), sel, 'message');
  }
  return out;
}"""

# the key numbers' cards and the scenario picker (its label floats above its box)
_KPI_BOXES_JS = r"""() => {
  const out = [];
  const box = (r, group, what) => { if (r.width > 0 && r.height > 0)
      out.push({group, what, x: r.left, y: r.top, r: r.right, b: r.bottom}); };
  document.querySelectorAll('.lsim-kpi').forEach((e, i) => box(e.getBoundingClientRect(), 'key number ' + i, 'card'));
  const s = document.querySelector('.lsim-scenario');
  if (s) {
    const label = s.querySelector('label');
    if (label) box(label.getBoundingClientRect(), 'scenario', 'label');
    const slot = s.querySelector('.v-input__slot');
    if (slot) box(slot.getBoundingClientRect(), 'scenario', 'input');
  }
  return out;
}"""

# is the element inside the window and is the point at its centre its own?
_HITTABLE_JS = r"""e => {
  const r = e.getBoundingClientRect();
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const inside = r.width > 0 && r.left >= -0.5 && r.top >= -0.5 && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5;
  const hit = inside ? document.elementFromPoint(cx, cy) : null;
  const top = hit && !(e === hit || e.contains(hit)) ?
      (hit.tagName.toLowerCase() + '.' + (hit.className || '') + ' "' + (hit.textContent || '').trim().slice(0, 40) + '"') : '';
  return {inside, covered: top, box: [r.left, r.top, r.width, r.height].map(Math.round), vw: innerWidth, vh: innerHeight};
}"""

# rendered font size (CSS px) of every text of the diagram
_DIAGRAM_FONTS_JS = r"""() => {
  const svg = document.querySelector('.lsim-diagram svg');
  const k = svg.getScreenCTM().a;
  return Array.from(svg.querySelectorAll('text')).map(t => ({
    text: t.textContent.trim().slice(0, 40), px: k * parseFloat(getComputedStyle(t).fontSize)}));
}"""

_VISIBLE_SHARE_JS = r"""sel => {
  const e = document.querySelector(sel); if (!e) return 0;
  const r = e.getBoundingClientRect(); if (!r.height) return 0;
  const top = Math.max(0, r.top), bottom = Math.min(innerHeight, r.bottom);
  return Math.max(0, bottom - top) / r.height;
}"""


def overlaps(boxes: list[dict], tolerance: float = 1.0) -> list[str]:
    """Pairs of boxes of different controls that overlap by more than ``tolerance`` px both ways."""
    bad = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a["group"] == b["group"]:
                continue
            w = min(a["r"], b["r"]) - max(a["x"], b["x"])
            h = min(a["b"], b["b"]) - max(a["y"], b["y"])
            if w > tolerance and h > tolerance:
                bad.append(f"{a['group']} {a['what']} × {b['group']} {b['what']} ({w:.0f}×{h:.0f} px)")
    return bad


@pytest.fixture(scope="module")
def server():
    with AppServer(cull="60s", log=output_dir("logs") / "test_browser_layout-server.log") as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def hittable(page, selector: str) -> list[str]:
    """Problems of every element ``selector`` (scrolled to first): outside the window, covered."""
    problems = []
    loc = page.locator(selector)
    if not loc.count():
        return [f"nothing matches {selector}"]
    for i in range(loc.count()):
        el = loc.nth(i)
        if not el.is_visible():
            problems.append(f"{selector}[{i}] is not visible")
            continue
        el.evaluate("e => e.scrollIntoView({block: 'center', inline: 'nearest'})")
        page.wait_for_timeout(150)
        got = el.evaluate(_HITTABLE_JS)
        if not got["inside"]:
            problems.append(f"{selector}[{i}] lies outside the {got['vw']}×{got['vh']} window at {got['box']}")
        elif got["covered"]:
            problems.append(f"{selector}[{i}] is covered by {got['covered']}")
    return problems


# the run settings of the Compare and Sweep pages: each field's label and input, and the Run button
_BATCH_BOXES_JS = r"""prefix => {
  const out = [];
  const box = (r, group, what) => { if (r.width > 0 && r.height > 0)
      out.push({group, what, x: r.left, y: r.top, r: r.right, b: r.bottom}); };
  const textBox = e => { const rg = document.createRange(); rg.selectNodeContents(e); return rg.getBoundingClientRect(); };
  for (const name of ['replicates', 'steps', 'customers', 'seed']) {
    const root = document.querySelector('.' + prefix + '-' + name);
    if (!root) { out.push({group: name, what: 'missing'}); continue; }
    const label = root.querySelector('label');
    if (label) box(textBox(label), name, 'label ' + label.textContent.trim());
    const slot = root.querySelector('.v-input__slot');
    if (slot) box(slot.getBoundingClientRect(), name, 'input');
  }
  const run = document.querySelector('.' + prefix + '-run');
  if (run) box(run.getBoundingClientRect(), 'run', 'button');
  return out;
}"""


@pytest.mark.parametrize("lng", ["en", "zh"])
@pytest.mark.parametrize("page_name", ["compare", "sweep"])
@pytest.mark.parametrize("name,width,height,scale", [WINDOWS[0], WINDOWS[1]], ids=[WINDOWS[0][0], WINDOWS[1][0]])
def test_run_settings_do_not_overlap_on_narrow_screens(server, browser, page_name, name, width, height, scale, lng):
    """On a phone the run settings wrap onto several rows: a wrapped row's labels must not lie on the
    inputs of the row above (they did on the Sweep and Compare pages)."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale,
                              locale="en-US")
    ctx.set_default_timeout(60_000)
    try:
        page = open_page(ctx, server.url, "/" + page_name, ready=f".lsim-{page_name}-run")
        page.locator(f".lsim-lang-{lng}").click(timeout=5_000)
        page.wait_for_selector(f".lsim-{page_name}-run:has-text('{'运行' if lng == 'zh' else 'Run'}')")
        page.wait_for_timeout(500)
        boxes = page.evaluate(_BATCH_BOXES_JS, f"lsim-{page_name}")
        assert not [b for b in boxes if b["what"] == "missing"], boxes
        page.screenshot(path=str(output_dir("layout") / f"{page_name}-{name}-{lng}.png"))
        problems = overlaps(boxes)
        assert not problems, f"{page_name} {name} {lng}:\n- " + "\n- ".join(problems)
    finally:
        ctx.close()


@pytest.mark.parametrize("lng", ["en", "zh"])
@pytest.mark.parametrize("name,width,height,scale", WINDOWS, ids=[w[0] for w in WINDOWS])
def test_explore_layout(server, browser, name, width, height, scale, lng):
    ctx = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale,
                              locale="en-US")
    ctx.set_default_timeout(60_000)
    try:
        page = open_page(ctx, server.url)
        problems: list[str] = []
        # the toggle must be reachable: inside the window, on top, and a real click switches
        problems += hittable(page, ".lsim-lang-en, .lsim-lang-zh")
        problems += hittable(page, ".lsim-nav")
        page.locator(f".lsim-lang-{lng}").click(timeout=5_000)
        page.wait_for_selector(".lsim-play:has-text('播放')" if lng == "zh" else ".lsim-play:has-text('Play')")
        page.wait_for_timeout(800)
        page.evaluate("() => { for (const e of document.querySelectorAll('*')) if (e.scrollTop) e.scrollTop = 0; }")
        page.wait_for_timeout(300)
        page.screenshot(path=str(output_dir("layout") / f"explore-{name}-{lng}.png"))

        first_screen = page.evaluate(_VISIBLE_SHARE_JS, ".lsim-diagram svg")
        if name.startswith("projector"):
            assert first_screen >= 0.5, (f"{name} {lng}: the first screen shows {first_screen:.0%} of the "
                                         f"mechanism diagram (at least half expected)")

        problems += overlaps(page.evaluate(_RUN_BOXES_JS))
        kpis = page.evaluate(_KPI_BOXES_JS)  # (the last card lay on the Scenario label on a phone)
        problems += overlaps(kpis) + (["no key numbers"] if not any(b["what"] == "card" for b in kpis) else [])
        small = [f"{t['text']!r} {t['px']:.1f}px" for t in page.evaluate(_DIAGRAM_FONTS_JS) if t["px"] < 11.95]
        if small:
            problems.append(f"diagram texts under 12 px: {small[:8]}{' …' if len(small) > 8 else ''}")
        for sel in (".lsim-play", ".lsim-step", ".lsim-reset", ".lsim-seed", ".lsim-download-csv",
                    ".lsim-download-merchants-csv", ".lsim-download-toml", ".lsim-upload-pick"):
            problems += hittable(page, sel)
        badge = page.locator("a[href*='solara.dev']")
        if badge.count() and badge.first.is_visible():
            problems.append("the 'runs on Solara' badge is shown over the page")
        page.screenshot(path=str(output_dir("layout") / f"explore-{name}-{lng}-files.png"))
        assert not problems, f"{name} ({width}×{height} @{scale}) {lng}:\n- " + "\n- ".join(problems)
        assert not page.lsim_errors, page.lsim_errors
    finally:
        ctx.close()


def test_upload_has_a_file_chooser_reachable_by_keyboard(server, browser, tmp_path):
    """The upload's button opens the browser's file chooser (tablets, phones and keyboards cannot
    drag and drop); Tab reaches it and Enter presses it; the chosen scenario is loaded."""
    from sim.inputs.scenario import load_scenario, scenario_to_toml

    good = tmp_path / "club.toml"
    good.write_text(scenario_to_toml(load_scenario("membership_club")), encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text("[params]\nn_customers = -5\n", encoding="utf-8")
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True)
    ctx.set_default_timeout(60_000)
    try:
        page = open_page(ctx, server.url)
        # Playwright intercepts file choosers once something listens for them, and turns that on with
        # a message of its own: listen from the start, so that the first Enter cannot race it. (A
        # chooser that opened before interception stayed open, unseen, in the headless browser and
        # blocked every later one: the test then failed all three attempts, on main too, in 2 of 3
        # runs on one machine.)
        page.on("filechooser", lambda _chooser: None)
        # let the first render finish (the plots come last): a part drawn again loses the focus
        page.wait_for_function("() => document.querySelectorAll('.lsim-figure svg .lsim-svg-line').length > 0",
                               timeout=60_000)
        wait_quiet(page)  # (a fixed second was not always enough on a busy machine)
        pick = page.locator(".lsim-upload-pick")
        pick.scroll_into_view_if_needed()
        assert pick.is_visible()
        # keyboard: Tab from the button before it lands on the picker, Enter opens the chooser. On a
        # busy machine a late redraw of the page can take the focus between Tab and Enter: then the
        # whole keyboard path is tried again (at most three times; each time it must work by keys)
        chooser = None
        for attempt in range(3):
            page.locator(".lsim-download-toml").focus()
            for _ in range(6):
                if pick.evaluate("e => e === document.activeElement || e.contains(document.activeElement)"):
                    break
                page.keyboard.press("Tab")
            assert pick.evaluate("e => e === document.activeElement || e.contains(document.activeElement)"), \
                "Tab does not reach the 'Choose a file' button"
            page.wait_for_timeout(300)
            try:
                with page.expect_file_chooser(timeout=8_000) as chooser:
                    page.keyboard.press("Enter")
                break
            except PlaywrightTimeout:
                chooser = None
                wait_quiet(page)
        assert chooser is not None, "Enter on the focused 'Choose a file' button opens no file chooser"
        chooser.value.set_files(str(bad))
        page.wait_for_selector(".lsim-upload-error", timeout=30_000)
        assert "n_customers" in page.locator(".lsim-upload-error").inner_text()
        # the message follows the page's language
        page.locator(".lsim-lang-zh").click()
        page.wait_for_function("() => /[\\u4e00-\\u9fff]/.test(document.querySelector('.lsim-upload-error').textContent)",
                               timeout=10_000)
        page.locator(".lsim-lang-en").click()
        page.wait_for_selector(".lsim-play:has-text('Play')")
        page.locator(".lsim-upload-input").set_input_files(str(good))
        title = load_scenario("membership_club").text("title", "en")
        page.wait_for_function("t => document.querySelector('.lsim-scenario') && "
                               "document.querySelector('.lsim-scenario').textContent.includes(t)", arg=title,
                               timeout=30_000)
        page.wait_for_selector(".lsim-upload-error", state="detached", timeout=10_000)
        page.screenshot(path=str(output_dir("layout") / "upload-picked-390-en.png"))
    finally:
        ctx.close()


# ------------------------------------------------------------------------------------------------
# 中文: no English left on the main pages
# ------------------------------------------------------------------------------------------------
#: Latin words a Chinese page may show on purpose: the toggle, the product's name, units and file types
ALLOWED_LATIN = {"EN", "loyalty-sim", "NPS", "CSV", "PNG", "TOML", "KB", "toml"}

# visible text, without command-line lines (lsim-cli), code and the app bar's product name
_ZH_TEXT_JS = r"""scope => {
  const out = [];
  for (const root of document.querySelectorAll(scope)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: n => {
      const p = n.parentElement;
      if (!p || p.closest('script, style, noscript, template, code, pre, .lsim-cli, title') || !p.getClientRects().length)
        return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_ACCEPT; }});
    while (walker.nextNode()) { const t = walker.currentNode.nodeValue.trim(); if (t) out.push(t); }
  }
  return out.join('\n');
}"""


def english_left(page, scope: str = "body", allowed: set[str] = frozenset(), proper_names: bool = False) -> list[str]:
    """Latin words in the visible text beyond :data:`ALLOWED_LATIN` and ``allowed``; file paths
    (``docs/ODD.md``) do not count, nor, with ``proper_names``, capitalised words (authors cited,
    libraries credited)."""
    import re

    text = re.sub(r"[\w./-]+\.(?:md|toml|csv|png)\b", "", page.evaluate(_ZH_TEXT_JS, scope))
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]", text)
    if proper_names:
        words = [w for w in words if not w[0].isupper()]
    lines = [line for line in text.split("\n") if any(w in line for w in words)]
    bad = sorted({w for w in words if w not in ALLOWED_LATIN and w not in allowed})
    return [f"{w!r} in {next((line for line in lines if w in line), '')[:90]!r}" for w in bad]


def test_no_english_on_the_main_pages_in_chinese(server, browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
    ctx.set_default_timeout(60_000)
    try:
        page = open_page(ctx, server.url)
        # notices made in English before the switch
        page.locator(".lsim-reset").click()
        page.wait_for_selector(".lsim-notice:has-text('Reset')")
        page.locator(".lsim-lang-zh").click()
        page.wait_for_selector(".lsim-play:has-text('播放')")
        page.wait_for_selector(".lsim-notice:has-text('已重置')")
        # the scenario's notes, a group of parameters and a merchant open
        page.get_by_text("关于此情景").click()
        page.wait_for_selector(".lsim-scenario-info")
        for panel in (".lsim-group-customers", ".lsim-merchant-A"):
            page.locator(panel).locator(".lsim-panel-header").first.click()
            page.wait_for_selector(f"{panel}.v-expansion-panel--active .lsim-param")
        page.wait_for_timeout(800)
        problems = {"explore": english_left(page)}
        page.screenshot(path=str(output_dir("layout") / "zh-explore.png"), full_page=True)
        page.locator(".lsim-step").click()  # a week played: every tab has something to show
        for tab in ("cycles", "now", "network"):
            page.locator(f".lsim-tab-{tab}").click()
            page.wait_for_timeout(1500)
            problems[f"explore, tab {tab}"] = english_left(page, ".lsim-main")
        for i, (name, ready) in enumerate((("compare", ".lsim-compare-page"), ("sweep", ".lsim-sweep-page"),
                                           ("learn", ".lsim-learn-page")), start=1):
            page.locator(".lsim-nav").nth(i).click()
            page.wait_for_selector(ready)
            page.wait_for_timeout(1500)
            # Learn opens on the model's Info: its credits cite authors and libraries by name
            problems[name] = english_left(page, allowed={"numpy"}, proper_names=name == "learn")
            page.screenshot(path=str(output_dir("layout") / f"zh-{name}.png"), full_page=True)
        left = {k: v for k, v in problems.items() if v}
        assert not left, "English on Chinese pages:\n" + "\n".join(f"{k}: {v}" for k, v in left.items())
    finally:
        ctx.close()


def test_a_click_beside_a_customer_on_the_ring_picks_it(server, browser):
    """The ring's dots are a few pixels wide: a click 10 units outside a dot (twice its radius)
    still picks that customer."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    ctx.set_default_timeout(60_000)
    try:
        page = open_page(ctx, server.url)
        page.locator(".lsim-tab-network").click()
        page.wait_for_selector(".lsim-network svg circle.lsim-node")
        got = page.evaluate("""() => {
          const svg = document.querySelector('.lsim-network svg');
          const nodes = Array.from(svg.querySelectorAll('circle.lsim-node'))
              .filter(c => !c.classList.contains('lsim-node--1'));
          const c = nodes[Math.floor(nodes.length / 3)];
          c.scrollIntoView({block: 'center'});
          const id = +Array.from(c.classList).find(k => /^lsim-node-\\d+$/.test(k)).slice('lsim-node-'.length);
          const x = +c.getAttribute('cx'), y = +c.getAttribute('cy'), mid = 260;
          const d = Math.hypot(x - mid, y - mid);
          const p = svg.createSVGPoint();
          p.x = x + 10 * (x - mid) / d; p.y = y + 10 * (y - mid) / d;
          const s = p.matrixTransform(svg.getScreenCTM());
          return {id, x: s.x, y: s.y, r: +c.getAttribute('r')};
        }""")
        assert got["r"] < 10  # the point clicked lies outside the dot
        page.mouse.click(got["x"], got["y"])
        page.wait_for_function(
            "id => { const e = document.querySelector('.lsim-inspector'); return e && new RegExp('#' + id + '\\\\b').test(e.textContent); }",
            arg=got["id"], timeout=20_000)
    finally:
        ctx.close()

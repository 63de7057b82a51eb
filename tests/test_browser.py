"""The web app in a real browser: Debian's chromium driven by Playwright against ``solara run app.py``.

One server for the whole module (production mode, a free port of 127.0.0.1, stopped with its
children at the end) and one browser; each test opens its own browser context(s), i.e. its own
Solara session(s). Every request of every page of the module is recorded, and the last test checks
that none went anywhere but this machine.

Screenshots of every page, in English and in Chinese, go to ``test-output/screenshots/``
(``$LSIM_TEST_OUTPUT`` replaces ``test-output``) for reviewers to look at.

The tests are skipped (with the reason) only when ``/usr/bin/chromium`` is missing; ``.ci/run``
installs it with apt. Never ``playwright install``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from browser_kit import (
    chromium,
    AppServer,
    RequestLog,
    body_text,
    chinese_without_font,
    chromium_missing,
    drop_file,
    image_digest,
    image_src,
    open_page,
    open_panel,
    output_dir,
    screenshot,
    server_errors,
    settled_week,
    type_value,
    wait_image_change,
    wait_text,
    wait_week,
    wait_words,
    week,
)

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

VIEWPORT = {"width": 1400, "height": 1000}

#: the words that must show in each page in each language (and must not in the other one)
WORDS = {
    "explore": {"en": ["Reset", "New seed", "Scenario", "Market", "Merchants", "Files", "Loyalty over time",
                       "Active customers"],
                "zh": ["重置", "新种子", "情景", "市场", "商家", "文件", "忠诚的形成", "在网客户"]},
    "compare": {"en": ["Compare configurations", "Replicates", "Add configuration", "Configuration 1", "Customers"],
                "zh": ["比较配置", "重复次数", "添加配置", "配置 1", "客户数"]},
    "sweep": {"en": ["Sweep parameters", "Base scenario", "Replicates", "Vary a second parameter"],
              "zh": ["参数扫描", "基础情景", "重复次数", "再改变第二个参数"]},
    "learn": {"en": ["Learn: how the model works", "About the model", "Glossary", "Scenarios"],
              "zh": ["学习：模型如何运作", "模型说明", "术语表", "情景"]},
    "nav": {"en": ["Explore", "Compare", "Sweep", "Learn"], "zh": ["探索", "比较", "扫描", "学习"]},
}
PAGES = {"explore": ("/", ".lsim-explore"), "compare": ("/compare", ".lsim-compare-page"),
         "sweep": ("/sweep", ".lsim-sweep-page"), "learn": ("/learn", ".lsim-learn-page")}


# ------------------------------------------------------------------------------------------------
# fixtures: one server, one browser, one request log for the module
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    with AppServer(cull="60s", log=output_dir("logs") / "test_browser-server.log") as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def requests_seen():
    return RequestLog()


@pytest.fixture
def new_context(browser, requests_seen):
    """Browser contexts (each one a separate Solara session) whose requests are recorded."""
    made = []

    def make(**kw):
        ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="en-US", **kw)
        ctx.set_default_timeout(60_000)
        requests_seen.watch(ctx)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        for page in ctx.pages:
            try:
                page.close(run_before_unload=True)  # as a closed tab: the server drops the session
            except Exception:  # noqa: BLE001
                pass
        ctx.close()


@pytest.fixture
def explore(server, new_context):
    """A fresh session on the Explore page."""
    return open_page(new_context(), server.url)


def no_page_errors(page) -> None:
    assert not page.lsim_errors, f"JavaScript errors in the page: {page.lsim_errors}"


def nav(page, name: str) -> None:
    """Go to a page with the app bar's links (the same session, unlike page.goto)."""
    ready = PAGES[name][1]
    index = list(PAGES).index(name)
    page.locator(".lsim-nav").nth(index).click()
    page.wait_for_selector(ready, timeout=60_000)


# ------------------------------------------------------------------------------------------------
# Explore
# ------------------------------------------------------------------------------------------------
def test_explore_renders(explore):
    page = explore
    assert page.title() == "Explore — loyalty-sim"
    assert page.locator(".lsim-play").is_visible()
    assert week(page) == 0
    assert page.locator(".lsim-nav").count() == 5  # Explore, Compare, Sweep, Learn, Workshop (not /join, /screen)
    assert page.locator(".lsim-lang-en").is_visible() and page.locator(".lsim-lang-zh").is_visible()
    # the charts of the first tab, drawn by the browser as SVG: a line per merchant (loyal share and
    # churn), an area per stage, each chart wide enough to read
    for key, kind, count in (("loyal_churn", "lsim-svg-line", 6), ("stages", "lsim-svg-area", 4)):
        svg = page.locator(f".lsim-figure-{key} svg").first
        svg.wait_for()
        box = svg.bounding_box()
        assert box["width"] > 300 and box["height"] > 150, (key, box)
        assert page.locator(f".lsim-figure-{key} .{kind}").count() == count, key
        assert page.locator(f".lsim-figure-{key} img").count() == 0, "a time chart is not a PNG"
    assert page.locator(".lsim-diagram svg").count() >= 1
    active = page.locator(".lsim-kpi-active .lsim-kpi-value").inner_text()
    assert re.fullmatch(r"[\d,]+", active) and int(active.replace(",", "")) > 0
    assert page.locator(".lsim-scenario").inner_text().strip() != ""
    no_page_errors(page)


def test_quick_arrow_key_presses_on_a_slider_all_count(explore):
    """Twenty presses of an arrow key, 20 ms apart, while the market plays, move the value twenty
    steps: the slider is not sent back to a position it has already passed (each render used to
    show the value committed so far, undoing the presses still on their way: 10 presses gave 7)."""
    page = explore
    open_panel(page, "lsim-merchant-A")
    thumb = page.locator(".lsim-param-A-price .lsim-slider [role=slider]")
    box = ".lsim-param-A-price .lsim-input input"
    page.locator(".lsim-play").click()
    wait_week(page, 3)
    for presses, key, sign in ((20, "ArrowRight", 1), (12, "ArrowLeft", -1)):
        start = float(page.locator(box).input_value())
        thumb.focus()
        for _ in range(presses):
            page.keyboard.press(key)
            page.wait_for_timeout(20)
        want = round(start + sign * 0.01 * presses, 2)
        page.wait_for_function("([sel, v]) => Math.abs(parseFloat(document.querySelector(sel).value) - v) < 1e-9",
                               arg=[box, want], timeout=15_000)
        page.wait_for_timeout(1500)  # nothing arrives later to move it back
        assert float(page.locator(box).input_value()) == want
        assert abs(float(thumb.get_attribute("aria-valuenow")) - want) < 1e-9
        wait_text(page, ".lsim-merchant-A .lsim-panel-header", rf"{want:g}")
    page.locator(".lsim-pause").click()
    # a value typed in the box still moves the slider
    type_value(page, ".lsim-param-A-price .lsim-input", "1.5")
    page.wait_for_function("(sel) => document.querySelector(sel).getAttribute('aria-valuenow') === '1.5'",
                           arg=".lsim-param-A-price .lsim-slider [role=slider]", timeout=15_000)
    no_page_errors(page)


def test_slider_and_typed_values_change_the_plots(explore):
    page = explore
    fig = ".lsim-figure-loyal_churn svg"
    d0 = image_digest(page, fig)

    # merchant A's price, moved with the keyboard on its slider (one step at a time: each step is a
    # round trip to the server)
    open_panel(page, "lsim-merchant-A")
    thumb = page.locator(".lsim-param-A-price .lsim-slider [role=slider]")
    box = page.locator(".lsim-param-A-price .lsim-input input")
    start = float(box.input_value())
    thumb.focus()
    for i in range(1, 4):
        page.keyboard.press("ArrowRight")
        page.wait_for_function("([sel, v]) => Math.abs(parseFloat(document.querySelector(sel).value) - v) < 1e-9",
                               arg=[".lsim-param-A-price .lsim-input input", round(start + 0.01 * i, 2)])
    price = round(start + 0.03, 2)
    wait_text(page, ".lsim-notice", rf"A: .*{price:g}")
    assert f"{price:g}" in page.locator(".lsim-merchant-A .lsim-panel-header").first.inner_text()

    # a market parameter typed into its box; an out-of-range value is refused with the reason
    open_panel(page, "lsim-group-word_of_mouth")
    type_value(page, ".lsim-param-wom_negative .lsim-input", "7")
    err = page.locator(".lsim-param-wom_negative .lsim-error")
    err.wait_for()
    assert re.search(r"wom_negative|range|allowed", err.inner_text(), re.IGNORECASE), err.inner_text()
    type_value(page, ".lsim-param-wom_negative .lsim-input", "0.6")
    err.wait_for(state="detached")
    wait_text(page, ".lsim-notice", r"0\.6")

    # play: the week counter advances and the plots change
    page.locator(".lsim-play").click()
    wait_week(page, 12)
    page.locator(".lsim-pause").click()
    page.wait_for_selector(".lsim-play")
    w1 = settled_week(page)
    assert w1 >= 12
    d1 = image_digest(page, fig)
    assert d1 != d0, "the plot did not change while the model played"

    # a change while the run is under way is an intervention: marked on the plot and listed
    src = image_src(page, fig)
    thumb.focus()
    page.keyboard.press("ArrowLeft")
    wait_text(page, ".lsim-notice", rf"Week {w1}: A")
    page.locator(".lsim-interventions").wait_for()
    wait_text(page, ".lsim-interventions", rf"Week {w1} \(you\)")
    wait_image_change(page, fig, src)  # redrawn with the change
    d2 = image_digest(page, fig)
    assert d2 != d1, "the intervention line did not appear on the plot"
    marks = page.locator(".lsim-figure-loyal_churn .lsim-svg-mark")
    assert marks.count() >= 2, "a mark on each panel"  # at the week of the change, saying what changed
    assert re.search(r"A: .*Price", marks.first.text_content()), marks.first.text_content()
    assert page.locator(".lsim-figure-loyal_churn .lsim-svg-mark-label").count() >= 1
    assert week(page) == w1

    page.locator(".lsim-play").click()
    wait_week(page, w1 + 5)
    page.locator(".lsim-pause").click()
    page.wait_for_selector(".lsim-play")
    assert image_digest(page, fig) != d2
    no_page_errors(page)


def test_downloads_arrive_with_the_run(explore):
    from sim.inputs.scenario import load_scenario, parse_scenario

    page = explore
    for _ in range(3):
        page.locator(".lsim-step").click()
        page.wait_for_timeout(150)
    wait_week(page, 3)
    seed = int(re.search(r"\d+", page.locator(".lsim-seed-value").inner_text()).group())

    with page.expect_download() as dl:
        page.locator(".lsim-download-csv").click()
    assert dl.value.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert "loyal_share" in rows[0] and "churn_rate" in rows[0]
    assert [int(r["step"]) for r in rows] == [0, 1, 2, 3]
    assert {int(r["seed"]) for r in rows} == {seed}

    with page.expect_download() as dl:
        page.locator(".lsim-download-merchants-csv").click()
    mrows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert {r["merchant"] for r in mrows} == {"A", "B", "C"} and "loyal_share" in mrows[0]

    with page.expect_download() as dl:
        page.locator(".lsim-download-toml").click()
    assert dl.value.suggested_filename.endswith(".toml")
    sc = parse_scenario(Path(dl.value.path()).read_text(encoding="utf-8"), source=dl.value.suggested_filename)
    assert sc.seed == seed
    assert sc.params == load_scenario("baseline").params  # nothing was edited

    with page.expect_download() as dl:
        page.locator(".lsim-figure-loyal_churn .lsim-download-png").click()
    assert Path(dl.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    no_page_errors(page)


def test_a_bad_upload_shows_the_error_and_keeps_the_settings(explore, tmp_path):
    page = explore
    # settings of one's own first: a seed and merchant A's price
    type_value(page, ".lsim-seed-input", 777)
    wait_text(page, ".lsim-seed-value", r"\b777\b")
    open_panel(page, "lsim-merchant-A")
    type_value(page, ".lsim-param-A-price .lsim-input", "1.5")
    wait_text(page, ".lsim-merchant-A .lsim-panel-header", r"Price 1\.5\b")
    scenario_before = page.locator(".lsim-scenario").inner_text()

    bad = tmp_path / "bad.toml"
    bad.write_text('[info]\ntitle = { en = "x", zh = "x" }\n[params\ntrust_gain = 0.1\n', encoding="utf-8")
    drop_file(page, ".lsim-upload .solara-file-drop", bad)
    error = page.locator(".lsim-upload-error")
    error.wait_for(timeout=30_000)
    text = error.inner_text()
    assert "bad.toml" in text and "line 3" in text, text
    # nothing changed
    assert re.search(r"\b777\b", page.locator(".lsim-seed-value").inner_text())
    assert "Price 1.5" in page.locator(".lsim-merchant-A .lsim-panel-header").first.inner_text()
    assert page.locator(".lsim-scenario").inner_text() == scenario_before

    # a value out of range names the key and the allowed range
    out = tmp_path / "out_of_range.toml"
    out.write_text("[params]\ntrust_gain = 2.5\n", encoding="utf-8")
    drop_file(page, ".lsim-upload .solara-file-drop", out)
    wait_text(page, ".lsim-upload-error", r"out_of_range\.toml.*trust_gain")
    assert re.search(r"\b777\b", page.locator(".lsim-seed-value").inner_text())

    # too large
    big = tmp_path / "big.toml"
    big.write_text("# padding\n" * 30_000, encoding="utf-8")
    drop_file(page, ".lsim-upload .solara-file-drop", big)
    wait_text(page, ".lsim-upload-error", r"big\.toml.*(at most|larger than)")

    # and a good file is taken: its seed, its size, its title
    good = tmp_path / "good.toml"
    good.write_text('[info]\ntitle = { en = "Uploaded in a test", zh = "测试上传" }\n[run]\nsteps = 40\nseed = 4321\n'
                    "[params]\nn_customers = 300\n", encoding="utf-8")
    drop_file(page, ".lsim-upload .solara-file-drop", good)
    wait_text(page, ".lsim-seed-value", r"\b4321\b")
    page.locator(".lsim-upload-error").wait_for(state="detached", timeout=10_000)
    assert "Uploaded in a test" in page.locator(".lsim-scenario").inner_text()
    wait_text(page, ".lsim-kpi-active .lsim-kpi-value", r"^\s*\d{2,3}\s*$")  # a 300-place market
    no_page_errors(page)


def test_an_uploaded_scenarios_notes_run_no_script_and_load_nothing(explore, tmp_path):
    """A scenario file can come from anyone: the HTML in its notes (a script in an image's onerror, an
    iframe of a web page, a javascript: link, a remote image) must neither run nor load anything."""
    from test_ui_safe_html import HOSTILE_TOML

    page = explore
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    title = page.title()
    hostile = tmp_path / "hostile.toml"
    hostile.write_text(HOSTILE_TOML, encoding="utf-8")
    with page.expect_file_chooser() as chooser:
        page.locator(".lsim-upload-pick").click()
    chooser.value.set_files(str(hostile))
    wait_text(page, ".lsim-scenario", r"uploaded")
    page.locator(".lsim-part-scenario .v-expansion-panel-header").first.click()
    wait_text(page, ".lsim-scenario-info", r"bold")  # the notes are shown …
    for lang in ("zh", "en"):
        page.locator(f".lsim-lang-{lang}").click()
        wait_text(page, ".lsim-scenario-info", "链接" if lang == "zh" else r"\blink\b")
        page.wait_for_timeout(1500)  # time for an image's onerror, an iframe's load
        notes = page.locator(".lsim-scenario-info")
        # … as text: no element that runs or loads anything, no link to a script
        assert notes.locator("script, iframe, object, embed, svg, video, img, form, link").count() == 0
        assert page.locator("a[href^='javascript' i], a[href^='data' i], [onerror], [onload]").count() == 0
        assert page.title() == (title if lang == "en" else title.replace("Explore", "探索")) and not dialogs
        web = notes.locator("a[href^='https://example.org']")
        assert web.count() == (1 if lang == "en" else 0) and (lang == "zh" or web.get_attribute("target") == "_blank")
    foreign = [u for u in seen if "example." in u]
    assert foreign == [], f"the notes made the browser ask another machine: {foreign}"
    screenshot(page, "upload-hostile-notes-en", full=False)
    no_page_errors(page)


def test_the_network_draws_without_vue_warnings(explore):
    """Each dot of the network has its own key: with one key per customer id, every empty place had
    the key -1 and Vue warned "Duplicate keys detected" on each redraw."""
    page = explore
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning") else None)
    page.locator(".lsim-tab-network").click()
    page.wait_for_selector(".lsim-network svg circle.lsim-node")
    assert page.locator(".lsim-network circle.lsim-node--1").count() >= 2  # empty places
    for _ in range(2):
        before = page.locator(".lsim-step-counter").inner_text()
        page.locator(".lsim-step").click()
        page.wait_for_function("t => document.querySelector('.lsim-step-counter').textContent !== t", arg=before)
        page.wait_for_timeout(800)
    warned = [m for m in console if "key" in m.lower()]
    assert warned == [], warned[:3]
    # the keys Vue drew the picture with (a production build warns about nothing: ask Vue itself)
    keys = page.evaluate("""() => {
      const vm = document.querySelector('.lsim-network svg').__vue__;
      return vm._vnode.children.filter(n => n.key !== undefined).map(n => String(n.key)); }""")
    circles = page.locator(".lsim-network circle.lsim-node").count()
    assert len(keys) == circles + page.locator(".lsim-network .lsim-node-hit").count() > 100
    assert len(set(keys)) == len(keys), sorted({k for k in keys if keys.count(k) > 1})[:5]
    no_page_errors(page)


# ------------------------------------------------------------------------------------------------
# Compare, Sweep, Learn
# ------------------------------------------------------------------------------------------------
def test_compare_sweep_and_learn_run_tiny_jobs(server, new_context):
    page = open_page(new_context(), server.url, "/compare", ready=".lsim-compare-run")
    assert page.locator(".lsim-compare-config").count() == 2
    for name, value in (("replicates", 2), ("steps", 10), ("customers", 200), ("seed", 3)):
        type_value(page, f".lsim-compare-{name}", value)
    wait_text(page, ".lsim-compare-run", r"\b4\b")  # "Run (4 runs)"
    page.locator(".lsim-compare-run").click()
    page.wait_for_selector(".lsim-compare-results .lsim-compare-figure img", timeout=180_000)
    results = page.locator(".lsim-compare-results").inner_text()
    assert re.search(r"4 runs.*2 configurations × 2 replicates, 10 steps", results, re.DOTALL), results[:400]
    assert page.locator(".lsim-compare-table table tr").count() > 3
    assert page.locator(".lsim-compare-merchants-figure img").count() == 1
    with page.expect_download() as dl:
        page.locator(".lsim-compare-download .v-btn").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert "loyal_share" in rows[0] and len({r["run_id"] for r in rows}) == 4
    assert {int(r["step"]) for r in rows} >= set(range(1, 11))
    screenshot(page, "compare-results-en")

    nav(page, "sweep")
    for name, value in (("replicates", 1), ("steps", 10), ("customers", 200), ("n1", 3)):
        type_value(page, f".lsim-sweep-{name}", value)
    wait_text(page, ".lsim-sweep-run", r"\b3\b")  # "Run (3 runs)"
    assert page.locator(".lsim-sweep-error").count() == 0
    page.locator(".lsim-sweep-run").click()
    page.wait_for_selector(".lsim-sweep-results .lsim-sweep-figure img", timeout=180_000)
    results = page.locator(".lsim-sweep-results").inner_text()
    assert re.search(r"3 runs.*3 configurations × 1 replicates, 10 steps", results, re.DOTALL), results[:400]
    assert page.locator(".lsim-sweep-results table tr").count() == 4  # head + 3 values
    with page.expect_download() as dl:
        page.locator(".lsim-sweep-download-png .v-btn").click()
    assert Path(dl.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    screenshot(page, "sweep-results-en")

    nav(page, "learn")
    page.locator(".lsim-learn-info").wait_for()
    assert len(page.locator(".lsim-learn-info").inner_text()) > 500
    # the validation report names the repository's files as text: no link to a page the app lacks
    page.locator(".lsim-learn-tab-validation").click()
    wait_text(page, ".lsim-learn-validation", r"scenarios/validation/f11_bank\.toml")
    hrefs = page.locator(".lsim-learn-validation a[href]").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert hrefs and all(re.fullmatch(r"#f\d+", h) for h in hrefs), [h for h in hrefs if not h.startswith("#")][:5]
    ids = set(page.locator(".lsim-learn-validation [id]").evaluate_all("els => els.map(e => e.id)"))
    assert {h[1:] for h in hrefs} <= ids
    page.locator(".lsim-learn-validation a[href='#f6']").first.click()  # a place on the page: it stays
    page.wait_for_timeout(1000)
    assert page.locator(".lsim-learn-validation").count() == 1 and "not found" not in body_text(page).lower()
    page.locator(".lsim-learn-tab-glossary").click()
    page.locator(".lsim-learn-glossary table").wait_for()
    n_all = page.locator(".lsim-learn-glossary tr").count()
    type_value(page, ".lsim-learn-glossary-search", "trust")
    page.wait_for_function("n => document.querySelectorAll('.lsim-learn-glossary tr').length < n", arg=n_all)
    assert page.locator(".lsim-learn-glossary tr").count() >= 2
    screenshot(page, "learn-glossary-en")

    # the results, in Chinese
    page.locator(".lsim-lang-zh").click()
    nav(page, "compare")
    wait_words(page, present=["次运行", "期末值与差值"], absent=["Final values and differences"])
    screenshot(page, "compare-results-zh")
    nav(page, "sweep")
    wait_words(page, present=["次运行", "参数扫描"], absent=["Sweep parameters"])
    screenshot(page, "sweep-results-zh")
    no_page_errors(page)


# ------------------------------------------------------------------------------------------------
# language
# ------------------------------------------------------------------------------------------------
def test_language_toggle_changes_every_page(explore):
    """EN → 中文 → EN on every page of one session; pictures of each page in both languages; and the
    browser must draw the Chinese with a font that has Chinese glyphs (the app serves one)."""
    page = explore
    tofu: list[str] = []  # reported at the end, after every other check
    # a few weeks on the plots, for the pictures
    page.locator(".lsim-play").click()
    wait_week(page, 15)
    page.locator(".lsim-pause").click()
    page.wait_for_selector(".lsim-play")

    def check(name: str, lng: str) -> None:
        other = "zh" if lng == "en" else "en"
        text = wait_words(page, present=WORDS[name][lng], absent=WORDS[name][other], scope=PAGES[name][1])
        wait_words(page, present=WORDS["nav"][lng], absent=WORDS["nav"][other], scope=".lsim-nav")
        if lng == "zh":
            assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 40, text[:500]
            title = page.locator(".v-toolbar__title").first.inner_text()
            assert re.search(r"[\u4e00-\u9fff]", title), f"{name}: the app bar's title stays English in Chinese ({title!r})"
        for bad in chinese_without_font(page):
            tofu.append(f"{name}/{lng}: <{bad['tag']} class={bad['cls']!r}> {bad['text']!r} in {bad['where']}, "
                        f"drawn with {bad['fonts']}")
        screenshot(page, f"{name}-{lng}")

    for name in PAGES:
        if name != "explore":
            nav(page, name)
        check(name, "en")

    page.locator(".lsim-lang-zh").click()  # on the Learn page; the language belongs to the session
    for name in ["learn", "explore", "compare", "sweep"]:
        if name != "learn":
            nav(page, name)
        check(name, "zh")

    page.locator(".lsim-lang-en").click()
    wait_words(page, present=WORDS["sweep"]["en"], absent=WORDS["sweep"]["zh"], scope=PAGES["sweep"][1])
    nav(page, "explore")
    wait_words(page, present=WORDS["explore"]["en"], absent=WORDS["explore"]["zh"], scope=PAGES["explore"][1])
    assert week(page) >= 15  # the market survived the trip through the other pages
    no_page_errors(page)

    # Chinese drawn without a Chinese font shows as empty boxes (in widgets, Markdown blocks and
    # the A–H diagram's SVG alike)
    assert not tofu, "Chinese text drawn without a Chinese font:\n" + "\n".join(tofu)


# ------------------------------------------------------------------------------------------------
# sessions
# ------------------------------------------------------------------------------------------------
def test_two_sessions_do_not_share_settings_or_language(server, new_context):
    a = open_page(new_context(), server.url)
    b = open_page(new_context(), server.url)
    seed_b = b.locator(".lsim-seed-value").inner_text()

    type_value(a, ".lsim-seed-input", 4242)
    wait_text(a, ".lsim-seed-value", r"\b4242\b")
    open_panel(a, "lsim-merchant-B")
    type_value(a, ".lsim-param-B-price .lsim-input", "1.4")
    wait_text(a, ".lsim-merchant-B .lsim-panel-header", r"1\.4\b")
    a.locator(".lsim-lang-zh").click()
    wait_words(a, present=WORDS["explore"]["zh"], absent=WORDS["explore"]["en"])
    a.locator(".lsim-play").click()
    wait_week(a, 5)

    b.wait_for_timeout(1000)
    assert b.locator(".lsim-seed-value").inner_text() == seed_b
    assert week(b) == 0 and b.locator(".lsim-play").count() == 1
    assert "Price 1.4" not in body_text(b)
    wait_words(b, present=WORDS["explore"]["en"], absent=WORDS["explore"]["zh"], timeout=1)

    type_value(b, ".lsim-seed-input", 99)
    wait_text(b, ".lsim-seed-value", r"\b99\b")
    assert re.search(r"\b4242\b", a.locator(".lsim-seed-value").inner_text())
    wait_words(a, present=WORDS["explore"]["zh"], absent=WORDS["explore"]["en"], timeout=1)
    a.locator(".lsim-pause").click()

    # state of the other pages is per session too
    nav(a, "compare")
    type_value(a, ".lsim-compare-replicates", 3)
    wait_text(a, ".lsim-compare-run", r"\b6\b")
    nav(b, "compare")
    assert b.locator(".lsim-compare-replicates input").input_value() == "5"
    assert re.search(r"\b10\b", b.locator(".lsim-compare-run").inner_text())
    no_page_errors(a)
    no_page_errors(b)


# ------------------------------------------------------------------------------------------------
# offline: last, over every request of the module
# ------------------------------------------------------------------------------------------------
def test_no_request_leaves_this_machine(server, new_context, requests_seen):
    ctx = new_context()
    for path, ready in PAGES.values():
        page = open_page(ctx, server.url, path, ready=ready)
        page.wait_for_load_state("networkidle")
        page.close(run_before_unload=True)
    urls = requests_seen.urls
    assert len(urls) > 20
    assert any(u.startswith(("ws://127.0.0.1", "ws://localhost")) for u in urls), "no websocket was recorded"
    assert requests_seen.foreign() == [], f"requests that left this machine: {requests_seen.foreign()}"


def test_the_server_logged_no_error(server):
    """Last: nothing the module did made the server log an error (a component that raised shows
    its traceback in the page, and the server logs it)."""
    errors = server_errors(server.log_path)
    assert errors == [], "\n".join(errors)

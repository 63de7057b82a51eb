"""Keep the app inside the room: no request leaves the machine that serves it.

Solara serves its JavaScript, CSS and fonts from the ``solara-assets`` package (a dependency), so
the page needs no CDN. Two things would still reach out to the internet: a one-off "installation
check" (hidden iframes pointing at solara.dev, shown on a first run in development mode) and
usage telemetry. Importing this module switches both off for this server; ``app.py`` imports it
first. A browser test fails if the page requests anything outside localhost.
"""

from __future__ import annotations

import solara.checks
import solara.server.settings

solara.server.settings.telemetry.mixpanel_enable = False
solara.checks.should_perform_solara_check = lambda: False  # the installation check's hidden iframes
# the "This website runs on Solara" badge: a link to solara.dev pinned over the page's bottom-right
# corner, where it covered buttons (the Files section's on a phone)
solara.server.settings.theme.show_banner = False


def _register_page_font() -> str | None:
    """Serve the CJK font that ships with the project (the same one the figures use) as a static
    asset, so Chinese text renders in browsers of machines without a Chinese system font.
    Browsers do not load font collections (.ttc), so the first face is extracted once into a
    cache folder as a .ttf. Returns the served file's name, or None when no font is available."""
    import os
    import tempfile
    from pathlib import Path

    from sim.analysis.fonts import packaged_cjk_fonts

    files = packaged_cjk_fonts()
    if not files:
        return None
    src = files[0]
    if src.suffix.lower() == ".ttc":
        cache = Path(os.environ.get("LOYALTY_SIM_CACHE") or Path(tempfile.gettempdir()) / "loyalty-sim-fonts")
        dst = cache / f"lsim-{src.stem}.ttf"
        if not dst.exists():
            try:
                from fontTools.ttLib import TTCollection

                cache.mkdir(parents=True, exist_ok=True)
                tmp = dst.with_name(f".{os.getpid()}-{dst.name}")
                TTCollection(str(src), lazy=True).fonts[0].save(str(tmp))
                os.replace(tmp, dst)
            except Exception:  # noqa: BLE001 - without the font the page still works (system fonts)
                return None
        src = dst
    folder = str(src.parent)
    if folder not in solara.server.settings.assets.extra_locations:
        solara.server.settings.assets.extra_locations.append(folder)
    return src.name


FONT_FILE = _register_page_font()

#: CSS for the page: Latin text in the theme's font, Chinese from the packaged font when the
#: browser has none of its own (a local() system font is preferred when present).
PAGE_CSS = (
    ("@font-face { font-family: 'lsim-cjk'; src: local('Noto Sans CJK SC'), local('Source Han Sans SC'), "
     "local('Microsoft YaHei'), local('PingFang SC'), "
     f"url('/static/assets/{FONT_FILE}') format('truetype'); }}\n" if FONT_FILE else "")
    + ".v-application, .v-application *:not(.v-icon):not(.fa):not([class*='mdi']):not(pre):not(code)"
      ":not(pre *):not(code *):not(.CodeMirror *) { font-family: Roboto, 'lsim-cjk', sans-serif !important; }\n"
    + ".v-application pre, .v-application code { font-family: 'DejaVu Sans Mono', monospace, 'lsim-cjk' !important; }\n"
    + ":root { --jp-content-font-family: Roboto, 'lsim-cjk', sans-serif; "
      "--jp-ui-font-family: Roboto, 'lsim-cjk', sans-serif; }\n"
)

#: the app's layout at every width (checked by ``tests/test_browser_layout.py`` at 390–1920 px):
#: - app bar: the page links scroll sideways inside their own strip, so the EN / 中文 toggle always
#:   stays in the window; the page title gives way first on narrow screens;
#: - run controls (Explore) and run settings (Compare, Sweep: ``lsim-run-settings``): a field's label
#:   sits inside the field's own box (Vuetify floats it above), and rows keep a gap when they wrap,
#:   so labels never run under the buttons, the week counter or the fields of the row above;
#: - Explore below 1264 px (one column): the parts of both columns are laid out in one list,
#:   run controls and the mechanism diagram first, so a projector's first screen shows the diagram;
#: - the diagram keeps a minimum width (its texts ≥ 12 px) and scrolls sideways below it.
LAYOUT_CSS = """
.lsim-topbar { flex-wrap: nowrap !important; min-width: 0; max-width: 100%; }
.lsim-navs { flex-wrap: nowrap !important; overflow-x: auto; min-width: 0; flex: 0 1 auto; scrollbar-width: none; }
.lsim-navs::-webkit-scrollbar { display: none; }
.lsim-lang { flex: none; }
.v-app-bar .v-toolbar__content > .v-toolbar__title { min-width: 0; flex: 0 1 auto; }
@media (max-width: 700px) {
  .v-app-bar .v-toolbar__content { padding: 4px 6px; }
  .v-app-bar .v-toolbar__content > .v-toolbar__title { display: none; }
  .lsim-nav.v-btn { min-width: 0 !important; padding: 0 8px !important; font-size: 0.78rem; }
  .lsim-lang .v-btn { min-width: 0 !important; padding: 0 10px !important; }
}
.lsim-run .lsim-run-buttons, .lsim-run .lsim-run-fields, .lsim-run-settings { row-gap: 10px !important; }
.lsim-run .lsim-run-fields { margin-top: 10px; align-items: flex-end !important; }
.lsim-run-settings { align-items: flex-end !important; }
.lsim-run .lsim-run-fields .v-input, .lsim-run-settings .v-input { padding-top: 18px !important; margin-top: 0 !important;
  flex: 0 1 auto; }
.lsim-run .lsim-run-fields .v-input .v-label, .lsim-run-settings .v-input .v-label { white-space: nowrap; }
.lsim-run .lsim-step-counter { white-space: nowrap; }
.lsim-diagram { overflow-x: auto; }
.lsim-cli { color: #546e7a; font-size: 0.82em; }
.lsim-diagram svg { display: block; }
@media (max-width: 1263.98px) {
  .lsim-explore { flex-direction: column; flex-wrap: nowrap; }
  .lsim-explore > div, .lsim-explore .lsim-sidebar, .lsim-explore .lsim-main { display: contents !important; }
  .lsim-explore .lsim-part { padding: 0 12px; margin-bottom: 8px; min-width: 0; }
  .lsim-part-run { order: 1; } .lsim-part-diagram { order: 2; } .lsim-part-kpis { order: 3; }
  .lsim-part-scenario { order: 4; } .lsim-part-tabs { order: 5; } .lsim-part-settings { order: 6; }
  .lsim-part-files { order: 7; }
}
"""
PAGE_CSS += LAYOUT_CSS

#: where the keyboard is: Vuetify marks a focused button, tab or panel header only with a faint tint
#: (none that shows on the dark app bar), so whatever has the keyboard's focus gets a ring drawn
#: inside its own box (an outline takes no room: nothing moves, and a strip that scrolls does not
#: cut it off). Dark blue on the page, amber on the app bar. A text box keeps Vuetify's coloured
#: underline and label, which already show where the typing goes.
FOCUS_CSS = """
.v-application :focus-visible { outline: 3px solid #0d47a1 !important; outline-offset: -3px; }
.v-application .v-app-bar :focus-visible { outline-color: #ffc107 !important; }
.v-application .v-input input:focus-visible, .v-application .v-input textarea:focus-visible { outline: none !important; }
.v-application .v-slider__thumb-container:focus-visible { outline-offset: 2px; }
"""
PAGE_CSS += FOCUS_CSS

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

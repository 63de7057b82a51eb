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

"""loyalty-sim in the browser: ``uv run solara run app.py --no-check-version`` (http://localhost:8765).

Pages: Explore (one market, live; the default page), Compare (configurations side by side, with
replicates), Sweep (one or two parameters over a range), Learn (how the model works, scenarios,
glossary), Workshop (a live classroom market: the facilitator's page; participants open /join,
the projector /screen). Every asset is served by the app itself (solara-assets), so it works with no internet.
Each browser tab gets its own market and language. To serve a classroom: ``uv run solara run
app.py --host 0.0.0.0 --port 8765 --production --no-check-version`` (see docs/app.md).

CSS classes for browser tests: ``lsim-nav`` (page links), ``lsim-lang`` (the EN / 中文 toggle);
the Explore page's classes are listed at the top of ``sim/ui/explore.py``.
"""

from __future__ import annotations

import sim.ui.offline  # noqa: F401  (first: no request leaves localhost)
import solara

from sim.ui.offline import PAGE_CSS

from sim.ui.compare import Compare
from sim.ui.explore import Explore
from sim.ui.i18n import lang, tr
from sim.ui.keep import serve_defaults
from sim.ui.learn import Learn
from sim.ui.page_attrs import PageAttributes
from sim.ui.sweep import Sweep
from sim.ui.workshop_host import WorkshopHost
from sim.ui.workshop_join import Join
from sim.ui.workshop_screen import Screen


@solara.component
def NavLink(path: str, title: str, current: bool):
    """A page link of the app bar: one link (one stop of the Tab key, followed with Enter) that looks
    like a button; the current page's says so to a screen reader (``aria-current``)."""
    router = solara.use_router()
    attributes = {"href": path, **({"aria-current": "page"} if current else {})}
    # the button is only the link's look: not a second stop of the Tab key inside the link
    button = solara.Button(title, text=True, color="white" if not current else None, classes=["lsim-nav"],
                           attributes={"tabindex": "-1"})
    link = solara.v.Html(tag="a", attributes=attributes, children=[button], class_="lsim-nav-link")
    solara.v.use_event(link, "click.prevent.stop", lambda *_: router.push(path))
    return link


@solara.component
def Layout(children=[]):
    route_current, routes = solara.use_route()
    titles = {"/": tr("Explore", "探索"), "compare": tr("Compare", "比较"), "sweep": tr("Sweep", "扫描"),
              "learn": tr("Learn", "学习"), "workshop": tr("Workshop", "工作坊")}
    with solara.AppLayout(title=tr("loyalty-sim — how customers become loyal", "loyalty-sim — 客户如何成为忠诚客户"),
                          navigation=False) as main:
        with solara.AppBar():
            with solara.Row(style={"align-items": "center"}, classes=["lsim-topbar"]):
                # inside the app bar: a second child of AppLayout would become a sidebar
                solara.v.Html(tag="style", children=[PAGE_CSS])
                PageAttributes()  # <html lang> follows the language; the page can be zoomed
                with solara.Row(gap="0px", classes=["lsim-navs"]):  # scrolls sideways on a phone
                    for r in routes:
                        if r.path not in titles:  # reached by a link or a QR code: /join, /screen
                            continue
                        NavLink(solara.resolve_path(r), titles[r.path], r is route_current)
                # each language's name in its own language, read so by a screen reader
                solara.ToggleButtonsSingle(value=lang, classes=["lsim-lang"], dense=True,
                                           children=[solara.Button("EN", value="en", classes=["lsim-lang-en"],
                                                                   attributes={"lang": "en", "aria-label": "EN — English"}),
                                                     solara.Button("中文", value="zh", classes=["lsim-lang-zh"],
                                                                   attributes={"lang": "zh-CN"})])
        with solara.Column(children=children):
            pass
    return main


routes = [
    solara.Route(path="/", component=Explore, label="Explore", layout=Layout),
    solara.Route(path="compare", component=Compare, label="Compare"),
    solara.Route(path="sweep", component=Sweep, label="Sweep"),
    solara.Route(path="learn", component=Learn, label="Learn"),
    solara.Route(path="workshop", component=WorkshopHost, label="Workshop"),
    solara.Route(path="join", component=Join, label="Join"),
    solara.Route(path="screen", component=Screen, label="Screen"),
]


def _keep_libraries_loaded() -> None:
    """In development mode Solara reloads, after a source edit, every module whose file lies under
    the app's folder — which includes the project's own ``.venv`` (uv keeps it there), and numpy
    cannot be imported twice. Mark installed libraries as not to be reloaded; only the project's
    own modules are."""
    import sys

    try:
        from solara.server import reload as _reload
    except ImportError:  # pragma: no cover
        return
    _reload.reloader.ignore_modules.update(
        name for name, mod in list(sys.modules.items())
        if "site-packages" in (getattr(mod, "__file__", None) or ""))


_keep_libraries_loaded()
serve_defaults()  # a browser session without a connection is closed within minutes (sim/ui/keep.py)

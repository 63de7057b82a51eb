"""Downloads and upload on the Explore page, and the figure widget with its PNG button.

- the run's data: market observables per step (CSV) and per merchant per step (CSV);
- the settings as a scenario TOML that ``loyalty-sim run FILE.toml`` accepts: the parameters the
  run started from, the scenario's scheduled changes and the user's changes during the run (as
  events at their steps), the seed and the length, so the command line reproduces the run;
- upload of a scenario TOML (at most :data:`sim.inputs.scenario.MAX_BYTES`): a bad file shows the
  :class:`~sim.inputs.scenario.ScenarioError` message in the current language and the current settings
  stay as they were. The file is dropped on the zone or chosen with its "Choose a file" button
  (``lsim-upload-pick``, a real button: tablets, phones and keyboards have no drag and drop), which
  opens the browser's file chooser (an ``<input type="file">``, ``lsim-upload-input``).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import solara
import traitlets
from solara.components.file_drop import FileDropZone

from ..inputs.scenario import MAX_BYTES, ScenarioError, parse_scenario, scenario_to_toml
from ..params import ParamError
from ..words import pick
from .i18n import both, lang, shown, tr
from .plots import chart_figure, chart_svg, png

__all__ = ["FigureView", "ChartView", "Downloads", "Upload", "toml_text", "read_upload", "handle_upload"]


@solara.component
def FigureView(key: str, build: Callable[[], Any], deps: list, filename: str | None = None):
    """A matplotlib figure built by ``build()`` when ``deps`` change, shown with
    :func:`solara.FigureMatplotlib` (PNG), and a button to download it as a sharper PNG. The figure
    is cleared once shown (it is not pyplot's, so nothing else holds it)."""
    fig = solara.use_memo(build, deps)

    def close():
        return lambda: fig.clear()  # when the next figure replaces it, or the view goes away

    solara.use_effect(close, [fig])
    with solara.Column(gap="0px", classes=["lsim-figure", f"lsim-figure-{key}"]):
        solara.FigureMatplotlib(fig, dependencies=deps, format="png")
        PngButton(key, build, filename)


@solara.component
def ChartView(key: str, chart: Callable[[], Any], deps: list, lng: str, filename: str | None = None):
    """A time chart (:data:`sim.ui.plots.CHARTS`) drawn as SVG when ``deps`` change — written in a
    millisecond or two, so a playing market redraws it at every step — and a button to download the
    same chart as a PNG (:func:`~sim.ui.plots.chart_figure` of the same ``chart()``, matplotlib, made
    only when asked for). ``lng``: the chart's language (one of ``deps``)."""
    svg = solara.use_memo(lambda: chart_svg(chart(), lng), deps)
    with solara.Column(gap="0px", classes=["lsim-figure", "lsim-chart", f"lsim-figure-{key}"]):
        solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["lsim-chart-svg"])
        PngButton(key, lambda: chart_figure(chart(), lng), filename)


@solara.component
def PngButton(key: str, build: Callable[[], Any], filename: str | None = None):
    """Download the figure ``build()`` makes as a sharper PNG."""
    with solara.Row(justify="end", style={"margin-top": "-6px"}):
        solara.FileDownload(lambda: png(build(), dpi=160), filename=filename or f"{key}.png",
                            mime_type="image/png",
                            children=[solara.Button("PNG", icon_name="mdi-download", text=True, small=True,
                                                    classes=["lsim-download-png"])])


def toml_text(sess) -> str:
    """The session's run as a scenario TOML (checked to read back the same)."""
    sc = sess.to_scenario()
    text = scenario_to_toml(sc)
    back = parse_scenario(text, source="download.toml")
    if back.params != sc.params or len(back.events) != len(sc.events):  # pragma: no cover - a bug guard
        raise RuntimeError("the scenario file would not read back the same settings")
    return text


def read_upload(name: str, size: int | None, read: Callable[[int], bytes]):
    """Parse an uploaded scenario file; raises :class:`ScenarioError` (too large, not TOML, bad values)."""
    if size is not None and size > MAX_BYTES:
        raise ScenarioError("", f"the file is {size:,} bytes: scenario files may be at most {MAX_BYTES:,} bytes",
                            name, f"文件大小为 {size:,} 字节：情景文件最多 {MAX_BYTES:,} 字节")
    data = read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ScenarioError("", f"the file is larger than {MAX_BYTES:,} bytes (the limit for scenario files)", name,
                            f"文件超过 {MAX_BYTES:,} 字节（情景文件的上限）")
    return parse_scenario(data, source=name)


@solara.component
def Downloads(sess, run_version: int):
    stem = (sess.scenario.name if sess.scenario else "default") + f"_seed{sess.seed}"
    with solara.Row(style={"flex-wrap": "wrap"}, gap="4px"):
        solara.FileDownload(lambda: sess.market_csv(), filename=f"{stem}_market.csv", mime_type="text/csv",
                            children=[solara.Button(tr("Data (CSV)", "数据（CSV）"), icon_name="mdi-table-arrow-down",
                                                    outlined=True, small=True, classes=["lsim-download-csv"])])
        solara.FileDownload(lambda: sess.merchants_csv(), filename=f"{stem}_merchants.csv", mime_type="text/csv",
                            children=[solara.Button(tr("Merchants (CSV)", "商家（CSV）"), icon_name="mdi-table-arrow-down",
                                                    outlined=True, small=True, classes=["lsim-download-merchants-csv"])])
        solara.FileDownload(lambda: toml_text(sess), filename=f"{stem}.toml", mime_type="application/toml",
                            children=[solara.Button(tr("Settings (scenario TOML)", "设置（情景 TOML）"),
                                                    icon_name="mdi-file-download-outline", outlined=True, small=True,
                                                    classes=["lsim-download-toml"])])


def handle_upload(info: dict, on_scenario: Callable[[Any], None], lng: str | None = None):
    """Read a dropped or chosen file (solara's ``FileInfo``); a valid scenario goes to ``on_scenario``.
    Returns ``(error, success message)``, one of them empty; a bad file changes nothing. With
    ``lng`` the texts are in that language; without it each is kept in both (``i18n.both``), for
    the page to show in whichever language is current when it draws."""
    name = info.get("name") or "upload.toml"
    try:
        if info.get("data") is not None:
            raw = info["data"]
            reader = lambda k: raw[:k]  # noqa: E731
        else:
            reader = info["file_obj"].read
        sc = read_upload(name, info.get("size"), reader)
    except ScenarioError as e:
        err, ok = both(e.text("en"), e.text("zh")), ""
    except Exception as e:  # an unreadable upload: say so, keep the settings
        err, ok = both(f"{name}: could not read the file ({type(e).__name__})",
                       f"{name}：无法读取文件（{type(e).__name__}）"), ""
    else:
        try:
            on_scenario(sc)
        except ParamError as e:  # a valid file, but larger than this server allows: the settings stay
            err, ok = both(e.text("en"), e.text("zh")), ""
        else:
            err, ok = "", both(f"Loaded {name}: {sc.text('title', 'en')}", f"已载入 {name}：{sc.text('title', 'zh')}")
    if lng is None:
        return err, ok
    return (pick(*err, lng) if err else ""), (pick(*ok, lng) if ok else "")


class PickOrDropZone(FileDropZone):
    """Solara's drop zone (same file transfer) with a button that opens the file chooser."""

    template_file = (__file__, "file_pick.vue")
    button = traitlets.Unicode("").tag(sync=True)


@solara.component
def FilePickOrDrop(label: str, button: str, on_file: Callable[[dict], None]):
    """One file, dropped or chosen; ``on_file`` gets solara's ``FileInfo`` (read lazily, in a
    thread), as :func:`solara.FileDrop` does."""
    file_info, set_file_info = solara.use_state(None)
    wired, set_wired = solara.use_state(None)
    zone = PickOrDropZone.element(label=label, button=button, on_file_info=set_file_info, multiple=False)

    def wire():
        if not file_info:
            return
        real = solara.get_widget(zone)
        real.version += 1  # as solara.FileDrop: the @observe of the file input is cleared otherwise
        real.reset_stats()
        set_wired(real.get_files())

    solara.use_effect(wire, [file_info])

    def handle(cancel: threading.Event):
        if wired:
            wired[0]["data"] = None
            on_file(wired[0])

    result = solara.use_thread(handle, [wired])
    if result.error:
        raise result.error
    return zone


@solara.component
def Upload(on_scenario: Callable[[Any], None]):
    """Drop a scenario TOML here; ``on_scenario(scenario)`` is called only with a valid one."""
    lang.value  # drawn again in the other language when it changes
    error, set_error = solara.use_state("")
    ok, set_ok = solara.use_state("")

    def on_file(info):
        err, msg = handle_upload(info, on_scenario)  # both languages: shown in the current one
        set_error(err)
        set_ok(msg)

    with solara.Column(classes=["lsim-upload"], gap="4px"):
        FilePickOrDrop(label=tr(f"or drop a scenario file (.toml, at most {MAX_BYTES // 1024} KB) here",
                                f"或把情景文件（.toml，最多 {MAX_BYTES // 1024} KB）拖放到这里"),
                       button=tr("Choose a file", "选择文件"), on_file=on_file)
        if error:
            solara.Error(shown(error), classes=["lsim-upload-error"], dense=True)
        elif ok:
            solara.Success(shown(ok), dense=True)

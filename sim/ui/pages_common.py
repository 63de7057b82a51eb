"""Pieces shared by the Compare and Sweep pages: a background batch job per browser session with a
progress bar and a cancel button, the head of a finished batch's results (what ran, failed runs,
observable picker, downloads), a labelled select, a parameter picker and figure helpers.

CSS classes (stable, for browser tests):

- ``lsim-progress``       the progress bar of a running batch
- ``lsim-progress-text``  "runs done / total" beside it
- ``lsim-param-picker``   a parameter picker (market or a merchant's parameter)

Background work: :func:`start_job` runs ``work(progress, cancel)`` in a ``threading.Thread``. Solara's
server gives a thread started from an event handler the browser session's (virtual kernel's)
context, so the job's progress lands in that session's reactive state only. Tests set
:data:`BACKGROUND` to ``False`` to run the job synchronously inside the click handler.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import reacton.ipyvuetify as rv
import solara

from ..metrics import METRICS
from ..words import normalize_lang, word
from .controls import CommitBox
from .i18n import tr
from .pages_logic import Cancelled, error_text

#: run jobs in a background thread (tests set this to False: the click handler runs them itself)
BACKGROUND = True
#: seconds between two progress updates of a running job
PROGRESS_INTERVAL = 0.3


@dataclass(frozen=True)
class JobState:
    """A batch job's state: ``status`` is ``idle``, ``running``, ``done``, ``cancelled`` or ``error``."""

    status: str = "idle"
    done: int = 0
    failed: int = 0
    total: int = 0
    result: Any = None
    error: Exception | None = None
    cancel: threading.Event | None = None
    serial: int = 0

    @property
    def running(self) -> bool:
        return self.status == "running"


_lock = threading.Lock()


def start_job(job: solara.Reactive, work: Callable[[Callable, Callable[[], bool]], Any]) -> None:
    """Start ``work(progress, cancelled)`` for this session's ``job`` (a reactive :class:`JobState`):
    ``progress(done, failed, total)`` reports, ``cancelled()`` says whether to stop (Cancel pressed, or
    the browser session closed).
    Progress and the result go into ``job``; a newer start or a cancel makes an older thread's updates
    be ignored."""
    with _lock:
        old = job.value
        if old.cancel is not None:
            old.cancel.set()
        serial = old.serial + 1
        event = threading.Event()
        job.value = JobState("running", cancel=event, serial=serial)

    def update(**changes):
        with _lock:
            cur = job.value
            if cur.serial != serial:
                return  # a newer job (or a cancel) took over
            job.value = dataclasses.replace(cur, **changes)

    last = [0.0]

    def progress(done: int, failed: int, total: int) -> None:
        # at most a few updates a second: each one re-renders the page, and short runs finish faster
        # than a render pass
        now = time.monotonic()
        if done + failed in (0, total) or now - last[0] >= PROGRESS_INTERVAL:
            last[0] = now
            update(done=done, failed=failed, total=total)

    closed = _kernel_closed()

    def cancelled() -> bool:
        # the user pressed Cancel, or the browser session is gone (tab closed, server shutting down)
        return event.is_set() or (closed is not None and closed.is_set())

    def run():
        try:
            result = work(progress, cancelled)
        except Cancelled:
            update(status="cancelled", cancel=None)
        except Exception as e:  # noqa: BLE001 - shown on the page
            update(status="error", error=e, cancel=None)
        else:
            update(status="done", result=result, cancel=None)

    if BACKGROUND:
        threading.Thread(target=run, name=f"lsim-job-{serial}", daemon=True).start()
    else:
        run()


def _kernel_closed() -> threading.Event | None:
    """The browser session's "closed" event (None outside a Solara server, e.g. in tests)."""
    try:
        return solara.kernel_closed_event()
    except Exception:  # noqa: BLE001 - no kernel context
        return None


def cancel_job(job: solara.Reactive) -> None:
    """Stop this session's job between two runs; the page is free at once."""
    with _lock:
        cur = job.value
        if cur.cancel is not None:
            cur.cancel.set()
        if cur.running:
            job.value = JobState("cancelled", done=cur.done, failed=cur.failed, total=cur.total,
                                 serial=cur.serial + 1)


@solara.component
def JobProgress(job: solara.Reactive, on_cancel: Callable[[], None], cancel_class: str):
    """Progress bar, "runs done / total" and a Cancel button while ``job`` runs; the outcome after."""
    st: JobState = job.value
    if st.running:
        pct = 100.0 * st.done / st.total if st.total else 0.0
        with solara.Row(style={"align-items": "center"}):
            with solara.Column(style={"flex": "1 1 auto"}):
                solara.ProgressLinear(pct if st.total else True, classes=["lsim-progress"])
                text = tr(f"{st.done} of {st.total} runs done", f"已完成 {st.done} / {st.total} 次运行")
                if st.failed:
                    text += tr(f" ({st.failed} failed)", f"（{st.failed} 次失败）")
                solara.Text(text, classes=["lsim-progress-text"])
            solara.Button(tr("Cancel", "取消"), on_click=on_cancel, color="red darken-3", outlined=True,
                          classes=[cancel_class], icon_name="mdi-stop")
    elif st.status == "cancelled":
        solara.Warning(tr(f"Cancelled after {st.done} of {st.total} runs.", f"已在完成 {st.done} / {st.total} 次运行后取消。"),
                       dense=True, classes=["lsim-job-cancelled"])
    elif st.status == "error" and st.error is not None:
        solara.Error(error_text(st.error, current_lang()), classes=["lsim-job-error"])


class BatchSettings:
    """A batch page's settings for this browser session: replicates, steps, customers, seed, the
    observable its results show and its job, each a ``solara.reactive`` (made at module level by the
    page: one value per virtual kernel)."""

    def __init__(self, replicates: int, steps: int = 104, customers: int = 1000, seed: int = 1):
        self._defaults = (replicates, steps, customers, seed)
        self.replicates, self.steps, self.customers, self.seed = (solara.reactive(v) for v in self._defaults)
        self.metric = solara.reactive("loyal_share")
        self.job = solara.reactive(JobState())

    def reset(self) -> None:
        """Cancel the job; everything back to the defaults."""
        cancel_job(self.job)
        self.replicates.value, self.steps.value, self.customers.value, self.seed.value = self._defaults
        self.metric.value = "loyal_share"
        self.job.value = JobState()


def run_settings_inputs(settings: BatchSettings, css_prefix: str) -> None:
    """The fields for replicates, steps, customers and seed (CSS classes ``{css_prefix}-replicates``,
    ``-steps``, ``-customers``, ``-seed``), added to the caller's container (a plain function, as
    :func:`batch_results_head`)."""
    fields = ((word("replicates", current_lang()), settings.replicates, "replicates"),
              (tr("Steps (weeks)", "步数（周）"), settings.steps, "steps"),
              (tr("Customers", "客户数"), settings.customers, "customers"),
              (tr("Seed", "随机种子"), settings.seed, "seed"))
    for label, value, name in fields:
        CommitBox(label, str(value.value), lambda raw, r=value: _typed_int(r, raw), classes=[f"{css_prefix}-{name}"],
                  style="max-width: 120px")


def _typed_int(target, raw: str) -> None:
    """The text of a run-settings box (committed from the box's own change event: the text it shows)
    as a whole number; any other text is kept as it is, and :func:`~sim.ui.pages_logic.check_run_settings`
    then names the field and its range under the page's Run button."""
    text = raw.strip().replace(",", "")
    try:
        target.value = int(text)
    except ValueError:
        target.value = raw


@dataclass(frozen=True)
class Download:
    """One download button of a results block. ``data``: bytes, or a callable giving them (keep the same
    callable between renders: ``solara.FileDownload`` resets when it gets a new one)."""

    css_class: str
    data: Any
    filename: str
    mime_type: str
    label: str


def shown_metric(runs, chosen: str) -> str:
    """The observable a results block shows: the chosen one, or ``loyal_share`` when the runs lack it."""
    return chosen if chosen in runs.market.columns else "loyal_share"


def batch_results_head(runs, metric: str, on_metric: Callable[[str], None], metric_class: str,
                       downloads: list[Download], same_seed_note: bool = False) -> None:
    """The head of a finished batch's results (``runs``, a :class:`~sim.ui.pages_logic.Runs`): "**n runs**
    (configurations × replicates, steps, master seed) in … s", a warning naming the first failed runs,
    then one row with the observable picker (CSS class ``metric_class``) and the ``downloads``.
    ``same_seed_note`` adds that replicate *r* of every configuration used the same seed.

    A plain function, not a component: its elements go into the caller's container, as if the page
    wrote them itself (a component would wrap them in a Column of its own)."""
    lang = current_lang()
    items = [(name, met.label(lang)) for name, met in METRICS.items() if name in runs.market.columns]
    n = runs.market["run_id"].nunique() if len(runs.market) else 0
    k, exp = len(runs.exp.points), runs.exp
    note = tr("; replicate *r* of every configuration used the same seed",
              "；每个配置的第 *r* 次重复使用相同的种子") if same_seed_note else ""
    Md(tr(f"**{n} runs** ({k} configurations × {exp.replicates} replicates, {exp.steps} steps, "
          f"master seed {exp.seed}{note}) in {runs.seconds:.1f} s.",
          f"**{n} 次运行**（{k} 个配置 × {exp.replicates} 次重复，{exp.steps} 步，主种子 {exp.seed}{note}），"
          f"用时 {runs.seconds:.1f} 秒。"))
    if runs.failed:
        solara.Warning(tr(f"{len(runs.failed)} runs failed: ", f"{len(runs.failed)} 次运行失败：")
                       + "; ".join(list(runs.failed.values())[:3]))
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        with solara.Div(style={"width": "340px"}):
            LabeledSelect(word("metric", lang), items, metric, on_metric, classes=[metric_class], autocomplete=True)
        for d in downloads:
            with solara.Div(classes=[d.css_class]):
                solara.FileDownload(d.data, filename=d.filename, mime_type=d.mime_type, label=d.label)


@solara.component
def LabeledSelect(label: str, items: list[tuple[Any, str]], value: Any, on_value: Callable[[Any], None],
                  classes: list[str] | None = None, autocomplete: bool = False, style: str | dict | None = None,
                  disabled: bool = False):
    """A select whose items show text in the current language but hold a value (``(value, text)``)."""
    vitems = [{"text": t, "value": v} for v, t in items]
    widget = rv.Autocomplete if autocomplete else rv.Select
    kw = dict(label=label, items=vitems, v_model=value, on_v_model=on_value, class_=" ".join(classes or []),
              dense=True, hide_details=True, disabled=disabled, style_=_style(style))
    if autocomplete:
        kw["auto_select_first"] = True
    return widget(**kw)


def _style(style) -> str:
    if style is None:
        return ""
    if isinstance(style, dict):
        return ";".join(f"{k}: {v}" for k, v in style.items())
    return style


def figure_png(fig, dpi: int = 150) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def current_lang() -> str:
    from .i18n import lang

    return normalize_lang(lang.value)


def range_hint(p, lang: str) -> str:
    """``allowed 0 … 1 (unit)`` for a parameter declaration."""
    if p.kind == "choice":
        return ("可选：" if lang == "zh" else "one of: ") + ", ".join(p.choices)
    if lang == "zh":  # units are declared in English only
        return f"允许 {p.range_text_zh()}"
    unit = f" ({p.unit})" if p.unit else ""
    return f"allowed {p.range_text()}{unit}"


# ---- scenarios (read once per server process) ---------------------------------------------------------
import functools  # noqa: E402


@functools.lru_cache(maxsize=None)
def scenario_cached(name: str):
    """The named scenario, loaded once (files under scenarios/ do not change while the app runs)."""
    from sim.inputs.scenario import load_scenario

    return load_scenario(name)


def scenario_items(lang: str) -> list[tuple[str, str]]:
    """``(name, "Title (name)")`` for every named scenario, titles in ``lang`` (in Chinese the title
    alone: the file name is English)."""
    from sim.inputs.scenario import scenario_names

    out = []
    for n in scenario_names():
        try:
            title = scenario_cached(n).text("title", lang)
            out.append((n, title if lang == "zh" else f"{title} ({n})"))
        except Exception:  # noqa: BLE001 - a broken file is shown by name only
            out.append((n, n))
    return out


# ---- Markdown without the math/diagram loaders ---------------------------------------------------------
def _md_parser():
    import markdown

    try:
        import pymdownx.superfences  # noqa: F401 - the extensions below need it

        return markdown.Markdown(extensions=["pymdownx.highlight", "pymdownx.superfences", "tables", "sane_lists"])
    except ImportError:  # pragma: no cover - pymdownx comes with solara
        return markdown.Markdown(extensions=["fenced_code", "codehilite", "tables", "sane_lists"])


def markdown_html(text: str) -> str:
    """``text`` (Markdown) as HTML that is safe to show (:func:`sim.ui.safe_html.clean_html`: no raw
    script or frame, nothing loaded from another machine, no link the app cannot follow)."""
    from .safe_html import clean_html

    parser = _md_parser()
    return clean_html(parser.convert(text))


@solara.component
def Md(text: str, classes: list[str] | None = None, style: str | dict | None = None):
    """Markdown shown as plain HTML with solara.Markdown's look. Unlike ``solara.Markdown`` it loads no
    KaTeX or Mermaid scripts (which the offline assets do not include), and ``$`` or ``{{`` in a text
    mean nothing special. Any text may be given (docs/, scenarios/, an uploaded scenario's notes,
    labels): the HTML goes through :func:`markdown_html`'s filter."""
    html = solara.use_memo(lambda: markdown_html(text), dependencies=[text])
    return solara.HTML(tag="div", unsafe_innerHTML=html, style=_style(style) or None,
                       classes=["solara-markdown", "rendered_html", "jp-RenderedHTMLCommon", *(classes or [])])

"""Parameter controls generated from the one declaration (:mod:`sim.params`).

Nothing here restates a parameter: label, unit, help, range and slider step all come from its
:class:`~sim.params.Param`. :func:`ParamControl` is one control (a slider with a box to type an
exact value for numbers, a list for choices); every value goes through ``Param.validate`` and a bad
one shows the :class:`~sim.params.ParamError` message in the current language, never a traceback.
Sliders report when they are released (not on every pixel of a drag), so one drag is one change.

Typed text is committed from the text box's own ``change`` event (:func:`use_commit`), which Vuetify
fires when Enter is pressed or the box is left, and which carries the text the box shows at that
moment. The server's copy of the box's ``v_model`` cannot be trusted at that moment: the browser
sends a widget's state changes one at a time (each waits for the server's answer to the previous
one), while an event goes out at once, so the Enter of ``0.71`` typed at a normal pace can reach the
server before the last keystrokes (it used to apply ``0`` or ``0.7``). Enter and then leaving the
box fire ``change`` twice; a value equal to the current one changes nothing and is not recorded.
:func:`CommitBox` is such a box for free text (the seed, "pause at week").

:func:`ParameterPanels` lays out the market-wide parameters of ``PARAMS`` by group (customers,
market, word of mouth) in expansion panels; :func:`MerchantPanels` does the same for each merchant's
policy (``MERCHANT_PARAMS``), the fields a student changes most first. Both are reusable: they only
need the current values and a callback.

CSS classes (for browser tests): every control ``lsim-param lsim-param-NAME`` (merchant fields
``lsim-param-MERCHANT-NAME``), its slider ``lsim-slider``, its text box ``lsim-input``, a choice
``lsim-select``; groups ``lsim-group-GROUP``; merchant panels ``lsim-merchant-NAME``.
"""

from __future__ import annotations

import math

from typing import Any, Callable

import reacton.ipyvuetify as rv
import solara

from ..analysis.formatting import setting_text
from ..params import GROUPS, MERCHANT_PARAMS, PARAMS, PROGRAMME_LABELS, STRATEGY_LABELS, Param, ParamError
from ..words import join
from .i18n import lang, tr

__all__ = ["ParamControl", "ChoiceControl", "NumberControl", "ParameterPanels", "MerchantPanels", "MERCHANT_MAIN", "format_value", "parse_value",
           "choice_label", "use_commit", "CommitBox", "same_value", "named"]

#: merchant fields shown first (the rest are under "more"); all come from MERCHANT_PARAMS
MERCHANT_MAIN: tuple[str, ...] = ("quality", "price", "promise", "recovery_prob", "recovery_delay", "compensation",
                                  "complaint_ease", "programme")


def format_value(p: Param, v: Any) -> str:
    """The text of ``p``'s value in its box (:func:`sim.analysis.formatting.setting_text`)."""
    return setting_text(v, p.kind)


def parse_value(p: Param, raw: Any) -> Any:
    """Text typed by a user → a number when it reads as one (validation comes after)."""
    if not isinstance(raw, str):
        return raw
    s = raw.strip().replace(",", "").replace("，", "")
    if p.kind in ("int", "float"):
        try:
            return int(s)
        except ValueError:
            try:
                return float(s)
            except ValueError:
                return raw
    return s


def choice_label(p: Param, value: str, lng: str) -> str:
    table = PROGRAMME_LABELS if p.name == "programme" else STRATEGY_LABELS if p.name == "strategy" else {}
    if value in table:
        return table[value][1 if lng == "zh" else 0]
    return value


@solara.component
def ParamControl(param: Param, value: Any, on_value: Callable[[Any], Any], key: str | None = None,
                 note: str = "", css: str | None = None, disabled: bool = False):
    """One parameter: label (help on hover), range and unit, slider + exact value, or a list.

    ``on_value(v)`` receives a validated value; it may raise :class:`ParamError` (e.g. a rule that
    ties two parameters), whose message is shown under the control."""
    lng = lang.value
    p = param
    text, set_text = solara.use_state(format_value(p, value))
    error, set_error = solara.use_state("")
    current = solara.use_ref(value)  # the value now (event handlers may run before the next render)
    current.current = value
    solara.use_effect(lambda: set_text(format_value(p, value)), [value])

    def commit(raw):
        try:
            v = p.validate(parse_value(p, raw), key=key or p.name)
            if not same_value(v, current.current):  # Enter, then leaving the box: one change
                on_value(v)
                current.current = v
        except ParamError as e:
            set_error(e.text(lng))
            return False
        set_error("")
        set_text(format_value(p, v))
        return True

    name = css or p.name
    unit = p.unit_text(lng)
    unit = (f"（{unit}）" if lng == "zh" else f" ({unit})") if unit else ""
    with solara.Column(gap="0px", classes=["lsim-param", f"lsim-param-{name}"], style={"margin-bottom": "6px"}):
        with solara.Tooltip(p.help(lng)):
            solara.Text(p.label(lng), style={"font-weight": "500", "font-size": "0.92em"},
                        classes=["lsim-param-label"])
        if p.kind == "choice":
            ChoiceControl(p, value, commit, error, disabled, lng)
        else:
            NumberControl(p, value, text, set_text, commit, disabled)
        if p.kind == "choice":  # the choices as the list shows them, not their code names
            hint = tr("one of: ", "可选：") + join([choice_label(p, c, lng) for c in p.choices], lng)
        else:
            hint = (p.range_text_zh() if lng == "zh" else p.range_text()) + unit
        if error:
            solara.Text(error, classes=["lsim-error"], style={"color": "#c62828", "font-size": "0.82em"})
        else:
            solara.Text(hint + (f" · {note}" if note else ""), style={"color": "#546e7a", "font-size": "0.78em"})


@solara.component
def ChoiceControl(p: Param, value, commit, error: str, disabled: bool, lng: str):
    """The list of a choice parameter: ``commit(v)`` on a pick; ``error`` shown under it."""
    items = [{"text": choice_label(p, c, lng), "value": c} for c in p.choices]
    sel = rv.Select(v_model=value, items=items, dense=True, hide_details="auto", disabled=disabled,
                    error_messages=[error] if error else [], class_="lsim-select", attributes=named(p, lng))
    rv.use_event(sel, "change", lambda *a: commit(a[-1]))


def named(p: Param, lng: str) -> dict[str, str]:
    """The HTML attributes that name a control of ``p`` for screen readers: its label (the visible
    text above the control is not tied to it), and its help (shown to a mouse on hover) as the
    control's description."""
    return {"aria-label": p.label(lng), "aria-description": p.help(lng)}


def same_value(a: Any, b: Any) -> bool:
    """True when a committed value is the one already set (numbers compared as numbers)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def use_commit(box, commit: Callable[[str], Any]) -> None:
    """Call ``commit(text)`` with the text the box ``box`` (a ``rv.TextField`` element) shows when the
    user presses Enter in it or leaves it after a change (Vuetify's ``change`` event, whose data is
    that text; see the module's notes for why not the server's ``v_model``)."""
    rv.use_event(box, "change", lambda *a: commit("" if a[-1] is None else str(a[-1])))


@solara.component
def CommitBox(label: str, value: str, on_commit: Callable[[str], str | None], classes: list[str] | None = None,
              style: str = "", reset_key: Any = None):
    """A text box for one value typed by the user (e.g. the seed).

    ``on_commit(text)`` gets the text the box shows when Enter is pressed or the box is left; it
    returns an error message (shown by the caller; the box turns red and keeps the text so it can be
    corrected) or None. The box shows ``value`` again whenever ``value`` or ``reset_key`` changes."""
    text, set_text = solara.use_state(value)
    bad, set_bad = solara.use_state(False)

    def show():
        set_text(value)
        set_bad(False)

    solara.use_effect(show, [value, reset_key])

    def commit(raw: str):
        set_text(raw)  # what the box shows (its v_model may still be on its way)
        set_bad(bool(on_commit(raw)))

    box = rv.TextField(label=label, v_model=text, on_v_model=set_text, dense=True, hide_details=True, error=bad,
                       class_=" ".join(classes or []), style_=style)
    use_commit(box, commit)


@solara.component
def NumberControl(p: Param, value, text: str, set_text, commit, disabled: bool):
    """The slider and box of a number parameter: the box's ``text`` is the caller's state
    (``set_text``), ``commit(raw)`` is called once per typed value (Enter or leaving the box) and by
    the slider, and returns False when it refuses the value. :func:`ParamControl` adds validation and
    messages around it."""
    lng = lang.value
    step = p.step or (1 if p.kind == "int" else 0.01)
    # the slider's grid starts at a multiple of its step, so that a value typed on that grid (2,000
    # customers, in steps of 100 from a least of 2) is not moved to the nearest point of a grid
    # counted from the least value (2,002); what it gives is kept inside the allowed range
    lo = math.floor(p.lo / step + 1e-9) * step
    # The slider's position is set from here only when the value changes otherwise than by the slider
    # (at mount, a typed value, a scenario loaded), never by a render: a render sets every property it
    # is given, and a position given to it would send the browser back to a value it has already
    # moved past — after each of several quick arrow-key presses, or at every step of a playing
    # market — undoing the presses still on their way (ten quick presses used to move it by seven).
    mine = solara.use_ref([])  # values the slider committed that have not come back yet, oldest first
    current_value = solara.use_ref(value)
    current_value.current = value
    widget = solara.use_ref(None)  # the slider's widget, from its mount on

    with solara.Row(gap="6px", style={"align-items": "center"}):
        slider = rv.Slider(min=lo, max=p.hi, step=step, thumb_label=True, hide_details=True, dense=True,
                           disabled=disabled, class_="lsim-slider", style_="flex: 1 1 auto", attributes=named(p, lng))

        def slid(*a):
            v = min(max(a[-1], p.lo), p.hi)
            mine.current.append(v)
            if commit(v) is False:  # refused (the reason is shown): back to the value in force
                mine.current.remove(v)
                if widget.current is not None:
                    widget.current.v_model = current_value.current

        rv.use_event(slider, "change", slid)
        box = rv.TextField(v_model=text, on_v_model=set_text, dense=True, hide_details=True,
                           disabled=disabled, class_="lsim-input", style_="max-width: 92px; flex: 0 0 92px",
                           single_line=True, attributes=named(p, lng))
        use_commit(box, commit)

    def mounted():
        widget.current = solara.get_widget(slider)
        widget.current.v_model = current_value.current

    solara.use_effect(mounted, [])

    def follow():
        sent = mine.current
        back = next((k for k, v in enumerate(sent) if same_value(value, v)), None)
        if back is not None:  # the slider's own change coming back: it is there already (or further on)
            del sent[:back + 1]
            return
        sent.clear()
        if widget.current is not None:
            widget.current.v_model = value

    solara.use_effect(follow, [value])


@solara.component
def _Panels(titles: list[str], render: Callable[[int], None], css: list[str], open_: int | None = None):
    """Expansion panels whose content is built only while open (fewer widgets per session)."""
    current, set_current = solara.use_state(open_)
    with rv.ExpansionPanels(v_model=current, on_v_model=set_current, accordion=True, class_="lsim-panels"):
        for i, title in enumerate(titles):
            with rv.ExpansionPanel(class_=css[i]):
                rv.ExpansionPanelHeader(children=[title], class_="lsim-panel-header")
                with rv.ExpansionPanelContent():
                    if current == i:
                        render(i)


@solara.component
def ParameterPanels(values: Any, on_value: Callable[[str, Any], Any], notes: dict[str, str] | None = None,
                    groups: tuple[str, ...] | None = None):
    """The market-wide parameters of ``PARAMS`` grouped in expansion panels.

    ``values`` has an attribute per parameter (e.g. a :class:`~sim.params.Params`); ``on_value(name,
    value)`` is called with a validated value and may raise :class:`ParamError`."""
    lng = lang.value
    present = [g for g in GROUPS if any(p.group == g for p in PARAMS.values())]
    groups = tuple(g for g in (groups or present) if g in present)
    notes = notes or {}

    def render(i):
        for p in PARAMS.values():
            if p.group == groups[i]:
                ParamControl(p, getattr(values, p.name), lambda v, n=p.name: on_value(n, v), note=notes.get(p.name, ""))

    _Panels([GROUPS[g][1 if lng == "zh" else 0] for g in groups], render, [f"lsim-group-{g}" for g in groups])


@solara.component
def MerchantPanels(merchants: tuple, on_value: Callable[[str, str, Any], Any], fields: tuple[str, ...] | None = None):
    """One expansion panel per merchant with its policy fields (main ones first, the rest under
    "more"). ``on_value(merchant, field, value)`` as in :func:`ParameterPanels`."""
    lng = lang.value
    more_fields = [f for f in MERCHANT_PARAMS if f != "name" and f not in MERCHANT_MAIN]
    fields = fields or MERCHANT_MAIN

    def render(i):
        m = merchants[i]
        for f in fields:
            ParamControl(MERCHANT_PARAMS[f], getattr(m, f), lambda v, f=f: on_value(m.name, f, v),
                         key=f"{m.name}.{f}", css=f"{m.name}-{f}")
        with solara.Details(tr("More: consistency, failures, costs, strategy …", "更多：稳定性、失误、成本、策略……")):
            for f in more_fields:
                ParamControl(MERCHANT_PARAMS[f], getattr(m, f), lambda v, f=f: on_value(m.name, f, v),
                             key=f"{m.name}.{f}", css=f"{m.name}-{f}")

    titles = [tr(f"Merchant {m.name}", f"商家 {m.name}") + f" — {MERCHANT_PARAMS['quality'].label(lng)} {m.quality:g}, "
              f"{MERCHANT_PARAMS['price'].label(lng)} {m.price:g}" for m in merchants]
    _Panels(titles, render, [f"lsim-merchant-{m.name}" for m in merchants])

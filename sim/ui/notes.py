"""Scenario notes inside the app: the same source as the command line's, in the app's own words.

The notes of a scenario (``[info]`` of ``scenarios/*.toml``, English and Chinese) are written once,
with a small markup that both front ends read:

- a setting is written as the command line takes it, ``--set KEY=VALUE`` (``--set C.quality=0.65``,
  ``--set price_sensitivity=0.5``); a merchant's setting may also be written ``A.price=1.0``;
- a parameter, a merchant's field (``A.quality``) or an observable (``loyal_share``) is written by its
  code name.

The command line (``loyalty-sim describe``) shows the notes as written. The app shows them with
:func:`app_markdown`: each setting becomes the path of the controls that make it, labelled as the
app labels them in the current language ("Merchant C → Service quality = 0.65", "Market → Customers
→ Price sensitivity = 0.5"), each code name becomes its label (dropped when it only repeats, in
brackets, the label just before it), and the command-line form stays
beside it, in a small "command line" line under the paragraph or list item (class ``lsim-cli``).
"""

from __future__ import annotations

import html
import re

from ..metrics import MERCHANT_METRICS, METRICS
from ..params import GROUPS, MERCHANT_PARAMS, PARAMS
from ..words import pick

__all__ = ["control_path", "setting_text", "code_label", "app_line", "app_markdown", "without_echoes", "SETTING",
           "CODE_NAME"]

#: ``--set KEY=VALUE`` (several may follow each other) or a merchant's ``A.field=VALUE``
SETTING = re.compile(r"--set\s+(?P<key>[A-Za-z][\w.]*)=(?P<value>[^\s,，;；:：)）]+)"
                     r"|(?<![\w.])(?P<mkey>[A-Z][A-Za-z]*\.[a-z][a-z_]*)=(?P<mvalue>[^\s,，;；:：)）]+)")
#: a code name: snake_case (``loyal_share``), a merchant's field (``A.quality``), or a one-word parameter
CODE_NAME = re.compile(r"(?<![\w.`-])(?:[A-Z][A-Za-z]*\.[a-z][a-z_]*|[a-z]+(?:_[a-z]+)+)(?![\w`])")
#: a one-word code name (``profit``, ``mercenaries``): replaced in Chinese text only
WORD = re.compile(r"(?<![\w.`-])[a-z]+(?![\w`])")
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
#: a code name alone in brackets (``忠诚客户占比（loyal_share）``, ``Loyal share (loyal_share)``)
BRACKETED = re.compile(r"[ \t]*[（(][ \t]*(?P<name>[A-Za-z][A-Za-z0-9_.]*)[ \t]*[）)]")
#: a code name followed by a gloss in brackets (``complaints（投诉）``)
GLOSSED = re.compile(r"(?<![\w.`-])(?P<name>[A-Za-z][A-Za-z0-9_.]*)"
                     r"(?P<gloss>[ \t]*[（(][ \t]*(?P<text>[^（）()\n]+?)[ \t]*[）)])")
_ARROW = " → "
#: settings of the run (``[run]`` of a scenario) and the Explore page's box that sets them
RUN_CONTROLS: dict[str, tuple[str, str]] = {
    key: words for name, words in (("steps", ("Pause at week", "在第几周暂停")), ("seed", ("Seed", "随机种子")))
    for key in (name, f"run.{name}")}


def control_path(key: str, lang: str) -> str | None:
    """The controls that set ``key`` as the Explore page labels them (``Merchant C → Service quality``,
    ``Market → Customers → Price sensitivity``); None when ``key`` is no control."""
    if key in RUN_CONTROLS:
        return pick(*RUN_CONTROLS[key], lang)
    if "." in key:
        merchant, field = key.split(".", 1)
        p = MERCHANT_PARAMS.get(field)
        if p is None or not re.fullmatch(r"[A-Z][A-Za-z]*", merchant):
            return None
        return pick(f"Merchant {merchant}", f"商家 {merchant}", lang) + _ARROW + p.label(lang)
    p = PARAMS.get(key)
    if p is None:
        return None
    return _ARROW.join([pick("Market", "市场", lang), GROUPS[p.group][lang == "zh"], p.label(lang)])


def setting_text(key: str, value: str, lang: str) -> str | None:
    """``--set KEY=VALUE`` in the app's words (``Merchant C → Service quality = 0.65``)."""
    path = control_path(key, lang)
    if path is None:
        return None
    field = key.split(".", 1)[-1]
    p = MERCHANT_PARAMS.get(field) if "." in key else PARAMS.get(key) if key not in RUN_CONTROLS else None
    if p is not None and p.kind == "choice":
        from .controls import choice_label

        value = choice_label(p, value, lang)
    return f"{path} = {value}"


def code_label(name: str, lang: str) -> str | None:
    """A code name's label: a parameter, a merchant's field (``A.quality`` → ``A: Service quality``)
    or an observable; None when it is none of these."""
    if "." in name:
        merchant, field = name.split(".", 1)
        p = MERCHANT_PARAMS.get(field)
        return None if p is None else pick(f"{merchant}'s {p.label(lang).lower()}", f"{merchant} 的{p.label(lang)}", lang)
    if name in PARAMS:
        return PARAMS[name].label(lang)
    if name in MERCHANT_PARAMS:
        return MERCHANT_PARAMS[name].label(lang)
    m = METRICS.get(name) or MERCHANT_METRICS.get(name)
    return m.label(lang) if m is not None else None


def without_echoes(text: str, lang: str) -> str:
    """``text`` without the brackets that would only repeat a label: the notes name a quantity for
    both readers, ``忠诚客户占比（loyal_share）`` or ``complaints（投诉）``; the app shows the code name
    as its label, which would read ``忠诚客户占比（忠诚客户占比）``, ``投诉（投诉）``."""

    def replaced(name: str) -> str | None:
        if not (CODE_NAME.fullmatch(name) or (lang == "zh" and WORD.fullmatch(name))):
            return None  # not a name the app replaces: it stays as written
        return code_label(name, lang)

    def glossed(m: re.Match) -> str:
        label = replaced(m.group("name"))
        return m.group("name") if label and m.group("text").lower() == label.lower() else m.group(0)

    def echo(m: re.Match) -> str:
        label = replaced(m.group("name"))
        before = m.string[:m.start()].rstrip()
        return "" if label and before.lower().endswith(label.lower()) else m.group(0)

    return BRACKETED.sub(echo, GLOSSED.sub(glossed, text))


def app_line(text: str, lang: str) -> tuple[str, list[str]]:
    """One line of notes in the app's words, and the command-line forms it held."""
    cli: list[str] = []
    shown: list[str] = []

    def setting(m: re.Match) -> str:
        key, value = (m.group("key"), m.group("value")) if m.group("key") else (m.group("mkey"), m.group("mvalue"))
        stop = value[len(value.rstrip(".。")):]  # a full stop after the value ends the sentence
        value = value[:len(value) - len(stop)]
        text = setting_text(key, value, lang)
        if text is None:
            return m.group(0)
        cli.append(f"--set {key}={value}")
        shown.append(text)
        return f"\x00{len(shown) - 1}\x00{stop}"

    out = SETTING.sub(setting, without_echoes(text, lang))
    out = re.sub(r"(\x00\d+\x00)\s+(?=\x00)", r"\1" + pick(", ", "，", lang), out)  # settings in a row

    def code(m: re.Match) -> str:
        label = code_label(m.group(0), lang)
        return m.group(0) if label is None else f"\x01{label}\x02" if lang == "zh" else label

    out = CODE_NAME.sub(code, out)
    if lang == "zh":  # one-word names are English words in a Chinese text; no spaces around a label
        out = WORD.sub(code, out)
        out = re.sub(rf"(?<=[{_CJK}])\s+\x01", "\x01", out)
        out = re.sub(rf"\x02\s+(?=[{_CJK}])", "\x02", out).replace("\x01", "").replace("\x02", "")
    return re.sub(r"\x00(\d+)\x00", lambda m: shown[int(m.group(1))], out), cli


def app_markdown(text: str, lang: str) -> str:
    """Notes (Markdown) in the app's words, each line's command-line form in a small line under it."""
    lines = []
    for line in (text or "").split("\n"):
        shown, cli = app_line(line, lang)
        if cli:
            forms = " ".join(f"<code>{html.escape(c)}</code>" for c in cli)
            shown += (f'<br><small class="lsim-cli">{pick("command line:", "命令行：", lang)} {forms}</small>')
        lines.append(shown)
    return "\n".join(lines)

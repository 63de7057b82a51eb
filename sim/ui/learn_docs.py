"""Reading the Learn page's texts from ``docs/``: the model's Info (``docs/info.md``), the glossary
(``docs/glossary.md``) and the validation report (``docs/validation.md``, when it exists).

``docs/info.md``: each section starts with ``<!-- section: KEY -->``, then a heading
``## ENGLISH TITLE · 中文标题``; inside it ``<!-- en -->`` starts the English text and ``<!-- zh -->``
the Chinese text. ``docs/glossary.md``: one Markdown table with the columns term | 术语 | definition |
定义 | in the model (names of parameters and observables in backticks).
"""

from __future__ import annotations

import base64
import functools
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from sim.metrics import MERCHANT_METRICS, METRICS
from sim.params import MERCHANT_PARAMS, PARAMS
from sim.validation.core import ZH_SUMMARY_HEADING

DOCS = Path(__file__).resolve().parents[2] / "docs"
INFO_MD = DOCS / "info.md"
GLOSSARY_MD = DOCS / "glossary.md"
VALIDATION_MD = DOCS / "validation.md"


@dataclass(frozen=True)
class Section:
    key: str
    title_en: str
    title_zh: str
    en: str
    zh: str

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


_SECTION = re.compile(r"^<!--\s*section:\s*([\w-]+)\s*-->\s*$", re.M)
_LANG = re.compile(r"^<!--\s*(en|zh)\s*-->\s*$", re.M)


def parse_info(text: str) -> list[Section]:
    """The sections of an Info file, in order. Raises ValueError naming a malformed section."""
    marks = list(_SECTION.finditer(text))
    out = []
    for i, m in enumerate(marks):
        key = m.group(1)
        body = text[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(text)].strip("\n")
        lines = body.splitlines()
        if not lines or not lines[0].startswith("## "):
            raise ValueError(f"info section '{key}': the marker must be followed by '## ENGLISH · 中文'")
        heading = lines[0][3:].strip()
        title_en, sep, title_zh = heading.partition(" · ")
        if not sep:
            raise ValueError(f"info section '{key}': the heading needs both titles: '## ENGLISH · 中文'")
        rest = "\n".join(lines[1:])
        parts = {}
        langs = list(_LANG.finditer(rest))
        for j, lm in enumerate(langs):
            end = langs[j + 1].start() if j + 1 < len(langs) else len(rest)
            parts[lm.group(1)] = rest[lm.end():end].strip()
        if not parts.get("en") or not parts.get("zh"):
            raise ValueError(f"info section '{key}': needs both '<!-- en -->' and '<!-- zh -->' texts")
        out.append(Section(key, title_en.strip(), title_zh.strip(), parts["en"], parts["zh"]))
    return out


@functools.lru_cache(maxsize=8)
def _parsed_cached(parse, path: str, mtime: float) -> tuple:
    return tuple(parse(Path(path).read_text(encoding="utf-8")))


def _parsed(parse, path: Path) -> list:
    """``parse(text of path)``, kept until the file changes (keyed by its modification time)."""
    return list(_parsed_cached(parse, str(path), path.stat().st_mtime))


def info_sections(path: Path = INFO_MD) -> list[Section]:
    """The Info sections of ``docs/info.md`` (re-read when the file changes)."""
    return _parsed(parse_info, path)


# ---- glossary --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    en: str
    zh: str
    definition_en: str
    definition_zh: str
    names: tuple[str, ...] = ()

    def term(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def other(self, lang: str) -> str:
        return self.en if lang == "zh" else self.zh

    def definition(self, lang: str) -> str:
        return self.definition_zh if lang == "zh" else self.definition_en


def _cells(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", s)]


def parse_glossary(text: str) -> list[Term]:
    """The rows of the glossary table (the first Markdown table of the file)."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip().startswith("|")), None)
    if start is None:
        raise ValueError("glossary: no table found")
    out = []
    for ln in lines[start + 2:]:
        if not ln.strip().startswith("|"):
            break
        c = _cells(ln)
        if len(c) < 4:
            raise ValueError(f"glossary: a row needs term | 术语 | definition | 定义 | names: {ln!r}")
        names = tuple(re.findall(r"`([^`]+)`", c[4])) if len(c) > 4 else ()
        out.append(Term(c[0], c[1], c[2], c[3], names))
    return out


def glossary_terms(path: Path = GLOSSARY_MD) -> list[Term]:
    """The glossary's terms (re-read when the file changes)."""
    return _parsed(parse_glossary, path)


_KINDS = ((METRICS, "observable", "观测指标"), (PARAMS, "parameter", "参数"),
          (MERCHANT_PARAMS, "merchant parameter", "商家参数"), (MERCHANT_METRICS, "merchant observable", "商家观测指标"))


def name_info(name: str, lang: str) -> tuple[str, str] | None:
    """``(label, kind)`` of a parameter or observable of the model in ``lang``, or ``None`` if the model
    has no such name (a name that is both a merchant parameter and a merchant observable, such as
    ``quality``, is shown as the parameter)."""
    for table, en, zh in _KINDS:
        if name in table:
            return table[name].label(lang), (zh if lang == "zh" else en)
    return None


def name_label(name: str, lang: str) -> str | None:
    info = name_info(name, lang)
    return info[0] if info else None


def name_kind(name: str, lang: str) -> str | None:
    info = name_info(name, lang)
    return info[1] if info else None


# ---- validation report -----------------------------------------------------------------------------
_IMG_MD = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(\s+\"[^\"]*\")?\)")
_IMG_HTML = re.compile(r"(<img\b[^>]*\bsrc=)([\"'])([^\"']+)\2", re.I)


def _data_uri(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def embed_images(markdown: str, base: Path = DOCS) -> str:
    """``markdown`` with every local image (Markdown or ``<img>``) replaced by a data URI, so the page
    shows it with no file server and no internet. Remote or missing images are left as they are."""
    root = base.resolve()

    def local(src: str) -> Path | None:
        if re.match(r"^[a-z]+:", src, re.I):
            return None
        p = (base / src).resolve()
        if root not in p.parents and p != root:
            return None  # nothing outside docs/
        return p if p.is_file() else None

    def md(m: re.Match) -> str:
        p = local(m.group(2))
        uri = _data_uri(p) if p else None
        return f"![{m.group(1)}]({uri})" if uri else m.group(0)

    def html(m: re.Match) -> str:
        p = local(m.group(3))
        uri = _data_uri(p) if p else None
        return f"{m.group(1)}{m.group(2)}{uri}{m.group(2)}" if uri else m.group(0)

    return _IMG_HTML.sub(html, _IMG_MD.sub(md, markdown))


def summary_first(markdown: str, heading: str = ZH_SUMMARY_HEADING) -> str:
    """``markdown`` with the section under ``heading`` (up to the next ``## `` heading) moved before the
    first ``## `` heading, so a reader in that language meets its summary first. Unchanged when the
    section is missing or already first."""
    lines = markdown.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    try:
        at = next(i for i in starts if lines[i].strip() == heading)
    except StopIteration:
        return markdown
    if at == starts[0]:
        return markdown
    end = next((i for i in starts if i > at), len(lines))
    section = lines[at:end]
    if section and section[-1].strip():
        section.append("")
    rest = lines[:at] + lines[end:]
    return "\n".join(rest[:starts[0]] + section + rest[starts[0]:])


def split_summary(markdown: str, heading: str = ZH_SUMMARY_HEADING) -> tuple[str, str]:
    """``(the section under heading, without the heading; the rest)``; ``("", markdown)`` when the
    section is missing."""
    lines = markdown.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    at = next((i for i in starts if lines[i].strip() == heading), None)
    if at is None:
        return "", markdown
    end = next((i for i in starts if i > at), len(lines))
    return "\n".join(lines[at + 1:end]).strip(), "\n".join(lines[:at] + lines[end:])


def validation_report(path: Path | None = None, lang: str = "en") -> str | None:
    """The validation report (default ``docs/validation.md``) with its figures embedded, or ``None`` when
    it has not been written yet. In Chinese (``lang="zh"``) the report's Chinese summary comes first;
    the body of the report is in English."""
    path = Path(path) if path is not None else VALIDATION_MD
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    if lang == "zh":
        text = summary_first(text)
    return embed_images(text, path.parent)

"""The texts of each fact, kept in Markdown: ``docs/validation/facts/F1.md`` … ``F13.md``.

One file per fact, in sections the report generator (:mod:`sim.validation.report`) places::

    # F2 — English title
    ## 中文标题                the Chinese title
    ## Source                 where the fact comes from
    ## 中文来源                the same in Chinese (names, journals and years as they are)
    ## Grade                  A, B, C (see docs/validation.md)
    ## Test                   the test as the project's list of facts states it
    ## Measurement            how the model is measured
    ## Calibration            (only calibrated facts) what was fitted
    ## Evidence               which checks verify a rule, which report a calibration, which are held out, and why
    ## 证据类型                the same in Chinese
    ## Diagnosis: `KEY`       (any number) why checks whose key starts with KEY fail, and what would fix it

A section's text is one paragraph; it may wrap over several lines (they are joined with one space).
An HTML comment (``<!-- … -->``) is ignored. Unknown sections are an error, so that a misspelt
heading does not silently drop a text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from .paths import FACT_TEXT_DIR

__all__ = ["FactText", "read_fact_text", "parse_fact_text"]

_SECTIONS = {"中文标题": "title_zh", "Source": "source", "中文来源": "source_zh", "Grade": "grade", "Test": "test",
             "Measurement": "method", "Calibration": "calibration",
             "Evidence": "evidence", "证据类型": "evidence_zh"}
_OPTIONAL = ("calibration",)
_DIAGNOSIS = re.compile(r"^Diagnosis: `([^`]+)`$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


@dataclass(frozen=True)
class FactText:
    """A fact's texts (Markdown, each one paragraph)."""

    id: str
    title_en: str
    title_zh: str
    source: str
    source_zh: str
    grade: str
    test: str
    method: str
    calibration: str = ""
    evidence: str = ""  # the kinds of evidence of its checks and why (sim.validation.core.Fact.kinds)
    evidence_zh: str = ""
    diagnosis: dict = field(default_factory=dict)  # check-key prefix → diagnosis, in the file's order


def parse_fact_text(text: str, where: str = "fact text") -> FactText:
    """A :class:`FactText` from the Markdown of one fact file; raises ``ValueError`` naming ``where``
    when a heading is missing, unknown or doubled."""
    title: tuple[str, str] | None = None
    parts: dict[str, list[str]] = {}
    diagnosis: dict[str, list[str]] = {}
    current: list[str] | None = None
    for n, line in enumerate(_COMMENT.sub("", text).splitlines(), 1):
        s = line.strip()
        if line.startswith("# "):
            fid, sep, t = line[2:].partition(" — ")
            if title or not sep:
                raise ValueError(f"{where}:{n}: expected one title '# Fn — title'")
            title, current = (fid.strip(), t.strip()), None
        elif line.startswith("## "):
            head = line[3:].strip()
            d = _DIAGNOSIS.match(head)
            if d:
                key, into = d.group(1), diagnosis
            elif head in _SECTIONS:
                key, into = _SECTIONS[head], parts
            else:
                raise ValueError(f"{where}:{n}: unknown section {head!r} (known: {', '.join(_SECTIONS)}, "
                                 "Diagnosis: `KEY`)")
            if key in into:
                raise ValueError(f"{where}:{n}: section {head!r} appears twice")
            current = into[key] = []
        elif s:
            if current is None:
                raise ValueError(f"{where}:{n}: text outside a section")
            current.append(s)
    missing = [h for h, k in _SECTIONS.items() if k not in _OPTIONAL and not parts.get(k)]
    if title is None or missing:
        raise ValueError(f"{where}: missing {'the title' if title is None else ', '.join(missing)}")
    joined = {k: " ".join(v) for k, v in parts.items()}
    return FactText(title[0], title[1], diagnosis={k: " ".join(v) for k, v in diagnosis.items()}, **joined)


@functools.lru_cache(maxsize=None)
def read_fact_text(fid: str, folder: Path = FACT_TEXT_DIR) -> FactText:
    """The texts of fact ``fid`` (``"F7"``) from ``folder/F7.md`` (read once)."""
    path = Path(folder) / f"{fid}.md"
    t = parse_fact_text(path.read_text(encoding="utf-8"), str(path))
    if t.id != fid:
        raise ValueError(f"{path}: the title names {t.id}, not {fid}")
    return t

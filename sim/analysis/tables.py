"""Tables for people: summaries relabelled in English or Chinese, and the one Markdown table writer.

:func:`markdown_rows` writes every Markdown table of the project's reports and pages (escaping, the
alignment row, bold cells); :func:`markdown_table` formats a DataFrame's numbers first (each
numeric column with the decimals that show about four significant digits of its largest value).
:func:`localize` turns a summary, differences or sensitivity table into one for people: labels
instead of names, column headers in the chosen language. :func:`mean_texts` and
:func:`difference_texts` are the cells of a comparison, the same in the app and the reports.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..words import WORDS, check_lang, word
from ..metrics import is_share
from .formatting import MISSING, decimals, fixed_text, interval_text, number_text
from .labels import merchant_metric_label, metric_label, param_label

__all__ = ["md_escape", "markdown_rows", "markdown_table", "localize", "mean_texts", "difference_texts"]

#: how a column is aligned: by Markdown's default (left), on the left, or on the right (numbers)
_ALIGN = {None: "---", "left": ":---", "right": "---:"}


def md_escape(x) -> str:
    """A cell's text with the characters that would break a Markdown table row escaped (``|``, a
    line break) or start a formula where Markdown renders math (``$``, as in a merchant called
    "$$ Discount")."""
    return str(x).replace("|", "\\|").replace("$", "\\$").replace("\n", " ")


def markdown_rows(headers: Sequence, rows: Sequence[Sequence], align: Sequence[str | None] | None = None,
                  bold: Callable[[int, int], bool] | None = None) -> str:
    """A GitHub-flavoured Markdown table of ``rows`` (each a sequence of cell values, written with
    ``str``) under ``headers``. ``align`` gives each column ``None`` (the default ``---``),
    ``"left"`` or ``"right"``; ``bold(i, j)`` makes cell ``j`` of row ``i`` bold (not empty or '–'
    cells). Cells and headers are escaped (:func:`md_escape`)."""
    align = list(align) if align is not None else [None] * len(headers)
    lines = ["| " + " | ".join(md_escape(h) for h in headers) + " |",
             "|" + "|".join(_ALIGN[a] for a in align) + "|"]
    for i, row in enumerate(rows):
        cells = []
        for j, v in enumerate(row):
            t = md_escape(v)
            cells.append(f"**{t}**" if bold and t not in ("", MISSING) and bold(i, j) else t)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (:func:`markdown_rows`); each numeric column right-aligned
    with the decimals that show about 4 significant digits of its largest value (no exponents)."""
    kinds = []
    for c in table.columns:
        col = table[c]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            kinds.append(None)
        elif pd.api.types.is_integer_dtype(col):
            kinds.append(-1)
        else:
            big = np.nanmax(np.abs(col.to_numpy(dtype=float))) if col.notna().any() else 0.0
            kinds.append(decimals(big) if big >= 1e-9 else 0)

    def cell(v, k):
        if k is None or isinstance(v, str):
            return number_text(v) if not isinstance(v, str) else v
        if k == -1:
            return str(int(v))
        if v is None or not np.isfinite(v):
            return MISSING
        return fixed_text(v, k)

    rows = [[cell(v, k) for v, k in zip(row, kinds)] for row in table.itertuples(index=False)]
    return markdown_rows([str(c) for c in table.columns], rows, [None if k is None else "right" for k in kinds])


def localize(table: pd.DataFrame, lang: str = "en", merchant: bool = False) -> pd.DataFrame:
    """A copy of a summary, differences or sensitivity table for people: observables and parameters
    by their labels in ``lang`` (their names kept in a "Name" column), column headers in ``lang``.
    ``merchant=True`` labels observables as per-merchant ones."""
    check_lang(lang)
    df = table.copy()
    lab = merchant_metric_label if merchant else metric_label
    if "metric" in df.columns:
        pos = list(df.columns).index("metric")
        df.insert(pos + 1, "metric_id", df["metric"])
        df["metric"] = [lab(m, lang) for m in df["metric"]]
    if "parameter" in df.columns:
        pos = list(df.columns).index("parameter")
        df.insert(pos + 1, "parameter_id", df["parameter"])
        df["parameter"] = [param_label(p, lang) for p in df["parameter"]]
    names = {}
    for c in df.columns:
        if c in WORDS:
            names[c] = word(c, lang)
        elif c in ("metric_id", "parameter_id"):
            names[c] = word(c, lang)
        else:
            names[c] = param_label(str(c), lang)
    return df.rename(columns=names)


def mean_texts(summary: pd.DataFrame, metric: str, labels: Sequence, percent: bool | None = None) -> dict:
    """Each label's ``mean [low, high]`` of ``metric`` in a summary grouped by ``label`` (a
    :func:`sim.analysis.stats.summarize` table); '–' for a label without a row. A share is shown as
    percentages (``percent``: by default when ``metric`` is declared a share, :func:`sim.metrics.is_share`),
    as the Explore page shows it."""
    percent = is_share(metric) if percent is None else percent
    rows = summary[summary["metric"] == metric]
    out = {}
    for lab in labels:
        s = rows[rows["label"] == lab]
        out[lab] = interval_text(*s.iloc[0][["mean", "ci_low", "ci_high"]], percent=percent) if len(s) else MISSING
    return out


def difference_texts(diffs: pd.DataFrame, metric: str, labels: Sequence, percent: bool | None = None) -> dict:
    """Each label's ``+diff [low, high]`` of ``metric`` in a :func:`sim.analysis.stats.differences`
    table, and whether its interval excludes 0: ``{label: (text, significant)}``; ``('–', False)``
    for a label without a row."""
    percent = is_share(metric) if percent is None else percent  # as mean_texts
    rows = diffs[diffs["metric"] == metric]
    out = {}
    for lab in labels:
        d = rows[rows["label"] == lab]
        if d.empty:
            out[lab] = (MISSING, False)
            continue
        d = d.iloc[0]
        out[lab] = (interval_text(d["diff"], d["ci_low"], d["ci_high"], sign=True, percent=percent),
                    bool(d["significant"]))
    return out

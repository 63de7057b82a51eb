"""The reports of a results folder: :func:`analyze` (a run or a sweep) and :func:`compare`
(configurations side by side) write summary tables (CSV), ``summary.md`` and figures into the
folder they are given, and return an :class:`Analysis`.

They read nothing by themselves, run no model and print nothing: the command line reads a results
folder (:func:`sim.runs.read_results`) and passes its tables here. Numbers in ``summary.md`` are
formatted by :mod:`sim.analysis.formatting`, as the app's tables and the CLI's summaries are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..metrics import METRICS
from ..words import DESIGN_NAMES, KIND_NAMES, check_lang, colon, join, pick, word
from .figures import (plot_bars, plot_heatmap, plot_merchants, plot_scatter, plot_sensitivity, plot_timeseries,
                      plot_vs_param, save_figure)
from .formatting import decimals, interval_text, value_text
from .labels import group_title, merchant_metric_label, metric_label, param_label
from .indices import sensitivity
from .stats import (FLOW_WINDOW, HEADLINE_METRICS, MERCHANT_HEADLINE_METRICS, differences, final_rows, flow_metrics,
                    measured_every_step, require_columns, runs_frame, summarize_mixed, without_empty_merchants)
from .tables import difference_texts, localize, markdown_table, mean_texts

__all__ = ["Analysis", "MAX_LINES", "MAX_MD_GROUPS", "analyze", "compare"]

#: at most this many groups (labels or design points) get their own line in a figure
MAX_LINES = 10
#: at most this many groups are listed row by row in a Markdown summary
MAX_MD_GROUPS = 15


@dataclass
class Analysis:
    """What :func:`analyze` or :func:`compare` produced: tables (machine column names, as returned
    by the functions above), figure files (PNG and SVG), the Markdown report, and every file written."""

    tables: dict[str, pd.DataFrame]
    figures: list[Path]
    markdown: str
    files: list[Path] = field(default_factory=list)


def _headline(manifest: dict, market: pd.DataFrame, metrics) -> list[str]:
    if metrics is not None:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        require_columns(market, metrics, "market table")
        return metrics
    return [m for m in HEADLINE_METRICS if m in market.columns]  # those measured


def _write_csv(table: pd.DataFrame, path: Path, lang: str, merchant: bool = False) -> Path:
    localize(table, lang, merchant=merchant).to_csv(path, index=False, encoding="utf-8")
    return path


def _varied_names(manifest: dict, market: pd.DataFrame) -> list[str]:
    names = [v["name"] if isinstance(v, dict) else str(v) for v in manifest.get("varied") or []]
    return [n for n in names if n in market.columns]


def _run_section(manifest: dict, market: pd.DataFrame, lang: str) -> list[str]:
    check_lang(lang)
    c = colon(lang)
    kind = manifest.get("kind", "")
    design = manifest.get("design", "")
    lines = [f"## {word('what_was_run', lang)}", ""]
    lines.append(f"- {word('kind', lang)}{c}{pick(*KIND_NAMES.get(kind, (kind, kind)), lang)}")
    if design:
        lines.append(f"- {word('design', lang)}{c}{pick(*DESIGN_NAMES.get(design, (design, design)), lang)}")
    varied = manifest.get("varied") or []
    problem = manifest.get("problem") or {}
    bounds = dict(zip(problem.get("names", []), problem.get("bounds", [])))
    if varied:
        vals = []
        fin = final_rows(market)
        for v in varied:
            name = v["name"] if isinstance(v, dict) else str(v)
            desc = ""
            if isinstance(v, dict) and isinstance(v.get("values"), (list, tuple)):
                desc = join([value_text(x) for x in v["values"]], lang)
            elif isinstance(v, dict) and v.get("min") is not None and v.get("max") is not None:
                desc = f"{value_text(v['min'])} … {value_text(v['max'])}"
            elif name in bounds:
                lo, hi = bounds[name][:2]
                desc = f"{value_text(float(lo))} … {value_text(float(hi))}"
            elif name in fin.columns:
                u = pd.unique(fin[name])
                desc = (join([value_text(x) for x in u], lang) if len(u) <= 8 else
                        f"{value_text(np.min(u))} … {value_text(np.max(u))} ({len(u)})")
            vals.append(f"{param_label(name, lang)} (`{name}`)" + (f"{c}{desc}" if desc else ""))
        lines.append(f"- {word('varied', lang)}{c}" + pick("; ", "；", lang).join(vals))
    if manifest.get("points"):
        lines.append(f"- {word('n_points', lang)}{c}{len(manifest['points'])}")
    if manifest.get("replicates") is not None:
        lines.append(f"- {word('replicates', lang)}{c}{word('replicates_per', lang, n=manifest['replicates'])}")
    if manifest.get("steps") is not None:
        lines.append(f"- {word('steps', lang)}{c}{manifest['steps']}")
    lines.append(f"- {word('runs', lang)}{c}{runs_frame(market)['run_id'].nunique()}")
    meas = manifest.get("measure")
    if meas in ("every", "end"):
        lines.append(f"- {word('measured', lang)}{c}{word('measure_' + meas, lang)}")
    lines.append("")
    return lines


def _summary_note(summary: pd.DataFrame | None, lang: str) -> str:
    """How the summary's numbers were made; says so when every configuration has one replicate
    (means without an interval)."""
    cols = getattr(summary, "columns", ())
    runs = (summary["n"] + summary["missing"]) if "missing" in cols else summary["n"] if "n" in cols else None
    one = summary is not None and runs is not None and len(summary) and int(runs.max()) <= 1
    return word("summary_note_one" if one else "summary_note", lang)


def _summary_markdown(summary: pd.DataFrame, by: Sequence[str], flows: list[str], lang: str, csv_name: str,
                      merchant: bool = False) -> list[str]:
    """The summary as Markdown: one row per group, one column per metric ("mean [low, high]"); for
    many groups, the range of the groups' means instead (per merchant for merchant tables)."""
    lab = merchant_metric_label if merchant else metric_label
    keys = list(by) + (["merchant"] if merchant else [])
    show_keys = [k for k in keys if k != "point"] or keys
    metrics = list(dict.fromkeys(summary["metric"]))
    nconfigs = len(summary.drop_duplicates(list(by))) if by else 1
    missing = summary["missing"] if "missing" in summary.columns else pd.Series(0, index=summary.index)
    total = summary["n"] + missing
    lines = [_summary_note(summary, lang)]
    if flows:
        lines.append(word("flow_note", lang, names=join([lab(m, lang) for m in flows], lang), k=FLOW_WINDOW))
    if (missing > 0).any():
        gaps = list(dict.fromkeys(summary.loc[missing > 0, "metric"]))
        lines.append(word("missing_note", lang, names=join([lab(m, lang) for m in gaps], lang)))
    lines.append("")
    if nconfigs <= MAX_MD_GROUPS:
        rows = []
        for key, sub in summary.groupby(keys, sort=False, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            r = {(group_title(k, lang) if k in ("label", "merchant") else param_label(k, lang)): value_text(v)
                 for k, v in zip(keys, key) if k in show_keys}
            r[word("n", lang)] = str(int(total[sub.index].max()))
            for i, s in sub.iterrows():
                text = interval_text(s["mean"], s["ci_low"], s["ci_high"])
                if missing[i] > 0:
                    text = (word("no_value", lang, total=int(total[i])) if s["n"] == 0 else
                            word("of_runs", lang, text=text, n=int(s["n"]), total=int(total[i])))
                r[lab(s["metric"], lang)] = text
            rows.append(r)
        lines.append(markdown_table(pd.DataFrame(rows)))
    else:
        lines.append(word("too_many_groups", lang, n=nconfigs, file=f"`{csv_name}`"))
        lines.append("")
        rows = []
        parts = summary.groupby("merchant", sort=False) if merchant else [(None, summary)]
        for who, part in parts:
            for m in metrics:
                means = part.loc[part["metric"] == m, "mean"]
                lo, med, hi = means.min(), means.median(), means.max()
                d = decimals(lo, med, hi)
                r = {word("merchant", lang): who} if merchant else {}
                r[word("metric", lang)] = lab(m, lang)
                r.update({word("across_min", lang): f"{lo:.{d}f}", word("across_median", lang): f"{med:.{d}f}",
                          word("across_max", lang): f"{hi:.{d}f}"})
                rows.append(r)
        lines.append(markdown_table(pd.DataFrame(rows)))
    lines.append("")
    return lines


def _figure_lines(figs: list[tuple[str, list[Path]]], out_dir: Path, lang: str) -> list[str]:
    if not figs:
        return []
    lines = [f"## {word('figures', lang)}", ""]
    for caption, paths in figs:
        rel = paths[0].relative_to(out_dir).as_posix()
        svg = paths[1].relative_to(out_dir).as_posix()
        lines += [f"![{caption}]({rel})", "", f"*{caption}* ([SVG]({svg}))", ""]
    return lines


def _finish(md: list[str], figs: list[tuple[str, list[Path]]], tables: dict, files: list[Path], out: Path,
            lang: str) -> Analysis:
    """Close a report: its figures listed under the text, ``summary.md`` written, the :class:`Analysis`."""
    md += _figure_lines(figs, out, lang)
    text = "\n".join(md).rstrip() + "\n"
    (out / "summary.md").write_text(text, encoding="utf-8")
    files.append(out / "summary.md")
    figures = [p for _, paths in figs for p in paths]
    return Analysis(tables=tables, figures=figures, markdown=text, files=files)


def analyze(manifest: dict, market: pd.DataFrame, merchants: pd.DataFrame | None, out_dir, metrics=None,
            lang: str = "en") -> Analysis:
    """Analyse one results folder's tables and write the report into ``out_dir``.

    Writes ``summary.csv`` and ``summary.md`` (headline observables: final step, per-step flows
    averaged over the last FLOW_WINDOW steps; mean and 95% interval per configuration),
    ``merchants_summary.csv``, and figures under ``out_dir/figures``: time series with bands when
    measured every step; for a sweep, metric-vs-parameter (one varied parameter), a heatmap (two on a
    grid) or scatter panels (sampled designs); for Sobol/Morris designs ``sensitivity.csv`` and bar
    figures. A ``compare`` experiment is handed to :func:`compare`. Returns an :class:`Analysis`.
    """
    check_lang(lang)
    if manifest.get("kind") == "compare":
        return compare(manifest, market, merchants, out_dir, metrics=metrics, lang=lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figdir = out / "figures"
    heads = _headline(manifest, market, metrics)
    if not heads:
        raise ValueError("none of the headline observables was measured: pass metrics=[...] "
                         f"(measured: {', '.join(c for c in market.columns if c in METRICS)})")
    every = measured_every_step(manifest, market)
    varied = _varied_names(manifest, market)
    design = manifest.get("design", "single")
    df = runs_frame(market)
    if "label" not in df.columns:
        df = df.assign(label=manifest.get("kind", "run"))
    by = ["label"]
    if design != "single" and "point" in df.columns and df["point"].nunique() > 1:
        by = ["point", "label", *[v for v in varied if v not in ("point", "label")]]
    tables: dict[str, pd.DataFrame] = {}
    files: list[Path] = []
    figs: list[tuple[str, list[Path]]] = []

    summary = summarize_mixed(df, heads, by, every)
    flows = flow_metrics(heads, every)
    win = lambda m: FLOW_WINDOW if m in flows else None  # noqa: E731  (figures match the summary)
    tables["summary"] = summary
    files.append(_write_csv(summary, out / "summary.csv", lang))
    mheads = []
    if merchants is not None and len(merchants):
        mdf = without_empty_merchants(runs_frame(merchants))  # no loyal share of nobody (figures too)
        if "label" not in mdf.columns:
            mdf = mdf.assign(label=df["label"].iloc[0])
        mheads = [m for m in MERCHANT_HEADLINE_METRICS if m in mdf.columns]
        if mheads:
            mevery = measured_every_step(manifest, mdf)
            msum = summarize_mixed(mdf, mheads, by, mevery, merchant=True)
            mflows = flow_metrics(mheads, mevery, merchant=True)
            tables["merchants"] = msum
            files.append(_write_csv(msum, out / "merchants_summary.csv", lang, merchant=True))

    ngroups = df.groupby(by, sort=False, dropna=False).ngroups
    md = [f"# {word('analysis', lang)}", ""] + _run_section(manifest, df, lang)
    md += [f"## {word('summary', lang)}", ""] + _summary_markdown(summary, by, flows, lang, "summary.csv")
    if "merchants" in tables:
        md += [f"## {word('merchants_section', lang)}", ""]
        md += _summary_markdown(tables["merchants"], by, mflows, lang, "merchants_summary.csv", merchant=True)

    if design in ("sobol", "morris"):
        sens = sensitivity(manifest, df, heads)
        tables["sensitivity"] = sens
        files.append(_write_csv(sens, out / "sensitivity.csv", lang))
        md += [f"## {word('sensitivity_section', lang)}", "", word(f"{design}_note", lang), ""]
        key = "ST" if design == "sobol" else "mu_star"
        for m in heads:
            t = sens[sens["metric"] == m]
            md += [f"### {metric_label(m, lang)}", ""]
            if t[key].isna().all():
                md += [f"{metric_label(m, lang)} {word('constant_note', lang)}.", ""]
                continue
            md += [markdown_table(localize(t.drop(columns=["metric"]), lang)), ""]
            figs.append((word("fig_sensitivity", lang, metric=metric_label(m, lang)),
                         save_figure(plot_sensitivity(sens, m, lang), figdir, f"sensitivity_{m}")))

    # figures: over time, then against the varied parameters
    if every:
        group = "label" if ngroups > 1 else None
        if ngroups <= MAX_LINES:
            for m in heads:
                figs.append((word("fig_timeseries", lang, metric=metric_label(m, lang)),
                             save_figure(plot_timeseries(df, m, group=group, lang=lang), figdir, f"timeseries_{m}")))
            if "merchants" in tables and ngroups <= 6:
                for m in [x for x in ("loyal_share", "market_share") if x in mheads]:
                    figs.append((word("fig_merchants", lang, metric=merchant_metric_label(m, lang)),
                                 save_figure(plot_merchants(mdf, m, group=group, lang=lang), figdir,
                                             f"merchants_{m}")))
        else:
            md += [word("no_timeseries", lang, n=ngroups), ""]
    if varied and design != "single":
        grid = len(varied) == 2 and _is_grid(df, varied)
        for m in heads:
            if len(varied) == 1:
                figs.append((word("fig_vs_param", lang, metric=metric_label(m, lang), param=param_label(varied[0], lang)),
                             save_figure(plot_vs_param(df, m, varied[0], lang, window=win(m)), figdir,
                                         f"{m}_vs_{_safe(varied[0])}")))
            elif grid:
                p1, p2 = varied
                figs.append((word("fig_heatmap", lang, metric=metric_label(m, lang), p1=param_label(p1, lang),
                                  p2=param_label(p2, lang)),
                             save_figure(plot_heatmap(df, m, p1, p2, lang, window=win(m)), figdir, f"heatmap_{m}")))
            else:
                figs.append((word("fig_scatter", lang, metric=metric_label(m, lang)),
                             save_figure(plot_scatter(df, m, varied, lang, window=win(m)), figdir, f"scatter_{m}")))
    elif not every and ngroups > 1:
        for m in heads:
            figs.append((word("fig_bars", lang, metric=metric_label(m, lang)),
                         save_figure(plot_bars(df, m, "label", lang, window=win(m)), figdir, f"bars_{m}")))

    return _finish(md, figs, tables, files, out, lang)


def _is_grid(df: pd.DataFrame, params: Sequence[str], max_levels: int = 15) -> bool:
    fin = final_rows(df)
    levels = [fin[p].nunique() for p in params]
    combos = len(fin.drop_duplicates(list(params)))
    return all(1 < n <= max_levels for n in levels) and combos == int(np.prod(levels))


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def compare(manifest: dict, market: pd.DataFrame, merchants: pd.DataFrame | None, out_dir, metrics=None,
            lang: str = "en", baseline: str | None = None) -> Analysis:
    """Compare configurations (scenarios, policies) side by side and write the report into ``out_dir``.

    Writes ``summary.csv`` (long: label × metric with mean and 95% interval), ``side_by_side.csv``
    (one row per metric, mean/low/high per label), ``differences.csv`` (each label minus the
    baseline — the first label unless ``baseline`` is given — with Welch 95% intervals),
    ``merchants_summary.csv``, ``summary.md``, and figures under ``out_dir/figures``: one overlay
    time series per headline observable (a line and band per label; bars when measured only at the
    end) and the loyal share of each merchant under each label.
    """
    check_lang(lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figdir = out / "figures"
    df = runs_frame(market)
    require_columns(df, ["label"], "market table")
    heads = _headline(manifest, df, metrics)
    if not heads:
        raise ValueError("none of the headline observables was measured: pass metrics=[...]")
    labels = list(dict.fromkeys(df["label"]))
    baseline = labels[0] if baseline is None else baseline
    if baseline not in labels:
        raise ValueError(f"baseline {baseline!r} is not among the configurations: {', '.join(map(str, labels))}")
    every = measured_every_step(manifest, df)
    tables: dict[str, pd.DataFrame] = {}
    files: list[Path] = []
    figs: list[tuple[str, list[Path]]] = []

    summary = summarize_mixed(df, heads, ["label"], every)
    flows = flow_metrics(heads, every)
    win = lambda m: FLOW_WINDOW if m in flows else None  # noqa: E731
    tables["summary"] = summary
    files.append(_write_csv(summary, out / "summary.csv", lang))
    wide = []
    for m in heads:
        r = {"metric": m}
        for lab in labels:
            s = summary[(summary["metric"] == m) & (summary["label"] == lab)].iloc[0]
            r[f"{lab}: {word('mean', lang)}"] = s["mean"]
            r[f"{lab}: {word('ci_low', lang)}"] = s["ci_low"]
            r[f"{lab}: {word('ci_high', lang)}"] = s["ci_high"]
        wide.append(r)
    side = pd.DataFrame(wide)
    tables["side_by_side"] = side
    files.append(_write_csv(side, out / "side_by_side.csv", lang))
    diffs = differences(summary, baseline)
    tables["differences"] = diffs
    files.append(_write_csv(diffs, out / "differences.csv", lang))

    mdf = None
    mflows: list[str] = []
    if merchants is not None and len(merchants):
        mdf = without_empty_merchants(runs_frame(merchants))  # no loyal share of nobody (figures too)
        mheads = [m for m in MERCHANT_HEADLINE_METRICS if m in mdf.columns]
        if mheads and "label" in mdf.columns:
            mevery = measured_every_step(manifest, mdf)
            msum = summarize_mixed(mdf, mheads, ["label"], mevery, merchant=True)
            mflows = flow_metrics(mheads, mevery, merchant=True)
            tables["merchants"] = msum
            files.append(_write_csv(msum, out / "merchants_summary.csv", lang, merchant=True))

    md = [f"# {word('comparison', lang)}", ""] + _run_section(manifest, df, lang)
    md += [f"## {word('summary', lang)}", "", _summary_note(summary, lang)]
    if flows:
        md.append(word("flow_note", lang, names=join([metric_label(m, lang) for m in flows], lang), k=FLOW_WINDOW))
    md.append("")
    rows = []
    for m in heads:
        r = {word("metric", lang): metric_label(m, lang)}
        r.update({str(lab): text for lab, text in mean_texts(summary, m, labels).items()})
        rows.append(r)
    md += [markdown_table(pd.DataFrame(rows)), ""]
    others = [lab for lab in labels if lab != baseline]
    if others:
        md += [f"## {word('differences_section', lang, b=baseline)}", "", word("differences_note", lang), ""]
        rows = []
        for m in heads:
            r = {word("metric", lang): metric_label(m, lang)}
            for lab, (txt, significant) in difference_texts(diffs, m, others).items():
                r[str(lab)] = f"**{txt}**" if significant else txt
            rows.append(r)
        md += [markdown_table(pd.DataFrame(rows)), ""]
    if "merchants" in tables:
        md += [f"## {word('merchants_section', lang)}", ""]
        md += _summary_markdown(tables["merchants"], ["label"], mflows, lang, "merchants_summary.csv", merchant=True)

    for m in heads:
        if every:
            figs.append((word("fig_timeseries", lang, metric=metric_label(m, lang)),
                         save_figure(plot_timeseries(df, m, group="label", lang=lang), figdir, f"timeseries_{m}")))
        else:
            figs.append((word("fig_bars", lang, metric=metric_label(m, lang)),
                         save_figure(plot_bars(df, m, "label", lang, window=win(m)), figdir, f"bars_{m}")))
    if mdf is not None and "loyal_share" in mdf.columns and "label" in mdf.columns:
        figs.append((word("fig_merchants", lang, metric=merchant_metric_label("loyal_share", lang)),
                     save_figure(plot_merchants(mdf, "loyal_share", group="label", lang=lang, by="merchant"),
                                 figdir, "merchants_loyal_share")))
    return _finish(md, figs, tables, files, out, lang)

"""Generate ``docs/parameters.md`` from the declarations in ``sim/params.py`` and ``sim/metrics.py``,
and docs/ODD.md's table of customer state variables from ``sim/mechanism/state.py``.

The parameter and observable tables are never edited by hand: they are rendered from the one
declaration of each parameter (:data:`sim.params.PARAMS`, :data:`sim.params.MERCHANT_PARAMS`) and
each observable (:data:`sim.metrics.METRICS`, :data:`sim.metrics.MERCHANT_METRICS`), so they cannot
drift from the code. ``tests/test_docs.py`` fails when the file on disk is out of date.

Usage::

    uv run python tools/gen_docs.py          # (re)write docs/parameters.md
    uv run python tools/gen_docs.py --check  # exit 1 if docs/parameters.md is out of date
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from sim import metrics, params  # noqa: E402
from sim.mechanism import state  # noqa: E402

OUTPUT = ROOT / "docs" / "parameters.md"
ODD = ROOT / "docs" / "ODD.md"
COMMAND = "uv run python tools/gen_docs.py"


# ---- formatting ---------------------------------------------------------------------------------
def fmt_number(x: Any) -> str:
    """A number as a reader expects it: no trailing zeros, thousands grouped with a thin space."""
    if x is None:
        return "∞"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return f"{x:,}".replace(",", "\u202f")
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        if x.is_integer() and abs(x) < 1e15:
            return fmt_number(int(x))
        return f"{x:g}"
    return str(x)


def fmt_default(p) -> str:
    if p.kind in ("choice", "str"):
        return f"`{p.default}`"
    return fmt_number(p.default)


def fmt_range(p) -> str:
    if p.kind == "choice":
        return "one of " + ", ".join(f"`{c}`" for c in p.choices)
    if p.kind == "str":
        return "non-empty text"
    whole = " (whole number)" if p.kind == "int" else ""
    return f"{fmt_number(p.lo)} … {fmt_number(p.hi)}{whole}"


def cell(text: Any) -> str:
    """Make text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    header = list(header)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(cell(c) for c in r) + " |")
    return out


def anchor(title: str) -> str:
    """GitHub's heading anchor for simple ASCII titles."""
    keep = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return keep.replace(" ", "-")


# ---- sections -----------------------------------------------------------------------------------
def param_table(decls) -> list[str]:
    return table(
        ["name", "default", "range", "unit", "English", "中文", "help / 说明"],
        (
            [f"`{p.name}`", fmt_default(p), fmt_range(p), p.unit or "—", p.label_en, p.label_zh,
             f"{p.help_en}<br>{p.help_zh}"]
            for p in decls
        ),
    )


def metric_table(decls) -> list[str]:
    return table(
        ["name", "unit", "English", "中文", "meaning / 含义"],
        ([f"`{m.name}`", m.unit or "—", m.label_en, m.label_zh, f"{m.help_en}<br>{m.help_zh}"] for m in decls),
    )


def default_market_table() -> list[str]:
    merchants = params.default_merchants()
    names = [m.name for m in merchants]
    rows = []
    for name, p in params.MERCHANT_PARAMS.items():
        if name == "name":
            continue
        values = [getattr(m, name) for m in merchants]
        if all(v == p.default for v in values):
            continue
        shown = [f"`{v}`" if p.kind in ("choice", "str") else fmt_number(v) for v in values]
        rows.append([f"`{name}`", p.label_en, p.label_zh] + shown)
    return table(["parameter", "English", "中文"] + [f"merchant {n}" for n in names], rows)


def tier_table() -> list[str]:
    effects = list(next(iter(params.TIER_EFFECTS.values())))
    rows = []
    for tier in params.PROGRAMME_TIERS:
        en, zh = params.PROGRAMME_LABELS[tier]
        rows.append([f"`{tier}`", en, zh] + [fmt_number(float(params.TIER_EFFECTS[tier][e])) for e in effects])
    return table(["tier", "English", "中文"] + [f"`{e}`" for e in effects], rows)


def labels_table(first: str, keys, labels: dict) -> list[str]:
    return table([first, "English", "中文"], ([f"`{k}`", *labels[k]] for k in keys if any(labels[k])))


def render() -> str:
    groups = {g: [p for p in params.PARAMS.values() if p.group == g] for g in params.GROUPS}
    market_groups = [g for g, ps in groups.items() if ps]
    lines: list[str] = [
        "# Parameters and observables / 参数与观测指标",
        "",
        "<!-- Generated by tools/gen_docs.py from sim/params.py and sim/metrics.py. Do not edit by hand:",
        f"     run `{COMMAND}` after changing a declaration. -->",
        "",
        "Every parameter and every observable of the model, as declared once in `sim/params.py` and",
        "`sim/metrics.py`. This file is generated (`" + COMMAND + "`); a test fails when it is out of",
        "date. The model itself is described in [ODD.md](ODD.md).",
        "",
        "本文件由 `sim/params.py` 和 `sim/metrics.py` 中的声明自动生成，请勿手工修改。模型说明见 [ODD.md](ODD.md)。",
        "",
        "Scales: quality, value, expectation, satisfaction and trust lie on a 0–1 scale (satisfaction 0.5",
        "= exactly as expected); money is in units of the typical price (the default expected price is 1);",
        "utility is the currency of choice; one step is one period (read it as a week).",
        "",
        "## Contents",
        "",
    ]
    toc = [GROUP_TITLE(g) for g in market_groups] + [
        "Merchant parameters", "The default market", "Loyalty programme tiers", "Merchant strategies",
        "Customer stages", "Reasons for leaving", "Market observables", "Merchant observables",
    ]
    lines += [f"- [{t}](#{anchor(t)})" for t in toc] + [""]

    for g in market_groups:
        en, zh = params.GROUPS[g]
        lines += [f"## {GROUP_TITLE(g)}", "", f"Group `{g}` — {en} / {zh}. Fields of `sim.Params`.", ""]
        lines += param_table(groups[g]) + [""]

    en, zh = params.GROUPS["merchants"]
    lines += [
        "## Merchant parameters", "",
        f"{en} / {zh}: one value per merchant, fields of `sim.MerchantParams`. Every field but `name`",
        "can be changed while a model runs (`LoyaltyModel.set_policy`).", "",
    ]
    lines += param_table(params.MERCHANT_PARAMS.values()) + [""]

    lines += [
        "## The default market", "",
        "`Params()` without `merchants` gives the market of `sim.params.default_merchants()`; the table",
        "lists the fields that differ from the defaults above. 默认市场中与上表默认值不同的字段：", "",
    ]
    lines += default_market_table() + [""]

    lines += [
        "## Loyalty programme tiers", "",
        "`programme` chooses a tier; each tier includes the ones below it. What a tier adds",
        "(`sim.params.TIER_EFFECTS`, part of the model's structure, not a tuning knob): `points` — members",
        "bank `programme_benefit` × price per purchase, lost on leaving, up to",
        f"`POINTS_CAP = {fmt_number(params.POINTS_CAP)}` purchases' worth; `relational_x` — multiplies the growth and",
        "ceiling of the relational switching cost; `affective` — added to the affective target of each",
        "satisfying encounter; `tailoring` — added to the quality of every encounter; `structural` —",
        "added to the switching cost. 忠诚计划层级及其作用：", "",
    ]
    lines += tier_table() + [""]

    lines += ["## Merchant strategies", "", "Values of `strategy` / 商家策略：", ""]
    lines += labels_table("strategy", params.STRATEGIES, params.STRATEGY_LABELS) + [""]

    lines += ["## Customer stages", "", "Values of a customer's `stage` (`sim.mechanism.state.STAGES`) / 客户阶段：", ""]
    lines += labels_table("stage", state.STAGES, state.STAGE_LABELS) + [""]

    lines += [
        "## Reasons for leaving", "",
        "Recorded in a customer's `churn_reason` and counted by the `left_…` observables",
        "(`sim.mechanism.state.REASONS`) / 流失原因：", "",
    ]
    lines += labels_table("reason", state.REASONS, state.REASON_LABELS) + [""]

    lines += [
        "## Market observables", "",
        "One value per step, columns of `simulate(...).metrics` and of",
        "`model.datacollector.get_model_vars_dataframe()` (`sim.metrics.METRICS`). 市场层面观测指标：", "",
    ]
    lines += metric_table(metrics.METRICS.values()) + [""]

    lines += [
        "## Merchant observables", "",
        "One value per merchant and step, columns of `simulate(...).merchants` and of",
        "`model.datacollector.get_agenttype_vars_dataframe(Merchant)` (`sim.metrics.MERCHANT_METRICS`).",
        "商家层面观测指标：", "",
    ]
    lines += metric_table(metrics.MERCHANT_METRICS.values())
    return "\n".join(lines) + "\n"


def GROUP_TITLE(g: str) -> str:  # noqa: N802 - reads like a constant mapping
    return f"Parameters: {params.GROUPS[g][0]}"


def fmt_rule(v, rule) -> str:
    """What arrival or a new relationship does to state variable ``v``, in words."""
    if rule == state.KEPT:
        return "kept"
    if isinstance(rule, bool) or not isinstance(rule, (int, float)):
        return str(rule)
    if v.name == "stage":
        return f"`{state.STAGES[int(rule)]}`"
    return f"= {fmt_number(rule)}"


def state_table() -> list[str]:
    """The customers' state variables (:data:`sim.mechanism.state.VARIABLES`), one row each."""
    rows = ["| variable | type | on arrival | on a new relationship | meaning | 含义 |", "|---|---|---|---|---|---|"]
    for v in state.VARIABLES:
        kind = np.dtype(v.dtype).name + (" × merchants" if v.per_merchant else "")
        rows.append(f"| `{v.name}` | {kind} | {fmt_rule(v, v.on_arrival)} | {fmt_rule(v, v.on_relationship)} | "
                    f"{v.help_en} | {v.help_zh} |")
    return rows


def render_odd(text: str) -> str:
    """docs/ODD.md with its state-variable table (between ``<!-- state -->`` and ``<!-- /state -->``)
    rendered from the declarations."""
    a, b = "<!-- state -->\n", "<!-- /state -->"
    i, j = text.index(a) + len(a), text.index(b)
    return text[:i] + "\n".join(state_table()) + "\n" + text[j:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate docs/parameters.md from the declarations.")
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/parameters.md is out of date")
    ap.add_argument("--output", type=Path, default=OUTPUT, help="file to write (default: docs/parameters.md)")
    args = ap.parse_args(argv)
    text = render()
    odd_now = ODD.read_text(encoding="utf-8")
    odd = render_odd(odd_now)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        stale = [path for path, now, want in ((args.output, current, text), (ODD, odd_now, odd)) if now != want]
        for path in stale:
            print(f"{path} is out of date: run `{COMMAND}`", file=sys.stderr)
        if stale:
            return 1
        print(f"{args.output} and {ODD} are up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    if odd != odd_now:
        ODD.write_text(odd, encoding="utf-8")
        print(f"wrote the state-variable table of {ODD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Regenerate the generated parts of ``docs/scenarios.md`` from the scenario files.

Two parts of that page are never edited by hand:

* the table of scenarios (name, title, summary), between ``<!-- scenarios -->`` and
  ``<!-- /scenarios -->``, built from ``scenarios/*.toml``;
* the example error message, between ``<!-- example-error -->`` and ``<!-- /example-error -->``,
  produced by loading :data:`EXAMPLE` with the real loader, so the page shows exactly what users see.

``tests/test_scenarios.py`` fails when the page on disk is out of date.

Usage::

    uv run python tools/gen_scenarios_doc.py          # (re)write docs/scenarios.md
    uv run python tools/gen_scenarios_doc.py --check  # exit 1 if docs/scenarios.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from sim.analysis.tables import markdown_rows  # noqa: E402
from sim.inputs.scenario import ScenarioError, load_scenario, parse_scenario  # noqa: E402

OUTPUT = ROOT / "docs" / "scenarios.md"
SCENARIOS = ROOT / "scenarios"
COMMAND = "uv run python tools/gen_scenarios_doc.py"

#: the file shown in the documentation's example error (line 7 is out of range)
EXAMPLE = """\
[info]
title = { en = "Fast trust", zh = "快速信任" }

[params]
n_customers = 2000
trust_gain = 0.2
trust_loss = 1.5
"""
EXAMPLE_SOURCE = "scenarios/fast_trust.toml"


def _cell(text: str) -> str:
    return " ".join(text.split())


def render_table(root: Path = SCENARIOS) -> str:
    """The Markdown table of every scenario file in ``root``, sorted by name."""
    rows = []
    for path in sorted(root.glob("*.toml")):
        sc = load_scenario(path)
        title = f"{_cell(sc.text('title', 'en'))}<br>{_cell(sc.text('title', 'zh'))}"
        rows.append([f"[`{sc.name}`](../scenarios/{path.name})", title, _cell(sc.text("summary", "en"))])
    return markdown_rows(["Scenario", "Title", "Summary"], rows)


def render_example() -> str:
    """The example file and the error it produces, in English and Chinese."""
    try:
        parse_scenario(EXAMPLE, source=EXAMPLE_SOURCE)
    except ScenarioError as e:
        return "\n".join([
            "```toml", EXAMPLE.rstrip("\n"), "```", "",
            "gives (English, then Chinese, as `err.text(\"zh\")`):", "",
            "```text", e.text("en"), e.text("zh"), "```",
        ])
    raise RuntimeError("the documentation's example scenario no longer fails to load")


def _replace(text: str, marker: str, body: str) -> str:
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    i, j = text.index(start) + len(start), text.index(end)
    return text[:i] + "\n" + body + "\n" + text[j:]


def render(text: str) -> str:
    """``text`` (the current page) with its generated parts brought up to date."""
    text = _replace(text, "scenarios", render_table())
    return _replace(text, "example-error", render_example())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the page is out of date, without writing")
    args = ap.parse_args(argv)
    current = OUTPUT.read_text(encoding="utf-8")
    new = render(current)
    if args.check:
        if new != current:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    if new != current:
        OUTPUT.write_text(new, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the validation's files live, found from the repository root (as ``sim/ui/learn_docs.py``
finds ``docs/``): the fact's scenario and experiment files, the fact texts and the generated report."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ROOT", "VALIDATION_DIR", "FACT_TEXT_DIR", "DOC_PATH", "DOC_FIGURE_DIR"]

#: the repository root (the folder holding ``sim/``, ``docs/`` and ``scenarios/``)
ROOT = Path(__file__).resolve().parents[2]
#: the folder of the validation scenarios and experiments, one file per fact
VALIDATION_DIR = ROOT / "scenarios" / "validation"
#: the texts of each fact (``F1.md`` … ``F13.md``): source, test, measurement, calibration, diagnoses
FACT_TEXT_DIR = ROOT / "docs" / "validation" / "facts"
#: the report ``loyalty-sim validate --doc`` writes, and the folder of its figures and results.json
DOC_PATH = ROOT / "docs" / "validation.md"
DOC_FIGURE_DIR = ROOT / "docs" / "validation"

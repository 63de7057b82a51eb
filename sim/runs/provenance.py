"""Where a result came from: replicate seeds, package versions, the git revision, the time.

Every results folder's manifest and the validation report record these, so any number can be
traced back and reproduced.

>>> seeds = replicate_seeds(7, 3)
>>> len(seeds), all(0 <= s < 2**63 for s in seeds), seeds == replicate_seeds(7, 3)
(3, True, True)
"""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = ["replicate_seeds", "package_versions", "git_revision", "utc_now", "PACKAGES"]

#: the packages whose versions a manifest records
PACKAGES = ("loyalty-sim", "mesa", "numpy", "pandas", "pyarrow", "SALib", "dask", "distributed")


def replicate_seeds(master: int, n: int) -> list[int]:
    """``n`` independent 63-bit seeds spawned from ``SeedSequence(master)`` (numpy SPEC 7). Each is
    an ordinary integer: ``simulate(params, seed=s)`` reproduces that replicate on its own."""
    children = np.random.SeedSequence(int(master)).spawn(int(n))
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]


def package_versions() -> dict:
    """``{"python": "3.11.x", "mesa": "3.3.0", …}``: Python's version and each of :data:`PACKAGES`
    (``None`` when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def git_revision() -> dict:
    """``{"revision": <commit>, "dirty": <uncommitted changes to tracked files>}`` of the project's
    checkout, or ``None`` values when it is not a git checkout (or git is missing)."""
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return {"revision": None, "dirty": None}
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
        return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"revision": None, "dirty": None}


def utc_now() -> str:
    """The current time, UTC, to the second (ISO 8601)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

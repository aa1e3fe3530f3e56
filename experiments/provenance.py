"""Where a result came from: package version, git commit, and atomic writing of outputs."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from smartcity import __version__
from smartcity.simulation.world.errors import InputError

PACKAGE = "smartcity-abm"


def package_version() -> str:
    """The package's version (``smartcity.__version__``, its one source)."""
    return __version__


def provenance() -> dict[str, Any]:
    """Package version, git commit (when the code is a git checkout) and Python version."""
    return {
        "package": PACKAGE,
        "version": package_version(),
        "git_commit": git_commit(),
        "python": platform.python_version(),
    }


def git_commit() -> str | None:
    """Commit of the source tree this package runs from, or None outside a git checkout."""
    source = Path(__file__).resolve().parent.parent
    try:
        result = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None


def write_run_outputs(
    out: Path,
    frame: pd.DataFrame,
    manifest: dict[str, Any],
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> None:
    """Write ``out/metrics.parquet``, the analyzers' ``tables`` as ``out/NAME.parquet``
    and ``out/manifest.json`` all at once or not at all.

    The files are written into a temporary folder beside ``out`` and moved into place, so
    an interrupted run never leaves a half-written result.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        names = ["metrics.parquet"]
        frame.to_parquet(staging / "metrics.parquet", index=False)
        for stem, table in (tables or {}).items():
            if stem in ("metrics", "manifest") or not stem.isidentifier():
                raise InputError(f"an analyzer's table may not be named {stem!r}")
            names.append(f"{stem}.parquet")
            table.to_parquet(staging / names[-1], index=False)
        full = {**manifest, **provenance()}
        (staging / "manifest.json").write_text(json.dumps(full, indent=2, default=str) + "\n")
        out.mkdir(exist_ok=True)
        for name in (*names, "manifest.json"):
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

"""Where a result came from: package version, code digest, git commit, and atomic writing
of outputs."""

from __future__ import annotations

import functools
import hashlib
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
# The folders whose code and shipped files make a run's result (not tests, docs or the view).
RESULT_CODE = ("agents", "simulation", "policies", "experiments")
CODE_SUFFIXES = (".py", ".toml")


def package_version() -> str:
    """The package's version (``smartcity.__version__``, its one source)."""
    return __version__


def provenance() -> dict[str, Any]:
    """Package version, git commit (when the code is a git checkout) and Python version."""
    return {
        "package": PACKAGE,
        "version": package_version(),
        "git_commit": git_commit(),
        "code_digest": code_digest(),
        "python": platform.python_version(),
    }


def source_digest(root: Path, folders: tuple[str, ...] = RESULT_CODE) -> str:
    """16 hex digits of SHA-256 over the content of a package's result code.

    Covers the package's ``__init__.py`` and every ``.py`` and ``.toml`` file under
    ``folders`` (shipped presets, packages and initiatives included), each with its path
    relative to ``root``: committed or not, any edit of the code a run executes changes it.
    """
    files = [root / "__init__.py"] + [
        path
        for folder in folders
        for path in (root / folder).rglob("*")
        if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts and path.is_file()
    ]
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


@functools.cache
def code_digest() -> str:
    """The digest of the code this process runs (:func:`source_digest` of the package), part
    of every run id, so a stored run is reused only by the code that made it: this is why a
    store needs no guard against a dirty git tree (an uncommitted edit changes the digest)."""
    return source_digest(Path(__file__).resolve().parent.parent)


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

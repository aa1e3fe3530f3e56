"""The result store: one Parquet file per finished run, a JSON manifest, a failure log.

Layout of a store directory::

    STORE/manifest.json         spec, resolved parameters, seeds, versions, git commit
    STORE/runs/<run_id>.parquet one file per finished run (rows = kept model steps)
    STORE/failed.jsonl          one JSON line per run that failed twice

Every file is written to a temporary name in the same directory and renamed into place, so a
killed sweep leaves only complete files and `--resume` can trust whatever it finds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

RUNS_DIR = "runs"
MANIFEST = "manifest.json"
FAILED = "failed.jsonl"
TMP_PREFIX = ".tmp-"
# Identity columns first in every run table, metrics after.
ID_COLUMNS = ("run_id", "preset", "policy", "design_point", "replication", "seed_entropy")
SORT_COLUMNS = ["design_point", "preset", "policy", "replication", "step"]


@contextmanager
def _atomic(path: Path) -> Iterator[BinaryIO]:
    """Open a temp file next to `path`, renamed onto `path` only if the block succeeds."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX + path.name + ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_path(store: Path, run_id: str) -> Path:
    """Return the Parquet path of one run."""
    return store / RUNS_DIR / f"{run_id}.parquet"


def prepare(store: Path) -> None:
    """Create the store directories and drop temp files a killed sweep left behind."""
    (store / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    for stale in (store / RUNS_DIR).glob(TMP_PREFIX + "*"):
        stale.unlink()


def stored_run_ids(store: Path) -> set[str]:
    """Return the ids of the runs already complete on disk."""
    return {p.stem for p in (store / RUNS_DIR).glob("*.parquet")}


def write_run(store: Path, run_id: str, frame: pd.DataFrame) -> None:
    """Write one run's table atomically."""
    with _atomic(run_path(store, run_id)) as handle:
        frame.to_parquet(handle, engine="pyarrow", index=False)


def write_manifest(store: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically (sorted keys so equal manifests are equal files)."""
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    with _atomic(store / MANIFEST) as handle:
        handle.write(text.encode("utf-8"))


def read_manifest(store: str | Path) -> dict[str, Any]:
    """Return the store's manifest."""
    return json.loads((Path(store) / MANIFEST).read_text(encoding="utf-8"))


def resolved_parameters(
    store: str | Path, preset: str, policy: str, design_point: int
) -> dict[str, Any]:
    """Return the full resolved parameters of one (preset, policy, design point) of a sweep."""
    manifest = read_manifest(store)
    changes = manifest["design_points"][design_point]["parameters"][preset][policy]
    return {**manifest["base_parameters"][preset][policy], **changes}


def record_failure(store: Path, entry: dict[str, Any]) -> None:
    """Append one failed run to failed.jsonl (one line, flushed at once)."""
    with open(store / FAILED, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def read_failures(store: str | Path) -> list[dict[str, Any]]:
    """Return the failed runs recorded in the store (empty when none failed)."""
    path = Path(store) / FAILED
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def load_results(store: str | Path) -> pd.DataFrame:
    """Concatenate every stored run into one DataFrame.

    Rows are sorted by design point, preset, policy, replication and step, so the result
    does not depend on the order in which runs happened to finish.

    Args:
        store: a store directory written by the sweep runner.

    Returns:
        One row per kept step of every run: identity columns, override columns, "step",
        "year" and the metric columns. Empty when no run is stored.
    """
    files = sorted((Path(store) / RUNS_DIR).glob("*.parquet"))
    if not files:
        return pd.DataFrame(columns=[*ID_COLUMNS, "step", "year"])
    frame = pd.concat([pd.read_parquet(f, engine="pyarrow") for f in files], ignore_index=True)
    return frame.sort_values(SORT_COLUMNS, kind="stable").reset_index(drop=True)

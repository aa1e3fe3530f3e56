"""The result store: one Parquet file per finished run, a JSON manifest, a failure log.

Layout of a store directory::

    STORE/manifest.json         spec, resolved parameters, seeds, versions, git commit
    STORE/runs/<run_id>.parquet one file per finished run (rows = kept model steps)
    STORE/failed.jsonl          one JSON line per run that failed twice
    STORE/.lock                 held (flock) by the sweep writing the store; names it

Every file is written to a temporary name in the same directory and renamed into place, so a
killed sweep leaves only complete files. Each run file also carries the SHA-256 of its table
in its Parquet metadata: `--resume` and `load_results` verify it, so a file damaged later
(truncated, emptied, altered) is found, never read as a result.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

RUNS_DIR = "runs"
MANIFEST = "manifest.json"
FAILED = "failed.jsonl"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"
CHECKSUM_KEY = b"smartcity.sha256"
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


class StoreError(RuntimeError):
    """The output directory cannot be used, or holds damaged runs (one-line message)."""


def _table_digest(table: pa.Table) -> str:
    """SHA-256 of a table's content (Arrow IPC of its columns, without file metadata)."""
    table = table.replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def read_run(path: Path) -> pd.DataFrame:
    """Read one run file and verify its checksum.

    Raises:
        StoreError: the file cannot be read, carries no checksum, or its content differs.
    """
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"run file {path} is damaged ({' '.join(str(exc).split())})") from None
    recorded = (table.schema.metadata or {}).get(CHECKSUM_KEY, b"").decode()
    if recorded != _table_digest(table):
        raise StoreError(f"run file {path} is damaged (its checksum does not match)")
    return table.to_pandas()


def check_runs(store: Path) -> tuple[set[str], list[str]]:
    """Return the ids of the intact runs on disk, and those of the damaged ones."""
    intact, damaged = set(), []
    for path in sorted((store / RUNS_DIR).glob("*.parquet")):
        try:
            read_run(path)
        except StoreError:
            damaged.append(path.stem)
        else:
            intact.add(path.stem)
    return intact, damaged


def write_run(store: Path, run_id: str, frame: pd.DataFrame) -> None:
    """Write one run's table atomically, its checksum in the Parquet metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), CHECKSUM_KEY: _table_digest(table).encode()}
    with _atomic(run_path(store, run_id)) as handle:
        pq.write_table(table.replace_schema_metadata(metadata), handle)


@contextmanager
def locked(store: Path) -> Iterator[None]:
    """Hold the store's lock for the block; a second writer gets a one-line StoreError.

    The lock is an flock on STORE/.lock, so the system releases it when its holder dies
    (even by kill -9); the file names the holder for the message.
    """
    path = store / LOCK
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 -- held across the block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise StoreError(
                f"output {str(store)!r} is in use by a running sweep ({holder}); "
                "wait for it to finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on host {socket.gethostname()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def write_manifest(store: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically (sorted keys so equal manifests are equal files)."""
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    with _atomic(store / MANIFEST) as handle:
        handle.write(text.encode("utf-8"))


def write_file(path: Path, data: bytes) -> None:
    """Write any file of a store (a table, a record) atomically: whole or not at all."""
    with _atomic(path) as handle:
        handle.write(data)


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

    Raises:
        StoreError: a run file is damaged (the message names it; `--resume` re-runs it).
    """
    files = sorted((Path(store) / RUNS_DIR).glob("*.parquet"))
    if not files:
        return pd.DataFrame(columns=[*ID_COLUMNS, "step", "year"])
    try:
        frames = [read_run(f) for f in files]
    except StoreError as exc:
        raise StoreError(f"{exc}; rerun the sweep with --resume to recompute it") from None
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(SORT_COLUMNS, kind="stable").reset_index(drop=True)

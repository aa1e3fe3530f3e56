"""The result store: one Parquet file per finished run, a JSON manifest, a failure log.

Layout of a store directory::

    STORE/manifest.json         spec, its hash, resolved parameters, seeds, versions, the
                                identity of every planned run
    STORE/runs/<run_id>.parquet one file per finished run (rows = kept model steps)
    STORE/failed.jsonl          one JSON line per run that failed twice
    STORE/.lock                 held (flock) by the sweep writing the store; names it

Every file is written to a temporary name in the same directory and renamed into place, so a
killed sweep leaves only complete files. Each run file carries in its Parquet metadata the
SHA-256 of its table and its identity (run id, design point, replication, spec hash):
`--resume` and `load_results` verify both, so a file damaged later (truncated, emptied,
altered), copied over another run's name (swapped) or taken from another store (foreign) is
found, never read as a result. Files no planned run names are listed and ignored.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
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
IDENTITY_KEY = b"smartcity.run"
# Identity columns first in every run table, metrics after.
ID_COLUMNS = ("run_id", "preset", "policy", "design_point", "replication", "seed_entropy")
SORT_COLUMNS = ["design_point", "preset", "policy", "replication", "step"]
# At most this many file names are listed in one message.
NAMES_SHOWN = 5


class StoreError(RuntimeError):
    """The output directory cannot be used, or holds damaged runs (one-line message)."""


@dataclass(frozen=True)
class RunIdentity:
    """What a run file says it is; checked against its file name and the manifest.

    Attributes:
        run_id: the run's id (its file name without ``.parquet``).
        design_point: index of its parameter point.
        replication: its replication number.
        spec_hash: hash of the spec that planned it (``spec_hash``).
    """

    run_id: str
    design_point: int
    replication: int
    spec_hash: str

    def to_bytes(self) -> bytes:
        """The identity as canonical JSON, as stored in the Parquet metadata."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


@dataclass
class RunCheck:
    """The run files found in a store, by what they turned out to be.

    Attributes:
        intact: ids of planned runs whose file is intact and is the run its name says.
        damaged: ids of planned runs whose file is damaged or is another run (to run again).
        foreign: names of run files no planned run has (listed, ignored, never counted).
        frames: the intact runs' tables, by id, when asked to keep them (so that a command
            that loads the store next does not read and verify them again).
    """

    intact: set[str] = field(default_factory=set)
    damaged: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


def spec_hash(spec: Mapping[str, Any]) -> str:
    """16 hex digits of SHA-256 over a spec's canonical JSON (its manifest form)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def names(items: list[str]) -> str:
    """The first NAMES_SHOWN of ``items``, comma-separated, and how many more there are."""
    shown = ", ".join(items[:NAMES_SHOWN])
    more = len(items) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


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
    """Create the store directories and drop temp files a killed sweep left behind.

    Raises:
        StoreError: ``runs`` is a symbolic link or not a folder (runs would land elsewhere).
    """
    runs = store / RUNS_DIR
    if runs.is_symlink() or (runs.exists() and not runs.is_dir()):
        raise StoreError(
            f"{runs} is a symbolic link or a file, not the store's own folder; remove it"
        )
    runs.mkdir(parents=True, exist_ok=True)
    for stale in runs.glob(TMP_PREFIX + "*"):
        stale.unlink()


def _table_digest(table: pa.Table) -> str:
    """SHA-256 of a table's content (Arrow IPC of its columns, without file metadata)."""
    table = table.replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def _identity(metadata: Mapping[bytes, bytes]) -> RunIdentity | None:
    """The identity a run file's metadata records, or None when it has none."""
    try:
        return RunIdentity(**json.loads(metadata[IDENTITY_KEY]))
    except (KeyError, TypeError, ValueError):
        return None


def read_run(path: Path, expected: RunIdentity | None = None) -> pd.DataFrame:
    """Read one run file; verify its checksum and that it is the run its name says.

    Args:
        path: the run file.
        expected: the identity the manifest plans for this file name (None: check only the
            file against its own name).

    Raises:
        StoreError: the file is a link, cannot be read, carries no checksum or identity, its
            content differs from its checksum, or it is another run than its name (or the
            manifest) says.
    """
    if path.is_symlink() or not path.is_file():
        raise StoreError(f"run file {path} is not a regular file (a link, folder or device)")
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(f"run file {path} is damaged ({' '.join(str(exc).split())})") from None
    metadata = table.schema.metadata or {}
    recorded = metadata.get(CHECKSUM_KEY, b"").decode(errors="replace")
    if recorded != _table_digest(table):
        raise StoreError(f"run file {path} is damaged (its checksum does not match)")
    identity = _identity(metadata)
    if identity is None:
        raise StoreError(f"run file {path} carries no run identity (written by older code)")
    if identity.run_id != path.stem:
        raise StoreError(f"run file {path} holds run {identity.run_id}, not {path.stem}")
    if expected is not None and identity != expected:
        raise StoreError(f"run file {path} was written by another spec or design")
    return table.to_pandas()


def check_runs(store: Path, planned: Mapping[str, RunIdentity], keep: bool = False) -> RunCheck:
    """Sort the run files on disk into intact, damaged (or swapped) and foreign ones;
    ``keep``: also keep the intact runs' tables."""
    check = RunCheck()
    for path in sorted((store / RUNS_DIR).glob("*.parquet")):
        expected = planned.get(path.stem)
        if expected is None:
            check.foreign.append(path.name)
            continue
        try:
            frame = read_run(path, expected)
        except StoreError:
            check.damaged.append(path.stem)
        else:
            check.intact.add(path.stem)
            if keep:
                check.frames[path.stem] = frame
    return check


def write_run(store: Path, identity: RunIdentity, frame: pd.DataFrame) -> None:
    """Write one run's table atomically, its checksum and identity in the Parquet metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {
        **(table.schema.metadata or {}),
        CHECKSUM_KEY: _table_digest(table).encode(),
        IDENTITY_KEY: identity.to_bytes(),
    }
    with _atomic(run_path(store, identity.run_id)) as handle:
        pq.write_table(table.replace_schema_metadata(metadata), handle)


def _open_lock(path: Path) -> int:
    """Open (or create) the lock file without following a link; refuse anything but a plain
    file of this store, so the lock can never write into a file elsewhere."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(
                f"{path} is a symbolic link; the lock must be the store's own file: remove it"
            ) from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_uid != os.geteuid():
        os.close(fd)
        raise StoreError(
            f"{path} is not a plain file of this store (a device, a hard link or another "
            "user's file); remove it"
        )
    return fd


@contextmanager
def locked(store: Path) -> Iterator[None]:
    """Hold the store's lock for the block; a second writer gets a one-line StoreError.

    The lock is an flock on STORE/.lock, so the system releases it when its holder dies
    (even by kill -9); the file names the holder for the message. It is opened with
    O_NOFOLLOW and must be a plain, unlinked-elsewhere file of the user: a link planted in
    its place is refused, never written through.
    """
    handle = os.fdopen(_open_lock(store / LOCK), "r+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
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
    """Return the store's manifest.

    Raises:
        StoreError: the manifest is missing, unreadable, not UTF-8 JSON or not a JSON object
            with its run list (one line saying what to do).
    """
    path = Path(store) / MANIFEST
    advice = (
        "move it away and rerun with --resume (the run files are checked and kept), "
        "or choose another --out"
    )
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise StoreError(f"manifest {path} is not a regular file; {advice}")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{store} holds no {MANIFEST}: it is not a result store") from None
    except OSError as exc:
        raise StoreError(f"manifest {path} cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise StoreError(f"manifest {path} is damaged (not UTF-8 JSON); {advice}") from None
    runs = manifest.get("runs") if isinstance(manifest, dict) else None
    if not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs):
        raise StoreError(f"manifest {path} is damaged (no list of runs); {advice}")
    return manifest


def planned_runs(manifest: Mapping[str, Any]) -> dict[str, RunIdentity]:
    """{run id: identity} of every run a manifest plans.

    Raises:
        StoreError: an entry of the run list lacks a field.
    """
    try:
        return {
            str(run["run_id"]): RunIdentity(
                str(run["run_id"]),
                int(run["design_point"]),
                int(run["replication"]),
                str(manifest["spec_hash"]),
            )
            for run in manifest["runs"]
        }
    except (KeyError, TypeError, ValueError):
        raise StoreError(
            "manifest is damaged or written by older code (a run lacks its identity); "
            "choose another --out"
        ) from None


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


def load_results(
    store: str | Path, known: Mapping[str, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """Concatenate every stored run the manifest plans into one DataFrame.

    Rows are sorted by design point, preset, policy, replication and step, so the result
    does not depend on the order in which runs happened to finish. A file no planned run
    names (another store's run dropped in, a run of older code) is ignored.

    Args:
        store: a store directory written by the sweep runner.
        known: tables of runs already read and verified (`RunCheck.frames`, kept by the
            sweep that just ran), used instead of reading their files again.

    Returns:
        One row per kept step of every run: identity columns, override columns, "step",
        "year" and the metric columns. Empty when no run is stored.

    Raises:
        StoreError: the manifest is damaged, or a run file is damaged or is not the run its
            name says (the message names it; `--resume` re-runs it).
    """
    store = Path(store)
    empty = pd.DataFrame(columns=[*ID_COLUMNS, "step", "year"])
    if not (store / MANIFEST).exists() and not any((store / RUNS_DIR).glob("*.parquet")):
        return empty
    planned = planned_runs(read_manifest(store))
    paths = [run_path(store, run_id) for run_id in sorted(planned)]
    try:
        known = known or {}
        frames = [
            known[p.stem] if p.stem in known else read_run(p, planned[p.stem])
            for p in paths
            if p.exists() or p.is_symlink()
        ]
    except StoreError as exc:
        raise StoreError(f"{exc}; rerun the sweep with --resume to recompute it") from None
    if not frames:
        return empty
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(SORT_COLUMNS, kind="stable").reset_index(drop=True)

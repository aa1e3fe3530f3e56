"""The batch runner: plans the runs of a spec, executes them on any Executor, stores each.

Runs go to a `concurrent.futures.Executor`: in-process for one worker, a local process pool
for several, or a Dask cluster's executor (`client.get_executor(pure=False)`; `pure=False`
because Dask would otherwise merge calls with equal arguments). The executor only ever
computes; the calling process writes every result, so workers need no shared filesystem.
A run's seed depends only on its design point and replication, never on where or when it
ran, so every executor stores the same bytes.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from smartcity.experiments import model, store
from smartcity.experiments.provenance import provenance
from smartcity.experiments.spec import ExperimentSpec, validate_points
from smartcity.experiments.store import StoreError
from smartcity.simulation.world.schema import check_output_dir

# A run is tried this many times before it is recorded as failed.
ATTEMPTS = 2
# Seconds to wait for a Dask scheduler before calling it unreachable.
CONNECT_TIMEOUT_S = 5
# Runs queued per worker: enough to keep workers busy, few enough that Ctrl-C stops quickly.
QUEUE_PER_WORKER = 2
# Seconds between a worker's checks that its sweep is alive; its exit status when it is not.
WATCHDOG_S = 1.0
EXIT_ORPHANED = 3
PR_SET_PDEATHSIG = 1  # linux/prctl.h
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

RunFunction = Callable[..., pd.DataFrame]


class SchedulerError(RuntimeError):
    """The Dask scheduler cannot be reached (one-line message)."""


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to compute one run, and its identity.

    Attributes:
        preset: city preset.
        policy: policy package.
        design_point: index of the parameter point; first element of the seed spawn key.
        replication: replication number; second element of the seed spawn key.
        root_seed: entropy of the run's SeedSequence.
        years: simulated years.
        overrides: full parameter overrides of the run.
        metrics: metric columns to keep; None keeps all.
        keep_every: keep one row every this many steps (the last step is always kept).
        model_version: package version, part of the run's identity.
        inputs: digest of the content of every file the run reads (preset chain, package,
            initiatives, graph; experiments.model.input_digest), part of its identity.
        code: digest of the result code (experiments.provenance.code_digest), part of its
            identity.
        allow_code: the policy package may run Python classes (not part of the identity:
            it permits the same run, it does not change it).
        record: the model's record choice (not part of the identity either: it chooses
            which steps are computed, not what they hold).
    """

    preset: str
    policy: str
    design_point: int
    replication: int
    root_seed: int
    years: int
    overrides: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] | None = None
    keep_every: int = 1
    model_version: str = "unknown"
    inputs: str = ""
    code: str = ""
    allow_code: bool = False
    record: str | int = "step"

    @property
    def run_id(self) -> str:
        """16 hex digits of sha256 over the run's canonical JSON identity: the name of its file.

        The design point index is part of the identity because it is part of the seed; the
        years, the content of the input files and the code because they change the result;
        metrics and keep_every are not (they only choose what is kept of the same run). So a
        package edited between two identical commands, or an edit of the model's code,
        committed or not, gives new ids: a stored run is never reused for them.
        """
        identity = {
            "preset": self.preset,
            "policy": self.policy,
            "overrides": dict(self.overrides),
            "design_point": self.design_point,
            "replication": self.replication,
            "root_seed": self.root_seed,
            "years": self.years,
            "model_version": self.model_version,
            "inputs": self.inputs,
            "code": self.code,
        }
        canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    def seed(self) -> np.random.SeedSequence:
        """Return the run's seed: SeedSequence(root, spawn_key=(design point, replication))."""
        return np.random.SeedSequence(
            self.root_seed, spawn_key=(self.design_point, self.replication)
        )


@dataclass
class SweepReport:
    """What a sweep did.

    Attributes:
        total: runs in the plan.
        skipped: runs already on disk (resume).
        done: runs computed and stored by this call.
        failed: runs that failed twice, recorded in failed.jsonl.
        interrupted: True when Ctrl-C stopped the sweep early.
        damaged: ids of run files found damaged (or holding another run than their name
            says) on resume, removed and run again.
        foreign: names of files in runs/ that no run of the spec has, left alone and
            never counted.
        stored: the tables of the runs found intact (``skipped``), when the sweep was
            asked to keep them; `store.load_results` takes them as ``known``.
    """

    total: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    interrupted: bool = False
    damaged: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    stored: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


def plan_runs(spec: ExperimentSpec) -> list[RunTask]:
    """Return every run of the spec in a fixed order (point, replication, preset, policy)."""
    version = model.model_version()
    code = model.code_version()
    metrics = tuple(spec.metrics) if spec.metrics is not None else None
    # Only a graph file can differ between design points of one (preset, policy).
    digests: dict[tuple[str, str, Any], str] = {}
    tasks = []
    for point in range(len(spec.points)):
        overrides = spec.point_overrides(point)
        for preset, policy in spec.pairs():
            key = (preset, policy, overrides.get("city.graph_file"))
            if key not in digests:
                digests[key] = model.input_digest(preset, policy, overrides, spec.allow_code)
        for replication in range(spec.replications):
            for preset, policy in spec.pairs():
                tasks.append(
                    RunTask(
                        preset=preset,
                        policy=policy,
                        design_point=point,
                        replication=replication,
                        root_seed=spec.root_seed,
                        years=spec.years,
                        overrides=overrides,
                        metrics=metrics,
                        keep_every=spec.keep_every,
                        model_version=version,
                        inputs=digests[preset, policy, overrides.get("city.graph_file")],
                        code=code,
                        allow_code=spec.allow_code,
                        record=spec.record,
                    )
                )
    return tasks


def execute_run(task: RunTask, run_fn: RunFunction | None = None) -> pd.DataFrame:
    """Compute one run and return its table with identity and override columns.

    Runs inside a worker, so it is a module-level function (picklable by reference).

    Args:
        task: the run.
        run_fn: the model's run function; default `experiments.runs.run_city`.

    Returns:
        The kept rows of the model's per-step table, identity columns first.
    """
    run_fn = run_fn or model.run_city
    # Only an opted-in run passes the flag, so any run function without it still works.
    code = {"allow_code": True} if task.allow_code else {}
    # The model computes only the steps that are kept (the same values, less work).
    record = task.keep_every if task.record == "step" else task.record
    if record != 1:
        code["record"] = record
    frame = run_fn(
        task.preset,
        seed=task.seed(),
        years=task.years,
        overrides=dict(task.overrides) or None,
        policy=task.policy,
        **code,
    )
    last = frame["step"].max()
    keep = (frame["step"] % task.keep_every == 0) | (frame["step"] == last)
    columns = list(frame.columns) if task.metrics is None else ["step", "year", *task.metrics]
    frame = frame.loc[keep, columns].reset_index(drop=True)
    identity: dict[str, Any] = {
        "run_id": task.run_id,
        "preset": task.preset,
        "policy": task.policy,
        "design_point": task.design_point,
        "replication": task.replication,
        "seed_entropy": task.root_seed,
        **task.overrides,
    }
    head = pd.DataFrame({key: [value] * len(frame) for key, value in identity.items()})
    for name in ("design_point", "replication", "seed_entropy"):
        head[name] = head[name].astype("int64")
    return pd.concat([head, frame], axis=1)


def build_manifest(spec: ExperimentSpec, tasks: list[RunTask]) -> dict[str, Any]:
    """Return the manifest: spec, resolved parameters per design point, seeds, versions.

    The full parameter set is written once per preset and policy ("base_parameters": preset,
    package and fixed overrides); each design point lists only the resolved values that
    differ from it, so a 10,000-point Sobol design does not repeat every parameter each time.
    """
    resolved = validate_points(spec)
    base: dict[str, dict[str, dict[str, Any]]] = {}
    for preset, policy in spec.pairs():
        base.setdefault(preset, {})[policy] = model.resolve_point(
            preset, spec.overrides, policy, spec.allow_code
        )
    recorded = json.loads(json.dumps(spec.to_dict(), default=str))
    return {
        "spec": recorded,
        "spec_hash": store.spec_hash(recorded),
        "provenance": provenance(),
        "seed_scheme": "SeedSequence(root_seed, spawn_key=(design_point, replication))",
        "base_parameters": base,
        "design_points": [
            {
                "index": index,
                "overrides": spec.point_overrides(index),
                "parameters": {
                    preset: {
                        policy: {
                            key: value
                            for key, value in resolved[preset, policy, index].items()
                            if base[preset][policy].get(key) != value
                        }
                        for policy in policies
                    }
                    for preset, policies in spec.policies.items()
                },
            }
            for index in range(len(spec.points))
        ],
        "runs": [
            {
                "run_id": t.run_id,
                "preset": t.preset,
                "policy": t.policy,
                "design_point": t.design_point,
                "replication": t.replication,
                "seed_entropy": t.root_seed,
                "spawn_key": [t.design_point, t.replication],
            }
            for t in tasks
        ],
    }


def check_store(out: Path, spec: ExperimentSpec, resume: bool) -> None:
    """Refuse an output directory this sweep must not write into; writes nothing.

    Raises:
        StoreError: OUT is a file, holds runs of another spec, holds runs without resume, or
            its manifest is damaged.
        InputError: OUT cannot be written (schema.check_output_dir).
    """
    if out.exists() and not out.is_dir():
        raise StoreError(f"output {str(out)!r} exists and is not a directory")
    check_output_dir(out)
    manifest = out / store.MANIFEST
    if not manifest.exists():
        return
    if not resume:
        raise StoreError(
            f"output {str(out)!r} already holds a sweep; pass --resume to complete it "
            "or choose another --out"
        )
    # Compare through JSON so tuples and lists from the two sources compare equal. Runs of
    # other code or other input files need no guard here: their ids differ (RunTask.run_id).
    recorded = store.read_manifest(out).get("spec")
    current = json.loads(json.dumps(spec.to_dict(), default=str))
    if recorded != current:
        raise StoreError(
            f"output {str(out)!r} was written by a different spec; "
            "resume only with the same spec, or choose another --out"
        )


def _start_worker(sweep_pid: int) -> None:
    """Initializer of a pool worker: leave Ctrl-C to the sweep, and die with the sweep."""
    # Ctrl-C reaches the whole process group; only the parent decides what to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if sys.platform == "linux":
        # The kernel kills this worker when its parent, the fork server, exits: the fork
        # server exits as soon as the sweep is gone, however it died.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    threading.Thread(target=_exit_with, args=(sweep_pid, parent), daemon=True).start()


def _exit_with(sweep_pid: int, parent: int) -> None:
    """Exit this worker once the sweep process is gone (even after kill -9, which runs no
    cleanup): its forkserver parent exits then too, so this process is re-parented."""
    while True:
        time.sleep(WATCHDOG_S)
        try:
            os.kill(sweep_pid, 0)
        except ProcessLookupError:
            os._exit(EXIT_ORPHANED)
        except PermissionError:
            pass  # a process of another user took the pid: the sweep is gone
        if os.getppid() != parent:
            os._exit(EXIT_ORPHANED)


@contextmanager
def _default_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables the user has not set, for the duration of the block."""
    added = [key for key in values if key not in os.environ]
    os.environ.update({key: values[key] for key in added})
    try:
        yield
    finally:
        for key in added:
            del os.environ[key]


def local_executor(workers: int) -> Executor:
    """Return the default executor: in-process for 1 worker, else a local process pool."""
    if workers == 1:
        return InlineExecutor()
    # One BLAS thread per worker process: with a worker per core, OpenBLAS's own threads only
    # contend (measured here: twice the CPU time per run). Dask's nanny does the same. The
    # workers inherit the environment of the fork server, so it must start with it.
    # The fork server imports this module once, so a new worker starts with it loaded: its
    # initializer (the watchdog) runs at once instead of after seconds of imports.
    forkserver.set_forkserver_preload([__name__])
    with _default_environ(SINGLE_THREAD_ENV):
        forkserver.ensure_running()
    # forkserver: no fork of a threaded parent (Dask, tqdm), cheaper than spawn per worker.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


class InlineExecutor(Executor):
    """Runs each task in the calling process at submit time (the `--workers 1` executor)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run fn now; its exception (not Ctrl-C) is stored in the returned future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


@contextmanager
def dask_executor(address: str) -> Iterator[tuple[Executor, int]]:
    """Connect to a Dask scheduler; yield its executor and its number of worker threads.

    Raises:
        SchedulerError: the scheduler does not answer within CONNECT_TIMEOUT_S.
    """
    from distributed import Client

    # The client logs its own retries; the user gets one line from us instead.
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:
        raise SchedulerError(
            f"cannot reach Dask scheduler at {address!r}: {' '.join(str(exc).split())}"
        ) from None
    finally:
        quiet.setLevel(level)
    try:
        threads = max(1, sum(client.nthreads().values()))
        yield client.get_executor(pure=False), threads
    finally:
        client.close()


def _one_line_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def run_sweep(
    spec: ExperimentSpec,
    out: str | Path,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    slots: int | None = None,
    resume: bool = False,
    run_fn: RunFunction | None = None,
    progress: bool = True,
    keep: bool = False,
) -> SweepReport:
    """Run every run of a spec and store each as it finishes.

    Args:
        spec: a validated spec.
        out: store directory (created).
        workers: local workers when no executor is given (1 = in this process).
        executor: any concurrent.futures.Executor, e.g. a Dask client's executor; the caller
            keeps ownership and shuts it down.
        slots: worker threads behind `executor` (default `workers`); about twice as many
            runs are kept queued, so workers stay busy and Ctrl-C stops soon.
        resume: skip runs whose file exists; needed when OUT already holds this sweep.
        run_fn: the model run function (default `experiments.runs.run_city`); must be
            picklable for process or Dask executors.
        progress: show a progress bar on stderr.
        keep: keep the tables of the runs found already stored (``SweepReport.stored``), for
            a caller that loads the store next (each file is then read and verified once).

    Returns:
        The counts of the sweep; `interrupted` is set when Ctrl-C stopped it.

    Raises:
        StoreError: OUT cannot be used (see `check_store`). Nothing is written then.
    """
    out = Path(out)
    check_store(out, spec, resume)
    tasks = plan_runs(spec)
    manifest = build_manifest(spec, tasks)
    try:
        (out / store.RUNS_DIR).mkdir(parents=True, exist_ok=True)
        with store.locked(out):
            # Checked again under the lock: another sweep may have started meanwhile.
            check_store(out, spec, resume)
            return _sweep(
                spec, out, tasks, manifest, workers, executor, slots, run_fn, progress, keep
            )
    except OSError as exc:
        raise StoreError(
            f"cannot write to {str(out)!r}: {exc.strerror or exc}; the runs stored so far are "
            "complete: free space (or fix the folder) and rerun with --resume"
        ) from None


def _sweep(
    spec: ExperimentSpec,
    out: Path,
    tasks: list[RunTask],
    manifest: dict[str, Any],
    workers: int,
    executor: Executor | None,
    slots: int | None,
    run_fn: RunFunction | None,
    progress: bool,
    keep: bool,
) -> SweepReport:
    """The body of run_sweep, run while holding the store's lock."""
    store.prepare(out)
    store.write_manifest(out, manifest)
    # A new attempt at the remaining runs makes old failure records stale.
    (out / store.FAILED).unlink(missing_ok=True)
    planned = store.planned_runs(manifest)
    found = store.check_runs(out, planned, keep)
    for run_id in found.damaged:
        store.run_path(out, run_id).unlink()
    todo = [t for t in tasks if t.run_id not in found.intact]
    report = SweepReport(
        total=len(tasks),
        skipped=len(tasks) - len(todo),
        damaged=found.damaged,
        foreign=found.foreign,
        stored=found.frames,
    )

    owned = executor is None
    pool = local_executor(workers) if owned else executor
    assert pool is not None
    capacity = QUEUE_PER_WORKER * (workers if owned else (slots or workers))
    bar = tqdm(
        total=report.total,
        initial=report.skipped,
        unit="run",
        disable=not progress,
        dynamic_ncols=True,
    )
    queue = list(reversed(todo))
    attempts: dict[str, int] = {}
    running: dict[Future, RunTask] = {}
    # Runs caught in a crashed pool: retried one at a time, so that only the run that
    # kills its worker is blamed (every other run is kept).
    isolate: set[str] = set()

    def settle(future: Future, task: RunTask) -> None:
        error = future.exception()
        if isinstance(error, BrokenProcessPool) and task.run_id not in isolate:
            attempts[task.run_id] -= 1
            isolate.add(task.run_id)
            queue.append(task)
            return
        isolate.discard(task.run_id)
        if error is None:
            store.write_run(out, planned[task.run_id], future.result())
            report.done += 1
        elif attempts[task.run_id] < ATTEMPTS:
            queue.append(task)
            return
        else:
            report.failed += 1
            store.record_failure(
                out,
                {
                    "run_id": task.run_id,
                    "preset": task.preset,
                    "policy": task.policy,
                    "design_point": task.design_point,
                    "replication": task.replication,
                    "attempts": attempts[task.run_id],
                    "error": _one_line_error(error),
                    "traceback": "".join(traceback.format_exception(error)),
                },
            )
        bar.set_postfix(done=report.done, failed=report.failed, refresh=False)
        bar.update()

    try:
        while queue or running:
            while queue and len(running) < capacity and not (isolate and running):
                task = queue.pop()
                attempts[task.run_id] = attempts.get(task.run_id, 0) + 1
                try:
                    running[pool.submit(execute_run, task, run_fn)] = task
                except BrokenProcessPool:
                    if not owned:
                        raise
                    # A worker died and took the pool down: count the attempt, start afresh.
                    queue.append(task)
                    pool = _replace_pool(pool, workers)
                    break
                if task.run_id in isolate:
                    break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                task = running.pop(future)
                broken = broken or isinstance(future.exception(), BrokenProcessPool)
                settle(future, task)
            if broken and owned:
                pool = _replace_pool(pool, workers)
    except KeyboardInterrupt:
        report.interrupted = True
        for future in running:
            future.cancel()
        if owned:
            with suppress(KeyboardInterrupt):
                pool.shutdown(wait=True, cancel_futures=True)
        # Runs that finished while we stopped are complete: keep them.
        for future, task in running.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                settle(future, task)
    finally:
        bar.close()
        if owned and not report.interrupted:
            # Nothing is pending after a complete sweep; after an error, queued runs go.
            pool.shutdown(wait=True, cancel_futures=True)
    return report


def _replace_pool(pool: Executor, workers: int) -> Executor:
    pool.shutdown(wait=False, cancel_futures=True)
    return local_executor(workers)

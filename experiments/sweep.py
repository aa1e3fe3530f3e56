"""`smartcity sweep`: run a spec's design on a local pool or a Dask cluster.

Also holds what the batch commands (sweep, sensitivity, compare) share: the worker options,
choosing the executor, and turning errors into one line and an exit status.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from smartcity.experiments.model import RECORD_HELP, record_argument
from smartcity.experiments.runner import (
    SchedulerError,
    StoreError,
    SweepReport,
    dask_executor,
    run_sweep,
)
from smartcity.experiments.spec import ExperimentSpec, SpecError, load_spec
from smartcity.experiments.store import load_results
from smartcity.simulation.world.errors import InputError

EXIT_OK = 0
EXIT_RUNS_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CommandError(RuntimeError):
    """A user error found by a command; printed as one line, exit status 2."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sweep` subcommand; the handler is `args.handler(args) -> exit status`."""
    parser = subparsers.add_parser(
        "sweep",
        help="run every design point of a TOML experiment spec",
        description="Run the runs of SPEC (presets x policies x design points x "
        "replications), storing one Parquet file per run under OUT/runs.",
    )
    parser.add_argument("spec", type=Path, help="experiment spec (TOML)")
    parser.add_argument("--out", type=Path, required=True, help="store directory")
    add_executor_options(parser)
    parser.add_argument(
        "--resume", action="store_true", help="complete an interrupted sweep in OUT"
    )
    add_allow_code_option(parser)
    add_record_option(parser)
    parser.set_defaults(handler=command_sweep)


def add_set_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """The repeatable ``--set SECTION.NAME=VALUE`` parameter override (into args.overrides)."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.NAME=VALUE",
        help=help_text,
    )


def add_allow_code_option(parser: argparse.ArgumentParser) -> None:
    """The ``--allow-code`` opt-in for policy packages that run Python classes."""
    parser.add_argument(
        "--allow-code",
        action="store_true",
        help='let policy packages run Python classes (class = "module:Class"); '
        "only for packages you trust",
    )


def add_record_option(parser: argparse.ArgumentParser) -> None:
    """The ``--record`` choice of the steps whose metrics the model computes."""
    parser.add_argument("--record", type=record_argument, default="step", help=RECORD_HELP)


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """Add --workers and --scheduler, shared by the batch commands."""
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="local worker processes (1 = run in this process; default: all cores)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="Dask scheduler address, e.g. tcp://host:8786 (overrides --workers)",
    )


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def execute(
    spec: ExperimentSpec,
    out: Path,
    *,
    workers: int,
    scheduler: str | None,
    resume: bool,
) -> SweepReport:
    """Run a validated spec into OUT on the executor the options ask for."""
    if scheduler:
        with dask_executor(scheduler) as (executor, slots):
            return run_sweep(spec, out, executor=executor, slots=slots, resume=resume)
    return run_sweep(spec, out, workers=workers, resume=resume)


def guarded(name: str, body: Callable[[], int]) -> int:
    """Run a command body; user errors become one stderr line and exit status 2.

    Ctrl-C becomes exit status 130: the store then holds only complete runs.
    """
    try:
        return body()
    except (SpecError, StoreError, SchedulerError, CommandError, InputError) as exc:
        print(f"smartcity {name}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE
    except SweepInterruptedError as exc:
        return exc.status
    except KeyboardInterrupt:
        print(f"smartcity {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def finish(name: str, report: SweepReport, out: Path) -> int | None:
    """Report an interrupted or partly failed sweep; None when all went well."""
    if report.damaged:
        print(
            f"smartcity {name}: {len(report.damaged)} damaged run file(s) found and run "
            f"again: {', '.join(report.damaged)}",
            file=sys.stderr,
        )
    if report.interrupted:
        stored = report.skipped + report.done
        print(
            f"smartcity {name}: interrupted; {stored} of {report.total} runs stored in "
            f"{out}; rerun the same command{'' if name == 'compare' else ' with --resume'} "
            "to complete",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if report.failed:
        print(
            f"smartcity {name}: {report.failed} of {report.total} runs failed twice; "
            f"see {out / 'failed.jsonl'}",
            file=sys.stderr,
        )
    return None


class SweepInterruptedError(Exception):
    """The sweep behind a command was interrupted; ``status`` is the command's exit status."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def stored_results(
    name: str, spec: ExperimentSpec, args: argparse.Namespace
) -> tuple[SweepReport, pd.DataFrame]:
    """Run a spec into ``args.out`` (runs already stored there are reused) and load every
    stored run, for the commands that summarize a sweep (compare, validate).

    Raises:
        SweepInterruptedError: the sweep was interrupted (its finished runs are kept).
        CommandError: every run failed.
    """
    report = execute(spec, args.out, workers=args.workers, scheduler=args.scheduler, resume=True)
    status = finish(name, report, args.out)
    if status is not None:
        raise SweepInterruptedError(status)
    results = load_results(args.out)
    if results.empty:
        raise CommandError(f"every run failed; nothing to {name}")
    return report, results


def command_sweep(args: argparse.Namespace) -> int:
    """Handler of `smartcity sweep`."""

    def body() -> int:
        spec = dataclasses.replace(
            load_spec(args.spec, allow_code=args.allow_code), record=args.record
        )
        if spec.sensitivity is not None:
            raise CommandError(
                f"{args.spec} has a [sensitivity] table; run it with `smartcity sensitivity`"
            )
        report = execute(
            spec, args.out, workers=args.workers, scheduler=args.scheduler, resume=args.resume
        )
        status = finish("sweep", report, args.out)
        if status is not None:
            return status
        return EXIT_RUNS_FAILED if report.failed else EXIT_OK

    return guarded("sweep", body)

"""The command-line toolkit every ``smartcity`` command shares.

Options (``--out``, ``--workers``/``--scheduler``, ``--set``, ``--allow-code``,
``--resume``, ``--limit``), exit statuses, turning a user error into one stderr line, the
output-folder check each writing command makes before any run, and running a spec into a
store. A command module (sweep, compare, sensitivity, calibrate, validate, explore, ...)
registers its parser with these helpers and wraps its body in :func:`guarded`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from smartcity.experiments import model
from smartcity.experiments.limits import Limits, limits_from, limits_help, parse_limit
from smartcity.experiments.runner import (
    SchedulerError,
    StoreError,
    SweepReport,
    dask_executor,
    run_sweep,
)
from smartcity.experiments.spec import ExperimentSpec, SpecError
from smartcity.experiments.store import FAILED, RUNS_DIR, load_results, names
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.schema import check_output_dir, one_line

EXIT_OK = 0
EXIT_RUNS_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
# A user error's message lines shown at most (one per mistake found in a file).
MAX_ERROR_LINES = 11


class CommandError(RuntimeError):
    """A user error found by a command; printed as one line, exit status 2."""


class SweepInterruptedError(Exception):
    """The sweep behind a command was interrupted; ``status`` is the command's exit status."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``, else one line saying what was given."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


positive_int = int_at_least(1)
"""argparse type: an integer >= 1 (replications, workers, trials)."""


def add_out_option(parser: argparse.ArgumentParser, help_text: str = "output directory") -> None:
    """The required ``--out DIR`` of a writing command (checked by check_out)."""
    parser.add_argument("--out", type=Path, required=True, help=help_text)


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
    parser.add_argument(
        "--record", type=model.record_argument, default="step", help=model.RECORD_HELP
    )


def add_resume_option(parser: argparse.ArgumentParser, what: str = "sweep") -> None:
    """The ``--resume`` option of a command whose store may be completed later."""
    parser.add_argument(
        "--resume", action="store_true", help=f"complete an interrupted {what} in OUT"
    )


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    """The ``--quiet`` option: no progress bar."""
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_limit_option(parser: argparse.ArgumentParser) -> None:
    """The repeatable ``--limit NAME=N`` (into args.limits: a Limits)."""
    parser.add_argument(
        "--limit",
        dest="limit_pairs",
        action="append",
        type=parse_limit,
        default=[],
        metavar="NAME=N",
        help=limits_help(),
    )


def limits_of(args: argparse.Namespace) -> Limits:
    """The limits a command line sets (defaults for the limits it does not raise)."""
    return limits_from(getattr(args, "limit_pairs", None))


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


def check_out(out: Path) -> None:
    """Refuse an output folder before any run: a file, a dangling link, read-only or full.

    Raises:
        InputError: one line naming the problem (see schema.check_output_dir).
    """
    check_output_dir(out)


def dispatch[Result](run: Callable[..., Result], workers: int, scheduler: str | None) -> Result:
    """Call ``run`` on the executor the options ask for: ``executor`` and ``slots`` of the
    Dask cluster at ``scheduler`` when one is given (``--scheduler``), else ``workers``
    local processes (``--workers``)."""
    if scheduler:
        with dask_executor(scheduler) as (executor, slots):
            return run(executor=executor, slots=slots)
    return run(workers=workers)


def execute(
    spec: ExperimentSpec,
    out: Path,
    *,
    workers: int,
    scheduler: str | None,
    resume: bool,
    progress: bool = True,
    name: str = "sweep",
    keep: bool = False,
) -> SweepReport:
    """Run a validated spec into OUT on the executor the options ask for, after one warning
    line per initiative that starts only after the runs end (``name``: the command;
    ``keep``: as `run_sweep`)."""
    for policy in dict.fromkeys(policy for _, policy in spec.pairs()):
        for message in model.check_policy(policy, spec.years, spec.allow_code):
            warn(name, message)

    def sweep(**executor: object) -> SweepReport:
        return run_sweep(spec, out, resume=resume, progress=progress, keep=keep, **executor)

    return dispatch(sweep, workers, scheduler)


def error_lines(name: str, exc: BaseException) -> list[str]:
    """A user error as stderr lines: one per mistake (at most MAX_ERROR_LINES)."""
    lines = [one_line(line) for line in str(exc).splitlines() if line.strip()]
    return [f"smartcity {name}: error: {line}" for line in lines[:MAX_ERROR_LINES]]


def warn(name: str, message: str) -> None:
    """Print one warning line on stderr."""
    print(f"smartcity {name}: warning: {one_line(message)}", file=sys.stderr)


def guarded(name: str, body: Callable[[], int]) -> int:
    """Run a command body; user errors become stderr lines and exit status 2.

    Ctrl-C becomes exit status 130: the store then holds only complete runs.
    """
    try:
        return body()
    except (SpecError, StoreError, SchedulerError, CommandError, InputError) as exc:
        print("\n".join(error_lines(name, exc)), file=sys.stderr)
        return EXIT_USAGE
    except SweepInterruptedError as exc:
        return exc.status
    except KeyboardInterrupt:
        print(f"smartcity {name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def finish(name: str, report: SweepReport, out: Path) -> int | None:
    """Report an interrupted or partly failed sweep; None when all went well."""
    if report.foreign:
        warn(
            name,
            f"{len(report.foreign)} file(s) in {out / RUNS_DIR} are no run of this "
            f"{name} (other inputs, code or store) and are ignored: {names(report.foreign)}",
        )
    if report.damaged:
        warn(
            name,
            f"{len(report.damaged)} damaged run file(s) (unreadable, altered, or another "
            f"run under its name) found and run again: {names(report.damaged)}",
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
            f"see {out / FAILED}",
            file=sys.stderr,
        )
    return None


def stored_results(
    name: str, spec: ExperimentSpec, args: argparse.Namespace
) -> tuple[SweepReport, pd.DataFrame]:
    """Run a spec into ``args.out`` (runs already stored there are reused) and load every
    stored run, for the commands that summarize a sweep (compare, validate).

    Raises:
        SweepInterruptedError: the sweep was interrupted (its finished runs are kept).
        CommandError: every run failed.
    """
    report = execute(
        spec,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=True,
        progress=not getattr(args, "quiet", False),
        name=name,
        keep=True,
    )
    status = finish(name, report, args.out)
    if status is not None:
        raise SweepInterruptedError(status)
    # The runs found stored were read and verified by the sweep: not again.
    results = load_results(args.out, known=report.stored)
    if results.empty:
        raise CommandError(f"every run failed; nothing to {name}")
    return report, results

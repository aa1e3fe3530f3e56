"""`smartcity sweep`: run a spec's design on a local pool or a Dask cluster."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from smartcity.experiments.cli_kit import (
    EXIT_OK,
    EXIT_RUNS_FAILED,
    CommandError,
    add_allow_code_option,
    add_executor_options,
    add_limit_option,
    add_out_option,
    add_quiet_option,
    add_record_option,
    add_resume_option,
    execute,
    finish,
    guarded,
    limits_of,
)
from smartcity.experiments.spec import load_spec


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sweep` subcommand; the handler is `args.handler(args) -> exit status`."""
    parser = subparsers.add_parser(
        "sweep",
        help="run every design point of a TOML experiment spec",
        description="Run the runs of SPEC (presets x policies x design points x "
        "replications), storing one Parquet file per run under OUT/runs.",
    )
    parser.add_argument("spec", type=Path, help="experiment spec (TOML)")
    add_out_option(parser, "store directory")
    add_executor_options(parser)
    add_resume_option(parser)
    add_allow_code_option(parser)
    add_limit_option(parser)
    add_record_option(parser)
    add_quiet_option(parser)
    parser.set_defaults(handler=command_sweep)


def command_sweep(args: argparse.Namespace) -> int:
    """Handler of `smartcity sweep`."""

    def body() -> int:
        spec = dataclasses.replace(
            load_spec(args.spec, allow_code=args.allow_code, limits=limits_of(args)),
            record=args.record,
        )
        if spec.sensitivity is not None:
            raise CommandError(
                f"{args.spec} has a [sensitivity] table; run it with `smartcity sensitivity`"
            )
        report = execute(
            spec,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            resume=args.resume,
            progress=not args.quiet,
        )
        status = finish("sweep", report, args.out)
        if status is not None:
            return status
        return EXIT_RUNS_FAILED if report.failed else EXIT_OK

    return guarded("sweep", body)

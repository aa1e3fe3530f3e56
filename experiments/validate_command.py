"""`smartcity validate`: the six case cities checked against the white paper's figures.

The command's options and outputs (OUT/validation.csv, OUT/validation_figures.csv,
OUT/validation.md and OUT/figures/); the cases, patterns and statistics are `validation`,
the report and its figures are drawn by `figures`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from smartcity.experiments import figures
from smartcity.experiments.cli_kit import (
    EXIT_OK,
    add_executor_options,
    add_limit_option,
    check_out,
    guarded,
    limits_of,
    positive_int,
    stored_results,
)
from smartcity.experiments.validation import (
    DEFAULT_REPLICATIONS,
    DEFAULT_ROOT_SEED,
    DEFAULT_YEARS,
    EXIT_PATTERN_FAILED,
    cited_figures,
    evaluate,
    validation_spec,
)


def write_figures(table: pd.DataFrame, folder: Path) -> list[Path]:
    """A figure per case (and one for the cross-case patterns): each pattern's simulated
    mean and interval against the paper's criterion."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        figures.plot_pattern_checks(rows, f"Validation: {case}", folder / f"{case}.png")
        for case, rows in table.groupby("case", sort=False)
    ]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `validate` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check the six case cities against the white paper's figures",
        description="Run each case city (london, paris, tokyo, hamburg, tel-aviv, shenzhen) "
        "under its development path and the baseline, check each pattern of white paper 5.1 "
        "and write OUT/validation.csv, OUT/validation_figures.csv and OUT/validation.md; exit 1 "
        "when a pattern fails.",
    )
    parser.add_argument("--out", type=Path, default=Path("results/validate"))
    parser.add_argument("--replications", type=positive_int, default=DEFAULT_REPLICATIONS)
    parser.add_argument("--years", type=positive_int, default=DEFAULT_YEARS)
    parser.add_argument("--seed", type=int, default=DEFAULT_ROOT_SEED)
    parser.add_argument(
        "--citizens", type=positive_int, help="citizens per city (default: each preset's)"
    )
    add_executor_options(parser)
    add_limit_option(parser)
    parser.set_defaults(handler=command_validate)


def command_validate(args: argparse.Namespace) -> int:
    """Handler of `smartcity validate`."""

    def body() -> int:
        overrides = {} if args.citizens is None else {"citizens.count": args.citizens}
        check_out(args.out)
        spec = validation_spec(args.replications, args.years, args.seed, overrides, limits_of(args))
        _, results = stored_results("validate", spec, args)
        table = evaluate(results)
        figures_table = cited_figures(results)
        table.to_csv(args.out / "validation.csv", index=False)
        figures_table.to_csv(args.out / "validation_figures.csv", index=False)
        write_figures(table, args.out / "figures")
        command = " ".join(["smartcity", *sys.argv[1:]]) if sys.argv[1:] else "smartcity validate"
        report = figures.validation_markdown(table, figures_table, command)
        (args.out / "validation.md").write_text(report)
        for line in figures.report_lines(table):
            print(line)
        print(f"{int(table['holds'].sum())} of {len(table)} patterns hold")
        return EXIT_OK if table["holds"].all() else EXIT_PATTERN_FAILED

    return guarded("validate", body)

"""`smartcity compare`: the main job. Mature and emerging cities along their paths, replicated.

The command's options and outputs; the comparison itself is `compare` (what runs, the
summaries, the paired differences, the fit of each path to each city) and its tables and
figures are drawn by `figures`. Outputs in OUT: summary.csv, horizon.csv, differences.csv,
and (by design and budget) paths.md, fit.csv, fit_lead.csv, fit.md, and figures/.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from smartcity.experiments import model
from smartcity.experiments.cli_kit import (
    EXIT_OK,
    EXIT_RUNS_FAILED,
    add_allow_code_option,
    add_executor_options,
    add_limit_option,
    add_out_option,
    add_set_option,
    guarded,
    limits_of,
    positive_int,
    stored_results,
)
from smartcity.experiments.compare import (
    BUDGETS,
    DEFAULT_PRESETS,
    DEFAULT_REPLICATIONS,
    DEFAULT_ROOT_SEED,
    DEFAULT_YEARS,
    DESIGNS,
    FIT_METRICS,
    HEADLINE_METRICS,
    compare_spec,
    fit_table,
    horizon_table,
    labelled,
    own_lead,
    package_labels,
    paired_differences,
    summarize,
)
from smartcity.simulation.world.parameters import parse_set_option


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `compare` subcommand; the handler is `args.handler(args) -> exit status`."""
    parser = subparsers.add_parser(
        "compare",
        help="compare mature and emerging development paths (the main job)",
        description="Run the mature and emerging presets under each policy package for N "
        "replications; write summary.csv, horizon.csv and figures to OUT. Runs already in "
        "OUT from the same settings are reused, so an interrupted compare just reruns.",
    )
    add_out_option(parser)
    parser.add_argument(
        "--replications",
        type=positive_int,
        default=DEFAULT_REPLICATIONS,
        help=f"replications per preset and policy (default {DEFAULT_REPLICATIONS})",
    )
    parser.add_argument(
        "--years",
        type=positive_int,
        default=DEFAULT_YEARS,
        help=f"simulated years (default {DEFAULT_YEARS})",
    )
    parser.add_argument(
        "--policies",
        nargs="+",
        metavar="POLICY",
        help="policy packages run on every preset (default: baseline plus each preset's "
        "own development paths, e.g. mature-reactivate on mature only)",
    )
    parser.add_argument(
        "--presets",
        nargs="+",
        default=list(DEFAULT_PRESETS),
        metavar="PRESET",
        help="city presets (default: mature emerging)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_ROOT_SEED, help="root seed of all replications"
    )
    parser.add_argument(
        "--design",
        choices=DESIGNS,
        default="own",
        help="own: each preset runs the baseline, the placebo and its own paths (default); "
        "cross: every development path runs on every preset (writes fit.csv and the fit "
        "matrix)",
    )
    parser.add_argument(
        "--budget",
        choices=BUDGETS,
        default=None,
        help="package: each package's own budget (default of --design own); equal: every "
        "package, baseline included, spends the same public envelope (government.budget = "
        "equal; default of --design cross)",
    )
    add_set_option(parser, "parameter override for every run (repeatable)")
    add_executor_options(parser)
    add_allow_code_option(parser)
    add_limit_option(parser)
    parser.set_defaults(handler=command_compare)


def write_outputs(
    results: pd.DataFrame,
    out: Path,
    presets: Sequence[str],
    citizens: object = "preset default",
    allow_code: bool = False,
) -> list[Path]:
    """Write summary.csv, horizon.csv and the figures; return the written paths.

    Tables and figures list the presets in the order given (mature first by default), label
    each package by its title, and state the replications, citizens, years, interval
    method and currency unit (`run_note`).
    """
    from smartcity.experiments import figures

    units = model.metric_units()
    rank = {preset: i for i, preset in enumerate(presets)}
    results = results.sort_values("preset", key=lambda s: s.map(rank), kind="stable")
    note = figures.run_note(results, citizens)
    titles = {
        model.package_name(p, allow_code): title
        for p, title in package_labels(list(results["policy"].unique()), allow_code).items()
    }
    summary = summarize(results)
    summary.insert(3, "unit", summary["metric"].map(units).fillna(""))
    horizon = horizon_table(summary)
    figure_dir = out / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    written = [out / "summary.csv", out / "horizon.csv"]
    as_run = summary  # fit_table reads packages as run; the files get names and titles
    summary = labelled(summary, allow_code=allow_code)
    horizon = labelled(horizon, allow_code=allow_code)
    summary.to_csv(written[0], index=False)
    horizon.to_csv(written[1], index=False)
    differences = paired_differences(results)
    present = set(summary["metric"])
    if not differences.empty:
        differences.insert(3, "unit", differences["metric"].map(units).fillna(""))
        fit = fit_table(differences, as_run)
        differences = labelled(differences, allow_code=allow_code)
        written.append(out / "differences.csv")
        differences.to_csv(written[-1], index=False)
        drawn = [m for m in (*model.INDEX_METRICS, *HEADLINE_METRICS) if m in present]
        if drawn:
            written.append(
                figures.plot_differences(
                    differences, drawn, units, figure_dir / "differences.png", titles, note
                )
            )
        if "extra_spending" in differences:
            written.append(out / "paths.md")
            table_metrics = [m for m in model.INDEX_METRICS if m in present]
            written[-1].write_text(figures.path_table(differences, table_metrics) + f"\n{note}.\n")
        if not fit.empty:
            fit = labelled(fit, "package", allow_code)
            written.append(out / "fit.csv")
            fit.to_csv(written[-1], index=False)
            lead = own_lead(results)
            if not lead.empty:
                written.append(out / "fit_lead.csv")
                lead.to_csv(written[-1], index=False)
            written.append(out / "fit.md")
            written[-1].write_text(figures.fit_markdown(fit, lead) + f"\n{note}.\n")
            written.append(
                figures.plot_fit_matrix(
                    fit, FIT_METRICS, units, figure_dir / "fit_matrix.png", titles, note
                )
            )
    indices = [m for m in model.INDEX_METRICS if m in present]
    headline = [m for m in HEADLINE_METRICS if m in present]
    missing = sorted(set(model.INDEX_METRICS + HEADLINE_METRICS) - present)
    if missing:
        print(
            f"smartcity compare: not plotted (not reported): {', '.join(missing)}", file=sys.stderr
        )
    for metrics, name, title in ((indices, "indices", "Development indices"),
                                 (headline, "headline", "Headline metrics")):  # fmt: skip
        if metrics:
            written.append(
                figures.plot_trajectories(
                    summary, metrics, units, figure_dir / f"{name}.png", title, titles, note
                )
            )
    if indices or headline:
        written.append(
            figures.plot_horizon(
                horizon,
                [*indices, *headline],
                units,
                figure_dir / "horizon.png",
                "Horizon",
                titles,
                note,
            )
        )
    return written


def command_compare(args: argparse.Namespace) -> int:
    """Handler of `smartcity compare`."""

    def body() -> int:
        overrides = dict(parse_set_option(text) for text in args.overrides)
        spec = compare_spec(
            presets=args.presets,
            policies=args.policies,
            replications=args.replications,
            years=args.years,
            root_seed=args.seed,
            overrides=overrides,
            allow_code=args.allow_code,
            budget=args.budget,
            design=args.design,
            limits=limits_of(args),
        )
        # Always resume: rerunning the same comparison (`make demo` twice, or after Ctrl-C)
        # reuses the stored runs; other settings in the same OUT are refused.
        report, results = stored_results("compare", spec, args)
        citizens = model.resolve_point(spec.presets[0], spec.overrides)["citizens.count"]
        for path in write_outputs(
            results, args.out, spec.presets, citizens=citizens, allow_code=args.allow_code
        ):
            print(path)
        return EXIT_RUNS_FAILED if report.failed else EXIT_OK

    return guarded("compare", body)

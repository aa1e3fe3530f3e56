"""`smartcity plot STORE --x PARAM --y METRIC`: draw any stored sweep without user code.

STORE is the output folder of `smartcity sweep`, `compare`, `sensitivity` or `explore`
(they share one store format). For an exploration, ``--y`` may also be one of its outcomes:
then each run is a point against ``--x``, any of its inputs (an uncertainty or a lever).
With ``--x year`` the figure shows each (preset, package) trajectory; with ``--x`` a
varied parameter it shows the metric at ``--year`` (default the last) against that
parameter. Each point is the mean over replications with its
t interval (statistics.method_note), each line a preset and package, labelled by the
package's title; the footnote states the replications, citizens and years.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from smartcity.experiments import model, store
from smartcity.experiments.cli_kit import EXIT_OK, guarded
from smartcity.experiments.discover import inputs_of
from smartcity.experiments.explore import EXPERIMENTS, read_experiments
from smartcity.experiments.spec import SpecError
from smartcity.simulation.world.schema import (
    check_output_dir,
    did_you_mean,
)
from smartcity.simulation.world.statistics import method_note, t_half_width

YEAR = "year"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `plot` subcommand; the handler is `args.handler(args) -> exit status`."""
    parser = subparsers.add_parser(
        "plot",
        help="draw a metric of a stored sweep, comparison or exploration",
        description="Draw METRIC against a varied parameter (at --year) or against the year, "
        "one line per preset and package, mean and interval over replications.",
    )
    parser.add_argument("store", type=Path, help="a sweep, compare or explore output folder")
    parser.add_argument("--x", required=True, help="'year' or a varied parameter section.name")
    parser.add_argument("--y", required=True, help="a metric, e.g. governance_index")
    parser.add_argument("--year", type=float, help="with a parameter --x: the year (default last)")
    parser.add_argument("--out", type=Path, help="PNG to write (default STORE/figures/Y_vs_X.png)")
    parser.set_defaults(handler=command_plot)


def points(results: pd.DataFrame, x: str, y: str, year: float | None = None) -> pd.DataFrame:
    """Mean and t interval of ``y`` per preset, package and value of ``x``.

    Raises:
        SpecError: ``y`` is not a stored metric, or ``x`` is neither 'year' nor a parameter
            the store varies, or no run reached ``year``.
    """
    metrics = [c for c in results.columns if c in model.metric_units()]
    if y not in metrics:
        raise SpecError(f"--y {y!r} is not a metric of this store{did_you_mean(y, metrics)}")
    varied = [c for c in results.columns if "." in c and results[c].nunique() > 1]
    if x != YEAR and x not in varied:
        options = ", ".join(varied) or "none"
        raise SpecError(
            f"--x {x!r} is not 'year' nor a parameter this store varies"
            f"{did_you_mean(x, [YEAR, *varied])}; varied: {options}"
        )
    if x != YEAR:
        at = results["year"].max() if year is None else year
        results = results[np.isclose(results["year"], at)]
        if results.empty:
            raise SpecError(f"--year {at:g}: no stored row at that year")
    table = (
        results.groupby(["preset", "policy", x], sort=False)[y]
        .agg(n="count", mean="mean", sd="std")
        .reset_index()
        .sort_values(x, kind="stable")
    )
    half = t_half_width(table["sd"].fillna(0.0).to_numpy(), table["n"].to_numpy())
    return table.assign(ci_low=table["mean"] - half, ci_high=table["mean"] + half)


def draw_outcome(
    exploration: tuple[pd.DataFrame, dict], store_dir: Path, x: str, y: str, out: Path | None
) -> Path:
    """An exploration's outcome against one of its inputs: a point per run, coloured by
    preset and package (a sampled design has no lines to draw).

    Args:
        exploration: its experiments table and record (`explore.read_experiments`).
        store_dir: its folder (the figure goes to its figures/ unless ``out``).
        x: an input; y: an outcome.
        out: the PNG to write.

    Raises:
        SpecError: ``x`` is not an input of the exploration.
    """
    table, record = exploration
    inputs = inputs_of(record, table)
    if x not in inputs:
        raise SpecError(
            f"--x {x!r} is not an input of this exploration{did_you_mean(x, inputs)}; "
            f"inputs: {', '.join(inputs)}"
        )
    from smartcity.experiments import figures

    path = _target(out, store_dir, x, y)
    groups = ["preset"] if record["levers"] else ["preset", "title"]
    return figures.plot_outcome(
        table, groups, x, y, figures.exploration_note(record, len(table)), path
    )


def _target(out: Path | None, store_dir: Path, x: str, y: str) -> Path:
    """The figure's file (default STORE/figures/Y_vs_X.png), its folder checked and made."""
    path = out or store_dir / "figures" / f"{y}_vs_{x}.png"
    check_output_dir(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def draw(store_dir: Path, x: str, y: str, year: float | None = None, out: Path | None = None):
    """Draw the figure of a store and return its path: an exploration's outcome (``--y`` a
    column of its experiments table) against an input, else a metric of the runs.

    Raises:
        SpecError: bad --x, --y or --year, or an empty store.
        StoreError: the store is damaged.
    """
    if (store_dir / EXPERIMENTS).is_file():
        exploration = read_experiments(store_dir)
        if y in [o["name"] for o in exploration[1]["outcomes"]]:
            return draw_outcome(exploration, store_dir, x, y, out)
    if not (store_dir / store.MANIFEST).is_file():
        raise SpecError(f"{store_dir} is not a sweep store (no {store.MANIFEST})")
    results = store.load_results(store_dir)
    if results.empty:
        raise SpecError(f"{store_dir} holds no finished run")
    table = points(results, x, y, year)
    from smartcity.experiments import figures

    titles = {p: model.package_title(p) for p in table["policy"].unique()}
    at = "" if x == YEAR else f" at year {year if year is not None else results['year'].max():g}"
    manifest = store.read_manifest(store_dir)
    base = manifest.get("base_parameters", {})
    counts = {
        params.get("citizens.count") for by_policy in base.values() for params in by_policy.values()
    }
    citizens = results["citizens.count"].unique() if "citizens.count" in results else counts
    note = (
        f"{results['replication'].nunique()} replications, "
        f"{', '.join(str(c) for c in sorted(citizens, key=str))} citizens, "
        f"{results['year'].max():g} years; {method_note()}"
    )
    path = _target(out, store_dir, x, y)
    title = f"{y.replace('_', ' ')}{at}"
    return figures.plot_points(table, x, y, titles, model.metric_units(), title, note, path)


def command_plot(args: argparse.Namespace) -> int:
    """Handler of `smartcity plot`."""

    def body() -> int:
        print(draw(args.store, args.x, args.y, args.year, args.out))
        return EXIT_OK

    return guarded("plot", body)

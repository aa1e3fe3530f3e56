"""`smartcity sensitivity`: Morris screening or Sobol indices of model outputs (SALib).

The SALib sample becomes the design points of an ordinary sweep, so sensitivity runs use
the same runner, store, resume and failure handling as any sweep. Each sample row is one
design point with its own seed; replications of a row are averaged before the analysis.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smartcity.experiments import model
from smartcity.experiments.cli_kit import (
    EXIT_OK,
    CommandError,
    add_allow_code_option,
    add_executor_options,
    add_limit_option,
    add_out_option,
    add_record_option,
    add_resume_option,
    execute,
    finish,
    guarded,
    limits_of,
)
from smartcity.experiments.provenance import provenance
from smartcity.experiments.spec import ExperimentSpec, SensitivitySpec, load_spec
from smartcity.experiments.store import load_results

METHODS = ("morris", "sobol")
MORRIS_LEVELS = 4
# Columns written per method, in this order.
INDEX_COLUMNS = {
    "morris": ("mu", "mu_star", "mu_star_conf", "sigma"),
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sensitivity` subcommand; the handler is `args.handler(args) -> exit status`."""
    parser = subparsers.add_parser(
        "sensitivity",
        help="Morris or Sobol sensitivity analysis of a spec's [sensitivity] table",
        description="Sample the parameter bounds of SPEC's [sensitivity] table with SALib, "
        "run the sample, and write index tables (CSV) and a bar plot (PNG) to OUT.",
    )
    parser.add_argument("spec", type=Path, help="experiment spec (TOML) with [sensitivity]")
    parser.add_argument("--method", choices=METHODS, required=True, help="SALib method")
    add_out_option(parser)
    add_executor_options(parser)
    add_allow_code_option(parser)
    add_record_option(parser)
    add_resume_option(parser, "analysis")
    add_limit_option(parser)
    parser.set_defaults(handler=command_sensitivity)


def problem_of(sens: SensitivitySpec) -> dict[str, Any]:
    """Return the SALib problem dict of the varied parameters."""
    names = list(sens.bounds)
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [list(sens.bounds[n]) for n in names],
    }


def draw_sample(sens: SensitivitySpec, method: str) -> np.ndarray:
    """Return the SALib sample matrix (rows = model evaluations)."""
    from SALib.sample import morris as morris_sample  # SALib: only when a study runs
    from SALib.sample import sobol as sobol_sample

    problem = problem_of(sens)
    if method == "morris":
        return morris_sample.sample(problem, sens.samples, num_levels=MORRIS_LEVELS, seed=sens.seed)
    return sobol_sample.sample(problem, sens.samples, calc_second_order=False, seed=sens.seed)


def sample_spec(spec: ExperimentSpec, method: str) -> tuple[ExperimentSpec, np.ndarray]:
    """Return the spec whose design points are the SALib sample, and the sample matrix.

    Integer parameters get rounded values, since the model refuses 3.7 citizens.
    """
    assert spec.sensitivity is not None
    sample = draw_sample(spec.sensitivity, method)
    defaults = model.resolve_point(spec.presets[0], spec.overrides)
    names = list(spec.sensitivity.bounds)
    integer = [
        isinstance(defaults.get(n), int) and not isinstance(defaults[n], bool) for n in names
    ]
    points = [
        {
            name: round(float(value)) if is_int else float(value)
            for name, value, is_int in zip(names, row, integer, strict=True)
        }
        for row in sample
    ]
    metrics = sorted(set(spec.sensitivity.metrics))
    return dataclasses.replace(spec, points=points, metrics=metrics, keep_every=1), sample


def outputs(results: pd.DataFrame, metric: str, statistic: str, points: int) -> pd.DataFrame:
    """Return the output per (preset, policy) x design point, averaged over replications.

    Args:
        results: stored runs.
        metric: output metric.
        statistic: "final" (last step) or "last_year_mean" (the last year's steps).
        points: number of design points; a missing run leaves NaN in its row.

    Returns:
        A frame indexed by design point with one column per (preset, policy).
    """
    last_year = results.groupby("run_id")["year"].transform("max")
    if statistic == "final":
        rows = results[results["year"] == last_year]
    else:
        rows = results[results["year"] > last_year - 1]
    per_run = rows.groupby(["preset", "policy", "design_point", "replication"])[metric].mean()
    per_point = per_run.groupby(["preset", "policy", "design_point"]).mean()
    table = per_point.unstack(["preset", "policy"])
    return table.reindex(range(points))


def analyse(
    spec: ExperimentSpec, method: str, sample: np.ndarray, results: pd.DataFrame
) -> pd.DataFrame:
    """Run the SALib analysis for every output metric and every preset/policy.

    Returns:
        One row per (preset, policy, metric, parameter) with the method's index columns.

    Raises:
        CommandError: a run is missing (failed), so the sample is incomplete.
    """
    from SALib.analyze import morris as morris_analyze  # SALib: only when a study runs
    from SALib.analyze import sobol as sobol_analyze

    sens = spec.sensitivity
    assert sens is not None
    problem = problem_of(sens)
    rows = []
    for metric in sens.metrics:
        table = outputs(results, metric, sens.statistic, len(spec.points))
        for (preset, policy), y in table.items():
            values = y.to_numpy(dtype=float)
            if np.isnan(values).any():
                missing = int(np.isnan(values).sum())
                raise CommandError(
                    f"{missing} sample points of {preset}/{policy} have no result "
                    "(failed runs, see failed.jsonl); cannot compute indices"
                )
            if method == "morris":
                result = morris_analyze.analyze(
                    problem, sample, values, num_levels=MORRIS_LEVELS, seed=sens.seed
                )
            else:
                result = sobol_analyze.analyze(
                    problem, values, calc_second_order=False, seed=sens.seed
                )
            for i, name in enumerate(problem["names"]):
                row = {"preset": preset, "policy": policy, "metric": metric, "parameter": name}
                row.update({c: float(result[c][i]) for c in INDEX_COLUMNS[method]})
                rows.append(row)
    return pd.DataFrame(rows)


# What each column of an index table means (written into indices_<method>.json).
COLUMN_MEANINGS = {
    "preset": "city preset",
    "policy": "policy package (name)",
    "metric": "model output analysed",
    "unit": "unit of the metric; mu, mu_star, mu_star_conf and sigma are in it",
    "parameter": "varied parameter (section.name)",
    "mu": "Morris: mean elementary effect (metric unit per unit of the parameter's range)",
    "mu_star": "Morris: mean absolute elementary effect (influence, metric unit)",
    "mu_star_conf": "Morris: half width of the bootstrap 95% interval of mu_star",
    "sigma": "Morris: standard deviation of the elementary effects (interactions, non-linearity)",
    "S1": "Sobol: first-order index (share of output variance from the parameter alone)",
    "S1_conf": "Sobol: half width of the bootstrap 95% interval of S1",
    "ST": "Sobol: total-order index (share including all its interactions)",
    "ST_conf": "Sobol: half width of the bootstrap 95% interval of ST",
}


def analysis_record(spec: ExperimentSpec, method: str) -> dict[str, Any]:
    """What an index table rests on: method, levels, sample, statistic, units, versions."""
    from importlib.metadata import version

    sens = spec.sensitivity
    assert sens is not None
    units = model.metric_units()
    return {
        "method": {"morris": "Morris elementary effects (SALib)",
                   "sobol": "Sobol indices, Saltelli sampling, no second order (SALib)"}[method],
        "levels": MORRIS_LEVELS if method == "morris" else None,
        "base_samples": sens.samples,
        "evaluations": len(spec.points),
        "replications": spec.replications,
        "statistic": sens.statistic,
        "sampler_seed": sens.seed,
        "bounds": {key: list(bound) for key, bound in sens.bounds.items()},
        "units": {metric: units.get(metric, "") for metric in sens.metrics},
        "columns": {c: COLUMN_MEANINGS[c] for c in ("preset", "policy", "metric", "unit",
                                                      "parameter", *INDEX_COLUMNS[method])},
        "salib_version": version("SALib"),
        "provenance": provenance(),
    }  # fmt: skip


def write_outputs(
    indices: pd.DataFrame, method: str, out: Path, spec: ExperimentSpec | None = None
) -> list[Path]:
    """Write the index table (CSV) with the metric's unit, its bar plot (PNG) and, given the
    spec, the analysis record (JSON: method, levels, units, library version, what each
    column means); return the paths."""
    from smartcity.experiments import figures  # matplotlib: only when figures are drawn

    table_path = out / f"indices_{method}.csv"
    units = model.metric_units()
    indices = indices.copy()
    indices.insert(indices.columns.get_loc("metric") + 1, "unit", indices["metric"].map(units))
    indices.to_csv(table_path, index=False)
    plot_path = out / f"indices_{method}.png"
    if method == "morris":
        figures.plot_indices_bars(
            indices, "mu_star", "mu_star_conf", plot_path, "Morris screening: mu* per parameter"
        )
    else:
        figures.plot_indices_bars(
            indices, "ST", "ST_conf", plot_path, "Sobol indices", second=("S1", "S1_conf")
        )
    written = [table_path, plot_path]
    if spec is not None:
        written.append(out / f"indices_{method}.json")
        text = json.dumps(analysis_record(spec, method), indent=2, sort_keys=True, default=str)
        written[-1].write_text(text + "\n", encoding="utf-8")
    return written


def command_sensitivity(args: argparse.Namespace) -> int:
    """Handler of `smartcity sensitivity`."""

    def body() -> int:
        spec = dataclasses.replace(
            load_spec(args.spec, allow_code=args.allow_code, limits=limits_of(args)),
            record=args.record,
        )
        if spec.sensitivity is None:
            raise CommandError(f"{args.spec} has no [sensitivity] table")
        if spec.sensitivity.statistic == "last_year_mean" and args.record != "step":
            raise CommandError(
                "statistic last_year_mean averages every step of the last year: use "
                "--record step (the default) or statistic final"
            )
        sampled, sample = sample_spec(spec, args.method)
        report = execute(
            sampled,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            resume=args.resume,
            name="sensitivity",
        )
        status = finish("sensitivity", report, args.out)
        if status is not None:
            return status
        indices = analyse(sampled, args.method, sample, load_results(args.out))
        for path in write_outputs(indices, args.method, args.out, sampled):
            print(path)
        return EXIT_OK

    return guarded("sensitivity", body)

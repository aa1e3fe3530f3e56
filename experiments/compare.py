"""The comparison of `smartcity compare`: mature and emerging cities, replicated.

Runs each preset under each policy package for N replications through the sweep runner,
and summarizes them (mean and t-based 95% interval per preset, policy, metric, year; paired
differences to the baseline; the fit of each path to each city). The command's options
and outputs are `compare_command`, its tables and figures `figures`. Replication r uses
the same seed under every preset and policy (the seed key is (design point,
replication)), so the compared paths share their random numbers.

Two questions can be asked (``--budget``): ``package`` runs every package on its own
budget, and the differences table shows each path's extra public spending and each
difference per 100 M of it; ``equal`` gives every package, baseline included, the same
public-spending envelope (parameter government.budget = "equal"), so the differences are
what a path does with the same money as conventional programmes would.

Two designs (``--design``): ``own`` runs each preset under the baseline, the placebo and
its own development paths (the packages whose ``home`` is the preset's city.type); ``cross``
runs every development path on every preset, at equal budget unless ``--budget`` says
otherwise, so a path's fit to a city (white paper 5.1) can be read off: ``fit.csv`` and the
fit-matrix figure show each path's change against the baseline on each preset, with the
path's home city type and whether the cell is an own-city cell.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from smartcity.experiments import model
from smartcity.experiments.limits import DEFAULT_LIMITS, Limits
from smartcity.experiments.spec import ExperimentSpec, parse_spec
from smartcity.simulation.world.statistics import t_half_width

# Tuned so `make demo` finishes in a few minutes on 2 cores with the default city.
DEFAULT_PRESETS = ("mature", "emerging")
DEFAULT_REPLICATIONS = 5
DEFAULT_YEARS = 20
DEFAULT_ROOT_SEED = 20260101
PLACEBO_POLICY = "placebo"
BUDGETS = ("package", "equal")
DESIGNS = ("own", "cross")
DESIGN_BUDGET = {"own": "package", "cross": "equal"}  # default budget of each design
FIT_METRICS = ("demand_advancement_index", "industrial_transition_index", "governance_index",
               "gdp_per_capita")  # fmt: skip
SPENDING_METRIC = "public_spending"
PER_SPENDING = 100.0  # M of extra public spending per which differences are also reported
MIN_EXTRA_SPENDING = 10.0  # M; smaller extra spending gets no per-100 M figure
# Fallback when the model does not report its time resolution.
STEPS_PER_YEAR = 12
HEADLINE_METRICS = ("gdp_per_capita", "population", "digital_economy_share", "congestion_index")
GROUP = ["preset", "policy", "metric", "step", "year"]
NON_METRIC_COLUMNS = {"run_id", "design_point", "replication", "seed_entropy", "step", "year"}


def compare_spec(
    *,
    presets: Sequence[str],
    policies: Sequence[str] | None,
    replications: int,
    years: int,
    root_seed: int,
    overrides: dict[str, Any],
    allow_code: bool = False,
    budget: str | None = None,
    design: str = "own",
    limits: Limits = DEFAULT_LIMITS,
) -> ExperimentSpec:
    """Return the validated spec of a comparison (yearly rows kept, all metrics).

    Without `policies`, each preset runs the baseline, the placebo control and, by
    `design`, its own development paths ("own": packages whose home is the preset's
    city.type, white paper 5.1) or every development path ("cross"); with them, every
    preset runs those. `budget` "equal" sets government.budget = "equal" for every run (an
    explicit override of it wins); None takes the design's default (DESIGN_BUDGET).
    """
    if design not in DESIGNS:
        raise model.InputError(f"design '{design}' is not allowed; use one of {', '.join(DESIGNS)}")
    budget = DESIGN_BUDGET[design] if budget is None else budget
    if budget not in BUDGETS:
        raise model.InputError(f"budget '{budget}' is not allowed; use one of {', '.join(BUDGETS)}")
    overrides = {"government.budget": budget, **overrides}
    controls = [model.BASELINE_POLICY, PLACEBO_POLICY]
    paths = (
        list(policies)
        if policies is not None
        else {
            preset: [
                *controls,
                *(model.development_paths() if design == "cross" else model.own_paths(preset)),
            ]
            for preset in presets
        }
    )
    spec = parse_spec(
        {
            "name": "compare",
            "presets": list(presets),
            "policies": paths,
            "replications": replications,
            "years": years,
            "root_seed": root_seed,
            "overrides": overrides,
        },
        allow_code=allow_code,
        limits=limits,
    )
    resolved = model.resolve_point(spec.presets[0], spec.point_overrides(0))
    return dataclasses.replace(
        spec,
        # Typed values (--set gives text), so tables and run ids hold 2000, not "2000".
        overrides={key: resolved[key] for key in overrides},
        # One row per simulated year is enough for yearly tables and keeps the store small.
        keep_every=int(resolved.get("simulation.steps_per_year", STEPS_PER_YEAR)),
    )


def metric_columns(results: pd.DataFrame) -> list[str]:
    """Return the metric columns of a results table (numeric, not identity, not overrides)."""
    return [
        c
        for c in results.columns
        if c not in NON_METRIC_COLUMNS
        and "." not in c
        and c not in ("preset", "policy")
        and pd.api.types.is_numeric_dtype(results[c])
    ]


def summarize(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t-based confidence interval over replications.

    Args:
        results: the stored runs (one row per run and kept step).
        confidence: interval coverage.

    Returns:
        One row per (preset, policy, metric, step, year): n, mean, sd, ci_low, ci_high.
        With a single replication the interval is the mean itself (no spread to show).
    """
    metrics = metric_columns(results)
    long = results.melt(
        id_vars=["preset", "policy", "replication", "step", "year"],
        value_vars=metrics,
        var_name="metric",
    )
    grouped = long.groupby(GROUP, sort=False)["value"]
    table = grouped.agg(n="count", mean="mean", sd="std").reset_index()
    half = t_half_width(table["sd"].to_numpy(), table["n"].to_numpy(), confidence)
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    return table


PAIR_KEYS = ["preset", "replication", "step", "year"]  # what a run and its baseline share


def minus_baseline(results: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Every non-baseline row with `columns` minus those of the baseline run on the same
    preset and replication (same seed) at the same step."""
    is_base = results["policy"] == model.BASELINE_POLICY
    base = results.loc[is_base, [*PAIR_KEYS, *columns]]
    paired = results.loc[~is_base, ["policy", *PAIR_KEYS, *columns]].merge(
        base, on=PAIR_KEYS, suffixes=("", "__baseline")
    )
    for column in columns:
        paired[column] = paired[column] - paired.pop(f"{column}__baseline")
    return paired


def paired_differences(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Each package minus the baseline on the same preset and replication, summarized.

    Replication r of a package and of the baseline share their seed, so their difference
    removes the randomness they share: its interval is usually much narrower than the
    overlap of the two separate intervals suggests.

    Returns:
        Rows as in `summarize`, for every package other than the baseline; empty when the
        results hold no baseline or no other package.
    """
    metrics = metric_columns(results)
    is_base = results["policy"] == model.BASELINE_POLICY
    if is_base.all() or not is_base.any():
        return pd.DataFrame()
    table = summarize(minus_baseline(results, metrics), confidence)
    if SPENDING_METRIC not in metrics:
        return table
    spending = table.loc[table["metric"] == SPENDING_METRIC, [*GROUP[:2], *GROUP[3:], "mean"]]
    table = table.merge(
        spending.rename(columns={"mean": "extra_spending"}), on=[*GROUP[:2], *GROUP[3:]]
    )
    # Per 100 M only where the path spent at least MIN_EXTRA_SPENDING more (or less) than
    # the baseline: below it the ratio divides noise by almost nothing.
    extra = table["extra_spending"].where(table["extra_spending"].abs() >= MIN_EXTRA_SPENDING)
    table[f"per_{PER_SPENDING:g}M"] = table["mean"] / extra * PER_SPENDING
    return table


def fit_table(differences: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Each path's final-year change against the baseline on each preset, with its fit label.

    Returns:
        One row per (preset, package, metric in FIT_METRICS): the package's home city type
        (its ``home`` field; empty for controls), the preset's city type, whether the cell
        is an own-city cell, the paired difference with its 95% interval, the package's
        cumulative public spending (mean, M) and, where the path spent more than
        MIN_EXTRA_SPENDING beyond the baseline, the difference per 100 M of extra spending.
    """
    last = differences[differences["step"] == differences["step"].max()]
    last = last[last["metric"].isin(FIT_METRICS)]
    spent = horizon_table(summary)
    spent = spent.loc[spent["metric"] == SPENDING_METRIC, ["preset", "policy", "mean"]]
    table = last.merge(spent.rename(columns={"mean": "public_spending"}), on=["preset", "policy"])
    homes = {p: model.package_home(p) or "" for p in table["policy"].unique()}
    types = {p: model.city_type(p) for p in table["preset"].unique()}
    per = f"per_{PER_SPENDING:g}M"
    columns = ["preset", "city_type", "package", "home", "own", "metric", "mean", "ci_low",
               "ci_high", "public_spending", "extra_spending", per]  # fmt: skip
    table = table.rename(columns={"policy": "package"})
    table["home"] = table["package"].map(homes)
    table["city_type"] = table["preset"].map(types)
    table["own"] = table["home"] == table["city_type"]
    for column in ("extra_spending", per):
        if column not in table:
            table[column] = np.nan
    return table[columns].reset_index(drop=True)


def own_lead(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per preset, how far its own paths lead the other type's paths at the horizon, paired.

    In each replication: the mean over the preset's own paths (package ``home`` = the
    preset's city type) of the mean change of the three development indices against the
    baseline, the same over the other type's paths, and their difference (the lead). The
    replications share their seeds across packages, so the lead's interval is paired.

    Returns:
        Rows as in `summarize` (policy "own - other") for the metrics ``own_paths``,
        ``other_paths`` and ``lead``, at the final step; empty unless some preset ran both
        its own and the other type's paths beside the baseline.
    """
    last = results[results["step"] == results.groupby("preset")["step"].transform("max")]
    indices = [m for m in model.INDEX_METRICS if m in last]
    change = minus_baseline(last.assign(change=last[indices].mean(axis=1)), ["change"])
    table = lead_of_own_paths(change, PAIR_KEYS, "change")
    if table.empty:
        return table
    table = table.assign(policy="own - other")
    columns = ["preset", "policy", *PAIR_KEYS[1:], "own_paths", "other_paths", "lead"]
    return summarize(table[columns], confidence)


def lead_of_own_paths(change: pd.DataFrame, keys: Sequence[str], value: str) -> pd.DataFrame:
    """Per ``keys`` (a preset and what pairs its runs): the mean ``value`` over the preset's
    own paths (package ``home`` = the preset's city type), the same over the other type's
    paths, and the lead of the first over the second (white paper 5.1).

    Packages without a home (the controls) are left out.

    Returns:
        Columns ``keys``, ``other_paths``, ``own_paths``, ``lead``; empty unless some preset
        ran both its own and the other type's paths.
    """
    homes = {p: model.package_home(p) for p in change["policy"].unique()}
    types = {p: model.city_type(p) for p in change["preset"].unique()}
    change = change.assign(home=change["policy"].map(homes)).dropna(subset=["home"])
    change["own"] = change["home"] == change["preset"].map(types)
    groups = change.groupby([*keys, "own"])[value].mean().unstack("own")
    if not {True, False} <= set(groups.columns):
        return pd.DataFrame()
    groups = groups.dropna().rename(columns={True: "own_paths", False: "other_paths"})
    groups["lead"] = groups["own_paths"] - groups["other_paths"]
    return groups.rename_axis(columns=None).reset_index()


def horizon_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Return the summary rows at the final step of each preset and policy."""
    last = summary.groupby(["preset", "policy"], sort=False)["step"].transform("max")
    return summary[summary["step"] == last].reset_index(drop=True)


def package_labels(policies: Sequence[str], allow_code: bool = False) -> dict[str, str]:
    """{package as run: its title}; a user's package is labelled by its title (or its name),
    never by its file path."""
    return {p: model.package_title(p, allow_code) for p in policies}


def labelled(table: pd.DataFrame, column: str = "policy", allow_code: bool = False) -> pd.DataFrame:
    """A table for the reader: ``column`` holds each package's name (never a path) and a
    ``title`` column after it holds its title."""
    if column not in table or table.empty:
        return table
    runs = list(table[column].unique())
    titles = package_labels(runs, allow_code)
    names = {p: model.package_name(p, allow_code) for p in runs}
    table = table.copy()
    table.insert(table.columns.get_loc(column) + 1, "title", table[column].map(titles))
    table[column] = table[column].map(names)
    return table

"""Experiment specifications: the TOML file that describes a sweep, and its validation.

A spec is checked completely before anything runs or anything is written: its sizes against
the limits (experiments.limits) before any design point is built -- a grid's names are
checked and its size counted before it is expanded -- then every design point is resolved
by the model's own parameter validation, so a typo in a parameter name fails in a second
with a did-you-mean instead of after an hour of runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from smartcity.experiments import model
from smartcity.experiments.limits import DEFAULT_LIMITS, Limits
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.schema import (
    Number,
    Schema,
    choices_text,
    did_you_mean,
    read_toml,
    validate,
)

STATISTICS = ("final", "last_year_mean")
# Seeds are stored in int64 Parquet columns.
MAX_ROOT_SEED = 2**63 - 1

Scalar = bool | int | float | str
# A table of "section.name" = value: quoted keys, or dotted bare keys (citizens.x = 1),
# which TOML turns into nested tables.
Overrides = dict[str, Scalar | dict[str, Scalar]]
Values = Annotated[list[Scalar], Field(min_length=1)]
Bound = Annotated[tuple[Number, Number], Field(strict=False)]
MetricName = Literal[tuple(model.metric_units())]
Names = str | list[str]


class SensitivityTable(Schema):
    """The ``[sensitivity]`` table of a spec."""

    bounds: dict[str, Bound | dict[str, Bound]] = Field(
        description='"section.name" = [low, high] for each varied parameter (two or more)'
    )
    samples: Annotated[int, Field(ge=2, description="SALib base sample size N")]
    metrics: list[MetricName]
    statistic: Literal[STATISTICS] = "final"
    seed: Annotated[int, Field(ge=0, description="seed of the SALib sampler")] = 0


class SpecSchema(Schema):
    """An experiment spec file (the sweep spec file format)."""

    name: str = ""
    presets: Names = Field(description="city presets: shipped names or preset .toml paths")
    policies: Names | dict[str, Names] = Field(
        default="baseline",
        description="policy packages run on every preset, or a table {preset = [packages]}",
    )
    grid: dict[str, Values | dict[str, Values]] | None = None
    samples: list[Overrides] | None = None
    overrides: Overrides = Field(default_factory=dict)
    replications: Annotated[int, Field(ge=1)] = 1
    root_seed: Annotated[int, Field(ge=0, le=MAX_ROOT_SEED)]
    years: Annotated[int, Field(ge=1)]
    metrics: list[MetricName] | None = None
    keep_every: Annotated[int, Field(ge=1)] = 1
    sensitivity: SensitivityTable | None = None


class SpecError(InputError):
    """An invalid experiment spec; str() is one line naming the problem."""


@dataclass(frozen=True)
class SensitivitySpec:
    """The `[sensitivity]` table: what to vary, how much to sample, what to measure.

    Attributes:
        bounds: {"section.name": (low, high)} for each varied parameter.
        samples: SALib base sample size N (Morris trajectories, Sobol base samples).
        metrics: output metrics to analyse.
        statistic: "final" (value at the last step) or "last_year_mean" (mean of the last
            12 steps).
        seed: seed of the SALib sampler, so the sample design is reproducible too.
    """

    bounds: dict[str, tuple[float, float]]
    samples: int
    metrics: list[str]
    statistic: str = "final"
    seed: int = 0


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment.

    Attributes:
        presets: city presets to run.
        policies: {preset: policy packages run on that preset}.
        points: parameter points (override dicts), the design points of the seed scheme.
        replications: runs per (point, preset, policy); replication r has the same seed
            under every preset and policy.
        root_seed: entropy of every run's SeedSequence.
        years: simulated years per run.
        metrics: metric columns to keep; None keeps all.
        keep_every: keep one row every this many steps (the final step is always kept).
        overrides: fixed overrides applied under every point.
        name: free-text label.
        sensitivity: the `[sensitivity]` table, if any.
        allow_code: let policy packages run Python classes (`--allow-code`; never set
            by the spec file itself).
        record: which steps the model computes metrics for (`--record`: "step", "yearly"
            or every N steps; simulation.model.recording); with "step" the model computes
            only the rows keep_every keeps. Not set by the spec file.
    """

    presets: list[str]
    policies: dict[str, list[str]]
    points: list[dict[str, Any]]
    replications: int
    root_seed: int
    years: int
    metrics: list[str] | None = None
    keep_every: int = 1
    overrides: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    sensitivity: SensitivitySpec | None = None
    allow_code: bool = False
    record: str | int = "step"

    def pairs(self) -> list[tuple[str, str]]:
        """Return every (preset, policy) of the experiment, presets in spec order."""
        return [(preset, policy) for preset in self.presets for policy in self.policies[preset]]

    def point_overrides(self, index: int) -> dict[str, Any]:
        """Return the full overrides of design point `index` (fixed overrides + point)."""
        return {**self.overrides, **self.points[index]}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the spec, recorded in the store manifest."""
        return asdict(self)


def load_spec(
    path: str | Path, *, allow_code: bool = False, limits: Limits = DEFAULT_LIMITS
) -> ExperimentSpec:
    """Read and validate a TOML spec file.

    Raises:
        SpecError: the file is missing, not UTF-8 TOML, or describes an invalid experiment.
        InputError: the spec asks for more runs or steps than ``limits`` allow.
    """
    raw = read_toml(path, "spec", SpecError)
    return parse_spec(raw, str(path), allow_code=allow_code, limits=limits)


def parse_spec(
    raw: Mapping[str, Any],
    source: str = "spec",
    *,
    allow_code: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> ExperimentSpec:
    """Validate a spec given as a mapping (the parsed TOML).

    Raises:
        SpecError: the spec is invalid; the message names the key and what is allowed.
        InputError: the spec asks for more runs or steps than ``limits`` allow (checked
            before any design point is built).
    """
    table = validate(SpecSchema, raw, source, SpecError)
    presets = _names(table.presets, "presets", model.preset_names(), "preset", model.is_preset)
    policies = _policies(table.policies, presets)
    metrics = None
    if table.metrics is not None:
        metrics = _names(table.metrics, "metrics", list(model.metric_units()), "metric")
    sensitivity = _sensitivity(table.sensitivity) if table.sensitivity is not None else None
    _check_sizes(table, source, sum(len(policies[p]) for p in presets), limits)
    spec = ExperimentSpec(
        presets=presets,
        policies=policies,
        points=_points(table),
        replications=table.replications,
        root_seed=table.root_seed,
        years=table.years,
        metrics=metrics,
        keep_every=table.keep_every,
        overrides=flat_table(table.overrides),
        name=table.name,
        sensitivity=sensitivity,
        allow_code=allow_code,
    )
    validate_points(spec)
    return spec


def validate_points(spec: ExperimentSpec) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Resolve every (preset, policy, design point) with the model's own validation.

    Returns:
        {(preset, policy, point index): flat resolved parameters}.

    Raises:
        SpecError: the model refuses a design point or a policy package (its message).
    """
    resolved = {}
    for preset, policy in spec.pairs():
        try:
            model.check_policy(policy, spec.years, spec.allow_code)
        except model.InputError as exc:
            raise SpecError(f"policy {policy!r}: {exc}") from None
        for index in range(len(spec.points)):
            try:
                resolved[preset, policy, index] = model.resolve_point(
                    preset, spec.point_overrides(index), policy, spec.allow_code
                )
            except model.InputError as exc:
                raise SpecError(
                    f"design point {index} on preset {preset!r}, policy {policy!r}: {exc}"
                ) from None
    return resolved


def _names(
    value: str | list[str],
    key: str,
    known: list[str],
    what: str,
    accept: Callable[[str], bool] | None = None,
) -> list[str]:
    names = [value] if isinstance(value, str) else list(value)
    if not names:
        raise SpecError(f"{key!r} is empty; give at least one {what}")
    for name in names:
        if name not in known and not (accept and accept(name)):
            hint = did_you_mean(name, known)
            also = " or a path to a .toml file" if accept else ""
            raise SpecError(f"unknown {what} {name!r}{hint}; {choices_text(name, known)}{also}")
    if len(set(names)) != len(names):
        raise SpecError(f"{key!r} lists a {what} twice: {names!r}")
    return names


def _policies(value: str | list[str] | dict[str, Any], presets: list[str]) -> dict[str, list[str]]:
    """Read `policies`: a list run on every preset, or a table {preset: list}.

    In the table form a preset without an entry runs the baseline alone.
    """
    known = model.policy_names()
    if isinstance(value, dict):
        for preset in value:
            if preset not in presets:
                hint = did_you_mean(preset, presets)
                raise SpecError(
                    f"[policies] names preset {preset!r}{hint}, which is not in 'presets'"
                )
        return {
            preset: _names(
                value.get(preset, model.BASELINE_POLICY), "policies", known, "policy",
                model.is_policy,
            )
            for preset in presets
        }  # fmt: skip
    names = _names(value, "policies", known, "policy", model.is_policy)
    return {preset: list(names) for preset in presets}


def flat_table(value: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten a validated table into {"section.name": value} (quoted or dotted keys)."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            flat.update({f"{key}.{sub_key}": sub_item for sub_key, sub_item in item.items()})
        else:
            flat[key] = item
    return flat


def _check_sizes(table: SpecSchema, source: str, pairs: int, limits: Limits) -> None:
    """Refuse a spec whose runs or steps exceed the limits, before any point is built.

    A grid's names are checked first (a misspelt name is reported, not a grid of it
    expanded), then its size is the product of its lists' lengths.
    """
    if table.grid is not None:
        known = model.parameter_names()
        for key in flat_table(table.grid):
            if key.replace("__", ".") not in known:
                raise SpecError(
                    f"{source}: [grid] names unknown parameter {key!r}{did_you_mean(key, known)}"
                )
        lengths = [len(values) for values in flat_table(table.grid).values()]
        points, how = math.prod(lengths), " x ".join(map(str, lengths)) + " grid points"
    elif table.samples is not None:
        points, how = len(table.samples), "samples"
    elif table.sensitivity is not None:
        # Morris draws N x (k + 1) rows, Sobol (first and total order) N x (k + 2).
        k = len(flat_table(table.sensitivity.bounds))
        points = table.sensitivity.samples * (k + 2)
        how = f"sensitivity samples ({table.sensitivity.samples:,} x {k + 2})"
    else:
        points, how = 1, "design point"
    limits.check(
        "runs",
        points * table.replications * pairs,
        f"{source}: {points:,} {how} x {table.replications:,} replication(s) x {pairs} "
        "preset/policy pair(s)",
    )
    try:
        per_year = max(
            model.resolve_point(preset, flat_table(table.overrides))["simulation.steps_per_year"]
            for preset in ([table.presets] if isinstance(table.presets, str) else table.presets)
        )
    except InputError:
        return  # a bad override: validate_points names it with its design point
    limits.check(
        "steps",
        table.years * per_year,
        f"{source}: {table.years:,} years x {per_year} steps per year",
    )


def _points(table: SpecSchema) -> list[dict[str, Any]]:
    if table.sensitivity is not None:
        for key in ("grid", "samples"):
            if getattr(table, key) is not None:
                raise SpecError(f"a spec with [sensitivity] draws its own samples; remove [{key}]")
        # The sensitivity command replaces this by the SALib sample.
        return [{}]
    if table.grid is not None and table.samples is not None:
        raise SpecError("give either [grid] or [[samples]], not both")
    if table.grid is not None:
        grid = flat_table(table.grid)
        if not grid:
            raise SpecError('[grid] is empty; give at least one "section.name" = [values]')
        keys = list(grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
    if table.samples is not None:
        if not table.samples:
            raise SpecError("[[samples]] is empty; give at least one sample")
        return [flat_table(sample) for sample in table.samples]
    return [{}]


def _sensitivity(table: SensitivityTable) -> SensitivitySpec:
    bounds = flat_table(table.bounds)
    if len(bounds) < 2:
        raise SpecError("[sensitivity.bounds] needs at least two parameters = [low, high]")
    for key, (low, high) in bounds.items():
        if not low < high:
            raise SpecError(f"sensitivity bound {key!r} needs low < high, got [{low}, {high}]")
    metrics = _names(table.metrics, "metrics", list(model.metric_units()), "metric")
    return SensitivitySpec(bounds, table.samples, metrics, table.statistic, table.seed)

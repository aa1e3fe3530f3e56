"""Experiment specifications: the TOML file that describes a sweep, and its validation.

A spec is checked completely before anything runs or anything is written: every design point
is resolved by the model's own parameter validation, so a typo in a parameter name fails in
a second with a did-you-mean instead of after an hour of runs.
"""

from __future__ import annotations

import difflib
import itertools
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smartcity.experiments import model

TOP_LEVEL_KEYS = (
    "name",
    "presets",
    "policies",
    "grid",
    "samples",
    "overrides",
    "replications",
    "root_seed",
    "years",
    "metrics",
    "keep_every",
    "sensitivity",
)
SENSITIVITY_KEYS = ("bounds", "samples", "metrics", "statistic", "seed")
STATISTICS = ("final", "last_year_mean")
# Seeds are stored in int64 Parquet columns.
MAX_ROOT_SEED = 2**63 - 1


class SpecError(ValueError):
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

    def pairs(self) -> list[tuple[str, str]]:
        """Return every (preset, policy) of the experiment, presets in spec order."""
        return [(preset, policy) for preset in self.presets for policy in self.policies[preset]]

    def point_overrides(self, index: int) -> dict[str, Any]:
        """Return the full overrides of design point `index` (fixed overrides + point)."""
        return {**self.overrides, **self.points[index]}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the spec, recorded in the store manifest."""
        return asdict(self)


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and validate a TOML spec file.

    Raises:
        SpecError: the file is missing, not TOML, or describes an invalid experiment.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"spec file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec file {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"spec file {str(path)!r} is not valid TOML: {_one_line(exc)}") from None
    return parse_spec(raw)


def parse_spec(raw: Mapping[str, Any]) -> ExperimentSpec:
    """Validate a spec given as a mapping (the parsed TOML).

    Raises:
        SpecError: the spec is invalid; the message names the key and what is allowed.
    """
    _check_keys(raw, TOP_LEVEL_KEYS, "spec")
    presets = _names(
        raw, "presets", model.preset_names(), "preset", required=True, accept=model.is_preset
    )
    policies = _policies(raw.get("policies", [model.BASELINE_POLICY]), presets)
    replications = _int(raw, "replications", default=1, low=1)
    root_seed = _int(raw, "root_seed", required=True, low=0, high=MAX_ROOT_SEED)
    years = _int(raw, "years", required=True, low=1)
    keep_every = _int(raw, "keep_every", default=1, low=1)
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise SpecError(f"'name' must be a string, got {name!r}")
    units = model.metric_units()
    metrics = None
    if "metrics" in raw:
        metrics = _names(raw, "metrics", list(units), "metric", required=True)
    overrides = _flat_table(raw.get("overrides", {}), "overrides")
    sensitivity = _sensitivity(raw["sensitivity"], units) if "sensitivity" in raw else None
    points = _points(raw, sensitivity is not None)
    spec = ExperimentSpec(
        presets=presets,
        policies=policies,
        points=points,
        replications=replications,
        root_seed=root_seed,
        years=years,
        metrics=metrics,
        keep_every=keep_every,
        overrides=overrides,
        name=name,
        sensitivity=sensitivity,
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
        for index in range(len(spec.points)):
            try:
                resolved[preset, policy, index] = model.resolve_point(
                    preset, spec.point_overrides(index), policy
                )
            except model.InputError as exc:
                raise SpecError(
                    f"design point {index} on preset {preset!r}, policy {policy!r}: {exc}"
                ) from None
    return resolved


def did_you_mean(word: str, choices: list[str]) -> str:
    """Return ' (did you mean X?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            hint = did_you_mean(key, list(allowed))
            raise SpecError(f"unknown key {key!r} in {where}{hint}; allowed: {', '.join(allowed)}")


def _int(
    raw: Mapping[str, Any],
    key: str,
    *,
    default: int | None = None,
    required: bool = False,
    low: int | None = None,
    high: int | None = None,
) -> int:
    if key not in raw:
        if required:
            raise SpecError(f"missing required key {key!r} (an integer)")
        assert default is not None
        return default
    value = raw[key]
    # bool is an int subclass; `replications = true` is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise SpecError(f"{key!r} must be an integer, got {value!r}")
    if low is not None and value < low:
        raise SpecError(f"{key!r} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise SpecError(f"{key!r} must be <= {high}, got {value}")
    return value


def _names(
    raw: Mapping[str, Any],
    key: str,
    known: list[str],
    what: str,
    *,
    default: list[str] | None = None,
    required: bool = False,
    accept: Callable[[str], bool] | None = None,
) -> list[str]:
    if key not in raw:
        if required:
            raise SpecError(f"missing required key {key!r} (a list of {what} names)")
        return list(default or [])
    value = raw[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{key!r} must be a list of {what} names, got {value!r}")
    if not value:
        raise SpecError(f"{key!r} is empty; give at least one {what}")
    for name in value:
        if name not in known and not (accept and accept(name)):
            hint = did_you_mean(name, known)
            also = " or a path to a preset .toml file" if accept else ""
            raise SpecError(f"unknown {what} {name!r}{hint}; known: {', '.join(known)}{also}")
    if len(set(value)) != len(value):
        raise SpecError(f"{key!r} lists a {what} twice: {value!r}")
    return list(value)


def _policies(value: Any, presets: list[str]) -> dict[str, list[str]]:
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
                {"policies": value.get(preset, [model.BASELINE_POLICY])},
                "policies",
                known,
                "policy",
                accept=model.is_policy,
            )
            for preset in presets
        }
    names = _names({"policies": value}, "policies", known, "policy", accept=model.is_policy)
    return {preset: list(names) for preset in presets}


def _flat_table(value: Any, where: str) -> dict[str, Any]:
    """Flatten a TOML table into {"section.name": value}.

    Quoted keys ("citizens.x" = 1) and dotted bare keys (citizens.x = 1, which TOML turns
    into nested tables) both mean the same override.
    """
    if not isinstance(value, dict):
        raise SpecError(f'[{where}] must be a table of "section.name" = value, got {value!r}')
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            for sub_key, sub_item in _flat_table(item, where).items():
                flat[f"{key}.{sub_key}"] = sub_item
        else:
            flat[key] = item
    return flat


def _scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


def _points(raw: Mapping[str, Any], has_sensitivity: bool) -> list[dict[str, Any]]:
    if has_sensitivity:
        for key in ("grid", "samples"):
            if key in raw:
                raise SpecError(f"a spec with [sensitivity] draws its own samples; remove [{key}]")
        # The sensitivity command replaces this by the SALib sample.
        return [{}]
    if "grid" in raw and "samples" in raw:
        raise SpecError("give either [grid] or [[samples]], not both")
    if "grid" in raw:
        grid = _flat_table(raw["grid"], "grid")
        if not grid:
            raise SpecError('[grid] is empty; give at least one "section.name" = [values]')
        for key, values in grid.items():
            if not isinstance(values, list):
                raise SpecError(f"grid {key!r} must be a list of values, got {values!r}")
            if not values:
                raise SpecError(f"grid {key!r} has no values; give at least one")
            if not all(_scalar(v) for v in values):
                raise SpecError(f"grid {key!r} values must be numbers, booleans or strings")
        keys = list(grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
    if "samples" in raw:
        samples = raw["samples"]
        if not isinstance(samples, list) or not all(isinstance(s, dict) for s in samples):
            raise SpecError('[[samples]] must be an array of tables of "section.name" = value')
        if not samples:
            raise SpecError("[[samples]] is empty; give at least one sample")
        points = [_flat_table(s, "samples") for s in samples]
        for point in points:
            for key, value in point.items():
                if not _scalar(value):
                    raise SpecError(f"sample value of {key!r} must be a scalar, got {value!r}")
        return points
    return [{}]


def _sensitivity(value: Any, units: Mapping[str, str]) -> SensitivitySpec:
    if not isinstance(value, dict):
        raise SpecError("[sensitivity] must be a table")
    _check_keys(value, SENSITIVITY_KEYS, "[sensitivity]")
    bounds_raw = _flat_table(value.get("bounds", {}), "sensitivity.bounds")
    if len(bounds_raw) < 2:
        raise SpecError("[sensitivity.bounds] needs at least two parameters = [low, high]")
    bounds = {}
    for key, pair in bounds_raw.items():
        numeric = isinstance(pair, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in pair
        )
        if not numeric or len(pair) != 2:
            raise SpecError(f"sensitivity bound {key!r} must be [low, high], got {pair!r}")
        if not pair[0] < pair[1]:
            raise SpecError(f"sensitivity bound {key!r} needs low < high, got {pair!r}")
        bounds[key] = (float(pair[0]), float(pair[1]))
    samples = _int(value, "samples", required=True, low=2)
    metrics = _names(value, "metrics", list(units), "metric", required=True)
    statistic = value.get("statistic", "final")
    if statistic not in STATISTICS:
        hint = did_you_mean(str(statistic), list(STATISTICS))
        raise SpecError(
            f"unknown sensitivity statistic {statistic!r}{hint}; allowed: {', '.join(STATISTICS)}"
        )
    seed = _int(value, "seed", default=0, low=0)
    return SensitivitySpec(bounds, samples, metrics, statistic, seed)

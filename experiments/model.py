"""The narrow interface between the experiment layer and the model in `simulation/`.

Everything the batch layer needs from the model goes through these functions, so the
experiment code never reaches into model internals and the imports stay lazy: a spec can be
parsed (and its TOML errors reported) without paying for importing Mesa.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from typing import Any

import pandas as pd

BASELINE_POLICY = "baseline"
DISTRIBUTION = "smartcity-abm"


def preset_names() -> list[str]:
    """Return the names of the city presets the model knows."""
    from simulation.presets import preset_names as _preset_names

    return list(_preset_names())


def policy_names() -> list[str]:
    """Return the policy package names the model accepts.

    The model grows policy packages later (issue 3); until `simulation.runs.policy_names`
    exists only the baseline is valid.
    """
    import simulation.runs as runs

    names = getattr(runs, "policy_names", None)
    return list(names()) if names is not None else [BASELINE_POLICY]


def resolve_point(preset: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve and validate one design point, returning the flat parameter dict.

    Raises:
        simulation.parameters.ParameterError: for unknown keys, wrong types or bad values.
    """
    from simulation.parameters import resolve_parameters

    return dict(resolve_parameters(preset, dict(overrides)).as_flat_dict())


def parameter_error_type() -> type[Exception]:
    """Return the model's exception class for invalid parameters."""
    from simulation.parameters import ParameterError

    return ParameterError


def metric_units() -> dict[str, str]:
    """Return {metric name: unit} for every metric the model reports."""
    from simulation.metrics import METRICS

    return {name: spec.unit for name, spec in METRICS.items()}


def model_version() -> str:
    """Return the installed package version, part of every run id."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def run_city(
    preset: str,
    *,
    seed: Any,
    years: int,
    overrides: Mapping[str, Any] | None = None,
    policy: str | None = None,
) -> pd.DataFrame:
    """Run the model once; the default run function of the batch runner."""
    from simulation.runs import run_city as _run_city

    return _run_city(preset, seed=seed, years=years, overrides=overrides, policy=policy)

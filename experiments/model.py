"""The narrow interface between the experiment layer and the model in `simulation/`.

Everything the batch layer needs from the model goes through these few names, so the
experiment code never reaches into model internals.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from smartcity.experiments import provenance
from smartcity.experiments.runs import policy_names as _policy_names
from smartcity.experiments.runs import run_city
from smartcity.policies.packages import late_initiatives, load_package, package_path
from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.model.recording import RECORD_HELP, record_argument
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import InputError, ParameterError
from smartcity.simulation.world.graph import load_city_graph
from smartcity.simulation.world.parameters import PARAM_SPECS
from smartcity.simulation.world.presets import preset_names as _preset_names
from smartcity.simulation.world.schema import recording_reads
from smartcity.simulation.world.vocabulary import INDEX_METRICS

BASELINE_POLICY = "baseline"

__all__ = [
    "INDEX_METRICS",
    "RECORD_HELP",
    "InputError",
    "ParameterError",
    "check_policy",
    "city_type",
    "code_version",
    "development_paths",
    "input_digest",
    "is_policy",
    "is_preset",
    "metric_units",
    "model_version",
    "own_paths",
    "package_file",
    "package_home",
    "package_name",
    "package_title",
    "parameter_names",
    "policy_names",
    "preset_names",
    "record_argument",
    "resolve_point",
    "run_city",
    "steps_per_year",
]


def preset_names() -> list[str]:
    """Return the names of the built-in city presets."""
    return list(_preset_names())


def is_preset(name: str) -> bool:
    """Tell whether `name` is a built-in preset or the path of a user's preset TOML file."""
    return name in preset_names() or (name.endswith(".toml") and Path(name).is_file())


def policy_names() -> list[str]:
    """Return the shipped policy package names."""
    return _policy_names()


def is_policy(name: str) -> bool:
    """Tell whether `name` is a shipped policy package or the path of a package TOML file."""
    return name in policy_names() or (name.endswith(".toml") and Path(name).is_file())


def city_type(preset: str) -> str:
    """Return a preset's city type (parameter city.type: "mature" or "emerging")."""
    return str(resolve_parameters(preset, {}).city.type)


def package_home(policy: str, allow_code: bool = False) -> str | None:
    """Return the city type a package was written for (its ``home`` field), None for
    controls such as the baseline and the placebo."""
    return load_package(policy, allow_code=allow_code).home


def package_title(policy: str, allow_code: bool = False) -> str:
    """Return a package's label in tables and figures: its title (its name when it has
    none), never its file path."""
    return load_package(policy, allow_code=allow_code).title


def package_name(policy: str, allow_code: bool = False) -> str:
    """Return a package's name: a shipped name, or a user file's stem (never its path)."""
    return load_package(policy, allow_code=allow_code).name


def package_file(policy: str) -> Path:
    """Return the TOML file of a shipped package name or of a package path."""
    return package_path(policy)


def development_paths() -> list[str]:
    """Return the shipped packages that are development paths (they name a home city type)."""
    return [name for name in policy_names() if package_home(name) is not None]


def own_paths(preset: str) -> list[str]:
    """Return the development paths written for a preset's city type: the shipped packages
    whose ``home`` is the preset's city.type (white paper 5.1)."""
    kind = city_type(preset)
    return [name for name in development_paths() if package_home(name) == kind]


def resolve_point(
    preset: str, overrides: Mapping[str, Any], policy: str | None = None, allow_code: bool = False
) -> dict[str, Any]:
    """Resolve and validate one design point under a policy package.

    Returns:
        The flat, typed parameters: preset, then the package's parameters, then overrides.

    Raises:
        InputError: a bad parameter (ParameterError) or policy package (one-line message).
    """
    package = load_package(policy, allow_code=allow_code)
    params = resolve_parameters(preset, dict(overrides), package)
    if params.city.graph_file:
        _check_graph_file(params.city.graph_file)
    return dict(params.as_flat_dict())


@functools.cache
def _check_graph_file(path: str) -> None:
    """Load a city graph file once, so a bad one fails validation, not the runs."""
    load_city_graph(path)


def input_digest(
    preset: str, policy: str | None, overrides: Mapping[str, Any], allow_code: bool = False
) -> str:
    """16 hex digits of SHA-256 over the content of every file a run of this point reads.

    The preset and every preset it extends, the policy package and its initiatives, the city
    graph file(s): whatever the one input reader (world.schema.read_input) reads while the
    point is resolved and its graph loaded. Paths are not part of it (a file moved with the
    same content is the same input); a changed byte in any of them changes it.
    """
    with recording_reads() as reads:
        params = resolve_parameters(
            preset, dict(overrides), load_package(policy, allow_code=allow_code)
        )
        if params.city.graph_file:
            load_city_graph(params.city.graph_file)
    return hashlib.sha256("\n".join(sorted(reads.values())).encode()).hexdigest()[:16]


def check_policy(policy: str | None, years: float, allow_code: bool = False) -> list[str]:
    """Refuse a policy package that cannot be loaded; return a warning line for each of its
    initiatives that would start only after a run of ``years`` years has ended."""
    return late_initiatives(load_package(policy, allow_code=allow_code), years)


def parameter_names() -> list[str]:
    """Return every parameter key ("section.name") of the model."""
    return list(PARAM_SPECS)


def steps_per_year(preset: str, overrides: Mapping[str, Any]) -> int:
    """Return the model steps per simulated year of a preset under overrides."""
    return int(resolve_parameters(preset, dict(overrides)).simulation.steps_per_year)


def metric_units() -> dict[str, str]:
    """Return {metric name: unit} for every metric the model reports."""
    return {name: spec.unit for name, spec in METRICS.items()}


def model_version() -> str:
    """Return the installed package version, part of every run id."""
    return provenance.package_version()


def code_version() -> str:
    """Return the digest of the result code this process runs, part of every run id."""
    return provenance.code_digest()

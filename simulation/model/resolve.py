"""Parameter resolution: a preset, then a policy package, then the user's overrides.

This sits above policies in the layers (it reads policy packages), so the parameter layer
below stays free of policy and preset loading.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from smartcity.policies.packages import load_package
from smartcity.simulation.world.errors import ParameterError
from smartcity.simulation.world.parameters import Parameters, apply_overrides
from smartcity.simulation.world.presets import load_preset


def resolve_parameters(
    preset: str | Path = "mature",
    overrides: Mapping[str, Any] | None = None,
    policy: Any = None,
) -> Parameters:
    """Parameters of a preset (name or TOML path), then the policy package's parameters
    (a package name, path or PolicyPackage), then ``overrides``; all validated."""
    package = load_package(policy)
    params = apply_overrides(Parameters(), load_preset(preset))
    try:
        params = apply_overrides(params, package.parameters)
    except ParameterError as exc:
        raise ParameterError(f"policy package '{package.name}': {exc}") from None
    return apply_overrides(params, overrides or {})

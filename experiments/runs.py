"""One run of the model as a function: what batch experiments and the CLI call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from smartcity.policies.packages import load_package, package_names
from smartcity.simulation.model import CityModel
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import ParameterError

if TYPE_CHECKING:
    from smartcity.simulation.model.analyzers import Analyzer


def policy_names() -> list[str]:
    """Names of the shipped policy packages (a run also accepts a package TOML path)."""
    return package_names()


def check_years(years: object) -> None:
    """Refuse a run length that is not a positive, finite number of years."""
    numeric = isinstance(years, int | float) and not isinstance(years, bool)
    if not numeric or not np.isfinite(years) or years <= 0:
        raise ParameterError(f"years must be a positive number, got {years!r}")


def run_city(
    preset: str | Path,
    *,
    seed: int | np.random.SeedSequence,
    years: float,
    overrides: Mapping[str, object] | None = None,
    policy: str | None = None,
    progress: bool = False,
    allow_code: bool = False,
    record: str | int = "step",
    analyzers: Sequence[Analyzer] = (),
) -> pd.DataFrame:
    """Build a city, run it for ``years`` and return its metrics, one row per recorded step.

    Columns: ``step``, ``year`` and one column per metric the model records
    (simulation.model.metrics). Raises InputError (ParameterError for parameters) for bad
    input before anything runs; ``allow_code`` lets the policy package run Python classes;
    ``record`` chooses the recorded steps and ``analyzers`` observe the run, their tables
    left in them (see CityModel).
    """
    check_years(years)
    package = load_package(policy, allow_code=allow_code)
    params = resolve_parameters(preset, overrides, package)
    model = CityModel(
        preset, seed=seed, policy=package, params=params, record=record, analyzers=analyzers
    )
    model.run(years, progress=progress)
    return model.metrics_frame()

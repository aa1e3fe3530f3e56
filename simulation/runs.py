"""One run of the model as a function: what batch experiments and the CLI call."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.errors import ParameterError
from simulation.model import CityModel
from simulation.parameters import resolve_parameters

POLICIES = ("baseline",)


def policy_names() -> list[str]:
    """Policy packages a run can use."""
    return list(POLICIES)


def run_city(
    preset: str | Path,
    *,
    seed: int | np.random.SeedSequence,
    years: float,
    overrides: Mapping[str, object] | None = None,
    policy: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Build a city, run it for ``years`` and return its metrics, one row per step.

    Columns: ``step``, ``year`` and one column per metric of simulation.metrics.METRICS.
    Raises ParameterError for bad parameters, presets or policies before anything runs.
    """
    if policy not in (None, *POLICIES):
        raise ParameterError(f"unknown policy package '{policy}'; available: {', '.join(POLICIES)}")
    if not np.isfinite(years) or years <= 0:
        raise ParameterError(f"years must be a positive number, got {years!r}")
    params = resolve_parameters(preset, overrides)
    model = CityModel(preset, seed=seed, policy=policy, params=params)
    model.run(years, progress=progress)
    return model.metrics_frame()

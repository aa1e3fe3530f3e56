"""Stand-ins for the model used by the experiment tests (importable by worker processes)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

METRICS = {"population": "persons", "gdp_per_capita": "CNY/person", "governance_index": "index"}
PRESETS = ["mature", "emerging"]


class FakeParameterError(ValueError):
    pass


def resolve_point(preset: str, overrides: Mapping[str, object]) -> dict[str, object]:
    known = {"citizens.count": 100, "citizens.digital_literacy_mean": 0.5}
    for key, value in overrides.items():
        if key not in known:
            raise FakeParameterError(f"unknown parameter {key!r} (did you mean 'citizens.count'?)")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise FakeParameterError(f"{key} must be a number, got {value!r}")
    return {**known, **overrides}


def run_city(preset, *, seed, years, overrides=None, policy=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    steps = np.arange(years * 12 + 1)
    base = 1.0 if preset == "mature" else 0.5
    level = float((overrides or {}).get("citizens.digital_literacy_mean", 0.5))
    return pd.DataFrame(
        {
            "step": steps,
            "year": steps / 12,
            "population": 1000 + rng.normal(0, 10, steps.size).cumsum(),
            "gdp_per_capita": base * level * (1 + rng.random(steps.size)),
            "governance_index": rng.random(steps.size),
        }
    )


def failing_run_city(preset, *, seed, years, overrides=None, policy=None) -> pd.DataFrame:
    if preset == "emerging":
        raise RuntimeError("injected failure")
    return run_city(preset, seed=seed, years=years, overrides=overrides, policy=policy)

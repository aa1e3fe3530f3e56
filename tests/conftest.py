"""Shared fixtures: small cities so the whole suite stays fast on a shared 2-core machine."""

from __future__ import annotations

import pytest

from smartcity.simulation.model import CityModel

SMALL = 2000  # citizens in a "small city": one year runs in well under a second


def small_city(preset: str = "mature", seed: int = 1, **overrides) -> CityModel:
    """A small city of the given preset (overrides as ``section__name=value``)."""
    overrides.setdefault("citizens__count", SMALL)
    return CityModel(preset, seed=seed, **overrides)


@pytest.fixture(scope="module")
def mature_one_year() -> CityModel:
    """A small mature city run for one year (shared by the tests of a module; do not mutate)."""
    model = small_city("mature", seed=1)
    model.run(1)
    return model


@pytest.fixture(scope="session")
def make_city():
    """Factory of small cities: ``make_city(preset, seed, **overrides)``."""
    return small_city

"""Mechanisms the case cities need (white paper 5.1): the direction of each effect with only
its parameter changed, and an invariant of each."""

from __future__ import annotations

import numpy as np

from smartcity import CityModel
from smartcity.simulation.world.vocabulary import SECTOR_NAMES

SMALL = {"citizens__count": 2000}


def _metric(model: CityModel, name: str) -> float:
    return float(model.metrics_frame()[name].iloc[-1])


def test_a_more_productive_sector_has_more_value_added_per_worker() -> None:
    """Raising only creative firms' relative productivity raises creative value added per
    worker over the city's, at the start and after a year (the part that is the sector's
    own survives the labour market)."""
    ratios = {}
    for r in (1.0, 1.6):
        model = CityModel("london", seed=3, firms__sector_productivity_creative=r, **SMALL)
        start = _metric(model, "relative_value_added_per_worker_creative")
        model.run(1)
        ratios[r] = (start, _metric(model, "relative_value_added_per_worker_creative"))
    assert ratios[1.6][0] > ratios[1.0][0] + 0.1
    assert ratios[1.6][1] > ratios[1.0][1] + 0.05


def test_only_relative_sector_productivity_matters() -> None:
    """Every sector 1.5x as productive is the same city in relative terms: each sector's
    value added per worker over the city's is unchanged at the start."""
    sectors = ("manufacturing", "services", "logistics", "creative", "digital", "health",
               "platform")  # fmt: skip
    names = [f"relative_value_added_per_worker_{s}" for s in sectors]
    base = CityModel("mature", seed=5, **SMALL).metrics_frame()[names].iloc[0]
    scaled = (
        CityModel(
            "mature", seed=5, **SMALL, **{f"firms__sector_productivity_{s}": 1.5 for s in sectors}
        )
        .metrics_frame()[names]
        .iloc[0]
    )
    np.testing.assert_allclose(scaled.to_numpy(), base.to_numpy(), rtol=1e-9)


def test_a_built_out_core_holds_its_population_while_the_city_grows() -> None:
    """With only city.core_building_room changed, a core with no land left grows less than
    one with room; its housing never passes its initial housing x (1 + room)."""
    growth = {}
    for room in (0.0, 0.5):
        model = CityModel("paris", seed=2, city__core_building_room=room, **SMALL)
        core = model.districts.is_kind("core")
        initial = model.districts.housing_capacity[core].copy()
        model.run(6)
        assert np.all(model.districts.housing_capacity[core] <= initial * (1 + room) + 1e-9)
        frame = model.metrics_frame()
        growth[room] = frame["core_population"].iloc[-1] / frame["core_population"].iloc[12]
    assert growth[0.0] < growth[0.5] - 0.03


def test_young_firms_count_every_entry_of_the_last_twelve_months() -> None:
    """young_firms_* counts the firms that entered in the last 12 monthly steps, the current
    one included, so yearly samples count each entrant exactly once: a firm entered in the
    current step is 1 month old at the sample, one entered 11 steps before is 12 months old
    and still counts. After two years every firm founded at the start is older."""
    model = CityModel("emerging", seed=4, firms__entry_rate=0.5, **SMALL)
    model.run(2)
    months = np.round(model.firms.age * model.steps_per_year)
    assert (months == model.steps_per_year).sum() > 0  # the oldest cohort that counts exists
    expected = (months <= model.steps_per_year).sum()
    frame = model.metrics_frame()
    counted = sum(frame[f"young_firms_{s}"].iloc[-1] for s in SECTOR_NAMES)
    assert counted == expected

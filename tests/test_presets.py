"""The two presets reproduce the white paper's typical cities (5.1): the mature city starts
high and grows slowly, the emerging city starts low and grows fast."""

from __future__ import annotations

import numpy as np
import pytest

from smartcity.simulation.model import CityModel

SEEDS = (1, 2, 3)
YEARS = 10  # 20 years at 5000 citizens takes ~33 s for the 6 runs; 10 years halves that
COUNT = 5000


def summarise(preset: str) -> dict[str, float]:
    rows = []
    for seed in SEEDS:
        model = CityModel(preset, seed=seed, citizens__count=COUNT)
        d = model.districts
        start = dict(ict=d.ict.mean(), transport=d.transport.mean())
        model.run(YEARS)
        frame = model.metrics_frame()
        first, last = frame.iloc[0], frame.iloc[-1]
        rows.append(
            dict(
                **start,
                gdp_per_capita=first["gdp_per_capita"],
                elderly_share=first["elderly_share"],
                gdp_growth=last["gdp"] / first["gdp"],
                gdp_per_capita_growth=last["gdp_per_capita"] / first["gdp_per_capita"],
                population_growth=last["population"] / first["population"],
            )
        )
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


@pytest.fixture(scope="module")
def presets() -> dict[str, dict[str, float]]:
    return {name: summarise(name) for name in ("mature", "emerging")}


def test_mature_city_starts_richer(presets):
    assert presets["mature"]["gdp_per_capita"] > 1.5 * presets["emerging"]["gdp_per_capita"]


@pytest.mark.parametrize("stock", ["ict", "transport"])
def test_mature_city_starts_with_better_infrastructure(presets, stock):
    assert presets["mature"][stock] > presets["emerging"][stock]


def test_mature_city_is_older(presets):
    assert presets["mature"]["elderly_share"] > 2 * presets["emerging"]["elderly_share"]


def test_emerging_city_gdp_grows_faster(presets):
    assert presets["emerging"]["gdp_growth"] > presets["mature"]["gdp_growth"]


def test_emerging_city_gdp_per_capita_grows_faster(presets):
    assert presets["emerging"]["gdp_per_capita_growth"] > presets["mature"]["gdp_per_capita_growth"]


def test_emerging_city_grows_in_population(presets):
    assert presets["emerging"]["population_growth"] > presets["mature"]["population_growth"]
    assert presets["emerging"]["population_growth"] > 1.0


def test_preset_sizes_are_the_white_paper_shapes():
    mature = CityModel("mature", seed=1, citizens__count=500)
    emerging = CityModel("emerging", seed=1, citizens__count=500)
    assert mature.params.city.name == "Mature city"
    assert emerging.params.city.name == "Emerging city"
    # the emerging city has more new towns and industrial zones relative to its old districts
    for model in (mature, emerging):
        assert model.districts.is_kind("core").sum() == 1
    assert emerging.districts.is_kind("new_town").sum() > mature.districts.is_kind("new_town").sum()

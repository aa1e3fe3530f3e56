"""CityModel basics: construction, stepping, the metrics frame and refusals."""

from __future__ import annotations

import pytest

from smartcity.experiments.runs import policy_names, run_city
from smartcity.simulation.model import CityModel
from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.world.errors import InputError, ParameterError


def test_metrics_frame_has_a_row_per_step(mature_one_year):
    frame = mature_one_year.metrics_frame()
    assert len(frame) == 13
    assert list(frame.columns) == ["step", "year", *METRICS]
    assert list(frame["step"]) == list(range(13))
    assert frame["year"].iloc[12] == 1.0
    assert mature_one_year.steps == 12


def test_initial_state_matches_the_parameters(make_city):
    model = make_city("emerging", seed=1, citizens__count=1500)
    first = model.metrics_frame().iloc[0]
    assert first["population"] == 1500
    # initial unemployment is about 6% of the labour force
    assert 0.03 < first["unemployment_rate"] < 0.12
    assert first["gdp"] > 0
    assert first["firms"] == pytest.approx(1500 * 40 / 1000, rel=0.1)
    # the first month starts near equilibrium: GDP barely moves in the first step
    model.step()
    second = model.metrics_frame().iloc[1]
    assert second["gdp"] == pytest.approx(first["gdp"], rel=0.1)


def test_fractional_years_round_to_steps(make_city):
    model = make_city("mature", seed=1, citizens__count=500)
    model.run(0.5)
    assert model.steps == 6


def test_steps_per_year_changes_the_time_resolution(make_city):
    model = make_city("mature", seed=1, citizens__count=500, simulation__steps_per_year=4)
    model.run(1)
    frame = model.metrics_frame()
    assert len(frame) == 5
    assert frame["year"].iloc[-1] == 1.0


def test_unknown_policy_is_refused():
    assert "baseline" in policy_names()
    with pytest.raises(InputError, match="unknown policy package 'magic'"):
        CityModel("mature", seed=1, policy="magic", citizens__count=500)
    with pytest.raises(InputError, match="did you mean 'mature-multicentre'"):
        run_city("mature", seed=1, years=1, policy="mature-multicenter")


@pytest.mark.parametrize("years", [0, -1, float("nan"), float("inf")])
def test_run_city_refuses_bad_years(years):
    with pytest.raises(ParameterError, match="years"):
        run_city("mature", seed=1, years=years, overrides={"citizens.count": 500})


def test_rng_alias_equals_seed():
    a = CityModel("mature", seed=4, citizens__count=500)
    b = CityModel("mature", rng=4, citizens__count=500)
    a.run(0.25)
    b.run(0.25)
    assert a.metrics_frame().equals(b.metrics_frame())

"""The step length is a parameter: quarterly, monthly and weekly steps describe the same city
(rates are monthly or yearly and converted per step)."""

import pytest

from smartcity.simulation.model import CityModel


@pytest.fixture(scope="module")
def runs():
    out = {}
    for steps in (4, 12, 52):
        model = CityModel("mature", seed=1, citizens__count=2000, simulation__steps_per_year=steps)
        start = model.metrics_frame().iloc[0]
        model.run(3)
        out[steps] = (start, model.metrics_frame().iloc[-1])
    return out


def test_initial_city_is_the_same_whatever_the_step(runs):
    monthly = runs[12][0]
    for steps in (4, 52):
        start = runs[steps][0]
        for metric in ("gdp", "gdp_per_capita", "productivity", "fiscal_balance", "debt_ratio"):
            assert start[metric] == pytest.approx(monthly[metric], rel=1e-9, abs=1e-9), metric


def test_three_years_agree_across_step_lengths(runs):
    monthly = runs[12][1]
    for steps in (4, 52):
        end = runs[steps][1]
        assert end["gdp"] == pytest.approx(monthly["gdp"], rel=0.1)
        assert end["population"] == pytest.approx(monthly["population"], rel=0.05)
        assert end["unemployment_rate"] < 0.06

"""Property-based: any valid combination of key parameters runs; invalid values are refused."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.simulation.model import CityModel
from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import ParameterError
from smartcity.simulation.world.parameters import iter_specs

SPECS = {key: spec for key, _, spec in iter_specs()}
KEYS = (
    "citizens.digital_literacy_mean",
    "citizens.in_migration_rate",
    "citizens.out_migration_rate",
    "citizens.birth_rate",
    "city.road_capacity",
    "city.housing_slack",
    "firms.productivity",
    "firms.entry_rate",
    "government.capability_budget_share",
    "government.income_tax",
    "government.initial_debt_ratio",
    "government.debt_limit",
)
# city.road_capacity goes up to 10000; draw it on a log scale so small values get tried too
LOG_SCALE = {"city.road_capacity", "firms.productivity"}

SLOW = settings(
    deadline=None,
    max_examples=8,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)


def in_range(key: str) -> st.SearchStrategy[float]:
    spec = SPECS[key]
    if key in LOG_SCALE:
        return st.floats(math.log(spec.lo), math.log(spec.hi)).map(
            lambda v: min(max(math.exp(v), spec.lo), spec.hi)
        )
    return st.floats(spec.lo, spec.hi, allow_nan=False)


valid_overrides = st.fixed_dictionaries({key: in_range(key) for key in KEYS})


@SLOW
@given(overrides=valid_overrides, seed=st.integers(0, 2**32 - 1))
def test_valid_parameters_run_two_years(overrides, seed):
    model = CityModel("mature", seed=seed, citizens__count=300, **{
        k.replace(".", "__"): v for k, v in overrides.items()})  # fmt: skip
    model.run(2)  # the model checks its invariants every step
    frame = model.metrics_frame()
    assert len(frame) == 25
    assert np.isfinite(frame[list(METRICS)].to_numpy(dtype=float)).all()


@SLOW
@given(preset=st.sampled_from(["mature", "emerging"]), overrides=valid_overrides)
def test_valid_parameters_run_on_either_preset(preset, overrides):
    model = CityModel(preset, seed=1, citizens__count=300, **{
        k.replace(".", "__"): v for k, v in overrides.items()})  # fmt: skip
    model.run(1)
    assert len(model.citizens) > 0


@st.composite
def out_of_range(draw) -> tuple[str, float]:
    key = draw(st.sampled_from([k for k, spec in SPECS.items() if spec.lo is not None]))
    spec = SPECS[key]
    is_int = isinstance(spec.lo, int) and (spec.hi is None or isinstance(spec.hi, int))
    above = spec.hi is not None and draw(st.booleans())
    if above:
        gap = draw(st.floats(1e-6, 1e6) if not is_int else st.integers(1, 10**6))
        value = spec.hi + gap
    else:
        gap = draw(st.floats(1e-6, 1e6) if not is_int else st.integers(1, 10**6))
        value = spec.lo - gap
    return key, value


@settings(deadline=None, max_examples=40, derandomize=True)
@given(case=out_of_range())
def test_out_of_range_values_are_refused(case):
    key, value = case
    with pytest.raises(ParameterError) as info:
        resolve_parameters("mature", {key: value})
    assert key in str(info.value)


@settings(deadline=None, max_examples=25, derandomize=True)
@given(key=st.sampled_from(KEYS), data=st.data())
def test_values_within_range_are_accepted(key, data):
    value = data.draw(in_range(key))
    params = resolve_parameters("mature", {key: value})
    section, name = key.split(".")
    assert getattr(getattr(params, section), name) == value

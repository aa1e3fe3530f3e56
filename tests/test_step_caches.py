"""Tables cached across steps are the ones computed afresh: made again when an input is
replaced or a parameter changes, and their inputs cannot change in place."""

from __future__ import annotations

import numpy as np
import pytest

from smartcity.simulation.world.vocabulary import CAR, MODES, per_step


def test_reach_kernel_is_the_formula_and_follows_reach(make_city):
    """reach_kernel gives (1 - reach) exp(-free_time / minutes) + reach bit for bit, for a
    reach that changes between calls, and free_time cannot be written."""
    d = make_city("mature", seed=1).districts
    for reach in (0.0, 0.3, 0.7, 0.3):
        expected = (1 - reach) * np.exp(-d.free_time / 45.0) + reach
        assert np.array_equal(d.reach_kernel(45.0, reach), expected)
    with pytest.raises(ValueError):
        d.free_time[0, 0] = 1.0


def test_commute_decay_follows_commute_minutes(make_city):
    """exp(-decay x commute_minutes) is made again after traffic replaces commute_minutes."""
    model = make_city("mature", seed=1)
    t = model.transit
    before = t.commute_decay(0.05)
    model.run(0.25)
    assert np.array_equal(t.commute_decay(0.05), np.exp(-0.05 * t.commute_minutes))
    assert np.array_equal(t.commute_decay(0.02), np.exp(-0.02 * t.commute_minutes))
    assert not np.array_equal(before, t.commute_decay(0.05))


def test_cost_tables_follow_rail_and_speeds(make_city):
    """update_costs with its network tables cached gives the tables of a fresh network after
    the rail is expanded and after a speed parameter changes."""
    model = make_city("mature", seed=1)
    model.run(0.25)
    d, t, p = model.districts, model.transit, model.params.transport
    args = (model.levers.transit_speed, np.ones(d.n), 0.01)
    t.update_costs(d, p, *args)
    t.expand_rail(0.5)
    p.walk_speed *= 1.5
    t.update_costs(d, p, *args)
    fresh = type(t)(d)
    fresh.rail_seats, fresh.crowding = t.rail_seats, t.crowding
    fresh.update_costs(d, p, *args)
    for name in ("minutes", "free_minutes", "perceived", "money"):
        assert np.array_equal(getattr(t, name), getattr(fresh, name)), name
    assert t.minutes.shape[0] == len(MODES)
    assert np.array_equal(t.minutes[CAR], d.travel_time)


def test_per_step_of_a_scalar_is_numpys():
    """The remembered per_step of a rate is the value numpy computes, for ints and floats."""

    class Clock:
        steps_per_year = 12

    for rate in (0.1, 2, 2.0, np.float64(0.37), 0.0):
        assert per_step(Clock(), rate) == 1.0 - np.exp(-np.asarray(rate) / 12)

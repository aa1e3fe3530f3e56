"""Agents: read-only views of citizens and firms, and the government as a Mesa agent."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from smartcity.agents.government import Government


def test_citizen_view_matches_the_arrays(mature_one_year):
    c = mature_one_year.citizens
    for i in (0, 17, len(c) - 1, -1):
        view = c[i]
        assert set(view) == set(c.COLUMNS)
        assert view["age"] == c.age[i]
        assert view["uid"] == c.uid[i]
        assert view["employer"] == c.employer[i]
        np.testing.assert_array_equal(view["adopted"], c.adopted[i])
        np.testing.assert_array_equal(view["satisfaction"], c.satisfaction[i])


def test_citizen_view_is_read_only(mature_one_year):
    c = mature_one_year.citizens
    age, adopted = c.age[5], c.adopted[5].copy()
    view = c[5]
    with pytest.raises(TypeError):
        view["age"] = 3.0
    with pytest.raises(ValueError, match="read-only"):
        view["adopted"][0] = not view["adopted"][0]
    with pytest.raises(ValueError, match="read-only"):
        view["satisfaction"][:] = 0.0
    # nothing reached the model's state
    assert c.age[5] == age
    np.testing.assert_array_equal(c.adopted[5], adopted)


def test_firm_view_matches_the_arrays_and_is_read_only(mature_one_year):
    f = mature_one_year.firms
    assert len(f) > 0
    for j in (0, len(f) // 2, -1):
        view = f[j]
        assert set(view) == set(f.COLUMNS)
        for name in f.COLUMNS:
            np.testing.assert_array_equal(view[name], getattr(f, name)[j])
    view = f[0]
    with pytest.raises(TypeError):
        view["wage"] = 0.0
    array_columns = [name for name in f.COLUMNS if np.ndim(view[name]) > 0]
    for name in array_columns:
        with pytest.raises(ValueError, match="read-only"):
            view[name][...] = 0


@pytest.mark.parametrize("who", ["citizens", "firms"])
def test_index_out_of_range_raises_index_error(mature_one_year, who):
    population = getattr(mature_one_year, who)
    n = len(population)
    with pytest.raises(IndexError):
        population[n]
    with pytest.raises(IndexError):
        population[-n - 1]
    population[n - 1]
    population[-n]


def test_government_is_a_mesa_agent_in_the_model(mature_one_year):
    gov = mature_one_year.government
    assert isinstance(gov, mesa.Agent)
    assert isinstance(gov, Government)
    assert gov in mature_one_year.agents
    assert list(mature_one_year.agents_by_type[Government]) == [gov]
    assert gov.model is mature_one_year


def test_citizen_uids_are_unique_and_never_reused(mature_one_year):
    c, f = mature_one_year.citizens, mature_one_year.firms
    uids = np.concatenate([c.uid, f.uid])
    assert len(np.unique(uids)) == len(uids)

"""The engine: one compaction per phase, the metric store and its record choices, the metric
and analyzer plug-ins (issue 22, issue 24 item 2)."""

from __future__ import annotations

import numpy as np
import pytest

from smartcity.agents.citizens import Citizens


def _citizens(n: int) -> Citizens:
    c = Citizens(n)
    c.uid = np.arange(n, dtype=np.int64)
    c.age = np.arange(n, dtype=float)
    return c


def _rows(uids: list[int], start_age: float) -> dict[str, np.ndarray]:
    n = len(uids)
    rows = {name: np.zeros((n, *shape), dtype=dtype) for name, (dtype, shape) in
            Citizens.COLUMNS.items()}  # fmt: skip
    rows["uid"] = np.array(uids)
    rows["age"] = start_age + np.arange(n, dtype=float)
    return rows


def test_commit_applies_departures_and_arrivals_in_the_sequential_order():
    """Marked rows leave, staged rows follow the rows that stay in staging order, staged
    rows marked to leave never arrive: the same rows, in the same order, as keep and
    append one after the other."""
    c = _citizens(6)
    c.mark_gone(np.array([False, True, False, False, True, False]))
    c.stage(**_rows([10, 11], 50.0))
    c.stage(**_rows([20], 60.0))
    assert len(c) == 6 and c.count() == 7
    c.mark_gone(np.array([True, False, False, False, False, False]),
                staged=np.array([False, True, False]))  # fmt: skip
    assert c.count() == 5
    c.commit()
    assert c.uid.tolist() == [2, 3, 5, 10, 20]
    assert c.age.tolist() == [2.0, 3.0, 5.0, 50.0, 60.0]
    assert c.satisfaction.shape == (5, 5) and c.gone() is None and len(c.staged("uid")) == 0


def test_draws_for_the_remaining_rows_skip_the_rows_marked_to_leave():
    c = _citizens(4)
    assert c.for_remaining(np.array([0.1, 0.2, 0.3, 0.4]), fill=np.inf).tolist() == [
        0.1, 0.2, 0.3, 0.4]  # fmt: skip
    c.mark_gone(np.array([False, True, False, False]))
    spread = c.for_remaining(np.array([0.1, 0.3, 0.4]), fill=np.inf)
    assert spread.tolist() == [0.1, np.inf, 0.3, 0.4]


def test_staging_after_marking_staged_rows_is_refused():
    c = _citizens(2)
    c.stage(**_rows([5], 30.0))
    c.mark_gone(np.zeros(2, dtype=bool), staged=np.array([True]))
    with pytest.raises(RuntimeError, match="staged after"):
        c.stage(**_rows([6], 30.0))


def test_population_accounting_holds_through_a_year_of_demography(make_city):
    """Births, deaths and migration applied once per step keep the population identity
    (checked by the model every step) and leave no pending change behind."""
    model = make_city("emerging", seed=4)
    flows = {"births": 0, "deaths": 0, "immigrants": 0, "emigrants": 0}
    start = len(model.citizens)
    for _ in range(12):
        model.step()
        for name in flows:
            flows[name] += model.flows[name]
        assert model.citizens.gone() is None
    assert all(flows.values())
    expected = start + flows["births"] - flows["deaths"] + flows["immigrants"]
    assert len(model.citizens) == expected - flows["emigrants"]
    assert len(np.unique(model.citizens.uid)) == len(model.citizens)

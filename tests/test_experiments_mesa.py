"""The city model works with Mesa's own batch runner, unchanged."""

from __future__ import annotations

import pandas as pd
from mesa import batch_run

from smartcity.simulation.model import CityModel


def test_mesa_batch_run_runs_the_city_model() -> None:
    rows = batch_run(
        CityModel,
        parameters={"preset": "mature", "citizens.count": 100},
        rng=[1, 2],
        max_steps=3,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    assert sorted(frame["seed"].unique()) == [1, 2]
    assert sorted(frame["Step"].unique()) == [0, 1, 2, 3]
    assert {"population", "governance_index"} <= set(frame.columns)
    # Different seeds, different runs; the same seed in a fresh model, the same run.
    first, second = (frame[frame["seed"] == s].reset_index(drop=True) for s in (1, 2))
    assert not first["governance_index"].equals(second["governance_index"])
    again = pd.DataFrame(
        batch_run(
            CityModel,
            parameters={"preset": "mature", "citizens.count": 100},
            rng=[1],
            max_steps=3,
            number_processes=1,
            data_collection_period=1,
            display_progress=False,
        )
    )
    pd.testing.assert_series_equal(first["governance_index"], again["governance_index"])

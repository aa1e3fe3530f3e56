"""Demand that drives industry (white paper 4.1, demand advancement as a driver of
industrial transition; new-infrastructure paper 4.1, new consumption in step with new
infrastructure): citizens' digital consumption and firms' digital projects are demand for
the digital sector's output, so literacy and adoption show in value added.
"""

from __future__ import annotations

import numpy as np
import pytest

from smartcity import CityModel
from smartcity.simulation.world.vocabulary import SECTOR_NAMES

DIGITAL = SECTOR_NAMES.index("digital")


def _digital_economy(literacy: float, seed: int) -> tuple[float, float, float]:
    city = CityModel("emerging", seed=seed, citizens__count=5000,
                     citizens__digital_literacy_mean=literacy)  # fmt: skip
    city.run(5)
    f = city.firms
    last = city.metrics_frame().iloc[-1]
    value = float(f.value_added[f.sector == DIGITAL].sum())
    return value, float(last["digital_economy_share"]), float(last["digital_adoption"])


@pytest.mark.slow
def test_higher_digital_literacy_raises_digital_value_added_and_share():
    """Paired seeds: a literate city adopts more digital services, and its digital sector
    sells more and weighs more in the economy (it made no difference to GDP before: 46.9
    against 46.7 k at literacy 0 and 1)."""
    low = np.array([_digital_economy(0.2, seed) for seed in (1, 2, 3)])
    high = np.array([_digital_economy(0.9, seed) for seed in (1, 2, 3)])
    gain = high - low
    assert (gain[:, 2] > 0.1).all()  # adoption
    assert gain[:, 0].mean() > 0.05 * low[:, 0].mean()  # digital value added
    assert (gain[:, 1] > 0).all()  # digital-economy share

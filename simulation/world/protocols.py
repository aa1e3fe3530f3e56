"""What the behaviour rules, policies and metrics read from a running city.

Rules are typed against :class:`CityState` instead of importing ``CityModel``, so the layers
point one way (names and parameters -> city -> agents -> policies -> model and metrics ->
experiments, visualization, CLI; the contract is in pyproject.toml). ``CityModel`` satisfies
the protocol; a test double or another model class may too.

Attributes whose types live in a higher layer (the populations, the government and the
policy runtime) are typed ``Any`` here; their classes are named in the comments. The levers,
the seam between policies and agents, are typed (simulation.world.levers).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

import numpy as np

from smartcity.simulation.world.districts import Districts
from smartcity.simulation.world.levers import Levers
from smartcity.simulation.world.parameters import Parameters
from smartcity.simulation.world.transport import TransportNetwork


class CityState(Protocol):
    """The state of one city during a run, as the rules see it."""

    rng: np.random.Generator
    params: Parameters
    steps: int
    steps_per_year: int
    months_per_step: float
    districts: Districts
    citizens: Any  # smartcity.agents.citizens.Citizens
    firms: Any  # smartcity.agents.firms.Firms
    government: Any  # smartcity.agents.government.Government
    levers: Levers
    policy_runtime: Any  # smartcity.policies.runtime.PolicyRuntime
    flows: dict[str, int]
    wage_index: float
    frontier: float
    multiplier: np.ndarray
    prices: np.ndarray
    export_index: float
    cluster_reference: float | None
    user_fees: float
    car_trips: np.ndarray
    commute_trips: np.ndarray
    transit: TransportNetwork
    district_access: np.ndarray
    service_availability: np.ndarray
    response_minutes: float
    population_before: int
    debt_before: float
    initial_value_added: float
    initial_supply: np.ndarray
    initial_margin: float
    initial_elderly_share: float
    local_mix: np.ndarray
    local_scale: float
    gdp_history: deque[float]
    incident_history: deque[tuple[int, int]]
    gdp_gain_total: float

    def next_uids(self, n: int) -> np.ndarray:
        """Fresh unique agent ids."""
        ...

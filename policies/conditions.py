"""City conditions: what a city has that makes a development path pay (white paper 5.1).

The white paper's central claim (5.1) is that mature and emerging cities need different
digitalization paths because their conditions differ: a mature city has a high start,
diversified and established industries, a dense, congested, aging core and a long history;
an emerging city has a low start, a low-end manufacturing base, a young labour force and
little legacy. Each condition here is a number in 0-1 measured from the city's state (or,
where the state holds no such quantity, read from a parameter), never from a preset or
package name. An initiative names the conditions it thrives on (``[fit]`` in its TOML);
:func:`fit_level` (their weighted geometric mean) turns them into the fit that scales its
readiness and its effect (policies.initiatives). A user city between the two presets
therefore gets its own fit.

Conditions (each clipped to 0-1):

- ``frontier_gap``: 1 - employment-weighted firm productivity / frontier productivity; the
  room to climb the industrial chain (5.1.2 Path 2: gains shrink near the frontier).
- ``low_end_base``: employment share of manufacturing and logistics / 0.5; the low-end
  base a climb starts from (5.1.2 Path 2).
- ``young_labour``: share of the labour force aged under 35 / 0.5; the demographic
  dividend (5.1.2 Path 2).
- ``congestion``: (travel time index - 1) / CONGESTED_EXCESS; a crowded core (5.1.1 Paths
  2 and 3, urban diseases).
- ``new_town_land``: parameter city.new_town_land (5.1.1 Path 2).
- ``talent``: share of adults with skill >= TALENT_SKILL / 0.4 (5.1.2 Path 1).
- ``research``: parameter firms.research_capacity (5.1.2 Path 1).
- ``advantage``: firms.advantage_depth x min(1, 2 x employment share of the sectors the
  package prioritises, all sectors if none): the traditional advantages a reactivation or
  rebuilding acts on (5.1.1 Paths 1 and 4).
- ``pollution``: resident-weighted district pollution / 0.5 (5.1.1 Path 3).
- ``aging``: elderly share / 0.3 (5.1.1 Path 3, aging as an experimental field).

Legacy burden (parameter city.legacy_burden, 5.1.2: a young city is "less burdened by
history") is not a fit condition: it raises the cost and slows the uptake of greenfield
initiatives (Initiative.step). Two more conditions the white paper names act without a fit
term. The start ("well-developed urban functions", 5.1.1, against "low starting status",
5.1.2: the initial infrastructure, coverage, service level and capabilities) acts through
saturation: district stocks and capabilities grow toward 1 in proportion to what is
missing, so the same build-out adds more where functions are thin. The government's drive
("encouraged vigorously by the government", 5.1.2: government.spending_envelope and
envelope_growth under equal budgets) sets how much any path can build.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import SECTOR_NAMES

CONDITIONS = (
    "frontier_gap",
    "low_end_base",
    "young_labour",
    "congestion",
    "new_town_land",
    "talent",
    "research",
    "advantage",
    "pollution",
    "aging",
)
"""The city conditions an initiative's fit can depend on (module docstring)."""

LOW_END_SECTORS = ("manufacturing", "logistics")
YOUNG_AGE = 35.0  # years: the young part of the labour force (demographic dividend)
TALENT_SKILL = 0.7  # skill at or above which an adult counts as talent
CONGESTED_EXCESS = 0.3  # travel time index excess at which congestion counts as full
FIT_REFERENCE = 0.5  # fit at which an initiative works as its TOML states
NEUTRAL_FIT = FIT_REFERENCE  # an initiative naming no condition
MIN_CONDITION = 0.01  # a condition entirely absent still leaves a trace of fit
LEGACY_COST = 1.0  # capital cost of a greenfield initiative rises by this x legacy burden
LEGACY_DRAG = 0.5  # its stage pace falls by this x legacy burden


def measure_conditions(model: CityState, priority: np.ndarray) -> dict[str, float]:
    """Measure every city condition this step (module docstring), each in 0-1.

    Args:
        priority: the package's sector priorities in SECTOR_NAMES order (0 = none); the
            ``advantage`` condition reads the employment share of the prioritised sectors.

    Returns:
        {condition: level}.
    """
    p = model.params
    c = model.citizens
    f = model.firms
    d = model.districts
    employees = f.employees()
    jobs = np.bincount(f.sector, employees, len(SECTOR_NAMES))
    share = jobs / max(jobs.sum(), 1.0)
    low_end = share[[SECTOR_NAMES.index(s) for s in LOW_END_SECTORS]].sum()
    tfp = float(np.average(f.tfp, weights=employees + 1.0)) if len(f) else model.frontier
    adult = c.age >= 18
    labour = adult & (c.age < p.citizens.retirement_age)
    young = float((c.age[labour] < YOUNG_AGE).mean()) if labour.any() else 0.0
    talent = float((c.skill[adult] >= TALENT_SKILL).mean()) if adult.any() else 0.0
    trips = model.car_trips
    travel = (trips * d.travel_time).sum() / max((trips * d.free_time).sum(), 1e-9)
    residents = np.bincount(c.home, minlength=d.n) + 1e-9
    pollution = float(np.average(d.pollution, weights=residents))
    elderly = float((c.age >= p.citizens.retirement_age).mean()) if len(c) else 0.0
    prioritised = share[priority > 0].sum() if (priority > 0).any() else 1.0
    levels = {
        "frontier_gap": 1.0 - tfp / model.frontier,
        "low_end_base": low_end / 0.5,
        "young_labour": young / 0.5,
        "congestion": (travel - 1.0) / CONGESTED_EXCESS if trips.sum() > 0 else 0.0,
        "new_town_land": p.city.new_town_land,
        "talent": talent / 0.4,
        "research": p.firms.research_capacity,
        "advantage": p.firms.advantage_depth * min(1.0, 2.0 * prioritised),
        "pollution": pollution / 0.5,
        "aging": elderly / 0.3,
    }
    return {name: float(np.clip(value, 0.0, 1.0)) for name, value in levels.items()}


def fit_level(weights: Mapping[str, float], conditions: Mapping[str, float]) -> float:
    """Fit of an initiative to the city, 0-1: the weighted geometric mean of the conditions
    it names (its ``[fit]`` table), each floored at MIN_CONDITION; NEUTRAL_FIT when it names
    none. Geometric, because the conditions are joint needs (white paper 5.1.1 Path 2: a
    crowded core *and* land in new towns): plenty of one does not make up for the lack of
    another."""
    total = sum(weights.values())
    if total <= 0:
        return NEUTRAL_FIT
    logs = sum(w * np.log(max(conditions[name], MIN_CONDITION)) for name, w in weights.items())
    return float(np.exp(logs / total))

"""City conditions: what a city has that a development path can act on (white paper 5.1).

The white paper's central claim (5.1) is that mature and emerging cities need different
digitalization paths because their conditions differ: a mature city has a high start,
diversified and established industries, a dense, congested, aging core and a long history;
an emerging city has a low start, a low-end manufacturing base, a young labour force and
little legacy. Each condition here is a number in 0-1 measured from the city's state, never
from a preset or package name, and each is state that the city's own rules use with or
without a policy. This module only measures: no rule, initiative or lever reads it. An
initiative's effect follows the conditions through the agents and stocks its levers act on
(policies.initiatives), and an initiative's ``acts_on`` names the conditions for reports
(docs/path_fit.md, docs/policies.md).

Conditions (each clipped to 0-1), with the rule that uses the state in every city and the
parameters that set it at the start (CONDITION_PARAMETERS):

- ``frontier_gap``: 1 - employment-weighted firm productivity / frontier productivity; the
  room to climb the industrial chain (5.1.2 Path 2): firms' catch-up is proportional to it
  (agents.firms.grow_productivity).
- ``low_end_base``: employment share of manufacturing and logistics / 0.5 (5.1.2 Path 2):
  the firms the chain's digitalization levers act on.
- ``young_labour``: share of the labour force aged under 35 / 0.5; the demographic
  dividend (5.1.2 Path 2).
- ``congestion``: (travel time index - 1) / CONGESTED_EXCESS; a crowded core (5.1.1 Paths
  2 and 3, urban diseases): the delay traffic management removes.
- ``new_town_land``: the new towns' mean share of buildable land still open (5.1.1 Path
  2): housing construction builds on it (simulation.model.urban_systems.build_housing) and
  firms favour it (agents.firms.location_appeal).
- ``talent``: share of adults with skill >= TALENT_SKILL / 0.4 (5.1.2 Path 1).
- ``research``: the resident-weighted research stock of the districts (5.1.2 Path 1):
  knowledge-sector firm formation and productivity growth follow it (agents.firms).
- ``advantage``: 2 x value-added share of the sectors the package prioritises (all sectors
  if none) x their value added per worker over the city's: the established sectors'
  firms, output and productivity that a reactivation or rebuilding acts on (5.1.1 Paths 1
  and 4), which produce, sell and export in every city.
- ``pollution``: resident-weighted district pollution / 0.5 (5.1.1 Path 3).
- ``aging``: elderly share / 0.3 (5.1.1 Path 3, aging as an experimental field).

Two more conditions the white paper names are not measured here. The start
("well-developed urban functions", 5.1.1, against "low starting status", 5.1.2: the initial
infrastructure, coverage, service level and capabilities) acts through saturation:
district stocks and capabilities grow toward 1 in proportion to what is missing, so the
same build-out adds more where functions are thin. The government's drive ("encouraged
vigorously by the government", 5.1.2: government.spending_envelope and envelope_growth
under equal budgets) sets how much any path can build. Legacy burden (city.legacy_burden,
5.1.1: a "long history"; 5.1.2: "less burdened by history") is state the baseline uses: the
upkeep of old systems takes a share of the capability budget (agents.government
.invest_in_capabilities), and it raises the cost and slows the uptake of greenfield
initiatives (policies.initiatives).
"""

from __future__ import annotations

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
"""The measured city conditions (module docstring)."""

CONDITION_PARAMETERS = {
    "frontier_gap": ("firms.productivity", "firms.frontier_productivity"),
    "low_end_base": ("firms.share_manufacturing", "firms.share_logistics"),
    "young_labour": ("citizens.adult_age_tilt", "citizens.birth_rate"),
    "congestion": ("city.road_capacity", "city.radius_km"),
    "new_town_land": ("city.new_town_land",),
    "talent": ("citizens.skill_mean",),
    "research": ("firms.research_capacity",),
    "advantage": ("firms.share_creative", "firms.sector_productivity_creative"),
    "pollution": ("city.environment_quality",),
    "aging": ("citizens.elderly_share",),
}
"""The parameters that set each condition at the start; each also changes the baseline
city's trajectory (a test runs every one at both ends of its range)."""

LOW_END_SECTORS = ("manufacturing", "logistics")
YOUNG_AGE = 35.0  # years: the young part of the labour force (demographic dividend)
TALENT_SKILL = 0.7  # skill at or above which an adult counts as talent
CONGESTED_EXCESS = 0.3  # travel time index excess at which congestion counts as full


def measure_conditions(model: CityState, priority: np.ndarray) -> dict[str, float]:
    """Measure every city condition this step (module docstring), each in 0-1.

    Args:
        priority: the package's sector priorities in SECTOR_NAMES order (0 = none); the
            ``advantage`` condition measures the prioritised sectors.

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
    chosen = priority > 0 if (priority > 0).any() else np.ones(len(SECTOR_NAMES), dtype=bool)
    value = np.bincount(f.sector, f.value_added, len(SECTOR_NAMES))
    value_share = value[chosen].sum() / max(value.sum(), 1e-9)
    # value added per worker of the chosen sectors over the city's: jobs share vs value share
    relative = value_share / max(share[chosen].sum(), 1e-9)
    new_towns = d.is_kind("new_town")
    open_land = float(d.open_land()[new_towns].mean()) if new_towns.any() else 0.0
    levels = {
        "frontier_gap": 1.0 - tfp / model.frontier,
        "low_end_base": low_end / 0.5,
        "young_labour": young / 0.5,
        "congestion": (travel - 1.0) / CONGESTED_EXCESS if trips.sum() > 0 else 0.0,
        "new_town_land": open_land,
        "talent": talent / 0.4,
        "research": float(d.research @ (residents - 1e-9)) / max(len(c), 1),
        "advantage": 2.0 * value_share * relative,
        "pollution": pollution / 0.5,
        "aging": elderly / 0.3,
    }
    return {name: float(np.clip(value, 0.0, 1.0)) for name, value in levels.items()}

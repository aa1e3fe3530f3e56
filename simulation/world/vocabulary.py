"""The model's shared vocabulary: the names every layer uses, defined once, at the bottom.

Sectors, capabilities, digital services, need levels, commuting modes, district kinds, key
issues, initiative stages and the three development indices are tuples whose order is the
column order of the arrays that hold them (a firm's ``sector`` is an index into
:data:`SECTOR_NAMES`, a citizen's ``adopted`` has one column per :data:`DIGITAL_SERVICES`).
Nothing here imports the rest of the package.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import numpy as np

SECTOR_NAMES = (
    "manufacturing",
    "services",
    "logistics",
    "creative",
    "digital",
    "health",
    "platform",
)
"""Firm sectors: traditional manufacturing, traditional services,
logistics/port, creative, digital/ICT, health and elderly care, platform services."""

CAPABILITY_NAMES = (
    "organization",
    "infrastructure",
    "perception",
    "platform",
    "services",
    "digital_governance",
)
"""The six capabilities of white paper 6.2."""

DIGITAL_SERVICES = ("e_government", "telehealth", "convenience", "mobility")
"""Digital services a citizen can adopt (columns of ``Citizens.adopted``)."""

CONVENIENCE_SERVICES = tuple(
    DIGITAL_SERVICES.index(s) for s in ("e_government", "convenience", "mobility")
)
"""Digital services that spare a trip or a queue (convenience need, white paper 4.1)."""

NEED_LEVELS = ("basic", "convenience", "equality", "privacy", "participation")
"""Citizens' need levels (white paper 2.1; columns of ``Citizens.satisfaction``)."""

MODES = ("car", "transit", "micro", "cycle", "walk")
"""Commuting modes: car, transit (bus and rail), shared micro-mobility, own bicycle, walking."""
CAR, TRANSIT, MICRO, CYCLE, WALK = range(len(MODES))

DISTRICT_KINDS = ("core", "old", "new_town", "industrial", "suburb")
"""District kinds (white paper 5.1): dense core, old district, new town, industrial zone,
suburb."""

KEY_ISSUES = (
    "aging",
    "convenient_service",
    "personal_privacy",
    "equal_service",
    "industrial_transformation",
    "industry_cooperation",
    "business_environment",
    "environmental_pollution",
    "urban_traffic",
    "public_safety",
    "public_participation",
    "urban_infrastructure",
)
"""The 11 key issues of white paper Table 1 plus urban infrastructure (4.1)."""

STAGES = ("not started", "function", "performance", "effectiveness")
"""An initiative's maturity stages (white paper 1.3, 2.2, 4.3)."""

INDEX_METRICS = ("demand_advancement_index", "industrial_transition_index", "governance_index")
"""The three development indices (white paper 4.1): demand, industry, governance."""

NO_ONE = -1
"""Row index meaning "none": a citizen without an employer or without a commuting mode."""


class Clock(Protocol):
    """Anything that knows how many steps make a year (the model)."""

    steps_per_year: int


def per_step(model: Clock, yearly_rate: float | np.ndarray) -> np.ndarray | float:
    """Probability in one step of an event with the given yearly hazard rate."""
    if isinstance(yearly_rate, float | int):
        return _per_step_of(yearly_rate, model.steps_per_year)
    return 1.0 - np.exp(-np.asarray(yearly_rate) / model.steps_per_year)


@lru_cache(maxsize=1024)
def _per_step_of(yearly_rate: float, steps_per_year: int) -> float:
    """per_step of one rate, remembered: most rates are parameters, asked for every step
    (a rate equal to another, as 2 and 2.0, gives the same number)."""
    return 1.0 - np.exp(-np.asarray(yearly_rate) / steps_per_year)


def share(mask: np.ndarray) -> float:
    """Share of True entries (0 for none): ``mask.mean()`` bit for bit, as a count over the
    size; np.mean casts every entry to a float first, 4-10x slower."""
    return np.count_nonzero(mask) / mask.size if mask.size else 0.0

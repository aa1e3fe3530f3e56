"""Levers: the named quantities through which policies change what agents do.

The agents' rules read ``model.levers``; with no policy every lever is neutral (0), so the
baseline city runs its rules unchanged. Each step the active initiatives and new
infrastructure reset the levers and add their contributions, scaled by how well each one
works (its stage, readiness, adoption, coordination and financing). A lever key is a field
name, or ``field.item`` for the per-service and per-sector levers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from smartcity.simulation.world.vocabulary import DIGITAL_SERVICES, SECTOR_NAMES

VECTOR_ITEMS = {
    "service_availability": DIGITAL_SERVICES,
    "digital_affinity": SECTOR_NAMES,
    "sector_entry": SECTOR_NAMES,
}


@dataclass
class Levers:
    """Policy levers, neutral at 0. Meaning of each, and the rule that reads it:

    Attributes:
        service_availability: added availability (0-1) of each digital service in every
            district (Government.offer_digital_services).
        access_stretch: added digital stretch of public-service places (use_public_services).
        inclusive_access: share (0-1) of the access penalty of non-users of online services
            that is removed (use_public_services).
        literacy_support: yearly literacy gain of adults below the mean literacy (learn).
        care_capacity: relative rise of elderly health and of care demand (update_health,
            set_prices).
        privacy_protection: added protection of personal data, 0-1 (Government).
        participation: relative rise of the online participation probability.
        digital_cost_relief: share (0-1) of firms' digital-project cost paid by policy
            (invest_in_digital).
        digital_affinity: added productivity gain of digitalization per sector (produce).
        cluster_reach: share (0-1) of cluster spillovers that ignore distance, as
            online-offline cooperation does (cluster_spillover).
        export_growth: added yearly growth of outside demand for exports (set_prices).
        talent_attraction: relative rise of in-migration, and added skill of newcomers.
        sector_entry: relative rise of firm entry into each sector (enter_firms); each extra
            entrant costs a start-up grant, paid from the budget like every other lever's
            initiative.
        new_town_appeal: added appeal of new towns to firms and residents.
        road_capacity: relative rise of link capacity by traffic management (traffic).
        transit_speed: share (0-1) of bus running time protected from road congestion by
            bus priority; buses never beat their speed bound (simulation.world.transport).
        emission_cut: share (0-1) cut from traffic and industrial pollution.
        incident_cut: share (0-1) cut from safety incidents; response_cut: from response time.
        energy_cost_cut: share (0-1) cut from firms' fixed operating cost.
        processing_cut: share (0-1) cut from the cross-department part of administrative
            processing time (Government.processing_days).
        efficiency: added government efficiency, 0-1: it lowers the operating cost of
            public-service places and the in-department part of processing time, and is
            read by no index (provide_public_services, Government.processing_days).
    """

    service_availability: np.ndarray = field(
        default_factory=lambda: np.zeros(len(DIGITAL_SERVICES))
    )
    access_stretch: float = 0.0
    inclusive_access: float = 0.0
    literacy_support: float = 0.0
    care_capacity: float = 0.0
    privacy_protection: float = 0.0
    participation: float = 0.0
    digital_cost_relief: float = 0.0
    digital_affinity: np.ndarray = field(default_factory=lambda: np.zeros(len(SECTOR_NAMES)))
    cluster_reach: float = 0.0
    export_growth: float = 0.0
    talent_attraction: float = 0.0
    sector_entry: np.ndarray = field(default_factory=lambda: np.zeros(len(SECTOR_NAMES)))
    new_town_appeal: float = 0.0
    road_capacity: float = 0.0
    transit_speed: float = 0.0
    emission_cut: float = 0.0
    incident_cut: float = 0.0
    response_cut: float = 0.0
    energy_cost_cut: float = 0.0
    processing_cut: float = 0.0
    efficiency: float = 0.0

    def add(self, key: str, amount: float) -> None:
        """Add ``amount`` to the lever named ``key`` (``name`` or ``name.item``)."""
        name, _, item = key.partition(".")
        if item:
            getattr(self, name)[VECTOR_ITEMS[name].index(item)] += amount
        else:
            setattr(self, name, getattr(self, name) + amount)

    def share(self, name: str) -> float:
        """A share lever clipped to 0-0.95, so that no policy removes a quantity entirely."""
        return float(np.clip(getattr(self, name), 0.0, 0.95))


def lever_keys() -> list[str]:
    """Every valid lever key."""
    keys = []
    for f in fields(Levers):
        if f.name in VECTOR_ITEMS:
            keys += [f"{f.name}.{item}" for item in VECTOR_ITEMS[f.name]]
        else:
            keys.append(f.name)
    return keys

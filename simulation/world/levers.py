"""Levers: the typed quantities through which policies change what agents do.

They live in the world layer, below both the agents that read them and the policies that
set them, so ``CityState.levers`` has its type.

The agents' rules read ``model.levers``, a :class:`Levers` with one field per lever, each
with its unit, meaning, the rules that read it and its limit; with no policy every lever
is neutral (0), so the baseline city runs its rules unchanged. Each step the policy runtime
collects the contributions of the active initiatives, the new infrastructure, the
coordination of a unified platform and the sector priorities in a :class:`LeverInputs`
(one number per lever key: a field name, or ``field.item`` for the per-service and
per-sector levers) and turns them into the step's Levers.

Diminishing returns (white paper 4.3: effects grow with operability and adoption toward
what a city can absorb): a lever is never the plain sum of its contributions. It
approaches its limit (parameter ``levers.NAME``, with its plausible range and evidence),
value = limit x (1 - exp(-sum / limit)), so a small contribution
acts at face value, and doubling a large one adds less than it did: no share reaches 1,
no availability exceeds full, and a package at twice the dose never gets twice the
effect.

When the rules read them (docs/ODD.md 3): the runtime runs in the government phase, so the
rules of the daily-life, district and demography phases and the metrics read this step's
levers, and the firms' phase (entry, relocation, production, prices, digital investment)
and the government's public services before it read last step's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from smartcity.simulation.world.vocabulary import DIGITAL_SERVICES, SECTOR_NAMES


@dataclass(frozen=True)
class LeverSpec:
    """What one lever is: unit, meaning, the rules that read it, its limit.

    Attributes:
        unit: unit of the lever's value. meaning: one line.
        read_by: the rules that read it (and whether they see this step's or last step's).
        limit: the default of the value the lever approaches however much policy adds (its
            saturation; the parameter ``levers.NAME`` sets it for a run).
        plausible: the range a robustness analysis varies the limit over.
        evidence: where the limit comes from: a source, or "assumption" and why.
        items: names of the entries of a per-service or per-sector lever, else None.
    """

    unit: str
    meaning: str
    read_by: str
    limit: float
    plausible: tuple[float, float]
    evidence: str
    items: tuple[str, ...] | None = None


# The evidence of most limits: no source measures how far a city programme can move the
# quantity, so the limit is the assumed plausible maximum.
SHARE_CUT = "assumption: no programme removes all of it"


def lever(
    unit: str,
    meaning: str,
    read_by: str,
    limit: float,
    plausible: tuple[float, float],
    evidence: str,
    items: tuple[str, ...] | None = None,
) -> Any:
    """Declare a lever field, neutral at 0, with its metadata."""
    spec = LeverSpec(unit, meaning, read_by, limit, plausible, evidence, items)
    if items is None:
        return field(default=0.0, metadata={"spec": spec})
    return field(default_factory=lambda: np.zeros(len(items)), metadata={"spec": spec})


@dataclass
class Levers:
    """This step's policy levers, neutral at 0 (metadata: :func:`lever_specs`)."""

    service_availability: np.ndarray = lever(  # noqa: RUF009 (a field with a default_factory)
        "0-1 per service",
        "added availability of each digital service in every district",
        "Government.offer_digital_services (this step)",
        1.0,
        (0.8, 1.0),
        "definition: availability is at most full",
        DIGITAL_SERVICES,
    )
    access_stretch: float = lever(
        "x",
        "added digital stretch of public-service places",
        "use_public_services (this step)",
        0.5,
        (0.25, 1.0),
        "assumption: online channels at most about halve the places a resident needs",
    )
    inclusive_access: float = lever(
        "share",
        "share of the access penalty of non-users of online services removed",
        "use_public_services (this step)",
        0.95,
        (0.8, 1.0),
        SHARE_CUT,
    )
    literacy_support: float = lever(
        "1/year",
        "yearly literacy gain of adults below the mean literacy",
        "learn (this step)",
        0.5,
        (0.25, 1.0),
        "assumption: adult digital-skills courses",
    )
    care_capacity: float = lever(
        "x",
        "relative rise of elderly health care and of care demand",
        "health_target (this step), set_prices (last step)",
        1.0,
        (0.5, 2.0),
        "assumption: telehealth and home care at most double elderly care",
    )
    privacy_protection: float = lever(
        "0-1",
        "added protection of personal data",
        "Government.privacy_protection (this step)",
        0.6,
        (0.3, 0.9),
        "assumption: rules and audits close part of the gap to full protection",
    )
    participation: float = lever(
        "x",
        "relative rise of the online participation probability",
        "participate_online (this step)",
        2.0,
        (1.0, 4.0),
        "assumption: online channels raise participation a few times at most",
    )
    digital_cost_relief: float = lever(
        "share",
        "share of firms' digital-project cost paid by policy",
        "invest_in_digital (last step)",
        0.8,
        (0.5, 0.95),
        "assumption: subsidy programmes rarely pay more than most of a project",
    )
    digital_affinity: np.ndarray = lever(  # noqa: RUF009 (a field with a default_factory)
        "x per sector",
        "added productivity gain of digitalization per sector",
        "produce, invest_in_digital (last step)",
        1.0,
        (0.5, 2.0),
        "assumption: a sector's digital productivity gain at most doubles or triples",
        SECTOR_NAMES,
    )
    cluster_reach: float = lever(
        "share",
        "share of cluster spillovers that ignore distance (online cooperation)",
        "cluster_spillover (last step)",
        0.95,
        (0.8, 1.0),
        SHARE_CUT,
    )
    export_reach: float = lever(
        "share",
        "relative rise of outside demand for the city's exports: markets a platform opens "
        "(a level the city wins, not a growth rate of world demand)",
        "set_prices (last step)",
        0.3,
        (0.1, 0.5),
        "assumption: a city's platforms win at most a fraction more outside demand",
    )
    talent_attraction: float = lever(
        "x",
        "relative rise of in-migration, and added skill of newcomers",
        "attract_migrants (this step)",
        1.0,
        (0.5, 2.0),
        "assumption: talent programmes at most double or triple in-migration",
    )
    sector_entry: np.ndarray = lever(  # noqa: RUF009 (a field with a default_factory)
        "x per sector",
        "relative rise of firm entry into each sector (start-up grants)",
        "enter_firms (last step)",
        4.0,
        (2.0, 8.0),
        "assumption: start-up programmes multiply a sector's entry a few times",
        SECTOR_NAMES,
    )
    new_town_appeal: float = lever(
        "utils",
        "added appeal of new towns to firms and residents",
        "location_appeal (last step), district_appeal (this step)",
        2.0,
        (1.0, 4.0),
        "assumption: up to the spread of the district-kind affinities",
    )
    road_capacity: float = lever(
        "x",
        "relative rise of link capacity by traffic management",
        "CityModel traffic assignment (this step)",
        0.5,
        (0.25, 1.0),
        "assumption: signal control and traffic management add a fraction of a link's capacity",
    )
    transit_speed: float = lever(
        "share",
        "share of bus running time protected from road congestion (bus priority)",
        "TransportNetwork.update_costs (this step)",
        0.95,
        (0.8, 1.0),
        SHARE_CUT,
    )
    emission_cut: float = lever(
        "share",
        "share cut from traffic and industrial pollution",
        "pollution_target (this step)",
        0.95,
        (0.8, 1.0),
        SHARE_CUT,
    )
    incident_cut: float = lever(
        "share",
        "share cut from safety incidents",
        "count_safety_incidents (this step)",
        0.95,
        (0.8, 1.0),
        SHARE_CUT,
    )
    response_cut: float = lever(
        "share",
        "share cut from emergency response time",
        "count_safety_incidents (this step)",
        0.95,
        (0.8, 1.0),
        SHARE_CUT,
    )
    energy_cost_cut: float = lever(
        "share",
        "share cut from firms' fixed operating cost",
        "overhead (last step)",
        0.95,
        (0.8, 1.0),
        SHARE_CUT,
    )
    processing_cut: float = lever(
        "share",
        "share cut from the cross-department part of administrative processing time",
        "Government.processing_days (this step)",
        0.95,
        (0.8, 1.0),
        SHARE_CUT,
    )
    efficiency: float = lever(
        "0-1",
        "added government efficiency: cheaper public-service places and in-department "
        "processing; read by no index",
        "provide_public_services (last step), Government.processing_days (this step)",
        0.5,
        (0.25, 0.75),
        "assumption: process reform closes part of the gap to full efficiency",
    )


def lever_specs() -> dict[str, LeverSpec]:
    """Field name -> LeverSpec, in declaration order (a new dict each call)."""
    return dict(_LEVER_SPECS)


# Levers' fields are fixed when the class is made: read once, not at every step's levers().
_LEVER_SPECS: dict[str, LeverSpec] = {f.name: f.metadata["spec"] for f in fields(Levers)}


def lever_keys() -> list[str]:
    """Every valid lever key: a field name, or ``name.item`` for the vector levers."""
    keys = []
    for name, spec in lever_specs().items():
        keys += [f"{name}.{item}" for item in spec.items] if spec.items else [name]
    return keys


LEVER_KEYS = tuple(lever_keys())
LEVER_INDEX = {key: i for i, key in enumerate(LEVER_KEYS)}


def key_limits(limits: dict[str, float]) -> np.ndarray:
    """One limit per lever key, from one limit per lever name (a vector lever's items share
    theirs)."""
    return np.array([limits[name] for name in _KEY_NAMES])


_KEY_NAMES = tuple(key.partition(".")[0] for key in LEVER_KEYS)  # each key's lever name


DEFAULT_LIMITS = key_limits({name: spec.limit for name, spec in lever_specs().items()})


def saturate(raw: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """limit x (1 - exp(-raw / limit)), odd in raw: about raw while small, never past the
    limit (module docstring)."""
    return np.sign(raw) * limit * -np.expm1(-np.abs(raw) / limit)


class LeverInputs:
    """One step's raw contributions to every lever key, before saturation."""

    def __init__(self) -> None:
        self.raw = np.zeros(len(LEVER_KEYS))

    def add(self, key: str, amount: float) -> None:
        """Add ``amount`` to the lever key (``name`` or ``name.item``)."""
        self.raw[LEVER_INDEX[key]] += amount

    def add_items(self, name: str, amounts: np.ndarray) -> None:
        """Add one amount per item to a vector lever (in its items' order)."""
        first = LEVER_INDEX[f"{name}.{_LEVER_SPECS[name].items[0]}"]
        self.raw[first : first + len(amounts)] += amounts

    def levers(self, limits: np.ndarray) -> Levers:
        """The step's Levers: every lever saturated toward its limit (one per lever key,
        :func:`key_limits`: the run's Parameters.lever_limits, or DEFAULT_LIMITS)."""
        values = saturate(self.raw, limits)
        settled: dict[str, float | np.ndarray] = {}
        position = 0
        for name, spec in _LEVER_SPECS.items():
            width = len(spec.items) if spec.items else 1
            part = values[position : position + width]
            settled[name] = part.copy() if spec.items else float(part[0])
            position += width
        return Levers(**settled)

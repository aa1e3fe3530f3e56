"""Metrics tracked every step: one module-level reporter function per metric.

Each reporter takes the model and returns a float; its docstring gives the formula, and
METRICS records its unit and documented range (white paper 4.1 for the
three families: demand advancement, industrial transition, governance upgrade). Money is
held in k (thousand currency units) per month inside the model and reported per year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from smartcity.agents.citizens import NEED_WEIGHTS, care_supply, weighted_rows
from smartcity.agents.firms import (
    DIGITAL_CORE_SECTORS,
    HIGH_VALUE_SECTORS,
    digital_affinity,
    sector_mask,
)
from smartcity.policies.initiatives import initiative_names
from smartcity.simulation.world.districts import JAM_SLOWDOWN
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import CAPABILITY_NAMES, MODES, NEED_LEVELS, SECTOR_NAMES


@dataclass(frozen=True)
class MetricSpec:
    """A metric's name, unit, documented range and reporter function."""

    name: str
    unit: str
    lower: float
    upper: float
    reporter: Callable[[CityState], float]
    description: str


def _share(mask: np.ndarray) -> float:
    return float(mask.mean()) if len(mask) else 0.0


def _annual_millions(model: CityState, monthly_k: float) -> float:
    return float(monthly_k) * model.steps_per_year / 1000.0


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, 1 = one holds all)."""
    v = np.sort(np.asarray(values, dtype=float))
    if len(v) == 0 or v.sum() <= 0:
        return 0.0
    n = len(v)
    # Float weights (an int64 @ float64 product takes a slow generic loop), summed by einsum
    # rather than BLAS (whose threads slow a shared machine down, see weighted_rows).
    weights = 2 * np.arange(1, n + 1, dtype=float) - n - 1
    return float(np.einsum("i,i->", weights, v) / (n * v.sum()))


# --- population and demand advancement --------------------------------------------------


def population(model: CityState) -> float:
    """Citizens living in the city."""
    return float(len(model.citizens))


def births(model: CityState) -> float:
    """Births this step."""
    return float(model.flows["births"])


def deaths(model: CityState) -> float:
    """Deaths this step."""
    return float(model.flows["deaths"])


def immigrants(model: CityState) -> float:
    """In-migrants this step (adsorption)."""
    return float(model.flows["immigrants"])


def emigrants(model: CityState) -> float:
    """Out-migrants this step."""
    return float(model.flows["emigrants"])


def elderly_share(model: CityState) -> float:
    """Share of citizens aged at or above the retirement age."""
    return _share(model.citizens.age >= model.params.citizens.retirement_age)


def service_access(model: CityState) -> float:
    """Mean public-service access of citizens (places x digital stretch / residents, <= 1)."""
    return float(model.citizens.access.mean())


def service_access_gap(model: CityState) -> float:
    """Gini coefficient of citizens' public-service access (0 = equal access)."""
    return gini(model.citizens.access)


def elderly_care_coverage(model: CityState) -> float:
    """Mean over the elderly of public-service access x care supply, where care supply =
    min(1, health-sector workers / (0.25 x elderly)): it falls once the elderly outgrow
    the carers (white paper Table 1, aging; agents.citizens.care_supply)."""
    c = model.citizens
    elderly = c.age >= model.params.citizens.retirement_age
    if not elderly.any():
        return 1.0
    return float(c.access[elderly].mean() * care_supply(model))


def _mean_adoption(adopted: np.ndarray, mask: np.ndarray) -> float:
    """adopted[mask].mean() without copying the selected rows (2-D boolean indexing)."""
    total = np.count_nonzero(mask) * adopted.shape[1]
    return np.count_nonzero(adopted & mask[:, None]) / total if total else float("nan")


def digital_adoption(model: CityState) -> float:
    """Mean share of the digital services (e-government, telehealth, convenience, mobility)
    each adult uses."""
    c = model.citizens
    return float(_mean_adoption(c.adopted, c.adults()))


def digital_divide(model: CityState) -> float:
    """Adoption of adults under 40 minus adoption of the elderly (>= retirement age)."""
    c = model.citizens
    young = (c.age >= 18) & (c.age < 40)
    old = c.age >= model.params.citizens.retirement_age
    if not young.any() or not old.any():
        return 0.0
    return float(_mean_adoption(c.adopted, young) - _mean_adoption(c.adopted, old))


def privacy_trust(model: CityState) -> float:
    """Mean trust of adults in government's handling of their data and services."""
    c = model.citizens
    return float(c.trust[c.adults()].mean())


def satisfaction(model: CityState, level: str) -> float:
    """Mean satisfaction of citizens with the {level} need level."""
    return float(model.citizens.satisfaction[:, NEED_LEVELS.index(level)].mean())


def demand_advancement_index(model: CityState) -> float:
    """Mean over citizens of weighted satisfaction across the five need levels (weights
    basic 0.3, convenience 0.25, equality, privacy, participation 0.15 each)."""
    return float(weighted_rows(model.citizens.satisfaction, NEED_WEIGHTS).mean())


# --- industrial transition --------------------------------------------------------------


def gdp(model: CityState) -> float:
    """Gross domestic product: sum of firms' value added, annualised (M/year)."""
    return _annual_millions(model, model.firms.value_added.sum())


def gdp_growth(model: CityState) -> float:
    """Growth of GDP over the last 12 months (or annualised since the start in year 1)."""
    history = model.gdp_history
    if len(history) < 2 or history[0] <= 0:
        return 0.0
    months = len(history) - 1
    return float((history[-1] / history[0]) ** (model.steps_per_year / months) - 1)


def gdp_per_capita(model: CityState) -> float:
    """GDP per citizen (k/person-year)."""
    return gdp(model) * 1000.0 / max(len(model.citizens), 1)


def digital_economy_share(model: CityState) -> float:
    """Share of value added from digital/ICT and platform firms, plus the part of other
    firms' value added due to digitalization: g a d / (1 + g a d) of it."""
    f = model.firms
    total = f.value_added.sum()
    if total <= 0:
        return 0.0
    core = sector_mask(DIGITAL_CORE_SECTORS)[f.sector]
    lift = model.params.firms.digital_gain * digital_affinity(model)[f.sector] * f.digital
    digitalized = f.value_added * lift / (1 + lift)
    return float((f.value_added[core].sum() + digitalized[~core].sum()) / total)


def value_density(model: CityState) -> float:
    """GDP per km2 of city land (M/km2-year)."""
    return gdp(model) / model.districts.area_km2.sum()


def productivity(model: CityState) -> float:
    """Value added per employed citizen (k/worker-month)."""
    workers = (model.citizens.employer >= 0).sum()
    return float(model.firms.value_added.sum() / model.months_per_step / max(workers, 1))


def high_value_share(model: CityState) -> float:
    """Share of jobs in high-value sectors: creative, digital/ICT, health care, platforms."""
    f = model.firms
    labour = f.employees()
    return float(labour[sector_mask(HIGH_VALUE_SECTORS)[f.sector]].sum() / max(labour.sum(), 1))


def employment(model: CityState) -> float:
    """Citizens with a job."""
    return float((model.citizens.employer >= 0).sum())


def unemployment_rate(model: CityState) -> float:
    """Jobless share of the labour force (working age, not retired)."""
    c = model.citizens
    force = c.labour_force(model.params.citizens.retirement_age)
    return float((force & (c.employer < 0)).sum() / max(force.sum(), 1))


def firms(model: CityState) -> float:
    """Firms in the city."""
    return float(len(model.firms))


def firm_entries(model: CityState) -> float:
    """Firms entering this step."""
    return float(model.flows["firm_entries"])


def firm_exits(model: CityState) -> float:
    """Firms closing this step."""
    return float(model.flows["firm_exits"])


def new_town_job_share(model: CityState) -> float:
    """Share of jobs located in new towns (multi-centre development, white paper 5.1.1)."""
    f = model.firms
    labour = f.employees()
    in_new_town = model.districts.is_kind("new_town")[f.district]
    return float(labour[in_new_town].sum() / max(labour.sum(), 1))


def _sector_of_firms(model: CityState, sector: str) -> np.ndarray:
    return sector_mask((sector,))[model.firms.sector]


def value_added(model: CityState, sector: str) -> float:
    """Value added of the {sector} sector's firms, per year."""
    f = model.firms
    in_sector = _sector_of_firms(model, sector)
    return _annual_millions(model, f.value_added[in_sector].sum())


def jobs(model: CityState, sector: str) -> float:
    """Jobs in the {sector} sector's firms."""
    return float(model.firms.employees()[_sector_of_firms(model, sector)].sum())


def relative_value_added_per_worker(model: CityState, sector: str) -> float:
    """Value added per worker of the {sector} sector over the city's value added per worker
    (0 when the sector has no workers; white paper 5.1.1 Path 1 compares creative value
    added per worker with the whole economy)."""
    f = model.firms
    labour = f.employees()
    in_sector = _sector_of_firms(model, sector)
    workers = labour[in_sector].sum()
    if workers <= 0 or labour.sum() <= 0:
        return 0.0
    city = f.value_added.sum() / labour.sum()
    return float(f.value_added[in_sector].sum() / workers / city) if city > 0 else 0.0


def digitalization(model: CityState, sector: str) -> float:
    """Digitalization of the {sector} sector: its firms' digital level (0-1), weighted by
    their workers (white paper 5.1.1 Path 4 reports the share of logistics processes
    digitalized)."""
    f = model.firms
    in_sector = _sector_of_firms(model, sector)
    labour = f.employees()[in_sector]
    if labour.sum() <= 0:
        return 0.0
    return float(np.average(f.digital[in_sector], weights=labour))


def young_firms(model: CityState, sector: str) -> float:
    """Firms of the {sector} sector founded in the last 12 months (firm formation)."""
    f = model.firms
    # An entrant is one step old at the end of its entry step, so the last year's entrants
    # are 1 to steps_per_year steps old; the half step absorbs the rounding of summed steps.
    founded = f.age < 1.0 + 0.5 / model.steps_per_year
    return float((_sector_of_firms(model, sector) & founded).sum())


def core_population(model: CityState) -> float:
    """Residents of the core districts (the historic centre, white paper 5.1.1 Path 2)."""
    return float(model.districts.is_kind("core")[model.citizens.home].sum())


def new_town_population(model: CityState) -> float:
    """Residents of the new towns (white paper 5.1.1 Path 2)."""
    return float(model.districts.is_kind("new_town")[model.citizens.home].sum())


def industrial_transition_index(model: CityState) -> float:
    """Mean of digital economy share, high-value job share, productivity score x/(x +
    frontier) and employment rate (1 - unemployment)."""
    frontier = model.frontier
    score = productivity(model) / (productivity(model) + frontier)
    return float(
        np.mean(
            [
                digital_economy_share(model),
                high_value_share(model),
                score,
                1 - unemployment_rate(model),
            ]
        )
    )


# --- governance upgrade -----------------------------------------------------------------


def congestion_index(model: CityState) -> float:
    """Road congestion index: car-trip-weighted congested over free-flow car travel time
    (>= 1)."""
    d = model.districts
    trips = model.car_trips
    if trips.sum() <= 0:
        return 1.0
    return float((trips * d.travel_time).sum() / (trips * d.free_time).sum())


def travel_time_index(model: CityState) -> float:
    """All-mode travel time index: commuter-weighted door-to-door minutes over the same trips'
    free-flow minutes, over every commuting mode (roads congested, buses slowed in traffic;
    >= 1)."""
    trips = model.commute_trips
    free = (trips * model.transit.free_minutes).sum()
    if free <= 0:
        return 1.0
    return float((trips * model.transit.minutes).sum() / free)


def mode_share(model: CityState, mode: str) -> float:
    """Share of commuters going by {mode}."""
    trips = model.commute_trips
    total = trips.sum()
    return float(trips[MODES.index(mode)].sum() / total) if total > 0 else 0.0


def transit_crowding(model: CityState) -> float:
    """Rider-weighted load factor of the transit links: sum of riders x load over the sum of
    riders, load = peak-hour riders / seats (1 = every seat taken, transport.standing_factor
    = full with standees; 0 with no riders)."""
    t = model.transit
    riders = t.flow.sum()
    return float((t.flow * t.load).sum() / riders) if riders > 0 else 0.0


def rail_load_factor(model: CityState) -> float:
    """Seat-weighted load factor of the rail links: peak-hour rail riders over rail seats
    (0 without rail)."""
    return model.transit.rail_load_factor(model.params.transport)


def pollution(model: CityState) -> float:
    """Resident-weighted mean district pollution (0 clean - 1 severe)."""
    residents = np.bincount(model.citizens.home, minlength=model.districts.n)
    return float(np.average(model.districts.pollution, weights=residents + 1e-9))


def safety_incidents(model: CityState) -> float:
    """Safety incidents per 1000 residents per year over the last year's steps (annualised
    over the steps recorded so far in the first year): the annual rate a city publishes,
    not one month's Poisson count, whose noise would swamp a policy's effect."""
    history = model.incident_history
    if not history:
        return 0.0
    incidents = sum(count for count, _ in history)
    residents = sum(people for _, people in history) / len(history)
    per_year = incidents * model.steps_per_year / len(history)
    return float(per_year * 1000 / max(residents, 1))


def response_time(model: CityState) -> float:
    """Incident-weighted mean emergency response time (minutes)."""
    return float(model.response_minutes)


def online_participation(model: CityState) -> float:
    """Share of adults taking part in governance online this step."""
    c = model.citizens
    return float(c.participates[c.adults()].mean())


def government_efficiency(model: CityState) -> float:
    """(0.5 + 0.5 organization) x (0.7 + 0.3 platform) capability plus policies' efficiency
    lever (0-1): a cost factor of running services, not an index term."""
    return model.government.efficiency()


def processing_time(model: CityState) -> float:
    """Mean days to process a citizen's request: in-department work (faster online and in
    an efficient administration) plus the wait on other departments' data, which shared data
    removes (Government.processing_days)."""
    return model.government.processing_days()


def income_tax_rate(model: CityState) -> float:
    """Income-tax rate citizens pay: statutory rate plus the fiscal rule's adjustment."""
    return model.government.income_tax_rate()


def public_spending(model: CityState) -> float:
    """Cumulative public investment since the start: capability budget, initiatives,
    platform, new infrastructure and conventional programmes (M)."""
    return model.government.public_investment_total / 1000.0


def fiscal_balance(model: CityState) -> float:
    """Government revenue minus spending including interest, annualised (M/year)."""
    return _annual_millions(model, model.government.balance())


def debt_ratio(model: CityState) -> float:
    """Public debt over annual GDP."""
    return model.government.debt_ratio()


def travel_term(model: CityState) -> float:
    """Governance term for getting around: 1 / travel time index over all modes (1 = free
    flow)."""
    return 1 / travel_time_index(model)


# Physical bound of the congestion and travel time indices: no link is slower than a jam
# at walking pace (simulation.world.districts.JAM_SLOWDOWN); a run past it stops with its
# step and value (simulation.model.invariants checks every metric's range).
MAX_CONGESTION_INDEX = JAM_SLOWDOWN
RESPONSE_SCALE_MINUTES = 24.0  # response time at which the response term reaches 0
PROCESSING_SCALE_DAYS = 40.0  # processing time at which the processing term reaches 0


def governance_terms(model: CityState) -> dict[str, float]:
    """The governance index's terms, each 0-1 and each an outcome a citizen, firm or auditor
    observes (docs/ODD.md, Development indices): travel = 1 / travel time index;
    environment = 1 - pollution; safety = exp(-incidents per 1000 residents-year / 30);
    emergency response = 1 - response minutes / 24; participation = share of adults taking
    part online; processing = 1 - processing days / 40; fiscal health = 1 - debt ratio /
    (2 x debt limit), each clipped to 0-1."""
    limit = model.params.government.debt_limit
    terms = {
        "travel": travel_term(model),
        "environment": 1 - pollution(model),
        "safety": np.exp(-safety_incidents(model) / 30.0),
        "response": 1 - response_time(model) / RESPONSE_SCALE_MINUTES,
        "participation": online_participation(model),
        "processing": 1 - processing_time(model) / PROCESSING_SCALE_DAYS,
        "fiscal_health": 1 - debt_ratio(model) / (2 * limit),
    }
    return {name: float(np.clip(value, 0.0, 1.0)) for name, value in terms.items()}


def governance_index(model: CityState) -> float:
    """Mean of the seven governance terms (governance_terms): travel, environment, safety,
    emergency response, online participation, processing time and fiscal health; no term
    reads a lever, a capability stock or a count of initiatives (white paper 5.1,
    "coordination and intelligence of urban management" shows in these outcomes)."""
    return float(np.mean(list(governance_terms(model).values())))


def capability(model: CityState, name: str) -> float:
    """Stock of the {name} capability (white paper 6.2), 0-1."""
    return model.government.capability(name)


# --- economy and systematicness ---------------------------------------------------------


def capability_index(model: CityState) -> float:
    """Mean of the six capability stocks (white paper 6.2), 0-1."""
    return float(model.government.capabilities.mean())


def coordination_index(model: CityState) -> float:
    """Data integration: platform capability x the linked share of initiatives' work
    (stage >= performance x operability x min(1, scale)) with a unified data platform, 0
    with data islands (policies.runtime); a diagnostic of the mechanism, not an index term."""
    return model.policy_runtime.integration(model)


def initiative_public_cost(model: CityState) -> float:
    """Public spending on initiatives, the unified platform, sector grants and new
    infrastructure, net of the government's share of user fees, annualised (M/year)."""
    acc = model.government.accounts
    net = acc["initiatives"] + acc["new_infrastructure"] - acc["initiative_revenue"]
    return _annual_millions(model, net)


def private_capital_mobilized(model: CityState) -> float:
    """Private capital put into initiatives since the start (M), by financing model."""
    return model.policy_runtime.private_capital_total / 1000.0


def return_on_public_investment(model: CityState) -> float:
    """Cumulative GDP gain over the initial monthly GDP, divided by cumulative public
    investment (capability budget, initiatives, platform, sector grants, new infrastructure,
    conventional programmes: public_spending) (M per M)."""
    invested = model.government.public_investment_total
    # Below 1 k invested the ratio is meaningless (and can overflow).
    return float(model.gdp_gain_total / invested) if invested >= 1.0 else 0.0


def new_infrastructure_utilization(model: CityState) -> float:
    """Demand served over capacity built, capacity-weighted over new-infrastructure kinds
    (1 when none is built; low values are investment ahead of demand, NI 4.1)."""
    return model.policy_runtime.infrastructure.utilization()


def stage(model: CityState, initiative: str) -> float:
    """Stage of initiative {initiative}: 0 not in the package or not started, 1 function, 2
    performance, 3 effectiveness (white paper 1.3)."""
    for running in model.policy_runtime.initiatives:
        if running.name == initiative:
            return float(running.stage)
    return 0.0


_UNIT = (0.0, 1.0)
_COUNT = (0.0, np.inf)
_TABLE: list[tuple[Callable[..., float], str, tuple[float, float]]] = [
    (population, "citizens", _COUNT),
    (births, "citizens/step", _COUNT),
    (deaths, "citizens/step", _COUNT),
    (immigrants, "citizens/step", _COUNT),
    (emigrants, "citizens/step", _COUNT),
    (elderly_share, "share", _UNIT),
    (service_access, "0-1", _UNIT),
    (service_access_gap, "Gini", _UNIT),
    (elderly_care_coverage, "0-1", _UNIT),
    (digital_adoption, "share", _UNIT),
    (digital_divide, "share points", (-1.0, 1.0)),
    (privacy_trust, "0-1", _UNIT),
    *[(partial(satisfaction, level=level), "0-1", _UNIT) for level in NEED_LEVELS],
    (demand_advancement_index, "0-1", _UNIT),
    (gdp, "M/year", _COUNT),
    (gdp_growth, "1/year", (-1.0, np.inf)),
    (gdp_per_capita, "k/person-year", _COUNT),
    (digital_economy_share, "share", _UNIT),
    (value_density, "M/km2-year", _COUNT),
    (productivity, "k/worker-month", _COUNT),
    (high_value_share, "share", _UNIT),
    (employment, "citizens", _COUNT),
    (unemployment_rate, "share", _UNIT),
    (firms, "firms", _COUNT),
    (firm_entries, "firms/step", _COUNT),
    (firm_exits, "firms/step", _COUNT),
    (new_town_job_share, "share", _UNIT),
    (core_population, "citizens", _COUNT),
    (new_town_population, "citizens", _COUNT),
    *[(partial(value_added, sector=s), "M/year", (-np.inf, np.inf)) for s in SECTOR_NAMES],
    *[(partial(jobs, sector=s), "citizens", _COUNT) for s in SECTOR_NAMES],
    *[(partial(relative_value_added_per_worker, sector=s), "ratio", _COUNT) for s in SECTOR_NAMES],
    *[(partial(digitalization, sector=s), "0-1", _UNIT) for s in SECTOR_NAMES],
    *[(partial(young_firms, sector=s), "firms", _COUNT) for s in SECTOR_NAMES],
    (industrial_transition_index, "0-1", _UNIT),
    (congestion_index, "ratio", (1.0, MAX_CONGESTION_INDEX)),
    (travel_time_index, "ratio", (1.0, MAX_CONGESTION_INDEX)),
    *[(partial(mode_share, mode=mode), "share", _UNIT) for mode in MODES],
    (transit_crowding, "load factor", _COUNT),
    (rail_load_factor, "load factor", _COUNT),
    (pollution, "0-1", _UNIT),
    (safety_incidents, "per 1000 residents-year", _COUNT),
    (response_time, "min", _COUNT),
    (online_participation, "share", _UNIT),
    (government_efficiency, "0-1", _UNIT),
    (processing_time, "days", _COUNT),
    (income_tax_rate, "share", _UNIT),
    (fiscal_balance, "M/year", (-np.inf, np.inf)),
    (debt_ratio, "debt/GDP", (-np.inf, np.inf)),
    *[(partial(capability, name=name), "0-1", _UNIT) for name in CAPABILITY_NAMES],
    (governance_index, "0-1", _UNIT),
    (capability_index, "0-1", _UNIT),
    (coordination_index, "0-1", _UNIT),
    (initiative_public_cost, "M/year", (-np.inf, np.inf)),
    (public_spending, "M", _COUNT),
    (private_capital_mobilized, "M", _COUNT),
    (return_on_public_investment, "M/M", (-np.inf, np.inf)),
    (new_infrastructure_utilization, "share", _UNIT),
    *[(partial(stage, initiative=name), "stage 0-3", (0.0, 3.0)) for name in initiative_names()],
]


def _metric_spec(fn: Callable[..., float], unit: str, lo: float, hi: float) -> MetricSpec:
    """A MetricSpec named after the function, or after its function and keyword (partial)."""
    if isinstance(fn, partial):
        (value,) = fn.keywords.values()
        name = f"{fn.func.__name__}_{value}"
        doc = (fn.func.__doc__ or "").format(
            **{k: v.replace("_", " ") for k, v in fn.keywords.items()}
        )
    else:
        name, doc = fn.__name__, fn.__doc__ or ""
    return MetricSpec(name, unit, lo, hi, fn, " ".join(doc.split()))


METRICS: dict[str, MetricSpec] = {
    spec.name: spec for spec in (_metric_spec(fn, unit, lo, hi) for fn, unit, (lo, hi) in _TABLE)
}
"""Every metric by name, in reporting order."""

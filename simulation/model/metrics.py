"""Metrics: one module-level reporter function per metric, registered by :func:`metric`.

Each reporter takes the model and returns a float; its docstring gives the formula, and its
registration records its unit and documented range (white paper 4.1 for the three
families: demand advancement, industrial transition, governance upgrade). Money is held in
k (thousand currency units) per month inside the model and reported per year.

What several metrics read (masks of adults and of the elderly, the firms' employees, sector
masks, residents per district, the metrics that others combine) is computed once per
recorded step by :class:`Aggregates` (``shared(model)``). A user module adds a metric with
the same decorator; every model built after its import records it::

    from smartcity.simulation.model.metrics import metric

    @metric("share", 0.0, 1.0)
    def telehealth_use(model) -> float:
        \"\"\"Share of citizens using telehealth.\"\"\"
        return float(model.citizens.adopted[:, 1].mean())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np
from numba import njit

from smartcity.agents.citizens import NEED_WEIGHTS, WORKING_AGE, care_supply, weighted_rows
from smartcity.agents.firms import (
    DIGITAL_CORE_SECTORS,
    HIGH_VALUE_SECTORS,
    digital_affinity,
    sector_mask,
)
from smartcity.policies.initiatives import initiative_names
from smartcity.simulation.world.districts import JAM_SLOWDOWN
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import (
    CAPABILITY_NAMES,
    MODES,
    NEED_LEVELS,
    SECTOR_NAMES,
    share,
)

Reporter = Callable[[CityState], float]


@dataclass(frozen=True)
class MetricSpec:
    """A metric's name, unit, documented range and reporter function."""

    name: str
    unit: str
    lower: float
    upper: float
    reporter: Reporter
    description: str


METRICS: dict[str, MetricSpec] = {}
"""Every registered metric by name, in reporting order (the order of registration)."""

UNIT = (0.0, 1.0)


def metric(
    unit: str,
    lower: float = 0.0,
    upper: float = np.inf,
    *,
    over: tuple[str, Sequence[str]] | None = None,
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Register the decorated reporter as a metric (or one metric per value of ``over``).

    Args:
        unit: the metric's unit, as the reports print it.
        lower, upper: the documented range; a recorded value outside it stops the run
            (simulation.model.invariants).
        over: ``(keyword, values)``: one metric ``NAME_VALUE`` per value, the reporter
            called with ``keyword=value``; its docstring may name ``{keyword}``.

    A name already registered by another function is refused (ValueError); registering
    the same function again (a module imported twice) replaces its entries.
    """

    def register(fn: Callable[..., float]) -> Callable[..., float]:
        reporters = [fn] if over is None else [partial(fn, **{over[0]: v}) for v in over[1]]
        for reporter in reporters:
            spec = _metric_spec(reporter, unit, lower, upper)
            known = METRICS.get(spec.name)
            if known is not None and _origin(known.reporter) != _origin(reporter):
                raise ValueError(f"metric {spec.name!r} is already registered")
            METRICS[spec.name] = spec
        return fn

    return register


def _origin(reporter: Reporter) -> tuple[str, str]:
    fn = reporter.func if isinstance(reporter, partial) else reporter
    return fn.__module__, fn.__qualname__


def _metric_spec(fn: Reporter, unit: str, lo: float, hi: float) -> MetricSpec:
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


def model_metrics(model: CityState) -> list[MetricSpec]:
    """The metrics a model records: every registered one, plus the stage of each initiative
    of its package that is not a shipped one (a Python initiative loaded with allow_code)."""
    specs = list(METRICS.values())
    for running in model.policy_runtime.initiatives:
        spec = _metric_spec(partial(stage, initiative=running.name), "stage 0-3", 0.0, 3.0)
        if spec.name not in METRICS:
            specs.append(spec)
    return specs


class Aggregates:
    """Quantities that several metrics read, each computed once, at first use.

    The model's recorder makes one per recorded step (``shared(model)`` returns it), so
    the masks and counts below cost one pass over the citizens or firms per step instead
    of one per metric; reporters called outside a recording get a fresh one.
    """

    def __init__(self, model: CityState, known: Mapping[Reporter, float] | None = None):
        self.model = model
        self._values: dict[Reporter, float] = dict(known or {})

    def value(self, reporter: Reporter) -> float:
        """The value of a metric's reporter in this state, computed once."""
        if reporter not in self._values:
            self._values[reporter] = reporter(self.model)
        return self._values[reporter]

    @cached_property
    def adults(self) -> np.ndarray:
        """Mask of citizens of working age or older."""
        return self.model.citizens.age >= WORKING_AGE

    @cached_property
    def elderly(self) -> np.ndarray:
        """Mask of citizens at or above the retirement age."""
        return self.model.citizens.age >= self.model.params.citizens.retirement_age

    @cached_property
    def labour_force(self) -> np.ndarray:
        """Mask of citizens of working age and not retired."""
        return self.adults & ~self.elderly

    @cached_property
    def employed(self) -> np.ndarray:
        """Mask of citizens with a job."""
        return self.model.citizens.employer >= 0

    @cached_property
    def workers(self) -> int:
        """Citizens with a job."""
        return int(np.count_nonzero(self.employed))

    @cached_property
    def labour(self) -> np.ndarray:
        """Workers of each firm."""
        return self.model.firms.employees()

    @cached_property
    def labour_total(self) -> float:
        """Workers of all firms."""
        return float(self.labour.sum())

    @cached_property
    def value_added_total(self) -> float:
        """Value added of all firms this step (k)."""
        return float(self.model.firms.value_added.sum())

    @cached_property
    def residents(self) -> np.ndarray:
        """Residents of each district."""
        return np.bincount(self.model.citizens.home, minlength=self.model.districts.n)

    @cached_property
    def adoption_counts(self) -> dict[str, tuple[int, int]]:
        """(citizens, services they use) of the adults, the adults under 40 and the
        elderly, counted in one pass (integers, so any order of counting gives the same)."""
        c = self.model.citizens
        counts = _count_adoption(c.adopted, c.age, self.model.params.citizens.retirement_age)
        return {
            group: (int(counts[k, 0]), int(counts[k, 1]))
            for k, group in enumerate(("adults", "young", "elderly"))
        }

    def in_sectors(self, names: tuple[str, ...]) -> np.ndarray:
        """Mask of the firms of the named sectors."""
        key = ("sectors", names)
        if key not in self.__dict__:
            self.__dict__[key] = sector_mask(names)[self.model.firms.sector]
        return self.__dict__[key]

    def residents_of(self, kind: str) -> float:
        """Residents of the districts of one kind."""
        return float(self.residents[self.model.districts.is_kind(kind)].sum())


@njit(cache=True)
def _count_adoption(adopted: np.ndarray, age: np.ndarray, retirement_age: float) -> np.ndarray:
    """Rows adults, adults under 40, elderly (age >= retirement age); columns citizens and
    services used. Branch-free: the groups' memberships are added as 0 or 1."""
    counts = np.zeros((3, 2), dtype=np.int64)
    for i in range(len(age)):
        used = 0
        for s in range(adopted.shape[1]):
            used += adopted[i, s]
        adult = age[i] >= WORKING_AGE
        for group, member in enumerate((adult, adult & (age[i] < 40), age[i] >= retirement_age)):
            counts[group, 0] += member
            counts[group, 1] += used * member
    return counts


def shared(model: CityState) -> Aggregates:
    """The aggregates of the step being recorded (a fresh set outside a recording)."""
    aggregates = getattr(model, "aggregates", None)
    return aggregates if aggregates is not None else Aggregates(model)


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


@metric("citizens")
def population(model: CityState) -> float:
    """Citizens living in the city."""
    return float(len(model.citizens))


@metric("citizens/step")
def births(model: CityState) -> float:
    """Births this step."""
    return float(model.flows["births"])


@metric("citizens/step")
def deaths(model: CityState) -> float:
    """Deaths this step."""
    return float(model.flows["deaths"])


@metric("citizens/step")
def immigrants(model: CityState) -> float:
    """In-migrants this step (adsorption)."""
    return float(model.flows["immigrants"])


@metric("citizens/step")
def emigrants(model: CityState) -> float:
    """Out-migrants this step."""
    return float(model.flows["emigrants"])


@metric("share", *UNIT)
def elderly_share(model: CityState) -> float:
    """Share of citizens aged at or above the retirement age."""
    return share(shared(model).elderly)


@metric("0-1", *UNIT)
def service_access(model: CityState) -> float:
    """Mean public-service access of citizens (places x digital stretch / residents, <= 1)."""
    return float(model.citizens.access.mean())


@metric("Gini", *UNIT)
def service_access_gap(model: CityState) -> float:
    """Gini coefficient of citizens' public-service access (0 = equal access)."""
    return gini(model.citizens.access)


@metric("0-1", *UNIT)
def elderly_care_coverage(model: CityState) -> float:
    """Mean over the elderly of public-service access x care supply, where care supply =
    min(1, health-sector workers / (0.25 x elderly)): it falls once the elderly outgrow
    the carers (white paper Table 1, aging; agents.citizens.care_supply)."""
    elderly = shared(model).elderly
    if not elderly.any():
        return 1.0
    return float(model.citizens.access[elderly].mean() * care_supply(model))


def _mean_adoption(group: str, model: CityState) -> float:
    """Services used over services offered to the citizens of an age group (NaN for none)."""
    citizens, used = shared(model).adoption_counts[group]
    total = citizens * model.citizens.adopted.shape[1]
    return used / total if total else float("nan")


@metric("share", *UNIT)
def digital_adoption(model: CityState) -> float:
    """Mean share of the digital services (e-government, telehealth, convenience, mobility)
    each adult uses."""
    return float(_mean_adoption("adults", model))


@metric("share points", -1.0, 1.0)
def digital_divide(model: CityState) -> float:
    """Adoption of adults under 40 minus adoption of the elderly (>= retirement age)."""
    counts = shared(model).adoption_counts
    if not counts["young"][0] or not counts["elderly"][0]:
        return 0.0
    return float(_mean_adoption("young", model) - _mean_adoption("elderly", model))


@metric("0-1", *UNIT)
def privacy_trust(model: CityState) -> float:
    """Mean trust of adults in government's handling of their data and services."""
    return float(model.citizens.trust[shared(model).adults].mean())


@metric("0-1", *UNIT, over=("level", NEED_LEVELS))
def satisfaction(model: CityState, level: str) -> float:
    """Mean satisfaction of citizens with the {level} need level."""
    return float(model.citizens.satisfaction[:, NEED_LEVELS.index(level)].mean())


@metric("0-1", *UNIT)
def demand_advancement_index(model: CityState) -> float:
    """Mean over citizens of weighted satisfaction across the five need levels (weights
    basic 0.3, convenience 0.25, equality, privacy, participation 0.15 each)."""
    return float(weighted_rows(model.citizens.satisfaction, NEED_WEIGHTS).mean())


# --- industrial transition --------------------------------------------------------------


@metric("M/year")
def gdp(model: CityState) -> float:
    """Gross domestic product: sum of firms' value added, annualised (M/year)."""
    return _annual_millions(model, shared(model).value_added_total)


@metric("1/year", -1.0, np.inf)
def gdp_growth(model: CityState) -> float:
    """Growth of GDP over the last 12 months (or annualised since the start in year 1)."""
    history = model.gdp_history
    if len(history) < 2 or history[0] <= 0:
        return 0.0
    months = len(history) - 1
    return float((history[-1] / history[0]) ** (model.steps_per_year / months) - 1)


@metric("k/person-year")
def gdp_per_capita(model: CityState) -> float:
    """GDP per citizen (k/person-year)."""
    return shared(model).value(gdp) * 1000.0 / max(len(model.citizens), 1)


@metric("share", *UNIT)
def digital_economy_share(model: CityState) -> float:
    """Share of value added from digital/ICT and platform firms, plus the part of other
    firms' value added due to digitalization: g a d / (1 + g a d) of it."""
    f = model.firms
    total = shared(model).value_added_total
    if total <= 0:
        return 0.0
    core = shared(model).in_sectors(DIGITAL_CORE_SECTORS)
    lift = model.params.firms.digital_gain * digital_affinity(model)[f.sector] * f.digital
    digitalized = f.value_added * lift / (1 + lift)
    return float((f.value_added[core].sum() + digitalized[~core].sum()) / total)


@metric("M/km2-year")
def value_density(model: CityState) -> float:
    """GDP per km2 of city land (M/km2-year)."""
    return shared(model).value(gdp) / model.districts.area_km2.sum()


@metric("k/worker-month")
def productivity(model: CityState) -> float:
    """Value added per employed citizen (k/worker-month)."""
    agg = shared(model)
    return float(agg.value_added_total / model.months_per_step / max(agg.workers, 1))


@metric("share", *UNIT)
def high_value_share(model: CityState) -> float:
    """Share of jobs in high-value sectors: creative, digital/ICT, health care, platforms."""
    agg = shared(model)
    return float(agg.labour[agg.in_sectors(HIGH_VALUE_SECTORS)].sum() / max(agg.labour_total, 1))


@metric("citizens")
def employment(model: CityState) -> float:
    """Citizens with a job."""
    return float(shared(model).workers)


@metric("share", *UNIT)
def unemployment_rate(model: CityState) -> float:
    """Jobless share of the labour force (working age, not retired)."""
    agg = shared(model)
    force = agg.labour_force
    return float(np.count_nonzero(force & ~agg.employed) / max(np.count_nonzero(force), 1))


@metric("firms")
def firms(model: CityState) -> float:
    """Firms in the city."""
    return float(len(model.firms))


@metric("firms/step")
def firm_entries(model: CityState) -> float:
    """Firms entering this step."""
    return float(model.flows["firm_entries"])


@metric("firms/step")
def firm_exits(model: CityState) -> float:
    """Firms closing this step."""
    return float(model.flows["firm_exits"])


@metric("share", *UNIT)
def new_town_job_share(model: CityState) -> float:
    """Share of jobs located in new towns (multi-centre development, white paper 5.1.1)."""
    agg = shared(model)
    in_new_town = model.districts.is_kind("new_town")[model.firms.district]
    return float(agg.labour[in_new_town].sum() / max(agg.labour_total, 1))


@metric("citizens")
def core_population(model: CityState) -> float:
    """Residents of the core districts (the historic centre, white paper 5.1.1 Path 2)."""
    return shared(model).residents_of("core")


@metric("citizens")
def new_town_population(model: CityState) -> float:
    """Residents of the new towns (white paper 5.1.1 Path 2)."""
    return shared(model).residents_of("new_town")


@metric("M/year", -np.inf, np.inf, over=("sector", SECTOR_NAMES))
def value_added(model: CityState, sector: str) -> float:
    """Value added of the {sector} sector's firms, per year."""
    in_sector = shared(model).in_sectors((sector,))
    return _annual_millions(model, model.firms.value_added[in_sector].sum())


@metric("citizens", over=("sector", SECTOR_NAMES))
def jobs(model: CityState, sector: str) -> float:
    """Jobs in the {sector} sector's firms."""
    agg = shared(model)
    return float(agg.labour[agg.in_sectors((sector,))].sum())


@metric("ratio", over=("sector", SECTOR_NAMES))
def relative_value_added_per_worker(model: CityState, sector: str) -> float:
    """Value added per worker of the {sector} sector over the city's value added per worker
    (0 when the sector has no workers; white paper 5.1.1 Path 1 compares creative value
    added per worker with the whole economy)."""
    agg = shared(model)
    in_sector = agg.in_sectors((sector,))
    workers = agg.labour[in_sector].sum()
    if workers <= 0 or agg.labour_total <= 0:
        return 0.0
    city = agg.value_added_total / agg.labour_total
    return float(model.firms.value_added[in_sector].sum() / workers / city) if city > 0 else 0.0


@metric("0-1", *UNIT, over=("sector", SECTOR_NAMES))
def digitalization(model: CityState, sector: str) -> float:
    """Digitalization of the {sector} sector: its firms' digital level (0-1), weighted by
    their workers (white paper 5.1.1 Path 4 reports the share of logistics processes
    digitalized)."""
    agg = shared(model)
    in_sector = agg.in_sectors((sector,))
    labour = agg.labour[in_sector]
    if labour.sum() <= 0:
        return 0.0
    # np.average's sum and scale, without its checks.
    return float((model.firms.digital[in_sector] * labour).sum() / labour.sum())


@metric("firms", over=("sector", SECTOR_NAMES))
def young_firms(model: CityState, sector: str) -> float:
    """Firms of the {sector} sector founded in the last 12 months (firm formation)."""
    # An entrant is one step old at the end of its entry step, so the last year's entrants
    # are 1 to steps_per_year steps old; the half step absorbs the rounding of summed steps.
    founded = model.firms.age < 1.0 + 0.5 / model.steps_per_year
    return float((shared(model).in_sectors((sector,)) & founded).sum())


INDUSTRIAL_TERMS = ("digital_economy_share", "high_value_share", "productivity_score",
                    "employment_rate")  # fmt: skip
"""Names of the industrial transition index's terms (the keys of industrial_terms)."""


def industrial_terms(model: CityState) -> dict[str, float]:
    """The industrial transition index's terms, each 0-1: digital economy share, high-value
    job share, productivity score x / (x + frontier) and employment rate (1 - unemployment)."""
    value = shared(model).value
    score = value(productivity) / (value(productivity) + model.frontier)
    values = (value(digital_economy_share), value(high_value_share), score,
              1 - value(unemployment_rate))  # fmt: skip
    return {name: float(v) for name, v in zip(INDUSTRIAL_TERMS, values, strict=True)}


@metric("0-1", *UNIT)
def industrial_transition_index(model: CityState) -> float:
    """Mean of digital economy share, high-value job share, productivity score x/(x +
    frontier) and employment rate (1 - unemployment)."""
    return float(np.mean(list(industrial_terms(model).values())))


# --- governance upgrade -----------------------------------------------------------------


# Physical bound of the congestion and travel time indices: no link is slower than a jam
# at walking pace (simulation.world.districts.JAM_SLOWDOWN); a run past it stops with its
# step and value (simulation.model.invariants checks every metric's range).
MAX_CONGESTION_INDEX = JAM_SLOWDOWN


@metric("ratio", 1.0, MAX_CONGESTION_INDEX)
def congestion_index(model: CityState) -> float:
    """Road congestion index: car-trip-weighted congested over free-flow car travel time
    (>= 1)."""
    d = model.districts
    trips = model.car_trips
    if trips.sum() <= 0:
        return 1.0
    return float((trips * d.travel_time).sum() / (trips * d.free_time).sum())


@metric("ratio", 1.0, MAX_CONGESTION_INDEX)
def travel_time_index(model: CityState) -> float:
    """All-mode travel time index: commuter-weighted door-to-door minutes over the same trips'
    free-flow minutes, over every commuting mode (roads congested, buses slowed in traffic;
    >= 1)."""
    trips = model.commute_trips
    free = (trips * model.transit.free_minutes).sum()
    if free <= 0:
        return 1.0
    return float((trips * model.transit.minutes).sum() / free)


@metric("share", *UNIT, over=("mode", MODES))
def mode_share(model: CityState, mode: str) -> float:
    """Share of commuters going by {mode}."""
    trips = model.commute_trips
    total = trips.sum()
    return float(trips[MODES.index(mode)].sum() / total) if total > 0 else 0.0


@metric("load factor")
def transit_crowding(model: CityState) -> float:
    """Rider-weighted load factor of the transit links: sum of riders x load over the sum of
    riders, load = peak-hour riders / seats (1 = every seat taken, transport.standing_factor
    = full with standees; 0 with no riders)."""
    t = model.transit
    riders = t.flow.sum()
    return float((t.flow * t.load).sum() / riders) if riders > 0 else 0.0


@metric("load factor")
def rail_load_factor(model: CityState) -> float:
    """Seat-weighted load factor of the rail links: peak-hour rail riders over rail seats
    (0 without rail)."""
    return model.transit.rail_load_factor(model.params.transport)


@metric("0-1", *UNIT)
def pollution(model: CityState) -> float:
    """Resident-weighted mean district pollution (0 clean - 1 severe)."""
    residents = shared(model).residents
    return float(np.average(model.districts.pollution, weights=residents + 1e-9))


@metric("per 1000 residents-year")
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


@metric("min")
def response_time(model: CityState) -> float:
    """Incident-weighted mean emergency response time (minutes)."""
    return float(model.response_minutes)


@metric("share", *UNIT)
def online_participation(model: CityState) -> float:
    """Share of adults taking part in governance online this step."""
    return share(model.citizens.participates[shared(model).adults])


@metric("0-1", *UNIT)
def government_efficiency(model: CityState) -> float:
    """(0.5 + 0.5 organization) x (0.7 + 0.3 platform) capability plus policies' efficiency
    lever (0-1): a cost factor of running services, not an index term."""
    return model.government.efficiency()


@metric("days")
def processing_time(model: CityState) -> float:
    """Mean days to process a citizen's request: in-department work (faster online and in
    an efficient administration) plus the wait on other departments' data, which shared data
    removes (Government.processing_days)."""
    return model.government.processing_days()


@metric("share", *UNIT)
def income_tax_rate(model: CityState) -> float:
    """Income-tax rate citizens pay: statutory rate plus the fiscal rule's adjustment."""
    return model.government.income_tax_rate()


@metric("M/year", -np.inf, np.inf)
def fiscal_balance(model: CityState) -> float:
    """Government revenue minus spending including interest, annualised (M/year)."""
    return _annual_millions(model, model.government.balance())


@metric("debt/GDP", -np.inf, np.inf)
def debt_ratio(model: CityState) -> float:
    """Public debt over annual GDP."""
    return model.government.debt_ratio()


@metric("0-1", *UNIT, over=("name", CAPABILITY_NAMES))
def capability(model: CityState, name: str) -> float:
    """Stock of the {name} capability (white paper 6.2), 0-1."""
    return model.government.capability(name)


def travel_term(model: CityState) -> float:
    """Governance term for getting around: 1 / travel time index over all modes (1 = free
    flow)."""
    return 1 / shared(model).value(travel_time_index)


RESPONSE_SCALE_MINUTES = 24.0  # response time at which the response term reaches 0
PROCESSING_SCALE_DAYS = 40.0  # processing time at which the processing term reaches 0


GOVERNANCE_TERMS = ("travel", "environment", "safety", "response", "participation",
                    "processing", "fiscal_health")  # fmt: skip
"""Names of the governance index's terms (the keys of governance_terms)."""


def governance_terms(model: CityState) -> dict[str, float]:
    """The governance index's terms, each 0-1 and each an outcome a citizen, firm or auditor
    observes (docs/ODD.md, Development indices): travel = 1 / travel time index;
    environment = 1 - pollution; safety = exp(-incidents per 1000 residents-year / 30);
    emergency response = 1 - response minutes / 24; participation = share of adults taking
    part online; processing = 1 - processing days / 40; fiscal health = 1 - debt ratio /
    (2 x debt limit), each clipped to 0-1."""
    limit = model.params.government.debt_limit
    value = shared(model).value
    terms = {
        "travel": travel_term(model),
        "environment": 1 - value(pollution),
        "safety": np.exp(-value(safety_incidents) / 30.0),
        "response": 1 - value(response_time) / RESPONSE_SCALE_MINUTES,
        "participation": value(online_participation),
        "processing": 1 - value(processing_time) / PROCESSING_SCALE_DAYS,
        "fiscal_health": 1 - value(debt_ratio) / (2 * limit),
    }
    return {name: float(np.clip(value, 0.0, 1.0)) for name, value in terms.items()}


@metric("0-1", *UNIT)
def governance_index(model: CityState) -> float:
    """Mean of the seven governance terms (governance_terms): travel, environment, safety,
    emergency response, online participation, processing time and fiscal health; no term
    reads a lever, a capability stock or a count of initiatives (white paper 5.1,
    "coordination and intelligence of urban management" shows in these outcomes)."""
    return float(np.mean(list(governance_terms(model).values())))


# --- economy and systematicness ---------------------------------------------------------


@metric("0-1", *UNIT)
def capability_index(model: CityState) -> float:
    """Mean of the six capability stocks (white paper 6.2), 0-1."""
    return float(model.government.capabilities.mean())


@metric("0-1", *UNIT)
def coordination_index(model: CityState) -> float:
    """Data integration: platform capability x the linked share of initiatives' work
    (stage >= performance x operability x min(1, scale)) with a unified data platform, 0
    with data islands (policies.runtime); a diagnostic of the mechanism, not an index term."""
    return model.policy_runtime.integration(model)


@metric("M/year", -np.inf, np.inf)
def initiative_public_cost(model: CityState) -> float:
    """Public spending on initiatives, the unified platform, sector grants and new
    infrastructure, net of the government's share of user fees, annualised (M/year)."""
    acc = model.government.accounts
    net = acc["initiatives"] + acc["new_infrastructure"] - acc["initiative_revenue"]
    return _annual_millions(model, net)


@metric("M")
def public_spending(model: CityState) -> float:
    """Cumulative public investment since the start: capability budget, initiatives,
    platform, new infrastructure and conventional programmes (M)."""
    return model.government.public_investment_total / 1000.0


@metric("M")
def private_capital_mobilized(model: CityState) -> float:
    """Private capital put into initiatives since the start (M), by financing model."""
    return model.policy_runtime.private_capital_total / 1000.0


@metric("M/M", -np.inf, np.inf)
def return_on_public_investment(model: CityState) -> float:
    """Cumulative GDP gain over the initial monthly GDP, divided by cumulative public
    investment (capability budget, initiatives, platform, sector grants, new infrastructure,
    conventional programmes: public_spending) (M per M)."""
    invested = model.government.public_investment_total
    # Below 1 k invested the ratio is meaningless (and can overflow).
    return float(model.gdp_gain_total / invested) if invested >= 1.0 else 0.0


@metric("share", *UNIT)
def new_infrastructure_utilization(model: CityState) -> float:
    """Demand served over capacity built, capacity-weighted over new-infrastructure kinds
    (1 when none is built; low values are investment ahead of demand, NI 4.1)."""
    return model.policy_runtime.infrastructure.utilization()


@metric("stage 0-3", 0.0, 3.0, over=("initiative", initiative_names()))
def stage(model: CityState, initiative: str) -> float:
    """Stage of initiative {initiative}: 0 not in the package or not started, 1 function, 2
    performance, 3 effectiveness (white paper 1.3)."""
    for running in model.policy_runtime.initiatives:
        if running.name == initiative:
            return float(running.stage)
    return 0.0

"""Firms: state and behaviour rules (white paper 4.1, industrial transition).

Each firm is a row of the :class:`Firms` arrays; each rule is one vectorized function named
as a verb, taking the model. Production is Cobb-Douglas in labour with productivity raised
by the firm's digitalization, its workforce's skills, its district's infrastructure and
cluster spillovers from related firms nearby.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import ClassVar

import numpy as np

from smartcity.agents import kernels
from smartcity.agents.citizens import residents_per_district
from smartcity.agents.population import Population, choose_gumbel
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import (
    DIGITAL_SERVICES,
    NO_ONE,
    SECTOR_NAMES,
    per_step,
    share,
)

N_SECTORS = len(SECTOR_NAMES)
HIGH_VALUE_SECTORS = ("creative", "digital", "health", "platform")
DIGITAL_CORE_SECTORS = ("digital", "platform")
POLLUTING_SECTORS = ("manufacturing", "logistics")
# Sectors whose firms grow out of research (spin-offs, R&D-intensive start-ups) and whose
# productivity follows it (white paper 5.1.2 Path 1: Tel Aviv's breakthrough field).
KNOWLEDGE_SECTORS = ("creative", "digital")

# Per sector, in SECTOR_NAMES order: how much digitalization raises productivity, and the
# share of output sold outside the city (radiation, white paper 1.2).
DIGITAL_AFFINITY = np.array([0.8, 0.6, 0.9, 1.0, 1.4, 0.7, 1.4])
EXPORT_SHARE = np.array([0.7, 0.1, 0.6, 0.5, 0.6, 0.05, 0.3])

# Which district kinds each sector prefers (rows: sectors; columns: DISTRICT_KINDS).
LOCATION_AFFINITY = np.array([
    # core old  new  ind  sub
    [-1.0, -0.5, 0.2, 1.5, 0.0],   # manufacturing
    [0.8, 0.8, 0.3, -0.5, 0.2],    # services
    [-1.0, -0.5, 0.3, 1.5, 0.3],   # logistics
    [1.0, 0.8, 0.5, -0.5, -0.5],   # creative
    [1.0, 0.4, 0.8, 0.0, -0.5],    # digital
    [0.6, 0.6, 0.4, -0.8, 0.4],    # health
    [1.0, 0.5, 0.6, -0.3, -0.3],   # platform
])  # fmt: skip

# Related sectors share suppliers, skills and customers; spillovers run along these links.
RELATEDNESS = np.eye(N_SECTORS) + 0.3 * np.array([
    [0, 0, 1, 0, 0, 0, 0],
    [0, 0, 0, 1, 0, 1, 1],
    [1, 0, 0, 0, 0, 0, 1],
    [0, 1, 0, 0, 1, 0, 1],
    [0, 0, 0, 1, 0, 0, 1],
    [0, 1, 0, 0, 0, 0, 0],
    [0, 1, 1, 1, 1, 0, 0],
])  # fmt: skip

# Residents' use of digital services (share of services adopted) at which the preset's
# digital and platform firm shares serve local demand: a city's start at the default
# literacy of 0.55 (0.12-0.15 in the shipped presets). A city using more buys more.
DIGITAL_USE_REFERENCE = 0.14
LOSS_EXIT_RATE = 2.7  # 1/year: a persistently loss-making firm closes within a few months
REFERENCE_SIZE = 10.0  # productivity parameters are quoted for a 10-worker firm
DIGITAL_STEP = 0.1  # size of one digital-transformation project


def digital_affinity(model: CityState) -> np.ndarray:
    """Per sector: productivity gain of digitalization, DIGITAL_AFFINITY plus what policies
    add (industry platforms, industrial internet, AI)."""
    return DIGITAL_AFFINITY + model.levers.digital_affinity


def sector_index(name: str) -> int:
    """Index of a sector name in SECTOR_NAMES."""
    return SECTOR_NAMES.index(name)


@cache
def sector_mask(names: tuple[str, ...]) -> np.ndarray:
    """Boolean mask over sectors for the given names (made once per tuple of names, and
    read-only: every caller shares it)."""
    mask = np.isin(np.arange(N_SECTORS), [sector_index(s) for s in names])
    mask.flags.writeable = False
    return mask


class Firms(Population):
    """All firms of the city, one row each.

    Columns: uid; sector (index into SECTOR_NAMES); district; tfp (base value added per
    worker of a 10-worker firm, k/month); digital (0-1 digitalization); cost_factor (firm's
    own cost of digital projects, x); wage (k/month); vacancies and layoffs (workers, this
    month); value_added, profit and investment (digital projects) (k/month); loss_months
    (steps in a row with a loss); age (years).
    """

    COLUMNS: ClassVar = {
        "uid": (np.int64, ()),
        "sector": (np.int8, ()),
        "district": (np.int32, ()),
        "tfp": (np.float64, ()),
        "digital": (np.float64, ()),
        "cost_factor": (np.float64, ()),
        "wage": (np.float64, ()),
        "vacancies": (np.int64, ()),
        "layoffs": (np.int64, ()),
        "value_added": (np.float64, ()),
        "profit": (np.float64, ()),
        "investment": (np.float64, ()),
        "loss_months": (np.int32, ()),
        "age": (np.float64, ()),
    }

    def employees(self) -> np.ndarray:
        """Workers of each firm, counted from the citizens' employers.

        Inside :meth:`employers_fixed` the count is made once and the same read-only array
        is returned to every caller.
        """
        cached = getattr(self, "_employees", None)
        if cached is not None and len(cached) == len(self):
            return cached
        # Shift by one so the jobless (-1) land in bin 0: cheaper than masking them out.
        counts = np.bincount(self._model.citizens.employer + 1, minlength=len(self) + 1)
        counts = counts[1:].astype(float)
        if getattr(self, "_employers_fixed", False):
            counts.flags.writeable = False
            self._employees = counts
        return counts

    @contextmanager
    def employers_fixed(self) -> Iterator[None]:
        """A phase of the step in which no rule changes a citizen's employer nor removes a
        firm (firms added, without workers, extend the count: :meth:`append`): employees()
        is counted once for the whole phase (it was counted ~17 times a step, one pass over
        all citizens each). Inside a phase already fixed it adds nothing (the outer phase's
        count stands)."""
        if getattr(self, "_employers_fixed", False):
            yield
            return
        self._employers_fixed, self._employees = True, None
        try:
            yield
        finally:
            self._employers_fixed, self._employees = False, None

    def append(self, **columns: np.ndarray) -> None:
        """Add firms (Population.append). New firms have no workers (every employer is a
        firm that was already there), so inside :meth:`employers_fixed` the count made so
        far grows by zeros instead of being made again."""
        counted = getattr(self, "_employees", None)
        fits = counted is not None and len(counted) == len(self)
        super().append(**columns)
        if fits and self._employers_fixed:
            grown = np.concatenate([counted, np.zeros(len(self) - len(counted))])
            grown.flags.writeable = False
            self._employees = grown

    def bind(self, model: CityState) -> Firms:
        """Attach the model so that derived quantities (employees) can be counted."""
        self._model = model
        return self


def new_firm_columns(
    model: CityState, sectors: np.ndarray, districts: np.ndarray, tfp: np.ndarray
) -> dict[str, np.ndarray]:
    """State of newly created firms (initial firms and entrants)."""
    p = model.params.firms
    n = len(sectors)
    rng = model.rng
    return {
        "uid": model.next_uids(n),
        "sector": sectors,
        "district": districts,
        "tfp": tfp,
        "digital": np.clip(rng.normal(p.digital_mean, 0.12, n) * DIGITAL_AFFINITY[sectors], 0, 1),
        "cost_factor": rng.lognormal(0.0, 0.5, n),
        "wage": np.full(n, model.wage_index),
        "vacancies": np.zeros(n, dtype=np.int64),
        "layoffs": np.zeros(n, dtype=np.int64),
        "value_added": np.zeros(n),
        "profit": np.zeros(n),
        "investment": np.zeros(n),
        "loss_months": np.zeros(n, dtype=np.int32),
        "age": np.zeros(n),
    }


def location_appeal(model: CityState, sectors: np.ndarray) -> np.ndarray:
    """Appeal of each district to firms of the given sectors: (firms, D).

    Appeal = sector affinity to the district kind + ICT coverage + transport + cluster
    spillover for the sector + log of the workforce living within reach (white paper 4.1,
    industrial transformation and cluster).
    """
    d = model.districts
    reach = d.reach_kernel(30.0) @ residents_per_district(model)
    workforce = np.log(reach / reach.mean())
    cluster = cluster_spillover(model)  # (D, sectors)
    return (
        LOCATION_AFFINITY[sectors][:, d.kind]
        + d.ict[None, :]
        + 0.5 * d.transport[None, :]
        + cluster[:, sectors].T
        + workforce[None, :]
        + model.levers.new_town_appeal * d.is_kind("new_town")[None, :]
    )


def create_firms(model: CityState) -> Firms:
    """Initial firms: sector by the preset's mix, district by location appeal."""
    p = model.params.firms
    n = max(1, round(model.params.citizens.count * p.per_1000_citizens / 1000))
    rng = model.rng
    firms = Firms().bind(model)
    sectors = rng.choice(N_SECTORS, size=n, p=model.params.sector_shares()).astype(np.int8)
    d = model.districts
    affinity = LOCATION_AFFINITY[sectors][:, d.kind] + d.ict[None, :]
    districts = choose_gumbel(affinity, rng).astype(np.int32)
    tfp = p.productivity * rng.lognormal(-(p.productivity_sd**2) / 2, p.productivity_sd, n)
    firms.append(**new_firm_columns(model, sectors, districts, tfp))
    firms.age = rng.uniform(0, 30, n)
    return firms


def cluster_spillover(model: CityState) -> np.ndarray:
    """(D, sectors) spillover: related employment within reach, saturating in 0-1.

    Related employment R[d, s] = sum over districts d' and sectors s' of
    exp(-travel time(d, d') / decay) x relatedness(s, s') x employment(d', s');
    spillover = R / (R + mean R at the start) (white paper 5.1, clusters of related firms).
    """
    d = model.districts
    f = model.firms
    cell = f.district.astype(np.int64) * N_SECTORS + f.sector
    employment = np.bincount(cell, f.employees(), d.n * N_SECTORS).reshape(d.n, N_SECTORS)
    reach = model.levers.cluster_reach  # online cooperation ignores distance
    kernel = d.reach_kernel(model.params.firms.cluster_decay_minutes, reach)
    related = kernel @ employment @ RELATEDNESS
    if model.cluster_reference is None:  # fixed at the start, so spillovers can grow
        model.cluster_reference = max(float(related.mean()), 1e-9)
    return related / (related + model.cluster_reference)


def productivity_multiplier(model: CityState) -> np.ndarray:
    """Each firm's productivity multiplier from its sector, digitalization, skills,
    infrastructure and clusters: r_sector (1 + g_d x affinity x digital) (1 + g_s x (skill -
    0.5)) (1 + g_i x (ICT + transport)/2) (1 + g_c x spillover) (white paper 4.1; NI 3)."""
    p = model.params.firms
    f = model.firms
    d = model.districts
    c = model.citizens
    labour = f.employees()
    staff = np.maximum(labour, 1.0)
    skill = kernels.staff_skill(c.employer, c.skill, len(f)) / staff
    skill = np.where(labour > 0, skill, model.params.citizens.skill_mean)
    # Per-district and per-sector factors made on the (D,) and (D, sectors) tables and then
    # looked up for each firm: the same numbers as computed firm by firm, fewer passes.
    infra = 1 + p.infrastructure_gain * ((d.ict + d.transport) / 2)
    cluster = 1 + p.cluster_gain * cluster_spillover(model)
    gain = p.digital_gain * digital_affinity(model)
    return (
        sector_productivity(model)[f.sector]
        * (1 + gain[f.sector] * f.digital)
        * (1 + p.skill_gain * (skill - 0.5))
        * infra[f.district]
        * cluster[f.district, f.sector]
    )


def sector_productivity(model: CityState) -> np.ndarray:
    """Per sector: relative productivity r_sector (firms.sector_productivity_*), the part of
    an industry's value added per worker that its workforce, digitalization and place do
    not explain (white paper 5.1.1 Path 1: creative value added per worker 20% above the
    whole economy)."""
    return np.array(model.params.sector_productivities())


def potential_output(model: CityState, multiplier: np.ndarray, labour: np.ndarray) -> np.ndarray:
    """Value added at price 1: tfp x multiplier x 10^(1-alpha) x (labour - overhead staff)^alpha
    (k/month). Overhead staff (management) produce nothing, so splitting the same workforce
    over more firms costs output: the span-of-control limit on firm numbers."""
    p = model.params.firms
    alpha = p.labour_elasticity
    productive = np.maximum(labour - p.overhead_staff, 0.0)
    return model.firms.tfp * multiplier * REFERENCE_SIZE ** (1 - alpha) * productive**alpha


def grow_productivity(model: CityState) -> None:
    """Firms follow the world frontier and close part of their gap to it, faster when more
    digital ("acceleration and reformation", white paper 1.2; NI 3), and knowledge-sector
    firms faster by 1 + research_gain x their district's research stock (5.1.2 Path 1)."""
    p = model.params.firms
    f = model.firms
    step = 1.0 / model.steps_per_year
    model.frontier *= (1 + p.frontier_growth) ** step
    f.tfp *= (1 + p.frontier_growth) ** step
    gap = np.maximum(model.frontier - f.tfp, 0.0)
    research = sector_mask(KNOWLEDGE_SECTORS)[f.sector] * model.districts.research[f.district]
    pace = (0.3 + 0.7 * f.digital) * (1 + p.research_gain * research)
    f.tfp += p.catch_up_rate * step * pace * gap
    f.digital *= 1 - per_step(model, p.digital_depreciation)
    f.age += step


def set_prices(model: CityState, supply: np.ndarray) -> np.ndarray:
    """Sector prices clear the local market: p = (demand / supply)^elasticity.

    Demand for a sector = its export share of supply, grown at export_growth and raised by
    the outside markets policies open (lever export_reach, a level), plus local
    spending on it: a fixed mix of citizens' net income and public-service purchases, with
    care demand scaled by the elderly share (white paper 4.1, aging; 5.1), platform
    services by citizens' uptake of convenience services and digital/ICT output by their
    use of digital services of every kind (devices, connectivity, apps: new consumption,
    NI 4.1; demand advancement as a driver of industry, white paper 4.1), each against
    DIGITAL_USE_REFERENCE, so a more literate city buys more of them from the start. The
    digital sector also sells the firms' digital-transformation
    projects: last step's digital investment of every firm is demand for its output, so the
    money firms spend on digitalizing is revenue of the city's digital firms.
    """
    p = model.params.firms
    c = model.citizens
    tax = model.government.income_tax_rate()
    spending = model.params.citizens.consumption_share * (1 - tax) * c.income.sum()
    # Fees for digital services (booked per step) replace monthly spending.
    spending = max(spending - model.user_fees / model.months_per_step, 0.0)
    spending += model.government.service_purchases
    mix = model.local_mix.copy()
    elderly = share(c.age >= model.params.citizens.retirement_age)
    # Care demand scales with the elderly share; the floor keeps a city that starts with
    # almost no elderly from multiplying its tiny initial care demand.
    care = max(elderly, 0.05) / max(model.initial_elderly_share, 0.05)
    mix[sector_index("health")] *= (1 + model.levers.care_capacity) * care
    convenience = share(c.adopted[:, DIGITAL_SERVICES.index("convenience")])
    mix[sector_index("platform")] *= max(0.2, convenience / DIGITAL_USE_REFERENCE)
    digital_use = share(c.adopted)
    mix[sector_index("digital")] *= max(0.2, digital_use / DIGITAL_USE_REFERENCE)
    mix /= mix.sum()
    model.export_index *= (1 + p.export_growth) ** (1 / model.steps_per_year)
    reach = 1 + model.levers.export_reach
    exports = EXPORT_SHARE * model.initial_supply * model.export_index * reach
    demand = exports + model.local_scale * spending * mix
    projects = model.firms.investment.sum() / model.months_per_step
    demand[sector_index("digital")] += model.local_scale * projects
    return np.clip((demand / np.maximum(supply, 1e-9)) ** p.price_elasticity, 0.3, 3.0)


def produce(model: CityState) -> None:
    """Firms produce with their workers; value added = sector price x potential output.

    Profit = value added - wage bill - fixed cost - digital investment.
    """
    f = model.firms
    multiplier = productivity_multiplier(model)
    labour = f.employees()
    output = potential_output(model, multiplier, labour)
    supply = np.bincount(f.sector, output, N_SECTORS)
    model.prices = set_prices(model, supply)
    months = model.months_per_step  # output, wages and overhead are monthly rates
    f.value_added = model.prices[f.sector] * output * months
    f.profit = f.value_added - (f.wage * labour + overhead(model)) * months - f.investment
    f.loss_months = np.where(f.profit < 0, f.loss_months + 1, 0)
    model.multiplier = multiplier


def overhead(model: CityState) -> float:
    """A firm's fixed cost this month, k: fixed_cost wage-months, less energy savings (UHV
    power, NI)."""
    energy = 1 - model.levers.energy_cost_cut
    return model.params.firms.fixed_cost * model.wage_index * energy


def plan_employment(model: CityState) -> None:
    """Firms aim at the labour that equates marginal product and wage,
    L* = overhead staff + (alpha p A / w)^(1/(1-alpha)), and close hiring_speed of the gap
    each month: posting vacancies when short, laying off when over."""
    p = model.params.firms
    f = model.firms
    alpha = p.labour_elasticity
    unit = model.prices[f.sector] * f.tfp * model.multiplier * REFERENCE_SIZE ** (1 - alpha)
    desired = p.overhead_staff + (alpha * unit / np.maximum(f.wage, 1e-6)) ** (1 / (1 - alpha))
    labour = f.employees()
    desired = np.minimum(desired, 2 * labour + 10)  # growth is limited by management capacity
    gap = desired - labour
    speed = 1.0 - (1.0 - p.hiring_speed) ** model.months_per_step
    f.vacancies = np.ceil(np.maximum(gap, 0) * speed).astype(np.int64)
    f.layoffs = np.floor(np.maximum(-gap, 0) * speed).astype(np.int64)


def set_wages(model: CityState) -> None:
    """The city wage index rises when vacancies exceed job seekers and falls otherwise;
    each firm pays the index times the square root of its relative productivity."""
    p = model.params.firms
    c = model.citizens
    f = model.firms
    labour = c.labour_force(model.params.citizens.retirement_age)
    labour_force = max(np.count_nonzero(labour), 1)
    seekers = np.count_nonzero(labour & (c.employer < 0))
    tightness = (f.vacancies.sum() - seekers) / labour_force
    model.wage_index *= np.exp(p.wage_flexibility * tightness / model.steps_per_year)
    f.wage = model.wage_index * relative_productivity(model) ** 0.5


def relative_productivity(model: CityState) -> np.ndarray:
    """Each firm's productivity over the employment-weighted city mean."""
    f = model.firms
    productivity = f.tfp * model.multiplier
    if len(f) == 0:
        return productivity
    weights = f.employees() + 1.0
    return productivity / (productivity @ weights / weights.sum())


def invest_in_digital(model: CityState) -> None:
    """Firms invest in a digital-transformation project when it pays within the horizon.

    Gain = value added x (relative productivity rise of +0.1 digitalization) x steps per
    year x payback
    years; cost = digital_cost x wage index x workers x own cost factor x (1.5 - ICT x computing
    capacity of the district) (white paper 4.1 industrial transformation; NI 4.1).
    Firms review once a year on average.
    """
    p = model.params.firms
    f = model.firms
    d = model.districts
    affinity = digital_affinity(model)[f.sector]
    room = np.minimum(DIGITAL_STEP, 1.0 - f.digital)
    uplift = p.digital_gain * affinity * room / (1 + p.digital_gain * affinity * f.digital)
    gain = f.value_added * uplift * model.steps_per_year * p.digital_payback_years
    local = 1.5 - d.ict[f.district] * np.sqrt(d.computing[f.district])
    workers = np.maximum(f.employees(), 1)
    cost = p.digital_cost * model.wage_index * (room / DIGITAL_STEP) * workers * f.cost_factor
    cost *= local * (1 - model.levers.digital_cost_relief)
    reviewing = model.rng.random(len(f)) < per_step(model, 1.0)
    invest = reviewing & (gain > cost) & (room > 0)
    f.digital = np.where(invest, f.digital + room, f.digital)
    f.investment = np.where(invest, cost, 0.0)


def exit_firms(model: CityState) -> None:
    """Firms close at a baseline rate, and at about 20% a month (a yearly hazard of
    LOSS_EXIT_RATE) once losing money for exit_loss_months; their workers become job
    seekers."""
    p = model.params.firms
    f = model.firms
    losing = f.loss_months >= p.exit_loss_months * model.steps_per_year / 12
    prob = per_step(model, p.exit_rate + LOSS_EXIT_RATE * losing)
    closing = model.rng.random(len(f)) < prob
    if not closing.any():
        return
    model.flows["firm_exits"] += int(closing.sum())
    remap = f.keep(~closing)
    c = model.citizens
    # Each worker's employer renumbered (-1 for the closed firms' staff), in one pass.
    c.employer = kernels.of_employer(remap, c.employer, NO_ONE).astype(np.int32)


def profit_margin(model: CityState) -> float:
    """Aggregate profit over aggregate value added of all firms."""
    f = model.firms
    return float(f.profit.sum() / max(f.value_added.sum(), 1e-9))


def enter_firms(model: CityState) -> None:
    """New firms enter at entry_rate per would-be firm (firm density x residents), scaled by
    profit margin / initial margin (0-2x) and by policies' sector priorities; their
    sector follows sector profitability, raised by 1 + research_gain x the city's
    resident-weighted research stock for the knowledge sectors (spin-offs, 5.1.2 Path 1),
    and their district the location appeal plus entry_sites (white paper 5.1, new
    industries)."""
    p = model.params.firms
    f = model.firms
    rng = model.rng
    margin = profit_margin(model)
    # Entrants come from the city's population of would-be founders (firm density x
    # residents), not from existing firms, so the firm count tracks the city's size
    # instead of compounding.
    founders = p.per_1000_citizens * len(model.citizens) / 1000
    pull = min(max(margin / max(model.initial_margin, 1e-3), 0.0), 2.0)  # np.clip's value
    sector_pull = 1 + np.maximum(model.levers.sector_entry, 0.0)
    expected = founders * p.entry_rate * pull * sector_pull.mean() / model.steps_per_year
    n = int(rng.poisson(expected))
    model.flows["firm_entries"] += n
    if n == 0:
        return
    # No employer changes until the entrants are added: the firms' workers counted once.
    with f.employers_fixed():
        sector_profit = np.bincount(f.sector, np.maximum(f.profit, 0), N_SECTORS)
        weights = 0.5 * np.array(model.params.sector_shares()) + 0.5 * sector_profit / max(
            sector_profit.sum(), 1e-9
        )
        weights *= sector_pull
        weights *= 1 + p.research_gain * sector_mask(KNOWLEDGE_SECTORS) * city_research(model)
        sectors = rng.choice(N_SECTORS, size=n, p=weights / weights.sum()).astype(np.int8)
        appeal = location_appeal(model, sectors) + entry_sites(model, sectors)
        districts = choose_gumbel(appeal, rng).astype(np.int32)
        if len(f):
            # np.average's sum and scale, without its checks.
            weight = f.employees() + 1.0
            mean_tfp = (f.tfp * weight).sum() / weight.sum()
        else:
            mean_tfp = p.productivity
    tfp = mean_tfp * rng.lognormal(0.0, p.productivity_sd / 2, n)
    f.append(**new_firm_columns(model, sectors, districts, tfp))


def entry_sites(model: CityState, sectors: np.ndarray) -> np.ndarray:
    """What a new firm's site adds to a district's appeal: (firms, D) land_weight x the
    district's open land (a new firm needs land to build on; white paper 5.1.1 Path 2, new
    towns) + research_site_weight x its research stock for knowledge-sector firms (spin-offs
    settle near the universities and labs they come from; 5.1.2 Path 1). Incumbents that
    relocate weigh location_appeal alone."""
    p = model.params.firms
    d = model.districts
    knowledge = sector_mask(KNOWLEDGE_SECTORS)[sectors][:, None]
    return p.land_weight * d.open_land()[None, :] + p.research_site_weight * knowledge * d.research


def city_research(model: CityState) -> float:
    """The city's research stock, 0-1: district research weighted by residents."""
    d = model.districts
    residents = residents_per_district(model)  # counts, as floats: the same sums
    return float(d.research @ residents / max(residents.sum(), 1))


def relocate_firms(model: CityState) -> None:
    """Some firms compare districts each year and move when another is clearly better
    (by more than one unit of appeal); their workers keep their jobs."""
    f = model.firms
    movers = np.flatnonzero(
        model.rng.random(len(f)) < per_step(model, model.params.firms.relocation_rate)
    )
    if len(movers) == 0:
        return
    appeal = location_appeal(model, f.sector[movers])
    best = appeal.argmax(axis=1)
    current = appeal[np.arange(len(movers)), f.district[movers]]
    moving = appeal[np.arange(len(movers)), best] > current + 1.0
    f.district[movers[moving]] = best[moving]

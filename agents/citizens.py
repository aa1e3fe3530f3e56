"""Citizens: state and behaviour rules (white paper 4.1, demand advancement).

Each citizen is a row of the :class:`Citizens` arrays. Each behaviour rule is one function
named as a verb, taking the model, and vectorized over all citizens; its docstring carries the
sentence of docs/ODD.md that describes it and the seed section it comes from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import numpy as np

from smartcity.agents import kernels
from smartcity.agents.population import Population, choose_gumbel, rank_within_groups
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import (
    CONVENIENCE_SERVICES,
    DIGITAL_SERVICES,
    MICRO,
    MODES,
    NEED_LEVELS,
    NO_ONE,
    SECTOR_NAMES,
    TRANSIT,
    per_step,
)

WORKING_AGE = 18.0
MINUTES_WORKED_PER_MONTH = 160 * 60  # wage per minute worked = monthly wage / this

# Weights of the need levels in a citizen's overall satisfaction: the basic level counts
# most, the advanced levels (privacy, participation) together as much (white paper 2.1).
NEED_WEIGHTS = np.array([0.3, 0.25, 0.15, 0.15, 0.15])
# As tuples for the kernels (kernels.weighted_row): need levels' weights, and trust's
# weights on the levels after the basic one (update_trust).
NEED_TERMS = tuple(NEED_WEIGHTS.tolist())
TRUST_WEIGHTS = (0.4, 0.1, 0.3, 0.2)
# Health and care workers one elderly resident needs: one per four (the elderly use health
# and care services several times as much as the young; white paper Table 1, aging).
CARE_WORKERS_PER_ELDER = 0.25


class Citizens(Population):
    """All citizens of the city, one row each.

    Columns: uid; age (years); skill (0-1 human capital); literacy (0-1 digital literacy);
    privacy (0-1 privacy concern); trust (0-1 trust in government); health (0-1); home
    (district); employer (firm row, -1 if none); mode (commuting mode index into MODES, -1
    if not commuting); adopted (bool per DIGITAL_SERVICES); participates (online this month);
    satisfaction (0-1 per NEED_LEVELS); income (k/month); access (0-1 public-service access).
    """

    COLUMNS: ClassVar = {
        "uid": (np.int64, ()),
        "age": (np.float64, ()),
        "skill": (np.float64, ()),
        "literacy": (np.float64, ()),
        "privacy": (np.float64, ()),
        "trust": (np.float64, ()),
        "health": (np.float64, ()),
        "home": (np.int32, ()),
        "employer": (np.int32, ()),
        "mode": (np.int8, ()),
        "adopted": (np.bool_, (len(DIGITAL_SERVICES),)),
        "participates": (np.bool_, ()),
        "satisfaction": (np.float64, (len(NEED_LEVELS),)),
        "income": (np.float64, ()),
        "access": (np.float64, ()),
    }

    @contextmanager
    def residents_counted(self) -> Iterator[None]:
        """A part of the step in which no citizen arrives or leaves: residents_per_district
        is counted once, and again only after someone moves (:meth:`moved`); it was counted
        ~9 times a step, one pass over all citizens each."""
        self._counting, self._residents = True, None
        try:
            yield
        finally:
            self._counting, self._residents = False, None

    def moved(self) -> None:
        """Citizens changed home: residents per district must be counted again."""
        self._residents = None

    def adults(self) -> np.ndarray:
        """Mask of citizens of working age or older."""
        return self.age >= WORKING_AGE

    def labour_force(self, retirement_age: float) -> np.ndarray:
        """Mask of citizens of working age and not retired."""
        return (self.age >= WORKING_AGE) & (self.age < retirement_age)

    def employed(self) -> np.ndarray:
        """Mask of citizens with a job."""
        return self.employer >= 0


def weighted_rows(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """values @ weights for a (citizens, k) array, summed as numpy's einsum sums it
    (kernels.weighted_rows), in one pass and without BLAS: a BLAS matrix-vector product
    over all citizens starts its thread pool, which made a 100k-citizen step ~4x slower on a
    small, shared machine."""
    return kernels.weighted_rows(values, tuple(weights.tolist()))


def _clip01(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0.0, 1.0)


def new_citizen_columns(
    model: CityState, ages: np.ndarray, homes: np.ndarray
) -> dict[str, np.ndarray]:
    """State of newly created citizens (initial population, births, in-migrants)."""
    p = model.params.citizens
    rng = model.rng
    n = len(ages)
    literacy = rng.normal(p.digital_literacy_mean, 0.15, n)
    literacy -= p.digital_literacy_age_slope * np.maximum(ages - 40.0, 0.0) / 40.0
    literacy = np.where(ages < WORKING_AGE, literacy * ages / WORKING_AGE, literacy)
    return {
        "uid": model.next_uids(n),
        "age": ages,
        "skill": _clip01(rng.normal(p.skill_mean, p.skill_sd, n)),
        "literacy": _clip01(literacy),
        "privacy": _clip01(rng.normal(p.privacy_concern_mean, 0.15, n)),
        "trust": _clip01(rng.normal(p.trust_mean, 0.15, n)),
        "health": _clip01(1.0 - ((np.maximum(ages, 40.0) - 40.0) / 60.0) ** 2),
        "home": homes.astype(np.int32),
        "employer": np.full(n, NO_ONE, dtype=np.int32),
        "mode": np.full(n, NO_ONE, dtype=np.int8),
        "adopted": rng.random((n, len(DIGITAL_SERVICES))) < 0.3 * literacy[:, None],
        "participates": np.zeros(n, dtype=bool),
        "satisfaction": np.full((n, len(NEED_LEVELS)), 0.5),
        "income": np.zeros(n),
        "access": np.ones(n),
    }


def draw_ages(model: CityState, n: int) -> np.ndarray:
    """Initial ages: children, working-age adults and elderly in the preset's shares."""
    p = model.params.citizens
    rng = model.rng
    group = rng.choice(3, size=n, p=[p.child_share, 1 - p.child_share - p.elderly_share,
                                     p.elderly_share])  # fmt: skip
    child_age = rng.uniform(0.0, WORKING_AGE, n)
    # A tilted adult age profile: a share |tilt| of adults comes from a triangular density
    # peaking at 65 (tilt > 0, an aging city) or at 18 (tilt < 0), the rest uniform.
    tilt = p.adult_age_tilt
    peak = 65.0 if tilt > 0 else WORKING_AGE
    adult_age = np.where(
        rng.random(n) < abs(tilt),
        rng.triangular(WORKING_AGE, peak, 65.0, n),
        rng.uniform(WORKING_AGE, 65.0, n),
    )
    # The elderly thin out with age: 65 plus an exponential of mean 10 years, up to 100.
    elderly_age = 65.0 + np.minimum(rng.exponential(10.0, n), 35.0)
    return np.select([group == 0, group == 1], [child_age, adult_age], elderly_age)


def create_citizens(model: CityState) -> Citizens:
    """The initial population, housed in proportion to each district's housing."""
    n = model.params.citizens.count
    d = model.districts
    homes = model.rng.choice(d.n, size=n, p=d.housing_capacity / d.housing_capacity.sum())
    citizens = Citizens()
    citizens.append(**new_citizen_columns(model, draw_ages(model, n), homes))
    return citizens


def residents_per_district(model: CityState) -> np.ndarray:
    """Number of residents in each district (during the demography phase: without those
    marked to leave, with those staged to arrive)."""
    c = model.citizens
    cached = getattr(c, "_residents", None)
    if cached is not None:
        return cached
    n = model.districts.n
    counts = np.bincount(c.home, minlength=n)
    gone = c.gone()
    if gone is not None:
        counts -= np.bincount(c.home[gone], minlength=n)
    staged = c.staged("home")
    if len(staged):
        counts += np.bincount(staged, minlength=n)
    counts = counts.astype(float)
    if getattr(c, "_counting", False):
        counts.flags.writeable = False
        c._residents = counts
    return counts


def work_district(model: CityState, rows: np.ndarray | None = None) -> np.ndarray:
    """District of each citizen's employer (or of the citizens ``rows``), -1 for citizens
    without a job."""
    employer = model.citizens.employer if rows is None else model.citizens.employer[rows]
    return of_employer(model.firms.district, employer, NO_ONE)


def of_employer(column: np.ndarray, employer: np.ndarray, missing: int) -> np.ndarray:
    """A firm column looked up for each citizen's employer, ``missing`` for the jobless
    (also safe when the city has no firm left)."""
    if len(column) == 0:
        return np.full(len(employer), missing, dtype=column.dtype)
    return kernels.of_employer(column, employer, missing)


# --- demography -------------------------------------------------------------------------


def age_citizens(model: CityState) -> None:
    """Every citizen grows one step older; retirees leave their jobs (white paper 4.1, aging)."""
    c = model.citizens
    step = 1.0 / model.steps_per_year
    kernels.age_citizens(c.age, c.employer, step, model.params.citizens.retirement_age)


def _decide_undecided(
    decided: np.ndarray, undecided: np.ndarray, exponent: np.ndarray, draw: np.ndarray
) -> np.ndarray:
    """Complete a kernel's ``draw < 1 - exp(x)`` decisions: the flat entries ``undecided``,
    whose draws fall between the bounds of kernels.below_per_step, are decided with numpy's
    exponential of their exponents ``x``, so every answer is the one numpy's gives."""
    flat = decided.reshape(-1)
    flat[undecided] = draw.reshape(-1)[undecided] < 1.0 - np.exp(exponent)
    return decided


def die(model: CityState) -> None:
    """Citizens die with a Gompertz hazard rising with age, up to 1.5x for poor health.

    The dead leave their jobs at once and the population at the end of the demography phase
    (Population.commit), with births and migration."""
    p = model.params.citizens
    c = model.citizens
    # draw < per_step(mortality_base x exp(mortality_growth x age) x (1.5 - 0.5 health)),
    # numpy's np.exp deciding the draws its bounds do not (see kernels.below_per_step).
    growth = np.exp(p.mortality_growth * c.age)
    draw = model.rng.random(len(c))
    dead = _decide_undecided(
        *kernels.die(growth, c.health, p.mortality_base, model.steps_per_year, draw), draw
    )
    model.flows["deaths"] += int(dead.sum())
    c.employer[dead] = NO_ONE
    c.mark_gone(dead)


def give_birth(model: CityState) -> None:
    """Citizens aged 20-39 have a child at the birth rate; the child lives with the parent."""
    c = model.citizens
    fertile = (c.age >= 20) & (c.age < 40)
    # One draw per living citizen, in row order (the dead are still rows until the commit).
    draw = c.for_remaining(model.rng.random(c.count()), fill=np.inf)
    births = fertile & (draw < per_step(model, model.params.citizens.birth_rate))
    homes = c.home[births]
    model.flows["births"] += len(homes)
    if len(homes):
        c.stage(**new_citizen_columns(model, np.zeros(len(homes)), homes))


def attract_migrants(model: CityState) -> None:
    """In-migration ("adsorption", white paper 1.2): young adults arrive when jobs await them.

    The yearly arrival rate per resident is scaled by vacancies per job seeker; candidates
    choose a home district by the same appeal as residents who move, and only those who
    find a free dwelling there come.
    """
    p = model.params.citizens
    c = model.citizens
    seeking = c.labour_force(p.retirement_age) & ~c.employed()
    if c.gone() is not None:
        seeking &= ~c.gone()
    seekers = np.count_nonzero(seeking)
    pull = min(max(0.2 + model.firms.vacancies.sum() / (seekers + 1.0), 0.1), 3.0)  # np.clip
    talent = model.levers.talent_attraction
    rate = p.in_migration_rate * pull * (1 + talent) / model.steps_per_year
    n = int(model.rng.poisson(c.count() * rate))
    if n == 0:
        return
    # No one moves, arrives or leaves between the choice and the room: counted once.
    residents = residents_per_district(model)
    homes = choose_gumbel(district_appeal(model, np.full(n, NO_ONE), residents), model.rng)
    homes = homes[find_room(model, homes, residents)]
    model.flows["immigrants"] += len(homes)
    newcomers = new_citizen_columns(model, model.rng.uniform(WORKING_AGE, 45.0, len(homes)), homes)
    newcomers["skill"] = _clip01(newcomers["skill"] + 0.1 * talent)  # talent programmes
    c.stage(**newcomers)


def _leaving(
    model: CityState,
    satisfaction: np.ndarray,
    age: np.ndarray,
    employer: np.ndarray,
    draw: np.ndarray,
) -> np.ndarray:
    """Who of these citizens emigrates (see emigrate): draw < per_step(rate)."""
    p = model.params.citizens
    leaving = kernels.emigrate(
        satisfaction,
        age,
        employer,
        draw,
        NEED_TERMS,
        p.out_migration_rate,
        p.retirement_age,
        model.steps_per_year,
    )
    return _decide_undecided(*leaving, draw)


def emigrate(model: CityState) -> None:
    """Out-migration ("radiation"): adults leave at out_migration_rate x (0.5 + 1.5 if
    unemployed) x (1.5 - overall satisfaction); retirees are not job seekers.

    Everyone still in the city decides, the newborn and the newly arrived included; then
    the phase's departures and arrivals are applied at once (Population.commit, at the
    end of the demography phase).
    """
    c = model.citizens
    # One draw per citizen in the order of the population after this phase: the rows that
    # stay, then the staged ones; a row already leaving draws inf, which nothing is below.
    draw = model.rng.random(c.count())
    staying = len(draw) - len(c.staged("age"))

    old = _leaving(
        model, c.satisfaction, c.age, c.employer, c.for_remaining(draw[:staying], np.inf)
    )
    new = _leaving(
        model, c.staged("satisfaction"), c.staged("age"), c.staged("employer"), draw[staying:]
    )
    model.flows["emigrants"] += int(old.sum() + new.sum())
    c.mark_gone(old, staged=new)


# --- labour market ----------------------------------------------------------------------


def leave_jobs(model: CityState) -> None:
    """Workers lose their job by random separation, or when their firm lays off staff.

    A firm shedding k workers lets go the k with the lowest skill, less those who just left
    by separation.
    """
    c = model.citizens
    employed = np.flatnonzero(c.employed())
    sep = per_step(model, model.params.citizens.job_separation_rate)
    quits = employed[model.rng.random(len(employed)) < sep]
    f = model.firms
    layoffs = np.maximum(f.layoffs - np.bincount(c.employer[quits], minlength=len(f)), 0)
    c.employer[quits] = NO_ONE
    if layoffs.sum() == 0:
        return
    employed = np.flatnonzero(c.employed())
    employed = employed[layoffs[c.employer[employed]] > 0]
    firm = c.employer[employed]
    rank = rank_within_groups(firm, -c.skill[employed])
    fired = employed[rank < layoffs[firm]]
    c.employer[fired] = NO_ONE


def search_jobs(model: CityState) -> None:
    """Each month a share job_search_rate of the jobless in the labour force apply for jobs
    (see match_jobs)."""
    p = model.params.citizens
    c = model.citizens
    seeking = c.labour_force(p.retirement_age) & ~c.employed()
    rate = 1.0 - (1.0 - p.job_search_rate) ** model.months_per_step
    match_jobs(model, np.flatnonzero(seeking & (model.rng.random(len(c)) < rate)))


def match_jobs(model: CityState, seekers: np.ndarray) -> None:
    """Job seekers apply to a district with vacancies nearby, then to a firm there.

    A seeker picks a district with probability proportional to its vacancies times
    exp(-commute_decay x commute minutes of the pair over all modes), then a firm in it in
    proportion to its vacancies; each firm hires its most skilled applicants up to its
    vacancies (white paper 4.1).
    """
    c = model.citizens
    f = model.firms
    rng = model.rng
    open_firms = np.flatnonzero(f.vacancies > 0)
    if len(seekers) == 0 or len(open_firms) == 0:
        return
    d = model.districts
    vacancies_by_district = np.bincount(f.district[open_firms], f.vacancies[open_firms], d.n)
    with np.errstate(divide="ignore"):
        log_w = (
            np.log(vacancies_by_district)[None, :]
            - model.params.citizens.commute_decay * model.transit.commute_minutes[c.home[seekers]]
        )
    target_district = choose_gumbel(log_w, rng)
    # Within the chosen district, pick a firm in proportion to its vacancies.
    order = np.argsort(f.district[open_firms], kind="stable")
    firms_sorted = open_firms[order]
    cum = np.cumsum(f.vacancies[firms_sorted])
    district_end = np.searchsorted(f.district[firms_sorted], np.arange(d.n), side="right")
    district_start = np.concatenate(([0], district_end[:-1]))
    low = np.where(district_start > 0, cum[np.maximum(district_start - 1, 0)], 0.0)
    high = cum[np.maximum(district_end - 1, 0)]
    u = low[target_district] + rng.random(len(seekers)) * (high - low)[target_district]
    firm = firms_sorted[np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)]
    rank = rank_within_groups(firm, c.skill[seekers])
    hired = rank < f.vacancies[firm]
    c.employer[seekers[hired]] = firm[hired]
    f.vacancies -= np.bincount(firm[hired], minlength=len(f))


def receive_income(model: CityState) -> None:
    """Workers earn their firm's wage, jobless adults a benefit from the city, retirees a
    pension (a national transfer from outside the city budget)."""
    p = model.params.citizens
    c = model.citizens
    benefit = model.government.unemployment_benefit()
    c.income = kernels.receive_income(
        c.employer, model.firms.wage, c.age, p.retirement_age, p.pension, benefit
    )


# --- where to live and how to commute ---------------------------------------------------


def district_appeal(
    model: CityState, workplace: np.ndarray, residents: np.ndarray | None = None
) -> np.ndarray:
    """Residence utility of every district for each mover: (movers, D).

    Utility = w_housing x free housing + w_services x service access + w_jobs x job
    accessibility (for the jobless) - w_commute x commute hours (for workers) + w_environment
    x (1 - pollution); commute times and job accessibility use the pairs' commute minutes
    over the modes commuters use (TransportNetwork.commute_minutes), so faster transit or
    roads draw residents (white paper 4.1; 5.1.1 Path 2 on new towns). Job accessibility is
    each district's reach of jobs over the best district's, floored at one job so that a city
    with almost no jobs gives none of its districts a full score. ``residents``: residents
    per district when the caller has counted them (residents_per_district).
    """
    p = model.params.citizens
    d = model.districts
    if residents is None:
        residents = residents_per_district(model)
    free = np.clip(1.0 - residents / d.housing_capacity, -0.5, 0.5) * 2.0
    jobs = np.bincount(model.firms.district, model.firms.employees(), d.n)
    commute_minutes = model.transit.commute_minutes
    reach = model.transit.commute_decay(p.commute_decay) @ jobs
    job_access = reach / max(reach.max(), 1.0)
    base = (
        p.weight_housing * free
        + p.weight_services * model.district_access
        + p.weight_environment * (1.0 - d.pollution)
        + model.levers.new_town_appeal * d.is_kind("new_town")
    )
    working = workplace >= 0
    commute = commute_minutes[:, np.maximum(workplace, 0)].T / 60.0
    return base[None, :] + np.where(
        working[:, None], -p.weight_commute * commute, p.weight_jobs * job_access
    )


def choose_residence(model: CityState) -> None:
    """Adults reconsider where to live and move to the most appealing district with room.

    A share moving_rate per year compares all districts by district_appeal (logit choice,
    staying home counts one util in its favour); a district takes movers only while it has
    free dwellings (white paper 1.2, adsorption; 5.1.1 Path 2, new towns).
    """
    p = model.params.citizens
    c = model.citizens
    rng = model.rng
    movers = np.flatnonzero(c.adults() & (rng.random(len(c)) < per_step(model, p.moving_rate)))
    if len(movers) == 0:
        return
    appeal = district_appeal(model, work_district(model, movers))
    appeal[np.arange(len(movers)), c.home[movers]] += 1.0  # moving costs
    choice = choose_gumbel(appeal, rng)
    moving = choice != c.home[movers]
    movers, choice = movers[moving], choice[moving]
    accepted = find_room(model, choice)
    c.home[movers[accepted]] = choice[accepted]
    c.moved()


def find_room(
    model: CityState, wanted: np.ndarray, residents: np.ndarray | None = None
) -> np.ndarray:
    """Which of the people wanting to move into district ``wanted[i]`` find a free dwelling
    (in random order until the district is full); ``residents`` as in district_appeal."""
    if residents is None:
        residents = residents_per_district(model)
    room = np.maximum(model.districts.housing_capacity - residents, 0)
    return rank_within_groups(wanted, model.rng.random(len(wanted))) < room[wanted]


def choose_commute_mode(model: CityState) -> None:
    """Workers choose how to commute by a multinomial logit over generalized cost.

    Workers without a mode, and a share per_step(transport.mode_reconsider_rate) of the
    others, choose among car, transit, micro-mobility (users of the mobility service only),
    cycling and walking with utility -transport.mode_sensitivity x generalized cost, where
    generalized cost (minutes) = expected perceived minutes (simulation.world.transport: the
    perceived minutes smoothed over transport.expectation_months) + money per trip /
    value of time + the mode's constant (car 0), and the value of time is
    transport.value_of_time_share x the citizen's wage per minute worked (160 hours a
    month), so richer commuters weigh money less (white paper Table 1, urban traffic).
    """
    p = model.params.transport
    c = model.citizens
    work = work_district(model)
    c.mode[work < 0] = NO_ONE
    workers = np.flatnonzero(work >= 0)
    review = model.rng.random(len(workers)) < per_step(model, p.mode_reconsider_rate)
    choosers = workers[(c.mode[workers] < 0) | review]  # in row order, as a sorted union
    c.mode[choosers] = pick_modes(model, choosers, work[choosers], transit_open=True)


def pick_modes(
    model: CityState, choosers: np.ndarray, work: np.ndarray, transit_open: bool
) -> np.ndarray:
    """Logit draw of a mode for each chooser (see choose_commute_mode); ``transit_open``
    False takes transit out of the choice set (riders turned back by board_transit)."""
    if len(choosers) == 0:
        return np.zeros(0, dtype=np.int8)
    p = model.params.transport
    c = model.citizens
    constants = np.array(
        [0.0, p.constant_transit, p.constant_micro, p.constant_cycle, p.constant_walk]
    )
    return kernels.pick_modes(
        c.home[choosers],
        work,
        c.income[choosers],
        c.adopted[choosers, DIGITAL_SERVICES.index("mobility")],
        model.transit.expected,
        model.transit.money,
        constants,
        0.05 * model.wage_index,
        p.value_of_time_share,
        MINUTES_WORKED_PER_MONTH,
        p.mode_sensitivity,
        NO_ONE if transit_open else TRANSIT,
        MICRO,
        model.rng,
    )


def board_transit(model: CityState) -> None:
    """Transit riders beyond the seats on their route are turned back to other modes.

    Each pair's riders are admitted with the share of them that the links of their route
    carry in the peak hour (TransportNetwork.admission); the others, drawn at random, choose
    again among the remaining modes (white paper Table 1, urban traffic).
    """
    c = model.citizens
    d = model.districts
    riders = np.flatnonzero(c.mode == TRANSIT)
    if len(riders) == 0:
        return
    work = work_district(model, riders)
    pair = c.home[riders] * d.n + work
    trips = np.bincount(pair, minlength=d.n * d.n).reshape(d.n, d.n).astype(float)
    admitted = model.transit.admission(d, trips, model.params.transport)
    turned = model.rng.random(len(riders)) >= admitted[pair]
    c.mode[riders[turned]] = pick_modes(model, riders[turned], work[turned], transit_open=False)


def commute_trips(model: CityState) -> np.ndarray:
    """(modes, D, D) commuters by mode, home and work district."""
    c = model.citizens
    n = model.districts.n
    trips = kernels.commute_trips(c.mode, c.home, c.employer, model.firms.district, len(MODES), n)
    return trips.reshape(len(MODES), n, n)


# --- services, health, digital life -----------------------------------------------------


def use_public_services(model: CityState) -> None:
    """Citizens get public-service access from their district's places; online services
    stretch those places (white paper 4.2, networked service at lower cost).

    District access = min(1, places x (1 + digital stretch) / residents), where the stretch
    is the share of residents using e-government or telehealth times the services
    capability; a citizen using neither has 15% less access.
    """
    c = model.citizens
    d = model.districts
    residents = np.maximum(residents_per_district(model), 1.0)
    online_share = kernels.online_residents(c.home, c.adopted, d.n) / residents
    levers = model.levers
    stretch = online_share * model.government.capability("services") + levers.access_stretch
    model.district_access = np.minimum(1.0, d.service_capacity * (1.0 + stretch) / residents)
    penalty = 0.15 * (1.0 - levers.inclusive_access)
    c.access = kernels.service_access(c.home, c.adopted, model.district_access, 1.0 - penalty)


def care_supply(model: CityState) -> float:
    """min(1, health-sector workers / (CARE_WORKERS_PER_ELDER x elderly residents)): 1 while
    the care industry keeps up with the elderly, falling as they outgrow it."""
    c = model.citizens
    elderly = np.count_nonzero(c.age >= model.params.citizens.retirement_age)
    if elderly == 0:
        return 1.0
    f = model.firms
    # Counted from the firms' employees (made once per phase inside Firms.employers_fixed).
    workers = float(f.employees()[f.sector == SECTOR_NAMES.index("health")].sum())
    return min(1.0, workers / (CARE_WORKERS_PER_ELDER * elderly))


def health_target(model: CityState) -> np.ndarray:
    """Health each citizen tends to: an age-given level x (0.8 + 0.15 access + 0.05
    telehealth + 0.1 care lever for the elderly), and for the elderly x (0.9 + 0.1 care
    supply)."""
    c = model.citizens
    return kernels.health_target(
        c.age,
        c.access,
        c.adopted,
        DIGITAL_SERVICES.index("telehealth"),
        model.params.citizens.retirement_age,
        0.1 * model.levers.care_capacity,
        0.9 + 0.1 * care_supply(model),
    )


def update_health(model: CityState) -> None:
    """Health drifts toward its target (health_target) within about a year: raised by
    service access and telehealth, lowered for the elderly when carers are short."""
    c = model.citizens
    c.health += (health_target(model) - c.health) * per_step(model, 1.0)


def adopt_digital_services(model: CityState) -> None:
    """Citizens adopt digital services by a Bass process with peer effects.

    Per year, a non-user adopts service s with hazard (innovation + imitation x peer share)
    x literacy x availability in the home district x (1 - privacy concern x (1 - privacy
    protection)); the peer share mixes the home district's adoption with its neighbours'
    (white paper 4.2; NI 4.1 new consumption). Users drop a service at the
    disadoption rate.
    """
    p = model.params.citizens
    c = model.citizens
    d = model.districts
    share = kernels.adult_adoption_shares(c.home, c.age, c.adopted, d.n)
    peer = (1 - p.neighbour_weight) * share + p.neighbour_weight * (d.neighbour_weights @ share)
    # hazard = (innovation + imitation x peer)(home) x literacy x (1 - privacy x (1 -
    # protection)) x availability(home, s); per_step(hazard) = 1 - exp(-hazard / S), numpy's
    # np.exp deciding the draws its bounds do not (see kernels.below_per_step).
    draw = model.rng.random(c.adopted.shape)
    decided = kernels.adopt_or_drop(
        c.home,
        c.age,
        c.literacy,
        c.privacy,
        c.adopted,
        p.adoption_innovation + p.adoption_imitation * peer,
        model.service_availability,
        1.0 - model.government.privacy_protection(),
        model.steps_per_year,
        draw,
        per_step(model, p.disadoption_rate),
    )
    c.adopted = _decide_undecided(*decided, draw)


def learn(model: CityState) -> None:
    """Workers gain skill on the job; digital users gain literacy; the young grow into it.

    Children's literacy rises toward ``citizens.digital_literacy_mean`` (the city's literacy
    norm, not the current mean), and adults below that norm gain from the literacy_support
    lever: one parameter by decision (docs/ODD.md 7.4, Learning).
    """
    p = model.params.citizens
    c = model.citizens
    step = 1.0 / model.steps_per_year
    # Per citizen, in this order: skill += skill_learning_rate x step x employed x (1 -
    # skill); literacy += literacy_learning_rate x step x share of services used x (1 -
    # literacy); then children: literacy += step x max(digital_literacy_mean - literacy,
    # 0) / 5; adults below the mean: literacy += literacy_support x step x (1 - literacy).
    kernels.learn(
        c.skill,
        c.literacy,
        c.employer,
        c.adopted,
        c.age,
        p.skill_learning_rate * step,
        p.literacy_learning_rate * step,
        step,
        p.digital_literacy_mean,
        model.levers.literacy_support * step,
    )


def participate_online(model: CityState) -> None:
    """E-government users take part online with probability participation_base x literacy
    x trust x channel quality (services capability) (white paper Table 1, participation)."""
    c = model.citizens
    channel = 0.3 + 0.7 * model.government.capability("services")
    prob = model.params.citizens.participation_base * c.literacy * c.trust * channel
    prob *= 1.0 + model.levers.participation
    egov = c.adopted[:, DIGITAL_SERVICES.index("e_government")]
    c.participates = c.adults() & egov & (model.rng.random(len(c)) < prob)


def evaluate_satisfaction(model: CityState) -> None:
    """Citizens rate five need levels (white paper 4.1): basic, convenience, equality,
    privacy, participation, each 0-1.

    Each level follows what the citizen receives: basic = 0.4 x livelihood + 0.3 x health
    + 0.3 x uncrowded housing; convenience = 0.45 x public-service access + 0.25 x (1 -
    commute/90 min, door-to-door by the citizen's own mode; 0 min for those without a
    commute, who lose no time to it) + 0.3 x share of the convenience services
    (e-government, convenience, mobility) used; equality = 1 -
    shortfall of own access below the city mean; privacy = 1 - concern x digital exposure
    x (1 - protection); participation = 0.3 + 0.4 x e-government use x channel quality
    (0.3 + 0.7 services capability) + 0.3 x taking part online this month.
    """
    p = model.params.citizens
    c = model.citizens
    d = model.districts
    crowding = np.clip(residents_per_district(model) / d.housing_capacity - 0.9, 0, 1)
    kernels.evaluate_satisfaction(
        c.satisfaction,
        c.employer,
        model.firms.district,
        c.age,
        c.health,
        c.home,
        c.mode,
        c.access,
        c.adopted,
        c.privacy,
        c.participates,
        crowding,
        model.transit.minutes.ravel(),
        np.array(CONVENIENCE_SERVICES),
        DIGITAL_SERVICES.index("e_government"),
        p.retirement_age,
        max(c.access.mean(), 1e-9),
        1.0 - model.government.privacy_protection(),
        0.3 + 0.7 * model.government.capability("services"),
    )


def update_trust(model: CityState) -> None:
    """Trust in government follows the satisfaction with what it delivers: 0.4 convenience
    + 0.1 equality + 0.3 privacy + 0.2 participation (white paper 6.2.6, digital-space
    governance)."""
    c = model.citizens
    rate = model.params.citizens.trust_adjustment_rate
    kernels.update_trust(c.trust, c.satisfaction, TRUST_WEIGHTS, per_step(model, rate))

"""Reference implementation of the citizens' core rules as plain Mesa agent objects.

Agents as rows: the model stores citizens as rows of numpy arrays and runs
vectorized rules. This module keeps the same rules written the ordinary Mesa way, one
``mesa.Agent`` per citizen and per-agent Python loops, so that

* the benchmark can report the speed of the vectorized engine relative to it
  (benchmarks/bench_model.py, ``--reference``), and
* tests/test_reference_crosscheck.py can check that both give the same distributions of
  aggregate outcomes from the same starting state.

The rules are job search and matching (agents.citizens.search_jobs / match_jobs), residence
choice (choose_residence, district_appeal, find_room) and digital adoption
(adopt_digital_services). Parameters, formulas and the order of decisions are the same as
in agents/citizens.py; district and firm state (travel times, housing, vacancies, service
availability, capabilities) is read from the array model. Random numbers come from the
reference model's own generator (``model.random``), so results agree with the vectorized
rules in distribution, not draw for draw.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from smartcity.agents import citizens as cz
from smartcity.simulation.model import CityModel
from smartcity.simulation.world.vocabulary import DIGITAL_SERVICES, NO_ONE


class CitizenAgent(mesa.Agent):
    """One citizen, copied from row ``row`` of the array model's citizens."""

    def __init__(self, model: ReferenceCity, row: int):
        super().__init__(model)
        c = model.city.citizens
        self.row = row
        self.age = float(c.age[row])
        self.skill = float(c.skill[row])
        self.literacy = float(c.literacy[row])
        self.privacy = float(c.privacy[row])
        self.home = int(c.home[row])
        self.employer = int(c.employer[row])
        self.adopted = [bool(a) for a in c.adopted[row]]

    # --- helpers ---------------------------------------------------------------------

    def is_adult(self) -> bool:
        return self.age >= cz.WORKING_AGE

    def in_labour_force(self) -> bool:
        return cz.WORKING_AGE <= self.age < self.model.params.citizens.retirement_age

    def workplace(self) -> int:
        """District of this citizen's employer, -1 without a job."""
        if self.employer < 0:
            return NO_ONE
        return int(self.model.city.firms.district[self.employer])

    # --- labour market ---------------------------------------------------------------

    def wants_job(self) -> bool:
        """search_jobs: a jobless member of the labour force applies with job_search_rate."""
        p = self.model.params.citizens
        if not self.in_labour_force() or self.employer >= 0:
            return False
        return self.random.random() < p.job_search_rate

    def apply_for_job(self, vacancies: list[int], firms_by_district: list[list[int]]) -> int:
        """match_jobs: pick a district by vacancies x exp(-decay x travel time), then a firm
        in it by its vacancies; return the firm row applied to (-1 if none open)."""
        p = self.model.params.citizens
        travel = self.model.city.transit.commute_minutes[self.home]
        weights = []
        for d, firms in enumerate(firms_by_district):
            open_jobs = sum(vacancies[f] for f in firms)
            weights.append(open_jobs * math.exp(-p.commute_decay * travel[d]))
        if sum(weights) <= 0:
            return NO_ONE
        (district,) = self.random.choices(range(len(weights)), weights=weights)
        firms = firms_by_district[district]
        (firm,) = self.random.choices(firms, weights=[vacancies[f] for f in firms])
        return firm

    # --- residence -------------------------------------------------------------------

    def wants_to_move(self) -> bool:
        """choose_residence: an adult reconsiders with the monthly moving probability."""
        if not self.is_adult():
            return False
        return self.random.random() < self.model.per_step(self.model.params.citizens.moving_rate)

    def appeal(self, district_state: dict) -> list[float]:
        """district_appeal for this citizen: base district utility, minus commute hours for
        workers or plus job accessibility for the jobless."""
        p = self.model.params.citizens
        travel = self.model.city.transit.commute_minutes
        work = self.workplace()
        out = []
        for d, base in enumerate(district_state["base"]):
            if work >= 0:
                out.append(base - p.weight_commute * travel[d, work] / 60.0)
            else:
                out.append(base + p.weight_jobs * district_state["job_access"][d])
        return out

    def choose_district(self, district_state: dict) -> int:
        """Logit choice over districts, one util in favour of staying home."""
        utility = self.appeal(district_state)
        utility[self.home] += 1.0
        top = max(utility)
        weights = [math.exp(u - top) for u in utility]
        (choice,) = self.random.choices(range(len(weights)), weights=weights)
        return choice

    # --- digital adoption --------------------------------------------------------------

    def adopt_digital_services(self, peer: list[list[float]], protection: float) -> None:
        """Bass adoption per service with peer effects, privacy hesitancy and availability;
        users drop a service at the disadoption rate."""
        p = self.model.params.citizens
        availability = self.model.city.service_availability[self.home]
        hesitancy = 1.0 - self.privacy * (1.0 - protection)
        adult = self.is_adult()
        drop_prob = self.model.per_step(p.disadoption_rate)
        for s in range(len(DIGITAL_SERVICES)):
            draw = self.random.random()
            if self.adopted[s]:
                if draw < drop_prob:
                    self.adopted[s] = False
            elif adult:
                hazard = (
                    (p.adoption_innovation + p.adoption_imitation * peer[self.home][s])
                    * self.literacy
                    * hesitancy
                    * availability[s]
                )
                if draw < self.model.per_step(hazard):
                    self.adopted[s] = True


class ReferenceCity(mesa.Model):
    """Per-agent version of the citizens of a CityModel: one CitizenAgent per citizen.

    District and firm state is read from ``city`` (the array model), which is not changed;
    :meth:`write_back` copies the agents' state into it when wanted.
    """

    def __init__(self, city: CityModel, seed: int | None = None):
        super().__init__(rng=seed)
        self.city = city
        self.params = city.params
        self.vacancies = [int(v) for v in city.firms.vacancies]
        for row in range(len(city.citizens)):
            CitizenAgent(self, row)
        self.people: list[CitizenAgent] = list(self.agents_by_type[CitizenAgent])

    def per_step(self, yearly_rate: float) -> float:
        return 1.0 - math.exp(-yearly_rate / self.city.steps_per_year)

    def residents(self, adults_only: bool = False) -> list[int]:
        counts = [0] * self.city.districts.n
        for a in self.people:
            if not adults_only or a.is_adult():
                counts[a.home] += 1
        return counts

    # --- rules -----------------------------------------------------------------------

    def search_jobs(self) -> int:
        """Job search and matching; returns the number hired."""
        seekers = [a for a in self.people if a.wants_job()]
        return self.match_jobs(seekers)

    def match_jobs(self, seekers: list[CitizenAgent]) -> int:
        firm_district = self.city.firms.district
        firms_by_district: list[list[int]] = [[] for _ in range(self.city.districts.n)]
        for f, v in enumerate(self.vacancies):
            if v > 0:
                firms_by_district[int(firm_district[f])].append(f)
        applicants: dict[int, list[CitizenAgent]] = {}
        for a in seekers:
            firm = a.apply_for_job(self.vacancies, firms_by_district)
            if firm >= 0:
                applicants.setdefault(firm, []).append(a)
        hired = 0
        for firm, people in applicants.items():
            people.sort(key=lambda a: -a.skill)  # the most skilled first
            for a in people[: self.vacancies[firm]]:
                a.employer = firm
                hired += 1
            self.vacancies[firm] -= min(len(people), self.vacancies[firm])
        return hired

    def district_state(self) -> dict:
        """District-level terms of district_appeal, counted from the agents."""
        p = self.params.citizens
        d = self.city.districts
        residents = self.residents()
        jobs = [0.0] * d.n
        for a in self.people:
            if a.employer >= 0:
                jobs[a.workplace()] += 1.0
        commute = self.city.transit.commute_minutes
        reach = [
            sum(math.exp(-p.commute_decay * commute[i, j]) * jobs[j] for j in range(d.n))
            for i in range(d.n)
        ]
        top = max(max(reach), 1.0)
        base = []
        for i in range(d.n):
            free = min(max(1.0 - residents[i] / d.housing_capacity[i], -0.5), 0.5) * 2.0
            base.append(
                p.weight_housing * free
                + p.weight_services * self.city.district_access[i]
                + p.weight_environment * (1.0 - d.pollution[i])
            )
        return {"base": base, "job_access": [r / top for r in reach], "residents": residents}

    def choose_residence(self) -> int:
        """Movers choose a district; those wanting another district get in, in random
        order, while it has free dwellings (find_room). Returns the number who moved."""
        movers = [a for a in self.people if a.wants_to_move()]
        state = self.district_state()
        wanting = [(a, a.choose_district(state)) for a in movers]
        wanting = [(a, d) for a, d in wanting if d != a.home]
        capacity = self.city.districts.housing_capacity
        room = [max(capacity[i] - state["residents"][i], 0.0) for i in range(len(capacity))]
        self.random.shuffle(wanting)
        taken = [0] * len(room)
        moved = 0
        for a, d in wanting:
            if taken[d] < room[d]:
                taken[d] += 1
                a.home = d
                moved += 1
        return moved

    def adopt_digital_services(self) -> list[int]:
        """Digital adoption of every citizen; returns new adopters per service."""
        p = self.params.citizens
        d = self.city.districts
        n_services = len(DIGITAL_SERVICES)
        adults = self.residents(adults_only=True)
        users = [[0] * n_services for _ in range(d.n)]
        for a in self.people:
            if a.is_adult():
                for s in range(n_services):
                    users[a.home][s] += a.adopted[s]
        share = [[u / max(adults[i], 1) for u in users[i]] for i in range(d.n)]
        w = p.neighbour_weight
        peer = []
        for i in range(d.n):
            near = [
                sum(d.neighbour_weights[i, j] * share[j][s] for j in range(d.n))
                for s in range(n_services)
            ]
            peer.append([(1 - w) * share[i][s] + w * near[s] for s in range(n_services)])
        protection = self.city.government.privacy_protection()
        new = [0] * n_services
        for a in self.people:
            before = list(a.adopted)
            a.adopt_digital_services(peer, protection)
            for s in range(n_services):
                new[s] += a.adopted[s] and not before[s]
        return new

    def write_back(self) -> None:
        """Copy the agents' employer, home and adoption into the array model."""
        c = self.city.citizens
        for a in self.people:
            c.employer[a.row] = a.employer
            c.home[a.row] = a.home
            c.adopted[a.row] = a.adopted
        self.city.firms.vacancies[:] = self.vacancies


# --- shared set-up for the benchmark and the cross-check test ------------------------------

RULES = ("search_jobs", "choose_residence", "adopt_digital_services")


def prepare_city(preset: str, count: int, seed: int = 1, steps: int = 3) -> CityModel:
    """A city after ``steps`` steps, then brought to the point of the step where job search
    runs: firms have produced and posted vacancies and workers have left their jobs."""
    from smartcity.agents import firms as fm

    city = CityModel(preset, seed=seed, citizens__count=count)
    for _ in range(steps):
        city.step()
    for rule in (fm.produce, fm.plan_employment, cz.leave_jobs):
        rule(city)
    return city


def snapshot(city: CityModel) -> dict[str, np.ndarray]:
    """Copies of the state the three rules change."""
    c = city.citizens
    return {
        "employer": c.employer.copy(),
        "home": c.home.copy(),
        "adopted": c.adopted.copy(),
        "vacancies": city.firms.vacancies.copy(),
    }


def restore(city: CityModel, state: dict[str, np.ndarray]) -> None:
    """Put the state saved by :func:`snapshot` back."""
    c = city.citizens
    c.employer = state["employer"].copy()
    c.home = state["home"].copy()
    c.adopted = state["adopted"].copy()
    city.firms.vacancies = state["vacancies"].copy()


def outcome(city: CityModel, before: dict[str, np.ndarray]) -> dict[str, object]:
    """Aggregates a rule changed, relative to the state ``before``."""
    c = city.citizens
    return {
        "hired": int(((before["employer"] < 0) & (c.employer >= 0)).sum()),
        "moved": int((c.home != before["home"]).sum()),
        "district_population": np.bincount(c.home, minlength=city.districts.n),
        "new_adopters": (~before["adopted"] & c.adopted).sum(axis=0),
    }


def apply_vectorized(city: CityModel, rule: str, seed: int) -> None:
    """Run one vectorized rule of agents.citizens with its own random stream."""
    city.rng = np.random.default_rng(seed)
    getattr(cz, rule)(city)


def apply_reference(city: CityModel, rule: str, seed: int) -> ReferenceCity:
    """Run the same rule on per-agent objects built from ``city``, then write back."""
    ref = ReferenceCity(city, seed=seed)
    getattr(ref, rule)()
    ref.write_back()
    return ref

"""CityModel: the Mesa model of a city's development under digitalization.

One step is one month by default (``simulation.steps_per_year``). Citizens and firms are
populations stored as arrays (agents/), the government is a ``mesa.Agent``, districts live
on a networkx graph (simulation.world.graph). The step order is written out in
:meth:`CityModel.step`, one method per phase, and in docs/ODD.md (process overview and
scheduling).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd
import threadpoolctl

from smartcity.agents import citizens, firms
from smartcity.agents.government import Government
from smartcity.policies.initiatives import DISTRICT_STOCKS
from smartcity.policies.packages import check_prerequisites_reachable, load_package
from smartcity.policies.runtime import PolicyRuntime
from smartcity.simulation.model.invariants import check_invariants
from smartcity.simulation.model.metrics import Aggregates, model_metrics
from smartcity.simulation.model.recording import MetricStore, record_interval
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.model.urban_systems import (
    build_housing,
    count_safety_incidents,
    pollution_target,
    update_pollution,
)
from smartcity.simulation.world.districts import Districts
from smartcity.simulation.world.graph import build_city_graph
from smartcity.simulation.world.levers import Levers
from smartcity.simulation.world.parameters import Parameters, check_seed
from smartcity.simulation.world.transport import TransportNetwork
from smartcity.simulation.world.vocabulary import (
    CAR,
    NO_ONE,
    TRANSIT,
    per_step,
)

if TYPE_CHECKING:
    from smartcity.simulation.model.analyzers import Analyzer

FLOWS = ("births", "deaths", "immigrants", "emigrants", "firm_entries", "firm_exits")
INITIAL_UNEMPLOYMENT = 0.06  # share of the labour force without a job at the start
SETTLING_ROUNDS = 8  # rounds of initial commuting-mode choice against congestion


@functools.cache
def _blas_controller() -> threadpoolctl.ThreadpoolController:
    """The BLAS libraries loaded once numpy is (numpy's OpenBLAS), found once."""
    return threadpoolctl.ThreadpoolController()


def on_one_blas_thread(method: Callable[..., None]) -> Callable[..., None]:
    """Run a model method with BLAS on one thread.

    OpenBLAS splits a dot product of more than 10,000 elements (a city's firms from about
    230,000 citizens) over threads, and the split changes how the sum rounds: the same seed
    would give another run on another number of cores, and sweep workers, which run on one
    thread, another run than ``smartcity run``. On one thread the model is also faster at a
    million citizens: 2 years took 3.7 s of CPU against 6.9 s with the threads spinning."""

    @functools.wraps(method)
    def on_one_thread(*args: Any, **kwargs: Any) -> None:
        with _blas_controller().limit(limits=1, user_api="blas"):
            method(*args, **kwargs)

    return on_one_thread


class CityModel(mesa.Model):
    """A city of citizens, firms and a government on a district graph.

    Args:
        preset: a shipped preset name ("mature", "emerging") or a path to a TOML preset.
        seed: seed of the run: an int or a numpy SeedSequence (same seed, same run).
        policy: policy package name, TOML path or PolicyPackage (policies/packages);
            None = baseline.
        rng: alias of ``seed`` (what ``mesa.batch_run`` passes).
        params: fully resolved Parameters; when given, ``preset`` and overrides are ignored.
        allow_code: let the policy package name Python classes (``class = "module:Class"``);
            such a package runs code, so it is refused without this.
        record: which steps' metrics are computed and kept: "step" (every step), "yearly"
            or every N steps (simulation.model.recording); the initial state and the last
            step of :meth:`run` always are. Recording does not change the run.
        analyzers: plug-ins that observe the recorded steps and the end of each run
            (simulation.model.analyzers).
        **overrides: parameter overrides as ``section__name=value``.

    Attributes:
        citizens, firms: the populations (``model.citizens[i]`` is a read-only view).
        government: the Government agent. districts: the district stocks and routes.
        datacollector: one row per recorded step of every metric the model records
            (simulation.model.metrics; a ``mesa.DataCollector``).
        analyzers: the analyzers given.
    """

    @on_one_blas_thread
    def __init__(
        self,
        preset: str | Path = "mature",
        seed: int | np.random.SeedSequence | None = None,
        policy: str | None = None,
        *,
        rng: int | np.random.SeedSequence | None = None,
        params: Parameters | None = None,
        allow_code: bool = False,
        record: str | int = "step",
        analyzers: Sequence[Analyzer] = (),
        **overrides: Any,
    ):
        check_seed(seed if seed is not None else rng)
        super().__init__(rng=seed if seed is not None else rng)
        self.package = load_package(policy, allow_code=allow_code)
        self.preset = str(preset)
        self.policy = self.package.name
        self.params = (
            params if params is not None else resolve_parameters(preset, overrides, self.package)
        )
        self.levers = Levers()
        self.policy_runtime = PolicyRuntime(self.package)
        self.export_index = 1.0
        self.cluster_reference: float | None = None
        self.user_fees = 0.0
        self.steps_per_year = self.params.simulation.steps_per_year
        self.record_every = record_interval(record, self.steps_per_year)
        # Set while the metrics of a step are computed (simulation.model.metrics.shared).
        self.aggregates: Aggregates | None = None
        # Wages, output, prices and costs are monthly rates; a step spans this many months.
        self.months_per_step = 12 / self.steps_per_year
        self._next_uid = 0
        self.flows = dict.fromkeys(FLOWS, 0)
        # (incidents, residents) of the last year's steps: the annual rate a city reports.
        self.incident_history: deque[tuple[int, int]] = deque(maxlen=self.steps_per_year)
        self.districts = Districts(
            build_city_graph(
                self.params.city, self.params.citizens.count, self.params.firms.research_capacity
            )
        )
        self.transit = TransportNetwork(self.districts)
        self.policy_runtime.infrastructure.check_buildable(self)
        check_prerequisites_reachable(
            self.package,
            self.params,
            {s: float(getattr(self.districts, s).mean()) for s in DISTRICT_STOCKS},
        )
        self.frontier = self.params.firms.frontier_productivity
        self.wage_index = 1.0
        self.citizens = citizens.create_citizens(self)
        self.firms = firms.create_firms(self)
        self.government = Government(self)
        self._start_economy()
        self._start_daily_life()
        self.population_before = len(self.citizens)
        self.initial_value_added = float(self.firms.value_added.sum())
        self.gdp_gain_total = 0.0
        self.gdp_history: deque[float] = deque(
            [self.firms.value_added.sum()], maxlen=self.steps_per_year + 1
        )
        self.datacollector = MetricStore(model_metrics(self))
        self.analyzers = list(analyzers)
        for analyzer in self.analyzers:
            analyzer.start(self)
        self._record()

    def next_uids(self, n: int) -> np.ndarray:
        """Reserve ``n`` new unique agent ids."""
        uids = np.arange(self._next_uid, self._next_uid + n, dtype=np.int64)
        self._next_uid += n
        return uids

    def _start_economy(self) -> None:
        """Employ 94% of the labour force, then calibrate wages and demand so that the first
        month starts near equilibrium (desired = actual employment, prices = 1)."""
        p = self.params
        c, f = self.citizens, self.firms
        alpha = p.firms.labour_elasticity
        workforce = c.labour_force(p.citizens.retirement_age).sum()
        size_weight = f.tfp ** (1 / (1 - alpha)) * self.rng.lognormal(0, 0.5, len(f))
        jobs = (1 - INITIAL_UNEMPLOYMENT) * workforce * size_weight / size_weight.sum()
        f.vacancies = np.ceil(jobs).astype(np.int64)
        for _ in range(4):  # a few rounds place nearly everyone the firms can take
            citizens.match_jobs(
                self, np.flatnonzero(c.labour_force(p.citizens.retirement_age) & (c.employer < 0))
            )
        f.vacancies[:] = 0
        self.multiplier = firms.productivity_multiplier(self)
        unit = f.tfp * self.multiplier * firms.REFERENCE_SIZE ** (1 - alpha)
        rel = firms.relative_productivity(self) ** 0.5
        labour = f.employees()
        productive = np.maximum(labour - p.firms.overhead_staff, 0.0).sum()
        self.wage_index = (
            ((alpha * unit / rel) ** (1 / (1 - alpha))).sum() / max(productive, 1.0)
        ) ** (1 - alpha)
        f.wage = self.wage_index * rel
        citizens.receive_income(self)
        self.government.provide_public_services()
        output = firms.potential_output(self, self.multiplier, labour)
        self.initial_supply = np.bincount(f.sector, output, firms.N_SECTORS)
        local = (1 - firms.EXPORT_SHARE) * self.initial_supply
        self.local_mix = local / max(local.sum(), 1e-9)
        self.initial_elderly_share = float((c.age >= p.citizens.retirement_age).mean())
        spending = (
            p.citizens.consumption_share * (1 - p.government.income_tax) * c.income.sum()
            + self.government.service_purchases
        )
        self.local_scale = local.sum() / max(spending, 1e-9)
        self.prices = np.ones(firms.N_SECTORS)
        f.value_added = output * self.months_per_step
        f.profit = (output - f.wage * labour - firms.overhead(self)) * self.months_per_step
        self.initial_margin = firms.profit_margin(self)
        government = self.government
        government.debt = p.government.initial_debt_ratio * output.sum() * 12  # monthly output x 12
        government.collect_taxes()
        government.pay_benefits()
        government.plan_year()
        government.accounts["capability_investment"] = (
            government.yearly_capability_budget / self.steps_per_year
        )
        government.calibrate_other_programmes()

    def _start_daily_life(self) -> None:
        """Initial commuting, traffic, service use, satisfaction and pollution."""
        self.government.offer_digital_services()
        self._assign_traffic(memory=1.0)
        self._settle_commuting()
        citizens.use_public_services(self)
        # Start at the health the rule holds (not the age-given level above it).
        self.citizens.health = citizens.health_target(self)
        citizens.evaluate_satisfaction(self)
        self.districts.pollution = pollution_target(self)
        count_safety_incidents(self)

    def _settle_commuting(self) -> None:
        """Let commuters find their modes under the congestion they cause: in round k a
        share 1/k re-chooses against the last round's travel times (successive averages),
        so the first step does not start from everyone having chosen on empty roads."""
        c = self.citizens
        for k in range(1, SETTLING_ROUNDS + 1):
            c.mode[self.rng.random(len(c)) < 1.0 / k] = NO_ONE
            citizens.choose_commute_mode(self)
            citizens.board_transit(self)
            self._assign_traffic(memory=1.0)

    def _assign_traffic(self, memory: float | None = None) -> None:
        """Load cars on the roads and riders on the transit links, then update every mode's
        times and costs and the times commuters expect for the next choices (``memory``:
        weight of this step's experience, by default per_step(12 / expectation_months))."""
        d = self.districts
        self.commute_trips = citizens.commute_trips(self)
        self.car_trips = self.commute_trips[CAR]
        city = self.params.city
        d.assign_traffic(
            self.car_trips, city.congestion_alpha, city.congestion_beta, self.levers.road_capacity
        )
        transport = self.params.transport
        self.transit.load_transit(d, self.commute_trips[TRANSIT], transport)
        jobs = np.bincount(self.firms.district, self.firms.employees(), d.n)
        self.transit.update_costs(
            d,
            transport,
            self.levers.transit_speed,
            jobs / d.area_km2,
            self.wage_index / citizens.MINUTES_WORKED_PER_MONTH,
        )
        self.transit.average_commutes(self.commute_trips)
        if memory is None:
            months = transport.expectation_months
            memory = 1.0 if months == 0 else float(per_step(self, 12.0 / months))
        self.transit.remember(memory)

    def run_policies(self) -> None:
        """Step the policy package: levers, initiatives, new infrastructure (policies/)."""
        self.policy_runtime.step(self)

    @on_one_blas_thread
    def step(self) -> None:
        """Advance the city by one step (one month by default), in this order:

        1. firm dynamics: exit, entry, relocation;
        2. economy: productivity growth, production, employment plans, wages, digital
           investment;
        3. labour market: separations and layoffs, job search, incomes;
        4. government: yearly plan and fiscal rule, taxes, benefits, public services,
           capability investment, infrastructure roll-out, policies, conventional
           programmes (equal budgets), digital-service supply;
        5. daily life: residence, commuting mode, traffic, service use, health, digital
           adoption, learning, online participation, satisfaction, trust;
        6. districts: housing construction, pollution, safety;
        7. demography: aging, deaths, births, in- and out-migration;
        8. budget settlement, invariant checks, data collection.
        """
        self.flows = dict.fromkeys(FLOWS, 0)
        self.population_before = len(self.citizens)
        self.debt_before = self.government.debt
        # Inside `employers_fixed` blocks no rule may change an employer or remove a firm:
        # firms' employee counts are made once per block (Firms.employers_fixed); inside
        # `residents_counted` no citizen arrives or leaves and a rule that moves citizens
        # says so (Citizens.moved), so residents per district are counted once per move.
        with self.citizens.residents_counted():
            firms.exit_firms(self)
            # Entrants have no workers and no employer changes from entry to the end of the
            # economy phase: the firms' workers are counted once for both (Firms.append
            # extends the count by the entrants' zeros).
            with self.firms.employers_fixed():
                firms.enter_firms(self)
                self._run_economy()
            self._run_labour_market()
            with self.firms.employers_fixed():
                self._govern()
                self._live()
                self._change_districts()
        self._change_population()
        self._settle_and_record()

    def _run_economy(self) -> None:
        """Phase 2 (after phase 1, firm exit and entry, in step): relocation, productivity
        growth, production, employment plans, wages and digital investment."""
        with self.firms.employers_fixed():
            for rule in (
                firms.relocate_firms,
                firms.grow_productivity,
                firms.produce,
                firms.plan_employment,
                firms.set_wages,
                firms.invest_in_digital,
            ):
                rule(self)

    def _run_labour_market(self) -> None:
        """Phase 3: separations and layoffs, job search, incomes."""
        citizens.leave_jobs(self)
        citizens.search_jobs(self)
        citizens.receive_income(self)

    def _govern(self) -> None:
        """Phase 4: the yearly plan and fiscal rule, then the month's public finance,
        services, capability investment, infrastructure, policies and conventional
        programmes (white paper 6.2, 7)."""
        government = self.government
        if (self.steps - 1) % self.steps_per_year == 0:
            government.plan_year()
        for action in (
            government.collect_taxes,
            government.fund_other_programmes,
            government.pay_benefits,
            government.provide_public_services,
            government.invest_in_capabilities,
            government.roll_out_infrastructure,
            self.run_policies,
            government.fund_conventional_programmes,
            government.offer_digital_services,
        ):
            action()

    def _live(self) -> None:
        """Phase 5: residence, commuting and traffic, service use, health, digital adoption,
        learning, online participation, satisfaction and trust (white paper 4.1, demand
        advancement)."""
        citizens.choose_residence(self)
        citizens.choose_commute_mode(self)
        citizens.board_transit(self)
        self._assign_traffic()
        for rule in (
            citizens.use_public_services,
            citizens.update_health,
            citizens.adopt_digital_services,
            citizens.learn,
            citizens.participate_online,
            citizens.evaluate_satisfaction,
            citizens.update_trust,
        ):
            rule(self)

    def _change_districts(self) -> None:
        """Phase 6: housing construction, pollution, safety incidents."""
        build_housing(self)
        update_pollution(self)
        count_safety_incidents(self)

    def _change_population(self) -> None:
        """Phase 7: aging, deaths, births, in- and out-migration; the rules mark who leaves
        and stage who arrives, and the changes are applied once, at the end."""
        for rule in (
            citizens.age_citizens,
            citizens.die,
            citizens.give_birth,
            citizens.attract_migrants,
            citizens.emigrate,
        ):
            rule(self)
        self.citizens.commit()

    def _settle_and_record(self) -> None:
        """Phase 8: budget settlement, invariant checks, data collection."""
        self.government.settle_budget()
        value_added = self.firms.value_added.sum()
        self.gdp_history.append(value_added)
        self.gdp_gain_total += value_added - self.initial_value_added
        check_invariants(self)
        if self.steps % self.record_every == 0:
            self._record()

    def _record(self) -> None:
        """Compute and check every metric of this step, then call the analyzers."""
        with self.firms.employers_fixed():
            self.datacollector.collect(self)
            check_invariants(self, metrics=self.datacollector.model_vars)
            for analyzer in self.analyzers:
                analyzer.record(self)

    def run(self, years: float, progress: bool = False) -> None:
        """Run for ``years`` years of steps, with an optional progress bar; the last step
        is recorded, and the analyzers are told that the run ended."""
        n = round(years * self.steps_per_year)
        self.datacollector.reserve(n // self.record_every + 1)
        steps = range(n)
        if progress:
            from tqdm import tqdm

            steps = tqdm(steps, desc=f"{self.preset} city", unit="step")
        for _ in steps:
            self.step()
        if n and self.steps % self.record_every != 0:
            self._record()
        for analyzer in self.analyzers:
            analyzer.finish(self)

    def metrics_frame(self) -> pd.DataFrame:
        """The recorded metrics as a DataFrame: one row per recorded step (0 = initial
        state), columns ``step``, ``year`` and one per metric."""
        frame = self.datacollector.get_model_vars_dataframe()
        steps = self.datacollector.steps[: self.datacollector.rows]
        frame.insert(0, "year", steps / self.steps_per_year)
        frame.insert(0, "step", steps)
        return frame

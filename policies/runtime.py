"""A policy package running in one city: levers, initiatives, new infrastructure, money.

Each step (after the government's capability investment) the runtime pays the start-up
grants for the firms that entered the priority sectors, starts empty lever inputs
(simulation.world.levers.LeverInputs) with this step's priorities, steps every initiative
with the current coordination multiplier, steps
the new infrastructure, books their public cost and revenue in the government's accounts,
and saturates the inputs into this step's levers (model.levers). Under an equal-budget
comparison every public item is scaled by the government's investment room
(Government.investment_room: the envelope factor under equal budgets, the debt rule's
fiscal room otherwise), so the package spends what the budget allows.

Coordination (white paper 2.2 and 4.3, "fractional" versus "integral intelligence"; paper
003, 4.2, the unified data middle platform versus "data islands") acts only through
outcomes. Data integration = platform capability x the linked share: the mean over active
initiatives of (stage >= performance) x operability x min(1, scale), i.e. how much
initiative data actually flows through the platform (a scale-0 initiative shares none).
With a unified platform, coordination = COORDINATION_GAIN x integration:

- each initiative's effect is multiplied by 1 + coordination;
- the cross-department part of administrative processing time is cut by that share
  (lever processing_cut), and emergency response time by half of it (response_cut);
- duplicated data handling, DUPLICATED_DATA_SHARE of the initiatives' public cost while
  two or more run, shrinks in proportion to the integration.

With data islands the integration is 0: no multiplier, no cut, full duplication.

Each of the package's lever groups (sector priorities, new-infrastructure investment, the
unified platform) runs only in its phase (``[phases.GROUP]``, PolicyPackage.phase), read at
the step's model year like an initiative's start and stop: outside it the group is off and
spends nothing (no grants or entry pull, no investment, no platform cost or coordination);
the infrastructure capacity already built remains and depreciates.
"""

from __future__ import annotations

import numpy as np

from smartcity.policies.initiatives import Initiative
from smartcity.policies.new_infrastructure import NewInfrastructure
from smartcity.policies.packages import PolicyPackage
from smartcity.simulation.world.levers import LeverInputs
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import SECTOR_NAMES

COORDINATION_GAIN = 0.4
DUPLICATED_DATA_SHARE = 0.1  # of initiatives' public cost, spent twice on unlinked data systems
START_UP_GRANT = 24.0  # wage-months paid per firm entering because of a sector priority


class PolicyRuntime:
    """The package's initiatives and infrastructure as they run in ``model``.

    Attributes:
        package: the PolicyPackage. initiatives: Initiative objects in package order.
        infrastructure: the NewInfrastructure stocks.
        private_capital_total: private capital mobilized so far, k.
        grants: start-up grants paid this step for sector priorities, k.
    """

    def __init__(self, package: PolicyPackage):
        self.package = package
        self.initiatives = [
            plan.runner(
                plan.spec, plan.financing, plan.start_year, plan.scale, stop_year=plan.stop_year
            )
            for plan in package.initiatives
        ]
        self.infrastructure = NewInfrastructure(package.new_infrastructure)
        self.sector_priority = np.array([package.sectors.get(s, 0.0) for s in SECTOR_NAMES])
        self.private_capital_total = 0.0
        self.grants = 0.0
        self.inputs = LeverInputs()
        self.grant_scale = np.zeros(len(SECTOR_NAMES))  # share of the full grant per sector
        self.last_uid = -1  # the newest firm uid the grants have seen

    def reschedule(self, package: PolicyPackage) -> None:
        """Take the start and stop years of ``package`` (its initiatives' and its lever
        groups'), the same initiatives in the same order with other years, for the rest of
        the run: equal to a run of ``package`` from the start when no step so far saw a year
        at which the old and new plans differ."""
        for initiative, plan in zip(self.initiatives, package.initiatives, strict=True):
            if initiative.name != plan.spec.name:
                raise ValueError(f"{plan.spec.name} is not {initiative.name}: not a reschedule")
            initiative.start_year, initiative.stop_year = plan.start_year, plan.stop_year
        self.package = package

    def running(self) -> list[Initiative]:
        """The initiatives that are started, not abandoned and run at a scale above 0: an
        initiative at scale 0 (the placebo's) holds no data and duplicates none."""
        return [i for i in self.initiatives if i.active() and i.scale > 0]

    def linked_share(self) -> float:
        """Mean over running initiatives of (stage >= performance) x operability x
        min(1, scale): the data they actually put on a shared platform, 0-1."""
        linked = [(i.stage >= 2) * i.operability * min(1.0, i.scale) for i in self.running()]
        return float(np.mean(linked)) if linked else 0.0

    def lever_on(self, model: CityState, group: str) -> bool:
        """Whether lever group ``group`` runs in this step (its phase holds the step's model
        year, the year an initiative's start and stop read)."""
        return self.package.phase(group).on((model.steps - 1) / model.steps_per_year)

    def platform_on(self, model: CityState) -> bool:
        """Whether the unified platform runs in this step: the package has one, in phase."""
        return self.package.unified_platform and self.lever_on(model, "unified_platform")

    def integration(self, model: CityState) -> float:
        """Data integration, 0-1: platform capability x linked share with a unified
        platform (in its phase); 0 with data islands."""
        if not self.platform_on(model):
            return 0.0
        return model.government.capability("platform") * self.linked_share()

    def step(self, model: CityState) -> None:
        """Collect lever inputs, run initiatives and infrastructure, book the money, and
        set this step's levers."""
        gov = model.government
        factor = gov.investment_room()
        self.fund_sector_priorities(model, factor)
        integration = self.integration(model)
        coordination = COORDINATION_GAIN * integration
        self.inputs.add("processing_cut", coordination)
        self.inputs.add("response_cut", 0.5 * coordination)
        platform_cost = 0.0
        if self.platform_on(model):
            platform_cost = self.package.platform_cost * len(model.citizens) / model.steps_per_year
        for initiative in self.initiatives:
            initiative.step(model, 1.0 + coordination, factor)
        self.infrastructure.step(
            model, factor if self.lever_on(model, "new_infrastructure") else 0.0
        )
        public = sum(i.public_cost for i in self.initiatives)
        if len(self.running()) > 1:
            public *= 1.0 + DUPLICATED_DATA_SHARE * (1.0 - integration)
        gov.accounts["initiatives"] = platform_cost * factor + public + self.grants
        gov.accounts["initiative_revenue"] = sum(i.public_revenue for i in self.initiatives)
        model.user_fees = sum(i.fees for i in self.initiatives)
        gov.accounts["new_infrastructure"] = self.infrastructure.spent_this_step
        self.private_capital_total += sum(i.private_capital for i in self.initiatives)
        model.levers = self.inputs.levers(model.params.lever_limits())

    def fund_sector_priorities(self, model: CityState, factor: float) -> None:
        """Pay start-up grants for the firms that entered this step, then start this step's
        lever inputs with the sector priorities.

        Firm entry this step read last step's saturated sector_entry lever (docs/ODD.md 3),
        so the grants follow the entry that lever applied: every firm that entered a sector
        with a priority last step gets START_UP_GRANT wage-months times last step's
        investment room (a programme the budget scales down pays smaller grants, and its
        pull, priority x room, is smaller in proportion). A grant programme pays every
        eligible founder: it cannot tell the entrants its grant drew from those that would
        have started anyway (deadweight), so it pays for both, and for the founders an
        initiative's own sector_entry draws into a priority sector (that initiative's pull is
        paid by its operating cost; its founders are eligible like any other). Outside the
        sectors' phase the programme is closed: it pays no grants (not even for last step's
        entrants) and adds no pull.
        """
        f = model.firms
        entrants = f.sector[f.uid > self.last_uid]
        on = self.lever_on(model, "sectors")
        self.grants = (
            START_UP_GRANT * model.wage_index * self.grant_scale[entrants].sum() if on else 0.0
        )
        self.last_uid = int(f.uid.max(initial=self.last_uid))
        self.inputs = LeverInputs()
        room = factor if on else 0.0
        self.grant_scale = np.where(self.sector_priority > 0, room, 0.0)
        self.inputs.add_items("sector_entry", self.sector_priority * room)

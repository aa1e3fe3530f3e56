"""A policy package running in one city: levers, initiatives, new infrastructure, money.

Each step (after the government's capability investment) the runtime resets the levers to
neutral, adds the package's sector priorities, steps every initiative with the current
coordination multiplier and the new infrastructure, and books their public cost and revenue
in the government's accounts.

Coordination (white paper 2.2 and 4.3, "fractional" versus "integral intelligence"; paper
003, 4.2, the unified data middle platform versus "data islands"): with a unified platform,
initiatives share data, so each one's effect is multiplied by 1 + 0.4 x platform capability
x the share of active initiatives working at performance stage or better, and the shared
data raises government efficiency by 0.1 x platform capability; with data islands neither
happens.
"""

from __future__ import annotations

import numpy as np

from smartcity.policies.levers import Levers
from smartcity.policies.new_infrastructure import NewInfrastructure
from smartcity.policies.packages import PolicyPackage
from smartcity.simulation.parameters import SECTOR_NAMES
from smartcity.simulation.protocols import CityState

COORDINATION_GAIN = 0.4
PLATFORM_EFFICIENCY = 0.1


class PolicyRuntime:
    """The package's initiatives and infrastructure as they run in ``model``.

    Attributes:
        package: the PolicyPackage. initiatives: Initiative objects in package order.
        infrastructure: the NewInfrastructure stocks.
        private_capital_total: private capital mobilized so far, k.
    """

    def __init__(self, package: PolicyPackage):
        self.package = package
        self.initiatives = [
            plan.runner(plan.spec, plan.financing, plan.start_year, plan.scale)
            for plan in package.initiatives
        ]
        self.infrastructure = NewInfrastructure(package.new_infrastructure)
        self.sector_priority = np.array([package.sectors.get(s, 0.0) for s in SECTOR_NAMES])
        self.private_capital_total = 0.0

    def linked_share(self) -> float:
        """Share of active initiatives working at performance stage or better."""
        active = [i for i in self.initiatives if i.active()]
        return sum(i.stage >= 2 for i in active) / len(active) if active else 0.0

    def coordination_index(self, model: CityState) -> float:
        """Integral intelligence, 0-1: (0.3 organization + 0.7 platform) x linked share with
        a unified platform; 0.3 organization x linked share with data islands (initiatives
        coordinate only through the organization)."""
        gov = model.government
        reach = 0.3 * gov.capability("organization")
        if self.package.unified_platform:
            reach += 0.7 * gov.capability("platform")
        return reach * self.linked_share()

    def step(self, model: CityState) -> None:
        """Reset the levers, run initiatives and infrastructure, book the money."""
        model.levers = Levers()
        model.levers.sector_entry += self.sector_priority
        gov = model.government
        platform = gov.capability("platform")
        multiplier = 1.0
        platform_cost = 0.0
        if self.package.unified_platform:
            multiplier += COORDINATION_GAIN * platform * self.linked_share()
            model.levers.efficiency += PLATFORM_EFFICIENCY * platform
            platform_cost = self.package.platform_cost * len(model.citizens) / model.steps_per_year
        for initiative in self.initiatives:
            initiative.step(model, multiplier)
        self.infrastructure.step(model)
        gov.accounts["initiatives"] = platform_cost + sum(i.public_cost for i in self.initiatives)
        gov.accounts["initiative_revenue"] = sum(i.public_revenue for i in self.initiatives)
        model.user_fees = sum(i.fees for i in self.initiatives)
        gov.accounts["new_infrastructure"] = self.infrastructure.spent_this_step
        self.private_capital_total += sum(i.private_capital for i in self.initiatives)

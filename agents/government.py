"""The city government: budget, public services and the six capabilities (white paper 6.2, 7).

The government is one ``mesa.Agent``. It taxes labour income and profits, pays benefits,
runs and builds public services, and invests a yearly capability budget across the six
capabilities of white paper 6.2 (organization, infrastructure, perception, platform,
services, digital-space governance). Capabilities are stocks that investment builds and
depreciation erodes; they gate what the city's digital services can do.

Fiscal closure (white paper 7; NI 4.4 on financing risk): spending programmes
follow revenue (the capability budget and other programmes are shares of it); deficits
add to debt, which costs interest; each year the income-tax rate moves by tax_response x
(debt ratio - its starting level), within +-MAX_TAX_ADJUSTMENT, so a path that overspends
pays higher taxes (less disposable income, less local demand) and one that saves cuts
them; above the debt limit discretionary spending is cut as well (the debt rule).

Under equal budgets (government.budget = "equal") the capability budget, initiatives, the
platform and new infrastructure together spend a fixed envelope path (spending_envelope x
the initial tax revenue, growing at envelope_growth): the package's plan is scaled down
when it exceeds the envelope, and what it leaves unspent funds conventional programmes
(service places, road and transit renewal) with their own effects.
"""

from __future__ import annotations

import mesa
import numpy as np

from smartcity.agents.citizens import residents_per_district
from smartcity.agents.firms import sector_mask
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import CAPABILITY_NAMES, DIGITAL_SERVICES, per_step

ACCOUNTS = (
    "income_tax",
    "business_tax",
    "initiative_revenue",
    "other_programmes",
    "service_operation",
    "service_building",
    "benefits",
    "capability_investment",
    "initiatives",
    "new_infrastructure",
    "conventional_programmes",
    "interest",
)
TAX_ACCOUNTS = ("income_tax", "business_tax")
REVENUE_ACCOUNTS = (*TAX_ACCOUNTS, "initiative_revenue")
PUBLIC_INVESTMENT_ACCOUNTS = (
    "capability_investment",
    "initiatives",
    "new_infrastructure",
    "conventional_programmes",
)
MAX_TAX_ADJUSTMENT = 0.05  # income-tax points the fiscal rule may add or remove
# Administrative processing of a citizen's request (white paper 4.2, 6.2.1; NI 4.2):
# days at the start, of which CROSS_DEPARTMENT_SHARE waits on other departments' data.
BASE_PROCESSING_DAYS = 20.0
CROSS_DEPARTMENT_SHARE = 0.5
ONLINE_SPEED_UP = 0.4  # share of in-department time saved on a request filed online
# k per resident that closes the whole gap of district transport quality to 1.
ROAD_RENEWAL_COST = 5.0


class Government(mesa.Agent):
    """The city government.

    Attributes:
        capabilities: stock of each capability in CAPABILITY_NAMES order, 0-1.
        debt: public debt, k (thousand currency units).
        accounts: this step's revenue and spending by ACCOUNTS entry, k.
        yearly_capability_budget: budget for capability building this year, k.
        service_purchases: monthly spending on public services, bought from local firms.
        tax_adjustment: income-tax points added by the fiscal rule (negative = a cut).
        envelope_factor: share (0-1) of the package's spending plan the equal-budget
            envelope allows this step (1 under package budgets).
    """

    def __init__(self, model: CityState):
        super().__init__(model)
        params = model.params
        self.capabilities = np.array(params.initial_capabilities(), dtype=float)
        self.shares = np.array(params.capability_shares())
        self.debt = 0.0
        self.accounts = dict.fromkeys(ACCOUNTS, 0.0)
        self.revenue_last_year: list[float] = []
        self.yearly_capability_budget = 0.0
        self.service_purchases = 0.0
        self.other_spending_share = 0.0
        self.public_investment_total = 0.0
        self.tax_adjustment = 0.0
        self.statutory_taxes = 0.0
        self.initial_tax_revenue = 0.0
        self.envelope_factor = 1.0
        self.envelope_carry = 0.0
        self.planned_spending = 0.0
        d = model.districts
        residents = np.maximum(residents_per_district(model), 1.0)
        self.service_ratio = d.service_capacity / residents
        # The services capability's effect on the target is relative to the start, so the
        # first years do not start with places above or below what the rule holds them at.
        self.initial_service_factor = 0.9 + 0.2 * self.capability("services")

    # --- read-outs used by the agents' rules ---------------------------------------

    def capability(self, name: str) -> float:
        """Current stock of one capability, 0-1."""
        return float(self.capabilities[CAPABILITY_NAMES.index(name)])

    def privacy_protection(self) -> float:
        """Protection of personal data, 0-1: the digital-space governance capability plus
        privacy policies (lever privacy_protection)."""
        return min(
            1.0, self.capability("digital_governance") + self.model.levers.privacy_protection
        )

    def efficiency(self) -> float:
        """Government efficiency, 0-1: organization and platform capabilities (6.2.1, 6.2.4),
        plus what policies add (lever efficiency). It lowers the cost of running service
        places and the in-department processing time; no index reads it."""
        base = (0.5 + 0.5 * self.capability("organization")) * (
            0.7 + 0.3 * self.capability("platform")
        )
        return min(1.0, base + self.model.levers.efficiency)

    def processing_days(self) -> float:
        """Mean days to process a citizen's request (white paper 4.2, 6.2.1; NI 4.2).

        days = BASE x [(1 - CROSS) x (1 - ONLINE_SPEED_UP x e-government use) x 1.2 / (0.7 +
        0.5 efficiency) + CROSS x (1 - processing_cut)]: in-department work is faster online
        and in an efficient administration; the wait on other departments' data shrinks
        only where shared data removes it (lever processing_cut, policies.runtime).
        """
        c = self.model.citizens
        adults = c.adults()
        users = np.count_nonzero(c.adopted[:, DIGITAL_SERVICES.index("e_government")] & adults)
        online = users / max(np.count_nonzero(adults), 1)
        own = (1 - ONLINE_SPEED_UP * online) * 1.2 / (0.7 + 0.5 * self.efficiency())
        shared = 1.0 - self.model.levers.processing_cut
        return BASE_PROCESSING_DAYS * (
            (1 - CROSS_DEPARTMENT_SHARE) * own + CROSS_DEPARTMENT_SHARE * shared
        )

    def income_tax_rate(self) -> float:
        """Income-tax rate: the statutory rate plus the fiscal rule's adjustment."""
        rate = float(self.model.params.government.income_tax + self.tax_adjustment)
        return min(max(rate, 0.0), 0.9)  # np.clip's value, on a float

    def unemployment_benefit(self) -> float:
        """Monthly benefit of a jobless adult, k: a share of the city wage index."""
        return self.model.params.government.unemployment_benefit * self.model.wage_index

    def fiscal_room(self) -> float:
        """1 under the debt limit; above it, (limit / debt ratio)^2 of discretionary spending."""
        ratio = self.debt_ratio()
        limit = self.model.params.government.debt_limit
        return 1.0 if ratio <= limit else (limit / ratio) ** 2

    def debt_ratio(self) -> float:
        """Debt over annual GDP."""
        annual_gdp = self.model.firms.value_added.sum() * self.model.steps_per_year
        return self.debt / max(annual_gdp, 1e-9)

    # --- rules ----------------------------------------------------------------------

    def offer_digital_services(self) -> None:
        """Availability (0-1) of each digital service in each district: ICT coverage times
        what the capabilities and the platform sector supply (white paper 6.2.4-6.2.5)."""
        model = self.model
        d = model.districts
        f = model.firms
        labour = f.employees()
        platform_jobs = labour[sector_mask(("platform",))[f.sector]].sum()
        platform_presence = min(1.0, platform_jobs / max(labour.sum(), 1.0) / 0.08)
        services, platform = self.capability("services"), self.capability("platform")
        sensing = self.capability("perception") * d.iot
        supply = np.stack(
            [
                np.full(d.n, 0.2 + 0.8 * services),
                np.full(d.n, 0.1 + 0.45 * services + 0.45 * platform),
                np.full(d.n, 0.3 + 0.7 * platform_presence),
                0.2 + 0.4 * sensing + 0.4 * platform_presence,
            ],
            axis=1,
        )
        boosted = np.minimum(1.0, supply + model.levers.service_availability[None, :])
        model.service_availability = d.ict[:, None] * boosted

    def plan_year(self) -> None:
        """At the start of a year, set the capability budget to a share of last year's
        revenue (white paper 6.2.1, capital input and use)."""
        model = self.model
        revenue = (
            sum(self.revenue_last_year) * model.steps_per_year / max(len(self.revenue_last_year), 1)
        )
        self.yearly_capability_budget = model.params.government.capability_budget_share * revenue
        self.adjust_taxes()

    def adjust_taxes(self) -> None:
        """The fiscal rule: once a year the income-tax rate moves by tax_response x (debt
        ratio - its starting level), within +-MAX_TAX_ADJUSTMENT points."""
        p = self.model.params.government
        gap = self.debt_ratio() - p.initial_debt_ratio
        self.tax_adjustment = float(
            np.clip(self.tax_adjustment + p.tax_response * gap, -MAX_TAX_ADJUSTMENT,
                    MAX_TAX_ADJUSTMENT)
        )  # fmt: skip

    def collect_taxes(self) -> None:
        """Tax labour income and positive profits."""
        model = self.model
        p = model.params.government
        c = model.citizens
        wages = c.income[c.employer >= 0].sum() * model.months_per_step
        self.accounts["income_tax"] = self.income_tax_rate() * wages
        self.accounts["business_tax"] = p.business_tax * np.maximum(model.firms.profit, 0).sum()
        self.statutory_taxes = p.income_tax * wages + self.accounts["business_tax"]
        revenue = self.accounts["income_tax"] + self.accounts["business_tax"]
        self.revenue_last_year = [*self.revenue_last_year, revenue][-model.steps_per_year :]

    def fund_other_programmes(self) -> None:
        """Administration and programmes the model does not detail keep the share of revenue
        at statutory tax rates that balanced the initial budget (other_spending_share,
        calibrated at start); the fiscal rule's extra tax pays down debt, not programmes."""
        self.accounts["other_programmes"] = self.other_spending_share * self.statutory_taxes

    def calibrate_other_programmes(self) -> None:
        """Set other_spending_share so that the first month's budget is balanced."""
        self.other_spending_share = 0.0
        self.accounts["interest"] = self.debt * per_step(
            self.model, self.model.params.government.interest_rate
        )
        revenue = self.revenue()
        self.other_spending_share = float(
            np.clip((revenue - self.spending()) / max(revenue, 1e-9), 0.0, 0.9)
        )
        self.fund_other_programmes()
        self.initial_tax_revenue = self.statutory_taxes * self.model.steps_per_year

    def pay_benefits(self) -> None:
        """Pay the unemployment benefit to every jobless adult of working age."""
        c = self.model.citizens
        jobless = c.labour_force(self.model.params.citizens.retirement_age) & (c.employer < 0)
        months = self.model.months_per_step
        jobless_count = np.count_nonzero(jobless)
        self.accounts["benefits"] = self.unemployment_benefit() * jobless_count * months

    def provide_public_services(self) -> None:
        """Run every public-service place and build new ones where residents outgrow them.

        Each district's target is its initial places per resident x (0.9 + 0.2 services
        capability), relative to that factor at the start; a share service_build_rate of
        the shortfall is built each year, scaled by the fiscal room (white paper Table 1,
        convenient and equal service).
        """
        model = self.model
        p = model.params.government
        d = model.districts
        target = self.service_ratio * residents_per_district(model)
        target *= (0.9 + 0.2 * self.capability("services")) / self.initial_service_factor
        shortfall = np.maximum(target - d.service_capacity, 0.0)
        built = shortfall * per_step(model, p.service_build_rate) * self.fiscal_room()
        d.service_capacity += built
        wage = model.wage_index
        self.accounts["service_building"] = p.service_build_cost * wage * built.sum()
        # An efficient government runs the same places for up to a third less.
        operation = (
            p.service_cost * wage * d.service_capacity.sum() / (0.5 + 0.5 * self.efficiency())
        )
        self.service_purchases = operation
        self.accounts["service_operation"] = operation * model.months_per_step

    def invest_in_capabilities(self) -> None:
        """Spend this month's part of the capability budget and update the six stocks.

        dC = efficiency x min(1, building spend per resident-year / reference) x (1 - C) x
        (0.5 + 0.5 organization) - depreciation x C, per year (white paper 6.2), where the
        building spend is what keeping old systems running leaves: spend x (1 -
        legacy_upkeep x city.legacy_burden) (white paper 5.1.1, mature cities "have a long
        history"; 5.1.2, emerging ones are "less burdened by history").
        """
        model = self.model
        p = model.params.government
        spend = self.yearly_capability_budget / model.steps_per_year * self.investment_room()
        building = 1.0 - p.legacy_upkeep * model.params.city.legacy_burden
        spend_k = spend * building * self.shares
        per_resident_year = spend_k * model.steps_per_year / max(len(model.citizens), 1)
        intensity = np.minimum(1.0, per_resident_year / p.capability_reference_spend)
        drive = 0.5 + 0.5 * self.capability("organization")
        step = 1.0 / model.steps_per_year
        gain = p.capability_efficiency * step * intensity * (1 - self.capabilities) * drive
        self.capabilities += gain - per_step(model, p.capability_depreciation) * self.capabilities
        self.accounts["capability_investment"] = spend

    def investment_room(self) -> float:
        """Share of planned capability, initiative and infrastructure spending that goes
        ahead: the envelope factor under equal budgets, else the debt rule's fiscal room."""
        if self.model.params.government.budget == "equal":
            return self.envelope_factor
        return self.fiscal_room()

    def envelope(self) -> float:
        """This step's equal-budget envelope, k: spending_envelope x initial yearly tax
        revenue x (1 + envelope_growth)^years / steps per year."""
        model = self.model
        p = model.params.government
        years = (model.steps - 1) / model.steps_per_year
        yearly = p.spending_envelope * self.initial_tax_revenue * (1 + p.envelope_growth) ** years
        return yearly / model.steps_per_year

    def fund_conventional_programmes(self) -> None:
        """Under equal budgets, spend what the package left of the envelope on conventional
        programmes and set next step's envelope factor.

        Half (conventional_service_share) builds public-service places at service_build_cost
        wage-months each, placed by residents x (1.05 - district access); the rest renews roads
        and transit: district transport quality rises by (spend per resident / ROAD_RENEWAL_COST)
        of its gap to 1. Overspending (a plan that ran ahead of the factor) is carried into
        the next step, so cumulative spending follows the envelope path.
        """
        model = self.model
        p = model.params.government
        if p.budget != "equal":
            return
        available = self.envelope() + self.envelope_carry
        package = sum(self.accounts[a] for a in PUBLIC_INVESTMENT_ACCOUNTS[:3])
        conventional = max(available - package, 0.0)
        self.envelope_carry = available - package - conventional
        self.accounts["conventional_programmes"] = conventional
        if self.envelope_factor > 0.01:  # the unscaled plan, seen through this step's factor
            self.planned_spending = package / self.envelope_factor
        upcoming = self.envelope() * (1 + p.envelope_growth) ** (1 / model.steps_per_year)
        # Next step's plan is scaled to the next envelope less any overrun carried.
        headroom = upcoming + self.envelope_carry
        self.envelope_factor = float(np.clip(headroom / max(self.planned_spending, 1e-9), 0, 1))
        if conventional <= 0:
            return
        d = model.districts
        residents = residents_per_district(model)
        places = (
            conventional * p.conventional_service_share / (p.service_build_cost * model.wage_index)
        )
        need = residents * np.maximum(1.05 - model.district_access, 0.0) + 1e-9
        d.service_capacity += places * need / need.sum()
        per_resident = conventional * (1 - p.conventional_service_share) / max(residents.sum(), 1.0)
        d.transport += min(per_resident / ROAD_RENEWAL_COST, 1.0) * (1 - d.transport)

    def roll_out_infrastructure(self) -> None:
        """Capabilities raise district stocks toward 1: infrastructure -> ICT coverage and
        transport quality; perception -> IoT coverage; platform -> computing (6.2.2-6.2.4)."""
        model = self.model
        d = model.districts
        rate = per_step(model, model.params.government.infrastructure_rollout)
        d.ict += rate * self.capability("infrastructure") * (1 - d.ict)
        d.transport += 0.3 * rate * self.capability("infrastructure") * (1 - d.transport)
        d.iot += rate * self.capability("perception") * (1 - d.iot)
        d.computing += rate * self.capability("platform") * (1 - d.computing)

    def settle_budget(self) -> None:
        """Pay interest and carry the balance into debt: debt' = debt + spending + interest
        - revenue (the budget identity checked every step)."""
        model = self.model
        self.accounts["interest"] = self.debt * per_step(
            model, model.params.government.interest_rate
        )
        self.debt -= self.balance()
        self.public_investment_total += sum(self.accounts[a] for a in PUBLIC_INVESTMENT_ACCOUNTS)

    def revenue(self) -> float:
        """This step's revenue, k."""
        return sum(self.accounts[a] for a in REVENUE_ACCOUNTS)

    def spending(self) -> float:
        """This step's spending including interest, k."""
        return sum(v for a, v in self.accounts.items() if a not in REVENUE_ACCOUNTS)

    def balance(self) -> float:
        """Revenue minus spending this step, k (negative = deficit)."""
        return self.revenue() - self.spending()

"""New infrastructure (NI sections 1, 3 and 4.1): 5G, data centres, AI, industrial
internet, EV charging, UHV power and intercity/urban rail as investable stocks.

Each stock has a capacity (share of its potential demand it can serve) that investment
builds and depreciation erodes. Its demand is the "new consumption" that matches it:
citizens' and firms' uptake of what it enables (NI 4.1: promote new consumption in
step with new infrastructure). What it delivers is the demand it serves, min(capacity,
demand); utilization = served / capacity. Investment far ahead of demand is therefore
wasted: it shows as low utilization and a low return.

Urban rail acts through physics, not through a lever: its capacity multiplies the seats of
the city's existing rail lines (capacity 1 doubles them: longer and more frequent trains),
its demand is the load factor of the rail links (riders over seats), and what it serves is
capacity x min(load factor, 1). Commuters fill new seats only if rail suits their trips; a line
where nobody travels stays empty while its cost is booked like any other investment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from smartcity.agents.firms import sector_mask
from smartcity.policies.initiatives import adoption_signal
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import MODES, per_step, share

CAPACITY_COST = 0.6  # k per resident to build capacity serving all potential demand
DEPRECIATION = 0.05  # 1/year


def _mobile_demand(model: CityState) -> float:
    """Citizens' use of digital services (mean adoption of adults)."""
    return adoption_signal(model, "citizens_digital")


def _computing_demand(model: CityState) -> float:
    """Firms' digitalization, employment-weighted."""
    return adoption_signal(model, "firms_digital")


def _ai_demand(model: CityState) -> float:
    """Firms' digitalization x the platform capability that puts AI to use."""
    return adoption_signal(model, "firms_digital") * model.government.capability("platform")


def _rail_demand(model: CityState) -> float:
    """Load factor of the rail links: peak-hour rail riders over rail seats."""
    return model.transit.rail_load_factor(model.params.transport)


def _expand_rail(model: CityState, capacity: float) -> None:
    """Rail seats = the lines' initial seats x (1 + capacity)."""
    model.transit.expand_rail(capacity)


def _ev_demand(model: CityState) -> float:
    """Car commuters who drive electric: car share x an EV share rising 3 points a year."""
    c = model.citizens
    commuting = c.mode >= 0
    cars = share(c.mode[commuting] == MODES.index("car"))
    years = model.steps / model.steps_per_year
    return cars * min(1.0, 0.1 + 0.03 * years)


def _industrial_demand(model: CityState) -> float:
    """Digitalization of manufacturing and logistics firms, employment-weighted."""
    f = model.firms
    chain = sector_mask(("manufacturing", "logistics"))[f.sector]
    weights = f.employees()[chain] + 1.0
    return float(np.average(f.digital[chain], weights=weights)) if chain.any() else 0.0


def _power_demand(model: CityState) -> float:
    """Electricity demand: GDP relative to the start, half of it at the start."""
    start = model.initial_value_added
    return float(min(1.0, 0.5 * model.firms.value_added.sum() / max(start, 1e-9)))


@dataclass(frozen=True)
class InfrastructureKind:
    """One kind of new infrastructure: what demands it and what it delivers per unit served.

    Attributes:
        name: identifier used in packages. source: NI section.
        demand: function of the model giving demand as a share of potential, 0-1.
        effects: lever key -> contribution per unit of demand served.
        district_growth: district stock -> yearly rate toward 1 per unit served.
        expand: for physical capacity, the function that builds it in the city from the
            capacity; such a kind serves capacity x min(demand, 1) (its load factor).
    """

    name: str
    source: str
    demand: Callable[[CityState], float]
    effects: dict[str, float]
    district_growth: dict[str, float]
    expand: Callable[[CityState, float], None] | None = None


KINDS = {
    k.name: k
    for k in (
        InfrastructureKind(
            "5g", "NI 1 and 4.1", _mobile_demand,
            {"service_availability.mobility": 0.2}, {"ict": 0.3},
        ),
        InfrastructureKind(
            "data_centres", "NI 1", _computing_demand, {}, {"computing": 0.4},
        ),
        InfrastructureKind(
            "ai", "NI 1 and 3", _ai_demand,
            {"digital_affinity.digital": 0.3, "digital_affinity.platform": 0.3,
             "digital_affinity.services": 0.2, "efficiency": 0.1}, {},
        ),
        InfrastructureKind(
            "industrial_internet", "NI 1", _industrial_demand,
            {"digital_affinity.manufacturing": 0.4, "digital_affinity.logistics": 0.4}, {},
        ),
        InfrastructureKind(
            "ev_charging", "NI 1", _ev_demand, {"emission_cut": 0.5}, {},
        ),
        InfrastructureKind(
            "uhv_power", "NI 1", _power_demand, {"energy_cost_cut": 0.3}, {},
        ),
        InfrastructureKind(
            "urban_rail", "NI 1 and 4.3", _rail_demand, {}, {}, _expand_rail,
        ),
    )
}  # fmt: skip


class NewInfrastructure:
    """The city's new-infrastructure stocks and the yearly investment in each.

    Args:
        investment: kind name -> public investment, k per resident-year.
    """

    def __init__(self, investment: dict[str, float]):
        self.investment = dict(investment)
        self.capacity = dict.fromkeys(KINDS, 0.0)
        self.served = dict.fromkeys(KINDS, 0.0)
        self.spent_this_step = 0.0
        self.invested_total = 0.0

    def step(self, model: CityState, funding: float = 1.0) -> None:
        """Invest (scaled by ``funding``, the share of the plan the budget allows:
        Government.investment_room), depreciate, serve demand and take effect."""
        room = funding
        residents = len(model.citizens)
        self.spent_this_step = 0.0
        d = model.districts
        for name, kind in KINDS.items():
            spend = self.investment.get(name, 0.0) * room / model.steps_per_year
            self.spent_this_step += spend * residents
            self.capacity[name] *= 1 - per_step(model, DEPRECIATION)
            self.capacity[name] += spend / CAPACITY_COST
            if self.capacity[name] <= 0:
                continue
            if kind.expand is not None:
                kind.expand(model, self.capacity[name])
                self.served[name] = self.capacity[name] * min(kind.demand(model), 1.0)
                continue
            self.served[name] = min(self.capacity[name], kind.demand(model))
            for lever, amount in kind.effects.items():
                model.policy_runtime.inputs.add(lever, amount * self.served[name])
            for stock, rate in kind.district_growth.items():
                values = getattr(d, stock)
                values += per_step(model, rate * self.served[name]) * (1.0 - values)
        self.invested_total += self.spent_this_step

    def check_buildable(self, model: CityState) -> None:
        """Refuse rail investment in a city without rail lines (it would buy nothing)."""
        if self.investment.get("urban_rail", 0.0) > 0 and not model.transit.has_rail():
            raise InputError(
                "new_infrastructure.urban_rail: the city has no rail line to expand; "
                "set city.rail_lines > 0 or give links a rail_seats attribute"
            )

    def utilization(self) -> float:
        """Served over capacity, capacity-weighted over kinds (1 when nothing is built)."""
        capacity = sum(self.capacity.values())
        return sum(self.served.values()) / capacity if capacity > 0 else 1.0

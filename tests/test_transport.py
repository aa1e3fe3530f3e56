"""Transport behaves like a city's: speed bounds, transit capacity and crowding, mode choice by
generalized cost, induced demand, and urban rail that acts through seats and is paid for."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from smartcity.agents import citizens as cz
from smartcity.simulation.model import CityModel, metrics
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.graph import generate_city_graph
from smartcity.simulation.world.transport import crowding_multiplier
from smartcity.simulation.world.vocabulary import CAR, MODES, TRANSIT

RAIL_CITY = 20000  # rail effects are a few points of share: a full-size city keeps noise low
SEEDS = (1, 2, 3)


def test_crowding_multiplier_is_the_documented_curve():
    """1 + 0.15 load^3: no penalty empty, 1.15 with every seat taken, 2.2 at twice the seats,
    rising with load."""
    load = np.array([0.0, 0.5, 1.0, 2.0])
    values = crowding_multiplier(load, 0.15, 3.0)
    assert values == pytest.approx([1.0, 1.01875, 1.15, 2.2])
    assert np.all(np.diff(values) > 0)


@pytest.mark.parametrize("bus_priority", [0.0, 5.0])
def test_no_mode_beats_its_speed_bound(make_city, bus_priority):
    """Door-to-door, no mode is faster than its physical bound, and congestion or traffic
    only ever add time: minutes >= free-flow minutes for every mode and pair, even when a
    policy pushes the bus-priority lever far past its full value."""
    model = make_city("mature", seed=2)
    model.run(1)
    model.levers.transit_speed = bus_priority
    model._assign_traffic()
    t = model.transit
    p = model.params.transport
    hours = t.minutes / 60.0
    speed = model.districts.distance[None, :, :] / hours
    bounds = {"transit": p.rail_speed, "micro": p.micro_speed, "cycle": p.cycle_speed,
              "walk": p.walk_speed}  # fmt: skip
    for mode, bound in bounds.items():
        assert speed[MODES.index(mode)].max() <= bound * (1 + 1e-9), mode
    assert np.all(t.minutes >= t.free_minutes - 1e-9)
    assert np.all(t.minutes[CAR] >= model.districts.free_time - 1e-9)


def test_transit_riders_beyond_the_seats_are_turned_back(make_city):
    """With a third of the seats, the peak-hour load stays at capacity, standing_factor
    riders per seat (up to the chance of who is turned back): riders beyond it go by other
    modes, so the transit share falls and the car share rises."""
    full = make_city("mature", seed=1, citizens__count=5000)
    thin = make_city(
        "mature", seed=1, citizens__count=5000, city__bus_capacity=0.5, city__rail_capacity=0.5
    )
    for model in (full, thin):
        model.run(0.5)
    assert thin.transit.load.max() <= 1.15 * thin.params.transport.standing_factor
    shares = {
        name: model.metrics_frame()[["mode_share_transit", "mode_share_car"]].mean()
        for name, model in (("full", full), ("thin", thin))
    }
    assert shares["thin"]["mode_share_transit"] < shares["full"]["mode_share_transit"] - 0.1
    assert shares["thin"]["mode_share_car"] > shares["full"]["mode_share_car"]


def _rail_run(factor: float, seed: int) -> dict[str, float]:
    base = resolve_parameters("mature").city.rail_capacity
    model = CityModel(
        "mature", seed=seed, citizens__count=RAIL_CITY, city__rail_capacity=base * factor
    )
    model.run(1)
    frame = model.metrics_frame()
    return {
        name: float(frame[name].mean())
        for name in ("travel_time_index", "mode_share_transit", "transit_crowding",
                     "rail_load_factor")
    }  # fmt: skip


@pytest.fixture(scope="module")
def rail_runs() -> dict[float, dict[str, np.ndarray]]:
    """First-year mean metrics per rail-capacity factor, one value per paired seed."""
    runs = {}
    for factor in (0.5, 1.0, 2.0, 4.0):
        by_seed = [_rail_run(factor, seed) for seed in SEEDS]
        runs[factor] = {k: np.array([r[k] for r in by_seed]) for k in by_seed[0]}
    return runs


def test_doubling_rail_capacity_helps_with_diminishing_returns(rail_runs):
    """Doubling the rail seats lowers the all-mode travel time index and raises the
    transit share; doubling again raises the share by less (diminishing returns) and does
    not undo the lower index."""
    one, two, four = ({k: v.mean() for k, v in rail_runs[f].items()} for f in (1.0, 2.0, 4.0))
    assert two["travel_time_index"] < one["travel_time_index"]
    assert two["mode_share_transit"] > one["mode_share_transit"] + 0.01
    first_gain = two["mode_share_transit"] - one["mode_share_transit"]
    second_gain = four["mode_share_transit"] - two["mode_share_transit"]
    assert second_gain < first_gain
    assert four["travel_time_index"] <= two["travel_time_index"] + 0.002


def test_halving_rail_capacity_raises_crowding(rail_runs):
    """Half the rail seats: more riders per seat on the trains and across the transit
    network in every paired seed, and fewer riders, the rest being turned back."""
    half, one = rail_runs[0.5], rail_runs[1.0]
    assert np.all(half["transit_crowding"] > one["transit_crowding"])
    assert np.all(half["rail_load_factor"] > one["rail_load_factor"] + 0.05)
    assert half["mode_share_transit"].mean() < one["mode_share_transit"].mean() - 0.01


def test_added_road_capacity_is_partly_filled_again(make_city):
    """Induced demand: 50% more road capacity draws commuters into cars, so congestion falls
    by less than it would if demand stayed as it was."""
    base = make_city("mature", seed=4)
    wide = make_city("mature", seed=4, city__road_capacity=1.5 * base.params.city.road_capacity)
    for model in (base, wide):
        model.run(1)
    d = base.districts
    city = base.params.city
    d.assign_traffic(base.car_trips, city.congestion_alpha, city.congestion_beta, 0.5)
    trips = base.car_trips
    fixed_demand = float((trips * d.travel_time).sum() / (trips * d.free_time).sum())
    car_share = {m: m.metrics_frame()["mode_share_car"].iloc[-6:].mean() for m in (base, wide)}
    assert car_share[wide] > car_share[base]
    assert wide.metrics_frame()["congestion_index"].iloc[-1] > fixed_demand


def test_richer_commuters_weigh_money_less(make_city):
    """Value of time rises with income: the same commuters, richer, drive more (the car costs
    the most money) and walk less."""
    model = make_city("mature", seed=5)
    c = model.citizens
    workers = np.flatnonzero(c.employed())
    work = cz.work_district(model, workers)
    shares = {}
    for factor in (0.3, 3.0):
        income = c.income.copy()
        c.income[workers] *= factor
        modes = cz.pick_modes(model, workers, work, transit_open=True)
        c.income[:] = income
        shares[factor] = np.bincount(modes, minlength=len(MODES)) / len(modes)
    assert shares[3.0][CAR] > shares[0.3][CAR] + 0.03
    assert shares[3.0][MODES.index("walk")] < shares[0.3][MODES.index("walk")]


def test_turned_back_riders_do_not_choose_transit(make_city):
    """Riders turned back choose among the other modes only."""
    model = make_city("mature", seed=6)
    workers = np.flatnonzero(model.citizens.employed())
    work = cz.work_district(model, workers)
    modes = cz.pick_modes(model, workers, work, transit_open=False)
    assert not (modes == TRANSIT).any()


def _rail_to_nowhere(folder: Path) -> tuple[Path, Path]:
    """A mature city plus one empty district at its edge, joined by the city's only rail link;
    and a package that invests in urban rail and nothing else."""
    G = generate_city_graph(resolve_parameters("mature").city, 3000)
    far = max(G.nodes, key=lambda n: np.hypot(G.nodes[n]["x"], G.nodes[n]["y"]))
    ghost = G.number_of_nodes()
    G.add_node(ghost, **{**G.nodes[far], "name": "ghost", "x": G.nodes[far]["x"] + 8.0,
                         "housing_capacity": 1.0, "housing_max": 1.0,
                         "service_capacity": 0.0, "ict": 0.0})  # fmt: skip
    G.add_edge(far, ghost, **{**G.edges[next(iter(G.edges(far)))], "rail_seats": 200.0})
    graph = folder / "rail_to_nowhere.graphml"
    nx.write_graphml(G, graph)
    package = folder / "rail_only.toml"
    package.write_text(
        'title = "Rail only"\nsource = "test"\ndescription = "Urban rail and nothing else."\n'
        "unified_platform = false\n\n[new_infrastructure]\nurban_rail = 0.1\n"
    )
    return graph, package


def test_rail_where_nobody_travels_stays_empty_and_costs(tmp_path):
    """A rail line to an empty district carries (almost) no one, while its cost is booked:
    public infrastructure spending every month and more debt than without it. The same
    investment on the lines where people travel is used."""
    graph, package = _rail_to_nowhere(tmp_path)
    common = dict(seed=7, citizens__count=3000, city__rail_lines=0, city__graph_file=str(graph))
    empty = CityModel("mature", policy=str(package), **common)
    without = CityModel("mature", **common)
    used = CityModel("mature", seed=7, policy=str(package), citizens__count=3000)
    for model in (empty, without, used):
        model.run(2)
    frame = empty.metrics_frame().iloc[1:]
    assert frame["rail_load_factor"].max() < 0.02
    assert frame["new_infrastructure_utilization"].iloc[-1] < 0.02
    assert (frame["initiative_public_cost"] > 0).all()
    assert empty.government.debt > without.government.debt
    assert empty.policy_runtime.infrastructure.invested_total > 0
    assert used.metrics_frame()["new_infrastructure_utilization"].iloc[-1] > 0.3


def test_rail_investment_needs_a_rail_line():
    """Investing in urban rail in a city without rail is refused before the run."""
    with pytest.raises(InputError, match="no rail line"):
        CityModel("mature", policy="mature-multicentre", citizens__count=500, city__rail_lines=0)


def test_negative_rail_seats_in_a_graph_file_are_refused(tmp_path):
    """A graph file with negative seats on a link: one clear error naming the link."""
    G = generate_city_graph(resolve_parameters("mature").city, 3000)
    u, v = next(iter(G.edges))
    G.edges[u, v]["rail_seats"] = -5.0
    path = tmp_path / "bad.graphml"
    nx.write_graphml(G, path)
    with pytest.raises(InputError, match="rail_seats"):
        CityModel("mature", seed=1, citizens__count=500, city__graph_file=str(path))


def test_governance_reads_the_all_mode_index(make_city):
    """Slower transit (roads unchanged) raises the all-mode travel time index and lowers the
    governance index, while the road congestion index does not move."""
    model = make_city("mature", seed=8)
    before = {name: getattr(metrics, name)(model) for name in
              ("congestion_index", "travel_time_index", "governance_index")}  # fmt: skip
    model.transit.minutes[TRANSIT] *= 1.5
    assert metrics.congestion_index(model) == before["congestion_index"]
    assert metrics.travel_time_index(model) > before["travel_time_index"] + 0.05
    assert metrics.governance_index(model) < before["governance_index"]

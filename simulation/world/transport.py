"""Commuting modes and the transit network (white paper Table 1, urban traffic; NI
1 and 4.3, urban rail).

Every mode has a physical speed bound and a capacity. Cars run on the road links at their
free-flow time, slowed by congestion (simulation.world.districts, BPR). Buses run on every link at
most at ``transport.bus_speed`` and are slowed by road congestion except on the share of
their route with bus priority; rail runs on the links of its lines at
``transport.rail_speed``. Bus and rail links offer seats per peak hour; riders beyond
``transport.standing_factor`` times the seats are turned back (agents.citizens.board_transit)
and crowding, riders over seats, raises the time riders perceive (crowding_multiplier).
Micro-mobility, cycling and walking cover the route distance at their own speeds. This
module turns that network into (mode, home, work) tables of door-to-door minutes, free-flow
minutes, perceived minutes and money per trip, which mode choice and the metrics read.
"""

from __future__ import annotations

import numpy as np

from smartcity.simulation.world.districts import Districts
from smartcity.simulation.world.parameters import TransportParams
from smartcity.simulation.world.vocabulary import CAR, CYCLE, MICRO, MODES, TRANSIT, WALK


def crowding_multiplier(load: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Perceived minutes per in-vehicle minute at a link's load factor (peak-hour riders over
    seats): 1 + alpha x load^beta.

    A BPR-like crowding function as used in transit assignment (e.g. the volume-over-capacity
    crowding curves of EMME and of Spiess and Florian's optimal-strategy assignment). With
    the defaults alpha = 0.15 and beta = 3 a ride feels 1.15 times as long when every seat
    is taken, 1.5 times at half the seats' number standing and 2.2 times at twice the seats
    (a full vehicle at the default standing factor), the range of the multipliers for seated
    and standing passengers that Wardman and Whelan (2011) found across twenty years of
    British rail crowding valuations; a half-full vehicle, 1.02 times.
    """
    return 1.0 + alpha * np.asarray(load) ** beta


class TransportNetwork:
    """Bus and rail seats on the links, the loads on them, and the mode cost tables.

    Args:
        districts: the city's districts; the links' ``bus_seats`` and ``rail_seats``
            attributes (simulation.world.graph.lay_transit) give the seats per peak hour.

    Attributes:
        bus_seats, rail_seats: (E,) seats per peak hour on each link; base_rail_seats
            is the rail supply before any urban-rail investment.
        flow: (E,) transit commuters routed over each link. load: (E,) load factor,
            peak-hour riders over seats. crowding: (E,) crowding multiplier.
        minutes: (modes, D, D) door-to-door minutes as travelled this step.
        free_minutes: (modes, D, D) the same with empty roads.
        perceived: (modes, D, D) minutes as commuters weigh them: walking to stops and
            waiting count access_weight times, in-vehicle transit minutes are crowded.
        expected: (modes, D, D) the perceived minutes commuters expect, what mode choice
            reads: experience smoothed over transport.expectation_months (remember).
        money: (modes, D, D) out-of-pocket cost per trip, k.
        commute_minutes: (D, D) door-to-door minutes of each pair averaged over the modes
            its commuters use (car minutes where no one commutes yet): what residence and
            job choice weigh, so faster transit moves homes and jobs too.
    """

    def __init__(self, districts: Districts):
        graph = districts.graph
        links = [tuple(e) for e in districts.edges.tolist()]
        self.bus_seats = np.array([float(graph.edges[e]["bus_seats"]) for e in links])
        self.base_rail_seats = np.array([float(graph.edges[e]["rail_seats"]) for e in links])
        self.rail_seats = self.base_rail_seats.copy()
        self.rail_seats.flags.writeable = False  # replaced, never changed: see _fixed_tables
        self._fixed: tuple[tuple, dict[str, object]] | None = None
        self.flow = np.zeros(len(links))
        self.load = np.zeros(len(links))
        self.crowding = np.ones(len(links))
        shape = (len(MODES), districts.n, districts.n)
        self.minutes = np.zeros(shape)
        self.free_minutes = np.zeros(shape)
        self.perceived = np.zeros(shape)
        self.expected = np.zeros(shape)
        self.money = np.zeros(shape)
        self.commute_minutes = districts.free_time.copy()
        self.commute_minutes.flags.writeable = False
        self._decay: tuple[np.ndarray, float, np.ndarray] | None = None

    def average_commutes(self, trips: np.ndarray) -> None:
        """commute_minutes = commuter-weighted mean of each pair's door-to-door minutes over
        modes (``trips``: (modes, D, D) commuters), car minutes for pairs without commuters."""
        total = trips.sum(axis=0)
        weighted = (trips * self.minutes).sum(axis=0)
        self.commute_minutes = np.where(
            total > 0, weighted / np.maximum(total, 1e-9), self.minutes[CAR]
        )
        # Read-only, so that a table made from it stays valid until it is replaced.
        self.commute_minutes.flags.writeable = False

    def commute_decay(self, decay: float) -> np.ndarray:
        """(D, D) read-only exp(-decay x commute_minutes): how much a job in one district
        counts for a resident of another. Made once per commute_minutes (replaced, never
        changed in place, by average_commutes) and decay."""
        cached = self._decay
        if cached is None or cached[0] is not self.commute_minutes or cached[1] != decay:
            table = np.exp(-decay * self.commute_minutes)
            table.flags.writeable = False
            cached = self._decay = (self.commute_minutes, decay, table)
        return cached[2]

    def remember(self, weight: float) -> None:
        """expected += weight x (perceived - expected): commuters learn travel times from
        experience with exponential smoothing, the day-to-day learning rule of dynamic
        traffic assignment (Horowitz 1984; Cascetta and Cantarella 1991), so one month's
        jam or empty road moves expectations only by ``weight`` (1 = no memory)."""
        self.expected += weight * (self.perceived - self.expected)

    def seats(self) -> np.ndarray:
        """(E,) transit seats per peak hour on each link, bus plus rail."""
        return self.bus_seats + self.rail_seats

    def has_rail(self) -> bool:
        """Whether any link carries rail."""
        return bool((self.base_rail_seats > 0).any())

    def expand_rail(self, factor: float) -> None:
        """Rail seats = base seats x (1 + factor): longer and more frequent trains on the
        existing lines (urban-rail investment, policies.new_infrastructure)."""
        self.rail_seats = self.base_rail_seats * (1.0 + factor)
        self.rail_seats.flags.writeable = False

    def load_transit(self, districts: Districts, trips: np.ndarray, p: TransportParams) -> None:
        """Route transit commuters (D, D) over the links; load = peak_hour_share x riders /
        seats; crowding by crowding_multiplier."""
        self.flow = districts.route_load(trips)
        self.load = p.peak_hour_share * self.flow / np.maximum(self.seats(), 1e-9)
        self.crowding = crowding_multiplier(self.load, p.crowding_alpha, p.crowding_beta)

    def _fixed_tables(self, d: Districts, p: TransportParams) -> dict[str, object]:
        """The parts of update_costs that only the network and the speeds set (link
        free-flow bus and rail minutes, local minutes, free-flow transit route minutes,
        micro/cycle/walk minutes, car cost by distance): made again only when one of the
        arrays they are made of is replaced (those are read-only) or a parameter changes."""
        arrays = (d.edge_length, d.local_km, d.distance, d.routes, self.rail_seats)
        values = (
            p.bus_speed,
            p.rail_speed,
            p.micro_speed,
            p.cycle_speed,
            p.walk_speed,
            p.micro_access_minutes,
            p.cycle_access_minutes,
            p.car_cost_per_km,
        )
        cached = self._fixed
        if (
            cached is not None
            and all(a is b for a, b in zip(cached[0][0], arrays, strict=True))
            and cached[0][1] == values
        ):
            return cached[1]
        length = d.edge_length
        bus_free = 60.0 * length / p.bus_speed
        rail = np.where(self.rail_seats > 0, 60.0 * length / p.rail_speed, np.inf)
        local = 60.0 * d.local_km / p.bus_speed
        speeds = {MICRO: p.micro_speed, CYCLE: p.cycle_speed, WALK: p.walk_speed}
        starts = {MICRO: p.micro_access_minutes, CYCLE: p.cycle_access_minutes, WALK: 0.0}
        tables: dict[str, object] = {
            "bus_free": bus_free,
            "rail": rail,
            "local": local,
            "free_route": d.route_sum(np.minimum(bus_free, rail)),
            "active": {m: starts[m] + 60.0 * d.distance / v for m, v in speeds.items()},
            "car_km": p.car_cost_per_km * d.distance,
        }
        for table in (bus_free, rail, local, tables["free_route"], tables["car_km"]):
            table.flags.writeable = False
        self._fixed = ((arrays, values), tables)
        return tables

    def admission(self, districts: Districts, trips: np.ndarray, p: TransportParams) -> np.ndarray:
        """(D*D,) share of each pair's transit riders that the links of its route carry: the
        smallest over those links of min(1, standing_factor x seats / (peak_hour_share x
        riders))."""
        flow = p.peak_hour_share * districts.route_load(trips)
        room = np.minimum(1.0, p.standing_factor * self.seats() / np.maximum(flow, 1e-9))
        return districts.route_smallest(room)

    def rail_load_factor(self, p: TransportParams) -> float:
        """Seat-weighted load factor of the rail links: peak-hour riders carried by rail over
        rail seats (0 when the city has no rail)."""
        rail = self.rail_seats > 0
        seats = self.rail_seats[rail].sum()
        if seats <= 0:
            return 0.0
        riders = p.peak_hour_share * self.flow[rail] * self.rail_seats[rail] / self.seats()[rail]
        return float(riders.sum() / seats)

    def update_costs(
        self,
        districts: Districts,
        p: TransportParams,
        bus_priority: float,
        job_density: np.ndarray,
        wage_per_minute: float,
    ) -> None:
        """Recompute the (mode, home, work) tables from this step's road times and loads.

        car: congested road time (free: free-flow road time); money = car_cost_per_km x
        distance + parking_cost x the work district's job density over the densest one's;
        parking and fares are priced in minutes of the mean wage (``wage_per_minute``, k).
        transit: (access + wait) / (0.5 + 0.5 mean transport quality of the two districts) +
        in-vehicle time; a rail link takes length / rail_speed, a bus link length / bus_speed
        x (1 + (1 - bus priority) x (road congestion ratio - 1)), and the local distance goes
        by bus; perceived = access_weight x (access + wait) + crowded in-vehicle minutes;
        money = transit_fare. micro, cycle, walk: access + distance / speed; fares
        micro_fare, 0, 0. No mode beats its speed bound: congestion and crowding only add.
        """
        d = districts
        fixed = self._fixed_tables(d, p)
        bus_free, rail, local = fixed["bus_free"], fixed["rail"], fixed["local"]
        road_ratio = d.edge_time / d.edge_free_time
        priority = min(max(float(bus_priority), 0.0), 1.0)  # np.clip's value, on a float
        link_now = np.minimum(bus_free * (1.0 + (1.0 - priority) * (road_ratio - 1.0)), rail)
        quality = (d.transport[:, None] + d.transport[None, :]) / 2
        access = (p.transit_access_minutes + p.transit_wait_minutes) / (0.5 + 0.5 * quality)
        in_vehicle = d.route_sum(link_now) + local

        self.minutes[CAR] = d.travel_time
        self.free_minutes[CAR] = d.free_time
        self.minutes[TRANSIT] = access + in_vehicle
        self.free_minutes[TRANSIT] = access + fixed["free_route"] + local
        for mode, minutes in fixed["active"].items():
            self.minutes[mode] = minutes
            self.free_minutes[mode] = minutes
        self.perceived[:] = self.minutes
        self.perceived[TRANSIT] = (
            p.access_weight * access + d.route_sum(link_now * self.crowding) + local
        )
        densest = max(float(job_density.max()), 1e-9)
        parking = p.parking_cost * wage_per_minute * job_density / densest
        self.money[CAR] = fixed["car_km"] + parking[None, :]
        self.money[TRANSIT] = p.transit_fare * wage_per_minute
        self.money[MICRO] = p.micro_fare * wage_per_minute

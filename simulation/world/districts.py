"""District stocks as arrays, plus the routing structures derived from the graph.

The graph (simulation.world.graph) gives structure; this module holds the state that changes
during a run (housing, infrastructure, services, pollution) as one numpy array per stock,
indexed by district number, and the shortest-path routing used by traffic assignment.
Routes are computed once per network change, not every step.
"""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
from scipy import sparse

from smartcity.simulation.world.graph import NODE_ATTRIBUTES
from smartcity.simulation.world.vocabulary import DISTRICT_KINDS

INTRA_DISTRICT_MINUTES = 6.0  # a trip inside a district: walk/drive to a local destination
# The slowest a road gets: stop-and-go traffic at walking pace (about 5 km/h) against free
# flow at 15-30 km/h (simulation.world.graph.FREE_FLOW_SPEED_KMH x (0.5 + 0.5 quality)).
# Past a volume/capacity ratio of about 2.5 the BPR curve extrapolates beyond anything
# observed; queues then hold a link's time at this bound and the excess shows as the
# commuters who leave their cars (mode choice reads the jammed time).
JAM_SLOWDOWN = 6.0


class Districts:
    """Stocks of every district, and routes between them.

    Attributes:
        graph: the district graph (node ids 0..D-1).
        kind: district kind code, index into DISTRICT_KINDS.
        x, y, area_km2, housing_capacity, housing_max, transport, ict, computing, iot,
        service_capacity, environment: node stocks (see simulation.world.graph.NODE_ATTRIBUTES).
        pollution: 0-1 pollution level, updated each step.
        research: 0-1 research stock (universities, labs, R&D staff against a leading
            research city): the graph's ``research`` attribute (simulation.world.graph.
            lay_research), 0 where a graph gives none.
        free_time: (D, D) free-flow travel time between districts, minutes.
        travel_time: (D, D) congested travel time by car, minutes.
        routes: sparse (E, D*D) incidence of links on the shortest route of each pair.
        on_route: dense (D*D, E) boolean form of the same incidence.
        edge_length: link length, km (straight line between the districts, >= 0.2 km).
        local_km: (D, D) distance covered inside the home and work districts, km: a quarter
            of the square root of each one's area.
        distance: (D, D) route length plus local_km, km.
    """

    def __init__(self, graph: nx.Graph):
        self.graph = graph
        nodes = sorted(graph.nodes)
        self.n = len(nodes)
        self.names = [str(graph.nodes[n].get("name", n)) for n in nodes]
        self.kind = np.array([DISTRICT_KINDS.index(graph.nodes[n]["kind"]) for n in nodes])
        for attr in NODE_ATTRIBUTES:
            if attr != "kind":
                setattr(self, attr, np.array([float(graph.nodes[n][attr]) for n in nodes]))
        self.pollution = np.zeros(self.n)
        self.research = np.array([float(graph.nodes[n].get("research", 0.0)) for n in nodes])
        self.edges = np.array(list(graph.edges), dtype=np.int64).reshape(-1, 2)
        self.edge_free_time = np.array(
            [graph.edges[e]["travel_time"] for e in map(tuple, self.edges)]
        )
        self.edge_capacity = np.array([graph.edges[e]["capacity"] for e in map(tuple, self.edges)])
        self.edge_flow = np.zeros(len(self.edges))
        self.edge_time = self.edge_free_time.copy()
        ends = self.edges.T
        self.edge_length = np.maximum(
            np.hypot(self.x[ends[0]] - self.x[ends[1]], self.y[ends[0]] - self.y[ends[1]]), 0.2
        )
        half_width = 0.25 * np.sqrt(self.area_km2)
        self.local_km = half_width[:, None] + half_width[None, :]
        self.adjacency = nx.to_numpy_array(graph, nodelist=nodes, weight=None)
        degree = self.adjacency.sum(axis=1, keepdims=True)
        self.neighbour_weights = self.adjacency / np.maximum(degree, 1)
        self.compute_routes()

    def open_land(self) -> np.ndarray:
        """Share of each district's buildable housing land not yet built on, 0-1:
        1 - housing capacity / housing the land can take (what construction and firms'
        sites still have to use)."""
        return 1.0 - self.housing_capacity / self.housing_max

    def is_kind(self, kind: str) -> np.ndarray:
        """Boolean mask of the districts of one kind."""
        return self.kind == DISTRICT_KINDS.index(kind)

    def compute_routes(self) -> None:
        """Shortest free-flow routes between all district pairs, as a link incidence matrix."""
        n = self.n
        edge_index = {}
        for k, (u, v) in enumerate(self.edges):
            edge_index[(u, v)] = edge_index[(v, u)] = k
        rows, cols = [], []
        paths = dict(nx.all_pairs_dijkstra_path(self.graph, weight="travel_time"))
        for o in range(n):
            for d, path in paths[o].items():
                for a, b in pairwise(path):
                    rows.append(edge_index[(a, b)])
                    cols.append(o * n + d)
        self.routes = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(self.edges), n * n)
        )
        self.routes_t = self.routes.T.tocsr()
        self.on_route = self.routes_t.toarray() > 0
        self.distance = self.route_sum(self.edge_length) + self.local_km
        self.free_time = self._route_time(self.edge_free_time)
        self.travel_time = self.free_time.copy()

    def route_sum(self, edge_values: np.ndarray) -> np.ndarray:
        """(D, D) sum of a per-link quantity over the links of each pair's route."""
        return (self.routes_t @ edge_values).reshape(self.n, self.n)

    def _route_time(self, edge_time: np.ndarray) -> np.ndarray:
        return self.route_sum(edge_time) + INTRA_DISTRICT_MINUTES

    def assign_traffic(
        self, car_trips: np.ndarray, alpha: float, beta: float, capacity_gain: float = 0.0
    ) -> None:
        """Load car commuting trips on their routes; congestion slows the loaded links.

        Link time follows the BPR function t = t0 (1 + alpha (flow/capacity)^beta), at most
        JAM_SLOWDOWN t0 (a jam moves at walking pace); the congested origin-destination
        times are the sums over each route's links.

        Args:
            car_trips: (D, D) car commuters by home (row) and work (column) district.
            alpha: BPR coefficient. beta: BPR exponent.
            capacity_gain: relative rise of every link's capacity (traffic management).
        """
        self.edge_flow = self.routes @ car_trips.ravel()
        ratio = self.edge_flow / (self.edge_capacity * (1.0 + capacity_gain))
        slowdown = np.minimum(1.0 + alpha * ratio**beta, JAM_SLOWDOWN)
        self.edge_time = self.edge_free_time * slowdown
        self.travel_time = self._route_time(self.edge_time)

    def link_load(self) -> np.ndarray:
        """Mean volume/capacity ratio of the links touching each district."""
        load = np.zeros(self.n)
        count = np.zeros(self.n)
        ratio = self.edge_flow / self.edge_capacity
        for end in (0, 1):
            np.add.at(load, self.edges[:, end], ratio)
            np.add.at(count, self.edges[:, end], 1)
        return load / np.maximum(count, 1)

    def sync_graph(self) -> nx.Graph:
        """Write the current stocks back onto the graph's nodes and links (for drawing)."""
        for i in range(self.n):
            node = self.graph.nodes[i]
            for attr in NODE_ATTRIBUTES:
                if attr != "kind":
                    node[attr] = float(getattr(self, attr)[i])
            node["pollution"] = float(self.pollution[i])
        for k, (u, v) in enumerate(self.edges):
            self.graph.edges[u, v]["flow"] = float(self.edge_flow[k])
            self.graph.edges[u, v]["congestion"] = float(self.edge_time[k] / self.edge_free_time[k])
        return self.graph

"""District stocks as arrays, plus the routing structures derived from the graph.

The graph (simulation.world.graph) gives structure; this module holds the state that changes
during a run (housing, infrastructure, services, pollution) as one numpy array per stock,
indexed by district number, and the shortest-path routing used by traffic assignment.
Routes are computed once per network change, not every step: as a link-by-pair incidence
matrix for cities of up to INCIDENCE_MAX_DISTRICTS districts, as shortest-path trees for
larger ones (memory D^2 instead of D^2 x links, so a 2,000-district city runs).
"""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from smartcity.simulation.world.graph import NODE_ATTRIBUTES
from smartcity.simulation.world.vocabulary import DISTRICT_KINDS

INTRA_DISTRICT_MINUTES = 6.0  # a trip inside a district: walk/drive to a local destination
# The slowest a road gets: stop-and-go traffic at walking pace (about 5 km/h) against free
# flow at 15-30 km/h (simulation.world.graph.FREE_FLOW_SPEED_KMH x (0.5 + 0.5 quality)).
# Past a volume/capacity ratio of about 2.5 the BPR curve extrapolates beyond anything
# observed; queues then hold a link's time at this bound and the excess shows as the
# commuters who leave their cars (mode choice reads the jammed time).
JAM_SLOWDOWN = 6.0


# Cities of up to this many districts route on a dense link-by-pair incidence, the way the
# published results of the shipped presets (13 to 19 districts) were computed, bit for bit;
# larger cities route on shortest-path trees, whose memory grows with D^2 instead of
# D^2 x links (2,000 districts: 0.1 GB instead of about 100 GB).
INCIDENCE_MAX_DISTRICTS = 100


class PathTrees:
    """The free-flow shortest-path tree of every origin, as flat arrays over the D x D pairs.

    Pair ``p = origin * D + destination``; a pair other than (o, o) has a parent, the pair of
    the district before its destination on its route, and the link from there. A route's
    sum, minimum or load is then one pass over the pairs by hop depth (D^2 work), never a
    table of every link of every route.

    Args:
        n: number of districts.
        edges: (E, 2) district pairs of the links.
        edge_time: (E,) free-flow minutes of each link (> 0), the route weight.
    """

    def __init__(self, n: int, edges: np.ndarray, edge_time: np.ndarray):
        u, v = edges.T
        graph = sparse.csr_matrix(
            (np.r_[edge_time, edge_time], (np.r_[u, v], np.r_[v, u])), shape=(n, n)
        )
        dist, pred = csgraph.dijkstra(graph, return_predecessors=True)
        link_of = np.full((n, n), -1, dtype=np.int64)
        link_of[u, v] = link_of[v, u] = np.arange(len(edges))
        # Hop depth of each pair, destinations taken by distance from the origin: with
        # positive link times a destination's predecessor is always nearer, so done first.
        depth = np.zeros((n, n), dtype=np.int64)
        origins = np.arange(n)
        for nearest in np.argsort(dist, axis=1, kind="stable").T[1:]:
            depth[origins, nearest] = depth[origins, pred[origins, nearest]] + 1
        depth = depth.ravel()
        pred = pred.ravel().astype(np.int64)
        parent = np.where(pred >= 0, np.repeat(origins, n) * n + pred, np.arange(n * n))
        by_depth = np.argsort(depth, kind="stable")
        bounds = np.searchsorted(depth[by_depth], np.arange(1, depth.max() + 2))
        self.n = n
        self.n_links = len(edges)
        self.levels = [
            (pairs, parent[pairs], link_of[pred[pairs], pairs % n])
            for pairs in np.split(by_depth, bounds)[1:]
            if len(pairs)
        ]
        # For load: each level's distinct parents, and which of them each pair feeds.
        self.feeds = [np.unique(parents, return_inverse=True) for _, parents, _ in self.levels]
        self.child_pairs = by_depth[bounds[0] :]
        self.child_links = link_of[pred[self.child_pairs], self.child_pairs % n]

    def sum(self, edge_values: np.ndarray) -> np.ndarray:
        """(D*D,) sum of a per-link quantity over each pair's route (0 within a district)."""
        total = np.zeros(self.n * self.n)
        for pairs, parents, links in self.levels:
            total[pairs] = total[parents] + edge_values[links]
        return total

    def smallest(self, edge_values: np.ndarray) -> np.ndarray:
        """(D*D,) smallest of a per-link quantity over each pair's route, and of 1."""
        low = np.ones(self.n * self.n)
        for pairs, parents, links in self.levels:
            low[pairs] = np.minimum(low[parents], edge_values[links])
        return low

    def load(self, pair_values: np.ndarray) -> np.ndarray:
        """(E,) sum over the pairs routed over each link of a per-pair quantity (D*D,)."""
        # What a pair carries is its own quantity plus what its subtree carries: deepest
        # level first, each level adds into its parents; a link carries what its child does.
        carried = np.asarray(pair_values, dtype=float).ravel().copy()
        for (pairs, _, _), (parents, feeds) in zip(
            reversed(self.levels), reversed(self.feeds), strict=True
        ):
            carried[parents] += np.bincount(feeds, weights=carried[pairs], minlength=len(parents))
        weights = carried[self.child_pairs]
        return np.bincount(self.child_links, weights=weights, minlength=self.n_links)


class LinkIncidence:
    """The links of each pair's free-flow shortest route (networkx's Dijkstra paths) as a
    sparse link-by-pair matrix, and its dense boolean form; the same three operations as
    PathTrees.

    Args:
        graph: the district graph (node ids 0..D-1).
        edges: (E, 2) district pairs of the links, in the order of ``graph.edges``.
    """

    def __init__(self, graph: nx.Graph, edges: np.ndarray):
        n = graph.number_of_nodes()
        edge_index = {}
        for k, (u, v) in enumerate(edges):
            edge_index[(u, v)] = edge_index[(v, u)] = k
        rows, cols = [], []
        paths = dict(nx.all_pairs_dijkstra_path(graph, weight="travel_time"))
        for o in range(n):
            for d, path in paths[o].items():
                for a, b in pairwise(path):
                    rows.append(edge_index[(a, b)])
                    cols.append(o * n + d)
        self.matrix = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(edges), n * n)
        )
        self.by_pair = self.matrix.T.tocsr()
        self.on_route = self.by_pair.toarray() > 0

    def sum(self, edge_values: np.ndarray) -> np.ndarray:
        """(D*D,) sum of a per-link quantity over each pair's route (0 within a district)."""
        return self.by_pair @ edge_values

    def smallest(self, edge_values: np.ndarray) -> np.ndarray:
        """(D*D,) smallest of a per-link quantity over each pair's route, and of 1."""
        return np.where(self.on_route, edge_values[None, :], 1.0).min(axis=1, initial=1.0)

    def load(self, pair_values: np.ndarray) -> np.ndarray:
        """(E,) sum over the pairs routed over each link of a per-pair quantity (D*D,)."""
        return self.matrix @ np.ravel(pair_values)


class Districts:
    """Stocks of every district, and routes between them.

    The node stocks x, y, area_km2, housing_capacity, housing_max, transport, ict,
    computing, iot, service_capacity and environment are arrays of the same names, one
    value per district (see simulation.world.graph.NODE_ATTRIBUTES).

    Attributes:
        graph: the district graph (node ids 0..D-1).
        kind: district kind code, index into DISTRICT_KINDS.
        pollution: 0-1 pollution level, updated each step.
        research: 0-1 research stock (universities, labs, R&D staff against a leading
            research city): the graph's ``research`` attribute (simulation.world.graph.
            lay_research), 0 where a graph gives none.
        free_time: (D, D) free-flow travel time between districts, minutes.
        travel_time: (D, D) congested travel time by car, minutes.
        routes: the free-flow shortest route of each pair (LinkIncidence, or PathTrees for
            cities of more than INCIDENCE_MAX_DISTRICTS districts); route_sum, route_load
            and route_smallest read it.
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
        # Read-only, like distance and free_time: tables made from them are cached.
        self.edge_length.flags.writeable = False
        self.local_km.flags.writeable = False
        self.adjacency = nx.to_numpy_array(graph, nodelist=nodes, weight=None)
        degree = self.adjacency.sum(axis=1, keepdims=True)
        self.neighbour_weights = self.adjacency / np.maximum(degree, 1)
        self._ends: tuple[np.ndarray, np.ndarray] | None = None
        self.compute_routes()

    def open_land(self) -> np.ndarray:
        """Share of each district's buildable housing land not yet built on, 0-1:
        1 - housing capacity / housing the land can take (what construction and firms'
        sites still have to use)."""
        return 1.0 - self.housing_capacity / self.housing_max

    def reach_kernel(self, minutes: float, reach: float = 0.0) -> np.ndarray:
        """(D, D) read-only (1 - reach) x exp(-free_time / minutes) + reach: how much of
        what is in one district counts in another, decaying with free-flow travel time
        (``reach``: the share that ignores distance). free_time is read-only and only
        compute_routes replaces it, so the decay is made once per (free_time, minutes) and
        the mixed table again only when reach (a lever) changes, not every step."""
        cache = self._kernels
        if cache.get("free_time") is not self.free_time:
            cache.clear()
            cache["free_time"] = self.free_time
        decay = cache.get(minutes)
        if decay is None:
            decay = cache[minutes] = np.exp(-self.free_time / minutes)
            decay.flags.writeable = False
        if reach == 0.0:  # (1 - 0) x decay + 0 is decay itself
            return decay
        mixed = cache.get(("mixed", minutes))
        if mixed is None or mixed[0] != reach:
            kernel = (1 - reach) * decay + reach
            kernel.flags.writeable = False
            mixed = cache[("mixed", minutes)] = (reach, kernel)
        return mixed[1]

    def is_kind(self, kind: str) -> np.ndarray:
        """Boolean mask of the districts of one kind."""
        return self.kind == DISTRICT_KINDS.index(kind)

    def compute_routes(self) -> None:
        """Shortest free-flow routes between all district pairs, and the free-flow tables."""
        if self.n <= INCIDENCE_MAX_DISTRICTS:
            self.routes: LinkIncidence | PathTrees = LinkIncidence(self.graph, self.edges)
        else:
            self.routes = PathTrees(self.n, self.edges, self.edge_free_time)
        self.distance = self.route_sum(self.edge_length) + self.local_km
        self.distance.flags.writeable = False
        self.free_time = self._route_time(self.edge_free_time)
        # Read-only: tables made from it are cached until it is replaced (reach_kernel).
        self.free_time.flags.writeable = False
        self._kernels: dict[object, object] = {}
        self.travel_time = self.free_time.copy()

    def route_sum(self, edge_values: np.ndarray) -> np.ndarray:
        """(D, D) sum of a per-link quantity over the links of each pair's route."""
        return self.routes.sum(edge_values).reshape(self.n, self.n)

    def route_load(self, pair_values: np.ndarray) -> np.ndarray:
        """(E,) sum of a (D, D) per-pair quantity (trips) over the pairs each link carries."""
        return self.routes.load(pair_values)

    def route_smallest(self, edge_values: np.ndarray) -> np.ndarray:
        """(D*D,) smallest of a per-link quantity (at most 1) over each pair's route; 1 for a
        pair without links (within a district)."""
        return self.routes.smallest(edge_values)

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
        self.edge_flow = self.route_load(car_trips)
        ratio = self.edge_flow / (self.edge_capacity * (1.0 + capacity_gain))
        slowdown = np.minimum(1.0 + alpha * ratio**beta, JAM_SLOWDOWN)
        self.edge_time = self.edge_free_time * slowdown
        self.travel_time = self._route_time(self.edge_time)

    def link_load(self) -> np.ndarray:
        """Mean volume/capacity ratio of the links touching each district."""
        if self._ends is None:
            # Both ends of every link, first ends then second: a bincount over them adds in
            # the order of the two np.add.at passes, the same sums; links never change.
            ends = np.concatenate([self.edges[:, 0], self.edges[:, 1]])
            count = np.bincount(ends, minlength=self.n).astype(float)
            self._ends = (ends, np.maximum(count, 1))
        ends, count = self._ends
        ratio = self.edge_flow / self.edge_capacity
        load = np.bincount(ends, np.concatenate([ratio, ratio]), minlength=self.n)
        return load / count

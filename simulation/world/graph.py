"""The district graph: generated from a preset, or loaded from GraphML / node-edge CSV.

A node is a district with coordinates and infrastructure stocks; an edge is a transport link
with a free-flow travel time, a road capacity and bus and rail seats. Districts are typed
(core, old district, new town, industrial zone, suburb), following the mature/emerging
city descriptions of white paper 5.1.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.geo import GEO_SUFFIXES, read_district_shapes
from smartcity.simulation.world.parameters import CityParams
from smartcity.simulation.world.schema import one_line, read_input, read_text
from smartcity.simulation.world.vocabulary import DISTRICT_KINDS

NODE_ATTRIBUTES = {
    "kind": "district kind, one of " + ", ".join(DISTRICT_KINDS),
    "x": "east coordinate, km",
    "y": "north coordinate, km",
    "area_km2": "land area, km2 (> 0)",
    "housing_capacity": "dwellings, in residents (> 0)",
    "housing_max": "housing the land can take when fully built, residents (>= housing_capacity)",
    "transport": "transport quality, 0-1",
    "ict": "5G/fibre coverage, 0-1",
    "computing": "data-centre/computing capacity, 0-1",
    "iot": "IoT sensing coverage, 0-1",
    "service_capacity": "public-service seats (schools, clinics), >= 0",
    "environment": "environmental quality, 0-1",
}
EDGE_ATTRIBUTES = {
    "travel_time": "free-flow travel time, minutes (> 0)",
    "capacity": "car commuters the link carries before congestion, (> 0)",
}
TRANSIT_ATTRIBUTES = {
    "bus_seats": "bus seats per peak hour (>= 0; default from city.bus_capacity)",
    "rail_seats": "rail seats per peak hour (>= 0; default 0, plus city.rail_lines lines)",
}
UNIT_INTERVAL = ("transport", "ict", "computing", "iot", "environment")


# Relative profile of each kind: ring (share of the city radius), land area (km2), housing
# density weight, multipliers of the city-wide infrastructure levels and of research
# capacity (universities and labs sit in the centre, science parks in new towns), and land
# headroom (how far housing can grow by construction). The core's headroom is the city's
# own condition (city.core_building_room), the new towns' its open land (city.new_town_land,
# 5.1.1 Path 2: NEW_TOWN_ROOM).
KIND_PROFILES: dict[str, dict[str, float]] = {
    "core": dict(ring=0.0, area=8, density=3.0, transport=1.0, ict=1.0, iot=1.0,
                 service=1.2, environment=0.7, research=1.0),
    "old": dict(ring=0.4, area=14, density=1.6, transport=0.9, ict=0.9, iot=0.7,
                service=1.0, environment=0.85, research=0.6, headroom=1.2),
    "new_town": dict(ring=1.0, area=30, density=0.7, transport=0.6, ict=0.8, iot=0.8,
                     service=0.55, environment=1.1, research=0.4),
    "industrial": dict(ring=0.7, area=25, density=0.15, transport=0.8, ict=0.7, iot=0.6,
                       service=0.4, environment=0.6, research=0.2, headroom=1.5),
    "suburb": dict(ring=0.85, area=40, density=0.5, transport=0.5, ict=0.55, iot=0.3,
                   service=0.7, environment=1.2, research=0.1, headroom=2.0),
}  # fmt: skip
# Fully built, a new town houses 1 + NEW_TOWN_ROOM x city.new_town_land times its initial
# residents: 4 times at the default open share of 0.5, once (no room) with no land open.
NEW_TOWN_ROOM = 6.0

# The largest district graph the model runs: its (mode, home, work) travel tables hold
# 5 x D^2 numbers each (D = 5,000: 1 GB per table).
MAX_DISTRICTS = 5_000
FREE_FLOW_SPEED_KMH = 30.0  # urban arterial speed at full transport quality
NEAREST_LINKS = 3  # each district links to its 3 nearest neighbours (plus a spanning tree)


def generate_city_graph(params: CityParams, population: int) -> nx.Graph:
    """Lay out districts in rings around the core and link neighbours by road.

    Housing and road capacity scale with the initial population so that a city of any size
    starts with the same occupancy and congestion.
    """
    rng = np.random.default_rng(params.layout_seed)
    counts = {
        "core": params.n_core,
        "old": params.n_old,
        "new_town": params.n_new_town,
        "industrial": params.n_industrial,
        "suburb": params.n_suburb,
    }
    kinds = [kind for kind in DISTRICT_KINDS for _ in range(counts[kind])]
    G = nx.Graph(name=params.name)
    weights = []
    for i, kind in enumerate(kinds):
        prof = KIND_PROFILES[kind]
        index_in_kind = kinds[:i].count(kind)
        angle = 2 * math.pi * (index_in_kind + rng.uniform(0.2, 0.8)) / counts[kind]
        angle += DISTRICT_KINDS.index(kind) * 0.7  # interleave kinds around the rings
        radius = params.radius_km * prof["ring"] * rng.uniform(0.85, 1.15)
        if kind == "core" and counts["core"] > 1:
            radius = params.radius_km * 0.12
        weights.append(prof["density"] * prof["area"])
        G.add_node(
            i,
            name=f"{kind.replace('_', ' ')} {index_in_kind + 1}",
            kind=kind,
            x=radius * math.cos(angle),
            y=radius * math.sin(angle),
            area_km2=float(prof["area"]),
            transport=min(1.0, params.infrastructure_level * prof["transport"]),
            ict=min(1.0, params.ict_coverage * prof["ict"]),
            computing=params.computing_level,
            iot=min(1.0, params.iot_coverage * prof["iot"]),
            environment=min(1.0, params.environment_quality * prof["environment"]),
        )
    total_weight = sum(weights)
    for i, kind in enumerate(kinds):
        capacity = population * params.housing_slack * weights[i] / total_weight
        G.nodes[i]["housing_capacity"] = capacity
        headroom = {
            "core": 1 + params.core_building_room,
            "new_town": 1 + NEW_TOWN_ROOM * params.new_town_land,
        }.get(kind) or KIND_PROFILES[kind]["headroom"]
        G.nodes[i]["housing_max"] = capacity * headroom
        resident_share = weights[i] / total_weight
        G.nodes[i]["service_capacity"] = (
            population * resident_share * params.service_level * KIND_PROFILES[kind]["service"]
        )
    _link_districts(G, params, population)
    return G


def _link_districts(G: nx.Graph, params: CityParams, population: int) -> None:
    xy = np.array([[G.nodes[n]["x"], G.nodes[n]["y"]] for n in G.nodes])
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    complete = nx.Graph()
    n = len(xy)
    for i in range(n):
        for j in np.argsort(dist[i])[1 : NEAREST_LINKS + 1]:
            G.add_edge(i, int(j))
        for j in range(i + 1, n):
            complete.add_edge(i, j, weight=dist[i, j])
    G.add_edges_from(nx.minimum_spanning_edges(complete, data=False))
    for u, v in G.edges:
        quality = (G.nodes[u]["transport"] + G.nodes[v]["transport"]) / 2
        speed = FREE_FLOW_SPEED_KMH * (0.5 + 0.5 * quality)
        G.edges[u, v]["travel_time"] = 2.0 + 60.0 * dist[u, v] / speed
        # Whole vehicles, rounded up: a small city's link is never narrower than its share
        # of a large city's (a fraction of a car would make any single commuter a jam).
        capacity = params.road_capacity * population / 1000 * (0.5 + quality)
        G.edges[u, v]["capacity"] = float(math.ceil(capacity))


def lay_transit(G: nx.Graph, params: CityParams, population: int) -> None:
    """Put bus and rail seats on the links (seats per peak hour, scaled with population).

    Every link without a ``bus_seats`` attribute gets city.bus_capacity x population/1000 x
    (0.5 + link quality). city.rail_lines radial lines run on the free-flow shortest paths
    from the most populous core district (or the most populous district) to the next most
    populous districts; each adds city.rail_capacity x population/1000 seats to every link
    it uses, on top of any ``rail_seats`` a graph file gives.
    """
    scale = population / 1000
    for u, v, data in G.edges(data=True):
        if "bus_seats" not in data:
            quality = (G.nodes[u]["transport"] + G.nodes[v]["transport"]) / 2
            data["bus_seats"] = params.bus_capacity * scale * (0.5 + quality)
        data.setdefault("rail_seats", 0.0)
    by_housing = sorted(G.nodes, key=lambda n: -G.nodes[n]["housing_capacity"])
    cores = [n for n in by_housing if G.nodes[n]["kind"] == "core"]
    hub = cores[0] if cores else by_housing[0]
    ends = [n for n in by_housing if n != hub][: params.rail_lines]
    paths = nx.single_source_dijkstra_path(G, hub, weight="travel_time")
    for end in ends:
        for u, v in itertools.pairwise(paths[end]):
            G.edges[u, v]["rail_seats"] += params.rail_capacity * scale


def lay_research(G: nx.Graph, research_capacity: float) -> None:
    """Give every district without a ``research`` attribute its research stock, 0-1:
    firms.research_capacity x its kind's research profile (KIND_PROFILES), capped at 1."""
    for _, data in G.nodes(data=True):
        if "research" not in data:
            profile = KIND_PROFILES.get(data["kind"], {}).get("research", 0.0)
            data["research"] = min(1.0, research_capacity * profile)


def load_city_graph(path: str | Path) -> nx.Graph:
    """Read a user's district graph from GraphML, or from ``nodes.csv`` plus ``edges.csv``.

    For CSV, ``path`` names the nodes file (columns ``id`` and the node attributes); the
    edges file sits beside it with the same name where ``nodes`` becomes ``edges``
    (columns ``source``, ``target`` and the edge attributes). Raises InputError when the
    file is missing or the graph is invalid.
    """
    path = Path(path)
    if path.suffix.lower() == ".graphml":
        raw = read_input(path, "city graph")
        try:
            G = nx.read_graphml(io.BytesIO(raw))
        except Exception as exc:  # networkx raises several parser types
            raise InputError(f"{path}: not a readable GraphML file ({one_line(exc)})") from None
    elif path.suffix.lower() == ".csv":
        G = _read_csv_graph(path)
    elif path.suffix.lower() in GEO_SUFFIXES:
        read_input(path, "city graph")  # checked as every input, and part of the run's id
        G = read_district_shapes(path)
    else:
        read_input(path, "city graph")  # a missing file or a folder is named as such first
        raise InputError(
            f"city graph {path}: use a .graphml, .geojson or .gpkg file or a nodes .csv file"
        )
    G = nx.convert_node_labels_to_integers(nx.Graph(G), label_attribute="name")
    validate_city_graph(G, str(path))
    return G


def _read_csv_graph(nodes_path: Path) -> nx.Graph:
    edges_path = nodes_path.with_name(nodes_path.name.replace("nodes", "edges"))
    read_input(nodes_path, "city graph")
    if edges_path == nodes_path or not edges_path.exists():
        raise InputError(
            f"{nodes_path}: the edges file {edges_path.name} must sit beside the nodes file"
        )
    nodes, edges = _read_csv(nodes_path), _read_csv(edges_path)
    for frame, needed, name in (
        (nodes, ["id"], nodes_path),
        (edges, ["source", "target"], edges_path),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise InputError(f"{name}: missing column(s) {', '.join(missing)}")
    G = nx.Graph()
    for row in nodes.to_dict("records"):
        G.add_node(str(row.pop("id")), **row)
    for row in edges.to_dict("records"):
        u, v = str(row.pop("source")), str(row.pop("target"))
        for end in (u, v):
            if end not in G:
                raise InputError(f"{edges_path}: edge refers to unknown district '{end}'")
        G.add_edge(u, v, **row)
    return G


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV table as UTF-8 (with or without a byte-order mark), through the one input
    reader; an empty, binary or malformed file is one InputError line."""
    text = read_text(path, "city graph table")
    try:
        with warnings.catch_warnings():
            # pandas warns (a second stderr line) before some parser errors: the error says it.
            warnings.simplefilter("ignore")
            return pd.read_csv(io.StringIO(text))
    except pd.errors.EmptyDataError:
        raise InputError(
            f"{path}: the file is empty; it needs a header row and one row per item"
        ) from None
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV table ({one_line(exc)})") from None


def _number(source: str, what: str, attr: str, value: object) -> float:
    """A graph attribute as a finite float, or one InputError line naming it."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{source}: {what} {attr}={value!r} is not a number") from None
    if not math.isfinite(number):
        raise InputError(f"{source}: {what} {attr}={value!r}; a finite number is required")
    return number


def validate_city_graph(G: nx.Graph, source: str = "city graph") -> None:
    """Refuse a graph the model cannot run on, with one line naming the problem."""
    if G.number_of_nodes() == 0:
        raise InputError(f"{source}: the graph has no districts")
    if G.number_of_nodes() > MAX_DISTRICTS:
        raise InputError(
            f"{source}: {G.number_of_nodes():,} districts, above the model's limit of "
            f"{MAX_DISTRICTS:,} (its (mode, home, work) travel tables grow with the square of "
            "the number of districts); merge districts into fewer, larger ones"
        )
    if not nx.is_connected(G):
        parts = nx.number_connected_components(G)
        raise InputError(f"{source}: the district graph is disconnected ({parts} parts)")
    for node, data in G.nodes(data=True):
        label = one_line(data.get("name", node)) or repr(data.get("name", node))
        data.setdefault("housing_max", data.get("housing_capacity"))
        for attr, meaning in NODE_ATTRIBUTES.items():
            if attr not in data or data[attr] is None or _is_nan(data[attr]):
                raise InputError(f"{source}: district '{label}' lacks '{attr}' ({meaning})")
        if data["kind"] not in DISTRICT_KINDS:
            raise InputError(
                f"{source}: district '{label}' has kind '{data['kind']}'; "
                f"allowed: {', '.join(DISTRICT_KINDS)}"
            )
        for attr in NODE_ATTRIBUTES:
            if attr == "kind":
                continue
            value = _number(source, f"district '{label}'", attr, data[attr])
            data[attr] = value
            if attr in UNIT_INTERVAL and not 0 <= value <= 1:
                raise InputError(f"{source}: district '{label}' {attr}={value:g}; allowed 0-1")
            if attr not in ("x", "y") and value < 0:
                raise InputError(f"{source}: district '{label}' has negative {attr}={value:g}")
        if data["area_km2"] <= 0 or data["housing_capacity"] <= 0:
            raise InputError(f"{source}: district '{label}' needs positive area and housing")
        data["housing_max"] = max(data["housing_max"], data["housing_capacity"])
    for u, v, data in G.edges(data=True):
        for attr, meaning in EDGE_ATTRIBUTES.items():
            if attr not in data or _is_nan(data[attr]):
                raise InputError(f"{source}: link {u}-{v} needs positive '{attr}' ({meaning})")
            data[attr] = _number(source, f"link {u}-{v}", attr, data[attr])
            if data[attr] <= 0:
                raise InputError(f"{source}: link {u}-{v} needs positive '{attr}' ({meaning})")
        for attr, meaning in TRANSIT_ATTRIBUTES.items():
            if attr in data:
                data[attr] = _number(source, f"link {u}-{v}", attr, data[attr])
                if data[attr] < 0:
                    raise InputError(f"{source}: link {u}-{v} needs '{attr}' >= 0 ({meaning})")


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def build_city_graph(params: CityParams, population: int, research_capacity: float) -> nx.Graph:
    """The city of a run: the user's graph file when given, else a generated one, with
    transit (lay_transit) and research stocks (lay_research)."""
    if params.graph_file:
        G = load_city_graph(params.graph_file)
    else:
        G = generate_city_graph(params, population)
        validate_city_graph(G, params.name)
    lay_transit(G, params, population)
    lay_research(G, research_capacity)
    return G

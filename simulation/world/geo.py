"""Real district shapes: a city's districts from a GeoJSON or GeoPackage file.

Each feature is one district: a Polygon or MultiPolygon with the node attributes of a
GraphML city as properties (graph.NODE_ATTRIBUTES: ``kind``, ``housing_capacity``, the
infrastructure levels, ...; ``name`` optional). The shapes give what a GraphML file must
state: the land area (``area_km2``), the coordinates (``x``, ``y``: the centroid, km east and
north of the city's centre) and the links (two districts sharing a border of at least
MIN_SHARED_BORDER_M). A link's free-flow travel time comes from the centroid distance at the
arterial speed the generated cities use (2 min to start and park plus the distance at 30
km/h x (0.5 + 0.5 transport quality)) and its road capacity from the city's housing as for a
generated city (city.road_capacity x residents/1000 x (0.5 + quality), residents = housing /
city.housing_slack, with the parameters' defaults: the file states no population). Each
district keeps its polygon in km (``shape``, a GeoJSON geometry), so the planners' view
draws areas, not points (white paper 6.2.3: a city's perception of its own space starts from
its map).

Coordinates in degrees (GeoJSON is WGS 84 unless it says otherwise) are projected to the
UTM zone of the city's centre; a projected file must be in metres. Anything the model cannot
run on is one InputError line naming the file and the feature. Needs the ``geo`` extra
(geopandas, shapely).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import networkx as nx

from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.parameters import CityParams
from smartcity.simulation.world.schema import one_line

GEO_SUFFIXES = (".geojson", ".gpkg")
"""File endings read as district shapes."""
MIN_SHARED_BORDER_M = 1.0
"""Shortest shared border [m] that links two districts (a shared corner point does not)."""
ARTERIAL_SPEED_KMH = 30.0
"""Free-flow arterial speed at full transport quality [km/h]: the speed the generated cities
use (graph.FREE_FLOW_SPEED_KMH; a test keeps the two equal)."""
START_MINUTES = 2.0
"""Minutes every trip takes before it moves (start and park), as in a generated city."""
MAX_FEATURES = 2000
"""Most districts a shape file may hold (the model's graph is per district, not per block)."""


def read_district_shapes(path: str | Path) -> nx.Graph:
    """The district graph of a GeoJSON or GeoPackage file (see the module docstring).

    Raises InputError (one line) when the geo extra is missing, the file cannot be read, a
    feature is not a valid polygon, the coordinates are neither degrees nor metres, or the
    districts do not form one connected city.
    """
    path = Path(path)
    try:
        import geopandas as gpd
    except ImportError:
        raise InputError(
            f"{path}: reading district shapes needs the geo extra: pip install -e '.[geo]'"
        ) from None
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise InputError(
            f"{path}: not a readable GeoJSON/GeoPackage file ({one_line(exc)})"
        ) from None
    if len(frame) == 0:
        raise InputError(f"{path}: the file has no features (one polygon per district)")
    if len(frame) > MAX_FEATURES:
        raise InputError(f"{path}: {len(frame)} features; at most {MAX_FEATURES} districts")
    names = _names(frame)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"{path}: two districts are named '{twice[0]}'; names must differ")
    for name, geometry in zip(names, frame.geometry, strict=True):
        _check_polygon(path, name, geometry)
    frame = _in_metres(path, frame)
    centre = frame.geometry.union_all().centroid
    graph = nx.Graph(name=path.stem)
    for name, row in zip(names, frame.itertuples(index=False), strict=True):
        attrs = _properties(row._asdict())
        shape = row.geometry
        attrs.setdefault("area_km2", shape.area / 1e6)
        attrs["x"] = (shape.centroid.x - centre.x) / 1000
        attrs["y"] = (shape.centroid.y - centre.y) / 1000
        attrs["shape"] = _km_geometry(shape, centre)
        graph.add_node(name, **attrs)
    _link_neighbours(path, graph, frame, names)
    return graph


def _names(frame: Any) -> list[str]:
    """Each feature's ``name`` property, or "district N" where it has none."""
    if "name" not in frame.columns:
        return [f"district {i + 1}" for i in range(len(frame))]
    return [
        str(v) if isinstance(v, str) and v.strip() else f"district {i + 1}"
        for i, v in enumerate(frame["name"])
    ]


def _check_polygon(path: Path, name: str, geometry: Any) -> None:
    if geometry is None or geometry.is_empty:
        raise InputError(f"{path}: district '{name}' has no geometry")
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(
            f"{path}: district '{name}' is a {geometry.geom_type}; a district is a Polygon "
            "or MultiPolygon"
        )
    if not geometry.is_valid:
        from shapely.validation import explain_validity

        raise InputError(f"{path}: district '{name}' is not a valid polygon "
                         f"({explain_validity(geometry)})")  # fmt: skip


def _in_metres(path: Path, frame: Any) -> Any:
    """The frame in a metric projection: degrees go to the UTM zone of the city's centre;
    a projected file must already be in metres."""
    crs = frame.crs
    if crs is None:
        minx, miny, maxx, maxy = frame.total_bounds
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            frame = frame.set_crs("EPSG:4326")
            crs = frame.crs
        else:
            raise InputError(
                f"{path}: the coordinates have no reference system and are not degrees; "
                "give a CRS (a projected one in metres) or use longitude/latitude"
            )
    if crs.is_geographic:
        return frame.to_crs(frame.estimate_utm_crs())
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if unit not in ("metre", "meter"):
        raise InputError(f"{path}: projected coordinates in {unit or 'unknown units'}; use metres")
    return frame


def _properties(row: dict[str, Any]) -> dict[str, Any]:
    """A feature's properties as node attributes (no geometry, no name, no missing values)."""
    out = {}
    for key, value in row.items():
        if key in ("geometry", "name") or value is None:
            continue
        if isinstance(value, float) and math.isnan(value):
            continue
        out[key] = value.item() if hasattr(value, "item") else value
    return out


def _km_geometry(shape: Any, centre: Any) -> dict[str, Any]:
    """The polygon as a GeoJSON geometry in km from the city's centre (drawn by the view)."""
    from shapely import affinity
    from shapely.geometry import mapping

    moved = affinity.translate(shape, -centre.x, -centre.y)
    scaled = affinity.scale(moved, 1e-3, 1e-3, origin=(0, 0))
    return mapping(scaled.simplify(0.01))


def _link_neighbours(path: Path, graph: nx.Graph, frame: Any, names: list[str]) -> None:
    """Link districts that share a border; travel time from the centroid distance, road
    capacity from the city's housing (the generated cities' rules)."""
    from shapely import STRtree

    shapes = list(frame.geometry)
    tree = STRtree(shapes)
    defaults = CityParams()
    residents = sum(float(graph.nodes[n].get("housing_capacity", 0) or 0) for n in graph)
    population = residents / defaults.housing_slack  # housing = population x slack
    for i, shape in enumerate(shapes):
        for j in tree.query(shape):
            j = int(j)
            if j <= i:
                continue
            border = shape.boundary.intersection(shapes[j].boundary).length
            if border < MIN_SHARED_BORDER_M:
                continue
            u, v = graph.nodes[names[i]], graph.nodes[names[j]]
            quality = (float(u.get("transport", 0.5)) + float(v.get("transport", 0.5))) / 2
            km = math.hypot(u["x"] - v["x"], u["y"] - v["y"])
            speed = ARTERIAL_SPEED_KMH * (0.5 + 0.5 * quality)
            graph.add_edge(
                names[i],
                names[j],
                travel_time=START_MINUTES + 60.0 * km / speed,
                capacity=defaults.road_capacity * population / 1000 * (0.5 + quality),
                border_km=border / 1000,
            )
    if graph.number_of_nodes() > 1 and graph.number_of_edges() == 0:
        raise InputError(f"{path}: no two districts share a border, so no district is linked")

"""District shapes from GeoJSON (simulation/world/geo.py): polygons give areas, centroids
and links (shared borders), the example city runs from the command line, and a bad file is
one line with exit status 2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import pytest

pytest.importorskip("geopandas", reason="the geo extra is not installed (pip install -e '.[geo]')")

from smartcity.cli import main
from smartcity.simulation.world import geo
from smartcity.simulation.world.graph import FREE_FLOW_SPEED_KMH, load_city_graph

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "riverton.geojson"
PROPS = {"kind": "old", "housing_capacity": 1000, "transport": 0.8, "ict": 0.7,
         "computing": 0.5, "iot": 0.5, "service_capacity": 800, "environment": 0.8}  # fmt: skip
KM_PER_DEG_LAT = 111.2  # 1 degree of latitude [km], for the test squares


def _square(x: float, y: float, side_km: float = 1.0, lat: float = 50.0) -> list:
    """A square's ring in degrees, corner (x, y) km from (8 E, lat N)."""
    lon_km = KM_PER_DEG_LAT * math.cos(math.radians(lat))

    def deg(px: float, py: float) -> list[float]:
        return [8.0 + px / lon_km, lat + py / KM_PER_DEG_LAT]

    s = side_km
    return [[deg(x, y), deg(x + s, y), deg(x + s, y + s), deg(x, y + s), deg(x, y)]]


def _write(tmp_path: Path, features: list[dict], name: str = "city.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _feature(name: str, ring: list, **props) -> dict:
    return {
        "type": "Feature",
        "properties": {"name": name, **PROPS, **props},
        "geometry": {"type": "Polygon", "coordinates": ring},
    }


def test_polygons_give_areas_centroids_and_shared_border_links(tmp_path):
    """A 2 x 2 grid of 1 km squares: each is 1 km2; side neighbours are linked, diagonal
    ones (a shared corner point only) are not; travel time from the centroid distance."""
    features = [_feature(f"d{i}{j}", _square(i, j)) for i in range(2) for j in range(2)]
    G = load_city_graph(_write(tmp_path, features))
    names = nx.get_node_attributes(G, "name")
    by_name = {v: k for k, v in names.items()}
    for n in G:
        assert G.nodes[n]["area_km2"] == pytest.approx(1.0, rel=0.01)
        assert G.nodes[n]["shape"]["type"] == "Polygon"
    assert G.has_edge(by_name["d00"], by_name["d01"]) and G.has_edge(by_name["d00"], by_name["d10"])
    assert not G.has_edge(by_name["d00"], by_name["d11"])  # a corner is not a border
    a, b = G.nodes[by_name["d00"]], G.nodes[by_name["d10"]]
    assert math.hypot(a["x"] - b["x"], a["y"] - b["y"]) == pytest.approx(1.0, rel=0.01)
    speed = geo.ARTERIAL_SPEED_KMH * (0.5 + 0.5 * PROPS["transport"])
    link = G.edges[by_name["d00"], by_name["d10"]]
    assert link["travel_time"] == pytest.approx(2.0 + 60 * 1.0 / speed, rel=0.01)
    assert geo.ARTERIAL_SPEED_KMH == FREE_FLOW_SPEED_KMH


def test_the_example_city_loads_and_runs(tmp_path, capsys):
    G = load_city_graph(EXAMPLE)
    assert G.number_of_nodes() == 12 and nx.is_connected(G)
    kinds = {d["kind"] for _, d in G.nodes(data=True)}
    assert kinds == {"core", "old", "industrial", "new_town", "suburb"}
    total = sum(d["area_km2"] for _, d in G.nodes(data=True))
    assert 100 < total < 250  # about 16 x 12 km
    out = tmp_path / "out"
    status = main(["run", "--set", f"city.graph_file={EXAMPLE}", "--set", "citizens.count=2000",
                   "--years", "0.5", "--out", str(out), "--quiet"])  # fmt: skip
    assert status == 0 and (out / "metrics.parquet").exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not a readable GeoJSON"),
        (None, "is a Point"),
        ("missing-kind", "lacks 'kind'"),
        ("apart", "no two districts share a border"),
        ("twins", "two districts are named 'd'"),
    ],
)
def test_a_bad_geojson_is_one_line_and_exit_2(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.geojson"
    if content == "{not json":
        path.write_text(content)
    elif content is None:
        point = {"type": "Feature", "properties": {"name": "p", **PROPS},
                 "geometry": {"type": "Point", "coordinates": [8.0, 50.0]}}  # fmt: skip
        _write(tmp_path, [point, _feature("q", _square(0, 0))], "bad.geojson")
    elif content == "missing-kind":
        props = dict(PROPS)
        del props["kind"]
        feature = {"type": "Feature", "properties": {"name": "a", **props},
                   "geometry": {"type": "Polygon", "coordinates": _square(0, 0)}}  # fmt: skip
        _write(tmp_path, [feature, _feature("b", _square(1, 0))], "bad.geojson")
    elif content == "apart":
        _write(
            tmp_path, [_feature("a", _square(0, 0)), _feature("b", _square(5, 5))], "bad.geojson"
        )
    else:
        _write(
            tmp_path, [_feature("d", _square(0, 0)), _feature("d", _square(1, 0))], "bad.geojson"
        )
    out = tmp_path / "out"
    try:
        status = main(["run", "--set", f"city.graph_file={path}", "--set", "citizens.count=500",
                       "--years", "0.1", "--out", str(out), "--quiet"])  # fmt: skip
    except SystemExit as exc:
        status = int(exc.code or 0)
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err and needle in err, err
    assert not out.exists()

"""The district graph: generated presets, GraphML / CSV loading, refusal of invalid graphs."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from smartcity.simulation.model import CityModel
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.graph import (
    EDGE_ATTRIBUTES,
    NODE_ATTRIBUTES,
    generate_city_graph,
    load_city_graph,
)
from smartcity.simulation.world.vocabulary import DISTRICT_KINDS

POPULATION = 2000


def generated(preset: str = "mature") -> nx.Graph:
    return generate_city_graph(resolve_parameters(preset).city, POPULATION)


@pytest.mark.parametrize("preset", ["mature", "emerging"])
def test_generated_city_is_connected_with_every_attribute(preset):
    params = resolve_parameters(preset).city
    G = generate_city_graph(params, POPULATION)
    expected = params.n_core + params.n_old + params.n_new_town + params.n_industrial
    expected += params.n_suburb
    assert G.number_of_nodes() == expected
    assert nx.is_connected(G)
    for _, data in G.nodes(data=True):
        assert set(NODE_ATTRIBUTES) <= set(data)
        assert data["kind"] in DISTRICT_KINDS
        for attr in ("transport", "ict", "computing", "iot", "environment"):
            assert 0 <= data[attr] <= 1
        assert data["area_km2"] > 0
        assert 0 < data["housing_capacity"] <= data["housing_max"]
    for _, _, data in G.edges(data=True):
        assert set(EDGE_ATTRIBUTES) <= set(data)
        assert data["travel_time"] > 0 and data["capacity"] > 0
    kinds = [d["kind"] for _, d in G.nodes(data=True)]
    assert kinds.count("new_town") == params.n_new_town
    # housing is sized on the initial population with the preset's slack
    housing = sum(d["housing_capacity"] for _, d in G.nodes(data=True))
    assert housing == pytest.approx(POPULATION * params.housing_slack, rel=1e-6)


def test_generated_layout_is_fixed_by_its_layout_seed():
    a, b = generated("mature"), generated("mature")
    assert nx.utils.graphs_equal(a, b)
    other = resolve_parameters("mature", {"city.layout_seed": 99}).city
    c = generate_city_graph(other, POPULATION)
    assert [a.nodes[n]["x"] for n in a] != [c.nodes[n]["x"] for n in c]


def test_graphml_round_trip_and_model_runs_on_it(tmp_path: Path):
    G = generated("mature")
    path = tmp_path / "city.graphml"
    nx.write_graphml(G, path)
    loaded = load_city_graph(path)
    assert loaded.number_of_nodes() == G.number_of_nodes()
    assert loaded.number_of_edges() == G.number_of_edges()
    assert sorted(loaded.nodes) == list(range(G.number_of_nodes()))
    for n in G:
        for attr in NODE_ATTRIBUTES:
            assert loaded.nodes[n][attr] == G.nodes[n][attr], (n, attr)
    for u, v in G.edges:
        for attr in EDGE_ATTRIBUTES:
            assert loaded.edges[u, v][attr] == G.edges[u, v][attr]

    model = CityModel("mature", seed=1, citizens__count=POPULATION, city__graph_file=str(path))
    assert model.districts.n == G.number_of_nodes()
    model.run(0.5)
    assert model.metrics_frame()["population"].iloc[-1] > 0


def test_model_on_round_tripped_graph_matches_generated_city(tmp_path: Path):
    """Same seed, same graph (from a file or generated): the same run."""
    G = generated("emerging")
    path = tmp_path / "emerging.graphml"
    nx.write_graphml(G, path)
    runs = []
    for extra in ({}, {"city__graph_file": str(path)}):
        model = CityModel("emerging", seed=4, citizens__count=POPULATION, **extra)
        model.run(0.25)
        runs.append(model.metrics_frame())
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)


def write_csv(G: nx.Graph, folder: Path, prefix: str = "") -> Path:
    nodes = pd.DataFrame(
        [{"id": f"d{n}", **{a: d[a] for a in NODE_ATTRIBUTES}} for n, d in G.nodes(data=True)]
    )
    edges = pd.DataFrame(
        [
            {"source": f"d{u}", "target": f"d{v}", **{a: d[a] for a in EDGE_ATTRIBUTES}}
            for u, v, d in G.edges(data=True)
        ]
    )
    nodes_path = folder / f"{prefix}nodes.csv"
    nodes.to_csv(nodes_path, index=False)
    edges.to_csv(folder / f"{prefix}edges.csv", index=False)
    return nodes_path


def test_csv_graph_loads_and_model_runs_on_it(tmp_path: Path):
    G = generated("emerging")
    nodes_path = write_csv(G, tmp_path, prefix="my_")
    loaded = load_city_graph(nodes_path)
    assert loaded.number_of_nodes() == G.number_of_nodes()
    assert loaded.number_of_edges() == G.number_of_edges()
    assert nx.is_connected(loaded)
    assert sorted(d["kind"] for _, d in loaded.nodes(data=True)) == sorted(
        d["kind"] for _, d in G.nodes(data=True)
    )
    total = sum(d["housing_capacity"] for _, d in loaded.nodes(data=True))
    assert total == pytest.approx(sum(d["housing_capacity"] for _, d in G.nodes(data=True)))
    model = CityModel(
        "emerging", seed=2, citizens__count=POPULATION, city__graph_file=str(nodes_path)
    )
    model.run(0.25)
    assert len(model.citizens) > 0


def _graphml(G: nx.Graph, tmp_path: Path) -> Path:
    path = tmp_path / "bad.graphml"
    nx.write_graphml(G, path)
    return path


def assert_one_line_input_error(path: Path, *fragments: str) -> None:
    with pytest.raises(InputError) as info:
        load_city_graph(path)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_disconnected_graph_is_refused(tmp_path: Path):
    G = generated()
    island = max(G) + 1
    G.add_node(island, **dict(G.nodes[0]))
    assert_one_line_input_error(_graphml(G, tmp_path), "disconnected", "2 parts")


def test_missing_node_attribute_is_refused(tmp_path: Path):
    G = generated()
    del G.nodes[3]["ict"]
    assert_one_line_input_error(_graphml(G, tmp_path), "lacks 'ict'")


def test_missing_value_in_csv_is_refused(tmp_path: Path):
    nodes_path = write_csv(generated(), tmp_path)
    nodes = pd.read_csv(nodes_path)
    nodes.loc[2, "transport"] = None
    nodes.to_csv(nodes_path, index=False)
    assert_one_line_input_error(nodes_path, "lacks 'transport'")


def test_missing_edge_attribute_is_refused(tmp_path: Path):
    G = generated()
    u, v = next(iter(G.edges))
    del G.edges[u, v]["travel_time"]
    assert_one_line_input_error(_graphml(G, tmp_path), "travel_time")


@pytest.mark.parametrize("capacity", [-5.0, 0.0])
def test_non_positive_link_capacity_is_refused(tmp_path: Path, capacity):
    G = generated()
    u, v = next(iter(G.edges))
    G.edges[u, v]["capacity"] = capacity
    assert_one_line_input_error(_graphml(G, tmp_path), "capacity")


def test_negative_district_stock_is_refused(tmp_path: Path):
    G = generated()
    G.nodes[1]["service_capacity"] = -10.0
    assert_one_line_input_error(_graphml(G, tmp_path), "negative service_capacity")


def test_unit_interval_attribute_out_of_range_is_refused(tmp_path: Path):
    G = generated()
    G.nodes[1]["ict"] = 1.4
    assert_one_line_input_error(_graphml(G, tmp_path), "ict=1.4", "0-1")


def test_kind_not_allowed_is_refused(tmp_path: Path):
    G = generated()
    G.nodes[2]["kind"] = "airport"
    assert_one_line_input_error(_graphml(G, tmp_path), "'airport'", "core")


def test_missing_edges_file_is_refused(tmp_path: Path):
    nodes_path = write_csv(generated(), tmp_path)
    (tmp_path / "edges.csv").unlink()
    assert_one_line_input_error(nodes_path, "edges.csv")


def test_edge_to_unknown_district_is_refused(tmp_path: Path):
    nodes_path = write_csv(generated(), tmp_path)
    edges = pd.read_csv(tmp_path / "edges.csv")
    edges.loc[0, "target"] = "nowhere"
    edges.to_csv(tmp_path / "edges.csv", index=False)
    assert_one_line_input_error(nodes_path, "'nowhere'")


def test_missing_graph_file_and_wrong_suffix_are_refused(tmp_path: Path):
    assert_one_line_input_error(tmp_path / "none.graphml", "not found")
    other = tmp_path / "city.json"
    other.write_text("{}")
    assert_one_line_input_error(other, ".graphml")


def test_unreadable_graphml_is_refused(tmp_path: Path):
    path = tmp_path / "junk.graphml"
    path.write_text("this is not xml")
    assert_one_line_input_error(path, "GraphML")


def test_model_with_bad_graph_file_raises_input_error(tmp_path: Path):
    with pytest.raises(InputError, match="not found"):
        CityModel("mature", seed=1, citizens__count=500, city__graph_file=str(tmp_path / "x.csv"))

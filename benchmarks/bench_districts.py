"""A large district graph: build, routes and one simulated year of a GraphML city of 2,000
districts (or ``--districts N``), through the same path as ``smartcity run`` with
``city.graph_file``. Routes of cities above simulation.world.districts.
INCIDENCE_MAX_DISTRICTS are shortest-path trees, so memory grows with D^2, not D^2 x links.

Run: ``python -m benchmarks.bench_districts`` (one measurement in a fresh subprocess, so the
peak resident memory is its own). Figures are for the record (benchmarks/RESULTS.md), never
asserted by a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import networkx as nx
import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

KIND_BY_RING = ((0.05, "core"), (0.45, "old"), (0.7, "industrial"), (0.85, "new_town"))

PROBE = """
import json, resource, sys, time
from smartcity.simulation.model.city_model import CityModel
t0, c0 = time.perf_counter(), time.process_time()
model = CityModel("mature", seed=1, citizens__count=int(sys.argv[2]),
                  city__graph_file=sys.argv[1])
t1, c1 = time.perf_counter(), time.process_time()
model.run(1.0)
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"districts": model.districts.n, "links": len(model.districts.edges),
                  "build_s": t1 - t0, "build_cpu_s": c1 - c0,
                  "year_s": t2 - t1, "year_cpu_s": c2 - c1,
                  "ms_per_step": 1000 * (t2 - t1) / model.steps_per_year,
                  "routes": type(model.districts.routes).__name__,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_city(path: Path, districts: int, seed: int = 7) -> None:
    """A GraphML city: districts scattered on a disc of radius sqrt(districts) km, typed by
    ring, each linked to its 3 nearest neighbours plus a spanning tree (connected)."""
    rng = np.random.default_rng(seed)
    radius = np.sqrt(districts)
    r = radius * np.sqrt(rng.uniform(size=districts))
    angle = rng.uniform(0, 2 * np.pi, size=districts)
    xy = np.c_[r * np.cos(angle), r * np.sin(angle)]
    G = nx.Graph()
    for i, (x, y) in enumerate(xy):
        ring = r[i] / radius
        kind = next((k for edge, k in KIND_BY_RING if ring < edge), "suburb")
        G.add_node(
            f"d{i}", kind=kind, x=float(x), y=float(y), area_km2=2.0, housing_capacity=400.0,
            transport=0.6, ict=0.5, computing=0.4, iot=0.3, service_capacity=300.0,
            environment=0.7,
        )  # fmt: skip
    _, near = cKDTree(xy).query(xy, k=4)
    pairs = {tuple(sorted((i, int(j)))) for i, row in enumerate(near) for j in row[1:]}
    tree = minimum_spanning_tree(cdist(xy, xy)).tocoo()
    pairs |= {tuple(sorted((int(i), int(j)))) for i, j in zip(tree.row, tree.col, strict=True)}
    for i, j in sorted(pairs):
        km = float(np.hypot(*(xy[i] - xy[j])))
        G.add_edge(f"d{i}", f"d{j}", travel_time=2.0 + 60.0 * km / 25.0, capacity=400.0)
    nx.write_graphml(G, path)


def main() -> None:
    """Write the city, run one year in a subprocess, print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=2000)
    parser.add_argument("--citizens", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "city.graphml"
        write_city(path, args.districts)
        result = subprocess.run(
            [sys.executable, "-c", PROBE, str(path), str(args.citizens)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    print(json.dumps(json.loads(result.stdout), indent=1))


if __name__ == "__main__":
    main()

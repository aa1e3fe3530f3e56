# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tutorial 6: bring your own city as district shapes (GeoJSON)
#
# The shipped presets generate a city from counts of districts. A planner has a map
# instead: the city's districts as polygons. This tutorial makes such a map, runs the model
# on it and compares it with the same city generated from its preset.
#
# What this notebook does, step by step:
#
# 1. Draw nine districts as polygons in longitude and latitude (a 3 x 3 grid of blocks of
#    about 2 x 2 km around an old core) and give each the attributes a district needs: its
#    kind, housing, infrastructure levels, public-service places and environment (the list
#    is `NODE_ATTRIBUTES` in `simulation/world/graph.py`). Write them as a GeoJSON file,
#    one feature per district.
# 2. Load the file the way the model does (`load_city_graph`): the polygons give each
#    district's area and centre, and two districts that share a border are linked, with a
#    travel time from the distance between their centres. Print the districts and links.
# 3. Run the city for a few years (`CityModel(..., city__graph_file=PATH)`; on the command
#    line `smartcity run --set city.graph_file=PATH`) beside the generated mature city with
#    the same seed, and print the end of both runs.
#
# **How to use it.** Open `06_bring_your_own_city.ipynb` in Jupyter Lab, VS Code or any
# notebook viewer to see the outputs of the last run; run the cells from the top with
# `.venv/bin/python` as the kernel to run it yourself. The file you edit is
# `06_bring_your_own_city.py` (the same notebook as plain Python, jupytext percent format).
# It needs the `geo` extra (geopandas, shapely; part of `dev`). Files go to
# `results/tutorial06/`, next to the notebook. A real example, a made-up 12-district river
# city, is `docs/examples/riverton.geojson`; the planners' view draws a GeoJSON city as its
# polygons when a user preset names it (`[city] graph_file = "..."`, with
# `smartcity ui --presets DIR`).

# %%
import json
import math
from pathlib import Path

import pandas as pd

from smartcity.simulation.model import CityModel
from smartcity.simulation.world.graph import load_city_graph

# %% [markdown]
# ## Settings

# %%
LAT, LON = 48.0, 11.0  # where the made-up city lies (degrees north and east)
BLOCK_KM = 2.0  # side of one district block
YEARS = 3
CITIZENS = 2000
SEED = 1
OUT = Path("results/tutorial06")
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Nine districts as polygons
#
# The centre block is the core; the blocks beside it are old districts; two corners are a
# new town and an industrial zone; the other two are suburbs. Housing is in residents and
# adds up to more than the population (`city.housing_slack`); service places are seats in
# schools and clinics.

# %%
KM_PER_DEG_LAT = 111.2
KM_PER_DEG_LON = KM_PER_DEG_LAT * math.cos(math.radians(LAT))
KINDS = [
    ["suburb", "old", "new_town"],
    ["old", "core", "old"],
    ["industrial", "old", "suburb"],
]
PROFILE = {  # housing, transport, ict, computing, iot, service places, environment
    "core": (500, 0.95, 0.9, 0.6, 0.7, 600, 0.6),
    "old": (300, 0.85, 0.8, 0.5, 0.5, 320, 0.75),
    "new_town": (250, 0.6, 0.85, 0.6, 0.75, 150, 1.0),
    "industrial": (60, 0.8, 0.7, 0.6, 0.5, 40, 0.55),
    "suburb": (150, 0.5, 0.55, 0.3, 0.3, 100, 1.0),
}


def corner(col: float, row: float) -> list[float]:
    """A block corner (columns east, rows north, in blocks from the city's centre) in
    longitude and latitude."""
    return [LON + col * BLOCK_KM / KM_PER_DEG_LON, LAT + row * BLOCK_KM / KM_PER_DEG_LAT]


features = []
for r, row in enumerate(KINDS):
    for c, kind in enumerate(row):
        x0, y0 = c - 1.5, 1.5 - r - 1  # block (c, r) from the top-left, centred on the core
        ring = [corner(x0, y0), corner(x0 + 1, y0), corner(x0 + 1, y0 + 1), corner(x0, y0 + 1)]
        housing, transport, ict, computing, iot, places, environment = PROFILE[kind]
        scale = CITIZENS / 2000  # housing and places for this population
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name": f"{kind.replace('_', ' ')} {r}{c}",
                    "kind": kind,
                    "housing_capacity": housing * scale,
                    "transport": transport,
                    "ict": ict,
                    "computing": computing,
                    "iot": iot,
                    "service_capacity": places * scale,
                    "environment": environment,
                },
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
path = OUT / "grid_city.geojson"
path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, indent=1))
print(f"wrote {path}: {len(features)} districts")

# %% [markdown]
# ## 2. What the model reads from the shapes
#
# Each block is about 4 km2 and its centre is 2 km from its neighbours'. Blocks that touch
# only at a corner share no border, so they are not linked: the core has four links, a
# corner block two.

# %%
graph = load_city_graph(path)
districts = pd.DataFrame(
    [
        {"district": d["name"], "kind": d["kind"], "area [km2]": d["area_km2"],
         "x [km]": d["x"], "y [km]": d["y"], "links": graph.degree(n)}
        for n, d in graph.nodes(data=True)
    ]
).round(2)  # fmt: skip
print(districts.to_string(index=False))
links = pd.DataFrame(
    [
        {"link": f"{graph.nodes[u]['name']} - {graph.nodes[v]['name']}",
         "travel time [min]": e["travel_time"], "shared border [km]": e["border_km"]}
        for u, v, e in graph.edges(data=True)
    ]
).round(2)  # fmt: skip
print(links.to_string(index=False))

# %% [markdown]
# ## 3. Run it beside the generated mature city
#
# Both runs use the mature preset's people, firms and government and the same seed; only
# the districts differ. The grid city is small and compact (36 km2), the generated mature
# city spreads over rings of districts, so commutes and congestion differ.

# %%
rows = {}
for label, extra in (("grid city (GeoJSON)", {"city__graph_file": str(path)}),
                     ("generated mature city", {})):  # fmt: skip
    model = CityModel("mature", seed=SEED, citizens__count=CITIZENS, **extra)
    model.run(years=YEARS)
    last = model.metrics_frame().iloc[-1]
    rows[label] = last[["population", "travel_time_index", "congestion_index",
                        "demand_advancement_index", "governance_index"]]  # fmt: skip
table = pd.DataFrame(rows).round(3)
table.to_csv(OUT / "comparison.csv")
print(f"year {YEARS}, seed {SEED}")
print(table.to_string())

# %% [markdown]
# The table shows the two cities at the same year: the same kinds of people in different
# districts. Which one commutes faster is printed in the `travel_time_index` row (1 = free
# flow on every trip); the indices differ by what the districts offer.
#
# ## Exercises
#
# 1. Make the blocks 4 km wide (`BLOCK_KM = 4.0`): the areas quadruple and travel times
#    grow. How does `travel_time_index` change?
# 2. Remove the core's service places (set its `service_capacity` to 0): which index falls
#    in the grid city, and by how much?
# 3. Turn one old district into a second core: what happens to the link count of the
#    blocks around it (hint: links come from shared borders, not from kinds)?
# 4. Write the grid city to a GeoPackage instead (`geopandas.read_file(path).to_file(
#    OUT / "grid_city.gpkg")`) and load that: are the districts the same?

"""Make docs/examples/riverton.geojson: the districts of Riverton, a made-up river city.

Riverton is not a real place: twelve districts are the Voronoi cells of hand-placed centres
inside an irregular city boundary (about 16 x 12 km at 50.1 N, 8.6 E), each with the
attributes a GraphML city needs (docs: README, "Bring your own city"). Housing adds up to
23,000 residents (the default 20,000 citizens x city.housing_slack 1.15). Run from the
repository root: ``python docs/examples/make_riverton.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from shapely.geometry import MultiPoint, Polygon, mapping
from shapely.ops import voronoi_diagram

LAT, LON = 50.10, 8.60
KM_PER_DEG_LAT = 111.2
KM_PER_DEG_LON = KM_PER_DEG_LAT * math.cos(math.radians(LAT))
BOUNDARY_KM = [(-8, -4), (-5, -6.5), (0, -6), (5, -6.8), (8.5, -3), (8, 2), (6, 5.5),
               (1, 6.2), (-4, 5.5), (-7.5, 3)]  # fmt: skip
# name, kind, centre (km east, km north), housing, transport, ict, computing, iot, services,
# environment
DISTRICTS = [
    ("Old Town", "core", (0.0, 0.0), 4200, 0.95, 0.9, 0.6, 0.7, 5000, 0.65),
    ("Cathedral Quarter", "old", (-2.2, 1.6), 3000, 0.85, 0.8, 0.5, 0.55, 3000, 0.75),
    ("Riverside", "old", (2.1, 1.2), 2800, 0.85, 0.85, 0.5, 0.6, 2600, 0.8),
    ("South Bank", "old", (0.4, -2.4), 2600, 0.8, 0.8, 0.5, 0.5, 2400, 0.75),
    ("Harbour", "industrial", (4.8, -2.5), 600, 0.8, 0.7, 0.6, 0.5, 400, 0.55),
    ("Rail Yards", "industrial", (-4.6, -2.8), 700, 0.75, 0.65, 0.5, 0.45, 500, 0.6),
    ("North Park", "new_town", (1.5, 4.2), 2300, 0.6, 0.85, 0.6, 0.75, 1300, 1.0),
    ("East Meadows", "new_town", (6.0, 1.8), 2100, 0.55, 0.8, 0.55, 0.7, 1100, 1.0),
    ("Hillside", "suburb", (-4.8, 3.0), 1500, 0.5, 0.6, 0.3, 0.3, 1000, 1.0),
    ("Westfield", "suburb", (-6.3, 0.0), 1400, 0.5, 0.55, 0.3, 0.3, 900, 1.0),
    ("Southgate", "suburb", (3.0, -5.0), 1000, 0.5, 0.55, 0.3, 0.3, 700, 1.0),
    ("Mill Lane", "suburb", (-2.0, -4.8), 800, 0.5, 0.5, 0.3, 0.25, 600, 0.95),
]


def to_degrees(x: float, y: float) -> tuple[float, float]:
    """km east and north of the centre -> (longitude, latitude), rounded to ~1 m."""
    return round(LON + x / KM_PER_DEG_LON, 5), round(LAT + y / KM_PER_DEG_LAT, 5)


def main() -> None:
    boundary = Polygon(BOUNDARY_KM)
    centres = MultiPoint([d[2] for d in DISTRICTS])
    cells = voronoi_diagram(centres, envelope=boundary.buffer(5))
    features = []
    for name, kind, centre, housing, transport, ict, computing, iot, services, env in DISTRICTS:
        cell = next(c for c in cells.geoms if c.contains(MultiPoint([centre]).geoms[0]))
        shape = cell.intersection(boundary)
        ring = [to_degrees(x, y) for x, y in shape.exterior.coords]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name": name,
                    "kind": kind,
                    "housing_capacity": housing,
                    "transport": transport,
                    "ict": ict,
                    "computing": computing,
                    "iot": iot,
                    "service_capacity": services,
                    "environment": env,
                },
                "geometry": mapping(Polygon(ring)),
            }
        )
    out = Path(__file__).with_name("riverton.geojson")
    collection = {"type": "FeatureCollection", "name": "riverton", "features": features}
    out.write_text(json.dumps(collection, indent=1) + "\n")
    print(f"wrote {out} ({len(features)} districts)")


if __name__ == "__main__":
    main()

"""Distribution of the headline metrics and indices over seeds, for the engine cross-check.

``python -m benchmarks.engine_baseline --out FILE`` runs SEEDS small cities of each preset
for 20 years with the code that is imported as ``smartcity`` and writes, per preset, metric
and year, the value of every seed as JSON. tests/test_engine_crosscheck.py compares the
current engine with the distribution stored in tests/data/engine_before.json, which this
script made from the engine before the fast-engine work (issue 22): a checkout of that
commit linked as ``smartcity`` into a folder put first on PYTHONPATH, run from outside this
checkout, as ``python -m benchmarks --against`` does::

    mkdir -p /tmp/before && ln -sfn OLD_CHECKOUT /tmp/before/smartcity
    cd /tmp && PYTHONPATH=/tmp/before:REPO python -m benchmarks.engine_baseline --out F.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SEEDS = 20
CITIZENS = 1500
YEARS = (5, 20)
PRESETS = ("mature", "emerging")
METRICS = (
    "population",
    "gdp_per_capita",
    "unemployment_rate",
    "digital_adoption",
    "digital_economy_share",
    "congestion_index",
    "demand_advancement_index",
    "industrial_transition_index",
    "governance_index",
)


def sample(preset: str, seed: int, **options: object) -> dict[str, dict[str, float]]:
    """One city's metrics at each year of YEARS: {metric: {year: value}}; ``options`` go to
    CityModel (e.g. ``record="yearly"``, which the engine before did not have)."""
    from smartcity import CityModel

    model = CityModel(preset, seed=seed, citizens__count=CITIZENS, **options)
    model.run(max(YEARS))
    frame = model.metrics_frame()
    rows = {year: frame.loc[frame["step"] == year * model.steps_per_year].iloc[0] for year in YEARS}
    return {m: {str(y): float(rows[y][m]) for y in YEARS} for m in METRICS}


def distribution(**options: object) -> dict[str, dict[str, dict[str, list[float]]]]:
    """{preset: {metric: {year: [value of seed 1, ..., seed SEEDS]}}}."""
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    for preset in PRESETS:
        runs = [sample(preset, seed, **options) for seed in range(1, SEEDS + 1)]
        out[preset] = {
            m: {str(y): [run[m][str(y)] for run in runs] for y in YEARS} for m in METRICS
        }
    return out


def main(argv: list[str] | None = None) -> None:
    """Write the distribution as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    data = {
        "seeds": SEEDS,
        "citizens": CITIZENS,
        "years": list(YEARS),
        "presets": distribution(),
    }
    Path(args.out).write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()

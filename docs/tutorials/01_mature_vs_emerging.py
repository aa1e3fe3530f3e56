"""Tutorial 1: a mature and an emerging city, side by side.

The white paper (section 5.1) describes two typical city models. A *mature* city (London,
Paris, Tokyo, Hamburg) starts high -- dense, rich, well served, with an aging population --
and grows slowly. An *emerging* city (Shenzhen, Tel Aviv) starts low -- young, thin
infrastructure, a strong government drive -- and grows fast. The model ships both as
presets (``simulation/presets/mature.toml`` and ``emerging.toml``).

What this script does, step by step:

1. Run each preset with the same seed for a few years. ``run_city`` builds a
   ``CityModel``, steps it month by month and returns a pandas DataFrame with one row per
   month (row 0 is the starting state) and one column per metric.
2. Keep the three headline indices (each 0-1, formulas in docs/ODD.md, section 8):
   ``demand_advancement_index`` (citizens' satisfaction over five need levels),
   ``industrial_transition_index`` (digital economy, high-value jobs, productivity,
   employment) and ``governance_index`` (congestion, pollution, safety, participation,
   government efficiency, fiscal health).
3. Plot them against time, one panel per index, one line per city, into a PNG; also save
   the metrics of both runs as CSV so that you can look at any other column.

Try: compare where each line starts and how steep it is. Then change ``--years`` or
``--citizens`` (a bigger city is less noisy but slower), or plot ``gdp_per_capita``.

Run:  .venv/bin/python docs/tutorials/01_mature_vs_emerging.py --out results/tutorial01
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw to files, no window needed
import matplotlib.pyplot as plt

from smartcity.simulation.metrics import INDEX_METRICS
from smartcity.simulation.runs import run_city


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output folder (default: a new temporary folder)")
    parser.add_argument("--years", type=float, default=10.0, help="years to simulate")
    parser.add_argument("--citizens", type=int, default=2000, help="initial population")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same for both)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="tutorial01_"))
    out.mkdir(parents=True, exist_ok=True)

    # Step 1: one run per preset, same seed and size.
    runs = {}
    for preset in ("mature", "emerging"):
        frame = run_city(
            preset, seed=args.seed, years=args.years, overrides={"citizens.count": args.citizens}
        )
        frame.to_csv(out / f"{preset}_metrics.csv", index=False)
        runs[preset] = frame

    # Steps 2 and 3: the three indices, one panel each.
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharex=True)
    for ax, index in zip(axes, INDEX_METRICS, strict=True):
        for preset, frame in runs.items():
            ax.plot(frame["year"], frame[index], label=preset)
        ax.set_title(index.replace("_", " "))
        ax.set_xlabel("year")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("index (0-1)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out / "indices.png", dpi=100)

    for preset, frame in runs.items():
        first, last = frame.iloc[0], frame.iloc[-1]
        changes = ", ".join(f"{i}: {first[i]:.3f} -> {last[i]:.3f}" for i in INDEX_METRICS)
        print(f"{preset:9s} {changes}")
    print(f"wrote {out / 'indices.png'} and the metrics as CSV")


if __name__ == "__main__":
    main()

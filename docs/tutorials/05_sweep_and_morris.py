"""Tutorial 5: a parameter sweep and a Morris sensitivity analysis.

One run shows one possible history of one city. To learn how a result depends on a
parameter you run many: a **sweep** varies one parameter over a grid of values and repeats
each value with several seeds (replications), so that you see both the trend and the
noise; a **sensitivity analysis** varies several parameters at once and ranks them by how
much they move a result.

This script calls the model directly (``simulation.runs.run_city``, one run per call) and
uses SALib for the Morris method, so you can see every step. For real studies use the
experiments layer: ``smartcity sweep SPEC.toml`` and ``smartcity sensitivity SPEC.toml
--method morris`` run the same designs in parallel, store every run as it finishes and
can resume (docs/experiments.md, when it is in your checkout).

What this script does, step by step:

1. **Sweep.** ``government.capability_budget_share`` takes a few values; each value is run
   with the same few seeds (the same seed gives the same starting city and people, so the
   values are compared on equal terms: "common random numbers"). For each run it keeps the
   final ``governance_index`` and ``capability_index``; it writes all runs to
   ``sweep.csv`` and plots mean and spread per value to ``sweep.png``.
2. **Morris screening** (elementary effects; Morris 1991, as in SALib). Choose parameters
   and a range for each (``PROBLEM``). SALib draws ``r`` trajectories through a grid of
   ``levels`` points per parameter, changing one parameter at a time; each change gives
   one *elementary effect* (change of the output / change of the parameter, in units of
   its range). The model is run at every point with one fixed seed.
3. ``mu*`` (mean absolute elementary effect) ranks the parameters by influence on the
   output; ``sigma`` (their spread) is large when a parameter's effect depends on the
   others (interactions) or is non-linear. Results go to ``morris.csv`` and
   ``morris.png`` (mu* against sigma).

The runs are short and the city small so that this finishes in about a minute; the
numbers are for learning the method, not for conclusions. For conclusions, use a bigger
city (``--citizens``), more years, more seeds and more trajectories.

Run:  .venv/bin/python docs/tutorials/05_sweep_and_morris.py --out results/tutorial05
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

from simulation.runs import run_city

SWEPT = "government.capability_budget_share"
SWEEP_VALUES = (0.02, 0.06, 0.12, 0.2)

# Morris: parameters (names as in docs/parameters.md) and the range of each.
PROBLEM = {
    "num_vars": 4,
    "names": [
        "government.capability_budget_share",
        "citizens.adoption_imitation",
        "firms.digital_gain",
        "city.road_capacity",
    ],
    "bounds": [[0.02, 0.2], [0.1, 1.5], [0.1, 1.5], [15.0, 60.0]],
}
OUTPUT = "governance_index"


def final_metrics(overrides: dict, seed: int, args: argparse.Namespace) -> pd.Series:
    """Run one city and return its metrics at the end of the run."""
    frame = run_city(
        args.preset,
        seed=seed,
        years=args.years,
        overrides={"citizens.count": args.citizens, **overrides},
    )
    return frame.iloc[-1]


def sweep(args: argparse.Namespace, out: Path) -> None:
    """Step 1: one parameter over a grid, several seeds per value."""
    rows = []
    for value in SWEEP_VALUES:
        for seed in range(1, args.seeds + 1):
            last = final_metrics({SWEPT: value}, seed, args)
            rows.append(
                {
                    SWEPT: value,
                    "seed": seed,
                    "governance_index": last["governance_index"],
                    "capability_index": last["capability_index"],
                }
            )
    runs = pd.DataFrame(rows)
    runs.to_csv(out / "sweep.csv", index=False)
    summary = runs.groupby(SWEPT)[["governance_index", "capability_index"]].agg(["mean", "std"])
    print("sweep (mean and standard deviation over seeds):")
    print(summary.round(4).to_string())

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("capability_index", "governance_index"), strict=True):
        ax.scatter(runs[SWEPT], runs[metric], alpha=0.5, label="one run")
        ax.plot(summary.index, summary[(metric, "mean")], "o-", label="mean over seeds")
        ax.set_xlabel(SWEPT)
        ax.set_title(f"{metric} after {args.years:g} years")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out / "sweep.png", dpi=100)


def morris(args: argparse.Namespace, out: Path) -> None:
    """Steps 2 and 3: Morris elementary effects of four parameters on one output."""
    X = morris_sample.sample(
        PROBLEM, N=args.trajectories, num_levels=4, seed=args.seed, local_optimization=False
    )
    print(f"Morris: {len(X)} runs ({args.trajectories} trajectories x {PROBLEM['num_vars'] + 1})")
    Y = np.array(
        [
            final_metrics(dict(zip(PROBLEM["names"], map(float, x), strict=True)), args.seed, args)[
                OUTPUT
            ]
            for x in X
        ]
    )
    result = morris_analyze.analyze(PROBLEM, X, Y, num_levels=4, seed=args.seed)
    table = pd.DataFrame(
        {
            "parameter": PROBLEM["names"],
            "mu": result["mu"],
            "mu_star": result["mu_star"],
            "sigma": result["sigma"],
            "mu_star_conf": result["mu_star_conf"],
        }
    ).sort_values("mu_star", ascending=False)
    table.to_csv(out / "morris.csv", index=False)
    print(f"Morris elementary effects on {OUTPUT} (ranked by mu*):")
    print(table.round(4).to_string(index=False))

    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter(table["mu_star"], table["sigma"])
    for _, row in table.iterrows():
        ax.annotate(row["parameter"], (row["mu_star"], row["sigma"]), fontsize=8)
    ax.set_xlabel("mu* (influence)")
    ax.set_ylabel("sigma (interactions, non-linearity)")
    ax.set_title(f"Morris screening of {OUTPUT}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "morris.png", dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output folder (default: a new temporary folder)")
    parser.add_argument("--preset", default="mature")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--citizens", type=int, default=800)
    parser.add_argument("--seeds", type=int, default=3, help="replications per sweep value")
    parser.add_argument("--trajectories", type=int, default=4, help="Morris trajectories")
    parser.add_argument("--seed", type=int, default=1, help="seed of the Morris runs")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for the tests)")
    args = parser.parse_args()
    if args.quick:
        args.years, args.citizens, args.seeds, args.trajectories = 0.5, 400, 2, 2
    out = Path(args.out or tempfile.mkdtemp(prefix="tutorial05_"))
    out.mkdir(parents=True, exist_ok=True)
    sweep(args, out)
    morris(args, out)
    print(f"wrote sweep.csv, sweep.png, morris.csv and morris.png to {out}")


if __name__ == "__main__":
    main()

"""Tutorial 5: a parameter sweep and a Morris sensitivity analysis.

One run shows one possible history of one city. To learn how a result depends on a
parameter you run many: a **sweep** varies a parameter over a grid of values and repeats
each value with several seeds (replications), so that you see both the trend and the
noise; a **sensitivity analysis** varies several parameters at once and ranks them by how
much they move a result. Both are done by the experiments layer (docs/experiments.md),
driven by a small TOML file, the *spec*:

    smartcity sweep SPEC.toml --out DIR
    smartcity sensitivity SPEC.toml --method morris --out DIR

It stores every run as it finishes (``DIR/runs/*.parquet``; an interrupted study continues
with ``--resume``), can use several cores (``--workers``) or a cluster, and gives every run
a seed from the spec's ``root_seed``, so the study is reproducible.

What this script does, step by step:

1. **Sweep spec.** ``SWEEP_SPEC`` below: the mature preset, a small city
   (``[overrides]``), ``government.capability_budget_share`` on a ``[grid]`` of values, a
   few ``replications``; only two metrics are kept, one row per year (``keep_every``).
   The script writes it to ``OUT/sweep.toml`` and runs ``smartcity sweep`` on it (here by
   calling the command-line entry point from Python; typing the command in a terminal
   does the same).
2. **Read and plot the sweep.** ``experiments.store.load_results`` returns all runs as one
   table (one row per run and kept step). The script takes the final year, averages over
   replications, writes ``sweep_summary.csv`` and plots every run and the mean per value to
   ``sweep.png``.
3. **Morris spec.** ``MORRIS_SPEC``: a ``[sensitivity]`` table with the number of Morris
   trajectories (``samples``), the output metrics and, in ``[sensitivity.bounds]``, the
   range of each parameter. SALib draws trajectories through a grid of 4 levels per
   parameter, changing one parameter at a time; each change gives one *elementary effect*
   (change of the output per change of the parameter, in units of its range).
4. **Run and read the Morris analysis.** ``smartcity sensitivity ... --method morris``
   runs every sample point and writes ``indices_morris.csv`` and a bar plot
   ``indices_morris.png``. ``mu_star`` (mean absolute elementary effect) ranks the
   parameters by influence; ``sigma`` (their spread) is large when a parameter's effect
   depends on the others (interactions) or is non-linear.

The runs are short and the city small so that this finishes in about a minute; the
numbers are for learning the method, not for conclusions. For conclusions, use a bigger
city, more years, more replications and more trajectories (``--years``,
``--citizens``, ``--replications``, ``--trajectories``), and more ``--workers``.

Run:  .venv/bin/python docs/tutorials/05_sweep_and_morris.py --out results/tutorial05
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from smartcity.cli import main as smartcity
from smartcity.experiments.store import load_results

SWEPT = "government.capability_budget_share"

SWEEP_SPEC = """name = "capability budget sweep"
presets = ["mature"]
replications = {replications}
root_seed = 2026
years = {years}
metrics = ["governance_index", "capability_index"]
keep_every = 12

[overrides]
"citizens.count" = {citizens}

[grid]
"government.capability_budget_share" = [0.02, 0.06, 0.12, 0.2]
"""

MORRIS_SPEC = """name = "morris screening"
presets = ["mature"]
root_seed = 2026
years = {years}

[overrides]
"citizens.count" = {citizens}

[sensitivity]
samples = {trajectories}
metrics = ["governance_index", "industrial_transition_index"]
statistic = "final"
seed = 0

[sensitivity.bounds]
"government.capability_budget_share" = [0.02, 0.2]
"citizens.adoption_imitation" = [0.1, 1.5]
"firms.digital_gain" = [0.1, 1.5]
"city.road_capacity" = [15.0, 60.0]
"""


def run_command(*words: str) -> None:
    """Run a smartcity command and stop if it fails (its error is printed already)."""
    print("$ smartcity " + " ".join(words))
    status = smartcity(list(words))
    if status != 0:
        raise SystemExit(status)


def sweep(args: argparse.Namespace, out: Path) -> None:
    """Steps 1 and 2."""
    spec = out / "sweep.toml"
    spec.write_text(SWEEP_SPEC.format(**vars(args)))
    store = out / "sweep"
    run_command("sweep", str(spec), "--out", str(store), "--workers", str(args.workers))

    runs = load_results(store)
    final = runs[runs["step"] == runs["step"].max()]
    summary = final.groupby(SWEPT)[["governance_index", "capability_index"]].agg(["mean", "std"])
    summary.to_csv(out / "sweep_summary.csv")
    print(f"final year, mean and standard deviation over {args.replications} replications:")
    print(summary.round(4).to_string())

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("capability_index", "governance_index"), strict=True):
        ax.scatter(final[SWEPT], final[metric], alpha=0.5, label="one run")
        ax.plot(summary.index, summary[(metric, "mean")], "o-", label="mean")
        ax.set_xlabel(SWEPT)
        ax.set_title(f"{metric} after {args.years} years")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out / "sweep.png", dpi=100)


def morris(args: argparse.Namespace, out: Path) -> None:
    """Steps 3 and 4."""
    spec = out / "morris.toml"
    spec.write_text(MORRIS_SPEC.format(**vars(args)))
    store = out / "morris"
    run_command(
        "sensitivity", str(spec), "--method", "morris", "--out", str(store),
        "--workers", str(args.workers),
    )  # fmt: skip
    indices = pd.read_csv(store / "indices_morris.csv")
    print("Morris indices, by metric, most influential parameter first:")
    print(
        indices.sort_values(["metric", "mu_star"], ascending=[True, False])
        .round(4)
        .to_string(index=False)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output folder (default: a new temporary folder)")
    parser.add_argument("--years", type=int, default=3, help="years per run (whole years)")
    parser.add_argument("--citizens", type=int, default=800, help="initial population")
    parser.add_argument("--replications", type=int, default=3, help="seeds per sweep value")
    parser.add_argument("--trajectories", type=int, default=4, help="Morris trajectories")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (for the tests)")
    args = parser.parse_args()
    if args.quick:
        args.years, args.citizens, args.replications, args.trajectories = 1, 400, 2, 2
    out = Path(args.out or tempfile.mkdtemp(prefix="tutorial05_"))
    out.mkdir(parents=True, exist_ok=True)
    sweep(args, out)
    morris(args, out)
    print(f"wrote the specs, the stores, sweep_summary.csv, sweep.png and morris/ to {out}")


if __name__ == "__main__":
    main()

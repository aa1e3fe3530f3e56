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
# # Tutorial 5: a parameter sweep and a Morris sensitivity analysis
#
# One run shows one possible history of one city. To learn how a result depends on a
# parameter you run many: a **sweep** varies a parameter over a grid of values and repeats
# each value with several seeds (replications), so that you see both the trend and the
# noise; a **sensitivity analysis** varies several parameters at once and ranks them by how
# much they move a result. Both are done by the experiments layer (docs/experiments.md),
# driven by a small TOML file, the *spec*:
#
#     smartcity sweep SPEC.toml --out DIR
#     smartcity sensitivity SPEC.toml --method morris --out DIR
#
# It stores every run as it finishes (`DIR/runs/*.parquet`; an interrupted study continues
# with `--resume`), can use several cores (`--workers`) or a cluster, and gives every run a
# seed from the spec's `root_seed`, so the study is reproducible.
#
# What this notebook does, step by step:
#
# 1. **Sweep spec.** `SWEEP_SPEC` below: the mature preset, a small city (`[overrides]`),
#    `government.capability_budget_share` on a `[grid]` of values, a few `replications`;
#    only two metrics are kept, one row per year (`keep_every`). The notebook writes it to
#    `sweep.toml` and runs `smartcity sweep` on it (from Python, as `python -m smartcity`
#    in a new process; typing the command in a terminal does the same and also shows a
#    progress bar).
# 2. **Read and plot the sweep.** `smartcity.experiments.store.load_results` returns all runs
#    as one table (one row per run and kept step). The notebook takes the final year,
#    averages over replications, writes `sweep_summary.csv` and plots every run and the mean
#    per value to `sweep.png`.
# 3. **Morris spec.** `MORRIS_SPEC`: a `[sensitivity]` table with the number of Morris
#    trajectories (`samples`), the output metrics and, in `[sensitivity.bounds]`, the range
#    of each parameter. SALib draws trajectories through a grid of 4 levels per parameter,
#    changing one parameter at a time; each change gives one *elementary effect* (change of
#    the output per change of the parameter, in units of its range).
# 4. **Run and read the Morris analysis.** `smartcity sensitivity ... --method morris` runs
#    every sample point and writes `indices_morris.csv` and a bar plot `indices_morris.png`.
#    `mu_star` (mean absolute elementary effect) ranks the parameters by influence; `sigma`
#    (their spread) is large when a parameter's effect depends on the others (interactions)
#    or is non-linear.
#
# The runs are short and the city small so that this finishes in well under a minute; the
# numbers are for learning the method, not for conclusions. For conclusions, use a bigger
# city, more years, more replications and more trajectories (the settings below), and more
# `WORKERS`.
#
# **How to use it.** Open `05_sweep_and_morris.ipynb` in Jupyter Lab, VS Code or any
# notebook viewer to see the outputs of the last run; run the cells from the top with
# `.venv/bin/python` as the kernel to run it yourself. The file you edit is
# `05_sweep_and_morris.py` (the same notebook as plain Python, jupytext percent format).
# It also runs as a script from any folder (`.venv/bin/python
# docs/tutorials/05_sweep_and_morris.py`) and prints its tables. Files go to
# `results/tutorial05/` in the folder it runs in (next to the notebook in Jupyter); run it
# again with a new `OUT` (a study's folder is reused only with `--resume`).

# %%
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Image

from smartcity.experiments.store import load_results

YEARS = 3  # years per run (whole years)
CITIZENS = 800  # initial population
REPLICATIONS = 3  # seeds per sweep value
TRAJECTORIES = 4  # Morris trajectories
WORKERS = 1  # worker processes
OUT = Path("results") / "tutorial05"
shutil.rmtree(OUT, ignore_errors=True)  # a fresh study each time the notebook runs
OUT.mkdir(parents=True)

SWEPT = "government.capability_budget_share"


def smartcity(*words: str) -> None:
    """Run a `smartcity` command as typed in a terminal (a new process of this Python) and
    show what it prints; stop with its error if it fails."""
    print("$ smartcity " + " ".join(words))
    done = subprocess.run(
        [sys.executable, "-m", "smartcity", *words], capture_output=True, text=True, check=False
    )
    print(done.stdout, end="")
    if done.returncode != 0:
        raise SystemExit(done.stderr)


# %% [markdown]
# ## Step 1: the sweep spec, and the sweep

# %%
SWEEP_SPEC = f"""name = "capability budget sweep"
presets = ["mature"]
replications = {REPLICATIONS}
root_seed = 2026
years = {YEARS}
metrics = ["governance_index", "capability_index"]
keep_every = 12

[overrides]
"citizens.count" = {CITIZENS}

[grid]
"{SWEPT}" = [0.02, 0.06, 0.12, 0.2]
"""
spec = OUT / "sweep.toml"
spec.write_text(SWEEP_SPEC)
smartcity("sweep", str(spec), "--out", str(OUT / "sweep"), "--workers", str(WORKERS))

# %% [markdown]
# ## Step 2: read and plot the sweep

# %%
runs = load_results(OUT / "sweep")
final = runs[runs["step"] == runs["step"].max()]
summary = final.groupby(SWEPT)[["governance_index", "capability_index"]].agg(["mean", "std"])
summary.to_csv(OUT / "sweep_summary.csv")
print(f"{len(runs)} rows: {runs['run_id'].nunique()} runs, one row per kept step")
print(f"final year, mean and standard deviation over {REPLICATIONS} replications:")
print(summary.round(4).to_string())

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, metric in zip(axes, ("capability_index", "governance_index"), strict=True):
    ax.scatter(final[SWEPT], final[metric], alpha=0.5, label="one run")
    ax.plot(summary.index, summary[(metric, "mean")], "o-", label="mean")
    ax.set_xlabel(SWEPT)
    ax.set_title(f"{metric} after {YEARS} years")
    ax.grid(alpha=0.3)
axes[0].legend()
fig.tight_layout()
fig.savefig(OUT / "sweep.png", dpi=100)
plt.show()

# %% [markdown]
# ## Step 3: the Morris spec

# %%
MORRIS_SPEC = f"""name = "morris screening"
presets = ["mature"]
root_seed = 2026
years = {YEARS}

[overrides]
"citizens.count" = {CITIZENS}

[sensitivity]
samples = {TRAJECTORIES}
metrics = ["governance_index", "industrial_transition_index"]
statistic = "final"
seed = 0

[sensitivity.bounds]
"government.capability_budget_share" = [0.02, 0.2]
"citizens.adoption_imitation" = [0.1, 1.5]
"firms.digital_gain" = [0.1, 1.5]
"city.road_capacity" = [15.0, 60.0]
"""
morris_spec = OUT / "morris.toml"
morris_spec.write_text(MORRIS_SPEC)
print(f"wrote {morris_spec}: {len(MORRIS_SPEC.splitlines())} lines")

# %% [markdown]
# ## Step 4: run and read the Morris analysis

# %%
store = OUT / "morris"
smartcity("sensitivity", str(morris_spec), "--method", "morris", "--out", str(store),
          "--workers", str(WORKERS))  # fmt: skip
indices = pd.read_csv(store / "indices_morris.csv")
print("Morris indices, by metric, most influential parameter first:")
ranked = indices.sort_values(["metric", "mu_star"], ascending=[True, False])
print(ranked.round(4).to_string())

# %%
Image(filename=store / "indices_morris.png")

# %% [markdown]
# ## Exercises
#
# Predict first, then change the settings (or the specs) and run the notebook again.
#
# 1. **Noise against trend.** Set `REPLICATIONS = 1`, then `REPLICATIONS = 6`. Which
#    conclusions from the sweep plot would you still draw from one run per value?
# 2. **Time to act.** Set `YEARS = 8`. Does the effect of the capability budget on
#    `governance_index` grow, shrink or change sign with a longer horizon?
# 3. **A placebo parameter.** Add a parameter that cannot matter to the Morris bounds, e.g.
#    `"government.debt_limit" = [0.59, 0.61]` (check its meaning in docs/parameters.md
#    first: is it truly inert over so narrow a range?). Where should it rank by `mu_star`,
#    and does it?
# 4. **Stability of the ranking.** Set `TRAJECTORIES = 8` and change `seed` in
#    `[sensitivity]`. Does the order of the parameters by `mu_star` stay the same? Which
#    pairs swap?
# 5. **Parallel is the same.** Set `WORKERS = 2` and compare `sweep_summary.csv` with the
#    one from `WORKERS = 1` (same `root_seed`). What do you expect, and why?

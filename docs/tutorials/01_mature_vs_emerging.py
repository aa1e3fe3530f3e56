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
# # Tutorial 1: a mature and an emerging city, side by side
#
# The white paper (section 5.1) describes two typical city models. A *mature* city (London,
# Paris, Tokyo, Hamburg) starts high -- dense, rich, well served, with an aging population --
# and grows slowly. An *emerging* city (Shenzhen, Tel Aviv) starts low -- young, thin
# infrastructure, a strong government drive -- and grows fast. The model ships both as
# presets (`simulation/world/presets/mature.toml` and `emerging.toml`).
#
# What this notebook does, step by step:
#
# 1. Run each preset with the same seed for a few years. `run_city` builds a `CityModel`,
#    steps it month by month and returns a pandas DataFrame with one row per month (row 0 is
#    the starting state) and one column per metric.
# 2. Keep the three headline indices (each 0-1, formulas in docs/ODD.md, section 8):
#    `demand_advancement_index` (citizens' satisfaction over five need levels),
#    `industrial_transition_index` (digital economy, high-value jobs, productivity,
#    employment) and `governance_index` (congestion, pollution, safety, participation,
#    government efficiency, fiscal health).
# 3. Plot them against time, one panel per index, one line per city, and save the metrics of
#    both runs as CSV so that you can look at any other column.
#
# **How to use it.** Open `01_mature_vs_emerging.ipynb` in Jupyter Lab, VS Code or any
# notebook viewer: it shows the outputs of the last run. Run the cells from the top to run
# it yourself (the kernel needs the project installed: `.venv/bin/pip install -e '.[dev]'`,
# then choose `.venv/bin/python` as the kernel). The file you edit is
# `01_mature_vs_emerging.py`, the same notebook as plain Python (jupytext percent format);
# Jupyter opens it as a notebook when jupytext is installed. It also runs as a script from
# any folder (`.venv/bin/python docs/tutorials/01_mature_vs_emerging.py`) and prints its
# tables. Files go to `results/tutorial01/` in the folder it runs in (next to the notebook
# in Jupyter).

# %%
from pathlib import Path

import matplotlib.pyplot as plt

from smartcity.experiments.runs import run_city
from smartcity.simulation.world.vocabulary import INDEX_METRICS

# %% [markdown]
# ## Settings
#
# A city of a few thousand citizens runs a year in a fraction of a second. A bigger city is
# less noisy but slower; every run with the same settings and seed gives the same numbers.

# %%
YEARS = 10  # years to simulate
CITIZENS = 2000  # initial population of each city
SEED = 1  # random seed, the same for both cities
OUT = Path("results") / "tutorial01"
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Step 1: one run per preset, same seed and size

# %%
runs = {}
for preset in ("mature", "emerging"):
    frame = run_city(preset, seed=SEED, years=YEARS, overrides={"citizens.count": CITIZENS})
    frame.to_csv(OUT / f"{preset}_metrics.csv", index=False)
    runs[preset] = frame
print(f"{len(runs['mature'])} rows (months) and {runs['mature'].shape[1]} columns per run")
print(runs["mature"][["year", *INDEX_METRICS]].iloc[::24].round(3).to_string())

# %% [markdown]
# ## Steps 2 and 3: the three indices, one panel each

# %%
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
fig.savefig(OUT / "indices.png", dpi=100)
plt.show()

# %%
for preset, frame in runs.items():
    first, last = frame.iloc[0], frame.iloc[-1]
    changes = ", ".join(f"{i}: {first[i]:.3f} -> {last[i]:.3f}" for i in INDEX_METRICS)
    print(f"{preset:9s} {changes}")
print(f"wrote {OUT / 'indices.png'} and the metrics as CSV")

# %% [markdown]
# Compare where each line starts and how steep it is. In the run shown here the mature city
# starts higher on demand advancement and industrial transition, while its governance index
# (which counts congestion and pollution, both worse in a dense city) starts lower. Read the
# printed numbers rather than this sentence: they are what your settings give.
#
# ## Exercises
#
# For each one, write down your prediction *before* you run the cells again.
#
# 1. **Longer horizon.** Set `YEARS = 20`. Does the emerging city catch up with the mature
#    one on any index? On which one first?
# 2. **Noise or effect?** Run with `SEED = 2` and `SEED = 3`. How much do the final index
#    values move between seeds, compared with the gap between the two cities? What does that
#    tell you about reading a difference from a single run?
# 3. **City size.** Set `CITIZENS = 500`, then `CITIZENS = 8000`. Which curves get smoother,
#    and does the gap between the cities change, or only the wiggles around it?
# 4. **Other columns.** Plot `gdp_per_capita` and `population` instead of the indices (the
#    list of all columns is `runs["mature"].columns`; units in docs/ODD.md, section 8). Which
#    city's population grows faster, and does that match the white paper's description?
# 5. **Swap one condition.** The presets differ in many parameters. Give the emerging city
#    the mature city's `government.capability_budget_share` (look both values up with
#    `resolve_parameters(preset).as_flat_dict()`, from `smartcity.simulation.model.resolve`) by
#    adding it to `overrides` for the emerging run only. In the run above the emerging
#    city's `governance_index` barely moves (it ends a little lower than it starts) while
#    its `industrial_transition_index` climbs: which of the two changes with the mature
#    city's budget share, and by how much?

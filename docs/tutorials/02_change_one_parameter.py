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
# # Tutorial 2: change one policy parameter and compare with the default, same seed
#
# A controlled experiment changes one thing and keeps everything else equal. Here the one
# thing is `government.capability_budget_share`: the share of last year's tax revenue the
# government spends each year on building its six capabilities (organization,
# infrastructure, perception, platform, services, digital-space governance; white paper
# 6.2). Every parameter, with its unit and allowed range, is in docs/parameters.md (or run
# `smartcity params`).
#
# What this notebook does, step by step:
#
# 1. Look up the value the preset uses (`resolve_parameters` returns all parameters of a
#    preset after its TOML file is applied).
# 2. Run the city twice with the *same seed*: once as is, once with the parameter changed
#    (`overrides={"government.capability_budget_share": 0.15}`; on the command line it
#    would be `--set government.capability_budget_share=0.15`). With the same seed both
#    runs start from the same city and the same people, so the difference is the effect of
#    the change plus the noise of the random choices after it.
# 3. Show a small table of a few metrics at the end of both runs and their difference,
#    write it to CSV, and plot the capability index and the governance index over time.
#
# **How to use it.** Open `02_change_one_parameter.ipynb` in Jupyter Lab, VS Code or any
# notebook viewer to see the outputs of the last run; run the cells from the top with
# `.venv/bin/python` as the kernel to run it yourself. The file you edit is
# `02_change_one_parameter.py` (the same notebook as plain Python, jupytext percent
# format). It also runs as a script from any folder
# (`.venv/bin/python docs/tutorials/02_change_one_parameter.py`) and prints its tables.
# Files go to `results/tutorial02/` in the folder it runs in (next to the notebook in
# Jupyter).

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from smartcity.experiments.runs import run_city
from smartcity.simulation.model.resolve import resolve_parameters

# %% [markdown]
# ## Settings

# %%
PRESET = "mature"  # mature, emerging or a path to a preset TOML file
PARAM = "government.capability_budget_share"  # the one parameter that changes
VALUE = 0.15  # its value in the changed run
YEARS = 8
CITIZENS = 2000
SEED = 1
OUT = Path("results") / "tutorial02"
OUT.mkdir(parents=True, exist_ok=True)

SHOWN = [
    "capability_index",
    "government_efficiency",
    "digital_adoption",
    "governance_index",
    "industrial_transition_index",
    "demand_advancement_index",
    "gdp_per_capita",
    "debt_ratio",
]

# %% [markdown]
# ## Step 1: the value the preset uses

# %%
size = {"citizens.count": CITIZENS}
default = resolve_parameters(PRESET, size).as_flat_dict()[PARAM]
print(f"{PARAM}: preset {PRESET} uses {default}, the changed run uses {VALUE}")

# %% [markdown]
# ## Step 2: two runs, same seed, one parameter different

# %%
base = run_city(PRESET, seed=SEED, years=YEARS, overrides=size)
changed = run_city(PRESET, seed=SEED, years=YEARS, overrides={**size, PARAM: VALUE})

# %% [markdown]
# ## Step 3: compare the end states and plot two metrics over time

# %%
table = pd.DataFrame(
    {
        f"default ({default:g})": base.iloc[-1][SHOWN],
        f"changed ({VALUE:g})": changed.iloc[-1][SHOWN],
    }
)
table["difference"] = table.iloc[:, 1] - table.iloc[:, 0]
table.to_csv(OUT / "comparison.csv", index_label="metric")
print(table.astype(float).round(4).to_string())

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, metric in zip(axes, ("capability_index", "governance_index"), strict=True):
    ax.plot(base["year"], base[metric], label=f"default {default:g}")
    ax.plot(changed["year"], changed[metric], label=f"{PARAM} = {VALUE:g}")
    ax.set_title(metric.replace("_", " "))
    ax.set_xlabel("year")
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "comparison.png", dpi=100)
plt.show()
print(f"wrote {OUT / 'comparison.csv'} and {OUT / 'comparison.png'}")

# %% [markdown]
# **Reading the result.** The capability stocks rise with the budget, and through them
# government efficiency. The debt need not rise: at the start the model calibrates the
# spending on "other programmes" (administration the model does not detail) so that the
# first month's budget balances, so a larger capability budget leaves a smaller share for
# those programmes (`Government.calibrate_other_programmes`, docs/ODD.md 7.3).
#
# A value outside the allowed range is refused with a one-line message naming the range:

# %%
try:
    resolve_parameters(PRESET, {PARAM: 0.9})
except ValueError as refused:
    print(f"refused: {refused}")

# %% [markdown]
# ## Exercises
#
# Write down your prediction before each run.
#
# 1. **Placebo.** Set `VALUE` to the preset's own value (printed in Step 1). What should the
#    `difference` column show, and does it?
# 2. **Dose and response.** Try `VALUE = 0.05` and `VALUE = 0.3`. Does `capability_index`
#    move in the direction you expect, and is the effect twice as large for twice the
#    change? What happens to `debt_ratio`?
# 3. **Noise.** Keep `VALUE = 0.15` and run with `SEED = 2` and `SEED = 3`. Is the sign of
#    the `governance_index` difference the same every time? How large is the difference
#    compared with the change between seeds?
# 4. **Another lever.** Set `PARAM = "citizens.digital_literacy_mean"` and `VALUE = 0.8`
#    (look up its unit and range in docs/parameters.md). Which of the shown metrics react
#    first, and which not at all?
# 5. **Another city.** Repeat the default experiment with `PRESET = "emerging"`. Does a
#    larger capability budget help a city that starts with low capability more or less than
#    a mature one?

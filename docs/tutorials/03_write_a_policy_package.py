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
# # Tutorial 3: write your own policy package
#
# A **policy package** is a development path for a city: which digital initiatives it runs
# and how it pays for them, how much it spends on its six capabilities, which new
# infrastructure it builds and which industries it favours. The shipped packages are the six
# paths of the white paper (section 5.1) plus `baseline`. A package is a plain TOML file: you
# need no Python. This tutorial builds `03_my_package.toml` (beside this notebook), a package
# for an aging mature city ("silver economy"), one section at a time, then runs it against
# the baseline.
#
# **How to use it.** Open `03_write_a_policy_package.ipynb` in Jupyter Lab, VS Code or any
# notebook viewer to see the outputs of the last run; run the cells from the top with
# `.venv/bin/python` as the kernel to run it yourself (the project installed with
# `.venv/bin/pip install -e '.[dev]'`). The file you edit is `03_write_a_policy_package.py`
# (the same notebook as plain Python, jupytext percent format). The `smartcity` commands
# below run inside the notebook through `smartcity.cli.main`; typed in a terminal in this
# folder (with the project's `.venv` activated) they do the same. It also runs as a script
# from any folder (`.venv/bin/python docs/tutorials/03_write_a_policy_package.py`) and
# prints its tables. Files go to `results/tutorial03/` in the folder it runs in (next to the
# notebook in Jupyter).

# %%
import os
from pathlib import Path

import pandas as pd

from smartcity.cli import main as smartcity_main
from smartcity.simulation.model import CityModel

# This tutorial's folder, as seen from the folder it runs in: a script may be started from
# anywhere, a notebook runs in its own folder (where `__file__` is not defined).
HERE = Path(os.path.relpath(Path(__file__).parent)) if "__file__" in globals() else Path()
PACKAGE = HERE / "03_my_package.toml"  # the package this tutorial builds
OUT = Path("results") / "tutorial03"
OUT.mkdir(parents=True, exist_ok=True)


def smartcity(*words: str) -> None:
    """Run a `smartcity` command as typed in a terminal; say so when it fails."""
    print("$ smartcity " + " ".join(words))
    status = smartcity_main(list(words))
    if status != 0:
        print(f"exit status {status}")


# %% [markdown]
# ## Step 1: see what exists
#
# `smartcity policies` prints the shipped packages (names you can pass to `--policy`) and the
# shipped **initiatives**, one per line: its name, the key issue it targets (white paper
# Table 1) and its title.

# %%
smartcity("policies")

# %% [markdown]
# For the details of each initiative -- what it costs, what it needs (prerequisites), what it
# changes (effects) -- open [docs/policies.md](../policies.md) (the same catalogue as text:
# `smartcity policies --markdown`). That page also has the table of the four **financing
# models** and of the seven kinds of **new infrastructure**, and shows every shipped package;
# `policies/packages/*.toml` are good examples to copy from.
#
# ## Step 2: create the file and its header
#
# Create an empty text file, e.g. `03_my_package.toml` (any path ending in `.toml` works).
# The first lines are plain `key = value` settings; they must come **before** the first
# `[section]` line (TOML puts every key after a `[section]` line into that section):
#
# ```toml
# title = "Silver economy: digital care and inclusion for an aging city"
# source = "white paper 5.1.1 Path 3 and Table 1 (aging, equal service)"
# description = "Telehealth and an elderly-care industry, digital inclusion, privacy rules."
# unified_platform = true
# ```
#
# - `title`, `source`, `description`: free text for people (all optional).
# - `unified_platform`: `true` = the initiatives share one data platform ("integral
#   intelligence"): each one's effect grows with the platform capability and the share of
#   initiatives working at performance stage or better, and government efficiency rises;
#   `false` (the default) = "data islands" ("fractional intelligence").
# - `platform_cost` (optional): what the unified platform costs the government, k per
#   resident per year; default 0.02, allowed 0-10.
#
# Only these keys and the sections below are allowed; a misspelt key is refused with a
# "did you mean" message.
#
# ## Step 3: the capability budget, `[capabilities]`
#
# ```toml
# [capabilities]
# budget_share = 0.08
# organization = 0.1
# infrastructure = 0.15
# perception = 0.15
# platform = 0.2
# services = 0.3
# digital_governance = 0.1
# ```
#
# - `budget_share`: the share of last year's tax revenue spent each year on building the six
#   capabilities (the parameter `government.capability_budget_share`, allowed 0-0.5).
# - `organization`, `infrastructure`, `perception`, `platform`, `services`,
#   `digital_governance`: how that budget is split (the parameters `government.share_NAME`,
#   each 0-1). The model divides them by their sum, so they need not add up to 1. A
#   capability you leave out keeps the share the preset gives it (see docs/parameters.md),
#   so list all six to be sure of the split.
#
# The whole section is optional; without it the preset's budget is used.
#
# ## Step 4: the initiatives, `[initiatives.NAME]`
#
# One section per initiative; `NAME` is an initiative name from Step 1:
#
# ```toml
# [initiatives.telehealth_elderly_care]
# financing = "ppp"
#
# [initiatives.digital_inclusion]
# financing = "government"
#
# [initiatives.privacy_protection]
# financing = "government"
# start_year = 1
# ```
#
# Each section may set (all optional):
#
# - `financing`: `"government"` (the default), `"ppp"`, `"franchise"` or
#   `"interest_aggregation"` -- the four financing models of white paper 5.3. The table in
#   docs/policies.md says, for each, the share of capital and operating cost the government
#   pays, the "fee recovery" (the share of the running cost that users pay back in fees when
#   half of them use it; fees come out of citizens' spending), the government's share of the
#   fees, the yearly risk that the private partner pulls out and the "uptake" factor by which
#   fees hold back the effect. A government-financed initiative is slowed down when the debt
#   rule cuts spending.
# - `start_year`: model year in which it starts (0-200; default 0 = at once; 1 = after the
#   first year).
# - `scale`: multiplies its costs and effects (0-10; default 1).
#
# Check the **prerequisites** of each initiative in docs/policies.md: an initiative needs
# capability levels (e.g. `telehealth_elderly_care` needs `services` 0.3 and `platform` 0.2)
# and district stocks (`ict` 0.4). Where they are not met it works only partly. If it needs a
# capability that starts below the required level and your package gives that capability no
# budget share (or a `budget_share` of 0), the package is refused before the run, with a
# message naming the initiative and the capability.
#
# ## Step 5: new infrastructure, `[new_infrastructure]`
#
# ```toml
# [new_infrastructure]
# "5g" = 0.02
# ```
#
# Each line is a kind of new infrastructure (`5g`, `data_centres`, `ai`,
# `industrial_internet`, `ev_charging`, `uhv_power`, `urban_rail`; see the table in
# docs/policies.md) and the public investment in it, in k per resident per year (0-10).
# Write `"5g"` in quotes to be safe. Capacity serves only the demand that exists ("new
# consumption"): building far ahead of demand shows as low `new_infrastructure_utilization`.
#
# ## Step 6: sector priorities, `[sectors]`
#
# ```toml
# [sectors]
# health = 1.0
# platform = 0.3
# ```
#
# Each line names a sector -- `manufacturing`, `services`, `logistics`, `creative`,
# `digital`, `health`, `platform` -- and its priority for new firms (0-10). A priority of 1.0
# doubles the sector's weight when an entering firm picks its sector; the number of entrants
# also rises a little (by the mean priority over the seven sectors). Priorities are not free:
# the government pays a start-up grant of 24 wage-months for each firm that enters because
# of them (booked with the initiatives' public cost).
#
# ## Step 7 (optional): other parameters, `[parameters]`
#
# Any model parameter from docs/parameters.md, written as `"section.name" = value` **with the
# quotes**. Without them TOML reads the dot as a nested table and the run stops with
# `unknown parameter 'government'; did you mean ...?` (the part before the dot):
#
# ```toml
# [parameters]
# "government.service_build_rate" = 0.15
# ```
#
# A parameter set here changes the city by fiat, at no cost unless the parameter is itself a
# spending (building service places faster costs their building cost). The shipped
# development paths therefore set only their capability budget, so that their comparison with
# the baseline is fair; `smartcity compare --budget equal` answers what a package does with
# the same public money as the baseline.
#
# The whole file, as this folder ships it:

# %%
print(PACKAGE.read_text())

# %% [markdown]
# ## Step 8: check it and run it
#
# A mistake (an unknown initiative, field or financing model, a value out of range, a
# prerequisite that can never be met) stops the command at once with one line saying what is
# wrong, exit status 2, and nothing written. Here is a package with a misspelt financing
# model:

# %%
broken = OUT / "broken_package.toml"
broken.write_text(PACKAGE.read_text().replace('financing = "ppp"', 'financing = "pp"'))
smartcity("run", "--policy", str(broken), "--years", "1", "--out", str(OUT / "broken"))
print(f"folder written: {(OUT / 'broken').exists()}")

# %% [markdown]
# The package as written runs. The command writes `metrics.parquet` (one row per month, one
# column per metric; formulas in docs/ODD.md, section 8) and `manifest.json` into `--out`.
# To compare with the baseline, run the same command with `--policy baseline`, another
# `--out` and the same `--seed` (default 1); `--quiet` leaves out the progress bar. Both
# runs are small and short here so that the notebook runs in seconds; a study would use more
# citizens and years.

# %%
for policy, folder in ((str(PACKAGE), "my_package"), ("baseline", "baseline")):
    smartcity("run", "--preset", "mature", "--policy", policy, "--years", "5",
              "--set", "citizens.count=2000", "--quiet", "--out", str(OUT / folder))  # fmt: skip

# %% [markdown]
# Read both runs back and compare the last month:

# %%
mine = pd.read_parquet(OUT / "my_package" / "metrics.parquet")
base = pd.read_parquet(OUT / "baseline" / "metrics.parquet")
cols = [
    "elderly_care_coverage",
    "digital_divide",
    "privacy_trust",
    "demand_advancement_index",
    "stage_telehealth_elderly_care",
    "stage_digital_inclusion",
    "stage_privacy_protection",
]
last = pd.DataFrame({"mine": mine[cols].iloc[-1], "baseline": base[cols].iloc[-1]})
print(last.round(4).to_string())

# %% [markdown]
# The `stage_NAME` columns show how far each initiative got: 1 function, 2 performance,
# 3 effectiveness (0 = not in the package or not started yet).
#
# From Python, `CityModel` builds the same city with the package, and its running initiatives
# can be inspected directly. `privacy_protection` has `start_year = 1`: after one year it
# has not started yet (stage 0), while the two initiatives that start at once work at stage
# 1 (function); run `model.run(years=1)` once more and it shows stage 1 too:

# %%
model = CityModel("mature", seed=1, policy=str(PACKAGE), citizens__count=2000)
model.run(years=1)
for initiative in model.policy_runtime.initiatives:
    print(f"{initiative.name:26s} stage {initiative.stage}")

# %% [markdown]
# An initiative of your own is a TOML file too: copy a file of `policies/initiatives/` (e.g.
# `smart_traffic.toml`) to a new file, give it a new `name = "..."` on its first line, change
# its costs, prerequisites or `[effects]` (the lever names, units and limits are listed in
# `simulation/world/levers.py`, class `Levers`, and in docs/effects.md), and use the file's
# path, in quotes, as the section name: `[initiatives."my_initiatives/my_init.toml"]`. A
# relative path is read from the folder you run the command in, not from the package's
# folder; an absolute path always works. Its stage is not among the `stage_NAME` metrics,
# which exist only for the shipped initiatives. A new *mechanism* in Python: see tutorial 4.
#
# ## Exercises
#
# Copy `03_my_package.toml` to a file of your own for each change, run it with the cells of
# Step 8 (set `PACKAGE` to your file) and write down your prediction first.
#
# 1. **Data islands.** Switch `unified_platform` to `false`. What happens to
#    `coordination_index` and to the initiatives' stages?
# 2. **Who pays.** Change the financing of `telehealth_elderly_care` to `"franchise"`: the
#    government pays nothing, but users pay fees, uptake is lower and the concessionaire may
#    quit. Compare `private_capital_mobilized`, `initiative_public_cost` and
#    `elderly_care_coverage` with your package as it was.
# 3. **Ahead of demand.** Put `"5g" = 2.0` in `[new_infrastructure]` and run it in an
#    emerging city (`--preset emerging`). What does `new_infrastructure_utilization` show,
#    and what happens to `debt_ratio`?
# 4. **A refused package.** Set `budget_share = 0` in `[capabilities]`. Which initiative
#    does the one-line error name, and why can it never reach its prerequisites?
# 5. **Placebo.** Make a package with the same `[capabilities]` as yours but no
#    `[initiatives]`. How much of the difference to the baseline was the capability budget
#    alone, and how much the initiatives?

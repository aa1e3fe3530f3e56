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
# # Tutorial 4: a new initiative mechanism in Python
#
# Most initiatives are TOML files (`policies/initiatives/*.toml`): they add to named
# *levers* (`[effects]`) and grow district stocks (`[district_growth]`). When you need a
# mechanism those tables cannot express, subclass `smartcity.policies.initiatives.Initiative`
# and override `apply(model, strength)`. The subclass keeps everything else of an
# initiative: its stages (function -> performance -> effectiveness), readiness, financing,
# costs and the strength that scales its effect (docs/ODD.md 7.7).
#
# What this notebook does, step by step:
#
# 1. The new mechanism lives in `tutorial_initiatives.py`, beside this notebook: class
#    `GreenCorridors` greens the most polluted districts and improves the health of the
#    elderly living there. `apply` is called every step with the current `strength`; it may
#    change `model.districts` stocks (arrays indexed by district), `model.citizens` columns
#    (arrays indexed by citizen), or add to this step's lever inputs
#    (`model.policy_runtime.inputs.add("emission_cut", 0.1 * strength)`), which the runtime
#    saturates into `model.levers` once every initiative has stepped.
# 2. Every initiative also needs a *spec*: a TOML file saying what it is (key issue, target
#    metric, costs, adoption signal, prerequisites). The notebook writes
#    `green_corridors.toml`.
# 3. A policy package runs it: the initiative's key is the spec's path, and
#    `class = "tutorial_initiatives:GreenCorridors"` names the Python class (`module:Class`;
#    the module must be importable by name, here because it is in the notebook's folder;
#    the folder you run a command in is never searched). **This package runs code**: the
#    model refuses it unless you opt in with `allow_code=True` (command line:
#    `--allow-code`), and imports the module only after that. Load such a package only from
#    someone you trust, as you would run their script. The notebook writes
#    `green_package.toml` and runs it and the baseline with the same seed.
# 4. It compares environmental quality, pollution and the health of the elderly, and checks
#    that a second way of plugging the class in -- appending an instance to
#    `model.policy_runtime.initiatives` after building the model -- gives the same run.
#
# From the command line the same package runs with (the module's folder on PYTHONPATH):
# `PYTHONPATH=docs/tutorials smartcity run --allow-code --policy OUT/green_package.toml \
# --out OUT/run`.
#
# Note: the per-initiative `stage_*` metrics exist only for the shipped initiatives; read a
# custom initiative's stage from `model.policy_runtime.initiatives`.
#
# **How to use it.** Open `04_new_initiative_in_python.ipynb` in Jupyter Lab, VS Code or any
# notebook viewer to see the outputs of the last run; run the cells from the top with
# `.venv/bin/python` as the kernel to run it yourself. The file you edit is
# `04_new_initiative_in_python.py` (the same notebook as plain Python, jupytext percent
# format). It also runs as a script from any folder
# (`.venv/bin/python docs/tutorials/04_new_initiative_in_python.py`; Python then finds
# `tutorial_initiatives.py` beside the script) and prints its tables. Files go to
# `results/tutorial04/` in the folder it runs in (next to the notebook in Jupyter).

# %%
import inspect
from pathlib import Path

import numpy as np
import pandas as pd
from tutorial_initiatives import GreenCorridors  # the module beside this notebook

from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.initiatives import load_initiative
from smartcity.simulation.model import CityModel

YEARS = 5
CITIZENS = 2000
SEED = 1
# A relative path in a package is read from the working folder (this notebook's folder).
OUT = Path("results") / "tutorial04"
OUT.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Step 1: the mechanism
#
# This is the whole class; `per_step` turns a yearly rate into the rate of one step.

# %%
print(inspect.getsource(GreenCorridors))

# %% [markdown]
# ## Steps 2 and 3: the spec, and the package that runs the Python class

# %%
SPEC = """name = "green_corridors"
title = "Green corridors in the most polluted districts"
key_issue = "environmental_pollution"
source = "white paper Table 1 (environmental pollution); tutorial 04"
description = "Trees and green roofs where pollution is worst; better health for the elderly."
target_metric = "pollution"
direction = "down"
capital_cost = 0.03     # k per resident, spent over build_years
operating_cost = 0.005  # k per resident-year
build_years = 1.0
adoption = "operability"  # a public works programme: no uptake by users needed
"""

PACKAGE = """title = "Green corridors"
source = "tutorial 04"
description = "One Python initiative, government-financed."
unified_platform = false

[initiatives."{spec}"]
financing = "government"
class = "tutorial_initiatives:GreenCorridors"
"""

spec_path = OUT / "green_corridors.toml"
spec_path.write_text(SPEC)
package_path = OUT / "green_package.toml"
package_path.write_text(PACKAGE.format(spec=spec_path.as_posix()))
print(package_path.read_text())

# %% [markdown]
# ## Run the baseline and the package, same seed

# %%
size = {"citizens__count": CITIZENS}
baseline = CityModel("mature", seed=SEED, **size)
baseline.run(YEARS)
# The package names a Python class: it runs code, so it loads only with allow_code.
green = CityModel("mature", seed=SEED, policy=str(package_path), allow_code=True, **size)
running = green.policy_runtime.initiatives[0]
assert isinstance(running, GreenCorridors)
green.run(YEARS)


# %% [markdown]
# ## Step 4: compare what the new mechanism should move


# %%
def summary(model: CityModel) -> dict[str, float]:
    """What the new mechanism should move."""
    d, c = model.districts, model.citizens
    elderly = c.age >= model.params.citizens.retirement_age
    frame = model.metrics_frame()
    return {
        "mean environment quality": float(d.environment.mean()),
        "pollution (metric)": float(frame["pollution"].iloc[-1]),
        "elderly health": float(c.health[elderly].mean()),
        "governance_index": float(frame["governance_index"].iloc[-1]),
    }


table = pd.DataFrame({"baseline": summary(baseline), "green corridors": summary(green)})
table["difference"] = table["green corridors"] - table["baseline"]
table.to_csv(OUT / "green_corridors.csv", index_label="quantity")
print(f"initiative stage: {running.stage} (1 function, 2 performance, 3 effectiveness)")
print(table.round(4).to_string())

# %% [markdown]
# The second way: build the model without a package and append the initiative by hand. With
# the same seed it must give exactly the same run.

# %%
by_hand = CityModel("mature", seed=SEED, **size)
by_hand.policy_runtime.initiatives.append(
    GreenCorridors(
        load_initiative(str(spec_path)),
        FINANCING_MODELS["government"],
        start_year=0.0,
        scale=1.0,
    )
)
by_hand.run(YEARS)
same = np.array_equal(by_hand.districts.environment, green.districts.environment)
print(f"appending the instance by hand gives the same run: {same}")
print(f"wrote {package_path} and {OUT / 'green_corridors.csv'}")

# %% [markdown]
# ## Exercises
#
# Predict first, then edit and run. After changing `tutorial_initiatives.py`, restart the
# kernel (Python imports a module once).
#
# 1. **Stronger greening.** Double `ENVIRONMENT_RATE` in `tutorial_initiatives.py`. Does the
#    `pollution (metric)` difference double too? Why might it not?
# 2. **Money is never free.** Multiply `capital_cost` and `operating_cost` in `SPEC` by ten.
#    What happens to the stage the initiative reaches and to the government's `debt_ratio`
#    (a column of `green.metrics_frame()`)?
# 3. **Placebo.** Write a subclass whose `apply` only calls `super().apply(model, strength)`
#    (no greening) and run it with the same spec. Which differences to the baseline remain,
#    and where do they come from?
# 4. **Target differently.** Change `targeted` to green the *least* polluted quarter of the
#    districts instead. Predict the effect on `elderly health` and on the pollution metric.
# 5. **Later start.** Add `start_year = 2` to the package's initiative section. How do the
#    differences after five years change?

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
# # Tutorial 0: a first model -- one rule, one metric, one run
#
# The smallest change a modeller makes: add **one behaviour rule** to the city, measure it
# with **one metric**, and **run** the city with and without the rule under the same seed.
# The rule here: grandchildren teach e-government. Every year a share of the elderly who do
# not use e-government yet start using it with a younger relative's help (white paper 4.1:
# the aging city and the digital divide).
#
# **How to use it.** Open `00_first_model.ipynb` in Jupyter Lab, VS Code or any notebook
# viewer to see the outputs of the last run; run the cells from the top with
# `.venv/bin/python` as the kernel to run it yourself. The file you edit is
# `00_first_model.py` (the same notebook as plain Python, jupytext percent format). It also
# runs as a script from any folder (`.venv/bin/python docs/tutorials/00_first_model.py`)
# and prints its table. Files go to `results/tutorial00/` in the folder it runs in.

# %%
from pathlib import Path

import mesa
import pandas as pd

from smartcity.simulation.model import CityModel
from smartcity.simulation.world.vocabulary import DIGITAL_SERVICES, per_step

E_GOVERNMENT = DIGITAL_SERVICES.index("e_government")  # a column of citizens.adopted
OUT = Path("results") / "tutorial00"
OUT.mkdir(parents=True, exist_ok=True)


# %% [markdown]
# ## One rule
#
# A rule is a function of the model, named as a verb. Citizens are rows of arrays
# (`model.citizens.age`, `model.citizens.adopted`, ...), so a rule acts on all of them at
# once; random draws come from `model.rng`, so the same seed gives the same run.


# %%
def teach_elderly_e_government(model: CityModel, yearly_rate: float = 0.3) -> None:
    """Each elderly non-user starts using e-government with a yearly hazard yearly_rate."""
    c = model.citizens
    elderly = c.age >= model.params.citizens.retirement_age
    draw = model.rng.random(len(c)) < per_step(model, yearly_rate)  # a monthly probability
    c.adopted[elderly & ~c.adopted[:, E_GOVERNMENT] & draw, E_GOVERNMENT] = True


class TeachingCity(CityModel):
    """The city with the rule, applied after every step (one month)."""

    def step(self) -> None:
        super().step()
        teach_elderly_e_government(self)


city = CityModel("mature", seed=1, citizens__count=2000)  # try the rule once on a city
users = city.citizens.adopted[:, E_GOVERNMENT].sum()
teach_elderly_e_government(city)
print(f"one month of the rule: {city.citizens.adopted[:, E_GOVERNMENT].sum() - users} new users")


# %% [markdown]
# ## One metric
#
# A metric is a function of the model that returns a number: a Mesa model reporter.


# %%
def elderly_e_government_share(model: CityModel) -> float:
    """Share of the elderly (at or above the retirement age) using e-government."""
    c = model.citizens
    return float(c.adopted[c.age >= model.params.citizens.retirement_age, E_GOVERNMENT].mean())


print(
    f"share of the elderly using e-government in that city: {elderly_e_government_share(city):.3f}"
)


# %% [markdown]
# ## One run, with and without the rule, same seed


# %%
rows = {}
for label, city in (("without", CityModel), ("with the rule", TeachingCity)):
    model = city("mature", seed=1, citizens__count=2000)
    mine = mesa.DataCollector(model_reporters={"elderly_e_gov": elderly_e_government_share})
    for _ in range(5 * model.steps_per_year):
        model.step()
        mine.collect(model)
    rows[label] = {
        "elderly_e_gov": mine.get_model_vars_dataframe()["elderly_e_gov"].iloc[-1],
        "digital_divide": model.metrics_frame()["digital_divide"].iloc[-1],
    }
table = pd.DataFrame(rows).T
table.to_csv(OUT / "first_model.csv", index_label="run")
print("after 5 years:")
print(table.round(3).to_string())

# %% [markdown]
# Your own metric (`elderly_e_gov`) says what the rule does; the model's `digital_divide`
# (adoption of adults under 40 minus that of the elderly, averaged over the four digital
# services) says what it does to the gap: compare the two rows (a negative divide means
# the elderly now use more services than the young). The model's own metrics are recorded
# inside `step` before the rule runs, so they see its effect one month late.
#
# ## Exercises
#
# 1. **Dose.** Call the rule with `yearly_rate=0.1` and `yearly_rate=1.0`. Does the
#    elderly share rise in proportion to the rate? Why not (who is left to teach)?
# 2. **Who is old?** Run it on `"emerging"`, a younger city. Does the same rule close more
#    or less of the digital divide there, and why?
# 3. **Side effects.** Add `"privacy_trust"` and `"demand_advancement_index"` from
#    `model.metrics_frame()` to the table. Does e-government use by the elderly move them?
# 4. **Noise.** Change `seed=1` to `seed=2` and `seed=3`. Is the difference between the two
#    runs larger than the change between seeds?

"""Tutorial 4: a new initiative mechanism in Python.

Most initiatives are TOML files (policies/initiatives/*.toml): they add to named *levers*
(``[effects]``) and grow district stocks (``[district_growth]``). When you need a mechanism
those tables cannot express, subclass ``policies.initiatives.Initiative`` and override
``apply(model, strength)``. The subclass keeps everything else of an initiative: its
stages (function -> performance -> effectiveness), readiness, financing, costs and the
strength that scales its effect (docs/ODD.md 7.7).

What this script does, step by step:

1. The new mechanism lives in ``docs/tutorials/tutorial_initiatives.py``: class
   ``GreenCorridors`` greens the most polluted districts and improves the health of the
   elderly living there. ``apply`` is called every step with the current ``strength``; it
   may change ``model.districts`` stocks (arrays indexed by district), ``model.citizens``
   columns (arrays indexed by citizen), or add to ``model.levers``.
2. Every initiative also needs a *spec*: a TOML file saying what it is (key issue, target
   metric, costs, adoption signal, prerequisites). The script writes
   ``green_corridors.toml`` into the output folder.
3. A policy package runs it: the initiative's key is the spec's path, and ``class =
   "tutorial_initiatives:GreenCorridors"`` names the Python class (``module:Class``; the
   module must be importable by name, here because this script's folder is on
   ``sys.path``; the folder you run a command in is never searched). **This package runs
   code**: the model refuses it unless you opt in with ``allow_code=True`` (command line:
   ``--allow-code``), and imports the module only after that. Load such a package only
   from someone you trust, as you would run their script. The script writes
   ``green_package.toml`` and runs it and the baseline with the same seed.
4. It compares environmental quality, pollution and the health of the elderly, and checks
   that a second way of plugging the class in -- appending an instance to
   ``model.policy_runtime.initiatives`` after building the model, handy in a notebook --
   gives the same run.

From the command line the same package runs with (the module folder on PYTHONPATH):
    PYTHONPATH=docs/tutorials smartcity run --allow-code --policy OUT/green_package.toml \
        --out OUT/run

Note: the per-initiative ``stage_*`` metrics exist only for the shipped initiatives; read
a custom initiative's stage from ``model.policy_runtime.initiatives``.

Run:  .venv/bin/python docs/tutorials/04_new_initiative_in_python.py --out results/tutorial04
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from tutorial_initiatives import GreenCorridors  # the module beside this script

from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.initiatives import load_initiative
from smartcity.simulation.model import CityModel

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output folder (default: a new temporary folder)")
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="tutorial04_")).resolve()
    out.mkdir(parents=True, exist_ok=True)

    # Step 2: the spec. Step 3: the package that runs the Python class.
    spec_path = out / "green_corridors.toml"
    spec_path.write_text(SPEC)
    package_path = out / "green_package.toml"
    package_path.write_text(PACKAGE.format(spec=spec_path.as_posix()))

    size = {"citizens__count": args.citizens}
    baseline = CityModel("mature", seed=args.seed, **size)
    baseline.run(args.years)
    # The package names a Python class: it runs code, so it loads only with allow_code.
    green = CityModel("mature", seed=args.seed, policy=str(package_path), allow_code=True, **size)
    running = green.policy_runtime.initiatives[0]
    assert isinstance(running, GreenCorridors)
    green.run(args.years)

    # Step 4: compare, and check the notebook way gives the same run.
    table = pd.DataFrame({"baseline": summary(baseline), "green corridors": summary(green)})
    table["difference"] = table["green corridors"] - table["baseline"]
    table.to_csv(out / "green_corridors.csv", index_label="quantity")
    print(table.round(4).to_string())
    print(f"initiative stage: {running.stage} (1 function, 2 performance, 3 effectiveness)")

    by_hand = CityModel("mature", seed=args.seed, **size)
    by_hand.policy_runtime.initiatives.append(
        GreenCorridors(
            load_initiative(str(spec_path)),
            FINANCING_MODELS["government"],
            start_year=0.0,
            scale=1.0,
        )
    )
    by_hand.run(args.years)
    same = np.array_equal(by_hand.districts.environment, green.districts.environment)
    print(f"appending the instance by hand gives the same run: {same}")
    print(f"wrote {package_path} and {out / 'green_corridors.csv'}")


if __name__ == "__main__":
    main()

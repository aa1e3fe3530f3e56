"""docs/effects.md: every effect coefficient with its range and source, every lever's limit,
and each path's 20-year GDP gain per unit of extra public spending beside the published
range of public-investment multipliers.

The coefficient and lever tables are generated from the initiative TOMLs and the lever
metadata; the multipliers are measured runs, kept in docs/effects_multipliers.csv. Both
are re-made with ``python tests/test_effects_doc.py`` (``--measure`` re-runs the
multipliers: 6 paths and the baseline on their home presets, 3 paired replications,
10,000 citizens, 20 years, own budgets).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from smartcity.policies.catalog import effects_markdown
from smartcity.policies.initiatives import initiative_names, load_initiative
from smartcity.simulation.world.levers import lever_specs

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "effects.md"
MULTIPLIERS = ROOT / "docs" / "effects_multipliers.csv"
MEASURE = dict(replications=3, citizens=10_000, years=20)


def test_every_shipped_coefficient_has_a_range_and_a_source():
    for name in initiative_names():
        spec = load_initiative(name)
        for key, value in {**spec.effects, **spec.district_growth}.items():
            evidence = spec.evidence_for(key)
            assert evidence is not None, f"{name}: {key} has no [evidence]"
            low, high = evidence.range
            assert low <= value <= high and evidence.source.strip(), f"{name}: {key}"


def test_the_robustness_study_varies_every_lever_limit_over_its_plausible_range():
    spec = tomllib.loads((ROOT / "docs" / "robustness" / "paths.toml").read_text())
    for name, lever in lever_specs().items():
        assert spec["uncertainties"][f"levers.{name}"] == list(lever.plausible), name


def test_effects_doc_is_current():
    written = DOC.read_text()
    expected = effects_markdown(pd.read_csv(MULTIPLIERS).to_dict("records"), MEASURE)
    assert written == expected, "docs/effects.md is stale: run `python tests/test_effects_doc.py`"


def measure_multipliers() -> pd.DataFrame:
    """Per path on its home preset: cumulative GDP over 20 years and cumulative public
    spending against the baseline of the same seed; the multiplier is their ratio."""
    from smartcity import CityModel
    from smartcity.experiments import model

    def totals(preset: str, policy: str | None, seed: int) -> tuple[float, float]:
        city = CityModel(preset, seed=seed, policy=policy, citizens__count=MEASURE["citizens"])
        city.run(MEASURE["years"])
        frame = city.metrics_frame()
        gdp = frame["gdp"].iloc[1:].sum() / city.steps_per_year  # M over the run
        return gdp, frame["public_spending"].iloc[-1]

    rows, baselines = [], {}
    for path in model.development_paths():
        preset = model.package_home(path)
        for seed in range(1, MEASURE["replications"] + 1):
            if (preset, seed) not in baselines:
                baselines[(preset, seed)] = totals(preset, None, seed)
            (gdp0, spent0), (gdp1, spent1) = baselines[(preset, seed)], totals(preset, path, seed)
            rows.append(dict(package=path, preset=preset, replication=seed,
                             gdp_gain=gdp1 - gdp0, extra_spending=spent1 - spent0))  # fmt: skip
    frame = pd.DataFrame(rows)
    summary = frame.groupby(["package", "preset"], as_index=False)[
        ["gdp_gain", "extra_spending"]
    ].mean()
    ratios = frame.assign(ratio=frame["gdp_gain"] / frame["extra_spending"])
    spread = ratios.groupby("package")["ratio"].agg(["min", "max"]).reset_index()
    summary = summary.merge(spread, on="package")
    summary["multiplier"] = summary["gdp_gain"] / summary["extra_spending"]
    summary["note"] = ""  # written by hand for a path above HIGH_MULTIPLIER
    return summary.round(4)


if __name__ == "__main__":
    if "--measure" in sys.argv:
        measure_multipliers().to_csv(MULTIPLIERS, index=False)
    records = pd.read_csv(MULTIPLIERS).to_dict("records")
    DOC.write_text(effects_markdown(records, MEASURE))
    print(f"wrote {DOC.relative_to(ROOT)}", np.round([r["multiplier"] for r in records], 2))

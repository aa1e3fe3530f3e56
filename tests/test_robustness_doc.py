"""docs/robustness.md is what its generator writes from the study's stored results.

The study itself (about 400 runs) is not rerun here: docs/robustness/ keeps its compact
results, and rendering them is cheap. After a change of the model's mechanisms, rerun the
study with `python -m smartcity.experiments.robustness` (it rewrites the CSVs and the page).
"""

from __future__ import annotations

import re
import shutil

import pandas as pd

from smartcity.experiments import explore, robustness


def test_robustness_page_is_current() -> None:
    expected = robustness.render(robustness.DATA)
    assert robustness.DOCUMENT.read_text(encoding="utf-8") == expected, (
        "docs/robustness.md is stale: run `python -m smartcity.experiments.robustness --render`"
        " (or without --render to rerun the study)"
    )


def test_stored_results_are_the_study_its_spec_describes(tmp_path) -> None:
    exploration = explore.load_exploration(robustness.DATA / robustness.PATHS_SPEC, tmp_path)
    table = pd.read_csv(robustness.DATA / robustness.PATHS_TABLE)
    paths = [p for p in exploration.mixes if p != exploration.reference]
    assert len(table) == len(exploration.spec.presets) * len(paths) * len(exploration.scenarios)
    for factor in exploration.uncertainties:
        assert table[factor.key].between(factor.low, factor.high).all()
    for preset in robustness.PRESETS:
        front = pd.read_csv(robustness.DATA / robustness.front_table(preset))
        assert len(front) >= 1 and set(robustness.INDEX_GAINS) <= set(front.columns)


def test_the_page_renders_with_an_uncertainty_the_generator_does_not_know(tmp_path) -> None:
    """Another range in the spec (e.g. a lever limit) is one more row, not an error."""
    data = tmp_path / "robustness"
    shutil.copytree(robustness.DATA, data)
    spec = data / robustness.PATHS_SPEC
    spec.write_text(
        spec.read_text().replace(
            "[uncertainties]\n", '[uncertainties]\n"firms.entry_rate" = [0.05, 0.09]\n'
        ),
        encoding="utf-8",
    )
    table = pd.read_csv(data / robustness.PATHS_TABLE)
    table["firms.entry_rate"] = 0.05 + 0.04 * table["design_point"] / table["design_point"].max()
    table.to_csv(data / robustness.PATHS_TABLE, index=False)
    scores = pd.read_csv(data / robustness.LEAD_SCORES, index_col="coefficient")
    scores.loc["firms.entry_rate"] = 0.0
    scores.to_csv(data / robustness.LEAD_SCORES)
    known = int(
        re.search(r"Latin hypercube over (\d+) coefficients", robustness.render(robustness.DATA))[1]
    )
    page = robustness.render(data)
    assert "| `firms.entry_rate` | 0.05 | 0.09 |" in page
    assert f"Latin hypercube over {known + 1} coefficients, each over the range the table" in page

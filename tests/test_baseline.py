"""The regression baseline (tests/baseline.json, made by tests/update_baseline.py): the
headline metrics of every shipped preset under the baseline and its own development paths,
3 seeds, 5 years, small cities, are those stored, within floating-point noise (relative
1e-6). A failure prints every value that moved (metric@year, run, old, new); an intended
change is accepted with ``.venv/bin/python tests/update_baseline.py --reason "..."`` and a
commit of tests/baseline.json on its own."""

from __future__ import annotations

import pytest
from update_baseline import (
    RELATIVE_TOLERANCE,
    SEEDS,
    baseline_runs,
    compute_baseline,
    drift,
    drift_report,
    read_baseline,
    run_key,
    settings,
)


def test_baseline_covers_every_preset_and_its_paths_under_todays_settings():
    """A preset or path added since the last update, or changed settings, mean the
    baseline must be recomputed (with its reason)."""
    stored = read_baseline()
    assert stored["reason"].strip()
    assert stored["settings"] == settings(), "tests/baseline.json has other settings: update it"
    expected = {run_key(p, q, s) for p, q in baseline_runs() for s in SEEDS}
    missing, extra = expected - set(stored["runs"]), set(stored["runs"]) - expected
    assert not missing and not extra, (
        f"tests/baseline.json lacks {sorted(missing)[:5]} and has {sorted(extra)[:5]}: "
        'run .venv/bin/python tests/update_baseline.py --reason "..."'
    )


def test_drift_names_the_metric_the_run_and_both_values():
    """The check itself: noise passes, a move beyond the tolerance, a new or a lost value
    and a NaN that appears are each reported with metric, run, old and new."""
    stored = {"mature/baseline/seed1": {"gdp_per_capita@5": 100.0, "population@5": 0.0}}
    noise = {"mature/baseline/seed1": {"gdp_per_capita@5": 100.0 * (1 + RELATIVE_TOLERANCE / 2),
                                       "population@5": 0.0}}  # fmt: skip
    assert list(drift(stored, noise)) == []
    changed = {
        "mature/baseline/seed1": {"gdp_per_capita@5": 100.01, "population@5": float("nan")},
        "mature/placebo/seed1": {"gdp_per_capita@5": 1.0},
    }
    rows = list(drift(stored, changed))
    assert ("gdp_per_capita@5", "mature/baseline/seed1", 100.0, 100.01) in rows
    assert ("gdp_per_capita@5", "mature/placebo/seed1", None, 1.0) in rows
    assert any(m == "population@5" and r == "mature/baseline/seed1" for m, r, _, _ in rows)
    report = drift_report(rows)
    assert "gdp_per_capita@5" in report and "100 -> 100.01" in report
    assert "update_baseline.py --reason" in report


@pytest.mark.slow
def test_metrics_match_the_baseline():
    """Every stored run recomputed today gives its stored headline metrics (about a minute:
    102 runs of 1,500 citizens over 5 years)."""
    rows = list(drift(read_baseline()["runs"], compute_baseline()))
    assert not rows, drift_report(rows)

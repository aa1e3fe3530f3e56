"""`smartcity validate` (experiments/validation.py): the case cities against the white paper."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smartcity.cli import main
from smartcity.experiments.validation import (
    CASES,
    CaseRuns,
    evaluate,
    generated_part,
    validation_markdown,
)

ROOT = Path(__file__).resolve().parents[1]


def test_reduced_validate_writes_its_report_and_exit_status(tmp_path: Path, capsys) -> None:
    """Small cities, 2 replications, 2 years: every output is written, one line per pattern,
    and the exit status says whether every pattern held."""
    out = tmp_path / "val"
    argv = ["validate", "--out", str(out), "--replications", "2", "--years", "2",
            "--citizens", "500", "--workers", "1"]  # fmt: skip
    status = main(argv)
    table = pd.read_csv(out / "validation.csv")
    patterns = sum(len(case.patterns) for case in CASES) + 2
    assert len(table) == patterns
    assert status == (0 if table["holds"].all() else 1)
    lines = [line for line in capsys.readouterr().out.splitlines() if " holds " in line
             or " FAILS " in line]  # fmt: skip
    assert len(lines) == patterns
    assert {"london", "paris", "tokyo", "hamburg", "tel-aviv", "shenzhen", "both-models"} == set(
        table["case"]
    )
    for case in table["case"].unique():
        assert (out / "figures" / f"{case}.png").stat().st_size > 0
    assert (out / "validation.md").read_text().count("\n| ") == patterns + 1
    # A rerun reuses the stored runs and gives the same table.
    assert main(argv) == status
    pd.testing.assert_frame_equal(pd.read_csv(out / "validation.csv"), table)


def _synthetic(creative_growth: float) -> pd.DataFrame:
    """Two replications of a London-like case over years 0-5, path and baseline."""
    rows = []
    for policy in ("baseline", "mature-reactivate"):
        for replication in (0, 1):
            for year in range(6):
                gdp = 100 * 1.01**year
                rows.append(
                    {
                        "preset": "london", "policy": policy, "replication": replication,
                        "year": float(year), "step": 12 * year, "gdp": gdp,
                        "employment": 1000.0, "jobs_creative": 100.0,
                        "value_added_creative": 12 * (1 + creative_growth) ** year,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("growth", "holds"), [(0.03, True), (0.015, False)])
def test_creative_growth_pattern_follows_the_runs(growth: float, holds: bool) -> None:
    """Creative value added growing 3% a year against GDP's 1% passes 'more than twice';
    1.5% does not."""
    london = next(case for case in CASES if case.name == "london")
    table = evaluate(_synthetic(growth), cases=[london])
    row = table[table["pattern"] == "creative growth over twice total growth"].iloc[0]
    assert bool(row["holds"]) is holds
    assert row["mean"] == pytest.approx(growth - 2 * 0.01, abs=1e-9)
    assert table[table["pattern"] == "creative share of value added above 10%"]["holds"].all()


def test_paired_difference_is_taken_per_replication() -> None:
    runs = CaseRuns(_synthetic(0.02), "london", "mature-reactivate")
    assert np.allclose(runs.vs_baseline("gdp"), 0.0)


def test_a_pattern_year_beyond_the_horizon_is_not_evaluated() -> None:
    """Runs kept to year 5 have no year 10 and no growth from year 1 to year 1: such a
    statistic is NaN (the pattern does not hold), not the last year's value under the
    year-10 label."""
    runs = CaseRuns(_synthetic(0.02), "london", "mature-reactivate")
    assert np.isnan(runs.at("gdp", 10)).all() and np.isfinite(runs.at("gdp", 5)).all()
    short = _synthetic(0.02)
    short = CaseRuns(short[short["year"] <= 1], "london", "mature-reactivate")
    assert np.isnan(short.growth("gdp")).all()


def _hamburg_like(gain: float) -> pd.DataFrame:
    """Three replications of a Hamburg-like case, years 0-2: the path's logistics value
    added is the baseline's plus ``gain`` with a little replication noise."""
    rows = []
    for policy in ("baseline", "mature-rebuild-advantage"):
        for replication in range(3):
            for year in range(3):
                extra = (gain + 0.1 * (replication - 1)) if policy != "baseline" else 0.0
                rows.append(
                    {
                        "preset": "hamburg", "policy": policy, "replication": replication,
                        "year": float(year), "step": 12 * year,
                        "value_added_logistics": 50.0 + year + extra,
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("gain", "holds"), [(0.0, False), (0.05, False), (1.0, True)])
def test_an_effect_pattern_holds_only_beyond_the_paired_noise(gain: float, holds: bool) -> None:
    """A path that does nothing gives exactly 0 against the baseline on paired seeds: it must
    not pass 'recovers against the baseline'; nor may a gain the interval does not separate
    from 0; a clear gain does."""
    hamburg = next(case for case in CASES if case.name == "hamburg")
    pattern = next(p for p in hamburg.patterns if p.statistic.__name__ == "<lambda>"
                   and "value added" in p.name)  # fmt: skip
    only = dataclasses.replace(hamburg, patterns=(pattern,))
    row = evaluate(_hamburg_like(gain), cases=[only]).iloc[0]
    assert bool(row["holds"]) is holds
    assert row["criterion"] == ">= 0, 95% CI above 0"


def test_docs_validation_is_current() -> None:
    """The generated block of docs/validation.md is the rendering of docs/validation.csv
    (regenerate with the command it names, copy OUT/validation.csv into docs/ and the block
    between the markers of OUT/validation.md over the one in docs/validation.md)."""
    text = (ROOT / "docs" / "validation.md").read_text()
    command = re.search(r"Command: `([^`]+)`", text).group(1)
    table = pd.read_csv(ROOT / "docs" / "validation.csv")
    assert generated_part(text) == validation_markdown(table, command)


def test_docs_validation_says_why_each_failing_pattern_fails() -> None:
    """The hand-written section 'Why these patterns fail' has one '### case: pattern'
    entry for each pattern that fails in docs/validation.csv, and none for one that holds."""
    text = (ROOT / "docs" / "validation.md").read_text()
    why = text.split("\n## Why these patterns fail\n", 1)[1].split("\n## ", 1)[0]
    entries = set(re.findall(r"^### (.+)$", why, flags=re.MULTILINE))
    table = pd.read_csv(ROOT / "docs" / "validation.csv")
    failing = {f"{row.case}: {row.pattern}" for row in table.itertuples() if not row.holds}
    assert entries == failing


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_case_preset_number_names_its_source(case) -> None:
    """Each number a case preset sets carries a source: a comment on its line or on the
    lines just above its group of settings."""
    lines = (
        (ROOT / "simulation" / "world" / "presets" / f"{case.preset}.toml").read_text().splitlines()
    )
    sourced = False
    for line in lines:
        text = line.strip()
        if text.startswith("#"):
            sourced = True
        elif not text or text.startswith("["):
            sourced = False
        elif re.match(r"^[\w.]+\s*=\s*[-+0-9.]", text):
            assert sourced or "#" in text, f"{case.preset}.toml: no source for {text!r}"

"""Statistical cross-check of the engine against the engine before the fast-engine work.

tests/data/engine_before.json holds, for 20 seeds of a small mature and emerging city
(benchmarks/engine_baseline.py), the headline metrics and the three indices at years 5 and
20 as the engine before issue 22 computed them (per-rule compaction, metrics through
DataCollector lists every step, numpy rules). The current engine runs the same seeds,
recording yearly, and every metric's mean must lie within TOLERANCE_SE combined standard
errors of the stored one, sqrt(se_now^2 + se_before^2). With 36 comparisons, 4 standard
errors keeps a false alarm from sampling noise below 0.3%; a change of a rule's parameter
or term moves these means by many standard errors. (The engine's changes keep the same
floating-point operations in the same order, so today the two samples are equal seed by
seed; the statistical form lets a later kernel round differently.) The seeds are fixed,
so the test is deterministic.

After a change of the model's rules (not of the engine), re-make the JSON from the commit
before the engine work with those rules, as benchmarks/engine_baseline.py says.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import engine_baseline

BEFORE = Path(__file__).parent / "data" / "engine_before.json"
TOLERANCE_SE = 4.0


@pytest.fixture(scope="module")
def samples() -> tuple[dict, dict]:
    before = json.loads(BEFORE.read_text())
    assert before["seeds"] == engine_baseline.SEEDS
    assert before["citizens"] == engine_baseline.CITIZENS
    return before["presets"], engine_baseline.distribution(record="yearly")


def _within_noise(now: list[float], before: list[float]) -> tuple[bool, float, float]:
    now_a, before_a = np.asarray(now), np.asarray(before)
    se = np.sqrt(now_a.var(ddof=1) / len(now_a) + before_a.var(ddof=1) / len(before_a))
    diff = now_a.mean() - before_a.mean()
    return bool(abs(diff) <= TOLERANCE_SE * se + 1e-12), float(diff), float(se)


@pytest.mark.slow
@pytest.mark.parametrize("preset", engine_baseline.PRESETS)
def test_engine_gives_the_distribution_of_the_engine_before(samples, preset):
    before, now = samples
    bad = []
    for metric in engine_baseline.METRICS:
        for year in map(str, engine_baseline.YEARS):
            ok, diff, se = _within_noise(now[preset][metric][year], before[preset][metric][year])
            if not ok:
                bad.append(f"{metric} year {year}: mean moved by {diff:.4g} (se {se:.3g})")
    assert not bad, f"{preset}: " + "; ".join(bad)


def test_the_check_tells_a_shifted_distribution_apart():
    """Power: the stored mature GDP per capita at year 20 shifted by two of its seeds'
    standard deviations (about 20%, a change of a rule's term) is refused."""
    before = json.loads(BEFORE.read_text())["presets"]["mature"]["gdp_per_capita"]["20"]
    shifted = list(np.asarray(before) + 2 * np.std(before, ddof=1))
    assert _within_noise(before, before)[0]
    assert not _within_noise(shifted, before)[0]

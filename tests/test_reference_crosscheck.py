"""Statistical cross-check of the vectorized citizens' rules against the per-agent Mesa
reference (benchmarks/reference_agents.py).

From one model state, each rule is applied SEEDS times by the vectorized engine and SEEDS
times by the per-agent reference, each replicate with its own seed. The two samples of
every aggregate outcome (number hired, number moving, resulting population of each
district, new adopters of each service) must have means within TOLERANCE_SE combined
standard errors, sqrt(se_vectorized^2 + se_reference^2). With about 20 outcomes compared,
4 standard errors keeps the chance of a false alarm from sampling noise below 0.1%, while a
rule that differs in a parameter or a term shifts these means by many standard errors.
The seeds are fixed, so the test is deterministic.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks import reference_agents as ra

SEEDS = 20
CITIZENS = 2000
TOLERANCE_SE = 4.0


@pytest.fixture(scope="module")
def city():
    return ra.prepare_city("mature", CITIZENS, seed=7)


def _samples(city, rule: str, apply) -> dict[str, np.ndarray]:
    before = ra.snapshot(city)
    rows = []
    for seed in range(SEEDS):
        ra.restore(city, before)
        apply(city, rule, 1000 + seed)
        rows.append(ra.outcome(city, before))
    ra.restore(city, before)
    return {key: np.array([r[key] for r in rows], dtype=float) for key in rows[0]}


def _assert_same_distribution(vec: np.ndarray, ref: np.ndarray, name: str) -> None:
    vec, ref = vec.reshape(SEEDS, -1), ref.reshape(SEEDS, -1)
    diff = vec.mean(axis=0) - ref.mean(axis=0)
    se = np.sqrt(vec.var(axis=0, ddof=1) / SEEDS + ref.var(axis=0, ddof=1) / SEEDS)
    bad = np.abs(diff) > TOLERANCE_SE * se + 1e-9
    assert not bad.any(), (
        f"{name}: vectorized mean {vec.mean(axis=0)[bad]} vs reference {ref.mean(axis=0)[bad]}"
        f" differ by more than {TOLERANCE_SE} standard errors ({se[bad]})"
    )


@pytest.mark.parametrize(
    ("rule", "outcomes"),
    [
        ("search_jobs", ["hired"]),
        ("choose_residence", ["moved", "district_population"]),
        ("adopt_digital_services", ["new_adopters"]),
    ],
)
def test_vectorized_rule_matches_per_agent_reference(city, rule, outcomes):
    vec = _samples(city, rule, ra.apply_vectorized)
    ref = _samples(city, rule, ra.apply_reference)
    for name in outcomes:
        _assert_same_distribution(vec[name], ref[name], f"{rule}: {name}")
    # The rule did something in this state, so the comparison has content.
    assert sum(vec[name].sum() for name in outcomes) > 0


def test_crosscheck_detects_a_wrong_rule(city):
    """Power check: a reference with twice the job-search rate is told apart."""
    vec = _samples(city, "search_jobs", ra.apply_vectorized)
    params = city.params
    doubled = dataclasses.replace(
        params.citizens, job_search_rate=2 * params.citizens.job_search_rate
    )
    wrong = dataclasses.replace(params, citizens=doubled)
    city.params = wrong
    try:
        ref = _samples(city, "search_jobs", ra.apply_reference)
    finally:
        city.params = params
    with pytest.raises(AssertionError):
        _assert_same_distribution(vec["hired"], ref["hired"], "hired")

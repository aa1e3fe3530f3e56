"""Invariants after every step, checked independently of simulation.model.invariants, and the
checker's own reaction to corrupted state."""

from __future__ import annotations

import re

import numpy as np
import pytest

from smartcity.agents.government import REVENUE_ACCOUNTS
from smartcity.simulation.model.invariants import check_invariants
from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.world.errors import InvariantError
from smartcity.simulation.world.vocabulary import CAPABILITY_NAMES, INDEX_METRICS

YEARS = 2


@pytest.fixture(scope="module", params=["mature", "emerging"])
def step_log(request, make_city):
    """Run a small city step by step and record what each step changed."""
    model = make_city(request.param, seed=5)
    retirement = model.params.citizens.retirement_age
    log = []
    for _ in range(YEARS * model.steps_per_year):
        n_before, debt_before = len(model.citizens), model.government.debt
        model.step()
        c, f, gov = model.citizens, model.firms, model.government
        revenue = sum(gov.accounts[a] for a in REVENUE_ACCOUNTS)
        spending = sum(v for a, v in gov.accounts.items() if a not in REVENUE_ACCOUNTS)
        log.append(
            dict(
                step=model.steps,
                n_before=n_before,
                n_after=len(c),
                flows=dict(model.flows),
                employed=int((c.employer >= 0).sum()),
                labour_force=int(c.labour_force(retirement).sum()),
                employed_outside_force=int(((c.employer >= 0) & ~c.labour_force(retirement)).sum()),
                employer_min=int(c.employer.min()),
                employer_max=int(c.employer.max()),
                n_firms=len(f),
                debt_change=gov.debt - debt_before,
                deficit=spending - revenue,
                scale=max(abs(spending), abs(revenue), 1.0),
            )
        )
    return model, log


def test_population_follows_the_flows(step_log):
    _, log = step_log
    for row in log:
        fl = row["flows"]
        expected = (
            row["n_before"] + fl["births"] - fl["deaths"] + fl["immigrants"] - fl["emigrants"]
        )
        assert row["n_after"] == expected, row["step"]
        assert min(fl.values()) >= 0, row["step"]
    # demography actually happens in two years
    assert sum(r["flows"]["deaths"] for r in log) > 0
    assert sum(r["flows"]["births"] for r in log) > 0


def test_employment_within_the_labour_force(step_log):
    _, log = step_log
    for row in log:
        assert row["employed"] <= row["labour_force"], row["step"]
        assert row["employed_outside_force"] == 0, row["step"]
        assert row["employed"] > 0.5 * row["labour_force"], row["step"]


def test_every_employer_is_a_firm_that_exists(step_log):
    _, log = step_log
    for row in log:
        assert row["employer_min"] >= -1, row["step"]
        assert row["employer_max"] < row["n_firms"], row["step"]


def test_firm_head_counts_match_the_citizens(step_log):
    model, _ = step_log
    counts = np.bincount(model.citizens.employer[model.citizens.employer >= 0],
                         minlength=len(model.firms))  # fmt: skip
    np.testing.assert_array_equal(model.firms.employees(), counts)


def test_budget_identity_every_step(step_log):
    _, log = step_log
    for row in log:
        assert row["debt_change"] == pytest.approx(row["deficit"], abs=1e-9 * row["scale"]), row[
            "step"
        ]


def test_collected_metrics_are_finite_and_within_their_ranges(step_log):
    model, _ = step_log
    frame = model.metrics_frame()
    assert len(frame) == YEARS * model.steps_per_year + 1
    assert list(frame.columns[2:]) == list(METRICS)
    values = frame[list(METRICS)].to_numpy(dtype=float)
    assert np.isfinite(values).all(), frame.columns[2:][~np.isfinite(values).all(axis=0)]
    for name, spec in METRICS.items():
        column = frame[name]
        assert column.min() >= spec.lower, (name, column.min())
        assert column.max() <= spec.upper, (name, column.max())
    for name in INDEX_METRICS:
        assert frame[name].between(0, 1).all(), name
    assert frame["population"].iloc[-1] == len(model.citizens)


def test_metric_registry_is_complete():
    names = set(METRICS)
    assert set(INDEX_METRICS) <= names
    capabilities = {n for n in names if n.startswith("capability_")} - {"capability_index"}
    assert capabilities == {f"capability_{c}" for c in CAPABILITY_NAMES}
    for spec in METRICS.values():
        assert spec.unit and spec.description
        assert spec.lower <= spec.upper


# --- the checker itself ------------------------------------------------------------------


@pytest.fixture
def stepped(make_city):
    model = make_city("mature", seed=2, citizens__count=800)
    for _ in range(3):
        model.step()
    check_invariants(model)  # a consistent state passes
    return model


def test_citizen_added_without_a_flow_is_caught(stepped):
    c = stepped.citizens
    row = {name: getattr(c, name)[:1].copy() for name in c.COLUMNS}
    c.append(**row)
    with pytest.raises(InvariantError, match=re.escape(f"step {stepped.steps}: population")):
        check_invariants(stepped)


def test_debt_changed_outside_the_accounts_is_caught(stepped):
    stepped.government.debt += 1e6
    with pytest.raises(InvariantError, match=re.escape(f"step {stepped.steps}: budget identity")):
        check_invariants(stepped)


def test_job_at_a_missing_firm_is_caught(stepped):
    c = stepped.citizens
    worker = np.flatnonzero(c.employer >= 0)[0]
    c.employer[worker] = len(stepped.firms) + 3
    with pytest.raises(InvariantError, match=f"step {stepped.steps}: employment"):
        check_invariants(stepped)


def test_retired_worker_is_caught(stepped):
    c = stepped.citizens
    worker = np.flatnonzero(c.employer >= 0)[0]
    c.age[worker] = 90.0
    with pytest.raises(InvariantError, match="employment"):
        check_invariants(stepped)


def test_nan_in_agent_state_is_caught(stepped):
    stepped.citizens.skill[4] = np.nan
    with pytest.raises(InvariantError, match=re.escape("citizens.skill")):
        check_invariants(stepped)


def test_metric_out_of_range_is_caught(stepped):
    metrics = {name: list(values) for name, values in stepped.datacollector.model_vars.items()}
    check_invariants(stepped, metrics=metrics)
    metrics["governance_index"][-1] = 1.5
    with pytest.raises(InvariantError, match="governance_index"):
        check_invariants(stepped, metrics=metrics)
    metrics["governance_index"][-1] = 0.5
    metrics["gdp"][-1] = float("nan")
    with pytest.raises(InvariantError, match="gdp"):
        check_invariants(stepped, metrics=metrics)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_corrupted_run_stops_at_the_next_step(stepped):
    """The model checks itself: an infinite debt makes the next step fail loudly."""
    stepped.government.debt = float("inf")
    with pytest.raises(InvariantError, match=f"step {stepped.steps + 1}"):
        stepped.step()

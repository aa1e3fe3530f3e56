"""Checks run after every step: accounting identities, valid references, finite values and
documented metric ranges."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache

import numpy as np

from smartcity.simulation.model.metrics import METRICS, MetricSpec
from smartcity.simulation.world.errors import InvariantError
from smartcity.simulation.world.protocols import CityState

BUDGET_TOLERANCE = 1e-6  # relative; the identity holds to float rounding


def check_invariants(
    model: CityState, metrics: Mapping[str, Sequence[float]] | None = None
) -> None:
    """Raise InvariantError naming the step and quantity when an invariant is broken.

    Without ``metrics``: population accounting (N = N_before + births - deaths + in - out),
    employment within the labour force and employers that exist, the budget identity
    (debt change = spending + interest - revenue), finite agent state. With ``metrics`` (the
    recorded columns): the latest value of each metric the model records is finite and
    within its range.
    """
    step = model.steps
    if metrics is not None:
        specs = getattr(model.datacollector, "specs", METRICS.values())
        _check_metrics(step, specs, metrics)
        return
    c, f, flows = model.citizens, model.firms, model.flows
    expected = (
        model.population_before
        + flows["births"]
        - flows["deaths"]
        + flows["immigrants"]
        - flows["emigrants"]
    )
    if len(c) != expected:
        _fail(step, "population accounting", f"{len(c)} citizens, expected {expected}")
    if (c.employer >= len(f)).any():
        _fail(step, "employment", "a citizen works for a firm that does not exist")
    if (c.employed() & ~c.labour_force(model.params.citizens.retirement_age)).any():
        _fail(step, "employment", "a citizen outside the labour force holds a job")
    gov = model.government
    change = gov.debt - model.debt_before
    spending, revenue = gov.spending(), gov.revenue()
    scale = max(abs(spending), abs(revenue), 1.0)
    if abs(change - (spending - revenue)) > BUDGET_TOLERANCE * scale:
        _fail(step, "budget identity", f"debt changed by {change:.6g}, accounts say "
              f"{spending - revenue:.6g}")  # fmt: skip
    for who, population in (("citizens", c), ("firms", f)):
        for name in _float_columns(type(population)):
            if not np.isfinite(getattr(population, name)).all():
                _fail(step, f"{who}.{name}", "NaN or infinite value")
    if not np.isfinite(gov.debt):
        _fail(step, "government debt", "NaN or infinite value")


@cache
def _float_columns(population: type) -> tuple[str, ...]:
    """Names of a population class's floating-point columns (looked up once per class)."""
    return tuple(
        name for name, (dtype, _) in population.COLUMNS.items() if np.issubdtype(dtype, np.floating)
    )


def _check_metrics(
    step: int, specs: Iterable[MetricSpec], metrics: Mapping[str, Sequence[float]]
) -> None:
    for spec in specs:
        name = spec.name
        value = metrics[name][-1]
        if not np.isfinite(value):
            _fail(step, name, f"value is {value}")
        if not spec.lower - 1e-9 <= value <= spec.upper + 1e-9:
            _fail(step, name, f"{value:.6g} outside its range {spec.lower:g}..{spec.upper:g}")


def _fail(step: int, quantity: str, detail: str) -> None:
    raise InvariantError(f"step {step}: {quantity}: {detail}")

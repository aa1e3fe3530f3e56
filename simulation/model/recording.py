"""Recording metrics: which steps are recorded, and the preallocated table they go to.

Every metric of simulation.model.metrics is computed at a recorded step only, all from one
set of shared aggregates, and written into a preallocated float array (one row per
recorded step). ``record`` chooses the steps: ``"step"`` (every step, the default and what
the planners' view needs), ``"yearly"`` (every ``steps_per_year``-th step) or an integer N
(every N-th step); the initial state and the last step of ``CityModel.run`` are always
recorded. The table is ``model.datacollector``, a ``mesa.DataCollector`` whose
``model_vars``, ``get_model_vars_dataframe`` and collection steps read the array, so
``mesa.batch_run`` and Mesa's views work on it unchanged.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping, Sequence

import mesa
import numpy as np
import pandas as pd

from smartcity.simulation.model.metrics import Aggregates, MetricSpec
from smartcity.simulation.world.errors import ParameterError
from smartcity.simulation.world.protocols import CityState

RECORD_CHOICES = "step, yearly or a positive number of steps"
RECORD_HELP = (
    "which steps' metrics to compute and keep: step (every step, the default), yearly, or N "
    "(every N-th step); the first and last steps are always kept. Batch work that reads "
    "yearly values runs faster with yearly; the run itself is the same"
)


def parse_record(record: str | int) -> str | int:
    """A ``record`` choice from text ("step", "yearly", "6"); ParameterError if bad."""
    if isinstance(record, str) and record.strip().isdigit():
        record = int(record)
    if record in ("step", "yearly"):
        return record
    if isinstance(record, int) and not isinstance(record, bool) and record >= 1:
        return record
    raise ParameterError(f"record must be {RECORD_CHOICES}, got {record!r}")


def record_argument(text: str) -> str | int:
    """argparse type of ``--record`` (a usage error naming the allowed values if bad)."""
    try:
        return parse_record(text)
    except ParameterError:
        raise argparse.ArgumentTypeError(f"expected {RECORD_CHOICES}, got {text!r}") from None


def record_interval(record: str | int, steps_per_year: int) -> int:
    """Steps between two recorded steps for a ``record`` choice (ParameterError if bad)."""
    choice = parse_record(record)
    if choice == "step":
        return 1
    return steps_per_year if choice == "yearly" else int(choice)


class _Columns(Mapping[str, np.ndarray]):
    """Metric name -> its recorded values (a view of the store's array), as
    ``DataCollector.model_vars`` offers them."""

    def __init__(self, store: MetricStore):
        self._store = store

    def __getitem__(self, name: str) -> np.ndarray:
        return self._store.values[: self._store.rows, self._store.index[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.index)

    def __len__(self) -> int:
        return len(self._store.index)


class MetricStore(mesa.DataCollector):
    """The recorded metrics: a (recorded steps, metrics) float array, grown by doubling.

    A ``mesa.DataCollector`` (model reporters = the metrics' reporters) so that
    ``mesa.batch_run`` and Mesa's views read it; :meth:`collect` records the current step.

    Args:
        specs: the metrics to record, in column order.
        capacity: rows to allocate at first (more are added when needed).
    """

    def __init__(self, specs: Sequence[MetricSpec], capacity: int = 64):
        super().__init__(model_reporters={spec.name: spec.reporter for spec in specs})
        self.specs = list(specs)
        self.index = {spec.name: j for j, spec in enumerate(self.specs)}
        self.values = np.empty((max(capacity, 1), len(self.specs)))
        self.steps = np.empty(max(capacity, 1), dtype=np.int64)
        self.rows = 0
        self.model_vars = _Columns(self)
        self._collection_steps: list[int] = []

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` more recorded steps."""
        needed = self.rows + rows
        if needed > len(self.steps):
            size = max(needed, 2 * len(self.steps))
            values = np.empty((size, len(self.specs)))
            values[: self.rows] = self.values[: self.rows]
            steps = np.empty(size, dtype=np.int64)
            steps[: self.rows] = self.steps[: self.rows]
            self.values, self.steps = values, steps

    def collect(self, model: CityState) -> None:
        """Compute every metric for the current state into the next row."""
        self.reserve(1)
        row = self.values[self.rows]
        model.aggregates = Aggregates(model)
        try:
            for j, spec in enumerate(self.specs):
                row[j] = model.aggregates.value(spec.reporter)
        finally:
            model.aggregates = None
        self.steps[self.rows] = model.steps
        self._collection_steps.append(model.steps)
        self.rows += 1

    def recorded(self, model: CityState) -> Aggregates:
        """The aggregates of ``model`` as its last recorded step left it: every recorded
        metric's value is read from the store, not computed again (fresh aggregates when
        the model has moved on since, or nothing is recorded yet)."""
        if not self.rows or self.steps[self.rows - 1] != model.steps:
            return Aggregates(model)
        row = self.values[self.rows - 1]
        return Aggregates(model, {s.reporter: float(row[j]) for j, s in enumerate(self.specs)})

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per recorded step, one column per metric (the steps are in
        :attr:`steps`, as Mesa's collection steps)."""
        return pd.DataFrame(self.values[: self.rows].copy(), columns=list(self.index))

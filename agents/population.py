"""Agents as rows: a population whose state lives in numpy arrays, one row per agent.

Agents as rows: citizens and firms are populations of individual agents whose
state is held column-wise so that behaviour rules run as vectorized functions. Each row is
still one agent with its own state; ``population[i]`` returns a read-only view of it.

Rows that leave and rows that arrive during a phase (deaths, emigration, births,
in-migration) can be marked and staged, then applied by one :meth:`Population.commit`: one
copy of each column per phase instead of one per rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from smartcity.agents import kernels

# From this many rows x columns choose_gumbel's kernel is faster than numpy (0.14 vs 0.25
# ms at 700 x 16); below, numba's ~17 us for taking a Generator argument outweighs it.
GUMBEL_KERNEL_ENTRIES = 2048


class Population:
    """A set of agents stored column-wise.

    Subclasses declare ``COLUMNS``: name -> (dtype, trailing shape). Every column is an
    attribute holding an array whose first axis is the agent.
    """

    COLUMNS: ClassVar[dict[str, tuple[type, tuple[int, ...]]]] = {}

    def __init__(self, n: int = 0):
        for name, (dtype, shape) in self.COLUMNS.items():
            setattr(self, name, np.zeros((n, *shape), dtype=dtype))
        self._gone: np.ndarray | None = None
        self._staged: list[dict[str, np.ndarray]] = []
        self._staged_gone: np.ndarray | None = None

    def __len__(self) -> int:
        """Rows in the arrays (pending changes not counted: see :meth:`count`)."""
        return len(self.uid)

    def __getitem__(self, i: int) -> Mapping[str, object]:
        """Read-only view of agent ``i``: its column values at that row."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"agent index {i} out of range for {n} agents")
        return MappingProxyType({name: _readonly(getattr(self, name)[i]) for name in self.COLUMNS})

    def keep(self, mask: np.ndarray) -> np.ndarray:
        """Drop the rows where ``mask`` is False; return old-index -> new-index (-1 if gone)."""
        self._rebuild(mask, staged=False)
        remap = np.cumsum(mask) - 1
        remap[~mask] = -1
        return remap

    def append(self, **columns: np.ndarray) -> None:
        """Add rows; every column must be given, each with the same number of rows."""
        self._check_columns(columns)
        for name, (dtype, _) in self.COLUMNS.items():
            setattr(self, name, np.concatenate([getattr(self, name), columns[name].astype(dtype)]))

    def _check_columns(self, columns: Mapping[str, np.ndarray]) -> None:
        missing = set(self.COLUMNS) - set(columns)
        if missing:
            raise ValueError(f"adding rows needs every column; missing {sorted(missing)}")

    # --- changes applied at once ------------------------------------------------------

    def mark_gone(self, mask: np.ndarray, staged: np.ndarray | None = None) -> None:
        """Mark rows to leave at the next :meth:`commit`: the rows where ``mask`` is True,
        and the staged rows where ``staged`` is True."""
        self._gone = mask if self._gone is None else self._gone | mask
        if staged is not None:
            gone = self._staged_gone
            self._staged_gone = staged if gone is None else gone | staged

    def stage(self, **columns: np.ndarray) -> None:
        """Add rows at the next :meth:`commit`, after the rows that stay and after the rows
        staged before; every column must be given, each with the same number of rows."""
        self._check_columns(columns)
        if self._staged_gone is not None:
            raise RuntimeError("rows are staged after staged rows were marked to leave")
        self._staged.append({n: columns[n].astype(dt) for n, (dt, _) in self.COLUMNS.items()})

    def staged(self, name: str) -> np.ndarray:
        """Column ``name`` of the rows staged so far, in the order they will be added."""
        parts = [block[name] for block in self._staged]
        if not parts:
            dtype, shape = self.COLUMNS[name]
            return np.zeros((0, *shape), dtype=dtype)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def gone(self) -> np.ndarray | None:
        """Mask of the rows marked to leave (None when none is)."""
        return self._gone

    def count(self) -> int:
        """Agents once the pending changes are applied (rows that stay plus staged rows)."""
        gone = 0 if self._gone is None else int(np.count_nonzero(self._gone))
        if self._staged_gone is not None:
            gone += int(np.count_nonzero(self._staged_gone))
        return len(self) - gone + sum(len(block["uid"]) for block in self._staged)

    def for_remaining(self, values: np.ndarray, fill: float) -> np.ndarray:
        """Spread ``values``, one per remaining row in order, over all rows; rows marked to
        leave get ``fill``. (A draw made for the agents still here, as a full column.)"""
        if self._gone is None:
            return values
        out = np.full(len(self), fill, dtype=values.dtype)
        out[~self._gone] = values
        return out

    def commit(self) -> None:
        """Apply the marked departures and the staged arrivals: one compaction and one
        append of each column.

        The rows that stay keep their order; the staged rows that stay follow them in the
        order they were staged.
        """
        if self._gone is None and not self._staged:
            return
        self._rebuild(None if self._gone is None else ~self._gone, staged=True)
        self._gone, self._staged, self._staged_gone = None, [], None

    def _rebuild(self, keep: np.ndarray | None, staged: bool) -> None:
        """Replace each column by its rows where ``keep`` is True (all rows when None),
        followed, when ``staged``, by the staged rows not marked to leave: one copy of each
        column."""
        rows = None if keep is None else np.flatnonzero(keep)
        new_kept = None if self._staged_gone is None else ~self._staged_gone
        for name in self.COLUMNS:
            column = getattr(self, name)
            if keep is not None:
                # A boolean mask on a 2-D column is ~6-9x slower than taking the kept rows.
                column = column[keep] if column.ndim == 1 else column.take(rows, axis=0)
            if staged:
                new = self.staged(name) if new_kept is None else self.staged(name)[new_kept]
                column = np.concatenate([column, new]) if len(new) else column
            setattr(self, name, column)


def _readonly(value: object) -> object:
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
        return value
    return value.item() if isinstance(value, np.generic) else value


def rank_within_groups(groups: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Rank of each element inside its group, 0 for the highest priority.

    Used to fill limited places (vacancies, free dwellings, layoffs) first-come by priority:
    element i gets a place when its rank is below its group's number of places. Ties keep
    the elements' order (the ranks of ``np.lexsort((-priority, groups))``, computed by
    kernels.rank_within_groups).
    """
    return kernels.rank_within_groups(groups, priority)


def choose_gumbel(log_weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pick one column per row with probability proportional to exp(log_weights) (logit):
    the first largest of log_weights + a Gumbel draw, ``np.argmax(log_weights +
    rng.gumbel(size=log_weights.shape), axis=1)``, in one pass (kernels.choose_gumbel) for
    a large choice; both give the same choices and leave ``rng`` in the same state."""
    if log_weights.size < GUMBEL_KERNEL_ENTRIES:
        return np.argmax(log_weights + rng.gumbel(size=log_weights.shape), axis=1)
    return kernels.choose_gumbel(log_weights, rng)

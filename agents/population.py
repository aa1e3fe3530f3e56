"""Agents as rows: a population whose state lives in numpy arrays, one row per agent.

Agents as rows: citizens and firms are populations of individual agents whose
state is held column-wise so that behaviour rules run as vectorized functions. Each row is
still one agent with its own state; ``population[i]`` returns a read-only view of it.

Rows that leave and rows that arrive during a phase (deaths, emigration, births,
in-migration) can be marked and staged, then applied by one :meth:`Population.commit`: one
pass over each column per phase instead of one per rule, in place in the column's buffer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from smartcity.agents import kernels

# From this many rows x columns choose_gumbel's kernel is faster than numpy (0.14 vs 0.25
# ms at 700 x 16); below, numba's ~17 us for taking a Generator argument outweighs it.
GUMBEL_KERNEL_ENTRIES = 2048


# Spare rows of a column's buffer when it is (re)made: a quarter more than the rows, and
# SPARE_ROWS more, so a step's arrivals (~0.1% of the citizens) fit in place for ~200 steps.
SPARE_ROWS = 64


def _capacity(rows: int) -> int:
    return rows + rows // 4 + SPARE_ROWS


class Population:
    """A set of agents stored column-wise.

    Subclasses declare ``COLUMNS``: name -> (dtype, trailing shape). Every column is an
    attribute holding an array whose first axis is the agent.

    Each column lives in a buffer with spare rows and the attribute is a view of its first
    rows: a commit moves the rows that stay down in place and writes the arrivals after
    them, without a new array per column. Rules may still assign a new array to a column
    (it is copied into the buffer at the next commit) or change one in place. A column
    array read before a commit (or keep, append) is not the column after it: read the
    attribute again (an old view is made read-only, so that a write to it raises).
    """

    COLUMNS: ClassVar[dict[str, tuple[type, tuple[int, ...]]]] = {}

    def __init__(self, n: int = 0):
        self._buffers: dict[str, np.ndarray] = {}
        self._views: dict[str, np.ndarray] = {}
        for name, (dtype, shape) in self.COLUMNS.items():
            self._hold(name, np.zeros((n, *shape), dtype=dtype), n)
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

    def __getstate__(self) -> dict[str, object]:
        """The state without the buffers: a pickle or copy holds each column's rows only."""
        state = self.__dict__.copy()
        del state["_buffers"], state["_views"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        """Restore a pickled or copied population, each column in a buffer of its own (a
        shallow copy's columns are the original's arrays)."""
        self.__dict__.update(state)
        self._buffers, self._views, self._staged = {}, {}, list(self._staged)
        for name in self.COLUMNS:
            column = np.array(getattr(self, name), order="C")
            self._hold(name, column, len(column))

    def keep(self, mask: np.ndarray) -> np.ndarray:
        """Drop the rows where ``mask`` is False; return old-index -> new-index (-1 if gone)."""
        self._apply(mask, [], None)
        remap = np.cumsum(mask) - 1
        remap[~mask] = -1
        return remap

    def append(self, **columns: np.ndarray) -> None:
        """Add rows; every column must be given, each with the same number of rows."""
        self._check_columns(columns)
        self._apply(None, [_typed(self.COLUMNS, columns)], None)

    def _check_columns(self, columns: Mapping[str, np.ndarray]) -> None:
        missing = set(self.COLUMNS) - set(columns)
        if missing:
            raise ValueError(f"adding rows needs every column; missing {sorted(missing)}")
        rows = len(columns["uid"])
        for name, (_, shape) in self.COLUMNS.items():
            if np.shape(columns[name]) != (rows, *shape):
                raise ValueError(
                    f"column {name!r} of the added rows has shape {np.shape(columns[name])},"
                    f" not {(rows, *shape)}"
                )

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
        self._staged.append(
            {n: np.asarray(columns[n]).astype(dt) for n, (dt, _) in self.COLUMNS.items()}
        )

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
        """Apply the marked departures and the staged arrivals: each column's rows that stay
        move down in its buffer and the arrivals are written after them.

        The rows that stay keep their order; the staged rows that stay follow them in the
        order they were staged.
        """
        if self._gone is None and not self._staged:
            return
        self._apply(None if self._gone is None else ~self._gone, self._staged, self._staged_gone)
        self._gone, self._staged, self._staged_gone = None, [], None

    def _apply(
        self,
        keep: np.ndarray | None,
        blocks: list[dict[str, np.ndarray]],
        blocks_gone: np.ndarray | None,
    ) -> None:
        """Make each column its rows where ``keep`` is True (all rows when None), followed
        by the rows of ``blocks`` not marked in ``blocks_gone`` (one mask over the blocks'
        rows in order, None when all arrive): in place in the column's buffer, or in a new
        buffer with spare rows when they do not fit (or fill less than half of it)."""
        n = len(self)
        gone = None
        if keep is not None:
            keep = np.asarray(keep)
            if keep.dtype != np.bool_ or keep.shape != (n,):
                raise IndexError(f"keeping rows needs a boolean mask of {n} rows, not {keep.shape}")
            gone = np.flatnonzero(~keep)
        stay = n if gone is None else n - len(gone)
        arrivals = []  # (block, its mask or None, rows that arrive)
        offset = 0
        for block in blocks:
            rows = len(block["uid"])
            mask = None if blocks_gone is None else blocks_gone[offset : offset + rows]
            offset += rows
            arriving = rows if mask is None else rows - int(np.count_nonzero(mask))
            if arriving:
                arrivals.append(
                    (block, None if mask is None or not mask.any() else ~mask, arriving)
                )
        total = stay + sum(arriving for _, _, arriving in arrivals)
        sources = self._current_columns(n)
        for name, (dtype, _) in self.COLUMNS.items():
            source, buffer = sources[name], self._buffers[name]
            in_place = source is self._views[name]
            if source.dtype != buffer.dtype:
                # A column assigned an array of another type keeps that type, promoted by
                # the type of arriving rows, as a concatenation made it.
                promoted = np.result_type(source.dtype, dtype) if arrivals else source.dtype
                buffer = np.empty((_capacity(total), *buffer.shape[1:]), dtype=promoted)
                in_place = False
            elif total > len(buffer) or len(buffer) > 2 * _capacity(total):
                buffer = np.empty((_capacity(total), *buffer.shape[1:]), dtype=buffer.dtype)
                in_place = False
            if source.dtype == buffer.dtype and source.flags.c_contiguous:
                if gone is not None:
                    # As bytes: one compiled kernel moves every type of column.
                    width = math.prod(buffer.shape[1:]) * buffer.itemsize
                    rows, out = source.reshape(-1).view(np.uint8), buffer.reshape(-1).view(np.uint8)
                    kernels.keep_rows(rows, gone, width, out, in_place)
                elif not in_place:
                    buffer[:n] = source
            else:
                buffer[:stay] = source if keep is None else source[keep]
            row = stay
            for block, mask, arriving in arrivals:
                buffer[row : row + arriving] = block[name] if mask is None else block[name][mask]
                row += arriving
            self._views[name].flags.writeable = False
            self._hold(name, buffer, total)

    def _current_columns(self, n: int) -> dict[str, np.ndarray]:
        """Each column's rows now, in arrays that stay as they are while buffers are
        written: the attribute, or a copy of an array assigned to it that shares memory
        with a buffer."""
        columns = {}
        for name in self.COLUMNS:
            column = getattr(self, name)
            if column is not self._views[name]:
                column = np.asarray(column)
                shape = (n, *self._buffers[name].shape[1:])
                if column.shape != shape:
                    raise ValueError(f"column {name!r} has shape {column.shape}, not {shape}")
                if column.base is not None and any(
                    np.may_share_memory(column, buffer) for buffer in self._buffers.values()
                ):
                    column = column.copy()
            columns[name] = column
        return columns

    def _hold(self, name: str, buffer: np.ndarray, n: int) -> None:
        """Make ``buffer`` column ``name``'s buffer and its first ``n`` rows the column."""
        view = buffer[:n]
        self._buffers[name], self._views[name] = buffer, view
        setattr(self, name, view)


def _typed(
    declared: Mapping[str, tuple[type, tuple[int, ...]]], columns: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The given columns in their declared types (copied only when of another type)."""
    return {name: np.asarray(columns[name]).astype(dtype, copy=False)
            for name, (dtype, _) in declared.items()}  # fmt: skip


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

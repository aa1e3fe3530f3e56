"""Analyzers: plug-ins that observe a run and produce tables of their own.

An analyzer is given to the model (``CityModel(..., analyzers=[AgentSample()])``); the
model calls :meth:`Analyzer.record` at the end of every recorded step (step 0 included)
and :meth:`Analyzer.finish` at the end of :meth:`CityModel.run`. Its :meth:`tables` are
what a runner saves beside metrics.parquet, one ``NAME.parquet`` per table (``smartcity run
--analyzer NAME``). An analyzer only reads the model: it draws no random number from
``model.rng``, so a run with analyzers is the same run as one without.

A user module adds one with :func:`analyzer`::

    from smartcity.simulation.model.analyzers import Analyzer, analyzer

    @analyzer("jobless")
    class Jobless(Analyzer):
        def start(self, model):
            self.rows = []

        def record(self, model):
            jobless = int((model.citizens.employer < 0).sum())
            self.rows.append({"step": model.steps, "jobless": jobless})

        def tables(self):
            return {"jobless": pd.DataFrame(self.rows)}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.vocabulary import (
    DIGITAL_SERVICES,
    DISTRICT_KINDS,
    NEED_LEVELS,
    NO_ONE,
)

ANALYZERS: dict[str, type[Analyzer]] = {}
"""Analyzer classes by the name ``--analyzer`` takes, in registration order."""


class Analyzer:
    """Observes a run: override the hooks that matter, return tables from :meth:`tables`."""

    name: str = "analyzer"

    def start(self, model: CityState) -> None:
        """Called once, when the model is built, before the first record."""

    def record(self, model: CityState) -> None:
        """Called at the end of every recorded step (and for the initial state)."""

    def finish(self, model: CityState) -> None:
        """Called at the end of every ``CityModel.run``."""

    def tables(self) -> dict[str, pd.DataFrame]:
        """The analyzer's results: file stem -> table."""
        return {}


def analyzer(name: str) -> Callable[[type[Analyzer]], type[Analyzer]]:
    """Register an Analyzer subclass under ``name`` (the value of ``--analyzer``)."""

    def register(cls: type[Analyzer]) -> type[Analyzer]:
        known = ANALYZERS.get(name)
        if known is not None and (known.__module__, known.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise ValueError(f"analyzer {name!r} is already registered")
        cls.name = name
        ANALYZERS[name] = cls
        return cls

    return register


def make_analyzers(names: list[str]) -> list[Analyzer]:
    """Fresh analyzers of the registered names (InputError naming an unknown one)."""
    unknown = [n for n in names if n not in ANALYZERS]
    if unknown:
        raise InputError(
            f"unknown analyzer {unknown[0]!r}; known: {', '.join(ANALYZERS)} (a user module "
            "adds its own with @analyzer, loaded by --plugin MODULE with --allow-code)"
        )
    return [ANALYZERS[n]() for n in names]


def _yearly(model: CityState) -> bool:
    return model.steps % model.steps_per_year == 0


def _uniform_of(uid: np.ndarray, key: int) -> np.ndarray:
    """A uniform number in [0, 1) per uid, fixed by ``key`` (a splitmix64 hash): the same
    agent gets the same number whenever it is looked at, whatever the row order."""
    with np.errstate(over="ignore"):
        z = uid.astype(np.uint64) + np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@analyzer("agent_sample")
class AgentSample(Analyzer):
    """Per-agent panel: a seeded sample of citizens and every firm, once a year.

    A citizen is in the sample when a hash of its uid and the sample seed falls below
    ``share``: the same citizens are followed from year to year, newcomers join at the
    same rate, and the same seed gives the same sample. The seed defaults to the run's
    seed. Tables ``citizens_sample`` (one row per sampled citizen and year, every column
    of agents.citizens.Citizens, the employer as the firm's uid) and ``firms_sample``
    (every firm each year).

    Args:
        share: expected share of citizens in the sample (0-1).
        seed: sample seed; None = the model's seed.
    """

    def __init__(self, share: float = 0.02, seed: int | None = None):
        if not 0.0 <= share <= 1.0:
            raise InputError(f"agent sample share must be in 0..1, got {share!r}")
        self.share, self.seed = share, seed
        self._citizens: list[pd.DataFrame] = []
        self._firms: list[pd.DataFrame] = []

    def start(self, model: CityState) -> None:
        """Fix the sample's key from the seed."""
        # Mesa keeps the int seed (or one drawn from a SeedSequence's stream at build time).
        seed = self.seed if self.seed is not None else model._seed
        self._key = int(seed) % (1 << 63)

    def record(self, model: CityState) -> None:
        """Keep the sampled citizens' and all firms' rows at the start of each year."""
        if not _yearly(model):
            return
        c, f = model.citizens, model.firms
        rows = np.flatnonzero(_uniform_of(c.uid, self._key) < self.share)
        head = {"step": model.steps, "year": model.steps / model.steps_per_year}
        columns: dict[str, np.ndarray] = {}
        for name in c.COLUMNS:
            values = getattr(c, name)[rows]
            if name == "adopted":
                columns.update({f"uses_{s}": values[:, i] for i, s in enumerate(DIGITAL_SERVICES)})
            elif name == "satisfaction":
                columns.update(
                    {f"satisfaction_{lv}": values[:, i] for i, lv in enumerate(NEED_LEVELS)}
                )
            elif name == "employer":
                firm_uid = f.uid[np.maximum(values, 0)] if len(f) else np.zeros(len(values))
                columns["employer_uid"] = np.where(values >= 0, firm_uid, NO_ONE)
            else:
                columns[name] = values
        self._citizens.append(pd.DataFrame({**head, **columns}))
        self._firms.append(pd.DataFrame({**head, **{n: getattr(f, n) for n in f.COLUMNS}}))

    def tables(self) -> dict[str, pd.DataFrame]:
        """``citizens_sample`` and ``firms_sample``."""
        return {
            "citizens_sample": _concat(self._citizens),
            "firms_sample": _concat(self._firms),
        }


@analyzer("districts")
class DistrictSeries(Analyzer):
    """District time series: per recorded step and district, residents, jobs, service
    access, and the district stocks: housing and service capacity, pollution, ICT,
    computing, IoT, transport and environment (simulation.world.districts)."""

    STOCKS = (
        "housing_capacity",
        "service_capacity",
        "pollution",
        "ict",
        "computing",
        "iot",
        "transport",
        "environment",
    )

    def __init__(self) -> None:
        self._frames: list[pd.DataFrame] = []

    def record(self, model: CityState) -> None:
        """One row per district for this step."""
        d = model.districts
        jobs = np.bincount(model.firms.district, model.firms.employees(), d.n)
        frame = {
            "step": np.full(d.n, model.steps),
            "year": np.full(d.n, model.steps / model.steps_per_year),
            "district": np.asarray(d.names),
            "kind": np.asarray(DISTRICT_KINDS)[d.kind],
            "residents": np.bincount(model.citizens.home, minlength=d.n),
            "jobs": jobs,
            "service_access": model.district_access,
            **{name: np.asarray(getattr(d, name), dtype=float) for name in self.STOCKS},
        }
        self._frames.append(pd.DataFrame(frame))

    def tables(self) -> dict[str, pd.DataFrame]:
        """``districts``."""
        return {"districts": _concat(self._frames)}


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

"""What the planners' view shows, computed from a model without any UI code.

Everything here is plain Python over the model's arrays so that it can be unit-tested and
reused in reports: per-district values for the map (:data:`DISTRICT_METRICS`), link
congestion, the inspector's summary of one district, the slider specifications generated from
the parameter metadata (:func:`control_specs`), and :class:`ViewRun`, the Mesa model the view
steps: one city, or two cities stepped together in comparison mode. Bad input never raises
out of :class:`ViewRun`; its message is kept in ``ViewRun.error`` for the page to show.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np
import pandas as pd

from simulation.errors import InputError, InvariantError
from simulation.model import CityModel
from simulation.parameters import (
    CAPABILITY_NAMES,
    SECTIONS,
    SECTOR_NAMES,
    ParamSpec,
    iter_specs,
    resolve_parameters,
)

VIEW_CITIZENS = 5000
"""Initial population of the view's city: small enough to step smoothly (see
benchmarks/bench_view.py); a slider raises it."""
VIEW_CITIZENS_MAX = 50_000
"""Upper end of the population slider (the parameter itself allows more)."""

HEADLINE_METRICS = ("gdp_per_capita", "population", "digital_adoption", "congestion_index")
INDEX_METRICS = ("demand_advancement_index", "industrial_transition_index", "governance_index")


# --- per-district values for the map ----------------------------------------------------


def district_population(model: CityModel) -> np.ndarray:
    """Residents of each district."""
    return np.bincount(model.citizens.home, minlength=model.districts.n).astype(float)


def district_jobs(model: CityModel) -> np.ndarray:
    """Jobs (employed workers) located in each district, by their firms' district."""
    firms = model.firms
    return np.bincount(firms.district, weights=firms.employees(), minlength=model.districts.n)


def district_adoption(model: CityModel) -> np.ndarray:
    """Mean share of the digital services adopted by the district's residents (0-1)."""
    c = model.citizens
    n = model.districts.n
    share = c.adopted.mean(axis=1) if len(c) else np.zeros(0)
    total = np.bincount(c.home, weights=share, minlength=n)
    return total / np.maximum(np.bincount(c.home, minlength=n), 1)


def edge_congestion(model: CityModel) -> np.ndarray:
    """Congested over free-flow travel time of each link (>= 1), in districts.edges order."""
    d = model.districts
    return d.edge_time / np.maximum(d.edge_free_time, 1e-12)


def district_congestion(model: CityModel) -> np.ndarray:
    """Mean congestion (congested / free-flow time) of the links touching each district."""
    d = model.districts
    ratio = edge_congestion(model)
    total = np.zeros(d.n)
    count = np.zeros(d.n)
    for end in (0, 1):
        np.add.at(total, d.edges[:, end], ratio)
        np.add.at(count, d.edges[:, end], 1)
    return np.where(count > 0, total / np.maximum(count, 1), 1.0)


def district_pollution(model: CityModel) -> np.ndarray:
    """Pollution level of each district (0 clean - 1 severe)."""
    return np.asarray(model.districts.pollution, dtype=float).copy()


def district_service_access(model: CityModel) -> np.ndarray:
    """Public-service access of each district (places x digital stretch / residents, <= 1)."""
    return np.asarray(model.district_access, dtype=float).copy()


@dataclass(frozen=True)
class DistrictMetric:
    """A per-district quantity the map can colour nodes by."""

    label: str
    unit: str
    compute: Callable[[CityModel], np.ndarray]
    cmap: str = "viridis"


DISTRICT_METRICS: dict[str, DistrictMetric] = {
    "population": DistrictMetric("population", "residents", district_population, "Blues"),
    "jobs": DistrictMetric("jobs", "workers", district_jobs, "Greens"),
    "digital_adoption": DistrictMetric(
        "digital adoption", "share of services", district_adoption, "viridis"
    ),
    "congestion": DistrictMetric(
        "congestion", "congested/free-flow time", district_congestion, "Reds"
    ),
    "pollution": DistrictMetric("pollution", "0-1", district_pollution, "Oranges"),
    "service_access": DistrictMetric("service access", "0-1", district_service_access, "PuBu"),
}


def district_values(model: CityModel, metric: str) -> np.ndarray:
    """Values of ``metric`` (a key of DISTRICT_METRICS) for every district."""
    return DISTRICT_METRICS[metric].compute(model)


# --- the inspector ------------------------------------------------------------------------


def district_summary(model: CityModel, district: int) -> dict[str, float]:
    """Residents' summary of one district: count, mean age, employment rate (employed over
    the labour force living there), digital adoption, mean income, service access."""
    c = model.citizens
    here = c.home == district
    n = int(here.sum())
    labour = here & c.labour_force(model.params.citizens.retirement_age)
    employed = labour & c.employed()

    def mean(values: np.ndarray) -> float:
        return float(values.mean()) if len(values) else math.nan

    return {
        "residents": float(n),
        "mean_age": mean(c.age[here]),
        "employment_rate": float(employed.sum() / labour.sum()) if labour.any() else math.nan,
        "digital_adoption": mean(c.adopted[here].mean(axis=1)) if n else math.nan,
        "mean_income": mean(c.income[here]),
        "service_access": mean(c.access[here]),
    }


SUMMARY_UNITS = {
    "residents": "citizens",
    "mean_age": "years",
    "employment_rate": "share of labour force",
    "digital_adoption": "share of services",
    "mean_income": "k/month",
    "service_access": "0-1",
}


def district_sectors(model: CityModel, district: int) -> pd.DataFrame:
    """Firms and jobs of one district by sector (one row per sector)."""
    f = model.firms
    here = f.district == district
    sectors = f.sector[here]
    firms = np.bincount(sectors, minlength=len(SECTOR_NAMES))
    jobs = np.bincount(sectors, weights=f.employees()[here], minlength=len(SECTOR_NAMES))
    return pd.DataFrame({"sector": SECTOR_NAMES, "firms": firms, "jobs": jobs.astype(int)})


# --- controls generated from the parameter metadata ---------------------------------------


@dataclass(frozen=True)
class ControlSpec:
    """One slider: the parameter key, its unit, meaning and the slider's range and step."""

    key: str
    unit: str
    doc: str
    lo: float
    hi: float
    step: float
    is_int: bool

    @property
    def label(self) -> str:
        """Slider label: parameter name and unit."""
        return f"{self.key} [{self.unit}]"

    def clamp(self, value: float) -> float | int:
        """``value`` forced into the slider's range (and to an int for integer parameters)."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            value = self.lo
        clamped = min(max(value, self.lo), self.hi)
        return round(clamped) if self.is_int else float(clamped)


FALLBACK_CONTROL_KEYS = (
    "citizens.count",
    "government.capability_budget_share",
    *(f"government.share_{c}" for c in CAPABILITY_NAMES),
    "citizens.digital_literacy_mean",
    "citizens.trust_mean",
    "citizens.privacy_concern_mean",
    "citizens.in_migration_rate",
)
"""Sliders shown while the parameters have no [policy] section."""


def control_keys() -> list[str]:
    """Keys of the sliders: the population, then every numeric parameter of a [policy]
    section when the parameters declare one, else the capability budget and a few citizens
    parameters (FALLBACK_CONTROL_KEYS)."""
    if "policy" in SECTIONS:
        policy = [k for k, f, s in iter_specs() if k.startswith("policy.") and _numeric(f, s)]
        return ["citizens.count", *policy]
    return list(FALLBACK_CONTROL_KEYS)


def _numeric(f: Any, spec: ParamSpec) -> bool:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    return kind in ("int", "float") and spec.choices is None


def control_specs(keys: list[str] | None = None) -> list[ControlSpec]:
    """Slider specifications of ``keys`` (default :func:`control_keys`) from iter_specs:
    unit, meaning and range clamped to the declared range of each parameter."""
    specs = {key: (f, spec) for key, f, spec in iter_specs()}
    result = []
    for key in keys or control_keys():
        f, spec = specs[key]
        is_int = (f.type if isinstance(f.type, str) else f.type.__name__) == "int"
        lo = spec.lo if spec.lo is not None else 0.0
        hi = spec.hi if spec.hi is not None else max(10 * (f.default or 1), lo + 1)
        if key == "citizens.count":
            lo, hi = max(lo, 1000), min(hi, VIEW_CITIZENS_MAX)
        span = hi - lo
        step = max(1, round(_nice_step(span / 100))) if is_int else _nice_step(span / 100)
        result.append(ControlSpec(key, spec.unit, spec.doc, lo, hi, step, is_int))
    return result


def _nice_step(raw: float) -> float:
    """The largest of 1, 2, 5 x 10^k not above ``raw``."""
    if raw <= 0:
        return 0.01
    exp = math.floor(math.log10(raw))
    for m in (5, 2, 1):
        if m * 10**exp <= raw:
            return m * 10**exp
    return 10**exp


def default_values() -> dict[str, Any]:
    """Built-in parameter values (``section.name`` keys), before any preset."""
    return {key: f.default for key, f, _ in iter_specs()}


def resolved_values(preset: str, policy: str | None) -> dict[str, Any]:
    """Parameter values of a preset with a policy package applied (``section.name`` keys).
    Raises InputError for an unknown or invalid preset or package."""
    return resolve_parameters(preset, {}, policy).as_flat_dict()


# --- the view's model ---------------------------------------------------------------------


@dataclass(frozen=True)
class CityConfig:
    """One configuration of the view: preset, policy package, seed and overrides."""

    preset: str = "mature"
    policy: str = "baseline"
    seed: int = 1
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        """Short name for legends."""
        return f"{self.preset} / {self.policy}"

    def build(self) -> CityModel:
        """The CityModel of this configuration (raises InputError for bad input)."""
        overrides = {"citizens.count": VIEW_CITIZENS, **self.overrides}
        kwargs = {k.replace(".", "__"): v for k, v in overrides.items()}
        return CityModel(self.preset, seed=int(self.seed), policy=self.policy, **kwargs)


class ViewRun(mesa.Model):
    """The model the view steps: one city, or two stepped together (comparison mode).

    Mesa's ModelController builds it with keyword arguments and calls ``step()``. Bad input
    (InputError) and a failed step do not raise: the message is kept in ``error``, no city
    is built (or the run stops), and the page shows the message.

    Args:
        cities: the configurations, one (single view) or two (comparison), as CityConfig or
            as dicts of CityConfig fields.
    """

    def __init__(self, cities: list[CityConfig | Mapping[str, Any]] | None = None, **_: Any):
        super().__init__(rng=0)
        configs = [c if isinstance(c, CityConfig) else CityConfig(**c) for c in cities or [{}]]
        self.configs = configs
        self.cities: list[CityModel] = []
        self.error: str | None = None
        try:
            for i, config in enumerate(configs):
                self._current = i
                self.cities.append(config.build())
        except InputError as exc:
            self.error = self._where(str(exc))
            self.cities = []
            self.running = False

    def _where(self, message: str) -> str:
        if len(self.configs) > 1:
            return f"configuration {'AB'[self._current]}: {message}"
        return message

    @property
    def labels(self) -> list[str]:
        """Legend label of each city; 'A: ...' and 'B: ...' in comparison mode."""
        if len(self.cities) == 1:
            return [self.configs[0].label()]
        return [f"{'AB'[i]}: {c.label()}" for i, c in enumerate(self.configs)]

    def step(self) -> None:
        """Step every city once (together, so compared cities stay at the same step)."""
        if self.error is not None or not self.cities:
            self.running = False
            return
        try:
            for i, city in enumerate(self.cities):
                self._current = i
                city.step()
        except (InputError, InvariantError, FloatingPointError) as exc:
            self.error = self._where(f"the run stopped at step {city.steps}: {exc}")
            self.running = False
            return
        super().step()

    @property
    def city_steps(self) -> int:
        """Steps the cities have made (all the same)."""
        return int(self.cities[0].steps) if self.cities else 0


# --- export -------------------------------------------------------------------------------


def metrics_table(run: ViewRun) -> pd.DataFrame:
    """Metrics of every city of the run, one row per city and step, with its configuration."""
    frames = []
    for config, city in zip(run.configs, run.cities, strict=False):
        frame = city.metrics_frame()
        frame.insert(0, "seed", config.seed)
        frame.insert(0, "policy", config.policy)
        frame.insert(0, "preset", config.preset)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def metrics_csv(run: ViewRun) -> bytes:
    """The run's metrics as CSV bytes."""
    return metrics_table(run).to_csv(index=False).encode()


def metrics_parquet(run: ViewRun) -> bytes:
    """The run's metrics as Parquet bytes."""
    buffer = io.BytesIO()
    metrics_table(run).to_parquet(buffer, index=False)
    return buffer.getvalue()

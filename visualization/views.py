"""What the planners' view shows, computed from a model without any UI code.

Everything here is plain Python over the model's arrays so that it can be unit-tested and
reused in reports: per-district values for the map (:data:`DISTRICT_METRICS`), link
congestion, the inspector's summary of one district, the slider specifications generated from
the parameter metadata (:func:`control_specs`), and :class:`ViewRun`, the Mesa model the view
steps: one city, or two cities stepped together in comparison mode, and
:func:`apply_policy_choices`, the planner's changes to a policy package (initiatives on or
off, financing model, unified platform). Bad input never raises out of :class:`ViewRun`; its
message is kept in ``ViewRun.error`` for the page to show.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import mesa
import numpy as np
import pandas as pd

from smartcity.policies.financing import financing_model
from smartcity.policies.initiatives import initiative_names, load_initiative
from smartcity.policies.packages import InitiativePlan, PolicyPackage, load_package
from smartcity.simulation.errors import InputError, InvariantError
from smartcity.simulation.model import CityModel
from smartcity.simulation.parameters import (
    CAPABILITY_NAMES,
    SECTIONS,
    SECTOR_NAMES,
    ParamSpec,
    iter_specs,
)
from smartcity.simulation.resolve import resolve_parameters

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


# --- the planner's changes to a policy package -------------------------------------------

AS_IN_PACKAGE = "as in package"
"""Financing choice that keeps each initiative's financing model from the package."""
NEW_INITIATIVE_FINANCING = "government"
"""Financing model of an initiative switched on that the package does not include."""


def apply_policy_choices(
    package: PolicyPackage,
    initiatives: Iterable[str] | None = None,
    financing: str | Mapping[str, str] | None = None,
    unified_platform: bool | None = None,
) -> PolicyPackage:
    """``package`` with the planner's choices applied (None leaves a choice as in it).

    Args:
        package: the policy package chosen.
        initiatives: names of the initiatives switched on. One the package has keeps its plan
            (start year, scale, class); one it lacks is added at start year 0 and scale 1,
            financed by ``financing`` or NEW_INITIATIVE_FINANCING; one it has that is not
            named is removed.
        financing: a financing model name for every initiative, or a dict initiative name ->
            financing model name for some; AS_IN_PACKAGE (or None) keeps the package's.
        unified_platform: the unified data platform on (True) or off (data islands).

    Returns:
        A new PolicyPackage (the same object when nothing changes); CityModel accepts it as
        ``policy``. Raises InputError for an unknown initiative or financing model, or an
        initiative whose required initiative is switched off.
    """
    if financing is None or financing == AS_IN_PACKAGE:
        per_initiative: Mapping[str, str] = {}
        for_all = None
    elif isinstance(financing, str):
        per_initiative, for_all = {}, financing
    else:
        per_initiative, for_all = financing, None
    where = f"package '{package.name}'"
    plans = {plan.spec.name: plan for plan in package.initiatives}
    names = list(plans) if initiatives is None else list(dict.fromkeys(initiatives))
    chosen = []
    for name in names:
        plan = plans.get(name)
        if plan is None:
            plan = InitiativePlan(
                load_initiative(name, where),
                financing_model(NEW_INITIATIVE_FINANCING, where),
            )
        model_name = per_initiative.get(name, for_all)
        if model_name is not None and model_name != AS_IN_PACKAGE:
            plan = replace(plan, financing=financing_model(model_name, f"{where}, {name}"))
        chosen.append(plan)
    for name in per_initiative:
        if name not in names:
            raise InputError(f"{where}: financing given for '{name}', which is switched off")
    for plan in chosen:
        for needed in plan.spec.requires:
            if needed not in names:
                raise InputError(
                    f"{where}: initiative '{plan.spec.name}' requires initiative '{needed}'; "
                    "switch it on too"
                )
    unified = package.unified_platform if unified_platform is None else bool(unified_platform)
    if tuple(chosen) == package.initiatives and unified == package.unified_platform:
        return package
    return replace(package, unified_platform=unified, initiatives=tuple(chosen))


def initiative_choices() -> list[tuple[str, str, str]]:
    """(name, title, key issue) of every shipped initiative, ordered by key issue then title:
    the initiative switches of the view."""
    specs = [load_initiative(name) for name in initiative_names()]
    return sorted(((s.name, s.title, s.key_issue) for s in specs), key=lambda row: (row[2], row[1]))


# --- the view's model ---------------------------------------------------------------------


@dataclass(frozen=True)
class CityConfig:
    """One configuration of the view: preset, policy package, seed, overrides, and the
    planner's changes to the package (see :func:`apply_policy_choices`; None = as in it)."""

    preset: str = "mature"
    policy: str = "baseline"
    seed: int = 1
    overrides: Mapping[str, Any] = field(default_factory=dict)
    initiatives: tuple[str, ...] | None = None
    financing: str | Mapping[str, str] | None = None
    unified_platform: bool | None = None

    def __post_init__(self) -> None:
        if self.initiatives is not None and not isinstance(self.initiatives, tuple):
            object.__setattr__(self, "initiatives", tuple(self.initiatives))

    def changed(self) -> bool:
        """Whether the planner changed any of the package's own choices."""
        return (
            self.initiatives is not None
            or self.financing not in (None, AS_IN_PACKAGE)
            or self.unified_platform is not None
        )

    def label(self) -> str:
        """Short name for legends ("(modified)" when the package's choices were changed)."""
        return f"{self.preset} / {self.policy}" + (" (modified)" if self.changed() else "")

    def choices_text(self) -> str:
        """The changes to the package in one line ("" when none), for the export."""
        parts = []
        if self.unified_platform is not None:
            parts.append(f"unified_platform={'on' if self.unified_platform else 'off'}")
        if self.financing not in (None, AS_IN_PACKAGE):
            text = (
                self.financing
                if isinstance(self.financing, str)
                else ",".join(f"{k}:{v}" for k, v in self.financing.items())
            )
            parts.append(f"financing={text}")
        if self.initiatives is not None:
            parts.append(f"initiatives={','.join(self.initiatives) or 'none'}")
        return "; ".join(parts)

    def package(self) -> PolicyPackage:
        """The policy package with the planner's choices (raises InputError for bad input)."""
        package = load_package(self.policy)
        if not self.changed():
            return package
        return apply_policy_choices(
            package, self.initiatives, self.financing, self.unified_platform
        )

    def build(self) -> CityModel:
        """The CityModel of this configuration (raises InputError for bad input)."""
        overrides = {"citizens.count": VIEW_CITIZENS, **self.overrides}
        kwargs = {k.replace(".", "__"): v for k, v in overrides.items()}
        return CityModel(self.preset, seed=int(self.seed), policy=self.package(), **kwargs)


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
        frame.insert(0, "policy_choices", config.choices_text())
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

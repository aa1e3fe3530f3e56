"""What the planners' view shows, computed from a model without any UI code.

Everything here is plain Python over the model's arrays so that it can be unit-tested and
reused in reports: per-district values for the map (:data:`DISTRICT_METRICS`), link
congestion, the inspector's summary of every district, the slider specifications generated
from the parameter metadata (:func:`control_specs`), the lists the view offers and checks
every choice against (:class:`Catalog`), and :class:`ViewRun`, what the view steps: one
configuration or several compared (each over one or several paired seeds), with a snapshot of
every district at every step so the page can scrub back through the run, and the comparison
of every configuration with a reference over the paired seeds (:class:`Recorded`, read once
per redraw; differences, the end-year table with the money, index terms). Bad input never
raises out of :class:`ViewRun`; its message is kept in ``ViewRun.error`` for the page to show
(an error in configuration B keeps configuration A running).
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smartcity.agents.citizens import NEED_WEIGHTS
from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.initiatives import initiative_names, load_initiative
from smartcity.policies.packages import PolicyPackage, load_package, package_names
from smartcity.simulation.model import CityModel
from smartcity.simulation.model.metrics import (
    GOVERNANCE_TERMS,
    INDUSTRIAL_TERMS,
    METRICS,
    governance_terms,
    industrial_terms,
)
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import InputError, InvariantError, ParameterError
from smartcity.simulation.world.parameters import SECTIONS, ParamSpec, iter_specs, normalised
from smartcity.simulation.world.presets import preset_names
from smartcity.simulation.world.schema import validate
from smartcity.simulation.world.statistics import difference_interval
from smartcity.simulation.world.vocabulary import (
    CAPABILITY_NAMES,
    DISTRICT_KINDS,
    NEED_LEVELS,
    SECTOR_NAMES,
)
from smartcity.visualization.scenario import (
    AS_IN_PACKAGE,
    CONFIGURATION_NAMES,
    CityConfig,
    CityTable,
    Scenario,
)

VIEW_CITIZENS = 5000
"""Initial population of the view's city: small enough to play at more than a simulated year
per second (see benchmarks/bench_view.py); a slider raises it."""
VIEW_CITIZENS_MAX = 50_000
"""Upper end of the population slider (the parameter itself allows more)."""

HEADLINE_METRICS = ("gdp_per_capita", "population", "digital_adoption", "congestion_index")
PRESETS_ENV = "SMARTCITY_PRESETS_DIR"
"""Environment variable naming the folder of user presets the view lists (set by
``smartcity ui --presets DIR``); unset = shipped presets only."""
PACKAGES_ENV = "SMARTCITY_PACKAGES_DIR"
"""Environment variable naming the folder of user policy packages the view lists (set by
``smartcity ui --packages DIR``); unset = shipped packages only."""
ALLOW_CODE_ENV = "SMARTCITY_ALLOW_CODE"
"""Set to "1" by ``smartcity ui --allow-code``: user packages may name Python initiatives."""
USER_PRESET_PREFIX = "file: "
LETTERS = CONFIGURATION_NAMES.upper()
"""The configurations' names on the page: A, then B, C, ... compared with it."""


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
    """A per-district quantity the map can colour districts by.

    ``lo`` and ``hi`` are its documented range when it has one (the colour scale is then
    fixed to it); None = unbounded, the scale then spans the run so far.
    """

    label: str
    unit: str
    compute: Callable[[CityModel], np.ndarray]
    scheme: str = "viridis"
    lo: float | None = None
    hi: float | None = None


DISTRICT_METRICS: dict[str, DistrictMetric] = {
    "population": DistrictMetric("population", "residents", district_population, "blues"),
    "jobs": DistrictMetric("jobs", "workers", district_jobs, "greens"),
    "digital_adoption": DistrictMetric(
        "digital adoption", "share of services", district_adoption, "viridis", 0.0, 1.0
    ),
    "congestion": DistrictMetric(
        "congestion", "congested/free-flow time", district_congestion, "reds"
    ),
    "pollution": DistrictMetric(
        "pollution", "0 clean - 1 severe", district_pollution, "oranges", 0.0, 1.0
    ),
    "service_access": DistrictMetric(
        "district service access",
        "places x stretch / residents, 0-1",
        district_service_access,
        "purpleblue",
        0.0,
        1.0,
    ),
}


def shape_bounds(shapes: Sequence[Mapping[str, Any]]) -> tuple[float, float, float, float]:
    """min x, min y, max x, max y of GeoJSON geometries."""
    xs, ys = [], []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], int | float):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for part in coords:
                walk(part)

    for shape in shapes:
        walk(shape["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def district_values(model: CityModel, metric: str) -> np.ndarray:
    """Values of ``metric`` (a key of DISTRICT_METRICS) for every district."""
    return DISTRICT_METRICS[metric].compute(model)


def district_shapes(model: CityModel) -> list[dict[str, Any]]:
    """Each district's area as a GeoJSON geometry in km (districts order): the polygon of a
    city read from GeoJSON (geo.read_district_shapes), else the Voronoi cell of its
    coordinates, clipped to the city's hull widened by the largest district's radius, so
    every city is drawn as areas that tile it (the synthetic presets state points only)."""
    from shapely.geometry import MultiPoint, Point, mapping, shape
    from shapely.ops import voronoi_diagram

    d = model.districts
    graph = d.graph
    nodes = sorted(graph.nodes)
    given = [graph.nodes[n].get("shape") for n in nodes]
    if all(isinstance(g, dict) for g in given):
        return [mapping(shape(g)) for g in given]
    radius = np.sqrt(np.asarray(d.area_km2, dtype=float) / math.pi)
    points = [Point(float(x), float(y)) for x, y in zip(d.x, d.y, strict=True)]
    if len(points) == 1:
        return [mapping(points[0].buffer(float(radius[0])))]
    region = MultiPoint(points).convex_hull.buffer(float(radius.max()))
    cells = voronoi_diagram(MultiPoint(points), envelope=region).geoms
    out = []
    for point in points:
        cell = next((c for c in cells if c.covers(point)), point.buffer(float(radius.max())))
        out.append(mapping(cell.intersection(region).simplify(0.01)))
    return out


# --- the inspector ------------------------------------------------------------------------

SUMMARY_UNITS = {
    "residents": "citizens",
    "mean_age": "years",
    "employment_rate": "share of labour force",
    "digital_adoption": "share of services",
    "mean_income": "k/month",
    "residents_service_access": "0-1, offline residents -15%",
}
"""The inspector's rows and their units. ``residents_service_access`` is the residents' own
access (the district's, less 15% for those using no online service); the map's ``service
access`` is the district's (DISTRICT_METRICS): two quantities, two names."""


def district_summaries(model: CityModel) -> dict[str, np.ndarray]:
    """Residents' summary of every district (keys of SUMMARY_UNITS, one value per district):
    count, mean age, employment rate (employed over the labour force living there), digital
    adoption, mean income, the residents' own service access; NaN where nobody lives (or works)."""
    c = model.citizens
    n = model.districts.n
    residents = np.bincount(c.home, minlength=n).astype(float)
    labour = c.labour_force(model.params.citizens.retirement_age)
    employed = labour & c.employed()
    in_labour = np.bincount(c.home[labour], minlength=n).astype(float)
    in_work = np.bincount(c.home[employed], minlength=n).astype(float)

    def mean(values: np.ndarray) -> np.ndarray:
        total = np.bincount(c.home, weights=values, minlength=n)
        return np.where(residents > 0, total / np.maximum(residents, 1), np.nan)

    adoption = c.adopted.mean(axis=1) if len(c) else np.zeros(0)
    return {
        "residents": residents,
        "mean_age": mean(c.age.astype(float)),
        "employment_rate": np.where(in_labour > 0, in_work / np.maximum(in_labour, 1), np.nan),
        "digital_adoption": mean(adoption),
        "mean_income": mean(c.income.astype(float)),
        "residents_service_access": mean(c.access.astype(float)),
    }


def district_sector_counts(model: CityModel) -> tuple[np.ndarray, np.ndarray]:
    """Firms and jobs of every district by sector: two (districts x SECTOR_NAMES) arrays."""
    f = model.firms
    n, k = model.districts.n, len(SECTOR_NAMES)
    cell = f.district * k + f.sector
    firms = np.bincount(cell, minlength=n * k).reshape(n, k)
    jobs = np.bincount(cell, weights=f.employees(), minlength=n * k).reshape(n, k)
    return firms, jobs.round().astype(int)


@dataclass(frozen=True)
class Snapshot:
    """Everything the page shows of one city at one step, kept so it can scrub back.

    ``values``, ``summary``, sector counts and links are the first seed's (the map and the
    inspector draw one city); ``seed_values`` holds the map's values of every paired seed
    (first seed first) and ``terms`` the index terms of every seed (:func:`index_terms`), so
    a difference map and the index breakdown average every seed at any stored step.
    """

    step: int
    year: float
    values: dict[str, np.ndarray]
    summary: dict[str, np.ndarray]
    firms: np.ndarray
    jobs: np.ndarray
    links: np.ndarray
    seed_values: tuple[dict[str, np.ndarray], ...] = ()
    terms: tuple[dict[str, float], ...] = ()

    def sectors(self, district: int) -> pd.DataFrame:
        """Firms and jobs of one district by sector (one row per sector)."""
        return pd.DataFrame(
            {"sector": SECTOR_NAMES, "firms": self.firms[district], "jobs": self.jobs[district]}
        )


def district_metric_values(model: CityModel) -> dict[str, np.ndarray]:
    """Every map metric of every district of the model now."""
    return {name: spec.compute(model) for name, spec in DISTRICT_METRICS.items()}


def snapshot(model: CityModel, others: Sequence[CityModel] = ()) -> Snapshot:
    """The model's districts now; ``others`` are the other paired seeds of the same
    configuration, whose map values and index terms are kept too."""
    firms, jobs = district_sector_counts(model)
    values = district_metric_values(model)
    return Snapshot(
        step=int(model.steps),
        year=model.steps / model.steps_per_year,
        values=values,
        summary=district_summaries(model),
        firms=firms,
        jobs=jobs,
        links=edge_congestion(model),
        seed_values=(values, *(district_metric_values(m) for m in others)),
        terms=tuple(index_terms(m) for m in (model, *others)),
    )


def step_duration(steps_per_year: int) -> str:
    """What one step is in plain words: "1 month", "3 months", or days when a step is not
    a whole number of months (24 steps/year: "15.2 days"; 52: "7.0 days")."""
    months = 12 / steps_per_year
    if months == int(months):
        return f"{int(months)} month{'' if months == 1 else 's'}"
    return f"{365.25 / steps_per_year:.1f} days"


# --- why an index moved: its terms ----------------------------------------------------------

INDEX_TERMS = {
    "demand_advancement_index": tuple(f"satisfaction_{level}" for level in NEED_LEVELS),
    "industrial_transition_index": INDUSTRIAL_TERMS,
    "governance_index": tuple(f"governance_{name}" for name in GOVERNANCE_TERMS),
}
"""The terms of each development index, in the order :func:`index_terms` gives them."""


def index_terms(model: CityModel) -> dict[str, float]:
    """Each index's terms as contributions that add up to the index (docs/ODD.md,
    Development indices): demand advancement = the need levels' mean satisfactions times
    their weights (white paper 4.1); industrial transition = a quarter of each of digital
    economy share, high-value job share, productivity score x / (x + frontier) and
    employment rate; governance = a seventh of each outcome term of ``governance_terms``.
    Read within the aggregates of the model's last recorded step, so every term that is a
    recorded metric is read from the recording instead of computed again."""
    model.aggregates = model.datacollector.recorded(model)
    try:
        value = model.aggregates.value
        weights = NEED_WEIGHTS / NEED_WEIGHTS.sum()
        terms = {
            f"satisfaction_{level}": float(weights[i])
            * value(METRICS[f"satisfaction_{level}"].reporter)
            for i, level in enumerate(NEED_LEVELS)
        }
        industrial = industrial_terms(model)
        governance = governance_terms(model)
    finally:
        model.aggregates = None
    for name, term in industrial.items():
        terms[name] = term / len(industrial)
    for name, term in governance.items():
        terms[f"governance_{name}"] = term / len(governance)
    return terms


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
        step = max(1, round(nice_step(span / 100))) if is_int else nice_step(span / 100)
        result.append(ControlSpec(key, spec.unit, spec.doc, lo, hi, step, is_int))
    return result


def nice_step(raw: float) -> float:
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


def capability_shares(values: Mapping[str, Any]) -> dict[str, float]:
    """Each capability's share of the capability budget (``government.share_*`` keys): the
    weights normalised to sum 1 by the model's own rule (parameters.normalised); empty when
    every weight is 0, which the model refuses."""
    keys = [f"government.share_{c}" for c in CAPABILITY_NAMES]
    try:
        shares = normalised([float(values.get(k, 0.0)) for k in keys], "government.share_*")
    except ParameterError:
        return {}
    return dict(zip(keys, shares, strict=True))


def initiative_choices() -> list[tuple[str, str, str]]:
    """(name, title, key issue) of every shipped initiative, ordered by key issue then title:
    the initiative switches of the view."""
    specs = [load_initiative(name) for name in initiative_names()]
    return sorted(((s.name, s.title, s.key_issue) for s in specs), key=lambda row: (row[2], row[1]))


# --- what the view offers, and nothing else -----------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """The lists the view offers; every value coming from the browser is checked against
    them before anything is read (a value not listed is refused with the same message
    whether or not a file of that name exists).

    Attributes:
        presets: shipped preset names, then ``file: NAME.toml`` for each user preset.
        user_presets: ``file: NAME.toml`` -> the file, inside the configured folder only.
        policies: shipped policy package names, then ``file: NAME.toml`` for each user
            package (a package file is never loaded by a path the page sends).
        user_packages: ``file: NAME.toml`` -> the file, inside the configured folder only.
        allow_code: whether a user package may name a Python initiative class (``smartcity
            ui --allow-code``): it is imported and run, as with ``smartcity run
            --allow-code``; without it such a package is refused in one line.
    """

    presets: tuple[str, ...]
    user_presets: Mapping[str, Path]
    policies: tuple[str, ...]
    user_packages: Mapping[str, Path] = field(default_factory=dict)
    allow_code: bool = False

    def load(self, policy: str) -> PolicyPackage:
        """The listed package ``policy`` as shipped or as its user file says (InputError
        for anything not listed or invalid)."""
        if not isinstance(policy, str) or policy not in self.policies:
            raise InputError(
                f"policy package {str(policy)[:80]!r} is not one of the listed packages"
            )
        if policy in self.user_packages:
            return load_package(self.user_packages[policy], allow_code=self.allow_code)
        return load_package(policy)

    def package(self, config: CityConfig) -> PolicyPackage:
        """The package a listed configuration runs: its listed package with the planner's
        choices applied."""
        return config.applied_to(self.load(config.policy))

    def preset_source(self, choice: str) -> str:
        """The preset to load for a listed choice; InputError for anything not listed."""
        if not isinstance(choice, str) or choice not in self.presets:
            raise InputError(f"preset {str(choice)[:80]!r} is not one of the listed presets")
        return str(self.user_presets[choice]) if choice in self.user_presets else choice

    def check(self, config: CityConfig) -> None:
        """Raise InputError unless every choice of ``config`` is listed."""
        self.preset_source(config.preset)
        if not isinstance(config.policy, str) or config.policy not in self.policies:
            raise InputError(
                f"policy package {str(config.policy)[:80]!r} is not one of the listed packages"
            )
        if config.initiatives is not None:
            shipped = set(initiative_names())
            for name in config.initiatives:
                if not isinstance(name, str) or name not in shipped:
                    raise InputError(f"initiative {str(name)[:80]!r} is not one listed")
        if config.financing is not None and (
            not isinstance(config.financing, str)
            or config.financing not in (AS_IN_PACKAGE, *FINANCING_MODELS)
        ):
            raise InputError(f"financing {str(config.financing)[:80]!r} is not one listed")
        if config.unified_platform not in (None, True, False):
            raise InputError("unified platform must be on or off")
        years = {"start_years": dict(config.start_years), "stop_years": dict(config.stop_years)}
        validate(CityTable, years, "initiative start and stop years")
        if isinstance(config.seed, bool) or not isinstance(config.seed, int) or config.seed < 0:
            raise InputError(f"seed must be a whole number >= 0, got {config.seed!r}")
        keys = {key for key, _, _ in iter_specs()}
        for key, value in config.overrides.items():
            if key not in keys or not isinstance(value, int | float) or isinstance(value, bool):
                raise InputError(f"override {str(key)[:80]!r} is not a listed numeric parameter")


def _listed_files(folder: str | Path | None) -> dict[str, Path]:
    """``file: NAME.toml`` -> path for each ``*.toml`` directly in ``folder`` (none for None)."""
    listed: dict[str, Path] = {}
    if folder is not None:
        root = Path(folder).resolve()
        for path in sorted(root.glob("*.toml")):
            if path.is_file() and path.resolve().parent == root:
                listed[f"{USER_PRESET_PREFIX}{path.name}"] = path.resolve()
    return listed


def view_catalog(
    presets_dir: str | Path | None = None,
    packages_dir: str | Path | None = None,
    allow_code: bool | None = None,
) -> Catalog:
    """The view's lists: shipped presets and packages, the ``*.toml`` files directly in
    ``presets_dir`` and in ``packages_dir`` (defaults: the folders named by
    $SMARTCITY_PRESETS_DIR and $SMARTCITY_PACKAGES_DIR; none when unset), and whether user
    packages may run Python code (default: $SMARTCITY_ALLOW_CODE is "1")."""
    presets = _listed_files(
        presets_dir if presets_dir is not None else os.environ.get(PRESETS_ENV) or None
    )
    packages = _listed_files(
        packages_dir if packages_dir is not None else os.environ.get(PACKAGES_ENV) or None
    )
    code = os.environ.get(ALLOW_CODE_ENV) == "1" if allow_code is None else allow_code
    return Catalog(
        (*preset_names(), *presets),
        presets,
        (*package_names(), *packages),
        packages,
        code,
    )


def effective_overrides(config: CityConfig, catalog: Catalog) -> dict[str, Any]:
    """The overrides a configuration runs with: a shipped preset starts at VIEW_CITIZENS
    citizens unless the planner set the count; a user preset keeps its own count."""
    if config.preset in catalog.user_presets:
        return dict(config.overrides)
    return {"citizens.count": VIEW_CITIZENS, **config.overrides}


def build_city(config: CityConfig, catalog: Catalog) -> CityModel:
    """The CityModel of a listed configuration (InputError for anything not listed or bad)."""
    catalog.check(config)
    overrides = effective_overrides(config, catalog)
    kwargs = {k.replace(".", "__"): v for k, v in overrides.items()}
    preset = catalog.preset_source(config.preset)
    package = catalog.package(config)
    return CityModel(preset, seed=int(config.seed), policy=package, **kwargs)


# --- the view's run -----------------------------------------------------------------------


@dataclass
class CityRun:
    """One configuration of the view's run: its models (one per paired seed), the snapshots
    of the first seed's districts at every step, or the error that stopped it."""

    config: CityConfig
    label: str
    name: str = "A"
    models: list[CityModel] = field(default_factory=list)
    history: list[Snapshot] = field(default_factory=list)
    error: str | None = None
    _shapes: list[dict[str, Any]] | None = field(default=None, repr=False)
    _bounds: tuple[float, float, float, float] | None = field(default=None, repr=False)

    @property
    def shapes(self) -> list[dict[str, Any]]:
        """The districts' areas (district_shapes of the first seed's city, made once: the
        districts of a run do not move)."""
        if self._shapes is None:
            self._shapes = district_shapes(self.model)
        return self._shapes

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """min x, min y, max x, max y of the districts' areas [km] (made once, as the
        shapes)."""
        if self._bounds is None:
            self._bounds = shape_bounds(self.shapes)
        return self._bounds

    @property
    def model(self) -> CityModel:
        """The model of the first seed (the one the map and the inspector show)."""
        return self.models[0]

    @property
    def ok(self) -> bool:
        """Built and not stopped by an error."""
        return self.error is None and bool(self.models)

    @property
    def seed_label(self) -> str:
        """The label, and with several paired seeds the seed whose districts and time series
        the map, the inspector and the metric charts show (the first; the comparison card and
        the end-year table average all of them)."""
        seeds = len(self.models)
        return (
            f"{self.label}, seed {self.config.seed} (first of {seeds})" if seeds > 1 else self.label
        )

    def shown(self, step: int) -> str:
        """Title of the map and the inspector at ``step``: the seed label and the year."""
        return f"{self.seed_label}, year {self.history[step].year:.2f}"


class ViewRun:
    """What the view steps: configuration A, or A, B, C, ... compared, each over ``seeds``
    paired seeds (seed, seed + 1, ...), stepped together.

    Bad input does not raise: an unlisted choice or an invalid configuration is kept as that
    configuration's ``error`` and the other one still runs. Stepping and reading share one
    lock (``lock``), so the page never draws a half-stepped city.

    Args:
        cities: the configurations (one, or several compared), CityConfig or dicts of its
            fields.
        seeds: paired seeds per configuration (1 to scenario.MAX_SEEDS).
        catalog: the lists choices are checked against (default :func:`view_catalog`).
        years: the horizon (the "run to year" default and a saved scenario's years).
    """

    def __init__(
        self,
        cities: Sequence[CityConfig | Mapping[str, Any]] | None = None,
        *,
        seeds: int = 1,
        catalog: Catalog | None = None,
        years: float = 5.0,
    ):
        self.lock = threading.RLock()
        self.catalog = catalog or view_catalog()
        self.seeds = seeds
        self.years = years
        configs = [c if isinstance(c, CityConfig) else CityConfig(**c) for c in cities or [{}]]
        compared = len(configs) > 1
        self.runs: list[CityRun] = []
        for i, config in enumerate(configs):
            label = f"{LETTERS[i]}: {config.label()}" if compared else config.label()
            run = CityRun(config, label, LETTERS[i])
            try:
                for k in range(seeds):
                    seeded = CityConfig(**{**config.__dict__, "seed": config.seed + k})
                    run.models.append(build_city(seeded, self.catalog))
                run.history.append(snapshot(run.model, run.models[1:]))
            except InputError as exc:
                run.models = []
                run.error = f"configuration {LETTERS[i]}: {exc}" if compared else str(exc)
            self.runs.append(run)

    @property
    def configs(self) -> list[CityConfig]:
        """The configurations, A first."""
        return [run.config for run in self.runs]

    @property
    def live(self) -> list[CityRun]:
        """The configurations that are built and not stopped."""
        return [run for run in self.runs if run.ok]

    @property
    def errors(self) -> list[str]:
        """The error of each configuration that has one."""
        return [run.error for run in self.runs if run.error is not None]

    @property
    def steps(self) -> int:
        """Steps made (all live configurations are at the same step)."""
        live = self.live or [r for r in self.runs if r.models]
        return int(live[0].model.steps) if live else 0

    @property
    def steps_per_year(self) -> int:
        """Steps per simulated year (12 by default: one step is one month)."""
        live = [r for r in self.runs if r.models]
        return int(live[0].model.steps_per_year) if live else 12

    def scenario(self) -> Scenario:
        """This run as a scenario (to save, share and re-run with ``smartcity run``), with
        the population the view runs written out."""
        configs = [
            CityConfig(**{**c.__dict__, "overrides": effective_overrides(c, self.catalog)})
            for c in self.configs
        ]
        return Scenario.of(configs, self.years, self.seeds)

    def step(self) -> bool:
        """Step every live configuration once (all seeds together) and keep a snapshot;
        False when nothing is left to step."""
        with self.lock:
            live = self.live
            for run in live:
                try:
                    for model in run.models:
                        model.step()
                    run.history.append(snapshot(run.model, run.models[1:]))
                except (InputError, InvariantError, FloatingPointError) as exc:
                    where = f"configuration {run.name}: " if len(self.runs) > 1 else ""
                    run.error = f"{where}the run stopped at step {run.model.steps}: {exc}"
            return bool(self.live)

    def frames(self) -> list[pd.DataFrame]:
        """Metrics of each built configuration's first seed, one row per step."""
        return [seeds[0] for seeds in recorded(self).frames]


# --- comparison: each configuration against a reference ---------------------------------


@dataclass(frozen=True)
class Recorded:
    """The recorded metrics of every built configuration, each paired seed's frame (one row
    per step, :meth:`CityModel.metrics_frame`), taken once under the run's lock: a redraw
    reads the models once, and its charts and tables agree with each other."""

    names: tuple[str, ...]
    labels: tuple[str, ...]
    frames: tuple[tuple[pd.DataFrame, ...], ...]

    @property
    def steps(self) -> int:
        """Steps every configuration and seed has recorded."""
        return min(len(f) for seeds in self.frames for f in seeds)

    def at(self, step: int | None) -> int:
        """The row of ``step`` (None = the last every frame has)."""
        last = self.steps - 1
        return last if step is None else min(step, last)

    def paired(self, metric: str, index: int, reference: int) -> np.ndarray:
        """Configuration ``index`` minus ``reference`` of ``metric``: one row per paired
        seed, one column per step both have."""
        steps = self.steps
        pairs = zip(self.frames[reference], self.frames[index], strict=True)
        return np.array(
            [fx[metric].to_numpy()[:steps] - fr[metric].to_numpy()[:steps] for fr, fx in pairs]
        )

    def versus(self, reference: int) -> list[tuple[int, str]]:
        """(index, "X - R") of every configuration but the reference."""
        ref = self.names[reference]
        return [(i, f"{x} - {ref}") for i, x in enumerate(self.names) if i != reference]


def recorded(run: ViewRun) -> Recorded:
    """The recorded metrics of every built configuration of ``run``, under its lock."""
    with run.lock:
        built = [r for r in run.runs if r.models]
        return Recorded(
            tuple(r.name for r in built),
            tuple(r.seed_label for r in built),
            tuple(tuple(m.metrics_frame() for m in r.models) for r in built),
        )


def same_districts(a: CityRun, b: CityRun) -> bool:
    """Whether two configurations are the same city graph (a district-by-district
    difference means something only then)."""
    da, db = a.model.districts, b.model.districts
    return da.names == db.names and np.array_equal(da.edges, db.edges)


def paired_differences(rec: Recorded, metrics: Sequence[str], reference: int = 0) -> pd.DataFrame:
    """Each configuration X minus the reference R of ``metrics`` at every step, over the
    paired seeds: columns configuration ("X - R"), step, year, metric, mean, lo, hi (the
    paired 95% t interval; lo = hi = mean for one seed)."""
    steps = rec.steps
    years = rec.frames[reference][0]["year"].to_numpy()[:steps]
    rows = []
    for index, name in rec.versus(reference):
        for metric in metrics:
            mean, lo, hi = difference_interval(rec.paired(metric, index, reference))
            rows.append(
                pd.DataFrame(
                    {
                        "configuration": name,
                        "step": np.arange(steps),
                        "year": years,
                        "metric": metric,
                        "mean": mean,
                        "lo": lo,
                        "hi": hi,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def district_differences(ref: CityRun, other: CityRun, step: int, metric: str) -> pd.DataFrame:
    """``other`` minus ``ref`` of a map metric in every district at ``step``, paired over
    every seed: columns district, mean, lo, hi (paired 95% t interval) and ``includes_zero``
    (the interval holds 0: no difference shown with confidence; always True for one seed,
    whose difference has no interval)."""
    pairs = zip(ref.history[step].seed_values, other.history[step].seed_values, strict=True)
    diffs = np.array([vx[metric] - vr[metric] for vr, vx in pairs])
    mean, lo, hi = difference_interval(diffs)
    return pd.DataFrame(
        {
            "district": np.arange(len(mean)),
            "mean": mean,
            "lo": lo,
            "hi": hi,
            "includes_zero": (lo <= 0) & (hi >= 0) if len(diffs) > 1 else True,
        }
    )


def difference_domain(ref: CityRun, others: Sequence[CityRun], metric: str) -> float:
    """Largest |X - R| of ``metric`` (mean over the paired seeds) over every configuration
    of ``others`` and the steps all have stored: one diverging scale for every difference
    map of a comparison (at least a tiny positive number, so it is never empty)."""
    steps = min(len(r.history) for r in (ref, *others))
    worst = 0.0
    for other in others:
        for t in range(steps):
            pairs = zip(ref.history[t].seed_values, other.history[t].seed_values, strict=True)
            mean = np.mean([vx[metric] - vr[metric] for vr, vx in pairs], axis=0)
            worst = max(worst, float(np.nanmax(np.abs(mean))))
    return max(worst, 1e-9)


MIN_EXTRA_SPENDING = 1.0
"""Extra public spending [M] below which a difference per 100 M is not shown: dividing by
almost nothing would make noise look like a return. Lower than the batch comparison's 10 M
(experiments.compare) because the view's cities are small and read early in a run."""
SPENDING_METRIC = "public_spending"


def end_year_table(
    rec: Recorded, metrics: Sequence[str], step: int | None = None, reference: int = 0
) -> pd.DataFrame:
    """Every configuration at ``step`` (default the last): one row per metric and
    configuration, the public spending first (cumulative; its difference is the extra
    spending), with columns metric, unit, configuration, value (mean over the paired
    seeds), difference to the reference with its paired 95% interval (lo, hi), % of the
    reference and the difference per 100 M of the configuration's extra public spending
    (NaN for the reference and when it spends less than MIN_EXTRA_SPENDING more: white
    paper 7, what a path costs the public purse)."""
    at = rec.at(step)

    def mean_at(index: int, metric: str) -> float:
        return float(np.mean([f[metric].iloc[at] for f in rec.frames[index]]))

    extra = [mean_at(i, SPENDING_METRIC) - mean_at(reference, SPENDING_METRIC)
             for i in range(len(rec.names))]  # fmt: skip
    rows = []
    for metric in dict.fromkeys((SPENDING_METRIC, *metrics)):
        base = mean_at(reference, metric)
        for index, name in enumerate(rec.names):
            value = mean_at(index, metric)
            mean, lo, hi = difference_interval(rec.paired(metric, index, reference)[:, at])
            money = metric != SPENDING_METRIC and extra[index] >= MIN_EXTRA_SPENDING
            rows.append(
                {
                    "metric": metric,
                    "unit": METRICS[metric].unit,
                    "configuration": name,
                    "reference": index == reference,
                    "value": value,
                    "difference": float(mean) if index != reference else math.nan,
                    "lo": float(lo) if index != reference else math.nan,
                    "hi": float(hi) if index != reference else math.nan,
                    "%": 100 * (value - base) / abs(base)
                    if base != 0 and index != reference
                    else math.nan,
                    "per 100 M": float(mean) / (extra[index] / 100) if money else math.nan,
                }
            )
    return pd.DataFrame(rows)


def term_table(run: ViewRun, step: int | None = None, reference: int = 0) -> pd.DataFrame:
    """Why each index moved: every term of every index (:data:`INDEX_TERMS`) as its
    contribution to the index for each built configuration (columns A, B, ...) and each
    configuration's difference to the reference (columns "B - A", ...), at ``step``
    (default the last stored), averaged over the paired seeds; each index's contributions
    add up to the index."""
    with run.lock:
        built = [r for r in run.runs if r.models]
        last = min(len(r.history) for r in built) - 1
        at = last if step is None else min(step, last)
        terms = {r.name: r.history[at].terms for r in built}
    ref = built[reference].name
    rows = []
    for index, names in INDEX_TERMS.items():
        for term in names:
            row: dict[str, Any] = {"index": index, "term": term}
            row.update({x: float(np.mean([t[term] for t in ts])) for x, ts in terms.items()})
            row.update({f"{x} - {ref}": row[x] - row[ref] for x in terms if x != ref})
            rows.append(row)
    return pd.DataFrame(rows)


def comparison_table(run: ViewRun, metrics: Sequence[str], reference: int = 0) -> pd.DataFrame:
    """The comparison as an export: at every stored step, the end-year table's rows (money
    included) and the index terms, one row per step, quantity and configuration (columns
    step, year, kind, index, quantity, unit, configuration, value, difference (to the
    reference), lo, hi, per 100 M); empty without a second configuration."""
    built = [r for r in run.runs if r.models]
    if len(built) < 2:
        return pd.DataFrame()
    rec = recorded(run)
    frames = []
    for step in range(min(rec.steps, *(len(r.history) for r in built))):
        year = built[reference].history[step].year
        table = end_year_table(rec, metrics, step, reference).rename(columns={"metric": "quantity"})
        table.insert(0, "index", "")
        table.insert(0, "kind", "metric")
        ref = rec.names[reference]
        terms = pd.DataFrame(
            [
                {"index": r["index"], "quantity": r["term"], "configuration": x,
                 "value": r[x], "difference": r.get(f"{x} - {ref}", math.nan)}
                for r in term_table(run, step, reference).to_dict("records")
                for x in rec.names
            ]
        )  # fmt: skip
        terms.insert(0, "kind", "index term")
        terms["unit"] = "index points"
        for part in (table, terms):
            part.insert(0, "year", year)
            part.insert(0, "step", step)
        frames += [table.drop(columns=["%", "reference"]), terms]
    return pd.concat(frames, ignore_index=True)


# --- export -------------------------------------------------------------------------------


def _with_config(frame: pd.DataFrame, which: str, config: CityConfig, seed: int) -> pd.DataFrame:
    frame.insert(0, "seed", seed)
    frame.insert(0, "policy_choices", config.choices_text())
    frame.insert(0, "policy", config.policy)
    frame.insert(0, "preset", config.preset)
    frame.insert(0, "configuration", which)
    return frame


def metrics_table(run: ViewRun) -> pd.DataFrame:
    """City metrics of every configuration and seed of the run, one row per configuration,
    seed and step; column names carry the unit from the metric registry
    (``population [citizens]``)."""
    frames = []
    with run.lock:
        for city in run.runs:
            for k, model in enumerate(city.models):
                seed = city.config.seed + k
                frame = _with_config(model.metrics_frame(), city.name, city.config, seed)
                frames.append(frame)
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    units = {name: f"{name} [{spec.unit}]" for name, spec in METRICS.items()}
    return table.rename(columns={"year": "year [years]", **units})


def district_table(run: ViewRun) -> pd.DataFrame:
    """Every district of every configuration at every stored step (the first seed), one row
    per configuration, step and district: the map's values and the inspector's summary,
    column names carrying their units (``population [residents]``)."""
    frames = []
    with run.lock:
        for city in run.runs:
            if not city.models:
                continue
            d = city.model.districts
            for snap in city.history:
                columns: dict[str, Any] = {
                    "district": np.arange(d.n),
                    "name": d.names,
                    "kind": [DISTRICT_KINDS[k] for k in d.kind],
                }
                for name, spec in DISTRICT_METRICS.items():
                    columns[f"{name} [{spec.unit}]"] = snap.values[name]
                for name, unit in SUMMARY_UNITS.items():
                    if name not in DISTRICT_METRICS:
                        columns[f"{name} [{unit}]"] = snap.summary[name]
                columns["firms [firms]"] = snap.firms.sum(axis=1)
                frame = pd.DataFrame(columns)
                frame.insert(0, "year [years]", snap.year)
                frame.insert(0, "step", snap.step)
                frame = _with_config(frame, city.name, city.config, city.config.seed)
                frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def table_bytes(table: pd.DataFrame, fmt: str) -> bytes:
    """A table as CSV or Parquet bytes (``fmt`` "csv" or "parquet")."""
    if fmt == "csv":
        return table.to_csv(index=False).encode()
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    return buffer.getvalue()

"""Scenarios: a city configuration (or several, compared) that can be saved, shared and re-run.

A scenario names a preset, a policy package with the planner's changes to it (initiatives
switched on or off, one financing model, the unified data platform), parameter overrides, a
seed and a horizon in years; optionally more configurations B, C, ... compared with A under
the same seed and overrides (a city's paths, the baseline and the placebo side by side). The
planners' view saves and loads scenarios as TOML files and in its shareable URL, and
``smartcity run --scenario FILE`` runs configuration A of one (``--configuration c`` another),
so a scenario explored in the view is reproduced bit for bit from the command line.

File format (every key but ``[a]`` optional)::

    years = 5.0            # horizon of the run [years]
    seed = 1               # shared by every configuration (non-negative)
    seeds = 1              # paired seeds of a comparison (1-5)
    [overrides]            # parameter values, "section.name" = value
    "citizens.count" = 5000
    [a]
    preset = "emerging"    # a shipped preset or a preset file
    policy = "baseline"    # a shipped policy package
    initiatives = ["online_government"]   # switched on (absent = as in the package)
    financing = "ppp"      # one financing model for all initiatives
    unified_platform = true
    start_years = { online_government = 2.0 }   # model year an initiative starts
    stop_years = { online_government = 4.0 }    # model year it stops (its spending and
                                                # effects end; what it built stays)
                           # (the package's lever groups too: sectors, new_infrastructure,
                           # unified_platform, e.g. start_years = { sectors = 3.0 })
    [b]                    # a second configuration, compared with A
    preset = "emerging"
    policy = "emerging-breakthrough"
    [c]                    # a third one (then [d], ...: each needs the one before it)
    preset = "emerging"
    policy = "placebo"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, create_model

from smartcity.policies.financing import FINANCING_MODELS, financing_model
from smartcity.policies.initiatives import initiative_names, load_initiative
from smartcity.policies.packages import (
    LEVER_GROUPS,
    InitiativePlan,
    LeverPhase,
    PolicyPackage,
    check_phase,
    load_package,
)
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.schema import (
    Schema,
    number,
    parse_toml,
    read_text,
    toml_text,
    validate,
)

AS_IN_PACKAGE = "as in package"
"""Financing choice that keeps each initiative's financing model from the package."""
NEW_INITIATIVE_FINANCING = "government"
"""Financing model of an initiative switched on that the package does not include."""
MAX_SEEDS = 5
"""Most paired seeds a comparison runs (each seed runs every configuration)."""
MAX_YEARS = 200.0
"""Longest horizon a scenario may ask for [years]."""

CONFIGURATION_NAMES = "abcdefghijklmnopqrstuvwxyz"
"""The tables of a scenario's configurations, in order: A, then B, C, ... compared with it."""
PHASE_KEYS = ("start_years", "stop_years")
"""Tables of a configuration giving initiatives' start and stop years."""


def apply_policy_choices(
    package: PolicyPackage,
    initiatives: Iterable[str] | None = None,
    financing: str | Mapping[str, str] | None = None,
    unified_platform: bool | None = None,
    start_years: Mapping[str, float] | None = None,
    stop_years: Mapping[str, float] | None = None,
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
        start_years, stop_years: initiative or lever group (LEVER_GROUPS) name -> the model
            year it starts, or stops (replacing its plan's or its ``[phases]`` table's; an
            initiative switched on, or a lever group the package uses, must be named).

    Returns:
        A new PolicyPackage (the same object when nothing changes); CityModel accepts it as
        ``policy``. Raises InputError for an unknown initiative or financing model, an
        initiative whose required initiative is switched off, a start or stop year of one
        switched off, or a stop year not after its start year.
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
        plan = replace(
            plan,
            start_year=float((start_years or {}).get(name, plan.start_year)),
            stop_year=(stop_years or {}).get(name, plan.stop_year),
        )
        check_phase(f"{where}, {name}", plan.start_year, plan.stop_year)
        chosen.append(plan)
    for what, given, groups in (
        ("financing", per_initiative, ()),
        ("a start year", start_years or {}, LEVER_GROUPS),
        ("a stop year", stop_years or {}, LEVER_GROUPS),
    ):
        for name in given:
            if name not in names and name not in groups:
                raise InputError(f"{where}: {what} given for '{name}', which is switched off")
    for plan in chosen:
        for needed in plan.spec.requires:
            if needed not in names:
                raise InputError(
                    f"{where}: initiative '{plan.spec.name}' requires initiative '{needed}'; "
                    "switch it on too"
                )
    unified = package.unified_platform if unified_platform is None else bool(unified_platform)
    changed = replace(package, unified_platform=unified, initiatives=tuple(chosen))
    phases = _lever_phases(changed, start_years or {}, stop_years or {}, where)
    if (tuple(chosen), unified, phases) == (package.initiatives, package.unified_platform,
                                            package.phases):  # fmt: skip
        return package
    return replace(changed, phases=phases)


def _lever_phases(
    package: PolicyPackage,
    start_years: Mapping[str, float],
    stop_years: Mapping[str, float],
    where: str,
) -> dict[str, LeverPhase]:
    """The phases of the lever groups ``package`` uses (a group switched off loses its
    phase), with the start and stop years given for groups; one-line InputError for years
    given for a group it does not use or a stop not after the start."""
    used = package.lever_groups()
    phases = {group: phase for group, phase in package.phases.items() if group in used}
    for group in LEVER_GROUPS:
        if group not in start_years and group not in stop_years:
            continue
        if group not in used:
            raise InputError(
                f"{where}: a start or stop year given for lever group '{group}', which the "
                f"package does not use (its lever groups: {', '.join(used) or 'none'})"
            )
        phase = package.phase(group)
        phases[group] = LeverPhase(
            float(start_years.get(group, phase.start_year)),
            stop_years.get(group, phase.stop_year),
        )
        check_phase(f"{where}, {group}", phases[group].start_year, phases[group].stop_year,
                    "a lever group")  # fmt: skip
    return phases


@dataclass(frozen=True)
class CityConfig:
    """One configuration: preset, policy package, seed, overrides, and the planner's changes
    to the package (see :func:`apply_policy_choices`; None = as in it)."""

    preset: str = "mature"
    policy: str = "baseline"
    seed: int = 1
    overrides: Mapping[str, Any] = field(default_factory=dict)
    initiatives: tuple[str, ...] | None = None
    financing: str | Mapping[str, str] | None = None
    unified_platform: bool | None = None
    start_years: Mapping[str, float] = field(default_factory=dict)
    stop_years: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.initiatives is not None and not isinstance(self.initiatives, tuple):
            object.__setattr__(self, "initiatives", tuple(self.initiatives))

    def changed(self) -> bool:
        """Whether the planner changed any of the package's own choices."""
        return (
            self.initiatives is not None
            or self.financing not in (None, AS_IN_PACKAGE)
            or self.unified_platform is not None
            or bool(self.start_years)
            or bool(self.stop_years)
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
        for key, years in zip(PHASE_KEYS, (self.start_years, self.stop_years), strict=True):
            if years:
                parts.append(f"{key}={','.join(f'{k}:{v:g}' for k, v in years.items())}")
        return "; ".join(parts)

    def applied_to(self, package: PolicyPackage) -> PolicyPackage:
        """``package`` (this configuration's, loaded) with the planner's choices."""
        if not self.changed():
            return package
        return apply_policy_choices(
            package,
            self.initiatives,
            self.financing,
            self.unified_platform,
            self.start_years,
            self.stop_years,
        )

    def package(self) -> PolicyPackage:
        """The policy package with the planner's choices (raises InputError for bad input)."""
        return self.applied_to(load_package(self.policy))


@dataclass(frozen=True)
class Scenario:
    """Configuration A (and B, then ``more``: C, D, ... when compared), the horizon and the
    number of paired seeds.

    Every configuration shares the seed and the overrides (a comparison changes only what
    each configuration names); ``more`` needs a B.
    """

    a: CityConfig
    b: CityConfig | None = None
    years: float = 5.0
    seeds: int = 1
    more: tuple[CityConfig, ...] = ()

    def __post_init__(self) -> None:
        if self.more and self.b is None:
            raise ValueError("configurations after B need a B")
        object.__setattr__(self, "more", tuple(self.more))

    @property
    def cities(self) -> list[CityConfig]:
        """A, then B, C, ... when compared."""
        return [self.a] if self.b is None else [self.a, self.b, *self.more]

    def named(self, name: str | None, source: str) -> CityConfig:
        """Configuration ``name`` ("a", "b", ...; None = "a"); one-line InputError for a
        name the scenario does not have."""
        names = CONFIGURATION_NAMES[: len(self.cities)]
        key = "a" if name is None else name.strip().lower()
        if len(key) != 1 or key not in names:
            raise InputError(
                f"{source} has configurations {', '.join(names)}; --configuration {name!r} "
                "is not one of them"
            )
        return self.cities[names.index(key)]

    @classmethod
    def of(cls, cities: list[CityConfig], years: float = 5.0, seeds: int = 1) -> Scenario:
        """The scenario of configurations A, B, C, ... (at least one)."""
        return cls(cities[0], cities[1] if len(cities) > 1 else None, years, seeds,
                   tuple(cities[2:]))  # fmt: skip


def _city_table(config: CityConfig) -> dict[str, Any]:
    table: dict[str, Any] = {"preset": config.preset, "policy": config.policy}
    if config.initiatives is not None:
        table["initiatives"] = list(config.initiatives)
    if isinstance(config.financing, str) and config.financing != AS_IN_PACKAGE:
        table["financing"] = config.financing
    if config.unified_platform is not None:
        table["unified_platform"] = config.unified_platform
    for key in PHASE_KEYS:
        if getattr(config, key):
            table[key] = {name: float(year) for name, year in getattr(config, key).items()}
    return table


def scenario_toml(scenario: Scenario) -> str:
    """The scenario as TOML text (the file format of this module's docstring)."""
    document: dict[str, Any] = {
        "years": float(scenario.years),
        "seed": int(scenario.a.seed),
        "seeds": int(scenario.seeds),
        "overrides": dict(sorted(scenario.a.overrides.items())),
    }
    for name, config in zip(CONFIGURATION_NAMES, scenario.cities, strict=False):
        document[name] = _city_table(config)
    return toml_text(
        document,
        "smartcity scenario: smartcity run --scenario FILE runs configuration A "
        "(--configuration b runs B, ...)",
    )


Year = number(0.0, MAX_YEARS, "model year")
InitiativeName = Literal[tuple(initiative_names())]
PhaseName = Literal[(*initiative_names(), *LEVER_GROUPS)]


class CityTable(Schema):
    """One configuration table, ``[a]``, ``[b]``, ``[c]``, ..., of a scenario file."""

    preset: str = "mature"
    policy: str = "baseline"
    initiatives: Annotated[tuple[InitiativeName, ...], Field(strict=False)] | None = None
    financing: Literal[(AS_IN_PACKAGE, *FINANCING_MODELS)] | None = None
    unified_platform: bool | None = None
    start_years: dict[PhaseName, Year] = Field(default_factory=dict)
    stop_years: dict[PhaseName, Year] = Field(default_factory=dict)


class ScenarioSchema(Schema):
    """A scenario file (the file format of this module's docstring)."""

    years: Annotated[float, Field(gt=0.0, le=MAX_YEARS, allow_inf_nan=False)] = 5.0
    seed: Annotated[int, Field(ge=0)] = 1
    seeds: Annotated[int, Field(ge=1, le=MAX_SEEDS)] = 1
    overrides: dict[str, bool | int | float | str] = Field(default_factory=dict)
    a: CityTable


ScenarioSchema = create_model(
    "ScenarioSchema",
    __base__=ScenarioSchema,
    __doc__=ScenarioSchema.__doc__,
    **{name: (CityTable | None, None) for name in CONFIGURATION_NAMES[1:]},
)
"""A scenario file: [a], and [b], [c], ... when compared (tables named by the letters)."""


def _listed(source: str, key: str, value: str, allowed: Iterable[str] | None) -> str:
    if allowed is not None:
        listed = list(allowed)
        if value not in listed:
            raise InputError(f"{source}: {key} '{value}' is not one of: {', '.join(listed)}")
    return value


def _city(
    source: str,
    table: CityTable,
    seed: int,
    overrides: dict[str, Any],
    presets: Iterable[str] | None,
    policies: Iterable[str] | None,
) -> CityConfig:
    return CityConfig(
        _listed(source, "preset", table.preset, presets),
        _listed(source, "policy", table.policy, policies),
        seed,
        overrides,
        table.initiatives,
        table.financing,
        table.unified_platform,
        dict(table.start_years),
        dict(table.stop_years),
    )


def parse_scenario(
    data: Mapping[str, Any],
    source: str,
    *,
    presets: Iterable[str] | None = None,
    policies: Iterable[str] | None = None,
) -> Scenario:
    """A Scenario from parsed TOML, every key checked; one-line InputError otherwise.

    Args:
        data: the parsed TOML document.
        source: where it came from, for error messages.
        presets: the preset names allowed (the view passes its list: a scenario cannot name
            a file it does not list); None allows any name or path the CLI accepts.
        policies: the policy package names allowed, in the same way.
    """
    document = validate(ScenarioSchema, data, source)
    named = [name for name in CONFIGURATION_NAMES if getattr(document, name) is not None]
    if named != list(CONFIGURATION_NAMES[: len(named)]):
        gap = next(n for n, m in zip(CONFIGURATION_NAMES, named, strict=False) if n != m)
        raise InputError(
            f"{source}: table [{gap}] is missing: configurations are [a], [b], [c], ... "
            "without a gap"
        )
    cities = [
        _city(f"{source} [{name}]", getattr(document, name), document.seed,
              dict(document.overrides), presets, policies)
        for name in named
    ]  # fmt: skip
    return Scenario.of(cities, float(document.years), document.seeds)


def scenario_from_text(
    text: str,
    source: str,
    *,
    presets: Iterable[str] | None = None,
    policies: Iterable[str] | None = None,
) -> Scenario:
    """Parse scenario TOML text (see :func:`parse_scenario`); a byte-order mark is ignored,
    bad syntax or too deep nesting is one InputError line."""
    return parse_scenario(parse_toml(text, source), source, presets=presets, policies=policies)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file through the one input reader (UTF-8 with or without a
    byte-order mark, a regular file) and check every part of it: each configuration resolves to a
    valid parameter set under a valid package. One-line InputError otherwise."""
    scenario = scenario_from_text(read_text(path, "scenario"), str(path))
    check_scenario(scenario, str(path))
    return scenario


def check_scenario(scenario: Scenario, source: str) -> None:
    """Resolve each configuration of a scenario (preset, package with its choices,
    overrides), so a bad name or value in [a], [b], ... is refused before anything runs.

    Raises:
        InputError: ``SOURCE [a|b|...]: <the model's message>``.
    """
    for name, config in zip(CONFIGURATION_NAMES, scenario.cities, strict=False):
        try:
            resolve_parameters(config.preset, dict(config.overrides), config.package())
        except InputError as exc:
            raise InputError(f"{source} [{name}]: {exc}") from None

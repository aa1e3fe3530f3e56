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
    [b]                    # a second configuration, compared with A
    preset = "emerging"
    policy = "emerging-breakthrough"
    [c]                    # a third one (then [d], ...: each needs the one before it)
    preset = "emerging"
    policy = "placebo"
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from smartcity.policies.financing import FINANCING_MODELS, financing_model
from smartcity.policies.initiatives import initiative_names, load_initiative
from smartcity.policies.packages import InitiativePlan, PolicyPackage, load_package
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.schema import parse_toml, read_text, toml_text

AS_IN_PACKAGE = "as in package"
"""Financing choice that keeps each initiative's financing model from the package."""
NEW_INITIATIVE_FINANCING = "government"
"""Financing model of an initiative switched on that the package does not include."""
MAX_SEEDS = 5
"""Most paired seeds a comparison runs (each seed runs both configurations)."""
MAX_YEARS = 200.0
"""Longest horizon a scenario may ask for [years]."""

CONFIGURATION_NAMES = "abcdefghijklmnopqrstuvwxyz"
"""The tables of a scenario's configurations, in order: A, then B, C, ... compared with it."""
CITY_KEYS = ("preset", "policy", "initiatives", "financing", "unified_platform")
SCENARIO_KEYS = ("years", "seed", "seeds", "overrides", *CONFIGURATION_NAMES)


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


def _fail(source: str, message: str) -> InputError:
    return InputError(f"{source}: {message}")


def _choice(source: str, key: str, value: Any, allowed: Iterable[str] | None) -> str:
    if not isinstance(value, str):
        raise _fail(source, f"{key} must be a text, got {value!r}")
    if allowed is not None:
        listed = list(allowed)
        if value not in listed:
            raise _fail(source, f"{key} '{value}' is not one of: {', '.join(listed)}")
    return value


def _city(
    source: str,
    table: Any,
    seed: int,
    overrides: dict[str, Any],
    presets: Iterable[str] | None,
    policies: Iterable[str] | None,
) -> CityConfig:
    if not isinstance(table, dict):
        raise _fail(source, f"must be a table with {', '.join(CITY_KEYS)}")
    unknown = sorted(set(table) - set(CITY_KEYS))
    if unknown:
        raise _fail(source, f"unknown key '{unknown[0]}'; allowed: {', '.join(CITY_KEYS)}")
    preset = _choice(source, "preset", table.get("preset", "mature"), presets)
    policy = _choice(source, "policy", table.get("policy", "baseline"), policies)
    initiatives = table.get("initiatives")
    if initiatives is not None:
        if not isinstance(initiatives, list):
            raise _fail(source, f"initiatives must be a list of names, got {initiatives!r}")
        shipped = initiative_names()
        for name in initiatives:
            _choice(source, "initiative", name, shipped)
        initiatives = tuple(initiatives)
    financing = table.get("financing")
    if financing is not None:
        _choice(source, "financing", financing, [AS_IN_PACKAGE, *FINANCING_MODELS])
    unified = table.get("unified_platform")
    if unified is not None and not isinstance(unified, bool):
        raise _fail(source, f"unified_platform must be true or false, got {unified!r}")
    return CityConfig(preset, policy, seed, overrides, initiatives, financing, unified)


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
    unknown = sorted(set(data) - set(SCENARIO_KEYS))
    if unknown:
        allowed = ", ".join(SCENARIO_KEYS[:6])
        raise _fail(source, f"unknown key '{unknown[0]}'; allowed: {allowed}, c, ... (one table "
                    "per configuration)")  # fmt: skip
    years = data.get("years", 5.0)
    if (
        isinstance(years, bool)
        or not isinstance(years, int | float)
        or not math.isfinite(years)
        or not 0 < years <= MAX_YEARS
    ):
        raise _fail(source, f"years must be a number in (0, {MAX_YEARS:g}], got {years!r}")
    seed = data.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _fail(source, f"seed must be a non-negative whole number, got {seed!r}")
    seeds = data.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise _fail(source, f"seeds must be a whole number from 1 to {MAX_SEEDS}, got {seeds!r}")
    overrides = data.get("overrides", {})
    if not isinstance(overrides, dict) or not all(
        isinstance(v, bool | int | float | str) for v in overrides.values()
    ):
        raise _fail(source, "[overrides] must map 'section.name' to numbers, texts or booleans")
    if "a" not in data:
        raise _fail(source, "missing table [a] (preset and policy of configuration A)")
    named = [name for name in CONFIGURATION_NAMES if name in data]
    if named != list(CONFIGURATION_NAMES[: len(named)]):
        gap = next(n for n, m in zip(CONFIGURATION_NAMES, named, strict=False) if n != m)
        raise _fail(source, f"table [{gap}] is missing: configurations are [a], [b], [c], ... "
                    "without a gap")  # fmt: skip
    cities = [
        _city(f"{source} [{name}]", data[name], seed, dict(overrides), presets, policies)
        for name in named
    ]
    return Scenario.of(cities, float(years), seeds)


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

"""Policy packages: named development paths composed in TOML (white paper 5.1).

A package composes initiatives (each with a financing model, start and stop year and scale), a
capability budget and its split across the six capabilities, new-infrastructure
investment, sector priorities, the unified-data-platform switch, the years each of those
three lever groups starts and stops (``[phases]``) and optional parameter overrides.
Shipped packages live in policies/packages/; a user's package is any TOML file of the same
form. Everything is validated when loaded: an unknown initiative, field,
financing model or infrastructure kind, or a prerequisite that can never be met, is a
one-line error.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from smartcity.policies.financing import FINANCING_MODELS, FinancingModel
from smartcity.policies.initiatives import Initiative, InitiativeSpec, load_initiative
from smartcity.policies.new_infrastructure import KINDS
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.parameters import Parameters, find_toml, shipped_names
from smartcity.simulation.world.schema import Schema, number, one_line, read_toml, validate
from smartcity.simulation.world.vocabulary import CAPABILITY_NAMES, SECTOR_NAMES

PACKAGE_DIR = Path(__file__).parent / "packages"
DEFAULT_PLATFORM_COST = 0.02  # k per resident-year to run the unified data middle platform

# Which capability raises each district stock over time (Government.roll_out_infrastructure).
STOCK_BUILDER = {"ict": "infrastructure", "transport": "infrastructure", "iot": "perception",
                 "computing": "platform", "environment": None}  # fmt: skip

LEVER_GROUPS = ("sectors", "new_infrastructure", "unified_platform")
"""The package's own lever groups that a ``[phases.GROUP]`` table can start and stop."""

PerResident = number(0.0, 10.0)
CapabilityKey = Literal[("budget_share", *CAPABILITY_NAMES)]
StopYear = number(
    0.0,
    200.0,
    "model year the initiative stops: its spending and effects end, the district stocks it "
    "grew remain (none = it runs to the end)",
)


class PlanTable(Schema):
    """One ``[initiatives.NAME]`` table: how the initiative is financed, when it starts (and
    stops), at what scale, and optionally the Python class that runs it."""

    financing: Literal[tuple(FINANCING_MODELS)] = "government"
    start_year: number(0.0, 200.0, "model year the initiative starts") = 0.0
    stop_year: StopYear | None = None
    scale: number(0.0, 10.0, "multiplies its costs and effects") = 1.0
    class_: str | None = Field(
        default=None,
        alias="class",
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'package.module:ClassName', a subclass of Initiative: this package runs "
        "code, so it loads only with --allow-code (allow_code=True)",
    )


class PhaseTable(Schema):
    """One ``[phases.GROUP]`` table: the model years a lever group of the package starts and
    stops (before the start and from the stop it is off and spends nothing)."""

    start_year: number(0.0, 200.0, "model year the lever group starts") = 0.0
    stop_year: (
        number(
            0.0,
            200.0,
            "model year the lever group stops: its spending and pull end, the stocks it "
            "built remain (none = it runs to the end)",
        )
        | None
    ) = None


class PackageSchema(Schema):
    """A policy package file (the policy package file format)."""

    title: str | None = None
    source: str = "-"
    description: str = ""
    home: Literal["mature", "emerging"] | None = Field(
        default=None, description="city type the path was written for (white paper 5.1)"
    )
    unified_platform: bool = False
    platform_cost: PerResident = DEFAULT_PLATFORM_COST
    capabilities: dict[CapabilityKey, number(0.0, 1.0)] = Field(default_factory=dict)
    initiatives: dict[str, PlanTable] = Field(default_factory=dict)
    new_infrastructure: dict[Literal[tuple(KINDS)], PerResident] = Field(default_factory=dict)
    sectors: dict[Literal[SECTOR_NAMES], PerResident] = Field(default_factory=dict)
    phases: dict[Literal[LEVER_GROUPS], PhaseTable] = Field(default_factory=dict)
    parameters: dict[str, bool | int | float | str] = Field(default_factory=dict)


@dataclass(frozen=True)
class LeverPhase:
    """When one lever group of a package is on: from ``start_year`` until ``stop_year``
    (None = to the end), in model years, like an initiative's plan."""

    start_year: float = 0.0
    stop_year: float | None = None

    def on(self, year: float) -> bool:
        """Whether a step at model ``year`` runs the lever group (start <= year < stop)."""
        return self.start_year <= year and (self.stop_year is None or year < self.stop_year)


ALWAYS = LeverPhase()
"""The phase of a lever group without a ``[phases]`` table: on from year 0 to the end."""


@dataclass(frozen=True)
class InitiativePlan:
    """One initiative in a package, with how it is financed, when it starts, at what scale,
    and the Python class that runs it (Initiative, or a subclass with a new mechanism)."""

    spec: InitiativeSpec
    financing: FinancingModel
    start_year: float = 0.0
    scale: float = 1.0
    runner: type[Initiative] = Initiative
    stop_year: float | None = None


@dataclass(frozen=True)
class PolicyPackage:
    """A development path: what the city does, how it pays, what it prioritises.

    Attributes:
        name, title, source, description: identity and provenance (seed section).
        home: the city type the path was written for ("mature" or "emerging", white paper
            5.1.1 and 5.1.2); None for controls. Only comparisons read it, to mark a
            city's own paths; no rule does.
        unified_platform: True = initiatives share one data middle platform ("integral
            intelligence"); False = data islands ("fractional intelligence"), NI 4.2.
        platform_cost: k per resident-year to run the unified platform (public).
        initiatives: the initiatives and their plans.
        new_infrastructure: kind -> public investment, k per resident-year.
        sectors: sector -> added relative entry of new firms (the path's priorities).
        phases: lever group (LEVER_GROUPS) -> the LeverPhase it runs in; a group not named
            runs from year 0 to the end.
        parameters: parameter overrides ("section.name" -> value) the package implies,
            including the capability budget from its [capabilities] table.
    """

    name: str
    title: str
    source: str
    description: str
    home: str | None = None
    unified_platform: bool = False
    platform_cost: float = DEFAULT_PLATFORM_COST
    initiatives: tuple[InitiativePlan, ...] = ()
    new_infrastructure: dict[str, float] = field(default_factory=dict)
    sectors: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, LeverPhase] = field(default_factory=dict)

    def phase(self, group: str) -> LeverPhase:
        """The LeverPhase of lever group ``group`` (ALWAYS when the package names none)."""
        return self.phases.get(group, ALWAYS)

    def lever_groups(self) -> list[str]:
        """The lever groups this package uses: sector priorities, new-infrastructure
        investment and the unified platform, each only when set."""
        used = {"sectors": bool(self.sectors), "new_infrastructure": bool(self.new_infrastructure),
                "unified_platform": self.unified_platform}  # fmt: skip
        return [group for group in LEVER_GROUPS if used[group]]


def package_names() -> list[str]:
    """Names of the shipped packages."""
    return shipped_names(PACKAGE_DIR)


def package_path(name: str | Path) -> Path:
    """Path of a shipped package name or a user's package TOML file."""
    return find_toml(name, PACKAGE_DIR, "policy package")


def load_package(
    name: str | Path | PolicyPackage | None, *, allow_code: bool = False
) -> PolicyPackage:
    """Load and validate a package by name or path (None means baseline); a PolicyPackage
    built in code (e.g. a shipped one changed with dataclasses.replace) passes through.

    Args:
        name: a shipped package name, a package TOML path, a PolicyPackage or None.
        allow_code: let the package name Python classes (``class = "module:Class"``), which
            are imported and run. Without it such a package is refused before any import.
    """
    if isinstance(name, PolicyPackage):
        return name
    path = package_path(name or "baseline")
    source = str(path)
    data = validate(PackageSchema, read_toml(path, "policy package"), source)
    plans = []
    for init_name, plan in data.initiatives.items():
        where = f"{source} [initiatives.{init_name}]"
        beside = path.parent / init_name
        spec = load_initiative(str(beside) if beside.is_file() else init_name, source)
        runner = (
            Initiative if plan.class_ is None else _initiative_class(where, plan.class_, allow_code)
        )
        check_phase(where, plan.start_year, plan.stop_year)
        plans.append(
            InitiativePlan(
                spec,
                FINANCING_MODELS[plan.financing],
                plan.start_year,
                plan.scale,
                runner,
                plan.stop_year,
            )
        )
    parameters: dict[str, Any] = dict(data.parameters)
    caps = dict(data.capabilities)
    if "budget_share" in caps:
        parameters["government.capability_budget_share"] = caps.pop("budget_share")
    parameters.update({f"government.share_{cap}": share for cap, share in caps.items()})
    package = PolicyPackage(
        name=path.stem,
        title=data.title or path.stem,
        source=data.source,
        description=data.description,
        home=data.home,
        unified_platform=data.unified_platform,
        platform_cost=data.platform_cost,
        initiatives=tuple(plans),
        new_infrastructure=dict(data.new_infrastructure),
        sectors=dict(data.sectors),
        parameters=parameters,
        phases={
            group: LeverPhase(phase.start_year, phase.stop_year)
            for group, phase in data.phases.items()
        },
    )
    _check_requires(package)
    check_lever_phases(package, source)
    return package


def _initiative_class(source: str, reference: str, allow_code: bool) -> type[Initiative]:
    """Import ``"package.module:ClassName"``, a subclass of Initiative, once code is allowed.

    The module is looked up by its name on the interpreter's path without the working
    directory, so a file that happens to sit where the command runs is never imported.
    """
    if not allow_code:
        raise InputError(
            f"{source}: class '{reference}' runs Python code; this package runs code, so "
            "load it only if you trust it, with --allow-code (allow_code=True)"
        )
    module_name, _, class_name = reference.partition(":")
    cwd = os.getcwd()
    saved = list(sys.path)
    sys.path[:] = [p for p in saved if p not in ("", ".") and os.path.abspath(p) != cwd]
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise InputError(
            f"{source}: class '{reference}' cannot be imported ({one_line(exc)}); "
            "write it as 'package.module:ClassName' with the module on PYTHONPATH"
        ) from None
    finally:
        sys.path[:] = saved
    if not (isinstance(cls, type) and issubclass(cls, Initiative)):
        raise InputError(f"{source}: class '{reference}' is not a subclass of Initiative")
    return cls


def _check_requires(package: PolicyPackage) -> None:
    """Every required initiative is in the package, and no initiative requires itself
    through a chain of others."""
    requires = {plan.spec.name: plan.spec.requires for plan in package.initiatives}
    for name, needs in requires.items():
        for needed in needs:
            if needed not in requires:
                raise InputError(
                    f"package '{package.name}': initiative '{name}' requires "
                    f"initiative '{needed}', which the package does not include"
                )
    for start in requires:
        cycle = _find_cycle(start, requires, [start])
        if cycle:
            raise InputError(
                f"package '{package.name}': initiatives require each other in a circle "
                f"({' -> '.join(cycle)}); none of them could ever start first"
            )


def _find_cycle(start: str, requires: dict[str, tuple[str, ...]], path: list[str]) -> list[str]:
    for needed in requires.get(path[-1], ()):
        if needed == start:
            return [*path, needed]
        if needed not in path:
            found = _find_cycle(start, requires, [*path, needed])
            if found:
                return found
    return []


def check_phase(
    source: str, start_year: float, stop_year: float | None, what: str = "an initiative"
) -> None:
    """Refuse an initiative (or lever group) that would stop before (or when) it starts:
    one line."""
    if stop_year is not None and stop_year <= start_year:
        raise InputError(
            f"{source}: stop_year {stop_year:g} is not after start_year {start_year:g}; "
            f"{what} stops after it starts (leave stop_year out to run to the end)"
        )


def check_lever_phases(package: PolicyPackage, source: str) -> None:
    """Refuse a lever group's phase that stops before it starts, or that names a group the
    package does not use (it would start and stop nothing): one line."""
    used = package.lever_groups()
    for group, phase in package.phases.items():
        where = f"{source} [phases.{group}]"
        if group not in used:
            raise InputError(
                f"{where}: the package sets no {group.replace('_', ' ')}, so there is nothing "
                f"to start or stop; its lever groups are: {', '.join(used) or 'none'}"
            )
        check_phase(where, phase.start_year, phase.stop_year, "a lever group")


def late_initiatives(package: PolicyPackage, years: float) -> list[str]:
    """One warning line per initiative or lever group that starts, or stops, at or after
    the end of a run of ``years`` years: it will not run, or will run to the end (a short
    horizon of a shipped path is still a valid run of its other initiatives)."""
    where = f"package '{package.name}': initiative"
    groups = [(g, package.phase(g)) for g in package.lever_groups()]
    return [
        *(
            f"package '{package.name}': lever group {group} starts in year "
            f"{phase.start_year:g}, when the {years:g}-year run has ended; it will not run"
            for group, phase in groups
            if phase.start_year >= years
        ),
        *(
            f"package '{package.name}': lever group {group} stops in year "
            f"{phase.stop_year:g}, when the {years:g}-year run has ended; it runs to the end"
            for group, phase in groups
            if phase.stop_year is not None and phase.start_year < years <= phase.stop_year
        ),
        *(
            f"{where} '{plan.spec.name}' starts in year {plan.start_year:g}, when the "
            f"{years:g}-year run has ended; it will not run"
            for plan in package.initiatives
            if plan.start_year >= years
        ),
        *(
            f"{where} '{plan.spec.name}' stops in year {plan.stop_year:g}, when the "
            f"{years:g}-year run has ended; it runs to the end"
            for plan in package.initiatives
            if plan.stop_year is not None and plan.start_year < years <= plan.stop_year
        ),
    ]


def check_prerequisites_reachable(
    package: PolicyPackage, params: Parameters, stock_means: dict[str, float]
) -> None:
    """Refuse a package whose initiative needs a capability or district stock that can never
    reach the required level: it starts below it and nothing in the city builds it.

    Args:
        stock_means: city mean of each district stock at the start.
    """
    initial = dict(zip(CAPABILITY_NAMES, params.initial_capabilities(), strict=True))
    shares = dict(zip(CAPABILITY_NAMES, params.capability_shares(), strict=True))
    funded = params.government.capability_budget_share > 0
    grown_by_initiatives = {s for p in package.initiatives for s in p.spec.district_growth}
    for plan in package.initiatives:
        for cap, level in plan.spec.prerequisites.items():
            if initial[cap] < level and not (funded and shares[cap] > 0):
                raise InputError(
                    f"package '{package.name}': initiative '{plan.spec.name}' needs {cap} "
                    f"capability {level:g}, which starts at {initial[cap]:g} and gets no budget "
                    f"(set government.share_{cap} > 0), so it can never be met"
                )
        for stock, level in plan.spec.infrastructure.items():
            builder = STOCK_BUILDER[stock]
            builds = builder is not None and funded and shares[builder] > 0
            if stock_means[stock] < level and not builds and stock not in grown_by_initiatives:
                raise InputError(
                    f"package '{package.name}': initiative '{plan.spec.name}' needs district "
                    f"{stock} {level:g}, which starts at {stock_means[stock]:.2g} and nothing "
                    "in this package builds, so it can never be met"
                )

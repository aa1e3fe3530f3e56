"""Policy packages: named development paths composed in TOML (white paper 5.1).

A package composes initiatives (each with a financing model, start year and scale), a
capability budget and its split across the six capabilities, new-infrastructure
investment, sector priorities, the unified-data-platform switch and optional parameter
overrides. Shipped packages live in policies/packages/; a user's package is any TOML file
of the same form. Everything is validated when loaded: an unknown initiative, field,
financing model or infrastructure kind, or a prerequisite that can never be met, is a
one-line error.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smartcity.policies.financing import FinancingModel, financing_model
from smartcity.policies.initiatives import Initiative, InitiativeSpec, load_initiative
from smartcity.policies.new_infrastructure import KINDS
from smartcity.simulation.errors import InputError
from smartcity.simulation.parameters import (
    CAPABILITY_NAMES,
    SECTOR_NAMES,
    Parameters,
    find_toml,
    load_toml,
    shipped_names,
)

PACKAGE_DIR = Path(__file__).parent / "packages"
PACKAGE_FIELDS = (
    "title",
    "source",
    "description",
    "unified_platform",
    "platform_cost",
    "capabilities",
    "initiatives",
    "new_infrastructure",
    "sectors",
    "parameters",
)
PLAN_FIELDS = ("financing", "start_year", "scale", "class")
DEFAULT_PLATFORM_COST = 0.02  # k per resident-year to run the unified data middle platform

# Which capability raises each district stock over time (Government.roll_out_infrastructure).
STOCK_BUILDER = {"ict": "infrastructure", "transport": "infrastructure", "iot": "perception",
                 "computing": "platform", "environment": None}  # fmt: skip


@dataclass(frozen=True)
class InitiativePlan:
    """One initiative in a package, with how it is financed, when it starts, at what scale,
    and the Python class that runs it (Initiative, or a subclass with a new mechanism)."""

    spec: InitiativeSpec
    financing: FinancingModel
    start_year: float = 0.0
    scale: float = 1.0
    runner: type[Initiative] = Initiative


@dataclass(frozen=True)
class PolicyPackage:
    """A development path: what the city does, how it pays, what it prioritises.

    Attributes:
        name, title, source, description: identity and provenance (seed section).
        unified_platform: True = initiatives share one data middle platform ("integral
            intelligence"); False = data islands ("fractional intelligence"), paper 003, 4.2.
        platform_cost: k per resident-year to run the unified platform (public).
        initiatives: the initiatives and their plans.
        new_infrastructure: kind -> public investment, k per resident-year.
        sectors: sector -> added relative entry of new firms (the path's priorities).
        parameters: parameter overrides ("section.name" -> value) the package implies,
            including the capability budget from its [capabilities] table.
    """

    name: str
    title: str
    source: str
    description: str
    unified_platform: bool = False
    platform_cost: float = DEFAULT_PLATFORM_COST
    initiatives: tuple[InitiativePlan, ...] = ()
    new_infrastructure: dict[str, float] = field(default_factory=dict)
    sectors: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


def package_names() -> list[str]:
    """Names of the shipped packages."""
    return shipped_names(PACKAGE_DIR)


def package_path(name: str | Path) -> Path:
    """Path of a shipped package name or a user's package TOML file."""
    return find_toml(name, PACKAGE_DIR, "policy package")


def load_package(name: str | Path | PolicyPackage | None) -> PolicyPackage:
    """Load and validate a package by name or path (None means baseline); a PolicyPackage
    built in code (e.g. a shipped one changed with dataclasses.replace) passes through."""
    if isinstance(name, PolicyPackage):
        return name
    path = package_path(name or "baseline")
    data = load_toml(path)
    source = str(path)
    _check_keys(source, "package", data, PACKAGE_FIELDS)
    plans = []
    for init_name, plan in data.get("initiatives", {}).items():
        where = f"{source} [initiatives.{init_name}]"
        if not isinstance(plan, dict):
            raise InputError(f"{where}: must be a table with {', '.join(PLAN_FIELDS)}")
        _check_keys(where, "initiative plan", plan, PLAN_FIELDS)
        beside = path.parent / init_name
        spec = load_initiative(str(beside) if beside.is_file() else init_name, source)
        start = _number(where, "start_year", plan.get("start_year", 0.0), 0.0, 200.0)
        scale = _number(where, "scale", plan.get("scale", 1.0), 0.0, 10.0)
        financing = financing_model(plan.get("financing", "government"), where)
        runner = _initiative_class(
            where, plan.get("class", "smartcity.policies.initiatives:Initiative")
        )
        plans.append(InitiativePlan(spec, financing, start, scale, runner))
    infra = {}
    for kind, amount in data.get("new_infrastructure", {}).items():
        if kind not in KINDS:
            raise InputError(
                f"{source}: unknown new-infrastructure kind '{kind}'; use one of {', '.join(KINDS)}"
            )
        infra[kind] = _number(source, f"new_infrastructure.{kind}", amount, 0.0, 10.0)
    sectors = {}
    for sector, amount in data.get("sectors", {}).items():
        _check_keys(source, "sector", {sector: 0}, SECTOR_NAMES)
        sectors[sector] = _number(source, f"sectors.{sector}", amount, 0.0, 10.0)
    parameters = dict(data.get("parameters", {}))
    caps = dict(data.get("capabilities", {}))
    _check_keys(source, "capabilities entry", caps, ("budget_share", *CAPABILITY_NAMES))
    if "budget_share" in caps:
        parameters["government.capability_budget_share"] = caps.pop("budget_share")
    parameters.update({f"government.share_{cap}": share for cap, share in caps.items()})
    unified = data.get("unified_platform", False)
    if not isinstance(unified, bool):
        raise InputError(f"{source}: unified_platform must be true or false, got {unified!r}")
    package = PolicyPackage(
        name=path.stem,
        title=str(data.get("title", path.stem)),
        source=str(data.get("source", "-")),
        description=str(data.get("description", "")),
        unified_platform=unified,
        platform_cost=_number(
            source, "platform_cost", data.get("platform_cost", DEFAULT_PLATFORM_COST), 0.0, 10.0
        ),
        initiatives=tuple(plans),
        new_infrastructure=infra,
        sectors=sectors,
        parameters=parameters,
    )
    _check_requires(package)
    return package


def _initiative_class(source: str, reference: object) -> type[Initiative]:
    """Import ``"package.module:ClassName"``, a subclass of Initiative."""
    module_name, _, class_name = str(reference).partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise InputError(
            f"{source}: class '{reference}' cannot be imported ({exc}); "
            "write it as 'package.module:ClassName'"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, Initiative)):
        raise InputError(f"{source}: class '{reference}' is not a subclass of Initiative")
    return cls


def _check_keys(source: str, what: str, data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
            raise InputError(f"{source}: unknown {what} '{key}'{hint}")


def _number(source: str, key: str, value: object, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise InputError(f"{source}: {key} = {value!r}; allowed: a number from {lo:g} to {hi:g}")
    return float(value)


def _check_requires(package: PolicyPackage) -> None:
    names = {plan.spec.name for plan in package.initiatives}
    for plan in package.initiatives:
        for needed in plan.spec.requires:
            if needed not in names:
                raise InputError(
                    f"package '{package.name}': initiative '{plan.spec.name}' requires "
                    f"initiative '{needed}', which the package does not include"
                )


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

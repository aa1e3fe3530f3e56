"""Changing when initiatives and lever groups start and stop while the view's run goes on.

A planner who moves an initiative's (or a lever group's) start or stop year that the run has
not reached yet changes only the future: every step made so far saw the same plan under the
old and the new years, so the run goes on with the new years (no restart from year 0) and
equals a fresh run of the new scenario bit for bit. A change that reaches into the past (a
year at or before one already simulated), or any other change, starts a new run as before.
"""

from __future__ import annotations

import math
from dataclasses import replace

from smartcity.policies.packages import LEVER_GROUPS, PolicyPackage
from smartcity.simulation.world.errors import InputError
from smartcity.visualization.scenario import CONFIGURATION_NAMES, CityConfig, Scenario
from smartcity.visualization.views import Catalog, ViewRun


def _without_years(config: CityConfig) -> CityConfig:
    return replace(config, start_years={}, stop_years={})


def _plan_years(package: PolicyPackage) -> list[tuple[str, float, float]]:
    """(name, start year, stop year or infinity) of each initiative, in package order, then
    of each lever group."""
    phases = [(p.spec.name, p.start_year, p.stop_year) for p in package.initiatives]
    phases += [(g, package.phase(g).start_year, package.phase(g).stop_year) for g in LEVER_GROUPS]
    return [(name, start, math.inf if stop is None else stop) for name, start, stop in phases]


def changes_future_only(old: Scenario, new: Scenario, year: float, catalog: Catalog) -> bool:
    """Whether ``new`` differs from ``old`` only in start or stop years that both lie at or
    after ``year``, the year the run has reached (its next step is the first to read them).

    A step at year y starts an initiative when y >= its start year and stops it when y >= its
    stop year; the steps made so far were all at years below ``year``, so they read the same
    under both plans.
    """
    if (old.years, old.seeds, len(old.cities)) != (new.years, new.seeds, len(new.cities)):
        return False
    for before, after in zip(old.cities, new.cities, strict=True):
        if _without_years(before) != _without_years(after):
            return False
        try:
            plans = zip(
                _plan_years(catalog.package(before)),
                _plan_years(catalog.package(after)),
                strict=True,
            )
            for (name, *was), (other, *now) in plans:
                if name != other:
                    return False
                if any(a != b and min(a, b) < year for a, b in zip(was, now, strict=True)):
                    return False
        except (InputError, ValueError):
            return False
    return True


def continue_with(run: ViewRun, new: Scenario) -> bool:
    """Give every model of ``run`` the start and stop years of ``new`` and keep going from
    the step it is at, when :func:`changes_future_only` allows it (checked and done under
    the run's lock, so no step falls between); False, and nothing changed, otherwise."""
    with run.lock:
        configs = run.configs
        old = Scenario.of(list(configs), run.years, run.seeds)
        if not changes_future_only(old, new, run.steps / run.steps_per_year, run.catalog):
            return False
        for city, config in zip(run.runs, new.cities, strict=True):
            if city.models:
                package = run.catalog.package(config)
                for model in city.models:
                    model.policy_runtime.reschedule(package)
                    model.package = package
            city.label = city.label.replace(city.config.label(), config.label())
            city.config = config
        return True


def phase_events(run: ViewRun) -> list[tuple[float, str]]:
    """(year, what happens) for each initiative and lever group of each configuration that
    starts after year 0 or stops within the horizon, in year order: the markers of the
    charts and the run card."""
    events = []
    for index, city in enumerate(run.runs):
        if not city.models:
            continue
        tag = f" ({CONFIGURATION_NAMES[index].upper()})" if len(run.runs) > 1 else ""
        runtime = city.model.policy_runtime
        phases = [(i.spec.title, i.start_year, i.stop_year) for i in runtime.initiatives]
        phases += [
            (group.replace("_", " "), phase.start_year, phase.stop_year)
            for group in runtime.package.lever_groups()
            for phase in [runtime.package.phase(group)]
        ]
        for title, start, stop in phases:
            if 0 < start <= run.years:
                events.append((start, f"{title} starts{tag}"))
            if stop is not None and stop <= run.years:
                events.append((stop, f"{title} stops{tag}"))
    return sorted(events)


def events_text(events: list[tuple[float, str]]) -> str:
    """The phase events in one line ("" when there are none)."""
    return "; ".join(f"year {year:g}: {what}" for year, what in events)

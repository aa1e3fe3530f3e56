# ruff: noqa: N802  (Solara components are named like classes)
"""The configuration card: preset and package of A (and B), the package's own choices, the
shared seed, the paired seeds, the horizon and the parameter sliders.

Every control changes the form through ``change(update)``, where ``update`` maps the form as
it is when the event arrives to the new form (visualization.form): a control drawn with an
older form never writes that form back. Every control that can appear or disappear has a key
(visualization.widgets). Packages are offered for every preset; the white paper's paths for
the preset's city type (white paper 5.1) are marked, and for a preset of a named city only
the path the paper wrote for that city.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import solara

from smartcity.policies.financing import FINANCING_MODELS
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.presets import load_preset
from smartcity.visualization.form import Form, Side
from smartcity.visualization.scenario import AS_IN_PACKAGE, MAX_SEEDS
from smartcity.visualization.sessions import CATALOG, MAX_VIEW_YEARS
from smartcity.visualization.views import (
    USER_PRESET_PREFIX,
    VIEW_CITIZENS,
    capability_shares,
    control_specs,
    default_values,
    initiative_choices,
    resolved_values,
)
from smartcity.visualization.widgets import Markdown, ParamSlider

Change = Callable[[Callable[[Form], Form]], None]
"""How a control changes the form: a function of the current form to the new one."""
INITIATIVES = initiative_choices()
"""(name, title, key issue) of the shipped initiatives, in the order of their switches."""


def valid_year(value: float | None, horizon: float = MAX_VIEW_YEARS) -> bool:
    """Whether a year typed in the page is one the view runs to (0 < year <= ``horizon``)."""
    return value is not None and math.isfinite(value) and 0 < value <= horizon


def _preset_city(preset: str) -> tuple[str, str]:
    """City type and first word of the city's name of a listed preset ("" when unknown)."""
    try:
        values = resolved_values(CATALOG.preset_source(preset), None)
    except InputError:
        return "", ""
    return str(values["city.type"]), str(values["city.name"]).split(" ")[0]


def title_and_home(policy: str) -> tuple[str, str | None]:
    """A listed package's title and home city type; for a package that cannot be loaded
    (a user package naming code without --allow-code) its name and no home."""
    try:
        package = CATALOG.load(policy)
    except InputError:
        return policy, None
    return package.title, package.home


def is_home(policy: str, preset: str) -> bool:
    """Whether a listed package is the preset's home path: for a preset of a named city, the
    path the white paper describes with that city (named in the package title); otherwise
    each of the paper's paths for the preset's city type (its ``home`` field, 5.1)."""
    city_type, city = _preset_city(preset)
    home = title_and_home(policy)[1]
    if home is None or home != city_type:
        return False
    packages = {name: title_and_home(name) for name in CATALOG.policies}
    own = [n for n, (title, h) in packages.items() if f"({city}" in title and h == city_type]
    return not own or policy in own


def package_text(name: str, preset: str) -> str:
    """Title, source and one-line description of a package, and whether it is the preset's
    home path."""
    try:
        package = CATALOG.load(name)
    except InputError as exc:
        return str(exc)
    home = " Home path of this city." if is_home(name, preset) else ""
    source = f" ({package.source})" if package.source != "-" else ""
    first = package.description.split(".")[0].replace("\n", " ")
    return f"{package.title}{source}: {first}.{home}"


def package_items(preset: str) -> list[dict[str, str]]:
    """Menu entries of the listed packages in title order (Baseline, Emerging 1, 2, Mature
    1-4, Placebo): title (home paths marked), value = name."""
    items = []
    for name in sorted(CATALOG.policies, key=lambda n: title_and_home(n)[0]):
        mark = " ★ home path" if is_home(name, preset) else ""
        items.append({"text": f"{title_and_home(name)[0]}{mark}", "value": name})
    return items


def package_choices(policy: str) -> tuple[list[str], bool] | None:
    """Initiatives switched on and the unified-platform switch of a listed package as
    shipped, or None when it is not listed or cannot be loaded."""
    if policy not in CATALOG.policies:
        return None
    try:
        package = CATALOG.load(policy)
    except InputError:
        return None
    return [plan.spec.name for plan in package.initiatives], package.unified_platform


def lever_groups(policy: str) -> list[str]:
    """The lever groups (policies.packages.LEVER_GROUPS) a listed package uses as shipped."""
    try:
        return CATALOG.load(policy).lever_groups()
    except InputError:
        return []


def plan_years(policy: str) -> dict[str, tuple[float, float | None]]:
    """The model year each initiative and lever group of a listed package starts and stops
    in (its plan's or ``[phases]`` table's ``start_year`` and ``stop_year``, None = runs to
    the end; an initiative switched on, or the platform switched on, that the package lacks
    runs from year 0 to the end)."""
    try:
        package = CATALOG.load(policy)
    except InputError:
        return {}
    years = {plan.spec.name: (plan.start_year, plan.stop_year) for plan in package.initiatives}
    for group in package.lever_groups():
        years[group] = (package.phase(group).start_year, package.phase(group).stop_year)
    return years


def phase_error(start: float, stop: float | None) -> str:
    """Why a start and stop year typed for an initiative are refused ("" when accepted):
    both within 0 to MAX_VIEW_YEARS, the stop after the start."""
    if not (math.isfinite(start) and 0 <= start <= MAX_VIEW_YEARS) or (
        stop is not None and not (math.isfinite(stop) and 0 <= stop <= MAX_VIEW_YEARS)
    ):
        return f"start and stop years are from 0 to {MAX_VIEW_YEARS:g}"
    if stop is not None and stop <= start:
        return f"the stop year {stop:g} must be after the start year {start:g}"
    return ""


@solara.component
def PhaseInputs(side: str, name: str, city: Side, plan: tuple[float, float | None], change: Change):
    """The start and stop year of one initiative switched on (pre-set from its plan; the
    stop left empty = it runs to the end). A year the run has not reached yet changes the
    running model (visualization.phasing); an earlier one asks to start a new run."""
    start = city.start_years.get(name, plan[0])
    stop = city.stop_years.get(name, plan[1])
    error, set_error = solara.use_state("")

    def typed(key: str, value: float | None) -> None:
        new_start = start if key == "stop_years" else value
        new_stop = stop if key == "start_years" else value
        if new_start is None:
            set_error("the start year cannot be empty (0 = from the first step)")
            return
        problem = phase_error(new_start, new_stop)
        set_error(problem)
        if problem:
            return
        as_planned = value == plan[0 if key == "start_years" else 1]

        def update(form: Form) -> Form:
            now = form.side(side).with_year(key, name, None if as_planned else value)
            return form.with_side(side, now)

        change(update)

    with solara.Row(gap="4px", classes=[f"sc-phase-{side}-{name}"]):
        solara.InputFloat(
            "start year",
            value=start,
            on_value=lambda v: typed("start_years", v),
            continuous_update=False,
            dense=True,
            classes=[f"sc-start-{side}-{name}"],
        )
        solara.InputFloat(
            "stop year",
            value=stop,
            on_value=lambda v: typed("stop_years", v),
            optional=True,
            continuous_update=False,
            dense=True,
            placeholder="runs to the end",
            classes=[f"sc-stop-{side}-{name}"],
        )
    if error:
        solara.Text(error, style={"color": "#b00020"}, classes=[f"sc-phase-error-{side}"]).key(
            "phase-error"
        )


def slider_base(form: Form) -> dict[str, Any]:
    """Values the sliders start from: configuration A's preset and package; the population
    is the view's default for shipped presets and the preset's own for a user preset."""
    a = form.a
    try:
        preset = CATALOG.preset_source(a.preset)
        base = resolved_values(preset, a.policy if a.policy in CATALOG.policies else None)
        user_count = load_preset(preset).get("citizens.count")
    except InputError:
        base, user_count = default_values(), None
    is_user = a.preset.startswith(USER_PRESET_PREFIX)
    base["citizens.count"] = user_count if is_user and user_count else VIEW_CITIZENS
    return base


@solara.component
def PolicyChoices(side: str, city: Side, change: Change):
    """The package's own choices for one configuration, in a collapsed panel: the unified
    data platform switch, one financing model for all initiatives, and a switch per shipped
    initiative grouped by key issue (pre-set from the package), with the start and stop year
    of each one switched on."""
    shipped = package_choices(city.policy)
    if shipped is None:
        return
    shipped_on, shipped_unified = shipped
    plans = plan_years(city.policy)
    enabled = shipped_on if city.initiatives is None else list(city.initiatives)
    unified = shipped_unified if city.unified_platform is None else city.unified_platform
    financing = city.financing or AS_IN_PACKAGE

    def set_choice(name: str, value: Any) -> None:
        change(lambda f: f.with_side(side, f.side(side).with_choice(name, value)))

    def toggle(name: str, on: bool) -> None:
        def update(form: Form) -> Form:
            now_side = form.side(side)
            current = shipped_on if now_side.initiatives is None else list(now_side.initiatives)
            now = [n for n in current if n != name] + ([name] if on else [])
            chosen = None if sorted(now) == sorted(shipped_on) else now
            if not on:  # its start and stop years go with it
                now_side = now_side.with_year("start_years", name, None)
                now_side = now_side.with_year("stop_years", name, None)
            return form.with_side(side, now_side.with_choice("initiatives", chosen))

        change(update)

    def switch_platform(on: bool) -> None:
        def update(form: Form) -> Form:
            now_side = form.side(side)
            if not on:  # its start and stop years go with it
                now_side = now_side.with_year("start_years", "unified_platform", None)
                now_side = now_side.with_year("stop_years", "unified_platform", None)
            chosen = None if on == shipped_unified else on
            return form.with_side(side, now_side.with_choice("unified_platform", chosen))

        change(update)

    groups = [g for g in lever_groups(city.policy) if g != "unified_platform"]
    groups += ["unified_platform"] if unified else []
    summary = (
        f"package choices: {len(enabled)} initiative{'' if len(enabled) == 1 else 's'}, "
        f"platform {'on' if unified else 'off'}" + (" (changed)" if city.changed else "")
    )
    with (
        solara.Column(gap="0px", classes=[f"sc-choices-{side}"]),
        solara.Details(summary),
        solara.Column(gap="0px", style={"font-size": "0.8em"}),
    ):
        with solara.Row(classes=[f"sc-unified-{side}"]):
            solara.Switch(
                label="unified data platform",
                value=unified,
                on_value=lambda v: switch_platform(bool(v)),
            )
        solara.Select(
            "financing model (all initiatives)",
            values=[AS_IN_PACKAGE, *FINANCING_MODELS],
            value=financing,
            on_value=lambda v: set_choice("financing", None if v == AS_IN_PACKAGE else v),
            classes=[f"sc-financing-{side}"],
        )
        issue = None
        for name, title, key_issue in INITIATIVES:
            if key_issue != issue:
                issue = key_issue
                solara.Text(
                    key_issue.replace("_", " "),
                    style={"font-size": "0.85em", "color": "#777", "margin-top": "4px"},
                ).key(f"issue-{key_issue}")
            solara.v.Checkbox(
                label=title,
                v_model=name in enabled,
                on_v_model=lambda v, name=name: toggle(name, bool(v)),
                dense=True,
                hide_details=True,
                class_=f"mt-0 sc-init-{side}-{name}",
            ).key(f"init-{name}")
            if name in enabled:
                PhaseInputs(side, name, city, plans.get(name, (0.0, None)), change).key(
                    f"phase-{name}"
                )
        if groups:
            solara.Text(
                "lever groups (when they start and stop)",
                style={"font-size": "0.85em", "color": "#777", "margin-top": "4px"},
            ).key("lever-groups")
        for group in groups:
            solara.Text(group.replace("_", " ")).key(f"lever-{group}")
            PhaseInputs(side, group, city, plans.get(group, (0.0, None)), change).key(
                f"phase-{group}"
            )
        solara.Button(
            "reset to the package's choices",
            on_click=lambda: change(
                lambda f: f.with_side(side, f.side(side).with_package(f.side(side).policy))
            ),
            text=True,
            disabled=not city.changed,
        )


@solara.component
def CityChoice(side: str, form: Form, change: Change):
    """Preset and policy package of one configuration (only listed values are accepted)."""
    city = form.side(side)
    tag = side.upper()
    refused, set_refused = solara.use_state("")

    def set_city(key: str, value: Any) -> None:
        listed = CATALOG.presets if key == "preset" else CATALOG.policies
        if not isinstance(value, str) or value not in listed:
            set_refused(f"{key} {str(value)[:60]!r} is not in the list; nothing was changed")
            return
        set_refused("")

        def update(f: Form) -> Form:
            now = f.side(side)
            new = now.with_package(value) if key == "policy" else replace(now, preset=value)
            return f.with_side(side, new)

        change(update)

    with solara.Column(gap="4px", classes=[f"sc-city-{side}"]):
        solara.Select(
            f"preset {tag}",
            values=list(CATALOG.presets),
            value=city.preset,
            on_value=lambda v: set_city("preset", v),
            classes=[f"sc-preset-{side}"],
        )
        solara.v.Select(
            label=f"policy package (development path) {tag}",
            items=package_items(city.preset),
            v_model=city.policy,
            on_v_model=lambda v: set_city("policy", v),
            class_=f"sc-policy-{side}",
            dense=True,
        )
        if refused:
            solara.Error(refused, classes=[f"sc-refused-{side}"], dense=True).key("refused")
        solara.Text(
            package_text(city.policy, city.preset),
            style={"font-size": "0.75em", "color": "#555"},
            classes=[f"sc-package-text-{side}"],
        ).key("package-text")
        PolicyChoices(side, city, change).key("choices")


@solara.component
def SeedInput(form: Form, change: Change):
    """The shared seed; anything but a whole number >= 0 is refused in place."""
    text, set_text = solara.use_state(str(form.seed))
    error, set_error = solara.use_state("")

    def changed(value: str) -> None:
        set_text(value)
        try:
            seed = int(value.strip())
        except ValueError:
            seed = -1
        if seed < 0:
            set_error("the seed must be a whole number, 0 or more; the run keeps its seed")
            return
        set_error("")
        change(lambda f: f.with_(seed=seed))

    solara.InputText(
        "seed (shared by every configuration)",
        value=text if error else str(form.seed),
        on_value=changed,
        continuous_update=False,
        error=error or False,
        message=error or None,
        classes=["sc-seed"],
    )


@solara.component
def Controls(form: Form, change: Change):
    """Configuration controls: A, comparison with B, seeds, horizon and sliders."""
    base = slider_base(form)
    values = {**base, **form.overrides}
    shares = capability_shares(values)

    def set_override(key: str, value: float) -> None:
        change(lambda f: f.with_override(key, value))

    CityChoice("a", form, change).key("city-a")
    with solara.Column(classes=["sc-compare"]).key("compare"):
        solara.Checkbox(
            label="compare with configuration B",
            value=form.compare,
            on_value=lambda v: change(lambda f: f.with_(compare=bool(v))),
        )
    if form.compare:
        CityChoice("b", form, change).key("city-b")
        with solara.Column(classes=["sc-seeds"]).key("seeds"):
            solara.SliderInt(
                "paired seeds (95% band of each difference)",
                value=form.seeds,
                on_value=lambda v: change(lambda f: f.with_(seeds=int(min(max(v, 1), MAX_SEEDS)))),
                min=1,
                max=MAX_SEEDS,
                tick_labels="end_points",
            )
    SeedInput(form, change).key(f"seed-{form.seed}")
    with solara.Column(classes=["sc-horizon"]).key("horizon"):
        solara.InputFloat(
            f"horizon [years, up to {MAX_VIEW_YEARS:g}]",
            value=form.years,
            on_value=lambda v: change(lambda f: f.with_(years=float(v))) if valid_year(v) else None,
            continuous_update=False,
        )
    Markdown(
        "Sliders start at A's preset and package values; a slider you move overrides them "
        "for every configuration. The view starts shipped presets at "
        f"{VIEW_CITIZENS:,} citizens; a user preset keeps its own count.",
        style={"font-size": "0.8em"},
    ).key("slider-note")
    for spec in control_specs():
        key = spec.key
        note = ""
        if key in shares:
            note = f"= {shares[key]:.2f} of the capability budget (shares sum to 1)"
        ParamSlider(spec, values.get(key, spec.lo), set_override, key in form.overrides, note).key(
            f"slider-{key}"
        )
    solara.Button(
        "clear slider overrides",
        on_click=lambda: change(lambda f: f.without_overrides()),
        text=True,
        disabled=not form.overrides,
    ).key("clear-overrides")

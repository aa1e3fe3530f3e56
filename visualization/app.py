# ruff: noqa: N802  (Solara components are named like classes)
"""The planners' interactive view (Solara on Mesa's SolaraViz machinery).

Start it with ``smartcity ui`` or ``solara run visualization/app.py`` (binds 127.0.0.1).
Pick a preset (or a user TOML file) and a policy package, set the sliders (each labelled
with its unit and clamped to its declared range), then press Step or play. The map shows the
districts at their coordinates coloured by a chosen metric, links by congestion; the charts
follow the three indices and headline metrics; comparison mode steps a second configuration
(preset and policy package B) together with the first; the inspector summarises one
district; the current run's metrics download as CSV or Parquet. Under each policy package,
"package choices" switch its initiatives on or off (all shipped initiatives, labelled by key
issue), pick one financing model for all of them and turn the unified data platform on or
off; choosing another package resets them to its own.

Stepping uses Mesa's ``ModelController`` (play / pause / step / reset) on
:class:`visualization.views.ViewRun`, which holds one city or two; bad input is shown with
``solara.Error``, never as a traceback.
"""

from __future__ import annotations

import math
from typing import Any

import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.packages import load_package
from smartcity.simulation.errors import InputError
from smartcity.simulation.presets import preset_names
from smartcity.simulation.runs import policy_names
from smartcity.visualization.figures import (
    congestion_range,
    draw_district_map,
    draw_index_chart,
    draw_metric_charts,
    value_range,
)
from smartcity.visualization.views import (
    AS_IN_PACKAGE,
    DISTRICT_METRICS,
    HEADLINE_METRICS,
    INDEX_METRICS,
    SUMMARY_UNITS,
    VIEW_CITIZENS,
    ControlSpec,
    ViewRun,
    control_specs,
    default_values,
    district_sectors,
    district_summary,
    initiative_choices,
    metrics_csv,
    metrics_parquet,
    resolved_values,
)

USER_PRESET = "user TOML file…"
PLAY_INTERVAL_MS = 150
CHOICE_KEYS = ("initiatives", "financing", "unified_platform")
"""Keys of a city's form entry that hold the planner's changes to its package (absent =
as in the package)."""
INITIATIVES = initiative_choices()
"""(name, title, key issue) of the shipped initiatives, in the order of their switches."""


def package_title(name: str) -> str:
    """Title and source of a policy package, for the line under its selector."""
    try:
        package = load_package(name)
    except InputError as exc:
        return str(exc)
    return f"{package.title} ({package.source})" if package.source != "-" else package.title


def _city(preset: str = "mature", policy: str = "baseline") -> dict[str, Any]:
    return {"preset": preset, "policy": policy}


def initial_form() -> dict[str, Any]:
    """Controls at start: mature city, baseline package, seed 1, no overrides, one city."""
    return {
        "a": _city(),
        "b": _city("emerging"),
        "user_paths": {"a": "", "b": ""},
        "seed": 1,
        "overrides": {},
        "compare": False,
    }


def run_parameters(form: dict[str, Any]) -> dict[str, Any]:
    """ViewRun keyword arguments of the form (what Reset and every control change build)."""
    cities = []
    for side in ("a", "b") if form["compare"] else ("a",):
        city = form[side]
        preset = form["user_paths"][side] if city["preset"] == USER_PRESET else city["preset"]
        config = {
            "preset": preset.strip() if preset.strip() else "(no preset file given)",
            "policy": city["policy"],
            "seed": form["seed"],
            "overrides": dict(form["overrides"]),
        }
        config.update({key: city[key] for key in CHOICE_KEYS if city.get(key) is not None})
        cities.append(config)
    return {"cities": cities}


def package_choices(policy: str) -> tuple[list[str], bool] | None:
    """Initiatives switched on and the unified-platform switch of a package as shipped, or
    None when it cannot be loaded (its error shows under the selector)."""
    try:
        package = load_package(policy)
    except InputError:
        return None
    return [plan.spec.name for plan in package.initiatives], package.unified_platform


@solara.component
def PolicyChoices(side: str, city: dict[str, Any], set_choices):
    """The package's own choices for one configuration, in a collapsed panel: the unified
    data platform switch, one financing model for all initiatives, and a switch per shipped
    initiative (pre-set from the package; unset choices follow the package)."""
    shipped = package_choices(city["policy"])
    if shipped is None:
        return
    shipped_on, shipped_unified = shipped
    enabled = city.get("initiatives")
    enabled = shipped_on if enabled is None else enabled
    unified = city.get("unified_platform")
    unified = shipped_unified if unified is None else unified
    financing = city.get("financing") or AS_IN_PACKAGE
    changed = any(city.get(key) is not None for key in CHOICE_KEYS)

    def toggle(name: str, on: bool) -> None:
        now = [n for n in enabled if n != name] + ([name] if on else [])
        set_choices({"initiatives": None if sorted(now) == sorted(shipped_on) else now})

    summary = (
        f"package choices: {len(enabled)} initiative{'' if len(enabled) == 1 else 's'}, "
        f"platform {'on' if unified else 'off'}" + (" (changed)" if changed else "")
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
                on_value=lambda v: set_choices(
                    {"unified_platform": None if v == shipped_unified else v}
                ),
            )
        solara.Select(
            "financing model (all initiatives)",
            values=[AS_IN_PACKAGE, *FINANCING_MODELS],
            value=financing,
            on_value=lambda v: set_choices({"financing": None if v == AS_IN_PACKAGE else v}),
            classes=[f"sc-financing-{side}"],
        )
        issue = None
        for name, title, key_issue in INITIATIVES:
            if key_issue != issue:
                issue = key_issue
                solara.Text(
                    key_issue.replace("_", " "),
                    style={"font-size": "0.85em", "color": "#777", "margin-top": "4px"},
                )
            solara.v.Checkbox(
                label=title,
                v_model=name in enabled,
                on_v_model=lambda v, name=name: toggle(name, bool(v)),
                dense=True,
                hide_details=True,
                class_=f"mt-0 sc-init-{side}-{name}",
            )
        solara.Button(
            "reset to the package's choices",
            on_click=lambda: set_choices(dict.fromkeys(CHOICE_KEYS)),
            text=True,
            disabled=not changed,
        )


@solara.component
def ParamSlider(spec: ControlSpec, value: float, on_value, overridden: bool):
    """A slider labelled with the parameter, its unit and value; range clamped to the spec."""
    shown = spec.clamp(value)
    text = f"{shown:,}" if spec.is_int else f"{shown:.3g}"
    mark = " (set here)" if overridden else ""

    def moved(new: float) -> None:
        # The slider snaps a value that is not on its grid and reports the snapped value:
        # that is not the user's choice, so only a move of at least half a step counts.
        if abs(float(new) - shown) > spec.step / 2 + 1e-12:
            on_value(spec.key, spec.clamp(float(new)))

    with solara.Column(gap="0px", classes=["sc-slider", "sc-slider-" + spec.key.replace(".", "-")]):
        solara.Text(f"{spec.label}: {text}{mark}", style={"font-size": "0.8em"})
        solara.v.Slider(
            v_model=shown,
            on_v_model=moved,
            min=spec.lo,
            max=spec.hi,
            step=spec.step,
            dense=True,
            hide_details=True,
            thumb_label=True,
        )
        solara.Text(spec.doc, style={"font-size": "0.7em", "color": "#777"})


@solara.component
def CityChoice(side: str, form: solara.Reactive[dict], on_form):
    """Preset (shipped name or user TOML path) and policy package of one configuration."""
    city = form.value[side]
    tag = side.upper()

    def set_city(key, value):
        new = {**city, key: value}
        if key == "policy":  # another package: its own choices again
            new = {k: v for k, v in new.items() if k not in CHOICE_KEYS}
        on_form({**form.value, side: new})

    def set_choices(choices: dict[str, Any]) -> None:
        new = {**form.value[side], **choices}
        on_form({**form.value, side: {k: v for k, v in new.items() if v is not None}})

    def set_path(path):
        on_form({**form.value, "user_paths": {**form.value["user_paths"], side: path}})

    with solara.Column(gap="4px", classes=[f"sc-city-{side}"]):
        solara.Select(
            f"preset {tag}",
            values=[*preset_names(), USER_PRESET],
            value=city["preset"],
            on_value=lambda v: set_city("preset", v),
            classes=[f"sc-preset-{side}"],
        )
        if city["preset"] == USER_PRESET:
            solara.InputText(
                f"preset {tag}: path to a .toml file",
                value=form.value["user_paths"][side],
                on_value=set_path,
                continuous_update=False,
                classes=[f"sc-preset-path-{side}"],
            )
        solara.Select(
            f"policy package {tag}",
            values=policy_names(),
            value=city["policy"],
            on_value=lambda v: set_city("policy", v),
            classes=[f"sc-policy-{side}"],
        )
        solara.Text(package_title(city["policy"]), style={"font-size": "0.75em", "color": "#555"})
        PolicyChoices(side, city, set_choices)


@solara.component
def Controls(form: solara.Reactive[dict], on_form):
    """Configuration controls; every change rebuilds the run (the model is cheap to build)."""
    f = form.value
    a = run_parameters({**f, "compare": False})["cities"][0]
    try:
        base = resolved_values(a["preset"], a["policy"])
    except InputError:
        base = default_values()
    base["citizens.count"] = VIEW_CITIZENS

    def set_override(key, value):
        on_form({**form.value, "overrides": {**form.value["overrides"], key: value}})

    CityChoice("a", form, on_form)
    with solara.Column(classes=["sc-compare"]):
        solara.Checkbox(
            label="compare with configuration B",
            value=f["compare"],
            on_value=lambda v: on_form({**form.value, "compare": v}),
        )
    if f["compare"]:
        CityChoice("b", form, on_form)
    solara.InputInt(
        "seed (shared by A and B)",
        value=f["seed"],
        on_value=lambda v: on_form({**form.value, "seed": max(0, int(v or 0))}),
        continuous_update=False,
    )
    solara.Markdown(
        "Sliders start at the preset's and package's values (A); a slider you move "
        "overrides them for both configurations."
    )
    for spec in control_specs():
        key = spec.key
        value = f["overrides"].get(key, base.get(key, spec.lo))
        ParamSlider(spec, value, set_override, key in f["overrides"])
    solara.Button(
        "clear slider overrides",
        on_click=lambda: on_form({**form.value, "overrides": {}}),
        text=True,
        disabled=not f["overrides"],
    )


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{value:,.0f}" if unit == "citizens" else f"{value:.3g}"
    return f"{text} {unit}"


@solara.component
def Inspector(run: ViewRun):
    """One district of one city: residents' summary and firms/jobs by sector."""
    which, set_which = solara.use_state(0)
    district, set_district = solara.use_state(0)
    city_index = min(which, len(run.cities) - 1)
    model = run.cities[city_index]
    names = [f"{i}: {name}" for i, name in enumerate(model.districts.names)]
    district = min(district, len(names) - 1)
    with solara.Card("District inspector", classes=["sc-inspector"]):
        with solara.Row():
            if len(run.cities) > 1:
                solara.ToggleButtonsSingle(
                    value="AB"[city_index],
                    values=["A", "B"],
                    on_value=lambda v: set_which("AB".index(v)),
                )
            solara.Select(
                "district",
                values=names,
                value=names[district],
                on_value=lambda v: set_district(int(v.split(":")[0])),
            )
        summary = district_summary(model, district)
        rows = "\n".join(
            f"| {key.replace('_', ' ')} | {_fmt(value, SUMMARY_UNITS[key])} |"
            for key, value in summary.items()
        )
        solara.Markdown(
            f"**{run.labels[city_index]}, {names[district]}**\n\n| | |\n|---|---|\n{rows}"
        )
        table = district_sectors(model, district)
        lines = "\n".join(f"| {r.sector} | {r.firms} | {r.jobs} |" for r in table.itertuples())
        solara.Markdown(f"| sector | firms | jobs |\n|---|---:|---:|\n{lines}")


@solara.component
def RunView(run: ViewRun):
    """Maps, charts, inspector and export of the current run; refreshed on every step."""
    update_counter.get()  # re-render when Mesa's controller steps the run
    metric, set_metric = solara.use_state("population")
    if run.error is not None:
        solara.Error(run.error, classes=["sc-error"])
    if not run.cities:
        solara.Info("Fix the configuration on the left to build the city.")
        return
    cities = run.cities
    step = cities[0].steps
    years = step / cities[0].steps_per_year
    solara.Text(f"step {step} (year {years:.2f})", classes=["sc-step"])
    solara.ToggleButtonsSingle(
        value=metric,
        values=list(DISTRICT_METRICS),
        on_value=set_metric,
        classes=["sc-map-metric"],
    )
    node_range = value_range(cities, metric)
    edge_range = congestion_range(cities)
    with solara.Columns([1] * len(cities), classes=["sc-maps"]):
        for label, model in zip(run.labels, cities, strict=True):
            fig = draw_district_map(
                model,
                metric,
                node_range=node_range,
                edge_range=edge_range,
                title=f"{label}: {model.params.city.name}, step {model.steps}",
            )
            with solara.Column(classes=["sc-map"]):
                solara.FigureMatplotlib(fig, format="png")
    with solara.Columns([1, 1], classes=["sc-charts"]):
        with solara.Column(classes=["sc-index-chart"]):
            solara.FigureMatplotlib(
                draw_index_chart(cities, run.labels, INDEX_METRICS), format="png"
            )
        with solara.Column(classes=["sc-headline-chart"]):
            solara.FigureMatplotlib(
                draw_metric_charts(cities, run.labels, HEADLINE_METRICS), format="png"
            )
    with solara.Columns([2, 1]):
        Inspector(run)
        with solara.Card("Export the current run", classes=["sc-export"]):
            solara.Text(f"{sum(m.steps + 1 for m in cities)} rows (one per city and step)")
            solara.FileDownload(
                lambda: metrics_csv(run), filename="smartcity_metrics.csv", label="CSV"
            )
            solara.FileDownload(
                lambda: metrics_parquet(run), filename="smartcity_metrics.parquet", label="Parquet"
            )


@solara.component
def Page():
    """The whole page: controls in the sidebar, the run in the main area."""
    form = solara.use_reactive(initial_form())
    params = solara.use_reactive(run_parameters(form.value))
    run = solara.use_reactive(solara.use_memo(lambda: ViewRun(**params.value), []))
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    def on_form(new: dict[str, Any]) -> None:
        form.value = new
        params.value = run_parameters(new)
        run.value = ViewRun(**params.value)

    solara.Title("smartcity: planners' view")
    with solara.AppBar():
        solara.AppBarTitle("smartcity: planners' view")
    with solara.Sidebar():
        with solara.Card("Run"):
            # Keyed on the run: a new configuration gets a fresh controller (stopped, and
            # with Play enabled again after a run that had failed).
            ModelController(
                run,
                model_parameters=params,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            ).key(f"controller-{id(run.value)}")
            solara.SliderInt(
                "steps per redraw",
                value=render_interval,
                min=1,
                max=12,
                tick_labels="end_points",
            )
            solara.SliderInt(
                "pause between redraws [ms]",
                value=play_interval,
                min=0,
                max=1000,
                step=50,
                tick_labels="end_points",
            )
        with solara.Card("Configuration"):
            Controls(form, on_form)
    RunView(run.value)

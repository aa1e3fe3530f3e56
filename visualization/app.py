# ruff: noqa: N802  (Solara components are named like classes)
"""The planners' interactive view (Solara; charts in Vega-Lite through Altair).

Start it with ``smartcity ui`` (binds 127.0.0.1). Pick a preset and a policy package (from the
lists shown: shipped ones, and user presets from the folder given with ``--presets``), change
the package's own choices and the sliders, then press STEP (one month) or play, or run to a
year. The map shows the districts at their coordinates coloured by a chosen metric on a scale
fixed for the run; hover a district for its name, kind and value, click it to inspect it. The
history slider scrubs back through every stored step (map, inspector and charts follow).
Comparison runs configuration B beside A (over one or several paired seeds) and shows B - A
as a map, as charts with the paired 95% band and as an end-year table; with several seeds the
maps, the inspector and the metric charts draw the first seed's city and say so in their
titles and legend, while the B - A charts and the table average every seed. A scenario is saved
and loaded as a TOML file (``smartcity run --scenario FILE`` runs it too) and shared as a URL.
A change that would restart a run that has stepped asks first.

Every value the browser sends is checked on the server against the lists the page offers
(views.Catalog) before anything is read; stepping and reading share one lock per session; a
session whose page disconnects stops playing and is freed after the server's cull timeout;
at most $SMARTCITY_MAX_SESSIONS sessions run at once.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import solara
import solara.server.kernel_context as kernel_context
from solara.server.kernel_context import PageStatus
from solara.widgets import VegaLite

from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.packages import load_package
from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.presets import load_preset
from smartcity.simulation.world.vocabulary import DISTRICT_KINDS, INDEX_METRICS
from smartcity.visualization.figures import (
    colour_domain,
    difference_charts,
    difference_map,
    district_map,
    metric_charts,
    metric_title,
)
from smartcity.visualization.scenario import (
    AS_IN_PACKAGE,
    MAX_SEEDS,
    MAX_YEARS,
    CityConfig,
    Scenario,
    scenario_from_text,
    scenario_toml,
)
from smartcity.visualization.views import (
    DISTRICT_METRICS,
    HEADLINE_METRICS,
    SUMMARY_UNITS,
    USER_PRESET_PREFIX,
    VIEW_CITIZENS,
    Catalog,
    ControlSpec,
    ViewRun,
    capability_shares,
    control_specs,
    default_values,
    district_table,
    end_year_table,
    initiative_choices,
    metrics_table,
    paired_differences,
    resolved_values,
    same_districts,
    table_bytes,
    view_catalog,
)

CHOICE_KEYS = ("initiatives", "financing", "unified_platform")
"""Keys of a configuration that hold the planner's changes to its package (absent = as in
the package)."""
INITIATIVES = initiative_choices()
"""(name, title, key issue) of the shipped initiatives, in the order of their switches."""
REDRAW_SECONDS = 0.5
# The downloads: what a row is, the table, the file name and the button label.
EXPORTS = (
    ("per city (one row per configuration, seed and step):", metrics_table, "metrics", "city"),
    ("per district (one row per configuration, step and district):", district_table,
     "districts", "districts"),
)  # fmt: skip
"""While playing, the page is redrawn at most this often: the model steps in between, so
drawing does not set the speed (benchmarks/bench_view.py)."""
SPEEDS = {"as fast as possible": 0.0, "1 year/s": 12.0, "3 months/s": 3.0, "1 month/s": 1.0}
"""Play speeds offered, in simulated months per second (0 = no pause between steps)."""
MAX_SESSIONS = int(os.environ.get("SMARTCITY_MAX_SESSIONS", "8"))
"""Most sessions (browser pages) served at once; more get a page saying the view is full."""
SESSIONS: dict[str, float] = {}
"""Live sessions: kernel id -> start time (guarded by SESSIONS_LOCK)."""
SESSIONS_LOCK = threading.Lock()
CATALOG = view_catalog()
"""What the page lists (shipped presets and packages, user presets from $SMARTCITY_PRESETS_DIR);
read once when the server starts."""


class LocalVegaLite(VegaLite):
    """Solara's Vega-Lite widget with the vega libraries that solara-assets ships (no CDN)."""

    template_file = str(Path(__file__).with_name("vegalite.vue"))


@solara.component
def Chart(chart: alt.TopLevelMixin, on_click=None):
    """An Altair chart drawn in the browser; ``on_click`` gets the clicked mark's data."""
    return LocalVegaLite.element(
        spec=chart.to_dict(validate=False),
        on_click=on_click,
        listen_to_click=on_click is not None,
    )


def default_form() -> dict[str, Any]:
    """Controls at start: mature city, baseline package, seed 1, no overrides, one city."""
    return {
        "a": {"preset": "mature", "policy": "baseline"},
        "b": {"preset": "mature", "policy": "baseline"},
        "seed": 1,
        "seeds": 1,
        "years": 5.0,
        "overrides": {},
        "compare": False,
    }


def form_scenario(form: dict[str, Any]) -> Scenario:
    """The scenario the form describes (A, and B when comparing)."""

    def config(side: str) -> CityConfig:
        city = form[side]
        return CityConfig(
            city["preset"],
            city["policy"],
            form["seed"],
            dict(form["overrides"]),
            **{k: city[k] for k in CHOICE_KEYS if city.get(k) is not None},
        )

    b = config("b") if form["compare"] else None
    return Scenario(config("a"), b, form["years"], form["seeds"] if form["compare"] else 1)


def scenario_form(scenario: Scenario) -> dict[str, Any]:
    """The form of a scenario (the inverse of :func:`form_scenario`)."""

    def city(config: CityConfig) -> dict[str, Any]:
        out: dict[str, Any] = {"preset": config.preset, "policy": config.policy}
        if config.initiatives is not None:
            out["initiatives"] = list(config.initiatives)
        for key in ("financing", "unified_platform"):
            if getattr(config, key) is not None:
                out[key] = getattr(config, key)
        return out

    return {
        "a": city(scenario.a),
        "b": city(scenario.b or scenario.a),
        "seed": scenario.a.seed,
        "seeds": scenario.seeds,
        "years": scenario.years,
        "overrides": dict(scenario.a.overrides),
        "compare": scenario.b is not None,
    }


def build_run(form: dict[str, Any]) -> ViewRun:
    """A new ViewRun of the form (every choice checked against CATALOG)."""
    scenario = form_scenario(form)
    return ViewRun(scenario.cities, seeds=scenario.seeds, catalog=CATALOG, years=scenario.years)


def scenario_query(scenario: Scenario) -> str:
    """The URL query that restores ``scenario`` (its TOML, base64url)."""
    return "scenario=" + base64.urlsafe_b64encode(scenario_toml(scenario).encode()).decode()


def scenario_from_query(search: str | None, catalog: Catalog) -> Scenario | None:
    """The scenario in a URL query (None when there is none); InputError when it is bad or
    names anything the page does not list."""
    for part in (search or "").split("&"):
        key, _, value = part.partition("=")
        if key == "scenario" and value:
            try:
                text = base64.urlsafe_b64decode(value.encode() + b"==").decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise InputError("the scenario in the URL is damaged") from None
            return scenario_from_text(
                text, "scenario in the URL", presets=catalog.presets, policies=catalog.policies
            )
    return None


def valid_year(value: float | None) -> bool:
    """Whether a year typed in the page is a horizon the view runs to (0 < year <= 200)."""
    return value is not None and math.isfinite(value) and 0 < value <= MAX_YEARS


def package_text(name: str, preset: str) -> str:
    """Title, source and one-line description of a package, and whether the paper wrote it
    for cities like the chosen preset (its home)."""
    try:
        package = load_package(name)
    except InputError as exc:
        return str(exc)
    home = " Home path of this city type." if is_home(name, preset) else ""
    source = f" ({package.source})" if package.source != "-" else ""
    first = package.description.split(".")[0].replace("\n", " ")
    return f"{package.title}{source}: {first}.{home}"


def is_home(policy: str, preset: str) -> bool:
    """Whether a listed package is one of the white paper's paths for the preset's city type:
    its ``home`` field equals the preset's ``city.type`` (white paper 5.1)."""
    try:
        home = load_package(policy).home
        return (
            home is not None
            and home == resolved_values(CATALOG.preset_source(preset), None)["city.type"]
        )
    except InputError:
        return False


def package_items(preset: str) -> list[dict[str, str]]:
    """Menu entries of the listed packages: title (home paths marked), value = name."""
    items = []
    for name in CATALOG.policies:
        title = load_package(name).title
        mark = " ★ home path" if is_home(name, preset) else ""
        items.append({"text": f"{title}{mark}", "value": name})
    return items


def package_choices(policy: str) -> tuple[list[str], bool] | None:
    """Initiatives switched on and the unified-platform switch of a listed package as
    shipped, or None when it is not listed or cannot be loaded."""
    if policy not in CATALOG.policies:
        return None
    try:
        package = load_package(policy)
    except InputError:
        return None
    return [plan.spec.name for plan in package.initiatives], package.unified_platform


def slider_base(form: dict[str, Any]) -> dict[str, Any]:
    """Values the sliders start from: configuration A's preset and package; the population
    is the view's default for shipped presets and the preset's own for a user preset."""
    a = form["a"]
    try:
        preset = CATALOG.preset_source(a["preset"])
        base = resolved_values(preset, a["policy"] if a["policy"] in CATALOG.policies else None)
        user_count = load_preset(preset).get("citizens.count")
    except InputError:
        base, user_count = default_values(), None
    is_user = a["preset"].startswith(USER_PRESET_PREFIX)
    base["citizens.count"] = user_count if is_user and user_count else VIEW_CITIZENS
    return base


@dataclass(eq=False)
class PlayRequest:
    """What play was asked to do: run ``run`` to step ``end`` at ``speed`` months/s (0 = as
    fast as possible). A new request (or ``stop``) ends the one before."""

    run: ViewRun
    end: int
    speed: float
    stop: threading.Event = field(default_factory=threading.Event)
    rate: float = 0.0


def play(request: PlayRequest, redraw: Callable[[], None], connected: Callable[[], bool]) -> None:
    """Step ``request.run`` (each step under its lock) until its end step, a stop, a failed
    run or no page of the session connected; ask for a redraw at most every REDRAW_SECONDS,
    so drawing does not set the speed; keep the rate reached in ``request.rate``."""
    run = request.run
    started, made, last_draw = time.perf_counter(), 0, time.perf_counter()
    while not request.stop.is_set() and run.steps < request.end and connected():
        if not run.step():
            break
        made += 1
        now = time.perf_counter()
        request.rate = made / max(now - started, 1e-9)
        if request.speed > 0:
            time.sleep(max(0.0, made / request.speed - (now - started)))
        if now - last_draw >= REDRAW_SECONDS:
            last_draw = now
            redraw()
    request.stop.set()


def _register_session() -> bool:
    """Count this session in; False when MAX_SESSIONS are already open. The session is
    counted out when Solara closes its kernel (and its model is freed with it)."""
    context = kernel_context.get_current_context()
    with SESSIONS_LOCK:
        if context.id in SESSIONS:
            return True
        if len(SESSIONS) >= MAX_SESSIONS:
            return False
        SESSIONS[context.id] = time.time()

    def forget() -> None:
        with SESSIONS_LOCK:
            SESSIONS.pop(context.id, None)

    context.on_close(forget)
    return True


@solara.component
def PolicyChoices(side: str, city: dict[str, Any], set_choices):
    """The package's own choices for one configuration, in a collapsed panel: the unified
    data platform switch, one financing model for all initiatives, and a switch per shipped
    initiative grouped by key issue (pre-set from the package)."""
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
                    {"unified_platform": None if bool(v) == shipped_unified else bool(v)}
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
def ParamSlider(spec: ControlSpec, value: float, on_value, overridden: bool, note: str = ""):
    """A slider labelled with the parameter's meaning, unit and value; range clamped."""
    shown = spec.clamp(value)
    text = f"{shown:,}" if spec.is_int else f"{shown:.3g}"
    mark = " (set here)" if overridden else ""

    def moved(new: float) -> None:
        # The slider snaps a value that is not on its grid and reports the snapped value:
        # that is not the user's choice, so only a move of at least half a step counts.
        if abs(float(new) - shown) > spec.step / 2 + 1e-12:
            on_value(spec.key, spec.clamp(float(new)))

    with solara.Column(gap="0px", classes=["sc-slider", "sc-slider-" + spec.key.replace(".", "-")]):
        solara.Text(f"{spec.doc} [{spec.unit}]: {text}{mark}", style={"font-size": "0.8em"})
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
        solara.Text(note or spec.key, style={"font-size": "0.7em", "color": "#777"})


@solara.component
def CityChoice(side: str, form: dict[str, Any], on_form):
    """Preset and policy package of one configuration (only listed values are accepted)."""
    city = form[side]
    tag = side.upper()
    refused, set_refused = solara.use_state("")

    def set_city(key: str, value: Any) -> None:
        listed = CATALOG.presets if key == "preset" else CATALOG.policies
        if not isinstance(value, str) or value not in listed:
            set_refused(f"{key} {str(value)[:60]!r} is not in the list; nothing was changed")
            return
        set_refused("")
        new = {**city, key: value}
        if key == "policy":  # another package: its own choices again
            new = {k: v for k, v in new.items() if k not in CHOICE_KEYS}
        on_form({**form, side: new})

    def set_choices(choices: dict[str, Any]) -> None:
        new = {**form[side], **choices}
        on_form({**form, side: {k: v for k, v in new.items() if v is not None}})

    with solara.Column(gap="4px", classes=[f"sc-city-{side}"]):
        solara.Select(
            f"preset {tag}",
            values=list(CATALOG.presets),
            value=city["preset"],
            on_value=lambda v: set_city("preset", v),
            classes=[f"sc-preset-{side}"],
        )
        solara.v.Select(
            label=f"policy package (development path) {tag}",
            items=package_items(city["preset"]),
            v_model=city["policy"],
            on_v_model=lambda v: set_city("policy", v),
            class_=f"sc-policy-{side}",
            dense=True,
        )
        if refused:
            solara.Error(refused, classes=[f"sc-refused-{side}"], dense=True)
        solara.Text(
            package_text(city["policy"], city["preset"]),
            style={"font-size": "0.75em", "color": "#555"},
            classes=[f"sc-package-text-{side}"],
        )
        PolicyChoices(side, city, set_choices)


@solara.component
def SeedInput(form: dict[str, Any], on_form):
    """The shared seed; anything but a whole number >= 0 is refused in place."""
    text, set_text = solara.use_state(str(form["seed"]))
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
        on_form({**form, "seed": seed})

    solara.InputText(
        "seed (shared by A and B)",
        value=text if error else str(form["seed"]),
        on_value=changed,
        continuous_update=False,
        error=error or False,
        message=error or None,
        classes=["sc-seed"],
    )


@solara.component
def Controls(form: dict[str, Any], on_form):
    """Configuration controls: A, comparison with B, seeds, horizon and sliders."""
    base = slider_base(form)
    values = {**base, **form["overrides"]}
    shares = capability_shares(values)

    def set_override(key: str, value: float) -> None:
        on_form({**form, "overrides": {**form["overrides"], key: value}})

    CityChoice("a", form, on_form)
    with solara.Column(classes=["sc-compare"]):
        solara.Checkbox(
            label="compare with configuration B",
            value=form["compare"],
            on_value=lambda v: on_form({**form, "compare": bool(v)}),
        )
    if form["compare"]:
        CityChoice("b", form, on_form)
        solara.SliderInt(
            "paired seeds (95% band of B - A)",
            value=form["seeds"],
            on_value=lambda v: on_form({**form, "seeds": int(min(max(v, 1), MAX_SEEDS))}),
            min=1,
            max=MAX_SEEDS,
            tick_labels="end_points",
        )
    SeedInput(form, on_form).key(f"seed-{form['seed']}")
    solara.InputFloat(
        "horizon [years]",
        value=form["years"],
        on_value=lambda v: on_form({**form, "years": float(v)}) if valid_year(v) else None,
        continuous_update=False,
    )
    solara.Markdown(
        "Sliders start at A's preset and package values; a slider you move overrides them "
        "for both configurations. The view starts shipped presets at "
        f"{VIEW_CITIZENS:,} citizens; a user preset keeps its own count.",
        style={"font-size": "0.8em"},
    )
    for spec in control_specs():
        key = spec.key
        note = ""
        if key in shares:
            note = f"= {shares[key]:.2f} of the capability budget (shares sum to 1)"
        ParamSlider(spec, values.get(key, spec.lo), set_override, key in form["overrides"], note)
    solara.Button(
        "clear slider overrides",
        on_click=lambda: on_form({**form, "overrides": {}}),
        text=True,
        disabled=not form["overrides"],
    )


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{value:,.0f}" if unit == "citizens" else f"{value:.3g}"
    return f"{text} {unit}"


@solara.component
def Inspector(run: ViewRun, step: int, district: int, set_district, which: int, set_which):
    """One district of one configuration at the step shown: residents and firms by sector."""
    built = [i for i, r in enumerate(run.runs) if r.models]
    if not built:
        return
    index = which if which in built else built[0]
    city = run.runs[index]
    names = [f"{i}: {name}" for i, name in enumerate(city.model.districts.names)]
    district = min(district, len(names) - 1)
    step = min(step, len(city.history) - 1)
    snap = city.history[step]
    kind = city.model.districts.kind[district]
    with solara.Card("District inspector", classes=["sc-inspector"]):
        with solara.Row():
            if len(built) > 1:
                solara.ToggleButtonsSingle(
                    value="AB"[index],
                    values=["A", "B"],
                    on_value=lambda v: set_which("AB".index(v)),
                )
            solara.Select(
                "district (or click the map)",
                values=names,
                value=names[district],
                on_value=lambda v: (
                    set_district(int(v.split(":")[0]))
                    if isinstance(v, str) and v in names
                    else None
                ),
                classes=["sc-district"],
            )
        rows = "\n".join(
            f"| {key.replace('_', ' ')} | {_fmt(float(snap.summary[key][district]), unit)} |"
            for key, unit in SUMMARY_UNITS.items()
        )
        with solara.Column(classes=["sc-inspector-summary"]):
            solara.Markdown(
                f"**{city.shown(step)}, {names[district]} "
                f"({DISTRICT_KINDS[kind].replace('_', ' ')})**\n\n| | |\n|---|---|\n{rows}",
            )
        table = snap.sectors(district)
        lines = "\n".join(f"| {r.sector} | {r.firms} | {r.jobs} |" for r in table.itertuples())
        solara.Markdown(f"| sector | firms | jobs |\n|---|---:|---:|\n{lines}")


@solara.component
def Glossary():
    """What the indices and headline metrics measure, from the metric registry."""
    with solara.Details("Glossary: what the indices and metrics mean"):
        lines = [
            f"- **{metric_title(name)}** [{METRICS[name].unit}, "
            f"{METRICS[name].lower:g} to {METRICS[name].upper:g}]: {METRICS[name].description}"
            for name in (*INDEX_METRICS, *HEADLINE_METRICS)
        ]
        lines += [
            f"- **map: {spec.label}** [{spec.unit}]: coloured on "
            + ("its documented range" if spec.lo is not None else "the range of the run so far")
            for spec in DISTRICT_METRICS.values()
        ]
        with solara.Column(classes=["sc-glossary"]):
            solara.Markdown("\n".join(lines), style={"font-size": "0.8em"})


@solara.component
def RunView(run: ViewRun, redraws: int, shown: int | None, set_shown):
    """Maps, charts, comparison, inspector and export of the run at ``shown`` (None = the
    latest step); ``redraws`` changes whenever the run has moved on, so this redraws."""
    metric, set_metric = solara.use_state("population")
    mode, set_mode = solara.use_state("A and B")
    district, set_district = solara.use_state(0)
    which, set_which = solara.use_state(0)
    for message in run.errors:
        solara.Error(message, classes=["sc-error"])
    built = [r for r in run.runs if r.models]
    if not built:
        solara.Info("Fix the configuration on the left to build the city.")
        return
    with run.lock:
        last = min(len(r.history) for r in built) - 1
        step = last if shown is None else min(shown, last)
        frames = run.frames()
    per_year = run.steps_per_year
    snap_year = built[0].history[step].year
    solara.Text(
        f"step {step} (year {snap_year:.2f})" + (" (history)" if step < last else ""),
        classes=["sc-step"],
    )
    with solara.Column(classes=["sc-history"]):
        solara.SliderInt(
            f"history: step shown (0 - {last}; 1 step = {12 // per_year} month)",
            value=step,
            min=0,
            max=max(last, 1),
            on_value=lambda v: set_shown(None if v >= last else int(v)),
            disabled=last == 0,
        )
    with solara.Row(style={"flex-wrap": "wrap"}):
        by_label = {spec.label: name for name, spec in DISTRICT_METRICS.items()}
        solara.ToggleButtonsSingle(
            value=DISTRICT_METRICS[metric].label,
            values=list(by_label),
            on_value=lambda v: set_metric(by_label[v]) if v in by_label else None,
            classes=["sc-map-metric"],
        )
        compared = len(built) == 2
        if compared:
            solara.ToggleButtonsSingle(
                value=mode,
                values=["A and B", "B - A"],
                on_value=set_mode,
                classes=["sc-map-mode"],
            )

    def clicked(datum: Any) -> None:
        if isinstance(datum, dict) and isinstance(datum.get("district"), int):
            set_district(datum["district"])

    domain = colour_domain(built, metric)
    with solara.Row(classes=["sc-maps"], style={"flex-wrap": "wrap"}):
        if compared and mode == "B - A":
            if same_districts(*built):
                with solara.Column(classes=["sc-map", "sc-diff-map"]):
                    Chart(difference_map(*built, step, metric, selected=district), on_click=clicked)
            else:
                solara.Warning("A and B are different cities: no district-by-district B - A.")
        else:
            for index, city in enumerate(built):
                chart = district_map(
                    city,
                    city.history[step],
                    metric,
                    domain,
                    selected=district if index == min(which, len(built) - 1) else None,
                    title=city.shown(step),
                )
                with solara.Column(classes=["sc-map"]):
                    Chart(
                        chart,
                        on_click=lambda d, index=index: (set_which(index), clicked(d)),
                    )
    labels = [r.seed_label for r in built]
    with solara.Row(classes=["sc-charts"], style={"flex-wrap": "wrap"}):
        with solara.Column(classes=["sc-index-chart"]):
            Chart(metric_charts(frames, labels, INDEX_METRICS, at_year=snap_year))
        with solara.Column(classes=["sc-headline-chart"]):
            Chart(metric_charts(frames, labels, HEADLINE_METRICS, at_year=snap_year))
    if compared:
        metrics = (*INDEX_METRICS, *HEADLINE_METRICS)
        with solara.Card(
            f"B - A over {run.seeds} paired seed{'s' if run.seeds > 1 else ''}",
            classes=["sc-difference"],
        ):
            diffs = paired_differences(run, metrics)
            Chart(difference_charts(diffs, INDEX_METRICS, run.seeds, columns=3))
            table = end_year_table(run, metrics, step)
            rows = "\n".join(
                f"| {metric_title(r['metric'])} | {r['unit']} | {r['A']:.4g} | {r['B']:.4g} | "
                f"{r['B - A']:+.4g} | {r['%']:+.2f}% |"
                for r in table.to_dict("records")
            )
            with solara.Column(classes=["sc-end-table"]):
                solara.Markdown(
                    f"**Year {snap_year:.2f}** (mean over seeds)\n\n"
                    "| metric | unit | A | B | B - A | % |\n|---|---|---:|---:|---:|---:|\n" + rows
                )
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        Inspector(run, step, district, set_district, which, set_which)
        with solara.Column():
            with solara.Card("Export", classes=["sc-export"]):
                for what, table, name, label in EXPORTS:
                    solara.Text(what)
                    with solara.Row():
                        for fmt in ("csv", "parquet"):
                            solara.FileDownload(
                                lambda fmt=fmt, table=table: table_bytes(table(run), fmt),
                                filename=f"smartcity_{name}.{fmt}",
                                label=f"{label} {fmt.upper()}",
                            )
            Glossary()


@solara.component
def ScenarioCard(run: ViewRun, load_text):
    """Save the run's scenario as TOML, load one, and its shareable URL."""
    scenario = run.scenario()
    with solara.Card("Scenario", classes=["sc-scenario"]):
        solara.FileDownload(
            lambda: scenario_toml(scenario).encode(),
            filename="smartcity_scenario.toml",
            label="save scenario (TOML)",
        )
        # A pasted file, not Solara's FileDrop: its upload thread is cancelled by the very
        # redraw that loading a scenario causes, which left the page half drawn.
        text, set_text = solara.use_state("")
        with solara.Column(classes=["sc-scenario-text"]):
            solara.InputTextArea(
                "load a scenario: paste its TOML here",
                value=text,
                on_value=set_text,
                rows=3,
                continuous_update=True,
            )
        solara.Button(
            "load scenario",
            on_click=lambda: load_text(text.encode(), "pasted"),
            disabled=not text.strip(),
            classes=["sc-scenario-load"],
        )
        query = scenario_query(scenario)
        solara.HTML(
            tag="a",
            unsafe_innerHTML="shareable link to this scenario",
            attributes={"href": f"?{query}", "class": "sc-share-link", "target": "_blank"},
        )


@solara.component
def RunCard(
    run: ViewRun, request: PlayRequest | None, start, halt, redraw, last_rate: float, redraws: int
):
    """STEP (one month), play/pause, run to a year, speed, and the rate reached (``redraws``
    changes whenever the page is redrawn)."""
    speed, set_speed = solara.use_state("as fast as possible")
    target, set_target = solara.use_state(run.years)
    playing = request is not None and not request.stop.is_set()

    def play_to(to_year: float) -> None:
        start(PlayRequest(run, round(to_year * run.steps_per_year), SPEEDS[speed]))

    def step() -> None:
        halt()
        run.step()
        redraw()

    built = bool(run.live)
    with solara.Card("Run", classes=["sc-run"]):
        with solara.Row():
            solara.Button(
                "STEP", on_click=step, disabled=playing or not built, classes=["sc-step-button"]
            )
            if playing:
                solara.Button("pause", on_click=halt, classes=["sc-pause"])
            else:
                solara.Button(
                    "play",
                    on_click=lambda: play_to(run.years),
                    disabled=not built or run.steps >= round(run.years * run.steps_per_year),
                    classes=["sc-play"],
                )
        solara.Text(
            f"STEP = one month; play runs to the horizon (year {run.years:g})",
            style={"font-size": "0.75em"},
        )
        with solara.Row():
            solara.InputFloat(
                "run to year",
                value=target,
                on_value=lambda v: set_target(v) if valid_year(v) else None,
                continuous_update=True,
                classes=["sc-target-year"],
            )
            solara.Button(
                "run",
                on_click=lambda: play_to(target),
                disabled=playing or not built,
                classes=["sc-run-to"],
            )
        solara.Select("speed", values=list(SPEEDS), value=speed, on_value=set_speed)
        rate = request.rate if playing else last_rate
        solara.Text(
            f"{'playing at' if playing else 'last play:'} {rate:.1f} simulated months/s"
            if rate
            else "not played yet",
            classes=["sc-rate"],
        )


@solara.component
def Page():
    """The whole page: run, scenario and configuration in the sidebar, the run in the main
    area; a page saying the view is full when MAX_SESSIONS sessions are open."""
    allowed = solara.use_memo(_register_session, [])
    router = solara.use_router()

    def first_form() -> tuple[dict[str, Any], str]:
        try:
            scenario = scenario_from_query(router.search, CATALOG)
        except InputError as exc:
            return default_form(), str(exc)
        return (default_form(), "") if scenario is None else (scenario_form(scenario), "")

    start_form, start_error = solara.use_memo(first_form, [])
    form = solara.use_reactive(start_form)
    run = solara.use_reactive(
        solara.use_memo(lambda: build_run(start_form) if allowed else None, [])
    )
    pending = solara.use_reactive(None)
    message = solara.use_reactive(start_error)
    redraws = solara.use_reactive(0)
    shown = solara.use_reactive(None)
    request = solara.use_reactive(None)
    last_rate = solara.use_reactive(0.0)
    context = kernel_context.get_current_context()

    def connected() -> bool:
        return PageStatus.CONNECTED in context.page_status.values()

    def redraw() -> None:
        redraws.value += 1

    draw_wanted = solara.use_memo(threading.Event, [])

    def play_task() -> None:
        current = request.value
        if current is None:
            return
        play(current, draw_wanted.set, connected)
        last_rate.value = current.rate
        if request.value is current:
            request.value = None
        redraw()

    def draw_task() -> None:
        # Redraws run in their own thread: the play thread never waits for a drawing.
        current = request.value
        while current is not None and not current.stop.is_set():
            if draw_wanted.wait(0.25):
                draw_wanted.clear()
                redraw()

    solara.lab.use_task(play_task, dependencies=[request.value], prefer_threaded=True)
    solara.use_thread(draw_task, dependencies=[request.value], intrusive_cancel=False)

    def halt() -> None:
        current = request.value
        if current is not None:
            current.stop.set()
            last_rate.value = current.rate
        request.value = None

    def start(new: PlayRequest) -> None:
        halt()
        request.value = new

    solara.use_memo(lambda: context.on_close(halt), [])
    if not allowed:
        solara.Title("smartcity: the view is full")
        solara.Error(
            f"The planners' view is full: {MAX_SESSIONS} sessions are open on this server. "
            "Close another tab or try again in a few minutes.",
            classes=["sc-full"],
        )
        return

    def apply(new: dict[str, Any]) -> None:
        halt()
        form.value = new
        pending.value = None
        shown.value = None
        run.value = build_run(new)

    def on_form(new: dict[str, Any]) -> None:
        if run.value.steps > 0:
            pending.value = new  # ask first: the run has stepped
        else:
            apply(new)

    def load_text(data: bytes, name: str) -> None:
        try:
            scenario = scenario_from_text(
                data.decode("utf-8"),
                f"scenario {name}",
                presets=CATALOG.presets,
                policies=CATALOG.policies,
            )
        except (InputError, UnicodeDecodeError) as exc:
            message.value = str(exc) if isinstance(exc, InputError) else f"{name} is not UTF-8"
            return
        message.value = ""
        on_form(scenario_form(scenario))

    shown_form = pending.value or form.value
    solara.Title("smartcity: planners' view")
    # The Solara banner would cover a chart at 1366x768; charts may shrink in their columns.
    solara.Style(
        'div:has(> b > a[href="https://solara.dev"]) {display: none !important;} '
        ".sc-map, .sc-index-chart, .sc-headline-chart {min-width: 0;} "
        # Long package titles wrap instead of widening the sidebar over the maps.
        ".v-navigation-drawer__content {overflow-x: hidden;} "
        ".v-navigation-drawer .v-card {max-width: 100%; overflow-wrap: anywhere;} "
        ".v-navigation-drawer .v-select__selection {white-space: normal; overflow: visible;} "
        ".v-navigation-drawer .v-select__selections {flex-wrap: wrap; min-width: 0;}"
    )
    with solara.AppBar():
        solara.AppBarTitle("smartcity: planners' view")
    with solara.Sidebar():
        RunCard(run.value, request.value, start, halt, redraw, last_rate.value, redraws.value)
        ScenarioCard(run.value, load_text)
        with solara.Card("Configuration"):
            Controls(shown_form, on_form)
    if message.value:
        solara.Error(message.value, classes=["sc-message"])
    if pending.value is not None:
        with solara.Card(classes=["sc-confirm"]):
            solara.Warning(
                f"These changes start a new run; the current run is at year "
                f"{run.value.steps / run.value.steps_per_year:.2f}."
            )
            with solara.Row():
                solara.Button(
                    "start the new run",
                    on_click=lambda: apply(pending.value),
                    classes=["sc-confirm-new"],
                )
                solara.Button(
                    "keep the current run",
                    on_click=lambda: setattr(pending, "value", None),
                    classes=["sc-confirm-keep"],
                )
    RunView(run.value, redraws.value, shown.value, lambda v: setattr(shown, "value", v))

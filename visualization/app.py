# ruff: noqa: N802  (Solara components are named like classes)
"""The planners' interactive view (Solara; charts in Vega-Lite through Altair).

Start it with ``smartcity ui`` (binds 127.0.0.1). Pick a preset and a policy package (from the
lists shown: shipped ones, and user presets from the folder given with ``--presets``), change
the package's own choices and the sliders, then press STEP (one step) or play, or run to a
year. The map shows the districts at their coordinates coloured by a chosen metric; hover a
district for its name, kind and value, click it to inspect it. The history slider scrubs
back through every stored step (map, inspector and charts follow). Comparison runs
configuration B (and C, D, ...: a city's paths, the baseline and the placebo) beside A over
one or several paired seeds and shows each one minus a chosen reference as maps (the mean
over the seeds, districts whose interval includes 0 drawn pale), as charts with the paired
95% band, as an end-year table with the extra public spending and the difference per 100 M
of it, and each index broken into its terms (visualization.comparison). A scenario is saved
and loaded as a TOML file (``smartcity run --scenario FILE`` runs it too) and shared as a
URL. A change that would restart a run that has stepped pauses play and asks first; moving
a start or stop year the run has not reached yet changes the running model and play goes on
(visualization.phasing).

The page is assembled here from one module per concern: the form state
(visualization.form), sessions and limits (visualization.sessions), playing
(visualization.playback), and one module per card (controls, run_card, scenario_card,
run_view, inspector). Every value the browser sends is checked on the server against the
lists the page offers (views.Catalog) before anything is read, and every scenario against
the view's limits (sessions.check_limits); stepping and reading share one lock per session;
a session whose page disconnects stops playing and is freed after the server's cull timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import solara
import solara.server.kernel_context as kernel_context
from solara.server.kernel_context import PageStatus

from smartcity.simulation.world.errors import InputError
from smartcity.visualization.comparison import Configurations
from smartcity.visualization.controls import Controls
from smartcity.visualization.form import Form
from smartcity.visualization.phasing import continue_with, events_text, phase_events
from smartcity.visualization.playback import PlayRequest, play
from smartcity.visualization.run_card import RunCard
from smartcity.visualization.run_view import RunView
from smartcity.visualization.scenario import scenario_toml
from smartcity.visualization.scenario_card import ScenarioCard
from smartcity.visualization.sessions import (
    CATALOG,
    MAX_SESSIONS,
    check_limits,
    drop_models,
    read_scenario,
    register_session,
    scenario_from_query,
)
from smartcity.visualization.views import ViewRun

PAGE_STYLE = (
    # The Solara banner would cover a chart at 1366x768; charts may shrink in their columns.
    'div:has(> b > a[href="https://solara.dev"]) {display: none !important;} '
    ".sc-map, .sc-index-chart, .sc-headline-chart {min-width: 0;} "
    # Long package titles wrap instead of widening the sidebar over the maps.
    ".v-navigation-drawer__content {overflow-x: hidden;} "
    ".v-navigation-drawer .v-card {max-width: 100%; overflow-wrap: anywhere;} "
    ".v-navigation-drawer .v-select__selection {white-space: normal; overflow: visible;} "
    ".v-navigation-drawer .v-select__selections {flex-wrap: wrap; min-width: 0;}"
)


def build_run(form: Form) -> ViewRun:
    """A new ViewRun of the form (every choice checked against CATALOG)."""
    scenario = form.scenario()
    return ViewRun(scenario.cities, seeds=scenario.seeds, catalog=CATALOG, years=scenario.years)


def first_form(search: str | None) -> tuple[Form, str]:
    """The form a page starts with: the scenario of its URL, or the default form and the
    one-line reason the URL's scenario was refused."""
    try:
        scenario = scenario_from_query(search, CATALOG)
    except InputError as exc:
        return Form(), str(exc)
    return (Form(), "") if scenario is None else (Form.from_scenario(scenario), "")


def _register_session() -> bool:
    context = kernel_context.get_current_context()
    return register_session(context.id, context.on_close)


@solara.component
def Page():
    """The whole page: run, scenario and configuration in the sidebar, the run in the main
    area; a page saying the view is full when MAX_SESSIONS sessions are open."""
    allowed = solara.use_memo(_register_session, [])
    router = solara.use_router()
    start_form, start_error = solara.use_memo(lambda: first_form(router.search), [])
    form = solara.use_reactive(start_form)
    run = solara.use_reactive(
        solara.use_memo(lambda: build_run(start_form) if allowed else None, [])
    )
    generation = solara.use_reactive(0)
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
        shown.value = None  # playing shows the newest step, not the one scrubbed back to
        request.value = new

    def stepped() -> None:
        shown.value = None  # a STEP while scrubbed back shows the step it made
        redraw()

    def close() -> None:
        halt()
        if run.value is not None:
            drop_models(run.value)

    solara.use_memo(lambda: context.on_close(close), [])
    if not allowed:
        solara.Title("smartcity: the view is full")
        solara.Error(
            f"The planners' view is full: {MAX_SESSIONS} sessions are open on this server. "
            "Close another tab or try again in a few minutes.",
            classes=["sc-full"],
        )
        return

    def apply(new: Form) -> None:
        halt()
        form.value = new
        pending.value = None
        shown.value = None
        run.value = build_run(new)
        generation.value += 1

    def propose(new: Form) -> None:
        try:
            check_limits(new.scenario(), CATALOG)
        except InputError as exc:
            message.value = str(exc)
            return
        message.value = ""
        if run.value.steps > 0 and continue_with(run.value, new.scenario()):
            form.value = new  # only start or stop years still ahead: the run goes on
            pending.value = None
            redraw()
        elif run.value.steps > 0:
            halt()  # a change pauses play at once, then asks: the run has stepped
            pending.value = new
        else:
            apply(new)

    def change(update: Callable[[Form], Form]) -> None:
        # Applied to the form as it is now (the pending one while asking), not to the form
        # the control was drawn with: quick events all count.
        propose(update(pending.value or form.value))

    def load_text(text: str, name: str) -> None:
        try:
            scenario = read_scenario(text, f"scenario {name}", CATALOG)
        except InputError as exc:
            message.value = str(exc)
            return
        propose(Form.from_scenario(scenario))

    shown_form = pending.value or form.value
    solara.Title("smartcity: planners' view")
    solara.Style(PAGE_STYLE)
    with solara.AppBar():
        solara.AppBarTitle("smartcity: planners' view")
    with solara.Sidebar():
        phases = events_text(phase_events(run.value))
        RunCard(run.value, request.value, start, halt, stepped, last_rate.value, phases).key(
            f"run-card-{generation.value}"
        )
        ScenarioCard(scenario_toml(run.value.scenario()), load_text)
        with solara.Card("Configuration"):
            Controls(shown_form, change)
        Configurations(shown_form, change)
    if message.value:
        solara.Error(message.value, classes=["sc-message"]).key("message")
    if pending.value is not None:
        with solara.Card(classes=["sc-confirm"]).key("confirm"):
            solara.Warning(
                f"These changes start a new run; the current run is at year "
                f"{run.value.steps / run.value.steps_per_year:.2f} (paused)."
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
    RunView(run.value, redraws.value, shown.value, lambda v: setattr(shown, "value", v)).key(
        "run-view"
    )

"""Issue 21 item 4: start and stop years in the planners' view. Moving a year the run has not
reached (an initiative's or a lever group's) changes the running model and the run goes on,
ending bit for bit where a fresh run of the final scenario ends; a change that reaches the
past, or any other change, is refused (the page then asks to start a new run). The start and
stop are marked on the charts; each lever group the package uses has its own years."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import solara

from smartcity.visualization.controls import PolicyChoices
from smartcity.visualization.figures import metric_charts
from smartcity.visualization.form import Form, Side
from smartcity.visualization.phasing import continue_with, events_text, phase_events
from smartcity.visualization.views import ViewRun

SMALL = {"citizens.count": 1500}
INITIATIVE = "online_government"
TITLE = "Online government and public services"


def _form(**years) -> Form:
    side = Side("mature", "baseline", initiatives=(INITIATIVE,))
    for key, year in years.items():
        side = side.with_year(key, INITIATIVE, year)
    return Form(a=side, years=3.0, overrides=SMALL)


def _run(form: Form, steps: int = 0) -> ViewRun:
    scenario = form.scenario()
    run = ViewRun(scenario.cities, seeds=scenario.seeds, years=scenario.years)
    for _ in range(steps):
        assert run.step()
    return run


def test_a_start_and_a_stop_still_ahead_apply_to_the_running_model_without_a_restart():
    """Planned to start at year 2; at year 1 the planner moves it to year 1.5 and stops it at
    year 2.5: the run keeps its 12 steps and goes on, and after 36 steps equals a fresh run
    of the final scenario; the start and stop are marked."""
    run = _run(_form(start_years=2.0), steps=12)
    final = _form(start_years=1.5, stop_years=2.5)
    assert continue_with(run, final.scenario())
    assert run.steps == 12 and run.configs == final.scenario().cities
    for _ in range(24):
        run.step()
    fresh = _run(final, steps=36)
    pd.testing.assert_frame_equal(run.frames()[0], fresh.frames()[0])
    events = phase_events(run)
    assert events == [(1.5, f"{TITLE} starts"), (2.5, f"{TITLE} stops")]
    assert events_text(events) == f"year 1.5: {TITLE} starts; year 2.5: {TITLE} stops"
    chart = metric_charts(run.frames(), ["A"], ["gdp_per_capita"], events=events).to_dict()
    rules = [layer for layer in chart["spec"]["layer"] if layer["encoding"].get("tooltip")]
    assert [r["encoding"]["x"]["datum"] for r in rules if "datum" in r["encoding"]["x"]] == [
        1.5,
        2.5,
    ]


def test_a_change_that_reaches_the_past_is_not_applied():
    """Running since year 0, stopping it at year 0.5 when the run is at year 1, moving a
    start the run has passed, or any other change, leaves the run as it is."""
    run = _run(_form(), steps=12)
    before = run.frames()[0]
    started_late = _run(_form(start_years=0.5), steps=12)
    for form in (
        _form(stop_years=0.5),
        _form(start_years=0.75),
        replace(_form(stop_years=2.0), seed=2),
        replace(_form(stop_years=2.0), years=4.0),
    ):
        assert not continue_with(run, form.scenario())
    assert not continue_with(started_late, _form(start_years=1.5).scenario())
    assert run.configs == _form().scenario().cities
    pd.testing.assert_frame_equal(run.frames()[0], before)


def test_a_stop_exactly_at_the_current_year_is_still_ahead():
    """At step 12 (year 1) the last step made read year 11/12: a stop at year 1 is read
    first by the next step, so it applies without a restart."""
    run = _run(_form(), steps=12)
    assert continue_with(run, _form(stop_years=1.0).scenario())
    run.step()
    (initiative,) = run.runs[0].model.policy_runtime.initiatives
    assert initiative.strength == 0 and initiative.public_cost == 0


def test_three_configurations_are_tagged_and_continue_without_a_restart():
    """With A, B and C compared, C's start is marked "(C)" and a future-only change to it
    continues the run (the comparison keeps all three configurations)."""
    a = Side("mature", "baseline", initiatives=(INITIATIVE,))
    form = Form(a=a, b=a, compare=True, years=3.0, overrides=SMALL)
    form = form.with_more((a.with_year("start_years", INITIATIVE, 2.0),))
    run = _run(form, steps=6)
    assert (2.0, f"{TITLE} starts (C)") in phase_events(run)
    later = form.with_side("c", form.side("c").with_year("start_years", INITIATIVE, 2.5))
    assert continue_with(run, later.scenario())
    assert run.steps == 6 and run.configs == later.scenario().cities


def test_a_lever_group_year_still_ahead_applies_without_a_restart():
    """The sector priorities of a package planned to start at year 2; at year 1 the planner
    moves them to year 1.5 and stops the new infrastructure at year 2: the run goes on from
    its 12 steps and ends where a fresh run of the final scenario ends; moving the platform
    (on since year 0) to start at year 2 reaches the past and is not applied."""

    def form(**years: dict[str, float]) -> Form:
        side = Side("emerging", "emerging-breakthrough")
        for key, groups in years.items():
            for group, year in groups.items():
                side = side.with_year(key, group, year)
        return Form(a=side, years=3.0, overrides=SMALL)

    run = _run(form(start_years={"sectors": 2.0}), steps=12)
    assert not continue_with(run, form(start_years={"unified_platform": 2.0}).scenario())
    final = form(start_years={"sectors": 1.5}, stop_years={"new_infrastructure": 2.0})
    assert continue_with(run, final.scenario())
    assert run.steps == 12 and run.configs == final.scenario().cities
    for _ in range(24):
        run.step()
    pd.testing.assert_frame_equal(run.frames()[0], _run(final, steps=36).frames()[0])
    assert phase_events(run) == [(1.5, "sectors starts"), (2.0, "new infrastructure stops")]


def _widgets(widget, prefix: str) -> dict:
    """The widgets under ``widget`` whose class names start with ``prefix``, by class."""
    found = {}
    for cls in (getattr(widget, "class_", "") or "").split():
        if cls.startswith(prefix):
            found[cls] = widget
    for child in getattr(widget, "children", None) or []:
        if hasattr(child, "keys"):
            found.update(_widgets(child, prefix))
    return found


def test_the_package_choices_show_a_start_and_stop_year_per_lever_group():
    """Emerging 1 uses all three lever groups: each gets a start and a stop year beside the
    initiatives' (pre-set from its phase); switching the platform off takes its years away."""
    side = Side("emerging", "emerging-breakthrough").with_year(
        "start_years", "unified_platform", 1.0
    )
    updates = []
    box, _ = solara.render(PolicyChoices("a", side, updates.append), handle_error=False)
    inputs = _widgets(box, "sc-st")
    for group in ("sectors", "new_infrastructure", "unified_platform"):
        assert f"sc-start-a-{group}" in inputs and f"sc-stop-a-{group}" in inputs
    assert float(inputs["sc-start-a-unified_platform"].v_model) == 1.0
    assert not inputs["sc-stop-a-sectors"].v_model  # empty: runs to the end
    (row,) = _widgets(box, "sc-unified-a").values()
    platform = next(w for w in row.children if hasattr(w, "v_model"))
    platform.v_model = False
    form = updates[-1](Form(a=side))
    assert form.a.unified_platform is False and "unified_platform" not in form.a.start_years
    assert form.scenario().a.package().lever_groups() == ["sectors", "new_infrastructure"]

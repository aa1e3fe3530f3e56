"""Issue 21 item 4: start and stop years in the planners' view. Moving a year the run has not
reached changes the running model and the run goes on, ending bit for bit where a fresh run
of the final scenario ends; a change that reaches the past, or any other change, is refused
(the page then asks to start a new run). The start and stop are marked on the charts."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

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

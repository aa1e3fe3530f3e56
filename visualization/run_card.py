# ruff: noqa: N802  (Solara components are named like classes)
"""The run card: STEP, play and pause, run to a year within the horizon, the play speed and
the rate reached. Its state (the year typed) belongs to one run: the page keys the card by
the run, so a new horizon starts the field at the new horizon."""

from __future__ import annotations

import solara

from smartcity.visualization.controls import valid_year
from smartcity.visualization.playback import SPEEDS, PlayRequest
from smartcity.visualization.views import ViewRun, step_duration


def target_error(value: float | None, horizon: float) -> str:
    """Why a typed "run to year" is refused ("" when it is accepted): it must be a year
    after the start and at most the horizon."""
    if valid_year(value, horizon):
        return ""
    return f"run to a year after 0 and at most the horizon, year {horizon:g}"


@solara.component
def RunCard(
    run: ViewRun,
    request: PlayRequest | None,
    start,
    halt,
    redraw,
    last_rate: float,
    phases: str = "",
):
    """STEP (one step), play/pause, run to a year, speed, the rate reached and ``phases``,
    the initiatives' start and stop years (phasing.events_text; passed in, so the card is
    redrawn when a year changes in a running model)."""
    speed, set_speed = solara.use_state("as fast as possible")
    target, set_target = solara.use_state(run.years)
    error, set_error = solara.use_state("")
    playing = request is not None and not request.stop.is_set()

    def play_to(to_year: float) -> None:
        start(PlayRequest(run, round(min(to_year, run.years) * run.steps_per_year), SPEEDS[speed]))

    def step() -> None:
        halt()
        run.step()
        redraw()

    def typed(value: float | None) -> None:
        set_error(target_error(value, run.years))
        if valid_year(value, run.years):
            set_target(value)

    built = bool(run.live)
    duration = step_duration(run.steps_per_year)
    with solara.Card("Run", classes=["sc-run"]):
        with solara.Row():
            solara.Button(
                "STEP", on_click=step, disabled=playing or not built, classes=["sc-step-button"]
            )
            if playing:
                solara.Button("pause", on_click=halt, classes=["sc-pause"]).key("pause")
            else:
                solara.Button(
                    "play",
                    on_click=lambda: play_to(run.years),
                    disabled=not built or run.steps >= round(run.years * run.steps_per_year),
                    classes=["sc-play"],
                ).key("play")
        solara.Text(
            f"STEP = {duration}; play runs to the horizon (year {run.years:g})",
            style={"font-size": "0.75em"},
        )
        with solara.Row():
            solara.InputFloat(
                f"run to year (at most {run.years:g})",
                value=target,
                on_value=typed,
                continuous_update=True,
                classes=["sc-target-year"],
            )
            solara.Button(
                "run",
                on_click=lambda: play_to(target),
                disabled=playing or not built or bool(error),
                classes=["sc-run-to"],
            )
        if error:
            solara.Text(error, style={"color": "#b00020"}, classes=["sc-target-error"]).key(
                "target-error"
            )
        if phases:
            solara.Text(
                f"Initiatives start and stop: {phases}",
                style={"font-size": "0.75em"},
                classes=["sc-phases"],
            ).key("phases")
        solara.Select("speed", values=list(SPEEDS), value=speed, on_value=set_speed)
        rate = request.rate if playing else last_rate
        solara.Text(
            f"{'playing at' if playing else 'last play:'} {rate:.1f} simulated months/s"
            if rate
            else "not played yet",
            classes=["sc-rate"],
        )

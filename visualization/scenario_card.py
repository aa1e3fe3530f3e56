# ruff: noqa: N802  (Solara components are named like classes)
"""The scenario card: save the run's scenario as TOML, load one pasted, and its shareable
link (the scenario's TOML in the URL; visualization.sessions reads it back within the
view's limits)."""

from __future__ import annotations

import hashlib

import solara

from smartcity.visualization.sessions import scenario_query


@solara.component
def ScenarioCard(text_of_run: str, load_text):
    """Save the run's scenario (``text_of_run``, its TOML) as TOML, load one, and its
    shareable URL. The text is passed in and the download keyed by it, so a start or stop
    year changed in the running model is saved too."""
    with solara.Card("Scenario", classes=["sc-scenario"]):
        solara.FileDownload(
            lambda: text_of_run.encode(),
            filename="smartcity_scenario.toml",
            label="save scenario (TOML)",
        ).key(f"save-{hashlib.sha256(text_of_run.encode()).hexdigest()}")
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
            on_click=lambda: load_text(text, "pasted"),
            disabled=not text.strip(),
            classes=["sc-scenario-load"],
        )
        solara.HTML(
            tag="a",
            unsafe_innerHTML="shareable link to this scenario",
            attributes={
                "href": f"?{scenario_query(text_of_run)}",
                "class": "sc-share-link",
                "target": "_blank",
            },
        )

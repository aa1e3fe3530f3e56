# ruff: noqa: N802  (Solara components are named like classes)
"""The main area of the page: the step shown and the history slider, the district maps (or
the difference maps averaged over the paired seeds), the metric charts, the comparison of
every configuration with a reference (visualization.comparison: money, difference charts,
end-year table, the index terms), the inspector and the exports.

The recorded metrics are read once per redraw, under the run's lock (views.recorded), and
the charts, the tables and the export of that redraw all read them.
"""

from __future__ import annotations

from typing import Any

import solara

from smartcity.simulation.world.vocabulary import INDEX_METRICS
from smartcity.visualization.comparison import COMPARED_METRICS, ComparisonCard, DifferenceMaps
from smartcity.visualization.figures import (
    MAP_KEY,
    PHASE_COLOUR,
    colour_domain,
    district_map,
    metric_charts,
)
from smartcity.visualization.inspector import Glossary, Inspector
from smartcity.visualization.phasing import events_text, phase_events
from smartcity.visualization.views import (
    DISTRICT_METRICS,
    HEADLINE_METRICS,
    ViewRun,
    comparison_table,
    district_table,
    metrics_table,
    recorded,
    step_duration,
    table_bytes,
)
from smartcity.visualization.widgets import Chart

# The downloads: what a row is, the table of (run, reference), the file name and the label.
EXPORTS = (
    ("per city (one row per configuration, seed and step):",
     lambda run, _: metrics_table(run), "metrics", "city"),
    ("per district (one row per configuration, step and district):",
     lambda run, _: district_table(run), "districts", "districts"),
    ("comparison (one row per step, quantity and configuration: money, metrics, index "
     "terms, differences to the reference):",
     lambda run, ref: comparison_table(run, COMPARED_METRICS, ref), "comparison", "comparison"),
)  # fmt: skip


@solara.component
def RunView(run: ViewRun, redraws: int, shown: int | None, set_shown):
    """Maps, charts, comparison, inspector and export of the run at ``shown`` (None = the
    latest step); ``redraws`` changes whenever the run has moved on, so this redraws."""
    metric, set_metric = solara.use_state("population")
    differences, set_differences = solara.use_state(False)
    district, set_district = solara.use_state(0)
    which, set_which = solara.use_state(0)
    reference, set_reference = solara.use_state(0)
    for message in run.errors:
        solara.Error(message, classes=["sc-error"])
    built = [r for r in run.runs if r.models]
    if not built:
        solara.Info("Fix the configuration on the left to build the city.")
        return
    with run.lock:
        last = min(len(r.history) for r in built) - 1
        step = last if shown is None else min(shown, last)
        rec = recorded(run)
    reference = min(reference, len(built) - 1)
    snap_year = built[0].history[step].year
    solara.Text(
        f"step {step} (year {snap_year:.2f})" + (" (history)" if step < last else ""),
        classes=["sc-step"],
    )
    with solara.Column(classes=["sc-history"]):
        solara.SliderInt(
            f"history: step shown (0 - {last}; 1 step = {step_duration(run.steps_per_year)})",
            value=step,
            min=0,
            max=max(last, 1),
            on_value=lambda v: set_shown(None if v >= last else int(v)),
            disabled=last == 0,
        )
    compared = len(built) >= 2
    names = [r.name for r in built]
    ref = names[reference]
    versus = [f"{x} - {ref}" for x in names if x != ref]
    each = " and ".join(names) if len(names) == 2 else ", ".join(names)
    difference_mode = versus[0] if len(versus) == 1 else f"each - {ref}"
    with solara.Row(style={"flex-wrap": "wrap"}):
        by_label = {spec.label: name for name, spec in DISTRICT_METRICS.items()}
        solara.ToggleButtonsSingle(
            value=DISTRICT_METRICS[metric].label,
            values=list(by_label),
            on_value=lambda v: set_metric(by_label[v]) if v in by_label else None,
            classes=["sc-map-metric"],
        )
        if compared:
            solara.ToggleButtonsSingle(
                value=difference_mode if differences else each,
                values=[each, difference_mode],
                on_value=lambda v: set_differences(v == difference_mode),
                classes=["sc-map-mode"],
            ).key("map-mode")
            solara.Text("differences to:", style={"font-size": "0.8em"}).key("reference-label")
            solara.ToggleButtonsSingle(
                value=ref,
                values=names,
                on_value=lambda v: set_reference(names.index(v)) if v in names else None,
                classes=["sc-reference"],
            ).key("reference")

    def clicked(datum: Any) -> None:
        # A district's area is a GeoJSON feature: its number is one of its properties.
        if isinstance(datum, dict) and isinstance(datum.get("properties"), dict):
            datum = datum["properties"]
        if isinstance(datum, dict) and isinstance(datum.get("district"), int):
            set_district(datum["district"])

    domain = colour_domain(built, metric)
    with solara.Row(classes=["sc-maps"], style={"flex-wrap": "wrap"}):
        if compared and differences:
            DifferenceMaps(built, reference, step, metric, district, clicked).key("diff-maps")
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
                with solara.Column(classes=["sc-map"]).key(f"map-{index}"):
                    Chart(
                        chart,
                        on_click=lambda d, index=index: (set_which(index), clicked(d)),
                    )
    solara.Text(MAP_KEY, style={"font-size": "0.75em", "color": "#555"}, classes=["sc-map-key"])
    labels, frames = list(rec.labels), [seeds[0] for seeds in rec.frames]
    events = phase_events(run)
    with solara.Row(classes=["sc-charts"], style={"flex-wrap": "wrap"}):
        with solara.Column(classes=["sc-index-chart"]):
            Chart(metric_charts(frames, labels, INDEX_METRICS, at_year=snap_year, events=events))
        with solara.Column(classes=["sc-headline-chart"]):
            Chart(metric_charts(frames, labels, HEADLINE_METRICS, at_year=snap_year, events=events))
    if events:
        solara.Text(
            f"Red rules: {events_text(events)}",
            style={"font-size": "0.75em", "color": PHASE_COLOUR},
            classes=["sc-phase-key"],
        ).key("phase-key")
    if compared:
        ComparisonCard(run, rec, step, snap_year, reference).key("comparison")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        Inspector(run, step, district, set_district, which, set_which)
        with solara.Column():
            with solara.Card("Export", classes=["sc-export"]):
                for what, table, name, label in EXPORTS:
                    if name == "comparison" and not compared:
                        continue
                    solara.Text(what).key(f"what-{name}")
                    with solara.Row().key(f"row-{name}"):
                        for fmt in ("csv", "parquet"):
                            solara.FileDownload(
                                lambda fmt=fmt, table=table: table_bytes(
                                    table(run, reference), fmt
                                ),
                                filename=f"smartcity_{name}.{fmt}",
                                label=f"{label} {fmt.upper()}",
                            )
            Glossary()

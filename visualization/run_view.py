# ruff: noqa: N802  (Solara components are named like classes)
"""The main area of the page: the step shown and the history slider, the district maps (or
the B - A map averaged over the paired seeds), the metric charts, the comparison card
(money, B - A charts, end-year table, the index terms), the inspector and the exports.

The comparison puts the money beside every difference (white paper 7, financing models):
the cumulative public spending of A and B, the extra spending of B, and each B - A per 100 M
of it; and says why each index moved, term by term (docs/ODD.md, Development indices).
"""

from __future__ import annotations

import math
from typing import Any

import solara

from smartcity.simulation.world.vocabulary import INDEX_METRICS
from smartcity.visualization.figures import (
    MAP_KEY,
    PHASE_COLOUR,
    colour_domain,
    difference_charts,
    difference_map,
    district_map,
    metric_charts,
    metric_title,
)
from smartcity.visualization.inspector import Glossary, Inspector
from smartcity.visualization.phasing import events_text, phase_events
from smartcity.visualization.views import (
    DISTRICT_METRICS,
    HEADLINE_METRICS,
    MIN_EXTRA_SPENDING,
    ViewRun,
    comparison_table,
    district_table,
    end_year_table,
    metrics_table,
    paired_differences,
    same_districts,
    step_duration,
    table_bytes,
    term_table,
)
from smartcity.visualization.widgets import Chart, Markdown

COMPARED_METRICS = (*INDEX_METRICS, *HEADLINE_METRICS)
"""What the end-year table and the comparison export compare (after the public spending)."""


def comparison_export(run: ViewRun) -> Any:
    """The comparison table of the run (money, metrics, index terms at every step)."""
    return comparison_table(run, COMPARED_METRICS)


# The downloads: what a row is, the table, the file name and the button label.
EXPORTS = (
    ("per city (one row per configuration, seed and step):", metrics_table, "metrics", "city"),
    ("per district (one row per configuration, step and district):", district_table,
     "districts", "districts"),
    ("comparison (one row per step and quantity: money, metrics, index terms):",
     comparison_export, "comparison", "comparison"),
)  # fmt: skip


def _number(value: float, digits: str = ".4g", sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:{'+' if sign else ''}{digits}}"


def aligned(a: float, b: float, diff: float) -> tuple[str, str, str]:
    """A, B and B - A with the same decimals, enough for 4 significant digits of B - A, so
    the shown B - A is the difference of the shown A and B (5128 and 5134 beside +7 was
    not)."""
    if any(v is None or not math.isfinite(v) for v in (a, b, diff)):
        return _number(a), _number(b), _number(diff, sign=True)
    size = math.floor(math.log10(abs(diff))) if diff != 0 else 0
    decimals = min(max(0, 3 - size), 6)
    return f"{a:,.{decimals}f}", f"{b:,.{decimals}f}", f"{diff:+,.{decimals}f}"


def end_table_markdown(run: ViewRun, step: int, year: float) -> str:
    """The end-year table as Markdown: A, B, B - A, % and B - A per 100 M of extra public
    spending, money first."""
    table = end_year_table(run, COMPARED_METRICS, step)
    rows = "\n".join(
        "| {} | {} | {} | {} | {} | {}% | {} |".format(
            metric_title(r["metric"]),
            r["unit"],
            *aligned(r["A"], r["B"], r["B - A"]),
            _number(r["%"], ".2f", True),
            _number(r["per 100 M"], sign=True),
        )
        for r in table.to_dict("records")
    )
    extra = table.iloc[0]["B - A"]
    return (
        f"**Year {year:.2f}** (mean over {run.seeds} paired seed{'s' if run.seeds > 1 else ''}); "
        f"B spends {extra:+,.1f} M more public money than A so far; the last column is B - A "
        f"per 100 M of it (- when B spends less than {MIN_EXTRA_SPENDING:g} M more)\n\n"
        "| metric | unit | A | B | B - A | % | per 100 M |\n"
        "|---|---|---:|---:|---:|---:|---:|\n" + rows
    )


def terms_markdown(run: ViewRun, step: int) -> str:
    """Each index broken into its terms (contributions that add up to the index): A, B and
    B - A per term."""
    table = term_table(run, step)
    lines = []
    for index, part in table.groupby("index", sort=False):
        lines.append(
            f"| **{metric_title(index)}** | **{part['A'].sum():.4f}** | **{part['B'].sum():.4f}**"
            f" | **{part['B - A'].sum():+.4f}** |"
        )
        lines += [
            f"| {r['term'].replace('_', ' ')} | {r['A']:.4f} | {r['B']:.4f} | {r['B - A']:+.4f} |"
            for r in part.to_dict("records")
        ]
    return (
        "Why each index moved: its terms, as contributions that add up to the index "
        "(mean over seeds)\n\n| index / term | A | B | B - A |\n|---|---:|---:|---:|\n"
        + "\n".join(lines)
    )


@solara.component
def ComparisonCard(run: ViewRun, step: int, year: float):
    """B - A over the paired seeds: charts with the paired 95% band, the end-year table with
    the money and the index terms."""
    with solara.Card(
        f"B - A over {run.seeds} paired seed{'s' if run.seeds > 1 else ''}",
        classes=["sc-difference"],
    ):
        diffs = paired_differences(run, COMPARED_METRICS)
        Chart(difference_charts(diffs, INDEX_METRICS, run.seeds, columns=3))
        with solara.Column(classes=["sc-end-table"]):
            Markdown(end_table_markdown(run, step, year))
        with solara.Column(classes=["sc-terms"]):
            Markdown(terms_markdown(run, step))


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
    compared = len(built) == 2
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
                value=mode,
                values=["A and B", "B - A"],
                on_value=set_mode,
                classes=["sc-map-mode"],
            ).key("map-mode")

    def clicked(datum: Any) -> None:
        # A district's area is a GeoJSON feature: its number is one of its properties.
        if isinstance(datum, dict) and isinstance(datum.get("properties"), dict):
            datum = datum["properties"]
        if isinstance(datum, dict) and isinstance(datum.get("district"), int):
            set_district(datum["district"])

    domain = colour_domain(built, metric)
    with solara.Row(classes=["sc-maps"], style={"flex-wrap": "wrap"}):
        if compared and mode == "B - A":
            if same_districts(*built):
                with solara.Column(classes=["sc-map", "sc-diff-map"]).key("diff-map"):
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
                with solara.Column(classes=["sc-map"]).key(f"map-{index}"):
                    Chart(
                        chart,
                        on_click=lambda d, index=index: (set_which(index), clicked(d)),
                    )
    solara.Text(MAP_KEY, style={"font-size": "0.75em", "color": "#555"}, classes=["sc-map-key"])
    labels = [r.seed_label for r in built]
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
        ComparisonCard(run, step, snap_year).key("comparison")
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
                                lambda fmt=fmt, table=table: table_bytes(table(run), fmt),
                                filename=f"smartcity_{name}.{fmt}",
                                label=f"{label} {fmt.upper()}",
                            )
            Glossary()

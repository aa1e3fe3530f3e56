# ruff: noqa: N802  (Solara components are named like classes)
"""The district inspector (one district of one configuration at the step shown: residents'
summary and firms and jobs by sector) and the glossary of what the indices, metrics and map
colours mean, from the metric registry."""

from __future__ import annotations

import math

import solara

from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.world.vocabulary import DISTRICT_KINDS, INDEX_METRICS
from smartcity.visualization.figures import MAP_KEY, metric_title
from smartcity.visualization.views import (
    DISTRICT_METRICS,
    HEADLINE_METRICS,
    SUMMARY_UNITS,
    ViewRun,
)
from smartcity.visualization.widgets import Markdown


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
                by_name = {run.runs[i].name: i for i in built}
                solara.ToggleButtonsSingle(
                    value=city.name,
                    values=list(by_name),
                    on_value=lambda v: set_which(by_name[v]) if v in by_name else None,
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
            Markdown(
                f"**{city.shown(step)}, {names[district]} "
                f"({DISTRICT_KINDS[kind].replace('_', ' ')})**\n\n| | |\n|---|---|\n{rows}",
            )
        table = snap.sectors(district)
        lines = "\n".join(f"| {r.sector} | {r.firms} | {r.jobs} |" for r in table.itertuples())
        Markdown(f"| sector | firms | jobs |\n|---|---:|---:|\n{lines}")


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
            + (
                "its documented range"
                if spec.lo is not None
                else "the range of the run so far (it widens as the run reaches new values)"
            )
            for spec in DISTRICT_METRICS.values()
        ]
        lines.append(f"- **map marks**: {MAP_KEY}")
        with solara.Column(classes=["sc-glossary"]):
            Markdown("\n".join(lines), style={"font-size": "0.8em"})

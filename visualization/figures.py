"""Vega-Lite charts of the planners' view (built with Altair, as Mesa's own renderers are).

Plain functions from snapshots and metric frames to Altair charts: the browser draws them,
so the server only sends a small JSON document per redraw, and every mark carries a tooltip.
The district map draws each district at its coordinates (km), sized by area and coloured by a
per-district metric on a scale fixed for the whole run (the metric's documented range, or the
range of the run so far; the legend says which); links are coloured by congestion. A
difference map colours one configuration minus the reference on a diverging scale centred
on zero, shared by every difference map of a comparison (a small multiple compares them).
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.world.vocabulary import DISTRICT_KINDS
from smartcity.visualization.views import (
    DISTRICT_METRICS,
    CityRun,
    Snapshot,
    district_differences,
    nice_step,
)

MAP_SIZE = (380, 300)
CHART_SIZE = (230, 120)
ACRONYMS = {"gdp": "GDP", "ict": "ICT", "iot": "IoT"}
PHASE_COLOUR = "#d62728"
"""Colour of the rules marking an initiative's start or stop year on the metric charts."""


def metric_title(name: str) -> str:
    """Plain title of a registry metric ("gdp_per_capita" -> "GDP per capita")."""
    words = [ACRONYMS.get(w, w) for w in name.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def colour_domain(runs: Sequence[CityRun], metric: str) -> tuple[float, float, str]:
    """Colour range of ``metric`` for the whole run and what it is: the documented range
    when the metric has one, else the range over every stored step of ``runs`` so far."""
    spec = DISTRICT_METRICS[metric]
    if spec.lo is not None and spec.hi is not None:
        return spec.lo, spec.hi, "documented range"
    values = np.concatenate([s.values[metric] for r in runs for s in r.history])
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if metric in ("population", "jobs"):
        lo = 0.0
    if hi - lo < 1e-9:
        hi = lo + 1.0
    return lo, hi, "range so far (widens)"


def _nodes(run: CityRun, values: np.ndarray) -> pd.DataFrame:
    """One row per district: number, name, kind, coordinates [km] and the value shown."""
    d = run.model.districts
    return pd.DataFrame(
        {
            "district": np.arange(d.n),
            "name": d.names,
            "kind": [DISTRICT_KINDS[k].replace("_", " ") for k in d.kind],
            "x": d.x,
            "y": d.y,
            "value": np.round(values, 4),
        }
    )


def _features(run: CityRun, nodes: pd.DataFrame) -> list[dict]:
    """The districts as GeoJSON features (their areas in km), the node columns as
    properties (what the map colours, the tooltip shows and a click returns)."""
    rows = nodes.drop(columns=["x", "y"]).to_dict("records")
    return [
        {"type": "Feature", "geometry": shape, "properties": _plain(row)}
        for shape, row in zip(run.shapes, rows, strict=True)
    ]


def _plain(row: dict) -> dict:
    """JSON-ready values (numpy scalars to Python, NaN to None)."""
    out = {}
    for key, value in row.items():
        value = value.item() if hasattr(value, "item") else value
        out[key] = None if isinstance(value, float) and np.isnan(value) else value
    return out


def scale_length(width_km: float) -> float:
    """A scale bar length about a quarter of the map's width: 1, 2 or 5 x 10^k km."""
    return float(nice_step(max(width_km / 4, 1e-3)))


def _links(run: CityRun, snap: Snapshot | None) -> pd.DataFrame:
    d = run.model.districts
    u, v = d.edges[:, 0], d.edges[:, 1]
    congestion = np.round(snap.links, 3) if snap is not None else np.full(len(u), np.nan)
    return pd.DataFrame(
        {
            "x": d.x[u],
            "y": d.y[u],
            "x2": d.x[v],
            "y2": d.y[v],
            "link": [f"{d.names[a]} - {d.names[b]}" for a, b in zip(u, v, strict=True)],
            "congestion": congestion,
        }
    )


def district_map(
    run: CityRun,
    snap: Snapshot,
    metric: str,
    domain: tuple[float, float, str],
    *,
    selected: int | None = None,
    title: str = "",
) -> alt.LayerChart:
    """The district map of one configuration at one snapshot, on a fixed colour scale."""
    spec = DISTRICT_METRICS[metric]
    lo, hi, basis = domain
    value_title = f"{spec.label} [{spec.unit}]"
    nodes = _nodes(run, snap.values[metric])
    colour = alt.Color(
        "properties.value:Q",
        scale=alt.Scale(scheme=spec.scheme, domain=[lo, hi], clamp=True),
        legend=alt.Legend(title=[spec.label, f"[{spec.unit}]", f"scale: {basis}"]),
    )
    return _map_layers(run, snap, nodes, colour, value_title, selected, title)


def difference_map(
    ref: CityRun,
    other: CityRun,
    step: int,
    metric: str,
    largest: float,
    *,
    selected: int | None = None,
) -> alt.LayerChart:
    """``other`` minus the reference ``ref`` of ``metric`` by district at ``step``, the mean
    over every paired seed, on diverging colours centred on zero spanning +-``largest``
    (views.difference_domain: the same for every map of a comparison). With several seeds a
    district whose paired 95% interval includes 0 is drawn pale with a dashed outline; the
    title says over how many seeds. Links are drawn grey: their congestion is not compared
    here."""
    spec = DISTRICT_METRICS[metric]
    seeds = len(ref.history[step].seed_values)
    name = f"{other.name} - {ref.name}"
    value_title = f"{name} {spec.label} [{spec.unit}]"
    diff = district_differences(ref, other, step, metric)
    nodes = _nodes(ref, diff["mean"].to_numpy())
    nodes["lo"] = np.round(diff["lo"].to_numpy(), 4)
    nodes["hi"] = np.round(diff["hi"].to_numpy(), 4)
    nodes["sure"] = np.where(diff["includes_zero"], "interval includes 0", "interval excludes 0")
    colour = alt.Color(
        "properties.value:Q",
        scale=alt.Scale(scheme="redblue", domain=[-largest, largest], domainMid=0, clamp=True),
        legend=alt.Legend(title=[name, spec.label, f"[{spec.unit}]", "centred on 0"]),
    )
    over = f"mean of {seeds} paired seeds" if seeds > 1 else "one seed"
    title = f"{name}: {spec.label}, year {ref.history[step].year:.2f} ({over})"
    extra = []
    if seeds > 1:
        extra = [
            alt.Tooltip("properties.lo:Q", title="95% low", format=".4~g"),
            alt.Tooltip("properties.hi:Q", title="95% high", format=".4~g"),
            alt.Tooltip("properties.sure:N", title="paired 95% interval"),
        ]
    return _map_layers(
        ref, None, nodes, colour, value_title, selected, title, extra, uncertain=seeds > 1
    )


def _map_layers(
    run: CityRun,
    snap: Snapshot | None,
    nodes: pd.DataFrame,
    colour: alt.Color,
    value_title: str,
    selected: int | None,
    title: str,
    extra_tooltip: Sequence[alt.Tooltip] = (),
    *,
    uncertain: bool = False,
) -> alt.LayerChart:
    """The districts' areas (layer 0, coloured), links between their centres, names, the
    selection ring, a scale bar and a north arrow, on one km plane (identity projection,
    north up). ``snap`` None draws the links grey (a difference map does not compare them);
    ``uncertain`` draws districts whose interval includes 0 pale with a dashed outline."""
    width, height = MAP_SIZE
    features = _features(run, nodes)
    lon, lat = alt.Longitude("x:Q"), alt.Latitude("y:Q")
    ends = {"longitude2": "x2:Q", "latitude2": "y2:Q"}
    tooltip = [
        alt.Tooltip("properties.name:N", title="district"),
        alt.Tooltip("properties.kind:N", title="kind"),
        alt.Tooltip("properties.value:Q", title=value_title, format=".4~g"),
        *extra_tooltip,
    ]
    areas = (
        alt.Chart(alt.Data(values=features))
        .mark_geoshape(stroke="black", strokeWidth=0.8, cursor="pointer")
        .encode(color=colour, tooltip=tooltip)
    )
    if uncertain:
        pale = alt.datum["properties"]["sure"] == "interval includes 0"
        areas = areas.encode(
            opacity=alt.condition(pale, alt.value(0.35), alt.value(1.0)),
            strokeDash=alt.condition(pale, alt.value([3, 2]), alt.value([1, 0])),
        )
    link_data = _links(run, snap)
    if snap is None:
        links = (
            alt.Chart(link_data)
            .mark_rule(strokeWidth=1.5, opacity=0.5, color="#666")
            .encode(longitude=lon, latitude=lat, **ends, tooltip=["link:N"])
        )
    else:
        links = (
            alt.Chart(link_data)
            .mark_rule(strokeWidth=2.5, opacity=0.85)
            .encode(
                longitude=lon,
                latitude=lat,
                **ends,
                color=alt.Color(
                    "congestion:Q",
                    scale=alt.Scale(scheme="plasma", reverse=True, domain=[1.0, 2.0], clamp=True),
                    legend=alt.Legend(title=["link congestion", "[congested/free-flow]"]),
                ),
                tooltip=[
                    "link:N",
                    alt.Tooltip("congestion:Q", title="congestion [congested/free-flow time]"),
                ],
            )
        )
    labels = (
        alt.Chart(nodes)
        .mark_text(dy=-8, fontSize=9, color="#222")
        .encode(longitude=lon, latitude=lat, text="name:N")
    )
    layers = [areas, links, labels]
    if selected is not None and 0 <= selected < len(features):
        ring = (
            alt.Chart(alt.Data(values=[features[selected]]))
            .mark_geoshape(filled=False, stroke="red", strokeWidth=2.5)
            .encode(tooltip=tooltip)
        )
        layers.append(ring)
    layers += _scale_and_north(run)
    return (
        alt.layer(*layers)
        .resolve_scale(color="independent")
        .project(type="identity", reflectY=True)
        .properties(width=width, height=height, title=title)
    )


def _scale_and_north(run: CityRun) -> list[alt.Chart]:
    """A scale bar under the city's bottom-left corner and a north arrow at its top right."""
    minx, miny, maxx, maxy = run.bounds
    length = scale_length(maxx - minx)
    pad = 0.06 * (maxy - miny)
    bar = pd.DataFrame({"x": [minx], "y": [miny - pad], "x2": [minx + length], "y2": [miny - pad]})
    marks = pd.DataFrame(
        {
            "x": [minx + length / 2, maxx],
            "y": [miny - pad, maxy],
            "text": [f"{length:g} km", "▲ N"],
        }
    )
    lon, lat = alt.Longitude("x:Q"), alt.Latitude("y:Q")
    return [
        alt.Chart(bar)
        .mark_rule(strokeWidth=3, color="black")
        .encode(longitude=lon, latitude=lat, longitude2="x2:Q", latitude2="y2:Q"),
        alt.Chart(marks)
        .mark_text(dy=-7, fontSize=10, fontWeight="bold", color="black")
        .encode(longitude=lon, latitude=lat, text="text:N"),
    ]


MAP_KEY = (
    "Each area is a district (its own shape, or for a generated city the Voronoi cell of its "
    "centre); lines join linked districts' centres. Red outline: the district shown in the "
    "inspector. "
    "Money: millions (M) and thousands (k) of the city's currency units."
)
"""What the maps' marks mean, shown under them."""


def metric_charts(
    frames: Sequence[pd.DataFrame],
    labels: Sequence[str],
    metrics: Sequence[str],
    *,
    at_year: float | None = None,
    columns: int = 2,
    events: Sequence[tuple[float, str]] = (),
) -> alt.FacetChart:
    """One small chart per registry metric (plain title and unit from the registry), one line
    per configuration, a dashed rule at ``at_year`` (the step shown on the map) and a red
    rule at each ``(year, what)`` of ``events`` (an initiative starting or stopping). One
    faceted chart, so a redraw builds a single small specification."""
    rows = []
    for frame, label in zip(frames, labels, strict=True):
        part = frame[["year", *metrics]].melt("year", var_name="metric")
        part["configuration"] = label
        rows.append(part)
    data = pd.concat(rows, ignore_index=True)
    titles = {m: f"{metric_title(m)} [{METRICS[m].unit}]" for m in metrics}
    data["chart"] = data["metric"].map(titles)
    line = (
        alt.Chart()
        .mark_line()
        .encode(
            x=alt.X("year:Q", title="year"),
            y=alt.Y("value:Q", title="axis zoomed to the data", scale=alt.Scale(zero=False)),
            color=alt.Color("configuration:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=[
                "configuration:N",
                alt.Tooltip("chart:N", title="metric"),
                alt.Tooltip("year:Q", format=".2f"),
                alt.Tooltip("value:Q", format=".4~g"),
            ],
        )
    )
    layers = [line]
    if at_year is not None:
        layers.append(
            alt.Chart().mark_rule(color="gray", strokeDash=[4, 3]).encode(x=alt.datum(at_year))
        )
    layers += [
        alt.Chart()
        .mark_rule(color=PHASE_COLOUR, strokeWidth=2, opacity=0.7)
        .encode(x=alt.datum(year), tooltip=alt.value(f"year {year:g}: {what}"))
        for year, what in events
    ]
    return _facet(layers, data, titles, columns)


def difference_charts(
    diffs: pd.DataFrame, metrics: Sequence[str], seeds: int, *, columns: int = 2
) -> alt.FacetChart:
    """Each configuration minus the reference (views.paired_differences) of each metric over
    time, one colour per configuration: the mean over paired seeds and, with several seeds,
    its paired 95% band (t interval over the seed pairs); a rule at zero."""
    reference = diffs["configuration"].iloc[0].split(" - ")[1]
    titles = {m: f"vs {reference}: {metric_title(m)} [{METRICS[m].unit}]" for m in metrics}
    data = diffs[diffs["metric"].isin(metrics)].copy()
    data["chart"] = data["metric"].map(titles)
    colour = alt.Color("configuration:N", legend=alt.Legend(orient="bottom", title=None))
    layers = []
    if seeds > 1:
        layers.append(
            alt.Chart().mark_area(opacity=0.2).encode(x="year:Q", y="lo:Q", y2="hi:Q", color=colour)
        )
    layers.append(
        alt.Chart()
        .mark_line()
        .encode(
            x=alt.X("year:Q", title="year"),
            y=alt.Y("mean:Q", title=f"difference to {reference}"),
            color=colour,
            tooltip=[
                "configuration:N",
                alt.Tooltip("chart:N", title="metric"),
                alt.Tooltip("year:Q", format=".2f"),
                alt.Tooltip("mean:Q", title="difference (mean over seeds)", format=".4~g"),
                alt.Tooltip("lo:Q", title="95% low", format=".4~g"),
                alt.Tooltip("hi:Q", title="95% high", format=".4~g"),
            ],
        )
    )
    layers.append(alt.Chart().mark_rule(color="black").encode(y=alt.datum(0)))
    return _facet(layers, data, titles, columns)


def _facet(layers: list, data: pd.DataFrame, titles: dict, columns: int) -> alt.FacetChart:
    """One small chart per metric (the ``chart`` column), in the order of ``titles``, each
    with its own y scale."""
    return (
        alt.layer(*layers, data=data)
        .properties(width=CHART_SIZE[0], height=CHART_SIZE[1])
        .facet(
            facet=alt.Facet("chart:N", title=None, sort=list(titles.values())),
            columns=columns,
        )
        .resolve_scale(y="independent")
    )

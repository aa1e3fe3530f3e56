"""Matplotlib figures of a city: the district map and the metric charts.

Plain functions returning ``matplotlib.figure.Figure`` objects (no pyplot state, so they are
safe in the Solara server's threads and usable in reports). The map draws every district at
its own coordinates (node attributes x, y in km), nodes coloured by a per-district metric and
links coloured by congestion, each with a colorbar.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib import patheffects
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from smartcity.simulation.metrics import METRICS
from smartcity.simulation.model import CityModel
from smartcity.visualization.views import DISTRICT_METRICS, district_values, edge_congestion

EDGE_CMAP = "plasma_r"
LINE_STYLES = ("-", "--")
DPI = 80


def value_range(models: Sequence[CityModel], metric: str) -> tuple[float, float]:
    """Common colour range of ``metric`` over ``models`` (so compared maps share a scale)."""
    values = np.concatenate([district_values(m, metric) for m in models])
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def congestion_range(models: Sequence[CityModel]) -> tuple[float, float]:
    """Common colour range of link congestion over ``models`` (at least 1 to 1.5)."""
    hi = max(float(edge_congestion(m).max()) if len(m.districts.edges) else 1.0 for m in models)
    return 1.0, max(hi, 1.5)


def draw_district_map(
    model: CityModel,
    metric: str = "population",
    *,
    node_range: tuple[float, float] | None = None,
    edge_range: tuple[float, float] | None = None,
    title: str | None = None,
    selected: int | None = None,
    figsize: tuple[float, float] = (6.0, 5.0),
) -> Figure:
    """The district graph at its coordinates: nodes by ``metric``, links by congestion.

    Args:
        metric: a key of visualization.views.DISTRICT_METRICS.
        node_range, edge_range: colour ranges (default: this model's own).
        selected: district to outline (the inspector's choice).
    """
    spec = DISTRICT_METRICS[metric]
    d = model.districts
    values = district_values(model, metric)
    node_range = node_range or value_range([model], metric)
    edge_range = edge_range or congestion_range([model])
    fig = Figure(figsize=figsize, dpi=DPI)
    # Fixed axes instead of a layout engine: constrained layout tripled the drawing time.
    ax = fig.add_axes((0.11, 0.1, 0.6, 0.82))
    node_cax = fig.add_axes((0.76, 0.15, 0.03, 0.72))
    edge_cax = fig.add_axes((0.89, 0.15, 0.03, 0.72))
    edge_norm = Normalize(*edge_range)
    if len(d.edges):
        segments = [[(d.x[u], d.y[u]), (d.x[v], d.y[v])] for u, v in d.edges]
        lines = LineCollection(
            segments, cmap=EDGE_CMAP, norm=edge_norm, linewidths=3.0, zorder=1, alpha=0.9
        )
        lines.set_array(edge_congestion(model))
        ax.add_collection(lines)
    sizes = 80 + 420 * np.sqrt(d.area_km2 / max(float(d.area_km2.max()), 1e-9))
    nodes = ax.scatter(
        d.x,
        d.y,
        c=values,
        s=sizes,
        cmap=spec.cmap,
        norm=Normalize(*node_range),
        edgecolors="black",
        linewidths=0.8,
        zorder=2,
    )
    if selected is not None and 0 <= selected < d.n:
        ax.scatter(
            [d.x[selected]], [d.y[selected]], s=sizes[selected] * 1.9, facecolors="none",
            edgecolors="red", linewidths=2.0, zorder=3,
        )  # fmt: skip
    for i in range(d.n):
        ax.annotate(
            str(i), (d.x[i], d.y[i]), ha="center", va="center", fontsize=7, zorder=4,
            path_effects=[patheffects.withStroke(linewidth=2, foreground="white")],
        )  # fmt: skip
    fig.colorbar(nodes, cax=node_cax).set_label(f"{spec.label} [{spec.unit}]", fontsize=8)
    fig.colorbar(mpl.cm.ScalarMappable(norm=edge_norm, cmap=EDGE_CMAP), cax=edge_cax).set_label(
        "link congestion [congested/free-flow time]", fontsize=8
    )
    for cax in (node_cax, edge_cax):
        cax.tick_params(labelsize=7)
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.08)
    ax.set_xlabel("x [km]")
    ax.set_ylabel("y [km]")
    ax.set_title(title or f"{model.params.city.name}, step {model.steps}", fontsize=10)
    return fig


def draw_metric_charts(
    models: Sequence[CityModel],
    labels: Sequence[str],
    metrics: Sequence[str],
    *,
    ncols: int = 2,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """One panel per metric, one line per model (solid for the first, dashed for the
    second), against the years simulated; axis labels carry the metrics' units."""
    nrows = -(-len(metrics) // ncols)
    fig = Figure(figsize=figsize or (3.2 * ncols, 2.3 * nrows), dpi=DPI)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.11, top=0.92, wspace=0.4, hspace=0.6)
    frames = [m.datacollector.get_model_vars_dataframe() for m in models]
    for ax, metric in zip(axes, metrics, strict=False):
        for k, (model, frame, label) in enumerate(zip(models, frames, labels, strict=True)):
            years = np.arange(len(frame)) / model.steps_per_year
            marker = "." if len(frame) < 40 else None
            ax.plot(years, frame[metric], LINE_STYLES[k % 2], marker=marker, label=label, lw=1.6)
        ax.set_title(metric.replace("_", " "), fontsize=9)
        ax.set_ylabel(METRICS[metric].unit, fontsize=8)
        ax.set_xlabel("year", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    if len(models) > 1 or title:
        axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def draw_index_chart(
    models: Sequence[CityModel], labels: Sequence[str], metrics: Sequence[str]
) -> Figure:
    """The three indices in one panel (0-1), one colour per index, line style per model."""
    fig = Figure(figsize=(6.0, 3.6 if len(models) > 1 else 3.0), dpi=DPI)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.1, right=0.97, top=0.9, bottom=0.38 if len(models) > 1 else 0.16)
    colours = mpl.colormaps["tab10"].colors
    for k, (model, label) in enumerate(zip(models, labels, strict=True)):
        frame = model.datacollector.get_model_vars_dataframe()
        years = np.arange(len(frame)) / model.steps_per_year
        marker = "." if len(frame) < 40 else None
        for j, metric in enumerate(metrics):
            name = metric.replace("_index", "").replace("_", " ")
            ax.plot(
                years, frame[metric], LINE_STYLES[k % 2], marker=marker, color=colours[j], lw=1.8,
                label=f"{name} ({label.split(':')[0]})" if len(models) > 1 else name,
            )  # fmt: skip
    ax.set_ylim(0, 1)
    ax.set_xlabel("year")
    ax.set_ylabel("index [0-1]")
    ax.set_title("demand, industry and governance indices", fontsize=10)
    ax.grid(alpha=0.3)
    if len(models) > 1:
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2)
        ax.set_title("indices: A solid, B dashed", fontsize=10)
    else:
        ax.legend(fontsize=7, loc="lower left")
    return fig

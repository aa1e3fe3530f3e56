"""Matplotlib figures of experiment results.

Figures are plain `matplotlib.figure.Figure` objects saved to files (Agg), never pyplot: no
display is needed and the global backend of whoever imports this module stays untouched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

PRESET_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
POLICY_STYLES = ("-", "--", ":", "-.")
DPI = 120


def label(metric: str, units: Mapping[str, str]) -> str:
    """Return 'metric name [unit]' for an axis."""
    unit = units.get(metric, "")
    text = metric.replace("_", " ")
    return f"{text} [{unit}]" if unit and unit != "-" else text


def _styles(summary: pd.DataFrame) -> dict[tuple[str, str], dict[str, str]]:
    presets = list(dict.fromkeys(summary["preset"]))
    policies = list(dict.fromkeys(summary["policy"]))
    return {
        (preset, policy): {
            "color": PRESET_COLOURS[i % len(PRESET_COLOURS)],
            "linestyle": POLICY_STYLES[j % len(POLICY_STYLES)],
        }
        for i, preset in enumerate(presets)
        for j, policy in enumerate(policies)
    }


def _grid(count: int) -> tuple[Figure, list[Axes]]:
    cols = min(count, 3) if count != 4 else 2
    rows = math.ceil(count / cols)
    fig = Figure(figsize=(5.2 * cols, 3.9 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    flat = list(axes.flat)
    for extra in flat[count:]:
        extra.set_visible(False)
    return fig, flat[:count]


def plot_trajectories(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    units: Mapping[str, str],
    path: Path,
    title: str,
) -> Path:
    """Plot mean trajectories with 95% bands, one panel per metric, one line per path.

    Args:
        summary: rows of (preset, policy, metric, year, n, mean, ci_low, ci_high).
        metrics: metrics to draw, one panel each.
        units: {metric: unit} for axis labels.
        path: PNG file to write.
        title: figure title.

    Returns:
        The written path.
    """
    styles = _styles(summary)
    fig, axes = _grid(len(metrics))
    for ax, metric in zip(axes, metrics, strict=True):
        rows = summary[summary["metric"] == metric]
        for (preset, policy), group in rows.groupby(["preset", "policy"], sort=False):
            style = styles[preset, policy]
            group = group.sort_values("year")
            ax.plot(group["year"], group["mean"], label=f"{preset} / {policy}", **style)
            ax.fill_between(
                group["year"], group["ci_low"], group["ci_high"], color=style["color"], alpha=0.2
            )
        ax.set_title(metric.replace("_", " "))
        ax.set_xlabel("year")
        ax.set_ylabel(label(metric, units))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"{title} (mean and 95% interval over replications)")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def plot_horizon(
    horizon: pd.DataFrame,
    metrics: Sequence[str],
    units: Mapping[str, str],
    path: Path,
    title: str,
) -> Path:
    """Bar chart of each metric at the final year, one bar per preset/policy with 95% CI.

    Args:
        horizon: rows of (preset, policy, metric, year, n, mean, ci_low, ci_high).
        metrics: metrics to draw, one panel each.
        units: {metric: unit} for axis labels.
        path: PNG file to write.
        title: figure title.

    Returns:
        The written path.
    """
    styles = _styles(horizon)
    fig, axes = _grid(len(metrics))
    for ax, metric in zip(axes, metrics, strict=True):
        rows = horizon[horizon["metric"] == metric]
        names = [f"{p}\n{q}" for p, q in zip(rows["preset"], rows["policy"], strict=True)]
        error = [rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]
        colours = [
            styles[p, q]["color"] for p, q in zip(rows["preset"], rows["policy"], strict=True)
        ]
        ax.bar(names, rows["mean"], yerr=error, color=colours, capsize=4)
        ax.set_title(metric.replace("_", " "))
        ax.set_ylabel(label(metric, units))
        ax.grid(axis="y", alpha=0.3)
    year = horizon["year"].max()
    fig.suptitle(f"{title} at year {year:g} (mean, bars: 95% interval)")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def plot_indices_bars(
    table: pd.DataFrame,
    value: str,
    error: str,
    path: Path,
    title: str,
    second: tuple[str, str] | None = None,
) -> Path:
    """Horizontal bars of sensitivity indices per parameter, one panel per output/path.

    Args:
        table: rows of (preset, policy, metric, parameter, indices...).
        value: index column to draw (e.g. "mu_star", "ST").
        error: its confidence column.
        path: PNG file to write.
        title: figure title.
        second: an optional second (index, confidence) pair drawn beside it (Sobol S1).

    Returns:
        The written path.
    """
    panels = list(table.groupby(["metric", "preset", "policy"], sort=False))
    fig, axes = _grid(len(panels))
    for ax, ((metric, preset, policy), rows) in zip(axes, panels, strict=True):
        positions = range(len(rows))
        height = 0.4 if second else 0.8
        ax.barh(
            [p + (height / 2 if second else 0) for p in positions],
            rows[value],
            xerr=rows[error],
            height=height,
            label=value,
            capsize=3,
        )
        if second:
            ax.barh(
                [p - height / 2 for p in positions],
                rows[second[0]],
                xerr=rows[second[1]],
                height=height,
                label=second[0],
                capsize=3,
            )
            ax.legend(fontsize="small")
        ax.set_yticks(list(positions), rows["parameter"])
        ax.set_title(f"{metric.replace('_', ' ')}: {preset} / {policy}", fontsize="medium")
        ax.set_xlabel(f"{'index' if second else value} (error bars: 95% confidence)")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path

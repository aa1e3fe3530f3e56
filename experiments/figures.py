"""Tables and figures of experiment results: the one rendering module.

The commands compute (compare, validation, explore, discover, design, plot, robustness) and
this module renders: Markdown tables, the one line under every table and figure that states
what it rests on (replications, citizens, years, the interval method and the currency unit:
`run_note`), and the figures. Figures are plain `matplotlib.figure.Figure` objects saved to
files (Agg), never pyplot: no display is needed and the global backend of whoever imports
this module stays untouched; matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from smartcity.experiments import design, discover, model, validation
from smartcity.experiments.compare import FIT_METRICS, PER_SPENDING
from smartcity.simulation.world.statistics import method_note
from smartcity.simulation.world.vocabulary import SECTOR_NAMES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BASELINE_COLOUR = "black"
PATH_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
DPI = 120
MONEY_NOTE = "money in M = million currency units (k = thousand)"
# Under an exploration's tables and figures: no mean over replications is taken there.
NO_INTERVALS = "no intervals (each value is a run, or a share or statistic over the runs)"


def run_note(results: pd.DataFrame, citizens: object) -> str:
    """One line stating what a table or figure rests on: replications, citizens, years,
    the interval method and the currency unit."""
    replications = results["replication"].nunique()
    years = results["year"].max()
    return (
        f"{replications} replications, {citizens} citizens, {years:g} years; "
        f"{method_note()}; {MONEY_NOTE}"
    )


def exploration_note(record: Mapping[str, Any], runs: int) -> str:
    """One line stating the runs behind a result of an exploration (its record, as
    `explore.read_experiments` returns it): replications, citizens, years, that no interval
    is drawn and the currency unit."""
    spec = record["spec"]
    overrides = spec.get("overrides", {})
    citizens = overrides.get("citizens.count", overrides.get("citizens", {}).get("count"))
    return (
        f"{runs} runs; {spec.get('replications', 1)} replication(s) per point; "
        f"{citizens or 'preset default'} citizens; {spec['years']} years; {NO_INTERVALS}; "
        f"{MONEY_NOTE}"
    )


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table: the header row, the rule, a line per row (cells as given)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in cells) + " |" for cells in rows]
    return "\n".join(lines) + "\n"


def new_figure(**options: Any) -> Figure:
    """A matplotlib Figure (matplotlib is imported here, when a figure is drawn)."""
    from matplotlib.figure import Figure

    return Figure(**options)


def label(metric: str, units: Mapping[str, str]) -> str:
    """Return 'metric name [unit]' for an axis."""
    unit = units.get(metric, "")
    text = metric.replace("_", " ")
    return f"{text} [{unit}]" if unit and unit != "-" else text


def policy_colours(policies: Sequence[str]) -> dict[str, str]:
    """Return a colour per policy package: black for the baseline, distinct for the rest."""
    paths = [p for p in policies if p != "baseline"]
    colours = {p: PATH_COLOURS[i % len(PATH_COLOURS)] for i, p in enumerate(paths)}
    return {"baseline": BASELINE_COLOUR, **colours}


def _footnote(fig: Figure, note: str) -> None:
    """Lay the figure out, with ``note`` (what it rests on) in small type under it."""
    if note:
        fig.text(0.005, 0.003, note, fontsize="x-small", va="bottom")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    else:
        fig.tight_layout()


def _grid(count: int, row_height: float = 3.9) -> tuple[Figure, list[Axes]]:
    cols = min(count, 3) if count != 4 else 2
    rows = math.ceil(count / cols)
    fig = new_figure(figsize=(5.2 * cols, row_height * rows))
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
    titles: Mapping[str, str] | None = None,
    note: str = "",
) -> Path:
    """Plot mean trajectories with 95% bands: a row per metric, a column per preset.

    Rows share their y axis, so the presets (mature vs emerging) compare at a glance; each
    panel has a line per policy package.

    Args:
        summary: rows of (preset, policy, metric, year, n, mean, ci_low, ci_high).
        metrics: metrics to draw, one row each.
        units: {metric: unit} for axis labels.
        path: PNG file to write.
        title: figure title.
        titles: {package name: title}, the legend's labels (default: the names).
        note: a line under the figure (replications, citizens, years, interval, units).

    Returns:
        The written path.
    """
    titles = titles or {}
    presets = list(dict.fromkeys(summary["preset"]))
    colours = policy_colours(list(dict.fromkeys(summary["policy"])))
    fig = new_figure(figsize=(6.0 * len(presets), 3.4 * len(metrics)))
    grid = fig.subplots(len(metrics), len(presets), squeeze=False, sharey="row")
    for row, metric in enumerate(metrics):
        for col, preset in enumerate(presets):
            ax = grid[row, col]
            rows = summary[(summary["metric"] == metric) & (summary["preset"] == preset)]
            for policy, group in rows.groupby("policy", sort=False):
                group = group.sort_values("year")
                colour = colours[policy]
                ax.plot(
                    group["year"], group["mean"], color=colour, label=titles.get(policy, policy)
                )
                ax.fill_between(
                    group["year"], group["ci_low"], group["ci_high"], color=colour, alpha=0.15
                )
            ax.set_title(f"{preset}: {metric.replace('_', ' ')}", fontsize="medium")
            ax.set_xlabel("year")
            ax.set_ylabel(label(metric, units))
            ax.grid(alpha=0.3)
            if row == 0:
                ax.legend(fontsize="small", title="policy package", title_fontsize="small")
    fig.suptitle(f"{title} (mean and 95% interval over replications)")
    _footnote(fig, note)
    fig.savefig(path, dpi=DPI)
    return path


def plot_horizon(
    horizon: pd.DataFrame,
    metrics: Sequence[str],
    units: Mapping[str, str],
    path: Path,
    title: str,
    titles: Mapping[str, str] | None = None,
    note: str = "",
) -> Path:
    """Bars of each metric at the final year, one bar per preset/policy with its 95% CI.

    Args:
        horizon: rows of (preset, policy, metric, year, n, mean, ci_low, ci_high).
        metrics: metrics to draw, one panel each.
        units: {metric: unit} for axis labels.
        path: PNG file to write.
        title: figure title.
        titles: {package name: title}, the bars' labels (default: the names).
        note: a line under the figure (replications, citizens, years, interval, units).

    Returns:
        The written path.
    """
    year = horizon["year"].max()
    heading = f"{title} at year {year:g} (mean; error bars: 95% interval)"
    return _interval_bars(horizon, metrics, units, path, heading, titles or {}, note)


def plot_differences(
    differences: pd.DataFrame,
    metrics: Sequence[str],
    units: Mapping[str, str],
    path: Path,
    titles: Mapping[str, str] | None = None,
    note: str = "",
) -> Path:
    """Each package minus the baseline at the final year, paired by replication: a bar per
    preset and package with its 95% interval, one panel per metric, a line at zero.

    Args:
        differences: rows of (preset, policy, metric, step, mean, ci_low, ci_high), as
            compare.paired_differences writes them.
        metrics: metrics to draw, one panel each.
        units: {metric: unit} for axis labels.
        path: PNG file to write.
        titles: {package name: title}, the bars' labels (default: the names).
        note: a line under the figure (replications, citizens, years, interval, units).

    Returns:
        The written path.
    """
    last = differences[differences["step"] == differences["step"].max()]
    year = last["year"].max()
    heading = f"Paired differences to the baseline at year {year:g} (error bars: 95% interval)"
    return _interval_bars(last, metrics, units, path, heading, titles or {}, note, paired=True)


def _interval_bars(
    rows: pd.DataFrame,
    metrics: Sequence[str],
    units: Mapping[str, str],
    path: Path,
    heading: str,
    titles: Mapping[str, str],
    note: str,
    paired: bool = False,
) -> Path:
    """A panel per metric, a horizontal bar per preset/policy with its interval; ``paired``:
    the bars are differences to the baseline (a line at zero)."""
    colours = policy_colours(list(dict.fromkeys(rows["policy"])))
    bars = len(rows.drop_duplicates(["preset", "policy"]))
    fig, axes = _grid(len(metrics), row_height=1.2 + 0.35 * bars)
    for ax, metric in zip(axes, metrics, strict=True):
        panel = rows[rows["metric"] == metric].iloc[::-1]  # first pair on top
        names = [
            f"{p} / {titles.get(q, q)}"
            for p, q in zip(panel["preset"], panel["policy"], strict=True)
        ]
        error = [panel["mean"] - panel["ci_low"], panel["ci_high"] - panel["mean"]]
        ax.barh(names, panel["mean"], xerr=error, color=[colours[q] for q in panel["policy"]],
                capsize=3)  # fmt: skip
        if paired:
            ax.axvline(0.0, color="black", linewidth=0.8)
            ax.set_title(f"{metric.replace('_', ' ')}: package - baseline", fontsize="medium")
        else:
            ax.set_title(metric.replace("_", " "))
        ax.set_xlabel(label(metric, units))
        ax.tick_params(axis="y", labelsize="small")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(heading)
    _footnote(fig, note)
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
        # Two lines: metric, preset and package names together overran narrow panels.
        ax.set_title(f"{metric.replace('_', ' ')}\n{preset} / {policy}", fontsize="medium")
        ax.set_xlabel(f"{'index' if second else value} (error bars: 95% confidence)")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def plot_pattern_checks(table: pd.DataFrame, title: str, path: Path) -> Path:
    """One panel per pattern of a validation table: the simulated mean with its 95%
    interval (a point and a bar) against the paper's criterion (the shaded band)."""
    fig, axes = _grid(len(table), row_height=2.6)
    for ax, row in zip(axes, table.itertuples(), strict=True):
        low = row.criterion_low if np.isfinite(row.criterion_low) else None
        high = row.criterion_high if np.isfinite(row.criterion_high) else None
        # A pattern the runs cannot evaluate (its year lies beyond their horizon) has a NaN
        # mean: the panel shows the criterion and says so.
        evaluated = bool(np.isfinite(row.mean))
        values = [v for v in (row.mean, row.ci_low, row.ci_high, low, high)
                  if v is not None and np.isfinite(v)] or [0.0]  # fmt: skip
        span = (max(values) - min(values)) or abs(values[0]) or 1.0
        left, right = min(values) - 0.3 * span, max(values) + 0.3 * span
        ax.axvspan(low if low is not None else left, high if high is not None else right,
                   color="tab:green", alpha=0.15, label="paper's criterion")  # fmt: skip
        colour = "tab:green" if row.holds else "tab:red"
        if evaluated:
            ax.errorbar([row.mean], [0], xerr=[[row.mean - row.ci_low], [row.ci_high - row.mean]],
                        fmt="o", color=colour, capsize=4)  # fmt: skip
        else:
            ax.text(0.5, 0.5, "not evaluated: the runs end before its year",
                    transform=ax.transAxes, ha="center", va="center", fontsize=8)  # fmt: skip
        ax.set_xlim(left, right)
        ax.set_yticks([])
        verdict = ("holds" if row.holds else "fails") if evaluated else "not evaluated"
        ax.set_title(f"{row.pattern} ({verdict})", fontsize=9)
        ax.set_xlabel(row.unit, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def plot_fit_matrix(
    fit: pd.DataFrame,
    metrics: Sequence[str],
    units: Mapping[str, str],
    path: Path,
    titles: Mapping[str, str] | None = None,
    note: str = "",
) -> Path:
    """Plot the fit matrix: presets (rows) x packages (columns), each cell listing the
    change against the baseline of each metric (mean of paired replications; * where the
    95% interval excludes 0), coloured by the mean change of the index metrics; own-city
    cells (the package's home is the preset's city type) have a thick frame.

    Args:
        fit: the fit table (experiments.compare.fit_table).
        metrics: metrics listed in each cell, in order; those ending in "_index" colour it.
        titles: {package name: title}, the column labels (default: the names).
        note: a line under the figure (replications, citizens, years, interval, units).
    """
    titles = titles or {}
    presets = list(dict.fromkeys(fit["preset"]))
    packages = list(dict.fromkeys(fit["package"]))
    cells = fit.set_index(["preset", "package", "metric"])
    indices = [m for m in metrics if m.endswith("_index")]
    colour = np.full((len(presets), len(packages)), np.nan)
    for i, preset in enumerate(presets):
        for j, package in enumerate(packages):
            rows = [cells.loc[(preset, package, m), "mean"] for m in indices
                    if (preset, package, m) in cells.index]  # fmt: skip
            colour[i, j] = np.mean(rows) if rows else np.nan
    from matplotlib.patches import Rectangle

    fig = new_figure(figsize=(2.3 * len(packages) + 1.5, 1.6 * len(presets) + 1.6))
    ax = fig.subplots()
    limit = max(float(np.nanmax(np.abs(colour))) if np.isfinite(colour).any() else 0.0, 1e-9)
    image = ax.imshow(colour, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    fig.colorbar(image, ax=ax, label="mean change of the indices vs baseline")
    short = {m: "".join(word[0] for word in m.split("_")[:-1]).upper() or m for m in metrics}
    short = {m: ("GDP/cap" if m == "gdp_per_capita" else short[m]) for m in metrics}
    for i, preset in enumerate(presets):
        for j, package in enumerate(packages):
            lines = []
            for metric in metrics:
                if (preset, package, metric) not in cells.index:
                    continue
                row = cells.loc[(preset, package, metric)]
                sure = "*" if row["ci_low"] > 0 or row["ci_high"] < 0 else ""
                digits = 2 if abs(row["mean"]) >= 10 else 3
                lines.append(f"{short[metric]} {row['mean']:+.{digits}f}{sure}")
            dark = abs(colour[i, j]) > 0.6 * limit  # NaN compares False: empty cells stay black
            ax.text(j, i, "\n".join(lines), ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")  # fmt: skip
            own = fit[(fit["preset"] == preset) & (fit["package"] == package)]["own"]
            if own.any():
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, linewidth=3))
    ax.set_xticks(
        range(len(packages)),
        [titles.get(p, p) for p in packages],
        rotation=30,
        ha="right",
        fontsize=8,
    )
    ax.set_yticks(range(len(presets)), presets)
    gdp = label("gdp_per_capita", units)
    ax.set_title(
        f"Path fit: change vs baseline at the horizon (indices; {gdp}); thick frame = own city",
        fontsize=9,
    )
    _footnote(fig, note)
    fig.savefig(path, dpi=DPI)
    return path


def path_table(differences: pd.DataFrame, metrics: Sequence[str]) -> str:
    """Markdown table of each path's final-year paired differences from the baseline: mean
    and 95% interval of each metric, the extra public spending and, per metric, the
    difference per 100 M of extra spending."""
    last = differences[differences["step"] == differences["step"].max()]
    rows = []
    header = ["preset", "policy", "extra spending (M)"]
    for metric in metrics:
        header += [f"{metric} diff [95% CI]", f"per {PER_SPENDING:g} M"]
    for (preset, policy), group in last.groupby(["preset", "policy"], sort=False):
        by_metric = group.set_index("metric")
        extra = by_metric["extra_spending"].iloc[0]
        title = group["title"].iloc[0] if "title" in group else policy
        cells = [preset, title, f"{extra:+.1f}"]
        for metric in metrics:
            if metric not in by_metric.index:
                cells += ["-", "-"]
                continue
            row = by_metric.loc[metric]
            per = row[f"per_{PER_SPENDING:g}M"]
            cells.append(f"{row['mean']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}]")
            cells.append("-" if pd.isna(per) else f"{per:+.3f}")
        rows.append(cells)
    return markdown_table(header, rows)


def fit_markdown(fit: pd.DataFrame, lead: pd.DataFrame | None = None) -> str:
    """Markdown of the fit table: the fit matrix (mean change of the three indices and of
    GDP per capita per preset and package, own-city cells in bold), the change per 100 M
    of extra public spending (where any path spent MIN_EXTRA_SPENDING more), and per
    preset the mean index change under its own paths and under the other type's paths,
    with the paired lead of the first over the second and its 95% interval (`own_lead`)."""
    indices = [m for m in FIT_METRICS if m.endswith("_index")]
    per = f"per_{PER_SPENDING:g}M"
    # A table read back from fit.csv has blanks where no per-100 M figure is given.
    fit = fit.assign(**{c: pd.to_numeric(fit[c], errors="coerce") for c in ("mean", per)})
    presets = list(dict.fromkeys(fit["preset"]))
    packages = list(dict.fromkeys(fit["package"]))
    cells = fit.set_index(["preset", "package", "metric"])

    def cell(preset: str, package: str, column: str, bold: bool) -> str:
        if (preset, package, "gdp_per_capita") not in cells.index:  # not run there (own)
            return "-"
        values = [cells.loc[(preset, package, m), column] for m in indices]
        gdp = cells.loc[(preset, package, "gdp_per_capita"), column]
        if any(pd.isna(v) for v in [*values, gdp]):
            return "-"
        text = f"{np.mean(values):+.4f} / {gdp:+.2f}"
        return f"**{text}**" if bold else text

    lines = []
    for title, column in (("change vs baseline", "mean"), (f"per {PER_SPENDING:g} M", per)):
        if fit[column].isna().all():  # equal budgets: no path spends 10 M more or less
            continue
        lines += [
            f"Mean {title} of the three indices / of GDP per capita (bold: own city)",
            "",
            "| package | home | " + " | ".join(presets) + " |",
            "|---|---|" + "---|" * len(presets),
        ]
        for package in packages:
            rows = fit[fit["package"] == package]
            home = rows["home"].iloc[0] or "-"
            own = dict(zip(rows["preset"], rows["own"], strict=False))
            values = [cell(p, package, column, bool(own.get(p))) for p in presets]
            name = rows["title"].iloc[0] if "title" in rows else package
            lines.append(f"| {name} | {home} | " + " | ".join(values) + " |")
        lines.append("")
    leads = pd.DataFrame()
    if lead is not None and not lead.empty:
        leads = lead[lead["metric"] == "lead"].set_index("preset")
    lines += [
        "| preset | city type | own paths | other type's paths | own - other [95% CI] |",
        "|---|---|---|---|---|",
    ]
    paths = fit[(fit["home"] != "") & fit["metric"].isin(indices)]
    for preset in presets:
        rows = paths[paths["preset"] == preset]
        by_package = rows.groupby(["package", "own"])["mean"].mean().reset_index()
        own = by_package.loc[by_package["own"], "mean"].mean()
        other = by_package.loc[~by_package["own"], "mean"].mean()
        kind = rows["city_type"].iloc[0] if len(rows) else "-"
        own_text, other_text = ("-" if pd.isna(v) else f"{v:+.4f}" for v in (own, other))
        gap = "-"
        if preset in leads.index:
            row = leads.loc[preset]
            gap = f"{row['mean']:+.4f} [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}]"
        lines.append(f"| {preset} | {kind} | {own_text} | {other_text} | {gap} |")
    return "\n".join(lines) + "\n"


def report_lines(table: pd.DataFrame) -> list[str]:
    """One line per pattern: case, pattern, source figure, simulated mean [95% CI], verdict."""
    return [
        f"{row.case:12s} {'holds' if row.holds else 'FAILS'}  {row.pattern}: "
        f"{row.mean:.4g} [{row.ci_low:.4g}, {row.ci_high:.4g}] {row.unit} "
        f"(criterion {row.criterion}; {row.source})"
        for row in table.itertuples()
    ]


def _text(value: Any) -> str:
    """A text cell, "" for an empty one (read back from CSV as NaN)."""
    return value if isinstance(value, str) else ""


def _simulated(row: Any) -> str:
    return f"{row.mean:.4g} [{row.ci_low:.4g}, {row.ci_high:.4g}]"


def _pattern_sections(
    table: pd.DataFrame, figures: pd.DataFrame, cases: Sequence[validation.Case]
) -> list[str]:
    lines = [
        "## What each pattern is held to",
        "",
        "For every pattern: the paper's passage (with its section), the public statistic on "
        "the same fact where one is checked, which of the two (or which threshold of the "
        "project's) the criterion holds the model to, the simulated result and, for a failing "
        "pattern, why it fails, quoting these runs.",
    ]
    patterns = dict(((case, p.name), p) for case, p in validation.patterns_by_case(cases))
    for case, rows in table.groupby("case", sort=False):
        lines += ["", f"### {case}"]
        for row in rows.itertuples():
            pattern = patterns[(case, row.pattern)]
            verdict = "holds" if row.holds else "**fails**"
            lines += [
                "",
                f"**{row.pattern}** ({verdict}: {_simulated(row)} {row.unit}; criterion "
                f"{row.criterion}).",
                "",
                f"- The paper: {row.source}.",
                f"- Public statistic: {_text(row.public) or 'none checked'}.",
                f"- Held to: {row.held_to}.",
            ]
            if not row.holds:
                lines.append(f"- Why it fails: {validation.explanation(pattern, case, figures)}")
    return lines


def _start_section(figures: pd.DataFrame, cases: Sequence[validation.Case]) -> list[str]:
    lines = [
        "## Starting levels",
        "",
        "Public statistics beside the model's units at year 1 under the baseline. The model "
        "keeps shares and rates and scales absolute sizes to its citizen count; its money is "
        "in its own units (k = thousand model currency units a person a year), so levels "
        "compare by order, not by value. US dollars at the 2019 average market exchange "
        "rates (OECD: 1.28 US$ per pound, 1.12 per euro, 109 yen and 6.91 yuan per US$). The "
        "model's area is that of its generated districts (the kind profiles of "
        "`simulation.world.graph`), not the city's.",
        "",
        "| case | GDP per capita, public | US$ 2019 | simulated, k/person-year [95% CI] | "
        "population, public | simulated citizens | area, public km2 | model area km2 | "
        "density, public per km2 | simulated per km2 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    simulated = {}
    for case in cases:
        start = validation.figure_values(figures, case.name, "start")
        rows = figures[(figures["case"] == case.name) & (figures["topic"] == "start")]
        gdp = rows[rows["figure"] == "gdp_per_capita"].iloc[0]
        area = validation.model_area_km2(case.preset)
        simulated[case.name] = float(gdp["mean"])
        lines.append(
            f"| {case.name} | {case.start.gdp_per_capita} | {case.start.gdp_per_capita_usd:,.0f} "
            f"| {gdp['mean']:.1f} [{gdp['ci_low']:.1f}, {gdp['ci_high']:.1f}] | "
            f"{case.start.population} | {start['population']:,.0f} | "
            f"{case.start.area_km2:,.0f} | {area:,.0f} | "
            f"{1e6 * case.start.population_m / case.start.area_km2:,.0f} | "
            f"{start['population'] / area:,.0f} |"
        )
    public = {case.name: case.start.gdp_per_capita_usd for case in cases}

    def ratio(values: dict[str, float]) -> float:
        mature = np.mean([v for k, v in values.items() if k in validation.MATURE_CASES])
        return float(
            mature / np.mean([v for k, v in values.items() if k in validation.EMERGING_CASES])
        )

    def order(values: dict[str, float]) -> str:
        return " > ".join(sorted(values, key=values.get, reverse=True))

    if any(c in validation.MATURE_CASES for c in public) and any(
        c in validation.EMERGING_CASES for c in public
    ):
        lines += [
            "",
            f"The mature cases' mean GDP per capita is {ratio(public):.2f} times the emerging "
            f"cases' in the public figures and {ratio(simulated):.2f} times in the model. Order "
            f"by GDP per capita, public: {order(public)}; simulated: {order(simulated)}.",
        ]
    return lines


def _sector_section(figures: pd.DataFrame, cases: Sequence[validation.Case]) -> list[str]:
    lines = [
        "## Sector shares at the start",
        "",
        "Each cell: the preset's share of firms / the simulated share of jobs / the simulated "
        "share of value added, at year 1 under the baseline (means over the replications). "
        "docs/sectors.md maps the official classifications to the seven sectors and says how "
        "a public share of jobs or value added becomes a preset's share of firms.",
        "",
        f"| case | {' | '.join(SECTOR_NAMES)} |",
        f"|---|{'---|' * len(SECTOR_NAMES)}",
    ]
    for case in cases:
        point = model.resolve_point(case.preset, {})
        firms = np.array([point[f"firms.share_{s}"] for s in SECTOR_NAMES], dtype=float)
        firms /= firms.sum()
        shares = validation.figure_values(figures, case.name, "sectors")
        cells = [
            f"{share:.3g} / {shares[f'jobs_{s}']:.3f} / {shares[f'value_added_{s}']:.3f}"
            for s, share in zip(SECTOR_NAMES, firms, strict=True)
        ]
        lines.append(f"| {case.name} | {' | '.join(cells)} |")
    return lines


def _calibration_section(figures: pd.DataFrame, cases: Sequence[validation.Case]) -> list[str]:
    lines = [
        "## Calibrations",
        "",
        "`smartcity calibrate SPEC.toml --out DIR` (Optuna TPE sampler; loss = weighted mean of "
        "((simulated - target) / scale)^2 over the targets, the same seeds in every trial) "
        "fits a case preset's free parameter to public statistics of the city's start; the "
        "best value is written into the preset with a comment naming the spec and its "
        "sources, and DIR/calibration.json keeps the search and its loss at the spec's own "
        "size and seeds. The table reads each spec, the value its preset holds and the "
        "target metric as the validation runs above simulate it (their size and seeds, "
        "under the spec's policy), so a stale calibration shows as a target these runs miss.",
        "",
        "| spec | preset | free parameter (bounds) | value in the preset | target | "
        "simulated in these runs [95% CI] |",
        "|---|---|---|---|---|---|",
    ]
    names = {case.preset for case in cases}
    for path, spec in validation.calibration_specs():
        if spec.preset not in names:
            continue
        point = model.resolve_point(spec.preset, {})
        free = "; ".join(
            f"`{p.key}` ({p.low:g}-{p.high:g}{', log scale' if p.log else ''})"
            for p in spec.parameters
        )
        held = "; ".join(f"{point[p.key]:g}" for p in spec.parameters)
        case = next(c.name for c in cases if c.preset == spec.preset)
        calibration = figures[(figures["case"] == case) & (figures["topic"] == "calibration")]
        for target in spec.targets:
            row = calibration[calibration["figure"] == f"{path} {target.metric}@{target.year:g}"]
            sim = row.iloc[0]
            lines.append(
                f"| {path} | {spec.preset} | {free} | {held} | `{target.metric}` = "
                f"{target.value:g} at year {target.year:g} | {sim['mean']:.4g} "
                f"[{sim['ci_low']:.4g}, {sim['ci_high']:.4g}] |"
            )
    return lines


def validation_markdown(
    table: pd.DataFrame,
    figures: pd.DataFrame,
    command: str,
    cases: Sequence[validation.Case] = validation.CASES,
) -> str:
    """docs/validation.md, every part of it generated from the runs: the pattern table, what
    each pattern is held to and why a failing one fails (quoting ``figures``), the starting
    levels beside public statistics, the sector shares at the start and the calibrations."""
    held = int(table["holds"].sum())
    lines = [
        validation.REPORT_TITLE,
        "",
        "Generated by `smartcity validate` from its runs: no figure in it is written by hand "
        "(the words around the figures are the patterns' texts in "
        "`smartcity.experiments.validation`). To regenerate, run the command below and copy "
        "OUT/validation.md, OUT/validation.csv and OUT/validation_figures.csv into docs/ "
        "(tests/test_validation.py checks that this file is the rendering of the two tables "
        "and that its text cites their numbers).",
        "",
        f"Command: `{command}`.",
        "",
        f"{held} of {len(table)} patterns hold. Each case city runs its preset under its "
        "development path and under the baseline with paired seeds; a statistic is computed "
        "per replication and its mean (95% t-interval) is compared with the criterion "
        "(white paper 5.1). A failing pattern stays in the table: it is a result.",
        "",
        "| case | pattern | simulated mean [95% CI] | unit | criterion | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.case} | {row.pattern} | {_simulated(row)} | {row.unit} | {row.criterion} "
            f"| {'holds' if row.holds else '**fails**'} |"
        )
    sections = (
        _pattern_sections(table, figures, cases),
        _start_section(figures, cases),
        _sector_section(figures, cases),
        _calibration_section(figures, cases),
    )
    for section in sections:
        lines += ["", *section]
    return "\n".join(lines) + "\n"


def plot_trajectory(box: discover.Box, where: str, note: str, path: Path) -> Path:
    """Coverage against density along the peeling trajectory, coloured by the number of
    restricted inputs; the reported box is ringed."""
    fig = new_figure(figsize=(6.4, 4.8))
    ax = fig.subplots()
    t = box.trajectory
    points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=22)
    fig.colorbar(points, ax=ax, label="restricted inputs")
    ax.scatter([box.coverage], [box.density], s=160, facecolors="none", edgecolors="red",
               label=f"reported box (step {box.chosen})")  # fmt: skip
    ax.set_xlabel("coverage (share of the cases in the box)")
    ax.set_ylabel("density (share of the box that are cases)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower left")
    ax.set_title(f"PRIM peeling trajectory: {where}", fontsize="medium")
    fig.text(0.01, 0.005, note, fontsize="x-small", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=DPI)
    return path


def plot_leaves(
    x: pd.DataFrame, y: np.ndarray, leaves: list[discover.Leaf], where: str, note: str, path: Path
) -> Path:
    """The CART boxes: their coverage and density (bars) and, on the two numeric inputs
    the boxes restrict most, every run (cases in red) with each box drawn over them."""
    from matplotlib.patches import Rectangle

    numeric = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
    restricted = pd.concat([leaf.limits["input"] for leaf in leaves]).value_counts()
    shown = sorted(numeric, key=lambda c: -restricted.get(c, 0))[:2]
    fig = new_figure(figsize=(11.0 if len(shown) == 2 else 5.6, 4.6))
    axes = fig.subplots(1, 2 if len(shown) == 2 else 1, squeeze=False)[0]
    names = [f"box {i}" for i in range(len(leaves))]
    at = np.arange(len(leaves))
    axes[0].bar(at - 0.2, [leaf.coverage for leaf in leaves], 0.4, label="coverage")
    axes[0].bar(at + 0.2, [leaf.density for leaf in leaves], 0.4, label="density")
    axes[0].set_xticks(at, names)
    axes[0].set_xlim(-0.8, len(leaves) - 0.2)
    axes[0].set_ylim(0, 1.05)
    axes[0].set_ylabel("share")
    axes[0].legend(fontsize="small", loc="lower right")
    axes[0].grid(alpha=0.3, axis="y")
    if len(shown) == 2:
        ax = axes[1]
        ax.scatter(x[shown[0]], x[shown[1]], s=8, c=np.where(y, "tab:red", "0.7"))
        for name, leaf in zip(names, leaves, strict=True):
            limits = leaf.limits.set_index("input")
            (x0, x1), (y0, y1) = (
                (limits.loc[c, "low"], limits.loc[c, "high"])
                if c in limits.index
                else (x[c].min(), x[c].max())
                for c in shown
            )
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.5))
            ax.annotate(name, (x0, y1), fontsize="small", va="top")
        ax.set_xlabel(shown[0])
        ax.set_ylabel(shown[1])
        ax.set_title("runs (red: the condition holds) and the boxes", fontsize="medium")
    fig.suptitle(f"CART boxes: {where}", fontsize="medium")
    fig.text(0.01, 0.005, note, fontsize="x-small", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=DPI)
    return path


def plot_scores(scores: pd.DataFrame, note: str, path: Path) -> Path:
    """Heatmap of feature scores: inputs down, outcomes across, the score in each cell."""
    fig = new_figure(figsize=(1.6 + 1.5 * len(scores.columns), 1.4 + 0.45 * len(scores)))
    ax = fig.subplots()
    image = ax.imshow(scores.to_numpy(dtype=float), cmap="Blues", vmin=0, aspect="auto")
    fig.colorbar(image, ax=ax, label="feature score (extra-trees importance)")
    ax.set_xticks(range(len(scores.columns)), scores.columns, rotation=30, ha="right")
    ax.set_yticks(range(len(scores)), scores.index)
    for (i, j), value in np.ndenumerate(scores.to_numpy(dtype=float)):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize="small")
    ax.set_title("Which inputs matter for each outcome", fontsize="medium")
    fig.text(0.01, 0.005, note, fontsize="x-small", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=DPI)
    return path


def box_markdown(box: discover.Box, where: str) -> str:
    """The box as Markdown: coverage, density, and a row per restricted input."""
    lines = [
        f"PRIM box for `{where}`: {box.cases} of {box.runs} runs meet it; the box holds "
        f"{box.mass:.0%} of the runs, coverage {box.coverage:.2f}, density {box.density:.2f}."
        + (
            ""
            if box.reached
            else f" No box on the peeling trajectory reaches density {box.threshold:g}: this is "
            "the densest, so the condition is not confined to one box of these inputs."
        ),
        "",
    ]
    table = markdown_table(["input", "low", "high", "values"], _limit_cells(box.limits))
    return "\n".join(lines) + "\n" + table


def _limit_cells(limits: pd.DataFrame) -> list[list[str]]:
    """A box's restricted inputs as table cells: input, low, high, kept values."""

    def bound(value: float) -> str:
        return "" if pd.isna(value) else f"{value:.4g}"

    return [[r.input, bound(r.low), bound(r.high), r.values] for r in limits.itertuples()]


def leaves_markdown(leaves: list[discover.Leaf], where: str) -> str:
    """The CART boxes as Markdown: a row per restricted input of each box."""
    lines = [
        f"CART boxes for `{where}` (leaves of at least {discover.CART_MASS:.0%} of the runs "
        f"where most runs meet it): {len(leaves)}.",
        "",
    ]
    rows = [
        [rank, f"{leaf.coverage:.2f}", f"{leaf.density:.2f}", f"{leaf.mass:.0%}", *cells]
        for rank, leaf in enumerate(leaves)
        for cells in _limit_cells(leaf.limits)
    ]
    header = ["box", "coverage", "density", "mass", "input", "low", "high", "values"]
    return "\n".join(lines) + "\n" + markdown_table(header, rows)


def leaves_table(leaves: list[discover.Leaf]) -> pd.DataFrame:
    """The CART boxes as a table: a row per restricted input of each box."""
    columns = ["box", "input", "low", "high", "values", "coverage", "density", "mass"]
    frames = [
        leaf.limits.assign(box=rank, coverage=leaf.coverage, density=leaf.density, mass=leaf.mass)
        for rank, leaf in enumerate(leaves)
    ]
    return (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )


def front_markdown(front: pd.DataFrame, levers: list[str], outcomes: Any, note: str) -> str:
    """The Pareto front as Markdown: a row per member with its levers, objectives and
    their maximum regrets."""
    header = ["#", *levers, *(f"{o.name} ({o.direction[:3]})" for o in outcomes)]
    header += [f"{o.name} max regret" for o in outcomes]
    rows = [
        [
            rank,
            *(_cell(row[key]) for key in levers),
            *(f"{row[o.name]:+.4f}" for o in outcomes),
            *(f"{row[o.name + design.REGRET]:.4f}" for o in outcomes),
        ]
        for rank, row in front.reset_index(drop=True).iterrows()
    ]
    return markdown_table(header, rows) + f"\n{note}.\n"


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)


def plot_front(trials: pd.DataFrame, objectives: list[str], note: str, path: Path) -> Path:
    """Every evaluated mix (grey) and the front (red), one panel per pair of objectives."""
    pairs = list(itertools.combinations(objectives, 2)) or [(objectives[0], objectives[0])]
    fig = new_figure(figsize=(4.6 * len(pairs), 4.2))
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    front = trials[trials["on_front"]]
    for ax, (x, y) in zip(axes, pairs, strict=True):
        ax.scatter(trials[x], trials[y], s=14, color="0.7", label="evaluated mixes")
        ax.scatter(front[x], front[y], s=30, color="tab:red", label="Pareto front")
        ax.set_xlabel(x.replace("_", " "))
        ax.set_ylabel(y.replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.suptitle("Initiative mixes at a fixed public envelope (robust values)")
    fig.text(0.01, 0.005, note, fontsize="x-small", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=DPI)
    return path


def plot_outcome(
    table: pd.DataFrame, groups: list[str], x: str, y: str, note: str, path: Path
) -> Path:
    """An exploration's outcome ``y`` against its input ``x``: a point per run, a colour
    per group of ``groups`` (a sampled design has no lines to draw)."""
    fig = new_figure(figsize=(7.0, 4.6))
    ax = fig.subplots()
    for key, rows in table.groupby(groups, sort=False):
        name = " / ".join(key) if isinstance(key, tuple) else str(key)
        ax.scatter(rows[x].astype(float), rows[y], s=18, label=name, alpha=0.8)
    ax.set_xlabel(x)
    ax.set_ylabel(y.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title(f"{y.replace('_', ' ')} against {x}", fontsize="medium")
    _footnote(fig, note)
    fig.savefig(path, dpi=DPI)
    return path


def plot_points(
    table: pd.DataFrame,
    x: str,
    y: str,
    titles: Mapping[str, str],
    units: Mapping[str, str],
    title: str,
    note: str,
    path: Path,
) -> Path:
    """Mean and interval of ``y`` against ``x`` (`plot.points`): a line per preset and
    package, labelled by the package's title."""
    colours = policy_colours(list(titles))
    fig = new_figure(figsize=(7.0, 4.6))
    ax = fig.subplots()
    styles = {
        preset: style for preset, style in zip(table["preset"].unique(), "-:-.", strict=False)
    }
    for (preset, policy), rows in table.groupby(["preset", "policy"], sort=False):
        colour = colours[policy]
        name = f"{preset} / {titles[policy]}"
        ax.plot(rows[x], rows["mean"], styles.get(preset, "-"), color=colour, marker=".",
                label=name)  # fmt: skip
        ax.fill_between(rows[x], rows["ci_low"], rows["ci_high"], color=colour, alpha=0.15)
    ax.set_xlabel(x)
    ax.set_ylabel(label(y, units))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title(title, fontsize="medium")
    _footnote(fig, note)
    fig.savefig(path, dpi=DPI)
    return path

# ruff: noqa: N802  (Solara components are named like classes)
"""The comparison page: any number of configurations (A, B, C, ...: a city's paths, the
baseline and the placebo) against a reference the planner picks.

Everything is paired over the seeds (each configuration runs the same seeds): charts of
each configuration minus the reference with the paired 95% band, an end-year table with
every configuration, its difference to the reference, the interval and the money (the
extra cumulative public spending and the difference per 100 M of it, white paper 7), each
index broken into its terms (docs/ODD.md, Development indices), and a small multiple of
difference maps (the mean over the seeds; districts whose interval includes 0 pale). Two
configurations are the smallest case of the same page. The sidebar card adds, removes and
fills configurations; every one goes through the view's session limits
(sessions.check_limits) like the seeds and the citizens.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import solara

from smartcity.simulation.world.vocabulary import INDEX_METRICS
from smartcity.visualization.controls import CityChoice, is_home
from smartcity.visualization.figures import difference_charts, difference_map, metric_title
from smartcity.visualization.form import Form, Side
from smartcity.visualization.scenario import CONFIGURATION_NAMES
from smartcity.visualization.sessions import CATALOG, MAX_CONFIGURATIONS
from smartcity.visualization.views import (
    HEADLINE_METRICS,
    MIN_EXTRA_SPENDING,
    CityRun,
    Recorded,
    ViewRun,
    difference_domain,
    end_year_table,
    paired_differences,
    same_districts,
    term_table,
)
from smartcity.visualization.widgets import Chart, Markdown

COMPARED_METRICS = (*INDEX_METRICS, *HEADLINE_METRICS)
"""What the end-year table and the comparison export compare (after the public spending)."""
PLACEBO = "placebo"
BASELINE = "baseline"


def _per_100m(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:+.4g}"


def decimals_for(diffs: Sequence[float]) -> int:
    """Decimals that show 4 significant digits of the smallest non-zero difference (0 to 6)."""
    finite = [abs(d) for d in diffs if d is not None and math.isfinite(d) and d != 0]
    size = math.floor(math.log10(min(finite))) if finite else 0
    return min(max(0, 3 - size), 6)


def fixed(value: float, decimals: int, sign: bool = False) -> str:
    """``value`` with ``decimals`` decimals and thousands separators; NaN is "-". One
    metric's values and differences share :func:`decimals_for` of its differences, so every
    shown difference is the difference of the shown values ("A 5128, B 5134, B - A +7" was
    not)."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:{'+' if sign else ''},.{decimals}f}"


def end_table_markdown(rec: Recorded, step: int, year: float, seeds: int, reference: int) -> str:
    """The end-year table as Markdown, money first: per metric, every configuration's value,
    its difference to the reference with the paired 95% interval, % and the difference per
    100 M of its extra public spending."""
    table = end_year_table(rec, COMPARED_METRICS, step, reference)
    ref = rec.names[reference]
    rows = []
    for metric, part in table.groupby("metric", sort=False):
        records = part.to_dict("records")
        decimals = decimals_for([r["difference"] for r in records])
        for r in records:
            name = f"{r['configuration']} (reference)" if r["reference"] else r["configuration"]
            interval = (
                f"[{fixed(r['lo'], decimals, True)}, {fixed(r['hi'], decimals, True)}]"
                if seeds > 1 and not r["reference"]
                else "-"
            )
            rows.append(
                f"| {metric_title(metric)} | {r['unit']} | {name} | "
                f"{fixed(r['value'], decimals)} | {fixed(r['difference'], decimals, True)} | "
                f"{interval} | {fixed(r['%'], 2, True)}{'%' * math.isfinite(r['%'])} | "
                f"{_per_100m(r['per 100 M'])} |"
            )
    spending = table[(table["metric"] == table["metric"].iloc[0]) & ~table["reference"]]
    extra = "; ".join(
        f"{r['configuration']} spends {r['difference']:+,.1f} M more public money than {ref}"
        for r in spending.to_dict("records")
    )
    over = f"{seeds} paired seed{'s' if seeds > 1 else ''}"
    return (
        f"**Year {year:.2f}** (mean over {over}; differences to {ref}, the reference, with "
        f"their paired 95% interval). So far {extra}; the last column is the difference per "
        f"100 M of that extra spending (- when a configuration spends less than "
        f"{MIN_EXTRA_SPENDING:g} M more)\n\n"
        f"| metric | unit | configuration | value | minus {ref} | 95% interval | % | per 100 M |\n"
        "|---|---|---|---:|---:|---|---:|---:|\n" + "\n".join(rows)
    )


def terms_markdown(run: ViewRun, step: int, reference: int) -> str:
    """Each index broken into its terms (contributions that add up to the index): every
    configuration's contribution and its difference to the reference, per term."""
    table = term_table(run, step, reference)
    values = [c for c in table.columns[2:] if " - " not in c]
    diffs = [c for c in table.columns[2:] if " - " in c]

    def line(label: str, row: Any, bold: bool) -> str:
        cells = [f"{row[c]:.4f}" for c in values] + [f"{row[c]:+.4f}" for c in diffs]
        if bold:
            cells, label = [f"**{c}**" for c in cells], f"**{label}**"
        return f"| {label} | " + " | ".join(cells) + " |"

    lines = []
    for index, part in table.groupby("index", sort=False):
        lines.append(line(metric_title(index), part[values + diffs].sum(), True))
        lines += [line(r["term"].replace("_", " "), r, False) for _, r in part.iterrows()]
    header = "| index / term | " + " | ".join(values + diffs) + " |"
    rule = "|---|" + "---:|" * (len(values) + len(diffs))
    return (
        "Why each index moved: its terms, as contributions that add up to the index "
        f"(mean over seeds)\n\n{header}\n{rule}\n" + "\n".join(lines)
    )


@solara.component
def ComparisonCard(run: ViewRun, rec: Recorded, step: int, year: float, reference: int):
    """Every configuration against the reference over the paired seeds: charts with the
    paired 95% band, the end-year table with the money, and the index terms."""
    title = ", ".join(name for _, name in rec.versus(reference))
    seeds = len(rec.frames[0])
    with solara.Card(
        f"{title} over {seeds} paired seed{'s' if seeds > 1 else ''}",
        classes=["sc-difference"],
    ):
        diffs = paired_differences(rec, COMPARED_METRICS, reference)
        Chart(difference_charts(diffs, INDEX_METRICS, seeds, columns=3))
        with solara.Column(classes=["sc-end-table"]):
            Markdown(end_table_markdown(rec, step, year, seeds, reference))
        with solara.Column(classes=["sc-terms"]):
            Markdown(terms_markdown(run, step, reference))


@solara.component
def DifferenceMaps(
    built: list[CityRun],
    reference: int,
    step: int,
    metric: str,
    district: int,
    clicked: Callable[[Any], None],
):
    """A small multiple: one map of each configuration minus the reference (the mean over
    the paired seeds, one shared diverging scale); a configuration on another city's
    districts gets a line instead."""
    ref = built[reference]
    others = [r for i, r in enumerate(built) if i != reference]
    same = [r for r in others if same_districts(ref, r)]
    largest = difference_domain(ref, same, metric) if same else 1.0
    with solara.Row(classes=["sc-diff-maps"], style={"flex-wrap": "wrap"}):
        for other in others:
            if other in same:
                chart = difference_map(ref, other, step, metric, largest, selected=district)
                with solara.Column(classes=["sc-map", "sc-diff-map"]).key(f"diff-{other.name}"):
                    Chart(chart, on_click=clicked)
            else:
                solara.Warning(
                    f"{ref.name} and {other.name} are different cities: no district-by-district "
                    "difference.",
                    classes=["sc-diff-other-city"],
                ).key(f"diff-warning-{other.name}")


def add_configuration(form: Form) -> Form:
    """The form comparing one more configuration: B when not comparing, else a copy of the
    last one (to be changed)."""
    if not form.compare:
        return form.with_(compare=True)
    return form.with_more((*form.more, form.side(form.names[-1])))


def without_configuration(form: Form, name: str) -> Form:
    """The form without configuration ``name`` (one of C, D, ...)."""
    index = CONFIGURATION_NAMES.index(name) - 2
    return form.with_more(form.more[:index] + form.more[index + 1 :])


def every_path(form: Form) -> Form:
    """The form comparing A's city on the baseline, each of its home paths and the placebo
    (white paper 5.1: the paths of a city type), A being the baseline."""
    preset = form.a.preset
    paths = [p for p in CATALOG.policies if p not in (BASELINE, PLACEBO) and is_home(p, preset)]
    names = [BASELINE, *paths, *([PLACEBO] if PLACEBO in CATALOG.policies else [])]
    sides = [Side(preset, name) for name in names]
    if len(sides) < 2:
        return form
    first = form.with_side("a", sides[0]).with_side("b", sides[1]).with_(compare=True)
    return first.with_more(tuple(sides[2:]))


@solara.component
def Configurations(form: Form, change: Callable[[Callable[[Form], Form]], None]):
    """The sidebar card of the configurations after B: each one's preset, package and
    choices, a button to remove it, one to add one and one to compare A's city's paths."""
    names = form.names
    with solara.Card("More configurations", classes=["sc-more"]):
        for name in names[2:]:
            CityChoice(name, form, change).key(f"city-{name}")
            solara.Button(
                f"remove {name.upper()}",
                on_click=lambda name=name: change(lambda f: without_configuration(f, name)),
                text=True,
                classes=[f"sc-remove-{name}"],
            ).key(f"remove-{name}")
        full = len(names) >= MAX_CONFIGURATIONS
        following = CONFIGURATION_NAMES[len(names)].upper() if not full else ""
        solara.Button(
            f"add configuration {following}"
            if not full
            else f"at most {MAX_CONFIGURATIONS} configurations",
            on_click=lambda: change(add_configuration),
            disabled=full,
            classes=["sc-add-configuration"],
        )
        solara.Button(
            "A's city: baseline, every home path and the placebo",
            on_click=lambda: change(every_path),
            classes=["sc-every-path"],
        )

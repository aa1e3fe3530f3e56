"""docs/robustness.md: the headline conclusions under uncertainty, generated from real runs.

The model's effect coefficients are uncertain; a conclusion is worth what it survives of
their plausible range. The study (specs in docs/robustness/) runs every development path on
both cities at equal budgets over a Latin hypercube of six coefficients (`smartcity
explore docs/robustness/paths.toml`), and one robust mix per city (`smartcity design
docs/robustness/design.toml --preset CITY --budget 0.1`). This module runs the study,
keeps its compact results in docs/robustness/ (CSV) and renders the document from them:

    python -m smartcity.experiments.robustness            # run (resumable) and render
    python -m smartcity.experiments.robustness --render   # render from the stored CSVs

The document states for the own-path lead of each city type (white paper 5.1: a city's
own paths suit it better than the other type's) and for each path's index gains the share
of the sampled space where each holds, the PRIM and CART boxes where the lead fails, the
inputs that decide it (feature scores), each path's maximum regret (Savage's minimax regret
against the best path at each point), and each city's designed front beside its
white-paper paths.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from smartcity.experiments import compare, design, discover, explore, figures, model
from smartcity.experiments.cli_kit import positive_int
from smartcity.experiments.spec import SpecError
from smartcity.simulation.world.statistics import mean_interval, method_note

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "robustness"
DOCUMENT = ROOT / "docs" / "robustness.md"
PATHS_SPEC = "paths.toml"
DESIGN_SPEC = "design.toml"
PATHS_TABLE = "paths.csv"
# Feature scores come from seeded extra trees, whose digits may move between scikit-learn
# versions: they are computed with the study and stored, so rendering only formats.
LEAD_SCORES = "lead_scores.csv"
PRESETS = ("mature", "emerging")
ENVELOPE = 0.1  # government.spending_envelope of the study: the parameter's default
INDEX_GAINS = ("demand_gain", "industry_gain", "governance_gain")
MAX_BOX_INPUTS = 6
FEW_CASES = 5  # fewer failing points than this: a PRIM box around them is only a hint


def front_table(preset: str) -> str:
    """File name of a city's designed front in the data folder."""
    return f"front-{preset}.csv"


def design_outcomes(preset: str) -> str:
    """File name of a city's design runs (mix, scenario, outcomes) in the data folder."""
    return f"design-outcomes-{preset}.csv"


def run_study(study: Path, data: Path = DATA, workers: int = 1) -> None:
    """Run the exploration and the two designs into ``study`` (rerun = resume) and keep
    their compact results in ``data``."""
    paths_out = study / "paths"
    exploration = explore.load_exploration(data / PATHS_SPEC, paths_out)
    # A finished exploration is reused as it is; an unfinished one is completed.
    if not (paths_out / explore.EXPERIMENTS).is_file():
        resume = (paths_out / "manifest.json").exists()
        report = explore.run_exploration(exploration, paths_out, workers=workers, resume=resume)
        if report.interrupted or report.failed:
            raise SystemExit("the exploration did not complete; rerun the same command")
    table, _ = explore.read_experiments(paths_out)
    table.drop(columns=["run_id"]).to_csv(data / PATHS_TABLE, index=False)
    inputs = [f.key for f in exploration.uncertainties]
    lead_scores(own_lead(table), table, inputs).to_csv(data / LEAD_SCORES)
    for preset in PRESETS:
        result = design.run_design(
            data / DESIGN_SPEC, preset, ENVELOPE, study / f"design-{preset}", workers=workers
        )
        result.front.drop(columns=["package_file"]).to_csv(data / front_table(preset), index=False)
        result.outcomes.to_csv(data / design_outcomes(preset), index=False)


def own_lead(table: pd.DataFrame) -> pd.DataFrame:
    """Per preset and uncertainty point: the mean index gain of the city's own paths, of
    the other type's paths, and the lead of the first over the second."""
    gains = table.assign(gain=table[list(INDEX_GAINS)].mean(axis=1))
    return compare.lead_of_own_paths(gains, ["preset", "design_point"], "gain")


def lead_scores(lead: pd.DataFrame, table: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    """Feature scores of the own-path lead: which coefficients decide it, per preset
    (rows: coefficients; columns: presets; each column sums to 1)."""
    scenarios = table.drop_duplicates("design_point").set_index("design_point")[inputs]
    scores = {}
    for preset, rows in lead.groupby("preset", sort=False):
        x = scenarios.loc[rows["design_point"]].reset_index(drop=True)
        y = pd.DataFrame({"lead": rows["lead"].to_numpy()})
        scores[preset] = discover.feature_scores(x, y)["lead"]
    return pd.DataFrame(scores).rename_axis("coefficient")


def _interval(values: Sequence[float], digits: int = 4) -> str:
    mean, low, high = mean_interval(values)
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def render(data: Path = DATA) -> str:
    """The Markdown of docs/robustness.md from the stored study results in ``data``."""
    exploration = explore.load_exploration(data / PATHS_SPEC, data / "unused")
    table = pd.read_csv(data / PATHS_TABLE)
    rank = {preset: i for i, preset in enumerate(exploration.spec.presets)}
    table = table.sort_values("preset", key=lambda p: p.map(rank), kind="stable")
    factors = exploration.uncertainties
    inputs = [f.key for f in factors]
    spec = exploration.spec
    citizens = spec.overrides.get("citizens.count")
    points = len(exploration.scenarios)
    titles = {p: model.package_title(p) for p in table["policy"].unique()}
    defaults = model.resolve_point(spec.presets[0], {})
    lines = [
        "# The headline conclusions under uncertainty",
        "",
        "<!-- Generated by `python -m smartcity.experiments.robustness` from the runs kept "
        "in docs/robustness/; do not edit by hand. -->",
        "",
        "How much of the plausible range of the model's effect coefficients does each "
        "headline conclusion survive? Every development path ran on both cities at equal "
        f"budgets (envelope {ENVELOPE:g} of the initial tax revenue a year, the default) at "
        f"{points} points of a Latin hypercube over {_count(len(factors))} coefficients, "
        f"{_ranges(factors, defaults)}. Size: "
        f"{citizens} citizens, {spec.years} years, {spec.replications} replication per "
        f"point ({len(table)} path runs and {points * len(spec.presets)} baseline runs), "
        "every path paired with the baseline run of the same seed; a gain is the change of "
        f"an index at year {spec.years} against that baseline. Intervals: {method_note()}, "
        "here over the points of the sample (so they measure the spread over the "
        "uncertainty, not only noise).",
        "",
        "Commands (the first runs everything, resumably, and rewrites this page; the others "
        "are its steps):",
        "",
        "```bash",
        ".venv/bin/python -m smartcity.experiments.robustness",
        ".venv/bin/smartcity explore docs/robustness/paths.toml --out results/robustness/paths",
        '.venv/bin/smartcity discover results/robustness/paths --where "governance_gain < 0"',
        ".venv/bin/smartcity design docs/robustness/design.toml --preset mature --budget 0.1 "
        "--out results/robustness/design-mature",
        "```",
        "",
        "The model's numbers change whenever its mechanisms do: rerun the first command "
        "after such a change (about 10 minutes on one core).",
        "",
        "## The uncertainties",
        "",
    ]
    lines += table_lines(
        ["coefficient", "low", "high", "default"],
        [[f"`{f.key}`", f"{f.low:g}", f"{f.high:g}", f"{defaults[f.key]:g}"] for f in factors],
    )
    lead = own_lead(table).sort_values("preset", key=lambda p: p.map(rank), kind="stable")
    lines += [
        "",
        "## Own paths lead the other type's paths",
        "",
        "Per point: the mean gain of the three indices under the city's own paths minus "
        "the same under the other type's paths (docs/path_fit.md).",
        "",
    ]
    by_preset = [lead[lead["preset"] == preset] for preset in spec.presets]
    lines += table_lines(
        ["preset", "own paths", "other type's paths", "lead (own - other)", "lead > 0 at"],
        [
            [preset, _interval(rows["own_paths"]), _interval(rows["other_paths"]),
             _interval(rows["lead"]), f"{(rows['lead'] > 0).mean():.0%} of {len(rows)} points"]
            for preset, rows in zip(spec.presets, by_preset, strict=True)
        ],
    )  # fmt: skip
    lines += ["", *_lead_boxes(lead, table, inputs, data), ""]
    lines += [
        "## Each path's gains",
        "",
        "Mean gain over the points and, in brackets, the share of points where it is positive.",
        "",
    ]
    lines += table_lines(
        ["preset", "package", "demand advancement", "industrial transition", "governance",
         "GDP per capita (k/person-year)"],
        [
            [preset, titles[policy],
             *(f"{rows[g].mean():+.4f} ({(rows[g] > 0).mean():.0%})"
               for g in (*INDEX_GAINS, "gdp_gain"))]
            for (preset, policy), rows in table.groupby(["preset", "policy"], sort=False)
        ],
    )  # fmt: skip
    lines += ["", *_regrets(table, titles, spec.presets), ""]
    lines += [*_designs(data, table, titles), ""]
    return "\n".join(lines)


def _lead_boxes(
    lead: pd.DataFrame, table: pd.DataFrame, inputs: list[str], data: Path
) -> list[str]:
    """Where the lead fails (PRIM) and which inputs decide it (feature scores), per preset."""
    scenarios = table.drop_duplicates("design_point").set_index("design_point")[inputs]
    lines = ["### Where the lead fails, and what decides it", ""]
    scores = pd.read_csv(data / LEAD_SCORES, index_col="coefficient")
    for preset, rows in lead.groupby("preset", sort=False):
        x = scenarios.loc[rows["design_point"]].reset_index(drop=True)
        fails = (rows["lead"] <= 0).to_numpy()
        if not fails.any():
            lines.append(f"- {preset}: the lead holds at every point; PRIM has no box to find.")
            continue
        if fails.all():
            lines.append(f"- {preset}: the lead fails at every point.")
            continue
        try:
            box = discover.find_box(x, fails, discover.DEFAULT_THRESHOLD)
            leaves = discover.find_leaves(x, fails)
        except SpecError as exc:
            lines.append(f"- {preset}: {exc}")
            continue
        few = (
            " (so few cases make the boxes a hint, not a finding)"
            if fails.sum() < FEW_CASES
            else ""
        )
        cart = "; ".join(
            f"box {rank} (coverage {leaf.coverage:.2f}, density {leaf.density:.2f}): "
            f"{_limits(leaf.limits)}"
            for rank, leaf in enumerate(leaves)
        )
        lines.append(
            f"- {preset}: the lead fails at {int(fails.sum())} of {len(fails)} points; PRIM box "
            f"(coverage {box.coverage:.2f}, density {box.density:.2f}): {_limits(box.limits)}; "
            f"CART boxes: {cart or 'none'}{few}."
        )
    lines += [
        "",
        "Feature scores of the lead (extra-trees importance, each column sums to 1):",
        "",
    ]
    return lines + table_lines(
        ["coefficient", *scores.columns],
        [[f"`{key}`", *(f"{scores.loc[key, c]:.2f}" for c in scores.columns)] for key in inputs],
    )


def table_lines(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A Markdown table (`figures.markdown_table`) as lines of the document."""
    return figures.markdown_table(header, rows).splitlines()


def _count(number: int) -> str:
    """A small count in words (as the page has always written them), a larger in digits."""
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[number] if number < len(words) else str(number)


def _ranges(factors: Sequence[explore.Factor], defaults: dict[str, Any]) -> str:
    """How the sampled ranges relate to the defaults: half to one and a half times each
    default when all are so, else the table below."""
    halves = all(
        not f.values
        and math.isclose(f.low, 0.5 * defaults[f.key])
        and math.isclose(f.high, 1.5 * defaults[f.key])
        for f in factors
    )
    return (
        "each from half to one and a half times its default"
        if halves
        else "each over the range the table below gives"
    )


def _limits(limits: pd.DataFrame) -> str:
    """A box's restricted inputs as text (at most MAX_BOX_INPUTS of them)."""
    text = "; ".join(
        f"`{r.input}` in [{r.low:.3g}, {r.high:.3g}]"
        for r in limits.head(MAX_BOX_INPUTS).itertuples()
    )
    return text or "none"


def _regrets(table: pd.DataFrame, titles: dict[str, str], presets: Sequence[str]) -> list[str]:
    """Each path's mean index gain and its maximum regret among the paths, per preset."""
    lines = [
        "## Regret among the paths",
        "",
        "A path's regret in a scenario (a point and a replication) is the best mean index "
        "gain any path reached there minus its own (Savage's minimax regret; every path ran "
        "each scenario with the same seed, so the regret compares like with like); its "
        "maximum regret is the largest over the scenarios. The path of least maximum "
        "regret is the cautious choice when no point is more likely than another; the path "
        "of best mean gain, the choice of one who trusts the uniform sample.",
        "",
    ]
    gains = table.assign(mix=table["policy"], gain=table[list(INDEX_GAINS)].mean(axis=1))
    rows, choices = [], []
    for preset in presets:
        runs = gains[gains["preset"] == preset]
        regret = design.max_regret(runs, "gain", "maximize")
        mean = runs.groupby("mix", sort=False)["gain"].mean()
        rows += [[preset, titles[p], f"{mean[p]:+.4f}", f"{regret[p]:.4f}"] for p in mean.index]
        choices.append(
            f"- {preset}: best mean gain {titles[mean.idxmax()]}; least maximum regret "
            f"{titles[regret.idxmin()]}."
        )
    header = ["preset", "package", "mean index gain", "maximum regret"]
    return [*lines, *table_lines(header, rows), "", *choices]


def _designs(data: Path, table: pd.DataFrame, titles: dict[str, str]) -> list[str]:
    """Each city's designed front beside its white-paper paths at the same envelope."""
    probe = explore.load_exploration(data / DESIGN_SPEC, data / "unused")
    settings = probe.design or explore.DesignTable()
    points = len(probe.scenarios)
    mixes = settings.generations * settings.population
    funded = sum(lever.key.endswith(".enabled") for lever in probe.levers)
    lines = [
        "## A designed mix against the white paper's paths",
        "",
        f"`smartcity design` searched {_count(funded)} initiatives (each funded or not), the "
        f"unified platform and the capability budget share at the same envelope ({ENVELOPE:g}) for "
        f"each city, on the three index gains (NSGA-II, {settings.generations} generations "
        f"of {settings.population} mixes, each gain scored over {points} points of the same "
        f"ranges by {design.ROBUSTNESS_NOTES[settings.robustness]}; "
        "docs/robustness/design.toml). Its "
        f"Pareto front, beside the city's own white-paper paths (their mean over the "
        f"{len(table['design_point'].unique())} points above; the samples differ, so compare "
        "magnitudes, not the last digit). Each member's maximum regret is Savage's, per "
        f"gain: at each of the {points} points, the best gain of the {mixes} mixes the design "
        "evaluated there minus the member's own, the largest over the points (every mix ran "
        "each point with the same seed; the runs are kept in "
        f"docs/robustness/{design_outcomes('CITY')}).",
        "",
    ]
    for preset in PRESETS:
        path = data / front_table(preset)
        if not path.is_file():
            lines += [f"- {preset}: not run yet.", ""]
            continue
        front = pd.read_csv(path)
        kind = model.city_type(preset)
        rows = []
        for rank, row in front.iterrows():
            funded = [
                c.split(".")[1] for c in front.columns if c.endswith(".enabled") and bool(row[c])
            ]
            rows.append(
                [f"front {rank}", str(bool(row["unified_platform"])).lower(),
                 f"{row['capabilities.budget_share']:.3f}", ", ".join(funded) or "none",
                 *(f"{row[g]:+.4f}" for g in INDEX_GAINS),
                 " / ".join(f"{row[g + design.REGRET]:.4f}" for g in INDEX_GAINS)]
            )  # fmt: skip
        homes = table["policy"].map(model.package_home)
        own = table[(table["preset"] == preset) & (homes == kind)]
        paths = own.groupby("policy", sort=False)[list(INDEX_GAINS)].mean()
        rows += [
            [titles[policy], "", "", "white-paper path", *(f"{g:+.4f}" for g in gains), ""]
            for policy, gains in paths[list(INDEX_GAINS)].iterrows()
        ]
        header = ["mix", "unified platform", "capability budget", "initiatives funded",
                  "demand", "industry", "governance",
                  "maximum regret (demand / industry / governance)"]  # fmt: skip
        lines += [f"### {preset}", "", *table_lines(header, rows)]
        better = [
            rank
            for rank, row in front.iterrows()
            if (row[list(INDEX_GAINS)].to_numpy() >= paths.to_numpy()).all()
        ]
        lines += [
            "",
            f"Front members at least as good as every own path on all three gains: "
            f"{', '.join(f'front {r}' for r in better) or 'none'} (of {len(front)}).",
            "",
        ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the study (or only render it) and write docs/robustness.md."""
    parser = argparse.ArgumentParser(
        prog="python -m smartcity.experiments.robustness", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--study", type=Path, default=Path("results/robustness"), help="where the runs go"
    )
    parser.add_argument(
        "--data", type=Path, default=DATA, help="the study's specs and stored results"
    )
    parser.add_argument("--render", action="store_true", help="only render the stored CSVs")
    parser.add_argument("--workers", type=positive_int, default=1)
    args = parser.parse_args(argv)
    if not args.render:
        run_study(args.study, args.data, args.workers)
    DOCUMENT.write_text(render(args.data), encoding="utf-8")
    print(DOCUMENT)
    return 0


if __name__ == "__main__":
    sys.exit(main())

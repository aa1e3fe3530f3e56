"""`smartcity validate`: the six case cities checked against the white paper's figures.

Pattern-oriented validation (Grimm et al. 2005): before the model predicts what is not
known, it should reproduce what is. The white paper (5.1) gives six case cities with
figures. Each case runs its preset under its development path and under the baseline, with
paired seeds (replication r shares its seed across the two), and each pattern is a statistic
computed per replication (a level, a growth rate, or a path-minus-baseline difference) whose
mean and t-based 95% interval are compared with the paper's figure. A pattern holds when its
criterion holds for the mean, and a path-minus-baseline effect only when its whole interval
also lies above 0: with paired seeds a path that does nothing differs from the baseline by
exactly 0, which must not pass. The report keeps every pattern, holding or not, with the
reason.

The case -> path mapping and the patterns are validation data, not model rules: nothing in
the model branches on a case's name.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smartcity.experiments import figures, model
from smartcity.experiments.spec import ExperimentSpec, parse_spec
from smartcity.experiments.sweep import (
    EXIT_OK,
    add_executor_options,
    guarded,
    positive_int,
    stored_results,
)
from smartcity.simulation.world.statistics import mean_interval
from smartcity.simulation.world.vocabulary import SECTOR_NAMES

DEFAULT_REPLICATIONS = 3
DEFAULT_YEARS = 10
DEFAULT_ROOT_SEED = 20260517
EXIT_PATTERN_FAILED = 1
# The first simulated year settles the initial state (ODD, initialization): growth rates
# are measured from year 1.
FROM_YEAR = 1


@dataclass(frozen=True)
class CaseRuns:
    """The yearly runs of one case: {policy: {metric: replications x years table}}."""

    results: pd.DataFrame
    preset: str
    path: str

    def table(self, metric: str, policy: str | None = None) -> pd.DataFrame:
        """Replications (rows) x years (columns) of ``metric`` under the path (or ``policy``)."""
        rows = self.results[
            (self.results["preset"] == self.preset)
            & (self.results["policy"] == (policy or self.path))
        ]
        return rows.pivot_table(index="replication", columns="year", values=metric)

    def at(self, metric: str, year: float, policy: str | None = None) -> np.ndarray:
        """``metric`` in the kept year nearest to ``year``, one value per replication; NaN
        (the pattern is not evaluated, so it does not hold) when the runs kept no year
        within half a year of it, e.g. a horizon shorter than the pattern's year."""
        table = self.table(metric, policy)
        distance = np.abs(table.columns.to_numpy() - year)
        if distance.min() > 0.5:
            return np.full(len(table), np.nan)
        return table[table.columns[distance.argmin()]].to_numpy()

    def last_year(self) -> float:
        """The horizon of the runs."""
        return float(self.results["year"].max())

    def growth(self, metric: str, policy: str | None = None) -> np.ndarray:
        """Yearly compound growth of ``metric`` from year 1 to the horizon, per replication."""
        start, end = self.at(metric, FROM_YEAR, policy), self.at(metric, self.last_year(), policy)
        years = self.last_year() - FROM_YEAR
        if years <= 0:
            return np.full(len(start), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(start > 0, (np.maximum(end, 0) / start) ** (1 / years) - 1, np.nan)

    def vs_baseline(self, metric: str) -> np.ndarray:
        """Path minus baseline at the horizon, paired by replication."""
        year = self.last_year()
        return self.at(metric, year) - self.at(metric, year, model.BASELINE_POLICY)

    def share(self, metric: str, year: float, total: str = "gdp") -> np.ndarray:
        """``metric`` over ``total`` in ``year``, per replication."""
        return self.at(metric, year) / np.maximum(self.at(total, year), 1e-9)


@dataclass(frozen=True)
class Pattern:
    """One figure of the white paper the simulated case should reproduce.

    Attributes:
        name: short name.
        source: the paper's figure, quoted or summarized, with its section.
        statistic: per-replication values of what is checked, from the case's runs (for a
            cross-case pattern, from every case's runs by name).
        low, high: the criterion: the mean must lie in ``[low, high]``.
        unit: the statistic's unit.
        effect: a path-minus-baseline effect: its whole 95% interval must also lie above 0
            (module docstring).
    """

    name: str
    source: str
    statistic: Callable[[Any], np.ndarray]
    low: float = -np.inf
    high: float = np.inf
    unit: str = ""
    effect: bool = False

    def criterion(self) -> str:
        """The criterion in words."""
        if np.isfinite(self.low) and np.isfinite(self.high):
            words = f"in {self.low:g}..{self.high:g}"
        else:
            words = f">= {self.low:g}" if np.isfinite(self.low) else f"<= {self.high:g}"
        return f"{words}, 95% CI above 0" if self.effect else words


@dataclass(frozen=True)
class Case:
    """A case city: its preset, its development path and the patterns it should show."""

    name: str
    preset: str
    path: str
    patterns: tuple[Pattern, ...]


def _creative_growth_over_total(runs: CaseRuns) -> np.ndarray:
    return runs.growth("value_added_creative") - 2 * runs.growth("gdp")


def _value_added_per_worker_ratio(sector: str) -> Callable[[CaseRuns], np.ndarray]:
    def ratio(runs: CaseRuns) -> np.ndarray:
        year = runs.last_year()
        sector_va = runs.at(f"value_added_{sector}", year) / np.maximum(
            runs.at(f"jobs_{sector}", year), 1
        )
        city_va = runs.at("gdp", year) / np.maximum(runs.at("employment", year), 1)
        return sector_va / city_va

    return ratio


def _relative_change(metric: str) -> Callable[[CaseRuns], np.ndarray]:
    def change(runs: CaseRuns) -> np.ndarray:
        start = runs.at(metric, FROM_YEAR)
        return runs.at(metric, runs.last_year()) / np.maximum(start, 1e-9) - 1

    return change


def _city_minus_core_growth(runs: CaseRuns) -> np.ndarray:
    return _relative_change("population")(runs) - _relative_change("core_population")(runs)


def _ratio_to_baseline(metric: str) -> Callable[[CaseRuns], np.ndarray]:
    """Path over baseline of ``metric`` summed over years 1..horizon (firm formation)."""

    def ratio(runs: CaseRuns) -> np.ndarray:
        path = runs.table(metric).loc[:, FROM_YEAR:].sum(axis=1).to_numpy()
        base = runs.table(metric, model.BASELINE_POLICY).loc[:, FROM_YEAR:].sum(axis=1)
        return path / np.maximum(base.to_numpy(), 1.0)

    return ratio


def _largest_sector_margin(sector: str) -> Callable[[CaseRuns], np.ndarray]:
    """The sector's share of value added minus the largest other sector's, at the horizon."""

    def margin(runs: CaseRuns) -> np.ndarray:
        year = runs.last_year()
        shares = {s: runs.share(f"value_added_{s}", year) for s in SECTOR_NAMES}
        others = np.max([v for s, v in shares.items() if s != sector], axis=0)
        return shares[sector] - others

    return margin


def _mix_shift(runs: CaseRuns) -> np.ndarray:
    """Change of the high-value sectors' job share minus change of manufacturing's VA share."""
    year = runs.last_year()
    manufacturing = runs.share("value_added_manufacturing", year) - runs.share(
        "value_added_manufacturing", FROM_YEAR
    )
    high_value = runs.at("high_value_share", year) - runs.at("high_value_share", FROM_YEAR)
    return high_value - manufacturing


CASES: tuple[Case, ...] = (
    Case(
        "london",
        "london",
        "mature-reactivate",
        (
            Pattern(
                "creative growth over twice total growth",
                "WP 5.1.1 Path 1: creative industries grew at more than twice the rate of GVA "
                "since 2009",
                _creative_growth_over_total,
                low=0.0,
                unit="creative CAGR - 2 x GDP CAGR",
            ),
            Pattern(
                "creative share of value added above 10%",
                "WP 5.1.1 Path 1: the creative industry exceeds 10% of GVA",
                lambda r: r.share("value_added_creative", r.last_year()),
                low=0.10,
                unit="share of GDP",
            ),
            Pattern(
                "creative value added per worker ~20% above average",
                "WP 5.1.1 Path 1: creative value added per worker 20% above the whole economy",
                _value_added_per_worker_ratio("creative"),
                low=1.1,
                high=1.35,
                unit="ratio to city average",
            ),
        ),
    ),
    Case(
        "paris",
        "paris",
        "mature-multicentre",
        (
            Pattern(
                "core population about flat",
                "WP 5.1.1 Path 2: the Paris urban area held 2.1-2.2 M",
                _relative_change("core_population"),
                low=-0.10,
                high=0.10,
                unit="relative change from year 1",
            ),
            Pattern(
                "region grows faster than the core",
                "WP 5.1.1 Path 2: the region grew from 9 M to over 12 M",
                _city_minus_core_growth,
                low=0.02,
                unit="city growth - core growth",
            ),
            Pattern(
                "new towns' job share rises over the baseline",
                "WP 5.1.1 Path 2: new towns integrated into a multi-centre system (17,000 "
                "companies in Marne-la-Vallee)",
                lambda r: r.vs_baseline("new_town_job_share"),
                low=0.005,
                effect=True,
                unit="share points, path - baseline",
            ),
        ),
    ),
    Case(
        "tokyo",
        "tokyo",
        "mature-urban-diseases",
        (
            Pattern(
                "65+ share above 25% at the start",
                "WP 5.1.1 Path 3: the elderly over 65 are more than 25% of Tokyo's population",
                lambda r: r.at("elderly_share", 0),
                low=0.25,
                unit="share",
            ),
            Pattern(
                "65+ share above 30% ten years on",
                "WP 5.1.1 Path 3: over 30% in 2030 (National Institute of Population and "
                "Social Security Research)",
                lambda r: r.at("elderly_share", 10),
                low=0.30,
                unit="share",
            ),
            Pattern(
                "ICT elderly care grows into an industry",
                "WP 5.1.1 Path 3: ICT-based elderly care becomes an industry exported abroad",
                lambda r: r.vs_baseline("value_added_health"),
                low=0.0,
                effect=True,
                unit="M/year, path - baseline",
            ),
            Pattern(
                "elderly-care coverage improves over the baseline",
                "WP 5.1.1 Path 3: the social security system for old-age care keeps improving",
                lambda r: r.vs_baseline("elderly_care_coverage"),
                low=0.0,
                effect=True,
                unit="0-1, path - baseline",
            ),
        ),
    ),
    Case(
        "hamburg",
        "hamburg",
        "mature-rebuild-advantage",
        (
            Pattern(
                "logistics highly digitalized",
                "WP 5.1.1 Path 4: logistics processes around rail, water and road are 95% "
                "digitalized",
                lambda r: r.at("digitalization_logistics", r.last_year()),
                low=0.85,
                unit="0-1",
            ),
            Pattern(
                "logistics value added recovers against the baseline",
                "WP 5.1.1 Path 4: the port's second transformation after the 2008 slump",
                lambda r: r.vs_baseline("value_added_logistics"),
                low=0.0,
                effect=True,
                unit="M/year, path - baseline",
            ),
            Pattern(
                "logistics jobs hold against the baseline",
                "WP 5.1.1 Path 4: port capacity up about 2 M TEU a year after digitalization",
                lambda r: r.vs_baseline("jobs_logistics"),
                low=0.0,
                effect=True,
                unit="jobs, path - baseline",
            ),
        ),
    ),
    Case(
        "tel-aviv",
        "tel-aviv",
        "emerging-breakthrough",
        (
            Pattern(
                "high-tech dominates value added",
                "WP 5.1.2 Path 1: the technology industry contributes most of the output",
                _largest_sector_margin("digital"),
                low=0.0,
                unit="digital VA share - largest other share",
            ),
            Pattern(
                "firm formation in the chosen field far above the baseline",
                "WP 5.1.2 Path 1: a global entrepreneurship centre (6th in the 2019 Global "
                "Entrepreneurship Ecosystem Report)",
                _ratio_to_baseline("young_firms_digital"),
                low=1.5,
                unit="ratio to baseline, firms founded",
            ),
        ),
    ),
    Case(
        "shenzhen",
        "shenzhen",
        "emerging-industrial-chain",
        (
            Pattern(
                "sustained high real growth",
                "WP 5.1.2 Path 2: GDP from 179 M yuan (1979) to 2.4 trillion yuan (2018)",
                lambda r: r.growth("gdp"),
                low=0.07,
                unit="GDP CAGR, 1/year",
            ),
            Pattern(
                "mix moves from low-end manufacturing to high-value sectors",
                "WP 5.1.2 Path 2: from processing trades and OEM to strategic emerging industries",
                _mix_shift,
                low=0.0,
                unit="share points",
            ),
        ),
    ),
)


def _mature_and_emerging(runs: dict[str, CaseRuns]) -> tuple[list[CaseRuns], list[CaseRuns]]:
    mature = [r for r in runs.values() if r.preset in MATURE_CASES]
    emerging = [r for r in runs.values() if r.preset in EMERGING_CASES]
    return mature, emerging


def _start_gap(runs: dict[str, CaseRuns]) -> np.ndarray:
    mature, emerging = _mature_and_emerging(runs)
    level = [
        np.mean([r.at("gdp_per_capita", FROM_YEAR) for r in g], axis=0) for g in (mature, emerging)
    ]
    return level[0] - level[1]


def _growth_gap(runs: dict[str, CaseRuns]) -> np.ndarray:
    mature, emerging = _mature_and_emerging(runs)
    growth = [np.mean([r.growth("gdp_per_capita") for r in g], axis=0) for g in (mature, emerging)]
    return growth[1] - growth[0]


MATURE_CASES = ("london", "paris", "tokyo", "hamburg")
EMERGING_CASES = ("tel-aviv", "shenzhen")
CROSS_CASE_PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "mature cities start higher",
        "WP 5.1.1/5.1.2: mature cities have a high starting point, emerging cities a low one",
        _start_gap,
        low=0.0,
        unit="k/person-year, mature - emerging GDP/capita at year 1",
    ),
    Pattern(
        "emerging cities grow faster",
        "WP 5.1.1/5.1.2: low growth rate versus high growth rate",
        _growth_gap,
        low=0.0,
        unit="1/year, emerging - mature GDP/capita CAGR",
    ),
)
"""The two models of WP 5.1, compared over the case cities under their own paths; their
statistic takes every case's runs."""


def evaluate(results: pd.DataFrame, cases: Sequence[Case] = CASES) -> pd.DataFrame:
    """One row per pattern: case, pattern, source, unit, criterion, mean, ci, holds."""
    runs = {case.name: CaseRuns(results, case.preset, case.path) for case in cases}
    checked = [
        (case.name, pattern, pattern.statistic(runs[case.name]))
        for case in cases
        for pattern in case.patterns
    ]
    mature, emerging = _mature_and_emerging(runs)
    if mature and emerging:
        checked += [("both-models", p, p.statistic(runs)) for p in CROSS_CASE_PATTERNS]
    rows = []
    for case, pattern, values in checked:
        mean, low, high = mean_interval(values)
        holds = bool(np.isfinite(mean) and pattern.low <= mean <= pattern.high)
        if pattern.effect:
            holds = holds and bool(low > 0)
        rows.append(
            {
                "case": case,
                "pattern": pattern.name,
                "source": pattern.source,
                "unit": pattern.unit,
                "criterion": pattern.criterion(),
                "criterion_low": pattern.low,
                "criterion_high": pattern.high,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "replications": int(np.isfinite(np.asarray(values, dtype=float)).sum()),
                "holds": holds,
            }
        )
    return pd.DataFrame(rows)


def validation_spec(
    replications: int, years: int, root_seed: int, overrides: dict[str, Any]
) -> ExperimentSpec:
    """The sweep of every case preset under the baseline and its path."""
    return parse_spec(
        {
            "name": "validate",
            "presets": [case.preset for case in CASES],
            "policies": {case.preset: [model.BASELINE_POLICY, case.path] for case in CASES},
            "replications": replications,
            "years": years,
            "root_seed": root_seed,
            "overrides": overrides,
            # One row per simulated year, whatever the time resolution.
            "keep_every": int(
                model.resolve_point(CASES[0].preset, overrides)["simulation.steps_per_year"]
            ),
        }
    )


def report_lines(table: pd.DataFrame) -> list[str]:
    """One line per pattern: case, pattern, source figure, simulated mean [95% CI], verdict."""
    return [
        f"{row.case:12s} {'holds' if row.holds else 'FAILS'}  {row.pattern}: "
        f"{row.mean:.4g} [{row.ci_low:.4g}, {row.ci_high:.4g}] {row.unit} "
        f"(criterion {row.criterion}; {row.source})"
        for row in table.itertuples()
    ]


GENERATED_BEGIN = "<!-- generated by smartcity validate: begin (do not edit by hand) -->"
GENERATED_END = "<!-- generated by smartcity validate: end -->"
REPORT_TITLE = "# Validation against the white paper's case cities"


def validation_markdown(table: pd.DataFrame, command: str) -> str:
    """The generated part of docs/validation.md, between GENERATED_BEGIN and GENERATED_END:
    the command, the count of patterns that hold and the table. The text around the markers
    (why a pattern fails, the calibrations) is written by hand and kept."""
    held = int(table["holds"].sum())
    lines = [
        GENERATED_BEGIN,
        "",
        f"Command: `{command}`.",
        "",
        f"{held} of {len(table)} patterns hold. Each case city runs its preset under its "
        "development path and under the baseline with paired seeds; a statistic is computed "
        "per replication and its mean (95% t-interval) is compared with the paper's figure "
        "(white paper 5.1). A failing pattern stays in the table: it is a result.",
        "",
        "| case | pattern | simulated mean [95% CI] | unit | criterion | verdict | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.case} | {row.pattern} | {row.mean:.4g} [{row.ci_low:.4g}, "
            f"{row.ci_high:.4g}] | {row.unit} | {row.criterion} | "
            f"{'holds' if row.holds else '**fails**'} | {row.source} |"
        )
    return "\n".join([*lines, "", GENERATED_END]) + "\n"


def generated_part(text: str) -> str:
    """The generated block of a validation report, markers included.

    Raises:
        ValueError: the report has no complete generated block.
    """
    start, end = text.find(GENERATED_BEGIN), text.find(GENERATED_END)
    if start < 0 or end < start:
        raise ValueError(f"no block between {GENERATED_BEGIN!r} and {GENERATED_END!r}")
    return text[start : end + len(GENERATED_END)] + "\n"


def write_figures(table: pd.DataFrame, folder: Path) -> list[Path]:
    """A figure per case (and one for the cross-case patterns): each pattern's simulated
    mean and interval against the paper's criterion."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        figures.plot_pattern_checks(rows, f"Validation: {case}", folder / f"{case}.png")
        for case, rows in table.groupby("case", sort=False)
    ]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `validate` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check the six case cities against the white paper's figures",
        description="Run each case city (london, paris, tokyo, hamburg, tel-aviv, shenzhen) "
        "under its development path and the baseline, check each pattern of white paper 5.1 "
        "and write OUT/validation.csv and OUT/validation.md; exit 1 when a pattern fails.",
    )
    parser.add_argument("--out", type=Path, default=Path("results/validate"))
    parser.add_argument("--replications", type=positive_int, default=DEFAULT_REPLICATIONS)
    parser.add_argument("--years", type=positive_int, default=DEFAULT_YEARS)
    parser.add_argument("--seed", type=int, default=DEFAULT_ROOT_SEED)
    parser.add_argument(
        "--citizens", type=positive_int, help="citizens per city (default: each preset's)"
    )
    add_executor_options(parser)
    parser.set_defaults(handler=command_validate)


def command_validate(args: argparse.Namespace) -> int:
    """Handler of `smartcity validate`."""

    def body() -> int:
        overrides = {} if args.citizens is None else {"citizens.count": args.citizens}
        spec = validation_spec(args.replications, args.years, args.seed, overrides)
        _, results = stored_results("validate", spec, args)
        table = evaluate(results)
        table.to_csv(args.out / "validation.csv", index=False)
        write_figures(table, args.out / "figures")
        command = " ".join(["smartcity", *sys.argv[1:]]) if sys.argv[1:] else "smartcity validate"
        report = f"{REPORT_TITLE}\n\n{validation_markdown(table, command)}"
        (args.out / "validation.md").write_text(report)
        for line in report_lines(table):
            print(line)
        print(f"{int(table['holds'].sum())} of {len(table)} patterns hold")
        return EXIT_OK if table["holds"].all() else EXIT_PATTERN_FAILED

    return guarded("validate", body)

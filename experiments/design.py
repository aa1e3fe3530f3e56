"""`smartcity design`: robust initiative mixes for one city at a fixed public envelope.

Which initiatives should a city fund with a given budget? The designer searches the
``[levers]`` of an exploration spec (which initiatives, their scales, start years and
financing, the unified platform, the capability budget) on several objectives at once
(the ``[outcomes]``, each maximized or minimized) with Optuna's NSGA-II sampler (Deb et
al. 2002). Every mix runs at the same public-spending envelope (government.budget =
"equal", government.spending_envelope = ``--budget``; ODD 7.3), so mixes differ in what
they do with the money, never in how much they spend (white paper 5.3: money is never
free), and each is evaluated over the same sample of the ``[uncertainties]`` with the same
seeds, so a mix wins by being robust, not lucky. The robustness metric is stated in
``[design] robustness`` (or ``--robustness``), per objective:

- ``mean``: the mean over the uncertainty sample;
- ``p10``: its 10th percentile of the better-is-higher value (the 90th of a minimized
  outcome), a cautious planner's criterion;
- ``regret``: Savage's minimax regret (Savage 1951, "The theory of statistical decision",
  Journal of the American Statistical Association). A scenario is one uncertainty point and
  replication, run by every mix with the same seed (common random numbers). A mix's regret
  in a scenario is the best outcome any mix evaluated on that scenario reached, minus its
  own (its own minus the least, for a minimized outcome); its robust value is its largest
  regret over the scenarios, to be minimized. While searching, "every mix" means every mix
  evaluated so far (this and earlier generations); the reported trials and front recompute
  it over every mix of the design, so the front is the non-dominated set of those values.

The front table reports each objective's mean (or p10) and its maximum regret whichever
metric was searched, and ``outcomes.csv`` keeps every run's outcomes (one row per mix and
scenario) so any metric can be recomputed.

Each NSGA-II generation is one exploration stored under ``OUT/generations/NN`` (resumable:
rerunning the same command reuses every stored run). Outputs: ``trials.csv`` (every mix
evaluated), ``outcomes.csv`` (every run: mix, scenario, outcomes), ``front.csv`` and
``front.md`` (the Pareto front), ``figures/front.png``, and
``front/front-NN.toml``, one policy package per front member, which ``smartcity run
--policy`` and the view load.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smartcity.experiments import model
from smartcity.experiments.cli_kit import (
    EXIT_OK,
    SweepInterruptedError,
    add_allow_code_option,
    add_executor_options,
    add_out_option,
    dispatch,
    finish,
    guarded,
)
from smartcity.experiments.explore import (
    EXPERIMENTS,
    DesignTable,
    Exploration,
    exploration_record,
    parse_exploration,
    run_exploration,
    same_exploration,
)
from smartcity.experiments.runner import RunFunction
from smartcity.experiments.spec import SpecError
from smartcity.experiments.store import StoreError
from smartcity.simulation.world.schema import (
    check_output_dir,
    number,
    read_toml,
    toml_text,
)

GENERATIONS_DIR = "generations"
FRONT_DIR = "front"
RECORD = "design.json"
LOW_PERCENTILE = 10
ROBUSTNESS = ("mean", "p10", "regret")
SCENARIO = ["design_point", "replication"]  # one uncertainty point, one seed: a scenario
REGRET = "_regret"  # suffix of an objective's maximum-regret column
ROBUSTNESS_NOTES = {
    "mean": "the mean over the scenarios",
    "p10": "the 10th percentile of the better-is-higher value over the scenarios",
    "regret": "the maximum regret (Savage) over the scenarios, minimized; objective "
    "columns: the mean",
}
Envelope = number(0.0, 1.0)


@dataclass(frozen=True)
class DesignResult:
    """What a design found.

    Attributes:
        trials: every mix evaluated: generation, trial, mix, title, lever values, the
            robust value of each objective (mean or p10; the mean when the search
            minimized regret), its maximum regret (``NAME_regret``) and whether it is on
            the front.
        front: the Pareto front (rows of ``trials``), best first by the first objective.
        packages: the front members' package files.
        outcomes: every run: generation, trial, mix, design_point, replication and each
            objective's outcome (the values every robustness metric is computed from).
    """

    trials: pd.DataFrame
    front: pd.DataFrame
    packages: list[Path]
    outcomes: pd.DataFrame


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `design` subcommand; the handler is `args.handler(args) -> exit status`."""
    parser = subparsers.add_parser(
        "design",
        help="search robust initiative mixes for one city at a fixed public envelope",
        description="Search SPEC's [levers] with NSGA-II on its [outcomes], each mix run at "
        "the public envelope BUDGET over the sample of SPEC's [uncertainties]; write the "
        "Pareto front (table, figure, one policy package per member) to OUT.",
    )
    parser.add_argument("spec", type=Path, help="exploration spec (TOML) with [levers]")
    parser.add_argument("--preset", required=True, help="the city (preset name or .toml)")
    parser.add_argument(
        "--budget",
        type=float,
        required=True,
        help="yearly public envelope of every mix, as a share of the initial tax revenue "
        "(government.spending_envelope, 0-1)",
    )
    parser.add_argument(
        "--robustness",
        choices=ROBUSTNESS,
        help="robust value of each objective over the uncertainty sample (default: the "
        "spec's [design] robustness, else mean): mean; p10, its 10th percentile of the "
        "better-is-higher value; or regret, Savage's minimax regret: in each scenario "
        "(uncertainty point and replication, every mix on the same seed) the best outcome "
        "of every mix evaluated on it minus the mix's own, the largest over the scenarios, "
        "minimized",
    )
    add_out_option(parser)
    add_executor_options(parser)
    add_allow_code_option(parser)
    parser.set_defaults(handler=command_design)


def design_raw(
    raw: Mapping[str, Any], preset: str, budget: float, robustness: str | None = None
) -> dict[str, Any]:
    """The spec as run: one preset, every mix at the equal envelope ``budget``, and the
    robustness metric ``robustness`` when given (it replaces the spec's)."""
    if not 0.0 <= budget <= 1.0:
        raise SpecError(f"--budget {budget:g} is out of range; use a share from 0 to 1")
    overrides = {
        **dict(raw.get("overrides", {})),
        "government.budget": "equal",
        "government.spending_envelope": float(budget),
    }
    run = {**dict(raw), "presets": [preset], "overrides": overrides}
    if robustness is not None:
        design = raw.get("design", {})
        design = design if isinstance(design, Mapping) else {}
        run["design"] = {**design, "robustness": robustness}
    return run


def robust_value(values: np.ndarray, direction: str, robustness: str) -> float:
    """The mean (``mean``, also for ``regret``) or the cautious percentile (``p10``) of one
    objective over the uncertainty sample (NaN if a run failed)."""
    if np.isnan(values).any() or not len(values):
        return float("nan")
    if robustness != "p10":
        return float(values.mean())
    low = LOW_PERCENTILE if direction == "maximize" else 100 - LOW_PERCENTILE
    return float(np.percentile(values, low))


def max_regret(outcomes: pd.DataFrame, name: str, direction: str) -> pd.Series:
    """Savage's maximum regret of each mix for the objective ``name``.

    In each scenario (design point and replication: the same uncertainty values and seed
    for every mix), a mix's regret is the best outcome of the mixes in ``outcomes`` on that
    scenario minus its own (its own minus the least, for a minimized objective); the result
    is the largest regret over the scenarios (NaN for a mix with a failed run).

    Args:
        outcomes: a row per run: ``mix``, ``design_point``, ``replication``, ``name``.
        name: the objective's column.
        direction: ``maximize`` or ``minimize``.

    Returns:
        The maximum regret, indexed by mix.
    """
    wide = outcomes.pivot(index="mix", columns=SCENARIO, values=name)
    better = wide if direction == "maximize" else -wide
    return (better.max(axis=0) - better).max(axis=1, skipna=False)


def robust_values(outcomes: pd.DataFrame, objectives: Any, robustness: str) -> pd.DataFrame:
    """Per mix: each objective's mean (or p10) and its maximum regret (``NAME_regret``)."""
    grouped = outcomes.groupby("mix", sort=False)
    columns = {}
    for o in objectives:
        columns[o.name] = grouped[o.name].apply(
            lambda v, o=o: robust_value(v.to_numpy(float), o.direction, robustness)
        )
        columns[o.name + REGRET] = max_regret(outcomes, o.name, o.direction)
    return pd.DataFrame(columns)


def searched(objectives: Any, robustness: str) -> list[tuple[str, str]]:
    """The columns the search optimizes and their directions (regret: all minimized)."""
    if robustness == "regret":
        return [(o.name + REGRET, "minimize") for o in objectives]
    return [(o.name, o.direction) for o in objectives]


def non_dominated(values: pd.DataFrame, directions: list[str]) -> np.ndarray:
    """Whether each row is on the Pareto front: no other row is at least as good on every
    column and better on one (rows with a NaN are not)."""
    signs = np.where(np.array(directions) == "maximize", 1.0, -1.0)
    better = values.to_numpy(float) * signs
    valid = ~np.isnan(better).any(axis=1)
    others = better[valid]
    front = np.zeros(len(better), dtype=bool)
    for i in np.flatnonzero(valid):
        dominates = (others >= better[i]).all(axis=1) & (others > better[i]).any(axis=1)
        front[i] = not dominates.any()
    return front


def generation(
    raw: Mapping[str, Any],
    source: str,
    out: Path,
    points: list[dict[str, Any]],
    allow_code: bool,
) -> Exploration:
    """The exploration of one generation: the spec's uncertainty sample x these mixes."""
    return parse_exploration(raw, source, out, allow_code=allow_code, lever_points=points)


def run_design(
    spec_path: str | Path,
    preset: str,
    budget: float,
    out: str | Path,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    slots: int | None = None,
    run_fn: RunFunction | None = None,
    allow_code: bool = False,
    progress: bool = True,
    robustness: str | None = None,
) -> DesignResult:
    """Search the levers of a spec for one city at the envelope ``budget``; write the front.

    Raises:
        SpecError: the spec or the options are invalid (nothing is written).
        StoreError: OUT holds a design of other settings.
        SweepInterruptedError: Ctrl-C (stored runs are kept; rerun to continue).
    """
    import optuna

    from smartcity.experiments import figures  # its tables and figures

    out = Path(out)
    raw = design_raw(read_toml(spec_path, "design spec", SpecError), preset, budget, robustness)
    source = str(spec_path)
    first = out / GENERATIONS_DIR / "00"
    probe = parse_exploration(raw, source, first, allow_code=allow_code, require_levers=True)
    settings = probe.design or DesignTable()
    # Mixes and versions are not settings: a rerun with new code continues the same design.
    record = {
        "preset": preset,
        "budget": budget,
        **{k: v for k, v in exploration_record(probe).items() if k not in ("mixes", "provenance")},
    }
    check_output_dir(out)
    if (out / RECORD).exists():
        if json.loads((out / RECORD).read_text("utf-8")) != json.loads(json.dumps(record)):
            raise StoreError(
                f"output {str(out)!r} holds a design of other settings; choose another --out"
            )
    else:
        out.mkdir(parents=True, exist_ok=True)
        (out / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True), "utf-8")

    outcomes = probe.outcomes
    objectives = searched(outcomes, settings.robustness)
    directions = [direction for _, direction in objectives]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        directions=directions,
        sampler=optuna.samplers.NSGAIISampler(
            population_size=settings.population, seed=settings.seed
        ),
    )
    distributions = {
        lever.key: (
            optuna.distributions.CategoricalDistribution(list(lever.values))
            if lever.values
            else optuna.distributions.FloatDistribution(lever.low, lever.high)
        )
        for lever in probe.levers
    }
    rows = []
    evaluated: list[pd.DataFrame] = []
    for index in range(settings.generations):
        where = out / GENERATIONS_DIR / f"{index:02d}"
        trials = [study.ask(distributions) for _ in range(settings.population)]
        points = [{key: trial.params[key] for key in distributions} for trial in trials]
        gen = generation(raw, source, where, points, allow_code)
        # A finished generation is reused as it is (its table is written once every run is
        # stored); an unfinished one is completed.
        finished = (where / EXPERIMENTS).is_file()
        if finished and not same_exploration(where, exploration_record(gen)):
            raise StoreError(
                f"{where} holds another generation (other mixes); choose another --out"
            )
        if not finished:
            report = run_exploration(
                gen, where, workers=workers, executor=executor, slots=slots, resume=True,
                run_fn=run_fn, progress=progress,
            )  # fmt: skip
            status = finish("design", report, where)
            if status is not None:
                raise SweepInterruptedError(status)
        table = pd.read_parquet(where / EXPERIMENTS)
        mixes = {}
        for trial, (policy, values) in zip(trials, gen.mixes.items(), strict=True):
            mix = f"{GENERATIONS_DIR}/{index:02d}/{Path(policy).stem}"
            mixes[Path(policy).stem] = (index, trial.number, mix)
            rows.append(
                {
                    "generation": index,
                    "trial": trial.number,
                    "mix": mix,
                    "title": model.package_title(policy),
                    "package_file": policy,
                    **values,
                }
            )
        evaluated.append(generation_outcomes(table, mixes, [o.name for o in outcomes]))
        # Regret so far: against every mix evaluated up to this generation.
        scores = robust_values(pd.concat(evaluated), outcomes, settings.robustness)
        for trial, (_, _, mix) in zip(trials, mixes.values(), strict=True):
            told = [float(scores.loc[mix, column]) for column, _ in objectives]
            if any(np.isnan(told)):
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, told)
    runs_table = pd.concat(evaluated, ignore_index=True)
    trials_table = pd.DataFrame(rows)
    final = robust_values(runs_table, outcomes, settings.robustness)
    trials_table = trials_table.join(final, on="mix")
    columns = [column for column, _ in objectives]
    trials_table["on_front"] = non_dominated(trials_table[columns], directions)
    front = trials_table[trials_table["on_front"]].sort_values(
        columns[0], ascending=directions[0] == "minimize", kind="stable"
    )
    # Equal mixes proposed twice are one front member.
    levers = [lever.key for lever in probe.levers]
    front = front.drop_duplicates(levers).reset_index(drop=True)
    packages = write_front(front, out, preset, budget)
    citizens = probe.spec.overrides.get("citizens.count", "preset default")
    note = (
        f"{preset} at envelope {budget:g}; each mix: {len(probe.scenarios)} uncertainty "
        f"points x {probe.spec.replications} replication(s), {citizens} citizens, "
        f"{probe.spec.years} years; robustness: {ROBUSTNESS_NOTES[settings.robustness]}; "
        "max regret: against the best of every mix of this design in each scenario; "
        f"{figures.NO_INTERVALS}; {figures.MONEY_NOTE}"
    )
    trials_table.drop(columns="package_file").to_csv(out / "trials.csv", index=False)
    runs_table.to_csv(out / "outcomes.csv", index=False)
    front.drop(columns="package_file").assign(
        package=[str(p.relative_to(out)) for p in packages]
    ).to_csv(out / "front.csv", index=False)
    (out / "front.md").write_text(figures.front_markdown(front, levers, outcomes, note), "utf-8")
    (out / "figures").mkdir(exist_ok=True)
    figures.plot_front(trials_table, columns, note, out / "figures" / "front.png")
    return DesignResult(trials_table, front, packages, runs_table)


def generation_outcomes(
    table: pd.DataFrame, mixes: Mapping[str, tuple[int, int, str]], names: list[str]
) -> pd.DataFrame:
    """One generation's runs as rows of (generation, trial, mix, scenario, outcomes): a row
    for every mix on every scenario of the generation, with NaN outcomes where a run failed
    (the store keeps no row for it), so such a mix is scored NaN and told FAIL rather than
    scored on fewer scenarios.

    Args:
        table: the generation's experiments table.
        mixes: {package name: (generation, trial number, mix)}.
        names: the objectives' columns.
    """
    ids = pd.DataFrame(
        [(policy, *mix) for policy, mix in mixes.items()],
        columns=["policy", "generation", "trial", "mix"],
    )
    scenarios = table[list(SCENARIO)].drop_duplicates()
    runs = ids.merge(scenarios, how="cross").merge(
        table[["policy", *SCENARIO, *names]], on=["policy", *SCENARIO], how="left", sort=False
    )
    return runs.drop(columns="policy").sort_values(["trial", *SCENARIO], kind="stable")


def write_front(front: pd.DataFrame, out: Path, preset: str, budget: float) -> list[Path]:
    """Write each front member as a policy package TOML (OUT/front/front-NN.toml)."""
    folder = out / FRONT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("front-*.toml"):
        stale.unlink()
    written = []
    for rank, row in enumerate(front.itertuples()):
        package = read_toml(row.package_file, "policy package", SpecError)
        package["title"] = f"Design front {rank} ({preset}, envelope {budget:g}): " + (
            package["description"].removeprefix("A lever mix of an exploration: ")
        )
        package["source"] = "smartcity design"
        path = folder / f"front-{rank:02d}.toml"
        path.write_text(toml_text(package), encoding="utf-8")
        written.append(path)
    return written


def command_design(args: argparse.Namespace) -> int:
    """Handler of `smartcity design`."""

    def body() -> int:
        def search(**executor: Any) -> DesignResult:
            return run_design(args.spec, args.preset, args.budget, args.out,
                              allow_code=args.allow_code, robustness=args.robustness,
                              **executor)  # fmt: skip

        result = dispatch(search, args.workers, args.scheduler)
        for path in result.packages:
            print(path)
        print(args.out / "front.csv")
        return EXIT_OK

    return guarded("design", body)

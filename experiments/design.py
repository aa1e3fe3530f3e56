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
``[design] robustness``: the mean over the uncertainty sample, or its 10th percentile of
the better-is-higher value (``p10``, a cautious planner's criterion).

Each NSGA-II generation is one exploration stored under ``OUT/generations/NN`` (resumable:
rerunning the same command reuses every stored run). Outputs: ``trials.csv`` (every mix
evaluated), ``front.csv`` and ``front.md`` (the Pareto front), ``figures/front.png``, and
``front/front-NN.toml``, one policy package per front member, which ``smartcity run
--policy`` and the view load.
"""

from __future__ import annotations

import argparse
import itertools
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
    dask_executor,
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
DPI = 120
Envelope = number(0.0, 1.0)


@dataclass(frozen=True)
class DesignResult:
    """What a design found.

    Attributes:
        trials: every mix evaluated: generation, trial, mix, title, lever values, the
            robust value of each objective and whether it is on the front.
        front: the Pareto front (rows of ``trials``), best first by the first objective.
        packages: the front members' package files.
    """

    trials: pd.DataFrame
    front: pd.DataFrame
    packages: list[Path]


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
    add_out_option(parser)
    add_executor_options(parser)
    add_allow_code_option(parser)
    parser.set_defaults(handler=command_design)


def design_raw(raw: Mapping[str, Any], preset: str, budget: float) -> dict[str, Any]:
    """The spec as run: one preset, every mix at the equal envelope ``budget``."""
    if not 0.0 <= budget <= 1.0:
        raise SpecError(f"--budget {budget:g} is out of range; use a share from 0 to 1")
    overrides = {
        **dict(raw.get("overrides", {})),
        "government.budget": "equal",
        "government.spending_envelope": float(budget),
    }
    return {**dict(raw), "presets": [preset], "overrides": overrides}


def robust_value(values: np.ndarray, direction: str, robustness: str) -> float:
    """The robust value of one objective over the uncertainty sample (NaN if a run failed)."""
    if np.isnan(values).any() or not len(values):
        return float("nan")
    if robustness == "mean":
        return float(values.mean())
    low = LOW_PERCENTILE if direction == "maximize" else 100 - LOW_PERCENTILE
    return float(np.percentile(values, low))


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
) -> DesignResult:
    """Search the levers of a spec for one city at the envelope ``budget``; write the front.

    Raises:
        SpecError: the spec or the options are invalid (nothing is written).
        StoreError: OUT holds a design of other settings.
        SweepInterruptedError: Ctrl-C (stored runs are kept; rerun to continue).
    """
    import optuna

    out = Path(out)
    raw = design_raw(read_toml(spec_path, "design spec", SpecError), preset, budget)
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
    directions = [o.direction for o in outcomes]
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
        for trial, (policy, values) in zip(trials, gen.mixes.items(), strict=True):
            name = Path(policy).stem
            runs = table[table["policy"] == name]
            scores = [
                robust_value(runs[o.name].to_numpy(float), o.direction, settings.robustness)
                for o in outcomes
            ]
            if any(np.isnan(scores)):
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, scores)
            rows.append(
                {
                    "generation": index,
                    "trial": trial.number,
                    "mix": f"{GENERATIONS_DIR}/{index:02d}/{name}",
                    "title": model.package_title(policy),
                    "package_file": policy,
                    **values,
                    **{o.name: s for o, s in zip(outcomes, scores, strict=True)},
                }
            )
    trials_table = pd.DataFrame(rows)
    best = {trial.number for trial in study.best_trials}
    trials_table["on_front"] = trials_table["trial"].isin(best)
    first_objective = outcomes[0].name
    front = trials_table[trials_table["on_front"]].sort_values(
        first_objective, ascending=outcomes[0].direction == "minimize"
    )
    # Equal mixes proposed twice are one front member.
    levers = [lever.key for lever in probe.levers]
    front = front.drop_duplicates(levers).reset_index(drop=True)
    packages = write_front(front, out, preset, budget)
    citizens = probe.spec.overrides.get("citizens.count", "preset default")
    note = (
        f"{preset} at envelope {budget:g}; each mix: {len(probe.scenarios)} uncertainty "
        f"points x {probe.spec.replications} replication(s), {citizens} citizens, "
        f"{probe.spec.years} years; robustness: {settings.robustness} over the points"
    )
    trials_table.drop(columns="package_file").to_csv(out / "trials.csv", index=False)
    front.drop(columns="package_file").assign(
        package=[str(p.relative_to(out)) for p in packages]
    ).to_csv(out / "front.csv", index=False)
    (out / "front.md").write_text(front_markdown(front, levers, outcomes, note), "utf-8")
    (out / "figures").mkdir(exist_ok=True)
    plot_front(trials_table, [o.name for o in outcomes], note, out / "figures" / "front.png")
    return DesignResult(trials_table, front, packages)


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


def front_markdown(front: pd.DataFrame, levers: list[str], outcomes: Any, note: str) -> str:
    """The Pareto front as Markdown: a row per member with its levers and objectives."""
    header = ["#", *levers, *(f"{o.name} ({o.direction[:3]})" for o in outcomes)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for rank, row in front.reset_index(drop=True).iterrows():
        cells = [str(rank)]
        cells += [_cell(row[key]) for key in levers]
        cells += [f"{row[o.name]:+.4f}" for o in outcomes]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\n{note}.\n"


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)


def plot_front(trials: pd.DataFrame, objectives: list[str], note: str, path: Path) -> Path:
    """Every evaluated mix (grey) and the front (red), one panel per pair of objectives."""
    pairs = list(itertools.combinations(objectives, 2)) or [(objectives[0], objectives[0])]
    from matplotlib.figure import Figure  # matplotlib: only when figures are drawn

    fig = Figure(figsize=(4.6 * len(pairs), 4.2))
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


def command_design(args: argparse.Namespace) -> int:
    """Handler of `smartcity design`."""

    def body() -> int:
        options = {"allow_code": args.allow_code}
        if args.scheduler:
            with dask_executor(args.scheduler) as (executor, slots):
                result = run_design(args.spec, args.preset, args.budget, args.out,
                                    executor=executor, slots=slots, **options)  # fmt: skip
        else:
            result = run_design(
                args.spec, args.preset, args.budget, args.out, workers=args.workers, **options
            )
        for path in result.packages:
            print(path)
        print(args.out / "front.csv")
        return EXIT_OK

    return guarded("design", body)

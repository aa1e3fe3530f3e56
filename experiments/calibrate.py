"""Calibration: fit named free parameters of a preset to target patterns with Optuna.

A calibration spec (TOML) names a preset (and policy package), the free parameters with
their search bounds, and the targets: a metric, the year at which it is read and the value
it should take. Each trial draws parameter values from Optuna's sampler, runs the city under
``replications`` seeds (the same seeds in every trial: common random numbers, so the loss
surface is not blurred by seed noise), averages each target metric over the replications and
scores the trial by the weighted mean squared relative error::

    loss = sum_t w_t ((mean_t - target_t) / scale_t)^2 / sum_t w_t

where ``scale_t`` is the target's ``scale`` or, by default, ``|target_t|``. The best trial
is written as a preset TOML that ``extends`` the calibrated preset, beside a trace of every
trial (``trace.csv``) and a manifest. The interface follows Starsim's ``Calibration`` class
(free parameters with bounds, a run function, a loss over components, an Optuna study).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from smartcity.experiments import model
from smartcity.experiments.cli_kit import (
    add_limit_option,
    add_out_option,
    add_record_option,
    check_out,
    guarded,
    limits_of,
    positive_int,
)
from smartcity.experiments.limits import DEFAULT_LIMITS, Limits
from smartcity.experiments.provenance import provenance
from smartcity.experiments.runner import local_executor
from smartcity.experiments.spec import (
    MAX_ROOT_SEED,
    MetricName,
    Overrides,
    SpecError,
    flat_table,
)
from smartcity.simulation.world.schema import (
    Number,
    Schema,
    did_you_mean,
    read_toml,
    toml_text,
    validate,
)

SAMPLERS = ("tpe", "random", "qmc")
# The city size a calibration runs at is a speed choice, not part of the fitted city: the
# written preset leaves it out (a small city is a scaled copy of a large one).
SIZE_KEY = "citizens.count"
BEST_SHARE = 0.1  # the best trials whose spread is reported: this share, at least 3
DPI = 120


@dataclass(frozen=True)
class FreeParameter:
    """A parameter the calibration searches.

    Attributes:
        key: ``section.name`` of a numeric model parameter.
        low, high: search bounds, inside the parameter's documented range.
        log: search on a log scale (bounds must then be positive).
        guess: a first trial's value (None: the sampler starts on its own).
    """

    key: str
    low: float
    high: float
    log: bool = False
    guess: float | None = None


@dataclass(frozen=True)
class Target:
    """A pattern the calibrated city should show.

    Attributes:
        metric: a metric of the model (``smartcity params``/docs/ODD.md list them).
        year: the simulated year at which it is read (0 = the initial state).
        value: the target value, in the metric's unit.
        weight: the target's weight in the loss.
        scale: the error scale (default: ``|value|``, so the error is relative).
    """

    metric: str
    year: float
    value: float
    weight: float = 1.0
    scale: float | None = None

    def error(self, simulated: float) -> float:
        """The scaled error of a simulated value against this target."""
        scale = self.scale if self.scale is not None else abs(self.value)
        return (simulated - self.value) / (scale if scale > 0 else 1.0)


@dataclass(frozen=True)
class CalibrationSpec:
    """A validated calibration: what to fit, to what, and how hard to search."""

    preset: str
    parameters: list[FreeParameter]
    targets: list[Target]
    years: float
    policy: str = model.BASELINE_POLICY
    replications: int = 2
    root_seed: int = 0
    trials: int = 40
    sampler: str = "tpe"
    overrides: dict[str, Any] = field(default_factory=dict)
    name: str = ""

    def seeds(self) -> list[np.random.SeedSequence]:
        """The replications' seeds, the same in every trial."""
        return [
            np.random.SeedSequence(self.root_seed, spawn_key=(0, r))
            for r in range(self.replications)
        ]


class FreeParameterTable(Schema):
    """A ``[parameters."section.name"]`` table of a calibration spec."""

    low: Number = Field(description="lower search bound, in the parameter's unit")
    high: Number = Field(description="upper search bound, in the parameter's unit")
    log: bool = Field(default=False, description="search on a log scale (low > 0)")
    guess: Number | None = Field(default=None, description="the first trial's value")


class TargetTable(Schema):
    """A ``[[targets]]`` table of a calibration spec."""

    metric: MetricName
    year: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(
        description="simulated year at which the metric is read (0 = the initial state)"
    )
    value: Number = Field(description="the target value, in the metric's unit")
    weight: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    scale: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="error scale (default: |value|, a relative error)"
    )


class CalibrationSchema(Schema):
    """A calibration spec file (``smartcity calibrate``)."""

    name: str = ""
    preset: str = Field(description="the preset to calibrate: a shipped name or a .toml path")
    policy: str = Field(default=model.BASELINE_POLICY, description="policy package of the runs")
    years: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    replications: Annotated[int, Field(ge=1)] = 2
    root_seed: Annotated[int, Field(ge=0, le=MAX_ROOT_SEED)] = 0
    trials: Annotated[int, Field(ge=1)] = 40
    sampler: Literal[SAMPLERS] = "tpe"
    overrides: Overrides = Field(default_factory=dict)
    parameters: Annotated[dict[str, FreeParameterTable], Field(min_length=1)]
    targets: Annotated[list[TargetTable], Field(min_length=1)]


def load_calibration_spec(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> CalibrationSpec:
    """Read and validate a calibration spec TOML file.

    Raises:
        SpecError: the file is missing, not UTF-8 TOML, or names an invalid calibration.
        InputError: the calibration asks for more runs or steps than ``limits`` allow.
    """
    raw = read_toml(path, "calibration spec", SpecError)
    return parse_calibration_spec(raw, str(path), limits)


def parse_calibration_spec(
    raw: Mapping[str, Any], source: str = "calibration spec", limits: Limits = DEFAULT_LIMITS
) -> CalibrationSpec:
    """Validate a calibration spec given as a mapping (the parsed TOML).

    Raises:
        SpecError: one line naming the key, the value and what is allowed.
        InputError: trials x replications runs, or years x steps per year, above ``limits``.
    """
    table = validate(CalibrationSchema, raw, source, SpecError)
    limits.check(
        "runs",
        table.trials * table.replications,
        f"{source}: {table.trials:,} trials x {table.replications:,} replication(s)",
    )
    if not model.is_preset(table.preset):
        raise SpecError(
            f"{source}: unknown preset {table.preset!r}"
            f"{did_you_mean(table.preset, model.preset_names())} "
            f"(available: {', '.join(model.preset_names())})"
        )
    if not model.is_policy(table.policy):
        raise SpecError(f"{source}: unknown policy package {table.policy!r}"
                        f"{did_you_mean(table.policy, model.policy_names())}")  # fmt: skip
    overrides = flat_table(table.overrides)
    # The fixed overrides must resolve on their own (a typo fails here, not in trial 1).
    resolved = model.resolve_point(table.preset, overrides, table.policy)
    limits.check_steps(table.years, resolved["simulation.steps_per_year"])
    parameters = []
    for key, entry in table.parameters.items():
        where = f"{source}: parameters.{key}"
        if not entry.low < entry.high:
            raise SpecError(f"{where}: low must be below high, got {entry.low} and {entry.high}")
        if entry.log and entry.low <= 0:
            raise SpecError(f"{where}: a log-scale search needs low > 0, got {entry.low}")
        if entry.guess is not None and not entry.low <= entry.guess <= entry.high:
            raise SpecError(f"{where}: guess {entry.guess} is outside {entry.low}..{entry.high}")
        # Both bounds must be valid values of the parameter (name, type and range).
        for bound in (entry.low, entry.high):
            model.resolve_point(table.preset, {**overrides, key: bound}, table.policy)
        parameters.append(FreeParameter(key, entry.low, entry.high, entry.log, entry.guess))
    for i, target in enumerate(table.targets):
        if target.year > table.years:
            raise SpecError(
                f"{source}: targets[{i}].year {target.year:g} is after the horizon "
                f"(years = {table.years:g})"
            )
    if sum(t.weight for t in table.targets) <= 0:
        raise SpecError(f"{source}: targets: at least one target needs a weight above 0")
    return CalibrationSpec(
        preset=table.preset,
        policy=table.policy,
        parameters=parameters,
        targets=[Target(t.metric, t.year, t.value, t.weight, t.scale) for t in table.targets],
        years=table.years,
        replications=table.replications,
        root_seed=table.root_seed,
        trials=table.trials,
        sampler=table.sampler,
        overrides=overrides,
        name=table.name,
    )


@dataclass
class CalibrationResult:
    """What a calibration found.

    Attributes:
        best: the best trial's parameter values.
        loss: its loss.
        simulated: its replication-mean value of each target metric.
        trace: one row per trial: trial number, parameter values, each target's simulated
            mean and the loss.
    """

    best: dict[str, float]
    loss: float
    simulated: dict[str, float]
    trace: pd.DataFrame


def simulate_targets(
    spec: CalibrationSpec,
    values: Mapping[str, float],
    executor: Executor,
    run_fn: Callable[..., pd.DataFrame] = model.run_city,
) -> list[float]:
    """Run the city under every replication's seed with ``values``; return each target's
    mean over the replications, in the order of ``spec.targets``."""
    return [float(m) for m in simulate_readings(spec, values, executor, run_fn).mean(axis=0)]


def simulate_readings(
    spec: CalibrationSpec,
    values: Mapping[str, float],
    executor: Executor,
    run_fn: Callable[..., pd.DataFrame] = model.run_city,
) -> np.ndarray:
    """Run the city under every replication's seed with ``values``; return the readings,
    one row per replication, one column per target (in the order of ``spec.targets``)."""
    overrides = {**spec.overrides, **values}
    futures = [
        executor.submit(
            run_fn,
            spec.preset,
            seed=seed,
            years=spec.years,
            overrides=overrides,
            policy=spec.policy,
        )
        for seed in spec.seeds()
    ]
    frames = [future.result() for future in futures]
    return np.array([[_read(frame, target) for target in spec.targets] for frame in frames])


def _read(frame: pd.DataFrame, target: Target) -> float:
    """The metric at the kept step nearest to the target's year."""
    row = (frame["year"] - target.year).abs().idxmin()
    return float(frame.loc[row, target.metric])


def loss_of(spec: CalibrationSpec, simulated: list[float]) -> float:
    """Weighted mean squared scaled error of the simulated target values."""
    weights = np.array([t.weight for t in spec.targets])
    errors = np.array([t.error(s) for t, s in zip(spec.targets, simulated, strict=True)])
    return float((weights * errors**2).sum() / weights.sum())


def _sampler(spec: CalibrationSpec) -> Any:
    import optuna

    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.root_seed)
    if spec.sampler == "qmc":
        return optuna.samplers.QMCSampler(seed=spec.root_seed, scramble=True)
    return optuna.samplers.TPESampler(seed=spec.root_seed, n_startup_trials=min(10, spec.trials))


def calibrate(
    spec: CalibrationSpec,
    *,
    workers: int = 1,
    progress: bool = False,
    run_fn: Callable[..., pd.DataFrame] = model.run_city,
    record: str | int = "step",
) -> CalibrationResult:
    """Search the free parameters for the smallest loss.

    Trials run one after another (the sampler learns from each), each trial's replications
    in parallel on ``workers`` local processes; the result does not depend on ``workers``.
    ``record`` chooses the steps the runs compute (a target is read at the recorded step
    nearest its year, so "yearly" reads integer-year targets exactly).
    """
    if record != "step":
        run_fn = functools.partial(run_fn, record=record)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=_sampler(spec))
    guesses = {p.key: p.guess for p in spec.parameters if p.guess is not None}
    if guesses:
        study.enqueue_trial(guesses)
    rows = []
    executor = local_executor(min(workers, spec.replications))
    try:
        for number in range(spec.trials):
            trial = study.ask()
            values = {
                p.key: trial.suggest_float(p.key, p.low, p.high, log=p.log) for p in spec.parameters
            }
            readings = simulate_readings(spec, values, executor, run_fn)
            simulated = [float(m) for m in readings.mean(axis=0)]
            loss = loss_of(spec, simulated)
            study.tell(trial, loss)
            # Each replication's own loss: how much of the fit is one seed's luck.
            alone = [loss_of(spec, [float(v) for v in row]) for row in readings]
            rows.append(
                {
                    "trial": number,
                    **values,
                    **dict(zip(_target_columns(spec), simulated, strict=True)),
                    "loss": loss,
                    **{f"loss:replication {r}": v for r, v in enumerate(alone)},
                }
            )
            if progress:
                print(f"trial {number + 1}/{spec.trials}: loss {loss:.4g}", file=sys.stderr)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    trace = pd.DataFrame(rows)
    best_row = trace.loc[trace["loss"].idxmin()]
    return CalibrationResult(
        best={p.key: float(best_row[p.key]) for p in spec.parameters},
        loss=float(best_row["loss"]),
        simulated={k: float(best_row[k]) for k in _target_columns(spec)},
        trace=trace,
    )


def _target_columns(spec: CalibrationSpec) -> list[str]:
    """The trace's column of each target's simulated mean, in the order of spec.targets."""
    return [f"sim:{t.metric}@{t.year:g}" for t in spec.targets]


def preset_toml(spec: CalibrationSpec, result: CalibrationResult) -> str:
    """A preset TOML that extends the calibrated preset with the best values."""
    base = spec.preset if spec.preset in model.preset_names() else str(Path(spec.preset).resolve())
    size = spec.overrides.get(SIZE_KEY)
    document: dict[str, Any] = {"extends": base}
    kept = {k: v for k, v in spec.overrides.items() if k != SIZE_KEY}
    for key, value in {**kept, **result.best}.items():
        section, name = key.split(".", 1)
        document.setdefault(section, {})[name] = value
    return toml_text(
        document,
        f"Calibrated by `smartcity calibrate` ({spec.name or 'unnamed spec'}): "
        f"loss {result.loss:.4g} over {spec.trials} trials, {spec.replications} replications"
        + (f", at {size} citizens (not kept: run it at any size)." if size else "."),
    )


def best_trials(trace: pd.DataFrame) -> pd.DataFrame:
    """The lowest-loss trials: BEST_SHARE of them, at least 3 (or all there are)."""
    count = min(len(trace), max(3, int(np.ceil(BEST_SHARE * len(trace)))))
    return trace.nsmallest(count, "loss")


def uncertainty_table(spec: CalibrationSpec, result: CalibrationResult) -> pd.DataFrame:
    """Per free parameter: the best value and the spread of the best trials (mean, sd,
    min, max), with their number, so a flat loss surface shows as a wide spread."""
    best = best_trials(result.trace)
    return pd.DataFrame(
        [
            {
                "parameter": p.key,
                "best": result.best[p.key],
                "best_trials": len(best),
                "mean": best[p.key].mean(),
                "sd": best[p.key].std(ddof=1) if len(best) > 1 else 0.0,
                "min": best[p.key].min(),
                "max": best[p.key].max(),
                "low_bound": p.low,
                "high_bound": p.high,
            }
            for p in spec.parameters
        ]
    )


def plot_profile(spec: CalibrationSpec, result: CalibrationResult, path: Path) -> Path:
    """The loss profile along each free parameter: every trial's loss at its value (log
    scale), the best trials in colour and the best ringed."""
    from matplotlib.figure import Figure

    trace = result.trace
    best = best_trials(trace)
    fig = Figure(figsize=(4.6 * len(spec.parameters), 3.8))
    axes = fig.subplots(1, len(spec.parameters), squeeze=False)[0]
    for ax, parameter in zip(axes, spec.parameters, strict=True):
        ax.scatter(trace[parameter.key], trace["loss"], s=14, color="0.6", label="trial")
        ax.scatter(best[parameter.key], best["loss"], s=20, color="tab:blue",
                   label=f"best {len(best)} trials")  # fmt: skip
        ax.scatter([result.best[parameter.key]], [result.loss], s=120, facecolors="none",
                   edgecolors="red", label="best")  # fmt: skip
        ax.set_xlabel(parameter.key)
        ax.set_ylabel("loss")
        if (trace["loss"] > 0).all():
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.suptitle(
        f"Loss profile: {spec.trials} trials, {spec.replications} replications each "
        f"(common seeds), {spec.overrides.get(SIZE_KEY, 'preset default')} citizens, "
        f"{spec.years:g} years",
        fontsize="medium",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def write_outputs(spec: CalibrationSpec, result: CalibrationResult, out: Path) -> list[Path]:
    """Write best.toml, trace.csv, uncertainty.csv, profile.png and calibration.json."""
    out.mkdir(parents=True, exist_ok=True)
    best = out / "best.toml"
    best.write_text(preset_toml(spec, result), encoding="utf-8")
    trace = out / "trace.csv"
    result.trace.to_csv(trace, index=False)
    spread = out / "uncertainty.csv"
    uncertainty_table(spec, result).to_csv(spread, index=False)
    profile = plot_profile(spec, result, out / "profile.png")
    best_row = result.trace.loc[result.trace["loss"].idxmin()]
    per_replication = {
        column.split(":", 1)[1]: float(best_row[column])
        for column in result.trace.columns
        if column.startswith("loss:")
    }
    manifest = out / "calibration.json"
    manifest.write_text(
        json.dumps(
            {
                "spec": asdict(spec),
                "loss": "weighted mean of ((simulated - target) / scale)^2, scale = |target|"
                " unless given",
                "best": result.best,
                "best_loss": result.loss,
                "best_loss_per_replication": per_replication,
                "simulated": result.simulated,
                "uncertainty": f"spread of the best {BEST_SHARE:.0%} of trials (at least 3): "
                "uncertainty.csv; loss along each parameter: profile.png",
                **provenance(),
            },
            indent=2,
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    return [best, trace, spread, profile, manifest]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `calibrate` subcommand."""
    parser = subparsers.add_parser(
        "calibrate",
        help="fit free parameters of a preset to target patterns (Optuna)",
        description="Fit the free parameters named in SPEC to its targets; write OUT/best.toml "
        "(a preset extending the calibrated one), OUT/trace.csv and OUT/calibration.json.",
    )
    parser.add_argument("spec", type=Path, help="calibration spec (TOML)")
    add_out_option(parser)
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="local worker processes for each trial's replications (results do not depend on it)",
    )
    add_limit_option(parser)
    add_record_option(parser)
    parser.set_defaults(handler=command_calibrate)


def command_calibrate(args: argparse.Namespace) -> int:
    """Run a calibration from the command line."""

    def body() -> int:
        spec = load_calibration_spec(args.spec, limits_of(args))
        # Before any trial: a read-only, full or dangling --out fails now, not after them.
        check_out(args.out)
        result = calibrate(spec, workers=args.workers, progress=True, record=args.record)
        for path in write_outputs(spec, result, args.out):
            print(path)
        print(f"best loss {result.loss:.4g}: " + ", ".join(
            f"{k} = {v:.6g}" for k, v in result.best.items()))  # fmt: skip
        return 0

    return guarded("calibrate", body)

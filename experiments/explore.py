"""`smartcity explore`: uncertainties x levers through the batch runner, as one tidy table.

An exploration (exploratory modelling in the manner of EMA Workbench) crosses a sample of
the *uncertainties* (model parameters whose value nobody knows well: effect sizes, city
conditions) with a sample of the *levers* (what a city decides: which initiatives at what
scale and start year, their financing, the unified data platform, the capability budget),
and measures *outcomes* (a metric at a year, or its paired difference to a reference
package). White paper 5.1 argues a path pays only where the city's conditions give it
something to act on; an exploration asks over how much of the plausible range that holds.

Each uncertainty point is a design point of an ordinary sweep, each lever mix a policy
package written as TOML into ``OUT/packages/``; so an exploration runs on the local pool
or a Dask cluster, is stored run by run in the Parquet store, resumes after an interruption
and gives the same bytes whatever the number of workers. Seeds: the run of mix m at point
p, replication r has SeedSequence(root_seed, spawn_key=(p, r)) whatever m is, so every mix
and its reference share random numbers (paired differences).

Output: ``OUT/experiments.parquet``, one row per run (inputs, seed, outcomes), read
directly by EMA Workbench, pandas or DuckDB; ``OUT/exploration.json`` the spec, samples and
versions.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from smartcity.experiments import model, store
from smartcity.experiments.cli_kit import (
    EXIT_OK,
    EXIT_RUNS_FAILED,
    add_allow_code_option,
    add_executor_options,
    add_out_option,
    add_resume_option,
    dispatch,
    finish,
    guarded,
)
from smartcity.experiments.compare import labelled
from smartcity.experiments.provenance import provenance
from smartcity.experiments.runner import RunFunction, SweepReport, check_store, run_sweep
from smartcity.experiments.spec import (
    MAX_ROOT_SEED,
    ExperimentSpec,
    SpecError,
    flat_table,
    parse_spec,
)
from smartcity.simulation.world.schema import (
    Schema,
    did_you_mean,
    read_toml,
    toml_text,
    validate,
)

SAMPLERS = ("lhs", "sobol", "factorial")
EXPLORATION = "exploration.json"
EXPERIMENTS = "experiments.parquet"
PACKAGES_DIR = "packages"
# Package fields a lever may set, and under initiatives.NAME the plan fields.
LEVER_ROOTS = ("unified_platform", "platform_cost", "capabilities", "initiatives",
               "new_infrastructure", "sectors")  # fmt: skip
PLAN_FIELDS = ("scale", "start_year", "financing", "enabled")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Sampler streams: the uncertainty and the lever samples draw from different seeds.
UNCERTAINTY_STREAM, LEVER_STREAM = 0, 1

Scalar = bool | int | float | str
MetricName = Literal[tuple(model.metric_units())]


class OutcomeTable(Schema):
    """One ``[outcomes.NAME]`` table."""

    metric: MetricName
    year: Annotated[int, Field(ge=1, description="model year; default: the last")] | None = None
    paired: bool = Field(
        default=False,
        description="minus the reference package's run with the same seed (paired difference)",
    )
    direction: Literal["maximize", "minimize"] = Field(
        default="maximize", description="for `smartcity design`: which way is better"
    )


class SamplerTable(Schema):
    """The ``[sampler]`` table."""

    method: Literal[SAMPLERS] = "lhs"
    scenarios: Annotated[
        int, Field(ge=1, description="uncertainty points (factorial: levels per range)")
    ] = 8
    mixes: Annotated[int, Field(ge=1, description="lever mixes (factorial: levels per range)")] = 4
    seed: Annotated[int, Field(ge=0, description="seed of the sampler")] = 0


class DesignTable(Schema):
    """The ``[design]`` table read by `smartcity design`."""

    generations: Annotated[int, Field(ge=1)] = 4
    population: Annotated[int, Field(ge=2, description="mixes per NSGA-II generation")] = 8
    robustness: Literal["mean", "p10", "regret"] = Field(
        default="mean",
        description="over the uncertainty sample: the mean, the 10th percentile of the "
        "better-is-higher value (the 90th of a minimized outcome), or the maximum regret "
        "(Savage's minimax regret: in each scenario, the best outcome of every mix evaluated "
        "on it minus the mix's own, then the worst scenario)",
    )
    seed: Annotated[int, Field(ge=0)] = 0


class ExploreSchema(Schema):
    """An exploration spec file (the explore and design spec file format)."""

    name: str = ""
    presets: str | list[str] = Field(description="city presets: shipped names or .toml paths")
    policies: str | list[str] = Field(
        default="baseline",
        description="packages explored as they are; with [levers]: the package they change",
    )
    reference: str = Field(default="baseline", description="package of paired differences")
    years: Annotated[int, Field(ge=1)]
    replications: Annotated[int, Field(ge=1)] = 1
    root_seed: Annotated[int, Field(ge=0, le=MAX_ROOT_SEED)]
    overrides: dict[str, Scalar | dict[str, Scalar]] = Field(default_factory=dict)
    uncertainties: dict[str, Any] = Field(
        default_factory=dict,
        description='"section.name" = [low, high], or = {values = [...]} for a discrete set',
    )
    levers: dict[str, Any] = Field(
        default_factory=dict,
        description="package fields: unified_platform, capabilities.NAME, "
        "initiatives.NAME.scale|start_year|financing|enabled, new_infrastructure.KIND, "
        "sectors.NAME = [low, high] or {values = [...]}",
    )
    outcomes: dict[str, OutcomeTable]
    sampler: SamplerTable = Field(default_factory=SamplerTable)
    design: DesignTable | None = None


@dataclass(frozen=True)
class Factor:
    """One uncertainty or lever: a continuous range [low, high] or a discrete set of values.

    Attributes:
        key: the parameter ("section.name") or package field ("initiatives.X.scale").
        low, high: the range of a continuous factor (None for a discrete one).
        values: the values of a discrete factor (empty for a continuous one).
        integer: round sampled values (an integer parameter).
    """

    key: str
    low: float | None = None
    high: float | None = None
    values: tuple[Scalar, ...] = ()
    integer: bool = False

    def levels(self, count: int) -> list[Scalar]:
        """Return the values of a full-factorial design: `count` even steps, or every value."""
        if self.values:
            return list(self.values)
        assert self.low is not None and self.high is not None
        return [self.value_at(u) for u in np.linspace(0.0, 1.0, count)]

    def value_at(self, u: float) -> Scalar:
        """Map a unit-interval coordinate to the factor's value."""
        if self.values:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.low is not None and self.high is not None
        value = self.low + float(u) * (self.high - self.low)
        return round(value) if self.integer else value


@dataclass(frozen=True)
class Outcome:
    """One outcome: a metric at a year, optionally paired with the reference package."""

    name: str
    metric: str
    year: int
    paired: bool
    direction: str


@dataclass(frozen=True)
class Exploration:
    """A validated exploration, ready to run.

    Attributes:
        spec: the sweep behind it: presets x (reference and mixes) x scenarios x
            replications.
        uncertainties, levers: the factors, in spec order.
        scenarios: the uncertainty values of each design point.
        mixes: {policy as run: lever values}; for an exploration without levers, the
            packages of ``policies`` with no lever values.
        packages: {file name: TOML text} of the generated mix packages.
        outcomes: the outcomes.
        reference: the package of paired differences.
        raw: the spec as read (recorded in exploration.json).
        design: the [design] table, if any.
    """

    spec: ExperimentSpec
    uncertainties: tuple[Factor, ...]
    levers: tuple[Factor, ...]
    scenarios: tuple[dict[str, Scalar], ...]
    mixes: dict[str, dict[str, Scalar]]
    packages: dict[str, str]
    outcomes: tuple[Outcome, ...]
    reference: str
    raw: dict[str, Any]
    design: DesignTable | None = None

    @property
    def paired(self) -> bool:
        """Whether some outcome is a paired difference (the reference then runs too)."""
        return any(o.paired for o in self.outcomes)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `explore` subcommand; the handler is `args.handler(args) -> exit status`."""
    parser = subparsers.add_parser(
        "explore",
        help="run uncertainties x levers of an exploration spec into one tidy table",
        description="Sample SPEC's [uncertainties] and [levers], run every mix at every "
        "uncertainty point (resumable, paired seeds) and write OUT/experiments.parquet: one "
        "row per run with its inputs, seed and [outcomes].",
    )
    parser.add_argument("spec", type=Path, help="exploration spec (TOML)")
    add_out_option(parser)
    add_executor_options(parser)
    add_resume_option(parser, "exploration")
    add_allow_code_option(parser)
    parser.set_defaults(handler=command_explore)


def _flat_factors(table: Mapping[str, Any], where: str, prefix: str = "") -> dict[str, Any]:
    """Flatten nested TOML tables down to the factors (a list or a {values = [...]} table)."""
    flat: dict[str, Any] = {}
    for key, item in table.items():
        full = f"{prefix}{key}"
        if isinstance(item, dict) and "values" not in item:
            if not item:
                raise SpecError(f"[{where}] {full!r} is an empty table; give [low, high]")
            flat.update(_flat_factors(item, where, f"{full}."))
        else:
            flat[full] = item
    return flat


def _factor(key: str, item: Any, where: str, integer: bool = False) -> Factor:
    """Read one factor: [low, high] (two numbers, low < high) or {values = [...]}."""
    if isinstance(item, dict):
        extra = set(item) - {"values"}
        values = item.get("values")
        if extra:
            raise SpecError(f"[{where}] {key!r}: unknown key {sorted(extra)[0]!r}; use values")
        if not isinstance(values, list) or not values:
            raise SpecError(f"[{where}] {key!r}: values must be a non-empty list")
        if len(set(map(repr, values))) != len(values):
            raise SpecError(f"[{where}] {key!r} lists a value twice: {values!r}")
        return Factor(key, values=tuple(values))
    numeric = [v for v in item if _is_number(v)] if isinstance(item, list) else []
    if not (isinstance(item, list) and len(item) == 2 and len(numeric) == 2):
        raise SpecError(
            f"[{where}] {key!r} = {item!r}: give [low, high] (two numbers) or "
            "{values = [...]} (a discrete set)"
        )
    low, high = float(item[0]), float(item[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise SpecError(f"[{where}] {key!r} needs finite low < high, got [{low:g}, {high:g}]")
    return Factor(key, low=low, high=high, integer=integer)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def draw(factors: Sequence[Factor], count: int, method: str, seed: int, stream: int) -> list[dict]:
    """Return the sample of the factors: `count` points (LHS, Sobol) or the full factorial.

    Args:
        factors: the factors; none gives one empty point.
        count: points (lhs, sobol: a power of two) or levels per continuous range
            (factorial).
        method: "lhs", "sobol" or "factorial".
        seed: seed of the sampler; with `stream`, it makes the draw reproducible.
        stream: which of the spec's samples this is (uncertainties 0, levers 1).

    Returns:
        One {key: value} per point.
    """
    if not factors:
        return [{}]
    keys = [f.key for f in factors]
    if method == "factorial":
        combos = itertools.product(*(f.levels(count) for f in factors))
        return [dict(zip(keys, combo, strict=True)) for combo in combos]
    from scipy.stats import qmc  # imported here: `smartcity` commands start faster without it

    rng = np.random.default_rng([seed, stream])
    if method == "sobol":
        unit = qmc.Sobol(d=len(factors), scramble=True, seed=rng).random_base2(
            int(math.log2(count))
        )
    else:
        unit = qmc.LatinHypercube(d=len(factors), seed=rng).random(count)
    return [{f.key: f.value_at(u) for f, u in zip(factors, row, strict=True)} for row in unit]


def _check_lever_key(key: str) -> None:
    parts = key.split(".")
    root = parts[0]
    if root not in LEVER_ROOTS:
        raise SpecError(
            f"[levers] {key!r}: {root!r} is not a package field a lever can set"
            f"{did_you_mean(root, LEVER_ROOTS)}; use one of {', '.join(LEVER_ROOTS)}"
        )
    depth = {"unified_platform": 1, "platform_cost": 1, "initiatives": 3}.get(root, 2)
    if len(parts) != depth:
        form = {1: root, 2: f"{root}.NAME", 3: "initiatives.NAME.FIELD"}[depth]
        raise SpecError(f"[levers] {key!r}: write it as {form}")
    if root == "initiatives" and parts[2] not in PLAN_FIELDS:
        raise SpecError(
            f"[levers] {key!r}: {parts[2]!r} is not an initiative plan field"
            f"{did_you_mean(parts[2], PLAN_FIELDS)}; use one of {', '.join(PLAN_FIELDS)}"
        )


def mix_package(base: Mapping[str, Any], values: Mapping[str, Scalar], title: str) -> dict:
    """Return the package table of one lever mix: the base package with the levers set.

    ``initiatives.NAME.enabled = false`` leaves the initiative out; any other plan field
    adds the initiative when the base package does not have it.
    """
    package = json.loads(json.dumps(base))  # a deep copy of plain TOML data
    package.pop("home", None)  # a mix is not a white-paper path
    package["title"] = title
    package["description"] = "A lever mix of an exploration: " + lever_text(values)
    package["source"] = "smartcity explore"
    dropped = set()
    for key, value in values.items():
        parts = key.split(".")
        if parts[0] == "initiatives":
            name, field_name = parts[1], parts[2]
            if field_name == "enabled":
                if not value:
                    dropped.add(name)
                package.setdefault("initiatives", {}).setdefault(name, {})
                continue
            package.setdefault("initiatives", {}).setdefault(name, {})[field_name] = value
        elif len(parts) == 1:
            package[parts[0]] = value
        else:
            package.setdefault(parts[0], {})[parts[1]] = value
    for name in dropped:
        package["initiatives"].pop(name, None)
    return package


def lever_text(values: Mapping[str, Scalar]) -> str:
    """Return 'key value, ...' of a mix's levers (numbers to 3 significant digits)."""
    return ", ".join(
        f"{key} {value:.3g}" if _is_number(value) else f"{key} {str(value).lower()}"
        for key, value in values.items()
    )


def load_exploration(
    path: str | Path, out: str | Path, *, allow_code: bool = False, require_levers: bool = False
) -> Exploration:
    """Read and validate an exploration spec whose packages will live in OUT/packages.

    Every factor, every generated package and every (preset, package, point) is checked by
    the model's own validation before anything is written; the generated packages are
    validated in a temporary folder.

    Raises:
        SpecError: the spec is invalid (one line naming the key and what is allowed).
    """
    raw = read_toml(path, "exploration spec", SpecError)
    return parse_exploration(
        raw, str(path), out, allow_code=allow_code, require_levers=require_levers
    )


def parse_exploration(
    raw: Mapping[str, Any],
    source: str,
    out: str | Path,
    *,
    allow_code: bool = False,
    require_levers: bool = False,
    lever_points: Sequence[Mapping[str, Scalar]] | None = None,
) -> Exploration:
    """Validate an exploration given as a mapping (the parsed TOML); see `load_exploration`.

    Args:
        lever_points: the lever mixes to run instead of the sampler's (`smartcity design`
            passes each generation's).
    """
    table = validate(ExploreSchema, raw, source, SpecError)
    if not table.outcomes:
        raise SpecError(f"{source}: [outcomes] is empty; give at least one [outcomes.NAME]")
    for name in table.outcomes:
        if not NAME.match(name):
            raise SpecError(
                f"{source}: outcome name {name!r} must be a Python identifier (letters, "
                "digits, _), so that `discover --where` can use it"
            )
    sampler = table.sampler
    for count, what in ((sampler.scenarios, "scenarios"), (sampler.mixes, "mixes")):
        if sampler.method == "sobol" and count & (count - 1):
            raise SpecError(f"{source}: [sampler] {what} = {count}: Sobol needs a power of two")
    presets = [table.presets] if isinstance(table.presets, str) else list(table.presets)
    if not presets:
        raise SpecError(f"{source}: 'presets' is empty; give at least one preset")
    policies = [table.policies] if isinstance(table.policies, str) else list(table.policies)
    if not policies:
        raise SpecError(f"{source}: 'policies' is empty; give at least one package")
    defaults = model.resolve_point(presets[0], {}) if model.is_preset(presets[0]) else {}
    uncertainties = tuple(
        _factor(key, item, "uncertainties", _is_integer(defaults.get(key)))
        for key, item in _flat_factors(table.uncertainties, "uncertainties").items()
    )
    for factor in uncertainties:
        _check_uncertainty(factor, presets[0], allow_code)
    levers = tuple(
        _factor(key, item, "levers") for key, item in _flat_factors(table.levers, "levers").items()
    )
    for lever in levers:
        _check_lever_key(lever.key)
        if lever.key.endswith(".enabled") and not all(isinstance(v, bool) for v in lever.values):
            raise SpecError(f"[levers] {lever.key!r}: give {{values = [false, true]}}")
    if require_levers and not levers:
        raise SpecError(f"{source}: [levers] is empty; a design searches over levers")
    if levers and len(policies) != 1:
        raise SpecError(
            f"{source}: with [levers], 'policies' names the one package the levers change, "
            f"got {len(policies)}"
        )
    years = table.years
    outcomes = []
    for name, item in table.outcomes.items():
        year = years if item.year is None else item.year
        if year > years:
            raise SpecError(
                f"{source}: [outcomes.{name}] year = {year}, but the runs last {years} years"
            )
        outcomes.append(Outcome(name, item.metric, year, item.paired, item.direction))
    overlap = {f.key for f in uncertainties} & set(flat_table(table.overrides))
    if overlap:
        raise SpecError(f"{source}: {sorted(overlap)[0]!r} is both an uncertainty and an override")

    scenarios = draw(uncertainties, sampler.scenarios, sampler.method, sampler.seed,
                     UNCERTAINTY_STREAM)  # fmt: skip
    if lever_points is None:
        lever_points = (
            draw(levers, sampler.mixes, sampler.method, sampler.seed, LEVER_STREAM)
            if levers
            else []
        )
    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="smartcity-explore-") as tmp:
        packages = {}
        if levers:
            base = read_toml(model.package_file(policies[0]), "policy package", SpecError)
            for lever in levers:
                _check_lever(lever, base, Path(tmp), years, allow_code)
            packages = {
                f"mix-{i:03d}.toml": toml_text(
                    mix_package(base, values, f"Mix {i}: {lever_text(values)}")
                )
                for i, values in enumerate(lever_points)
            }
            for name, text in packages.items():
                (Path(tmp) / name).write_text(text, encoding="utf-8")
            tried = [str(Path(tmp) / name) for name in packages]
        else:
            tried = list(policies)
        run_policies = [table.reference, *tried] if any(o.paired for o in outcomes) else tried
        run_policies = list(dict.fromkeys(run_policies))
        spec = parse_spec(
            {
                "name": table.name or "explore",
                "presets": presets,
                "policies": run_policies,
                "replications": table.replications,
                "root_seed": table.root_seed,
                "years": years,
                "overrides": table.overrides,
                "samples": [dict(s) for s in scenarios],
                # One row per simulated year: every outcome is read at a year's end.
                "keep_every": model.steps_per_year(presets[0], flat_table(table.overrides)),
                "metrics": sorted({o.metric for o in outcomes}),
            },
            source,
            allow_code=allow_code,
        )
    if levers:
        final = [str(out / PACKAGES_DIR / name) for name in packages]
        renamed = dict(zip(tried, final, strict=True))
        spec = dataclasses.replace(
            spec,
            policies={p: [renamed.get(q, q) for q in qs] for p, qs in spec.policies.items()},
        )
        mixes = dict(zip(final, lever_points, strict=True))
    else:
        mixes = {policy: {} for policy in tried}
    return Exploration(
        spec=spec,
        uncertainties=uncertainties,
        levers=levers,
        scenarios=tuple(scenarios),
        mixes=mixes,
        packages=packages,
        outcomes=tuple(outcomes),
        reference=table.reference,
        raw=json.loads(json.dumps(dict(raw), default=str)),
        design=table.design,
    )


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_uncertainty(factor: Factor, preset: str, allow_code: bool) -> None:
    """Resolve the preset with the uncertainty at each end of its range (or each value), so
    a bad key or range is reported by its own name before any point is drawn."""
    ends = factor.values or (factor.value_at(0.0), factor.value_at(1.0))
    for value in ends:
        try:
            model.resolve_point(preset, {factor.key: value}, None, allow_code)
        except model.InputError as exc:
            raise SpecError(f"[uncertainties] {factor.key!r} = {value!r}: {exc}") from None


def _check_lever(
    lever: Factor, base: Mapping[str, Any], tmp: Path, years: int, allow_code: bool
) -> None:
    """Load the base package with the lever at each end of its range (or each value), so a
    bad lever is reported by its own key."""
    ends = lever.values or (lever.low, lever.high)
    for value in ends:
        path = tmp / "lever-check.toml"
        path.write_text(toml_text(mix_package(base, {lever.key: value}, "check")), "utf-8")
        try:
            model.check_policy(str(path), years, allow_code)
        except model.InputError as exc:
            text = str(exc).replace(str(path), "package")
            raise SpecError(f"[levers] {lever.key!r} = {value!r}: {text}") from None


def run_exploration(
    exploration: Exploration,
    out: str | Path,
    *,
    workers: int = 1,
    executor: Any = None,
    slots: int | None = None,
    resume: bool = False,
    run_fn: RunFunction | None = None,
    progress: bool = True,
) -> SweepReport:
    """Write the mix packages, run the exploration's sweep into OUT and, once every run is
    stored, write OUT/experiments.parquet.

    Args: as `runner.run_sweep`.

    Raises:
        StoreError: OUT cannot be used, or holds an exploration of another spec.
    """
    out = Path(out)
    check_store(out, exploration.spec, resume)
    record = exploration_record(exploration)
    recorded = out / EXPLORATION
    if recorded.exists() and not same_exploration(out, record):
        raise store.StoreError(
            f"output {str(out)!r} holds an exploration of another spec; choose another --out"
        )
    (out / PACKAGES_DIR).mkdir(parents=True, exist_ok=True)
    for name, text in exploration.packages.items():
        store.write_file(out / PACKAGES_DIR / name, text.encode("utf-8"))
    text = json.dumps(record, indent=2, sort_keys=True, default=str)
    store.write_file(recorded, text.encode("utf-8"))
    report = run_sweep(
        exploration.spec,
        out,
        workers=workers,
        executor=executor,
        slots=slots,
        resume=resume,
        run_fn=run_fn,
        progress=progress,
        keep=True,
    )
    if not report.interrupted:
        table = experiments_table(exploration, store.load_results(out, known=report.stored))
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pandas(table, preserve_index=False), sink)
        store.write_file(out / EXPERIMENTS, sink.getvalue().to_pybytes())
    return report


def same_exploration(out: Path, record: Mapping[str, Any]) -> bool:
    """Whether OUT's exploration.json records the same spec, samples and mixes."""
    was = json.loads((out / EXPLORATION).read_text("utf-8"))
    now = json.loads(json.dumps(record, default=str))
    return all(was.get(key) == now.get(key) for key in ("spec", "scenarios", "mixes"))


def exploration_record(exploration: Exploration) -> dict[str, Any]:
    """Return what exploration.json records: the spec as read, the factors, the samples."""
    return {
        "spec": exploration.raw,
        "uncertainties": [dataclasses.asdict(f) for f in exploration.uncertainties],
        "levers": [dataclasses.asdict(f) for f in exploration.levers],
        "scenarios": list(exploration.scenarios),
        "mixes": {Path(p).stem: v for p, v in exploration.mixes.items()},
        "outcomes": [dataclasses.asdict(o) for o in exploration.outcomes],
        "reference": exploration.reference,
        "seed_scheme": "SeedSequence(root_seed, spawn_key=(design_point, replication)); the "
        "design point is the uncertainty point, shared by every mix (paired)",
        "provenance": provenance(),
    }


def experiments_table(exploration: Exploration, results: pd.DataFrame) -> pd.DataFrame:
    """One row per run (the reference's runs left out when outcomes are paired to it):
    run_id, preset, policy (the package name), title, design_point, replication,
    seed_entropy, the uncertainty and lever values, then one column per outcome.

    A missing run (failed twice) leaves its row out; a paired outcome whose reference run
    is missing is NaN.
    """
    keys = ["preset", "design_point", "replication"]
    ids = results.drop_duplicates("run_id")[["run_id", "policy", *keys, "seed_entropy"]]
    table = ids.set_index("run_id")
    for outcome in exploration.outcomes:
        at = results[np.isclose(results["year"], outcome.year)]
        value = at.drop_duplicates("run_id").set_index("run_id")[outcome.metric]
        table[outcome.name] = value.reindex(table.index)
        if outcome.paired:
            reference = table[table["policy"] == exploration.reference]
            base = reference.set_index(keys)[outcome.name]
            matched = pd.MultiIndex.from_frame(table[keys])
            table[outcome.name] = table[outcome.name].to_numpy() - base.reindex(matched).to_numpy()
    table = table.reset_index()
    if exploration.paired:
        table = table[table["policy"] != exploration.reference]
    scenarios = pd.DataFrame(list(exploration.scenarios))
    for column in scenarios.columns:
        table[column] = scenarios[column].to_numpy()[table["design_point"].to_numpy()]
    for lever in exploration.levers:
        table[lever.key] = table["policy"].map(
            {p: v[lever.key] for p, v in exploration.mixes.items()}
        )
    table = labelled(table, allow_code=exploration.spec.allow_code)
    outcome_names = [o.name for o in exploration.outcomes]
    inputs = [f.key for f in (*exploration.uncertainties, *exploration.levers)]
    ordered = ["run_id", "preset", "policy", "title", "design_point", "replication",
               "seed_entropy", *inputs, *outcome_names]  # fmt: skip
    table = table[ordered].sort_values(["design_point", "preset", "policy", "replication"])
    return table.reset_index(drop=True)


def read_experiments(out: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return an exploration's experiments table and its record (exploration.json).

    Raises:
        SpecError: OUT holds no finished exploration.
    """
    out = Path(out)
    if not (out / EXPERIMENTS).is_file() or not (out / EXPLORATION).is_file():
        raise SpecError(
            f"{out} holds no finished exploration (no {EXPERIMENTS}); run `smartcity explore "
            "SPEC --out DIR` (with --resume to complete an interrupted one)"
        )
    record = json.loads((out / EXPLORATION).read_text("utf-8"))
    return pd.read_parquet(out / EXPERIMENTS), record


def command_explore(args: argparse.Namespace) -> int:
    """Handler of `smartcity explore`."""

    def body() -> int:
        exploration = load_exploration(args.spec, args.out, allow_code=args.allow_code)

        def explore(**executor: Any) -> SweepReport:
            return run_exploration(exploration, args.out, resume=args.resume, **executor)

        report = dispatch(explore, args.workers, args.scheduler)
        status = finish("explore", report, args.out)
        if status is not None:
            return status
        print(args.out / EXPERIMENTS)
        return EXIT_RUNS_FAILED if report.failed else EXIT_OK

    return guarded("explore", body)

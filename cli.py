"""The ``smartcity`` command line.

Subcommands:

- ``run``: one city (a preset, a policy package or a saved scenario), metrics to Parquet.
- ``params``: the parameter reference, with unit, range and meaning (docs/parameters.md).
- ``policies``: the shipped policy packages and initiatives (docs/policies.md).
- ``schemas``: the JSON Schemas of the TOML formats, for editors (docs/schemas/).
- ``compare``: the main job, mature and emerging cities along their development paths.
- ``sweep``: every design point of a TOML experiment spec, resumable, local or on Dask.
- ``sensitivity``: Morris or Sobol analysis of a spec's ``[sensitivity]`` table (SALib).
- ``calibrate``: fit free parameters of a preset to target patterns (Optuna).
- ``validate``: the six case cities against the white paper's figures.
- ``explore``: uncertainties x levers sampled (LHS, Sobol, factorial), outcomes as tidy Parquet.
- ``discover``: scenario discovery on an exploration (PRIM boxes, feature scores).
- ``design``: robust multi-objective search of initiative mixes at a fixed budget (NSGA-II).
- ``plot``: a metric of a stored sweep, comparison or exploration, without user code.
- ``ui``: the planners' interactive view (Solara).

Bad input prints one line to stderr and exits with status 2 before anything is written.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from smartcity.experiments import (
    calibrate,
    cli_kit,
    compare_command,
    design,
    discover,
    explore,
    plot,
    sensitivity,
    sweep,
    validate_command,
)
from smartcity.simulation.world.errors import InputError, InvariantError
from smartcity.simulation.world.parameters import iter_specs, parameters_markdown, parse_set_option
from smartcity.simulation.world.presets import preset_names
from smartcity.simulation.world.schema import check_output_dir, json_schema, schema_text
from smartcity.visualization import cli as ui_cli

if TYPE_CHECKING:
    from smartcity.policies.packages import PolicyPackage

EXIT_BAD_INPUT = 2


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        default="mature",
        help=f"a shipped preset ({', '.join(preset_names())}) or a path to a preset TOML file",
    )
    cli_kit.add_set_option(
        parser, "override a parameter (repeatable), e.g. --set citizens.count=5000"
    )


def overrides_from(pairs: Sequence[str]) -> dict[str, str]:
    """``["a.b=1", ...]`` as a dict of text values (typed later against the parameters)."""
    return dict(parse_set_option(text) for text in pairs)


def command_run(args: argparse.Namespace) -> int:
    """Run one city and write DIR/metrics.parquet and DIR/manifest.json."""
    from smartcity.experiments.provenance import write_run_outputs
    from smartcity.experiments.runs import run_city
    from smartcity.policies.packages import load_package
    from smartcity.simulation.model.analyzers import make_analyzers
    from smartcity.simulation.model.plugins import load_plugins
    from smartcity.simulation.model.resolve import resolve_parameters

    overrides = overrides_from(args.overrides)
    if args.configuration is not None and args.scenario is None:
        raise InputError("--configuration picks a configuration of --scenario FILE; give both")
    preset, policy, choices = args.preset, args.policy, ""
    seed = 1 if args.seed is None else args.seed
    years = 20.0 if args.years is None else args.years
    if args.scenario is not None:
        from smartcity.visualization.scenario import load_scenario

        scenario = load_scenario(args.scenario)
        a = scenario.named(args.configuration, args.scenario)
        preset, choices = a.preset, a.choices_text()
        policy = a.package() if a.changed() else a.policy
        overrides = {**a.overrides, **overrides}
        seed = a.seed if args.seed is None else args.seed
        years = scenario.years if args.years is None else args.years
    # Validate everything before the run so that bad input writes nothing.
    package = load_package(policy, allow_code=args.allow_code)
    params = resolve_parameters(preset, overrides, package)
    check_run_size(args, years, params.simulation.steps_per_year)
    warn_late_initiatives(package, years)
    load_plugins(args.plugin, allow_code=args.allow_code)
    analyzers = make_analyzers(args.analyzer)
    check_output_dir(args.out)
    out = Path(args.out)
    frame = run_city(
        preset,
        seed=seed,
        years=years,
        overrides=overrides,
        policy=policy,
        progress=not args.quiet,
        allow_code=args.allow_code,
        record=args.record,
        analyzers=analyzers,
    )
    try:
        write_run_outputs(
            out,
            frame,
            {
                "preset": preset,
                "policy": args.policy if args.scenario is None else a.policy,
                "policy_choices": choices,
                "scenario": args.scenario,
                "seed": seed,
                "years": years,
                "overrides": overrides,
                "record": args.record,
                "plugins": args.plugin,
                "analyzers": args.analyzer,
                "parameters": params.as_flat_dict(),
            },
            {name: table for a in analyzers for name, table in a.tables().items()},
        )
    except OSError as exc:
        raise InputError(
            f"cannot write {out}: {exc.strerror or exc}; nothing was written"
        ) from None
    if not args.quiet:
        last = frame.iloc[-1]
        print(
            f"wrote {out}/metrics.parquet ({len(frame)} steps): population "
            f"{last['population']:.0f}, GDP per capita {last['gdp_per_capita']:.1f} k/year"
        )
    return 0


def check_run_size(args: argparse.Namespace, years: float, steps_per_year: int) -> None:
    """Refuse a run of no time, or longer than the steps limit (``--limit steps=N``).

    Raises:
        InputError: years not a positive finite number, or years x steps above the limit.
    """
    if not (math.isfinite(years) and years > 0):
        raise InputError(f"--years must be a positive, finite number, got {years!r}")
    cli_kit.limits_of(args).check_steps(years, steps_per_year)


def warn_late_initiatives(package: PolicyPackage, years: float) -> None:
    """One warning line per initiative of the package that starts after the run ends."""
    from smartcity.policies.packages import late_initiatives

    for message in late_initiatives(package, years):
        cli_kit.warn("run", message)


def command_params(args: argparse.Namespace) -> int:
    """Print every parameter with unit, range, default and meaning."""
    if args.markdown:
        sys.stdout.write(parameters_markdown())
        return 0
    values = _resolved_values(args)
    if args.json:
        rows = [
            {
                "name": key,
                "default": f.default,
                **({"value": values[key]} if values else {}),
                "unit": spec.unit,
                "allowed": spec.allowed(),
                "meaning": spec.doc,
            }
            for key, f, spec in iter_specs()
        ]
        print(json.dumps(rows, indent=2))
        return 0
    for key, f, spec in iter_specs():
        shown = values[key] if values else f.default
        print(f"{key:45s} {shown!r:>10}  [{spec.allowed()}] {spec.unit}  {spec.doc}")
    return 0


def _resolved_values(args: argparse.Namespace) -> dict[str, object]:
    """The values a preset (and package) resolve to, or {} when neither is given."""
    if args.preset is None and args.policy is None:
        return {}
    from smartcity.simulation.model.resolve import resolve_parameters

    return resolve_parameters(args.preset or "mature", {}, args.policy).as_flat_dict()


def command_policies(args: argparse.Namespace) -> int:
    """List the policy packages and initiatives, or print docs/policies.md."""
    from smartcity.policies.catalog import policies_markdown
    from smartcity.policies.initiatives import initiative_names, load_initiative
    from smartcity.policies.packages import load_package, package_names

    if args.markdown:
        sys.stdout.write(policies_markdown())
        return 0
    print("policy packages (--policy NAME or a .toml path):")
    for name in package_names():
        print(f"  {name:28s} {load_package(name).title}")
    print("initiatives (in a package: [initiatives.NAME]):")
    for name in initiative_names():
        spec = load_initiative(name)
        print(f"  {name:32s} {spec.key_issue:26s} {spec.title}")
    return 0


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` and exit 2."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


SCHEMA_DIR = Path("docs") / "schemas"


def file_schemas() -> dict[str, dict]:
    """The editor-facing JSON Schema of each TOML format, by its file name in docs/schemas/."""
    from smartcity.experiments.calibrate import CalibrationSchema
    from smartcity.experiments.explore import ExploreSchema
    from smartcity.experiments.spec import SpecSchema
    from smartcity.policies.initiatives import InitiativeSpec
    from smartcity.policies.packages import PackageSchema
    from smartcity.simulation.world.parameters import PresetSchema

    formats = {
        "preset": (PresetSchema, "A city preset: [section] tables of parameter values."),
        "initiative": (InitiativeSpec, "A digital initiative (policies/initiatives/*.toml)."),
        "package": (PackageSchema, "A policy package: initiatives, budgets, priorities."),
        "spec": (SpecSchema, "An experiment spec for smartcity sweep / sensitivity."),
        "calibration": (CalibrationSchema, "A calibration spec for smartcity calibrate."),
        "exploration": (ExploreSchema, "An exploration spec for smartcity explore / design."),
    }
    return {
        f"{name}.schema.json": json_schema(schema, f"smartcity {name}", description)
        for name, (schema, description) in formats.items()
    }


def command_schemas(args: argparse.Namespace) -> int:
    """Write the JSON Schemas of the TOML formats into a folder (docs/schemas/)."""
    check_output_dir(args.out)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, document in file_schemas().items():
        (out / name).write_text(schema_text(document), encoding="utf-8")
    print(f"wrote {len(file_schemas())} JSON Schemas to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = OneLineParser(
        prog="smartcity",
        description="Agent-based simulation of urban development under digitalization.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one city and write its metrics")
    _add_model_options(run)
    run.add_argument(
        "--policy", default="baseline", help="policy package name or .toml path (see: policies)"
    )
    run.add_argument("--years", type=float, help="years to simulate (default 20)")
    run.add_argument("--seed", type=cli_kit.int_at_least(0), help="random seed, >= 0 (default 1)")
    cli_kit.add_allow_code_option(run)
    cli_kit.add_limit_option(run)
    run.add_argument(
        "--scenario",
        help="a scenario TOML file saved by the view: its configuration A (preset, package "
        "and choices, overrides, seed, years) is run; --set, --seed and --years given here win",
    )
    run.add_argument(
        "--configuration",
        help="with --scenario: which of its configurations to run, a, b, c, ... (default a)",
    )
    cli_kit.add_record_option(run)
    run.add_argument(
        "--plugin",
        action="append",
        default=[],
        help="import a Python module that registers metrics (@metric) and analyzers "
        "(@analyzer) before the run (repeatable; needs --allow-code)",
    )
    run.add_argument(
        "--analyzer",
        action="append",
        default=[],
        help="an analyzer whose tables are written beside metrics.parquet (repeatable): "
        "agent_sample, districts or one a plug-in registers",
    )
    run.add_argument("--out", required=True, help="output directory")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    run.set_defaults(handler=command_run)

    params = sub.add_parser("params", help="list every parameter with unit, range and meaning")
    fmt = params.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="as docs/parameters.md")
    fmt.add_argument("--json", action="store_true", help="as JSON")
    params.add_argument(
        "--preset", help="show the values this preset resolves to (e.g. tokyo) instead of defaults"
    )
    params.add_argument("--policy", help="with --preset: the values under this policy package")
    params.set_defaults(handler=command_params)

    policies = sub.add_parser("policies", help="list policy packages and initiatives")
    policies.add_argument("--markdown", action="store_true", help="as docs/policies.md")
    policies.set_defaults(handler=command_policies)

    schemas = sub.add_parser(
        "schemas", help="write the JSON Schemas of the TOML formats (for editors)"
    )
    schemas.add_argument(
        "--out", default=str(SCHEMA_DIR), help=f"folder to write (default {SCHEMA_DIR})"
    )
    schemas.set_defaults(handler=command_schemas)

    for module in (compare_command, sweep, sensitivity, calibrate, validate_command, ui_cli):
        module.register(sub)
    for module in (explore, discover, design, plot):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``smartcity`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except InputError as exc:
        print("\n".join(cli_kit.error_lines(args.command, exc)), file=sys.stderr)
        return EXIT_BAD_INPUT
    except InvariantError as exc:  # a run left the model's valid range: step and quantity
        print(f"smartcity {args.command}: stopped: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"smartcity {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

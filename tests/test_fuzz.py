"""Fuzzing the input layer: whatever a user types or writes, the answer is a valid model or
one clear line (InputError, exit status 2), never a traceback and never a half-written file.

Hypothesis draws command lines, presets, policy packages, initiatives, experiment specs,
city graphs and raw bytes from the real key names mixed with junk; example counts are bounded
so the whole file runs in well under a minute.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.cli import main
from smartcity.experiments.calibrate import load_calibration_spec
from smartcity.experiments.limits import DEFAULT_LIMITS
from smartcity.experiments.spec import load_spec, parse_spec
from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.initiatives import InitiativeSpec, initiative_names
from smartcity.policies.packages import load_package
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.graph import load_city_graph
from smartcity.simulation.world.parameters import SECTIONS, iter_specs
from smartcity.simulation.world.schema import MAX_MISTAKES, toml_text
from smartcity.simulation.world.vocabulary import CAPABILITY_NAMES, SECTOR_NAMES
from smartcity.visualization.scenario import load_scenario

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

PARAM_KEYS = [key for key, _, _ in iter_specs()]
PARAM_KEYS_01 = [key for key, _, spec in iter_specs() if (spec.lo, spec.hi) == (0, 1)]
JUNK = ["", "x", "count ", "ñ", "a.b.c", "[x]", "__class__"]

scalars = st.one_of(
    st.integers(-(10**6), 10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=6),
    st.sampled_from(["mature", "baseline", "ppp", "0.5", "inf", "1e3", "true"]),
    st.lists(st.integers(0, 5), max_size=2),
)


def accepted_or_one_line(load: Callable[[], Any]) -> None:
    """``load`` returns, or raises an InputError of one line per mistake (at most ten, and a
    line saying how many more); nothing else."""
    try:
        load()
    except InputError as exc:
        lines = str(exc).split("\n")
        assert lines and all(line.strip() for line in lines), str(exc)
        assert len(lines) <= MAX_MISTAKES + 1, str(exc)


def in_tmp(name: str, content: str | bytes, load: Callable[[Path], Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        accepted_or_one_line(lambda: load(path))


def table_of(keys: list[str], values: st.SearchStrategy = scalars, size: int = 3):
    return st.dictionaries(st.sampled_from(keys + JUNK), values, max_size=size)


presets = st.dictionaries(
    st.sampled_from([*SECTIONS, "extends", "citizen", "parameters"]),
    st.one_of(
        scalars,
        st.dictionaries(
            st.sampled_from([k.split(".", 1)[1] for k in PARAM_KEYS] + JUNK), scalars, max_size=4
        ),
    ),
    max_size=4,
)


@FUZZ
@given(presets)
def test_fuzz_presets(data):
    in_tmp("preset.toml", toml_text(data), resolve_parameters)


@FUZZ
@given(st.dictionaries(st.sampled_from(PARAM_KEYS + JUNK), scalars, max_size=3))
def test_fuzz_overrides(overrides):
    accepted_or_one_line(lambda: resolve_parameters("mature", overrides))


plans = table_of(["financing", "start_year", "scale", "class"], st.one_of(
    scalars, st.sampled_from([*FINANCING_MODELS, "os:system", "evil_mod:Evil"])
))  # fmt: skip
packages = st.fixed_dictionaries(
    {},
    optional={
        "title": scalars,
        "unified_platform": scalars,
        "platform_cost": scalars,
        "capabilities": st.one_of(scalars, table_of(["budget_share", *CAPABILITY_NAMES])),
        "initiatives": st.one_of(
            scalars, st.dictionaries(st.sampled_from(initiative_names()[:5] + JUNK), plans)
        ),
        "new_infrastructure": st.one_of(scalars, table_of(["5g", "ai", "urban_rail"])),
        "sectors": st.one_of(scalars, table_of(list(SECTOR_NAMES))),
        "parameters": st.one_of(scalars, table_of(PARAM_KEYS)),
        "unknown": scalars,
    },
)


@FUZZ
@given(packages)
def test_fuzz_packages(data):
    """Never an import: a package naming a class is refused without allow_code."""
    in_tmp("package.toml", toml_text(data), lambda p: resolve_parameters("mature", {}, p))
    in_tmp("package.toml", toml_text(data), load_package)


INITIATIVE_FIELDS = list(InitiativeSpec.model_fields)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(INITIATIVE_FIELDS + JUNK),
        st.one_of(scalars, table_of(["platform", "iot", "road_capacity", "perception"])),
        max_size=14,
    )
)
def test_fuzz_initiatives(data):
    accepted_or_one_line(lambda: InitiativeSpec.from_toml(data, "fuzz.toml"))


specs = st.fixed_dictionaries(
    {
        "presets": st.one_of(scalars, st.lists(st.sampled_from(["mature", "emerging", "x"]))),
        "root_seed": scalars,
        "years": scalars,
    },
    optional={
        "policies": st.one_of(
            scalars,
            st.lists(st.sampled_from(["baseline", "mature-reactivate", "nope"]), max_size=2),
            st.dictionaries(st.sampled_from(["mature", "emerging", "x"]), scalars, max_size=2),
        ),
        "replications": scalars,
        "keep_every": scalars,
        "metrics": st.one_of(scalars, st.lists(st.sampled_from(["population", "gdp", "x"]))),
        "overrides": st.one_of(scalars, table_of(PARAM_KEYS)),
        "grid": st.one_of(scalars, table_of(PARAM_KEYS, st.lists(scalars, max_size=2), size=2)),
        "samples": st.one_of(scalars, st.lists(table_of(PARAM_KEYS, size=2), max_size=2)),
        "sensitivity": st.one_of(
            scalars, table_of(["bounds", "samples", "metrics", "statistic", "seed"])
        ),
        "gird": scalars,
    },
)


@FUZZ
@given(specs)
def test_fuzz_specs(data):
    accepted_or_one_line(lambda: parse_spec(data))


cells = st.one_of(
    st.sampled_from(["", "abc", "inf", "-1", "nan", "0", "1e308", "2", "0.5", "core", "suburb"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
NODE_COLUMNS = ["id", "kind", "x", "y", "area_km2", "housing_capacity", "transport", "ict",
                "computing", "iot", "service_capacity", "environment"]  # fmt: skip


kinds = st.one_of(st.sampled_from(["core", "old", "suburb"]), cells)
numbers = st.one_of(st.sampled_from(["0.5", "1", "20", "800"]), cells)


@FUZZ
@given(st.lists(st.tuples(kinds, st.lists(numbers, min_size=10, max_size=10)), max_size=3),
       numbers, numbers)  # fmt: skip
def test_fuzz_csv_graphs(rows, travel_time, capacity):
    with tempfile.TemporaryDirectory() as folder:
        nodes, edges = Path(folder) / "nodes.csv", Path(folder) / "edges.csv"
        body = [
            ",".join(NODE_COLUMNS),
            *(",".join([f"n{i}", kind, *values]) for i, (kind, values) in enumerate(rows)),
        ]
        nodes.write_text("\n".join(body) + "\n")
        edges.write_text(f"source,target,travel_time,capacity\nn0,n1,{travel_time},{capacity}\n")
        accepted_or_one_line(lambda: load_city_graph(nodes))


@FUZZ
@given(st.binary(max_size=64), st.sampled_from(["preset", "package", "spec", "graphml"]))
def test_fuzz_raw_bytes(content, kind):
    """Binary junk, bad UTF-8 or truncated text in any input file is one line."""
    loaders = {
        "preset": ("p.toml", resolve_parameters),
        "package": ("p.toml", load_package),
        "spec": ("s.toml", lambda p: parse_spec_file(p)),
        "graphml": ("g.graphml", load_city_graph),
    }
    name, load = loaders[kind]
    in_tmp(name, content, load)


def parse_spec_file(path: Path) -> Any:
    from smartcity.experiments.spec import load_spec

    return load_spec(path)


TOKENS = ["run", "params", "policies", "sweep", "compare", "schemas", "--years", "--seed",
          "--set", "--preset", "--policy", "--replications", "--workers", "--markdown",
          "--allow-code", "--resume", "abc", "-1", "0", "1e9", "inf", "nan", "x=1",
          "citizens.count=abc", "citizens.count=300", "mature", "emerging", "nowhere.toml",
          "baseline", "mature-reactivate", "--"]  # fmt: skip


@settings(FUZZ, max_examples=60)
@given(st.lists(st.sampled_from(TOKENS), max_size=6))
def test_fuzz_command_line(tokens):
    """Any command line: exit 0 or 2 with one error line; nothing is simulated or written
    because --out always lies under a file."""
    with tempfile.TemporaryDirectory() as folder:
        blocker = Path(folder) / "file"
        blocker.write_text("keep")
        argv = [*tokens, "--out", str(blocker / "out")]
        with pytest.MonkeyPatch.context() as patch:
            errors: list[str] = []
            patch.setattr("sys.stderr", _Lines(errors))
            patch.setattr("sys.stdout", _Lines([]))
            try:
                status = main(argv)
            except SystemExit as exc:
                status = exc.code
        assert status in (0, 2), (argv, errors)
        if status == 2:
            text = "".join(errors)
            assert text.count("\n") == 1 and "error" in text, (argv, text)
        assert blocker.read_text() == "keep"
        assert sorted(p.name for p in Path(folder).iterdir()) == ["file"]


class _Lines:
    """A minimal text stream collecting what is written."""

    def __init__(self, into: list[str]):
        self.into = into

    def write(self, text: str) -> int:
        self.into.append(text)
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""

    def isatty(self) -> bool:
        return False


# --- hardening 2: sizes, nesting, byte-order marks, scenarios, calibrations, CSV quotes ----

SIZES = st.sampled_from([1, 2, 10**3, 10**6, 10**9, 2**62])


@FUZZ
@given(SIZES, SIZES, st.sampled_from([0, 1, 2, 10]))
def test_fuzz_spec_sizes(replications, years, lists):
    """Any replications, years and grid of ``lists`` lists of ten values: a valid spec or
    one line, within 2 s (the limits are checked before anything is built)."""
    grid = {f'"{key}"': [0.05 * i for i in range(1, 11)] for key in PARAM_KEYS_01[:lists]}
    raw = {
        "presets": ["mature"],
        "replications": replications,
        "years": years,
        "root_seed": 1,
        "overrides": {"citizens.count": 100},
        **({"grid": {k.strip('"'): v for k, v in grid.items()}} if grid else {}),
    }
    runs, steps = replications * 10**lists, years * 12
    start = time.monotonic()
    if runs > DEFAULT_LIMITS.runs or steps > DEFAULT_LIMITS.steps:
        with pytest.raises(InputError) as caught:
            parse_spec(raw)
        assert "\n" not in str(caught.value) and "limit" in str(caught.value)
    else:
        accepted_or_one_line(lambda: parse_spec(raw))
    assert time.monotonic() - start < 2.0


def nested(depth: int, table: bool) -> str:
    """A TOML value nested ``depth`` deep: arrays or inline tables."""
    return ("{a = " * depth + "1" + "}" * depth) if table else ("[" * depth + "1" + "]" * depth)


LOADERS: dict[str, Callable[[Path], Any]] = {
    "preset": resolve_parameters,
    "package": load_package,
    "spec": lambda path: load_spec(path),
    "calibration": load_calibration_spec,
    "scenario": load_scenario,
}


@FUZZ
@given(st.integers(1, 3000), st.booleans(), st.sampled_from(sorted(LOADERS)), st.booleans())
def test_fuzz_nesting_and_byte_order_marks(depth, table, kind, bom):
    """However deep a value nests, with or without a BOM: one line per mistake, never a
    RecursionError."""
    text = ("\ufeff" if bom else "") + f"x = {nested(depth, table)}\n"
    in_tmp(f"{kind}.toml", text, LOADERS[kind])


scenario_cities = st.fixed_dictionaries(
    {},
    optional={
        "preset": st.sampled_from(["mature", "emerging", "nope", "x.toml", 5]),
        "policy": st.sampled_from(["baseline", "placebo", "nope", True]),
        "initiatives": st.lists(st.sampled_from([*initiative_names()[:3], "nope"]), max_size=2),
        "financing": st.sampled_from(["ppp", "as in package", "nope", 1]),
        "unified_platform": st.sampled_from([True, False, "yes"]),
    },
)


@FUZZ
@given(
    st.fixed_dictionaries(
        {"a": scenario_cities},
        optional={
            "b": scenario_cities,
            "years": st.sampled_from([1, 0.5, 0, -1, 10**6, "1", float("nan")]),
            "seed": st.sampled_from([1, -1, "1"]),
            "overrides": st.dictionaries(
                st.sampled_from(PARAM_KEYS[:5] + JUNK), scalars, max_size=2
            ),
        },
    )
)
def test_fuzz_scenarios(data):
    """Every part of a scenario, [b] included, is checked: a scenario or one line."""
    in_tmp("scenario.toml", toml_text(data), load_scenario)


@FUZZ
@given(
    st.fixed_dictionaries(
        {"preset": st.sampled_from(["mature", "nope"])},
        optional={
            "years": st.sampled_from([1, 1.5, "1", 0, 10**7, float("inf"), True]),
            "trials": st.sampled_from([1, 0, 10**9, "3", 2.0]),
            "replications": st.sampled_from([1, 0, 10**9, "2"]),
            "sampler": st.sampled_from(["tpe", "grid", 1]),
            "parameters": st.sampled_from(
                [{}, {"citizens.trust_mean": {"low": 0.3, "high": 0.6}}, {"x.y": {"low": 1}}]
            ),
            "targets": st.sampled_from(
                [[], [{"metric": "population", "year": 1, "value": 100}], [{"metric": "popul"}]]
            ),
        },
    )
)
def test_fuzz_calibration_specs(data):
    """Calibration specs are strict (years = "1" is a wrong type) and sized: a valid spec or
    one line per mistake."""
    in_tmp("calibration.toml", toml_text(data), load_calibration_spec)


@FUZZ
@given(st.lists(st.sampled_from(['"', "a", ",", "\n", "1", '""', "\r", "\ufeff"]), max_size=30))
def test_fuzz_csv_quotes(tokens):
    """A nodes table of stray quotes, separators and line ends: a graph or one line."""
    with tempfile.TemporaryDirectory() as folder:
        nodes = Path(folder) / "nodes.csv"
        nodes.write_text("id,kind,x\n" + "".join(tokens), encoding="utf-8")
        (Path(folder) / "edges.csv").write_text("source,target\n", encoding="utf-8")
        accepted_or_one_line(lambda: load_city_graph(nodes))

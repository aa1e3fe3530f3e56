"""Fuzzing the input layer: whatever a user types or writes, the answer is a valid model or
one clear line (InputError, exit status 2), never a traceback and never a half-written file.

Hypothesis draws command lines, presets, policy packages, initiatives, experiment specs,
city graphs and raw bytes from the real key names mixed with junk; example counts are bounded
so the whole file runs in well under a minute.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.cli import main
from smartcity.experiments.spec import parse_spec
from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.initiatives import InitiativeSpec, initiative_names
from smartcity.policies.packages import load_package
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.graph import load_city_graph
from smartcity.simulation.world.parameters import SECTIONS, iter_specs
from smartcity.simulation.world.schema import toml_text
from smartcity.simulation.world.vocabulary import CAPABILITY_NAMES, SECTOR_NAMES

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

PARAM_KEYS = [key for key, _, _ in iter_specs()]
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
    """``load`` returns, or raises one InputError line; nothing else."""
    try:
        load()
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message, message


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

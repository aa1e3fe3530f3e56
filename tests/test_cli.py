"""The smartcity command line, run in-process."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

import smartcity
from smartcity import cli
from smartcity.cli import main
from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.parameters import iter_specs, parameters_markdown
from smartcity.simulation.world.presets import preset_names

YEARS = 1


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    argv = ["run", "--preset", "emerging", "--years", str(YEARS), "--seed", "9",
            "--set", "citizens.count=1200", "--set", "citizens.trust_mean=0.7",
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    return out


def test_run_writes_one_row_per_step(run_dir):
    frame = pd.read_parquet(run_dir / "metrics.parquet")
    assert len(frame) == YEARS * 12 + 1
    assert list(frame["step"]) == list(range(YEARS * 12 + 1))
    assert frame["year"].iloc[-1] == YEARS
    assert set(METRICS) <= set(frame.columns)
    assert frame["population"].iloc[0] == 1200


def test_manifest_records_parameters_seed_and_version(run_dir):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    expected = resolve_parameters(
        "emerging", {"citizens.count": 1200, "citizens.trust_mean": 0.7}
    ).as_flat_dict()
    assert manifest["parameters"] == expected
    assert set(manifest["parameters"]) == {key for key, _, _ in iter_specs()}
    assert manifest["seed"] == 9
    assert manifest["preset"] == "emerging"
    assert manifest["years"] == YEARS
    assert manifest["version"] == smartcity.__version__
    assert manifest["package"] == "smartcity-abm"
    assert "git_commit" in manifest


def test_run_leaves_no_staging_files(run_dir):
    assert sorted(p.name for p in run_dir.parent.iterdir()) == ["run"]
    assert sorted(p.name for p in run_dir.iterdir()) == ["manifest.json", "metrics.parquet"]


def test_run_prints_a_summary_unless_quiet(tmp_path, capsys):
    out = tmp_path / "loud"
    argv = ["run", "--preset", "mature", "--years", "0.25", "--set", "citizens.count=600",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "metrics.parquet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv_tail", "fragment"),
    [
        (["--set", "citizens.cout=1500"], "did you mean 'citizens.count'"),
        (["--set", "citizens.count=10"], "citizens.count"),
        (["--set", "citizens.trust_mean=abc"], "citizens.trust_mean"),
        (["--set", "citizens.count"], "section.name=value"),
        (["--preset", "nowhere"], "unknown preset"),
        (["--policy", "magic"], "unknown policy"),
        (["--years", "0"], "years"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, argv_tail, fragment):
    out = tmp_path / "out"
    argv = ["run", "--years", "1", "--out", str(out), "--quiet", *argv_tail]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("smartcity run: error:")
    assert fragment in lines[0]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    out = tmp_path / "file"
    out.write_text("keep me")
    argv = ["run", "--years", "0.25", "--set", "citizens.count=600", "--out", str(out), "--quiet"]
    assert main(argv) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert out.read_text() == "keep me"


def test_params_lists_every_parameter(capsys):
    assert main(["params"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert listed == [key for key, _, _ in iter_specs()]


def test_params_markdown_is_the_generated_reference(capsys):
    assert main(["params", "--markdown"]) == 0
    assert capsys.readouterr().out == parameters_markdown()


def test_params_json_has_every_parameter(capsys):
    assert main(["params", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == [key for key, _, _ in iter_specs()]
    count = next(row for row in rows if row["name"] == "citizens.count")
    assert count["default"] == 20000
    assert count["unit"] == "citizens"


def test_missing_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_module_docstring_names_every_subcommand():
    """The ``smartcity.cli`` docstring (what ``help(smartcity.cli)`` and the API site show)
    lists every subcommand the parser has."""
    (sub,) = [a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [name for name in sub.choices if f"``{name}``" not in cli.__doc__]
    assert not missing, f"smartcity/cli.py docstring does not list: {missing}"


def test_preset_help_names_every_shipped_preset(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for name in preset_names():
        assert name in shown, f"`smartcity run --help` does not name the preset {name}"

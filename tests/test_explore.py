"""`smartcity explore`: uncertainties x levers through the runner, resumable and reproducible.

Every run is the real model on a tiny city (100 citizens, 2 years).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from smartcity.cli import main as cli
from smartcity.experiments import explore, runner, store
from smartcity.policies.packages import load_package

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

SPEC = """
name = "tiny exploration"
presets = ["mature"]
years = 2
root_seed = 7

[overrides]
"citizens.count" = 100

[uncertainties]
"citizens.digital_literacy_mean" = [0.3, 0.7]

[levers]
unified_platform = {values = [false, true]}
"initiatives.online_government.scale" = [0.5, 1.5]

[outcomes]
governance_gain = {metric = "governance_index", paired = true}
adoption = {metric = "digital_adoption", year = 1}

[sampler]
method = "lhs"
scenarios = 2
mixes = 2
"""
RUNS = 6  # (reference + 2 mixes) x 2 uncertainty points
ROWS = 4  # the reference's runs are left out of the table: its differences are 0


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def explore_into(spec: Path, out: Path, **kwargs) -> runner.SweepReport:
    exploration = explore.load_exploration(spec, out)
    return explore.run_exploration(exploration, out, progress=False, **kwargs)


def test_explore_tidy_table_is_the_same_on_every_executor(tmp_path: Path) -> None:
    from distributed import LocalCluster

    spec = write(tmp_path / "spec.toml", SPEC)
    explore_into(spec, tmp_path / "one", workers=1)
    explore_into(spec, tmp_path / "two", workers=2)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        runner.dask_executor(cluster.scheduler_address) as (executor, slots),
    ):
        explore_into(spec, tmp_path / "dask", executor=executor, slots=slots)

    one = pd.read_parquet(tmp_path / "one" / explore.EXPERIMENTS)
    assert len(one) == ROWS
    assert len(list((tmp_path / "one" / "runs").glob("*.parquet"))) == RUNS
    for column in ("citizens.digital_literacy_mean", "unified_platform",
                   "initiatives.online_government.scale", "governance_gain", "adoption",
                   "seed_entropy", "title"):  # fmt: skip
        assert column in one, column
    assert one["citizens.digital_literacy_mean"].between(0.3, 0.7).all()
    assert one["initiatives.online_government.scale"].between(0.5, 1.5).all()
    assert one["title"].str.startswith("Mix ").all()
    assert not one["policy"].str.contains("/").any()  # names, never file paths
    for other in ("two", "dask"):
        theirs = pd.read_parquet(tmp_path / other / explore.EXPERIMENTS)
        pd.testing.assert_frame_equal(
            one.drop(columns="run_id"), theirs.drop(columns="run_id"), check_exact=True
        )


def test_paired_outcome_is_the_difference_to_the_reference_run_with_the_same_seed(
    tmp_path: Path,
) -> None:
    spec = write(tmp_path / "spec.toml", SPEC)
    out = tmp_path / "x"
    explore_into(spec, out, workers=1)
    table = pd.read_parquet(out / explore.EXPERIMENTS)
    results = store.load_results(out)
    final = results[results["year"] == 2]
    reference = final[final["policy"] == "baseline"].set_index("design_point")
    for row in table.itertuples():
        run = final[final["run_id"] == row.run_id].iloc[0]
        expected = run["governance_index"] - reference.loc[row.design_point, "governance_index"]
        assert row.governance_gain == pytest.approx(expected, abs=0)
        assert run["seed_entropy"] == reference.loc[row.design_point, "seed_entropy"]
    # Each mix is a package file a user can run, labelled by its title.
    for path in (out / explore.PACKAGES_DIR).glob("*.toml"):
        assert load_package(path).title.startswith("Mix ")


INTERRUPTIBLE = """
import sys
sys.path.insert(0, {tests!r})
import test_experiments_helpers as helpers
from smartcity.experiments import explore

if __name__ == "__main__":
    exploration = explore.load_exploration(sys.argv[1], sys.argv[2])
    report = explore.run_exploration(exploration, sys.argv[2], workers=2,
                                     run_fn=helpers.slow_run_city, progress=False,
                                     resume="--resume" in sys.argv)
    sys.exit(130 if report.interrupted else 0)
"""


def test_interrupted_exploration_resumes_with_nothing_lost(tmp_path: Path) -> None:
    spec = write(tmp_path / "spec.toml", SPEC.replace("scenarios = 2", "scenarios = 4"))
    script = write(tmp_path / "drive.py", INTERRUPTIBLE.format(tests=str(TESTS)))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(spec), str(out)], cwd=ROOT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while len(list((out / "runs").glob("*.parquet"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    stored = len(list((out / "runs").glob("*.parquet")))
    assert 2 <= stored < 12
    assert not (out / explore.EXPERIMENTS).exists()  # written once every run is stored

    resumed = subprocess.run([sys.executable, str(script), str(spec), str(out), "--resume"],
                             cwd=ROOT)  # fmt: skip
    assert resumed.returncode == 0
    explore_into(spec, tmp_path / "whole", workers=1)
    # Run ids hold the mix packages' paths, which differ between the two folders.
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / explore.EXPERIMENTS).drop(columns="run_id"),
        pd.read_parquet(tmp_path / "whole" / explore.EXPERIMENTS).drop(columns="run_id"),
        check_exact=True,
    )


BAD = {
    "unknown uncertainty": (
        SPEC.replace(
            '"citizens.digital_literacy_mean" = [0.3', '"citizens.digital_literacy" = [0.3'
        ),
        "did you mean 'citizens.digital_literacy_mean'",
    ),
    "uncertainty out of range": (
        SPEC.replace("[0.3, 0.7]", "[0.3, 1.7]"),
        "citizens.digital_literacy_mean",
    ),
    "reversed range": (SPEC.replace("[0.3, 0.7]", "[0.7, 0.3]"), "needs finite low < high"),
    "not a range": (SPEC.replace("[0.3, 0.7]", "[0.3]"), "give [low, high]"),
    "unknown lever root": (
        SPEC.replace("unified_platform = {", "unified_platfrom = {"),
        "did you mean 'unified_platform'",
    ),
    "unknown initiative": (
        SPEC.replace("online_government.scale", "online_govt.scale"),
        "online_govt",
    ),
    "lever out of range": (
        SPEC.replace("[0.5, 1.5]", "[0.5, 11.5]"),
        "initiatives.online_government.scale",
    ),
    "unknown metric": (SPEC.replace('"governance_index"', '"governance"'), "governance"),
    "outcome after the horizon": (SPEC.replace("year = 1", "year = 3"), "runs last 2 years"),
    "sobol needs a power of two": (
        SPEC.replace('method = "lhs"', 'method = "sobol"').replace(
            "scenarios = 2", "scenarios = 3"
        ),
        "power of two",
    ),
    "no outcomes": (SPEC.split("[outcomes]")[0] + "[outcomes]\n", "[outcomes] is empty"),
    "bad outcome name": (SPEC.replace("adoption = {", '"adoption-rate" = {'), "identifier"),
    "unknown key": (SPEC.replace("[sampler]", "[sample]"), "did you mean 'sampler'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_exploration_spec_is_one_line_exit_2_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, expected = BAD[case]
    spec = write(tmp_path / "bad.toml", body)
    out = tmp_path / "out"
    assert cli(["explore", str(spec), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_documented_exploration_spec_loads_and_validates_against_its_schema(
    tmp_path: Path,
) -> None:
    import re
    import tomllib

    import jsonschema

    from smartcity.cli import file_schemas

    text = (ROOT / "docs" / "experiments.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "[outcomes]" in b]
    jsonschema.validate(tomllib.loads(block), file_schemas()["exploration.schema.json"])
    exploration = explore.load_exploration(write(tmp_path / "doc.toml", block), tmp_path / "o")
    assert len(exploration.scenarios) == 16 and len(exploration.mixes) == 8
    for path in ("paths.toml", "design.toml"):
        spec = ROOT / "docs" / "robustness" / path
        jsonschema.validate(
            tomllib.loads(spec.read_text()), file_schemas()["exploration.schema.json"]
        )


def test_samplers_cover_their_space_reproducibly() -> None:

    factors = [
        explore.Factor("a", low=0.0, high=1.0),
        explore.Factor("b", values=("x", "y", "z")),
        explore.Factor("c", low=10, high=20, integer=True),
    ]
    lhs = explore.draw(factors, 8, "lhs", seed=3, stream=0)
    assert lhs == explore.draw(factors, 8, "lhs", seed=3, stream=0)
    assert lhs != explore.draw(factors, 8, "lhs", seed=3, stream=1)
    # Latin hypercube: each eighth of a range holds exactly one point.
    assert sorted(int(p["a"] * 8) for p in lhs) == list(range(8))
    assert {p["b"] for p in lhs} == {"x", "y", "z"}
    assert all(isinstance(p["c"], int) and 10 <= p["c"] <= 20 for p in lhs)
    sobol = explore.draw(factors, 16, "sobol", seed=3, stream=0)
    assert len(sobol) == 16 and len({p["a"] for p in sobol}) == 16
    grid = explore.draw(factors, 3, "factorial", seed=0, stream=0)
    assert len(grid) == 3 * 3 * 3
    assert sorted({p["a"] for p in grid}) == [0.0, 0.5, 1.0]
    assert sorted({p["c"] for p in grid}) == [10, 15, 20]
    assert len({(p["a"], p["b"], p["c"]) for p in grid}) == 27


def test_explore_command_writes_the_table_and_refuses_a_second_run_without_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write(tmp_path / "spec.toml", SPEC)
    out = tmp_path / "x"
    argv = ["explore", str(spec), "--out", str(out), "--workers", "1"]
    assert cli(argv) == 0
    assert capsys.readouterr().out.strip().endswith(explore.EXPERIMENTS)
    assert len(pd.read_parquet(out / explore.EXPERIMENTS)) == ROWS
    assert cli(argv) == 2
    assert "--resume" in capsys.readouterr().err
    assert cli([*argv, "--resume"]) == 0  # everything stored: nothing runs again
    other = write(tmp_path / "other.toml", SPEC.replace("root_seed = 7", "root_seed = 8"))
    assert cli(["explore", str(other), "--out", str(out), "--workers", "1", "--resume"]) == 2
    assert "different spec" in capsys.readouterr().err


def test_plot_draws_an_outcome_of_an_exploration_against_a_lever(tmp_path: Path) -> None:
    spec = write(tmp_path / "spec.toml", SPEC)
    out = tmp_path / "x"
    explore_into(spec, out, workers=1)
    lever = "initiatives.online_government.scale"
    assert cli(["plot", str(out), "--x", lever, "--y", "governance_gain"]) == 0
    assert (out / "figures" / f"governance_gain_vs_{lever}.png").stat().st_size > 10_000
    assert cli(["plot", str(out), "--x", "citizens.count", "--y", "governance_gain"]) == 2

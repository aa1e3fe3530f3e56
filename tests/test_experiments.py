"""Batch experiments: reproducibility across executors, resume, failures, bad input, outputs.

Every test runs the real model on a tiny city (100 citizens, 1-2 years) so it stays fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import test_experiments_helpers as helpers

from smartcity.cli import main as cli
from smartcity.experiments import runner, store
from smartcity.experiments.spec import load_spec

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

SMALL_SPEC = """
name = "small"
presets = ["mature", "emerging"]
replications = 2
root_seed = 11
years = 2
keep_every = 3

[overrides]
"citizens.count" = 100

[grid]
"citizens.digital_literacy_mean" = [0.3, 0.7]
"""
SMALL_RUNS = 8  # 2 points x 2 presets x 2 replications


def write_spec(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def sweep_into(spec_path: Path, out: Path, **kwargs) -> runner.SweepReport:
    return runner.run_sweep(load_spec(spec_path), out, progress=False, **kwargs)


def test_same_seed_gives_identical_results_on_every_executor(tmp_path: Path) -> None:
    from distributed import LocalCluster

    spec_path = write_spec(tmp_path / "spec.toml", SMALL_SPEC)
    sweep_into(spec_path, tmp_path / "one", workers=1)
    sweep_into(spec_path, tmp_path / "two", workers=2)
    # Through the same path as `smartcity sweep --scheduler ADDR`.
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        runner.dask_executor(cluster.scheduler_address) as (executor, slots),
    ):
        sweep_into(spec_path, tmp_path / "dask", executor=executor, slots=slots)

    one = store.load_results(tmp_path / "one")
    assert len(one) == SMALL_RUNS * 9  # steps 0, 3, ..., 24 kept
    assert one["run_id"].nunique() == SMALL_RUNS
    pd.testing.assert_frame_equal(one, store.load_results(tmp_path / "two"), check_exact=True)
    pd.testing.assert_frame_equal(one, store.load_results(tmp_path / "dask"), check_exact=True)


def test_presets_share_seeds_and_replications_differ(tmp_path: Path) -> None:
    tasks = runner.plan_runs(load_spec(write_spec(tmp_path / "s.toml", SMALL_SPEC)))
    keys = {(t.preset, t.design_point, t.replication): t.seed().spawn_key for t in tasks}
    assert keys["mature", 1, 0] == keys["emerging", 1, 0] == (1, 0)
    assert len({t.run_id for t in tasks}) == len(tasks) == SMALL_RUNS

    sweep_into(write_spec(tmp_path / "s.toml", SMALL_SPEC), tmp_path / "out", workers=1)
    results = store.load_results(tmp_path / "out")
    final = results[(results["step"] == 24) & (results["preset"] == "mature")]
    assert final["population"].nunique() > 1  # replications and points are not copies


def test_policies_per_preset_share_the_seeds_of_their_replication(tmp_path: Path) -> None:
    body = SMALL_SPEC + '[policies]\nmature = ["baseline", "mature-reactivate"]\n'
    spec = load_spec(write_spec(tmp_path / "s.toml", body))
    assert spec.pairs() == [
        ("mature", "baseline"),
        ("mature", "mature-reactivate"),
        ("emerging", "baseline"),
    ]
    tasks = [t for t in runner.plan_runs(spec) if (t.design_point, t.replication) == (0, 1)]
    assert len(tasks) == 3 and {t.seed().spawn_key for t in tasks} == {(0, 1)}


def test_manifest_records_spec_parameters_and_seeds(tmp_path: Path) -> None:
    sweep_into(write_spec(tmp_path / "s.toml", SMALL_SPEC), tmp_path / "out", workers=1)
    manifest = store.read_manifest(tmp_path / "out")
    assert manifest["spec"]["root_seed"] == 11
    assert manifest["design_points"][1]["parameters"]["emerging"]["baseline"] == {
        "citizens.digital_literacy_mean": 0.7
    }
    resolved = store.resolved_parameters(tmp_path / "out", "emerging", "baseline", 1)
    assert resolved["citizens.digital_literacy_mean"] == 0.7
    assert resolved["citizens.count"] == 100
    assert resolved["city.n_core"] >= 1  # every parameter, not only the overridden ones
    assert len(manifest["runs"]) == SMALL_RUNS
    assert manifest["provenance"]["version"]


def test_failing_run_is_retried_once_recorded_and_others_stored(tmp_path: Path) -> None:
    calls: list[str] = []

    def flaky(preset, **kwargs):
        calls.append(preset)
        return helpers.failing_run_city(preset, **kwargs)

    spec = load_spec(write_spec(tmp_path / "s.toml", SMALL_SPEC))
    report = runner.run_sweep(spec, tmp_path / "out", workers=1, run_fn=flaky, progress=False)

    failures = store.read_failures(tmp_path / "out")
    assert report.failed == len(failures) == 4  # every emerging run
    assert calls.count("emerging") == 8  # each of the 4 tried twice
    assert {f["attempts"] for f in failures} == {2}
    assert "RuntimeError: injected failure" in failures[0]["error"]
    results = store.load_results(tmp_path / "out")
    assert set(results["preset"]) == {"mature"} and results["run_id"].nunique() == 4


def test_failing_runs_in_worker_processes_are_recorded(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path / "s.toml", SMALL_SPEC))
    report = runner.run_sweep(
        spec, tmp_path / "out", workers=2, run_fn=helpers.failing_run_city, progress=False
    )
    assert (report.done, report.failed) == (4, 4)
    assert len(store.read_failures(tmp_path / "out")) == 4


def test_a_run_that_kills_its_worker_is_blamed_alone(tmp_path: Path) -> None:
    """Runs caught in the crashed pool are retried one at a time, so only the runs that kill
    their worker are recorded as failed; every other run is stored."""
    spec = load_spec(write_spec(tmp_path / "s.toml", SMALL_SPEC))
    report = runner.run_sweep(
        spec, tmp_path / "out", workers=2, run_fn=helpers.crashing_run_city, progress=False
    )
    failures = store.read_failures(tmp_path / "out")
    assert (report.done, report.failed) == (SMALL_RUNS - 2, 2)
    assert {(f["preset"], f["replication"]) for f in failures} == {("emerging", 0)}


def test_runs_of_other_code_are_never_reused(tmp_path: Path, monkeypatch) -> None:
    """The code digest is part of every run id: after an edit of the model's code (here its
    digest), resume runs everything again and leaves the old files alone, unread."""
    spec_path = write_spec(tmp_path / "s.toml", SMALL_SPEC)
    sweep_into(spec_path, tmp_path / "out", workers=1)
    before = sorted(p.name for p in (tmp_path / "out" / "runs").glob("*.parquet"))
    monkeypatch.setattr(runner.model, "code_version", lambda: "edited-code")
    report = sweep_into(spec_path, tmp_path / "out", workers=1, resume=True)
    assert (report.skipped, report.done) == (0, SMALL_RUNS)
    assert sorted(report.foreign) == before
    results = store.load_results(tmp_path / "out")
    assert results["run_id"].nunique() == SMALL_RUNS
    assert not set(results["run_id"]) & {name.removesuffix(".parquet") for name in before}


def test_resume_skips_stored_runs(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "s.toml", SMALL_SPEC)
    sweep_into(spec_path, tmp_path / "out", workers=1)
    report = sweep_into(spec_path, tmp_path / "out", workers=1, resume=True)
    assert (report.skipped, report.done) == (SMALL_RUNS, 0)


INTERRUPTIBLE = """
import sys
sys.path.insert(0, {tests!r})
import test_experiments_helpers as helpers
from smartcity.experiments import runner
from smartcity.experiments.spec import load_spec

if __name__ == "__main__":
    report = runner.run_sweep(load_spec(sys.argv[1]), sys.argv[2], workers=2,
                              run_fn=helpers.slow_run_city, progress=False,
                              resume="--resume" in sys.argv)
    sys.exit(130 if report.interrupted else 0)
"""


def test_interrupted_sweep_keeps_complete_files_and_resume_completes_it(tmp_path: Path) -> None:
    # 12 runs, at most 4 in flight: the signal lands well before the end.
    spec_path = write_spec(
        tmp_path / "s.toml", SMALL_SPEC.replace("replications = 2", "replications = 3")
    )
    script = tmp_path / "drive.py"
    script.write_text(INTERRUPTIBLE.format(tests=str(TESTS)), encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(spec_path), str(out)], cwd=ROOT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while len(list((out / "runs").glob("*.parquet"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    # Like Ctrl-C in a terminal: the whole process group, workers included.
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 130

    stored = list((out / "runs").glob("*.parquet"))
    assert 2 <= len(stored) < 12
    assert not [p for p in (out / "runs").iterdir() if p.suffix != ".parquet"]
    for path in stored:
        assert len(pd.read_parquet(path)) == 9  # every file on disk is complete

    resumed = subprocess.run(
        [sys.executable, str(script), str(spec_path), str(out), "--resume"], cwd=ROOT
    )
    assert resumed.returncode == 0
    sweep_into(spec_path, tmp_path / "whole", workers=1)
    pd.testing.assert_frame_equal(
        store.load_results(out), store.load_results(tmp_path / "whole"), check_exact=True
    )


BAD_SPECS = {
    "unknown parameter": (
        SMALL_SPEC.replace('"citizens.count" = 100', '"citizens.cout" = 100'),
        "did you mean 'citizens.count'",
    ),
    "out of range": (
        SMALL_SPEC.replace('"citizens.count" = 100', '"citizens.count" = 10'),
        "out of range",
    ),
    "empty grid": ('presets = ["mature"]\nroot_seed = 1\nyears = 1\n[grid]\n', "[grid] is empty"),
    "empty grid values": (
        'presets = ["mature"]\nroot_seed = 1\nyears = 1\n[grid]\n"citizens.count" = []\n',
        "at least 1 item",
    ),
    "wrong type": (
        SMALL_SPEC.replace("years = 2", 'years = "2"'),
        "years = '2' has the wrong type",
    ),
    "unknown preset": (SMALL_SPEC.replace('"emerging"', '"emergin"'), "did you mean 'emerging'"),
    "unknown policy": (
        SMALL_SPEC.replace('name = "small"', 'policies = ["mature-reactivat"]'),
        "did you mean 'mature-reactivate'",
    ),
    "policy table names another preset": (
        SMALL_SPEC.replace('name = "small"', 'policies = {matur = ["baseline"]}'),
        "names preset 'matur'; did you mean 'mature'?",
    ),
    "no replications": (
        SMALL_SPEC.replace("replications = 2", "replications = 0"),
        "greater than or equal to 1",
    ),
    "unknown key": (SMALL_SPEC.replace("[grid]", "[gird]"), "did you mean 'grid'"),
    "not toml": ("presets = [", "invalid TOML"),
}


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_bad_spec_exits_2_with_one_line_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, expected = BAD_SPECS[case]
    spec_path = write_spec(tmp_path / "bad.toml", body)
    out = tmp_path / "out"

    assert cli(["sweep", str(spec_path), "--out", str(out), "--workers", "1"]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_unreachable_scheduler_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_path = write_spec(tmp_path / "s.toml", SMALL_SPEC)
    out = tmp_path / "out"
    status = cli(["sweep", str(spec_path), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "cannot reach Dask scheduler" in err, err
    assert not out.exists()


def test_sweep_refuses_an_existing_store_without_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec_path = write_spec(tmp_path / "s.toml", SMALL_SPEC)
    assert cli(["sweep", str(spec_path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    assert cli(["sweep", str(spec_path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_compare_writes_tables_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    argv = ["compare", "--out", str(out), "--replications", "2", "--years", "2"]
    assert cli([*argv, "--workers", "1", "--set", "citizens.count=100"]) == 0

    summary = pd.read_csv(out / "summary.csv")
    paths = summary.groupby("preset")["policy"].unique()
    # Each preset runs the baseline and its own development paths (white paper 5.1).
    assert {"baseline", "mature-reactivate"} <= set(paths["mature"])
    assert {"baseline", "emerging-breakthrough"} <= set(paths["emerging"])
    assert not any(p.startswith("mature-") for p in paths["emerging"])
    assert {"n", "mean", "ci_low", "ci_high", "unit", "year"} <= set(summary.columns)
    assert set(summary["n"]) == {2}
    assert (summary["ci_low"] <= summary["mean"]).all()
    assert (summary["mean"] <= summary["ci_high"]).all()
    assert sorted(summary["year"].unique()) == [0, 1, 2]
    assert {"demand_advancement_index", "gdp_per_capita"} <= set(summary["metric"])
    horizon = pd.read_csv(out / "horizon.csv")
    assert set(horizon["year"]) == {2}
    differences = pd.read_csv(out / "differences.csv")  # package minus baseline, paired
    assert "baseline" not in set(differences["policy"])
    assert {"mature-reactivate", "emerging-breakthrough"} <= set(differences["policy"])
    for name in ("indices.png", "headline.png", "horizon.png"):
        assert (out / "figures" / name).stat().st_size > 10_000

    # Rerunning the same comparison reuses the stored runs; other settings are refused.
    assert cli([*argv, "--workers", "1", "--set", "citizens.count=100"]) == 0
    assert cli([*argv, "--workers", "1", "--set", "citizens.count=120"]) == 2


SENSITIVITY_SPEC = """
presets = ["mature"]
root_seed = 5
years = 1

[overrides]
"citizens.count" = 100

[sensitivity]
samples = 3
metrics = ["gdp_per_capita"]
statistic = "last_year_mean"

[sensitivity.bounds]
"citizens.digital_literacy_mean" = [0.2, 0.8]
"citizens.count" = [60, 200]
"""


def test_sensitivity_morris_writes_mu_star_table(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "sa.toml", SENSITIVITY_SPEC)
    out = tmp_path / "sa"
    argv = ["sensitivity", str(spec_path), "--method", "morris", "--out", str(out)]
    assert cli([*argv, "--workers", "1"]) == 0

    table = pd.read_csv(out / "indices_morris.csv")
    assert sorted(table["parameter"]) == ["citizens.count", "citizens.digital_literacy_mean"]
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(table.columns)
    assert table["mu_star"].notna().all() and (table["mu_star"] >= 0).all()
    assert (out / "indices_morris.png").stat().st_size > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["runs"]) == 3 * (2 + 1)  # N trajectories of k + 1 points

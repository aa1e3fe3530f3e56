"""Batch experiments: reproducibility across executors, resume, failures, bad specs, outputs."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import test_experiments_fakes as fakes

from experiments import compare, model, runner, sensitivity, store, sweep
from experiments.spec import load_spec

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# Small enough that a run takes well under a second.
TINY = {"citizens.count": 100}


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "preset_names", lambda: fakes.PRESETS)
    monkeypatch.setattr(model, "policy_names", lambda: ["baseline"])
    monkeypatch.setattr(model, "resolve_point", fakes.resolve_point)
    monkeypatch.setattr(model, "parameter_error_type", lambda: fakes.FakeParameterError)
    monkeypatch.setattr(model, "metric_units", lambda: fakes.METRICS)


RUN_FN = fakes.run_city


def write_spec(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


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


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smartcity")
    subparsers = parser.add_subparsers(required=True)
    for module in (sweep, compare, sensitivity):
        module.register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


def sweep_into(spec_path: Path, out: Path, **kwargs) -> runner.SweepReport:
    return runner.run_sweep(load_spec(spec_path), out, run_fn=RUN_FN, progress=False, **kwargs)


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
    assert len(one) == 2 * 2 * 2 * 9  # points x presets x replications x kept steps
    pd.testing.assert_frame_equal(one, store.load_results(tmp_path / "two"), check_exact=True)
    pd.testing.assert_frame_equal(one, store.load_results(tmp_path / "dask"), check_exact=True)


def test_paths_share_seeds_and_replications_differ(tmp_path: Path) -> None:
    tasks = runner.plan_runs(load_spec(write_spec(tmp_path / "s.toml", SMALL_SPEC)))
    seeds = {(t.preset, t.design_point, t.replication): t.seed().spawn_key for t in tasks}
    assert seeds["mature", 1, 0] == seeds["emerging", 1, 0] == (1, 0)
    assert len({t.run_id for t in tasks}) == len(tasks)


def test_manifest_records_spec_parameters_and_seeds(tmp_path: Path) -> None:
    sweep_into(write_spec(tmp_path / "s.toml", SMALL_SPEC), tmp_path / "out")
    manifest = store.read_manifest(tmp_path / "out")
    assert manifest["spec"]["root_seed"] == 11
    assert (
        manifest["design_points"][1]["resolved"]["mature"]["citizens.digital_literacy_mean"] == 0.7
    )
    assert len(manifest["runs"]) == 8
    assert manifest["package_version"]


def test_failing_run_is_retried_once_recorded_and_others_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def flaky(preset, **kwargs):
        calls.append(preset)
        return fakes.failing_run_city(preset, **kwargs)

    spec = load_spec(write_spec(tmp_path / "s.toml", SMALL_SPEC))
    report = runner.run_sweep(spec, tmp_path / "out", run_fn=flaky, progress=False)

    failures = store.read_failures(tmp_path / "out")
    assert report.failed == len(failures) == 4  # every emerging run
    assert {f["attempts"] for f in failures} == {2}
    assert calls.count("emerging") == 8  # 4 runs, each tried twice
    assert "injected failure" in failures[0]["error"]
    assert set(store.load_results(tmp_path / "out")["preset"]) == {"mature"}


def test_resume_skips_stored_runs(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "s.toml", SMALL_SPEC)
    sweep_into(spec_path, tmp_path / "out")
    report = sweep_into(spec_path, tmp_path / "out", resume=True)
    assert (report.skipped, report.done) == (8, 0)


INTERRUPTIBLE = """
import sys, time
sys.path.insert(0, {tests!r})
import test_experiments_fakes as fakes
from experiments import model, runner
from experiments.spec import load_spec

model.resolve_point = fakes.resolve_point
model.preset_names = lambda: fakes.PRESETS
model.metric_units = lambda: fakes.METRICS
model.policy_names = lambda: ["baseline"]
model.parameter_error_type = lambda: fakes.FakeParameterError

def slow(preset, **kw):
    time.sleep(0.3)
    return fakes.run_city(preset, **kw)

if __name__ == "__main__":
    report = runner.run_sweep(load_spec(sys.argv[1]), sys.argv[2], workers=1,
                              run_fn=slow, progress=False, resume="--resume" in sys.argv)
    sys.exit(130 if report.interrupted else 0)
"""


def test_interrupted_sweep_keeps_complete_files_and_resume_completes_it(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path / "s.toml", SMALL_SPEC)
    script = tmp_path / "drive.py"
    script.write_text(INTERRUPTIBLE.format(tests=str(TESTS)), encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(script), str(spec_path), str(out)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while len(list((out / "runs").glob("*.parquet"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130

    stored = list((out / "runs").glob("*.parquet"))
    assert 3 <= len(stored) < 8
    assert not [p for p in (out / "runs").iterdir() if p.suffix != ".parquet"]
    for path in stored:
        pd.read_parquet(path)  # every file on disk is complete

    resumed = subprocess.run(
        [sys.executable, str(script), str(spec_path), str(out), "--resume"], cwd=ROOT
    )
    assert resumed.returncode == 0
    sweep_into(spec_path, tmp_path / "whole")
    pd.testing.assert_frame_equal(
        store.load_results(out), store.load_results(tmp_path / "whole"), check_exact=True
    )


BAD_SPECS = {
    "unknown parameter": (
        SMALL_SPEC.replace('"citizens.count" = 100', '"citizens.cout" = 100'),
        "did you mean",
    ),
    "empty grid": ('presets = ["mature"]\nroot_seed = 1\nyears = 1\n[grid]\n', "[grid] is empty"),
    "empty grid values": (
        'presets = ["mature"]\nroot_seed = 1\nyears = 1\n[grid]\n"citizens.count" = []\n',
        "has no values",
    ),
    "wrong type": (SMALL_SPEC.replace("years = 2", 'years = "2"'), "'years' must be an integer"),
    "unknown preset": (SMALL_SPEC.replace('"emerging"', '"emergin"'), "did you mean 'emerging'"),
    "unknown policy": (
        SMALL_SPEC.replace('name = "small"', 'policies = ["smart"]'),
        "unknown policy 'smart'",
    ),
    "no replications": (SMALL_SPEC.replace("replications = 2", "replications = 0"), ">= 1"),
    "not toml": ("presets = [", "not valid TOML"),
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
    sweep_into(spec_path, tmp_path / "out")
    assert cli(["sweep", str(spec_path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_compare_writes_tables_and_figures(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(model, "run_city", RUN_FN)
    out = tmp_path / "cmp"
    argv = ["compare", "--out", str(out), "--replications", "3", "--years", "2", "--workers", "1"]
    argv += [f"--set={k}={v}" for k, v in TINY.items()]
    assert cli(argv) == 0

    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["preset"]) == {"mature", "emerging"}
    assert {"mean", "ci_low", "ci_high", "unit", "year"} <= set(summary.columns)
    assert (summary["ci_low"] <= summary["mean"]).all()
    assert sorted(summary["year"].unique()) == [0, 1, 2]
    horizon = pd.read_csv(out / "horizon.csv")
    assert set(horizon["year"]) == {2}
    for name in ("indices.png", "headline.png", "horizon.png"):
        assert (out / "figures" / name).stat().st_size > 0


SENSITIVITY_SPEC = """
presets = ["mature"]
root_seed = 5
years = 1

[overrides]
"citizens.count" = 100

[sensitivity]
samples = 4
metrics = ["gdp_per_capita"]
statistic = "last_year_mean"

[sensitivity.bounds]
"citizens.digital_literacy_mean" = [0.2, 0.8]
"citizens.count" = [60, 200]
"""


def test_sensitivity_morris_writes_mu_star_table(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(model, "run_city", RUN_FN)
    spec_path = write_spec(tmp_path / "sa.toml", SENSITIVITY_SPEC)
    out = tmp_path / "sa"
    assert (
        cli(
            [
                "sensitivity",
                str(spec_path),
                "--method",
                "morris",
                "--out",
                str(out),
                "--workers",
                "1",
            ]
        )
        == 0
    )

    table = pd.read_csv(out / "indices_morris.csv")
    assert set(table["parameter"]) == {"citizens.digital_literacy_mean", "citizens.count"}
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(table.columns)
    # gdp per capita of the fake depends on literacy only
    by_param = table.set_index("parameter")["mu_star"]
    assert by_param["citizens.digital_literacy_mean"] > by_param["citizens.count"]
    assert (out / "indices_morris.png").exists()
    assert len(json.loads((out / "manifest.json").read_text())["runs"]) == 4 * 3

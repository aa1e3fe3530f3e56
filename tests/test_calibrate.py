"""Calibration (experiments/calibrate.py): fitting free parameters to target patterns."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smartcity.cli import main
from smartcity.experiments.calibrate import (
    CalibrationSpec,
    FreeParameter,
    Target,
    calibrate,
    parse_calibration_spec,
    simulate_targets,
)
from smartcity.experiments.runner import InlineExecutor
from smartcity.simulation.world.schema import toml_text

SMALL = {"citizens.count": 1500}
TRUE_LITERACY = 0.5
YEARS = 3


def _synthetic_target() -> float:
    """digital_adoption at year 3 of a small city with a known mean digital literacy."""
    spec = CalibrationSpec(
        preset="emerging",
        parameters=[],
        targets=[Target("digital_adoption", YEARS, 0.0)],
        years=YEARS,
        replications=2,
        root_seed=11,
        overrides=SMALL,
    )
    values = {"citizens.digital_literacy_mean": TRUE_LITERACY}
    return simulate_targets(spec, values, InlineExecutor())[0]


@pytest.mark.slow
def test_calibration_recovers_a_known_parameter(tmp_path: Path) -> None:
    """A target made by the model with mean literacy 0.5 is fitted back within 10%."""
    target = _synthetic_target()
    spec = CalibrationSpec(
        preset="emerging",
        parameters=[FreeParameter("citizens.digital_literacy_mean", 0.2, 0.9)],
        targets=[Target("digital_adoption", YEARS, target)],
        years=YEARS,
        replications=2,
        root_seed=11,  # the target's seeds: the fit is then exact at the true value
        trials=20,
        overrides=SMALL,
    )
    result = calibrate(spec)
    fitted = result.best["citizens.digital_literacy_mean"]
    assert abs(fitted - TRUE_LITERACY) / TRUE_LITERACY < 0.10, result.trace
    assert len(result.trace) == 20
    assert result.loss == result.trace["loss"].min()


def test_calibrate_command_writes_a_preset_that_runs(tmp_path: Path, capsys) -> None:
    """The best values come back as a preset TOML extending the calibrated one."""
    spec = tmp_path / "spec.toml"
    spec.write_text(
        """
name = "tiny"
preset = "mature"
years = 1
replications = 2
trials = 3
sampler = "random"
[overrides]
"citizens.count" = 800
[parameters."citizens.digital_literacy_mean"]
low = 0.3
high = 0.8
[[targets]]
metric = "digital_adoption"
year = 1
value = 0.4
""",
        encoding="utf-8",
    )
    out = tmp_path / "cal"
    assert main(["calibrate", str(spec), "--out", str(out), "--workers", "1"]) == 0
    trace = pd.read_csv(out / "trace.csv")
    assert list(trace["trial"]) == [0, 1, 2]
    best = tomllib.loads((out / "best.toml").read_text())
    assert best["extends"] == "mature"
    value = best["citizens"]["digital_literacy_mean"]
    assert 0.3 <= value <= 0.8
    assert value == pytest.approx(
        trace.loc[trace["loss"].idxmin(), "citizens.digital_literacy_mean"]
    )
    # The uncertainty of the fit: each replication's own loss, the spread of the best
    # trials, the loss along the parameter.
    assert {"loss:replication 0", "loss:replication 1"} <= set(trace.columns)
    spread = pd.read_csv(out / "uncertainty.csv").set_index("parameter")
    row = spread.loc["citizens.digital_literacy_mean"]
    assert row["best_trials"] == 3 and row["min"] <= row["best"] <= row["max"]
    assert (out / "profile.png").stat().st_size > 0
    # The calibration's own city size is a speed choice, not part of the preset.
    assert "count" not in best.get("citizens", {})
    # The written preset is a valid preset: it runs.
    run = tmp_path / "run"
    argv = ["run", "--preset", str(out / "best.toml"), "--years", "1", "--out", str(run)]
    assert main([*argv, "--set", "citizens.count=500"]) == 0


def test_same_spec_same_trace(tmp_path: Path) -> None:
    """A calibration is reproducible: same spec, same trials, same losses, any worker count."""
    raw = {
        "preset": "mature",
        "years": 1,
        "replications": 2,
        "trials": 3,
        "overrides": {"citizens.count": 600},
        "parameters": {"citizens.adoption_innovation": {"low": 0.01, "high": 0.2}},
        "targets": [{"metric": "digital_adoption", "year": 1, "value": 0.3}],
    }
    spec = parse_calibration_spec(raw)
    one = calibrate(spec, workers=1).trace
    two = calibrate(spec, workers=2).trace
    pd.testing.assert_frame_equal(one, two)
    assert np.isfinite(one["loss"]).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"preset": "atlantis"}, "unknown preset"),
        ({"parameters": {"citizens.no_such": {"low": 0, "high": 1}}}, "no_such"),
        (
            {"parameters": {"citizens.digital_literacy_mean": {"low": 0.5, "high": 0.2}}},
            "low must be below high",
        ),
        (
            {"parameters": {"citizens.digital_literacy_mean": {"low": 0.5, "high": 2.0}}},
            "digital_literacy_mean",
        ),
        (
            {"targets": [{"metric": "gdp_per_capitta", "year": 1, "value": 1}]},
            "did you mean 'gdp_per_capita'",
        ),
        ({"targets": [{"metric": "gdp", "year": 9, "value": 1}]}, "year"),
        ({"targets": [{"metric": "gdp", "year": 1, "value": float("inf")}]}, "finite"),
        ({"trails": 3}, "did you mean 'trials'"),
        ({"sampler": "grid"}, "use one of 'tpe', 'random' or 'qmc'"),
    ],
)
def test_bad_calibration_specs_are_one_line_exit_2(tmp_path, capsys, change, message) -> None:
    raw = {
        "preset": "mature",
        "years": 2,
        "parameters": {"citizens.digital_literacy_mean": {"low": 0.3, "high": 0.8}},
        "targets": [{"metric": "digital_adoption", "year": 1, "value": 0.4}],
        **change,
    }
    spec = tmp_path / "spec.toml"
    spec.write_text(toml_text(raw), encoding="utf-8")
    out = tmp_path / "cal"
    assert main(["calibrate", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()


CASE_CALIBRATIONS = sorted(
    (Path(__file__).resolve().parents[1] / "docs" / "calibration").glob("*.toml")
)


@pytest.mark.parametrize("path", CASE_CALIBRATIONS, ids=lambda p: p.stem)
def test_case_calibrations_are_valid_specs_folded_into_their_presets(path: Path) -> None:
    """Each calibration of a case preset (docs/calibration) is a valid spec; its preset
    names it and carries a fitted value inside the search bounds, away from the default."""
    from smartcity.experiments import model
    from smartcity.simulation.world.parameters import Parameters

    spec = parse_calibration_spec(tomllib.loads(path.read_text()), str(path))
    root = Path(__file__).resolve().parents[1]
    preset_file = root / "simulation" / "world" / "presets"
    assert f"docs/calibration/{path.name}" in (preset_file / f"{spec.preset}.toml").read_text()
    resolved = model.resolve_point(spec.preset, {})
    defaults = Parameters().as_flat_dict()
    for parameter in spec.parameters:
        value = resolved[parameter.key]
        assert parameter.low <= value <= parameter.high
        assert value != defaults[parameter.key]
    validation = (root / "docs" / "validation.md").read_text()
    assert f"docs/calibration/{path.name}" in validation

"""Scenario discovery recovers a planted rule; the designer finds a known best mix.

Both run on cheap stand-ins: `discover` on an experiments table whose outcome follows a
rule written here, `design` on a run function whose metrics follow the levers of the
package it is given, so the right answers are known exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import explore_helpers as helpers
import numpy as np
import pandas as pd
import pytest

from smartcity.cli import main as cli
from smartcity.experiments import design, explore
from smartcity.policies.packages import load_package

X1, X2 = 0.6, 0.3  # the planted thresholds


def planted_exploration(out: Path, runs: int = 1000, seed: int = 4) -> None:
    """An exploration whose outcome is high exactly when x1 > X1 and x2 > X2 (x3 is noise)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(runs, 3))
    high = (x[:, 0] > X1) & (x[:, 1] > X2)
    table = pd.DataFrame(
        {
            "run_id": [f"{i:016x}" for i in range(runs)],
            "preset": "mature",
            "policy": "baseline",
            "title": "Baseline",
            "design_point": np.arange(runs),
            "replication": 0,
            "seed_entropy": 1,
            "citizens.digital_literacy_mean": x[:, 0],
            "city.ict_coverage": x[:, 1],
            "firms.entry_rate": x[:, 2],
            "gain": np.where(high, 1.0, 0.0) + rng.normal(0, 0.05, runs),
        }
    )
    out.mkdir(parents=True)
    table.to_parquet(out / explore.EXPERIMENTS)
    factors = [
        {"key": k, "low": 0.0, "high": 1.0, "values": [], "integer": False}
        for k in ("citizens.digital_literacy_mean", "city.ict_coverage", "firms.entry_rate")
    ]
    record = {
        "spec": {"years": 2, "replications": 1, "overrides": {"citizens.count": 100}},
        "uncertainties": factors,
        "levers": [],
        "outcomes": [{"name": "gain"}],
    }
    (out / explore.EXPLORATION).write_text(json.dumps(record), encoding="utf-8")


def test_discover_recovers_a_planted_box(tmp_path: Path) -> None:
    planted_exploration(tmp_path / "x")
    assert cli(["discover", str(tmp_path / "x"), "--where", "gain > 0.5"]) == 0

    box = pd.read_csv(tmp_path / "x" / "discover" / "box.csv").set_index("input")
    assert set(box.index) == {"citizens.digital_literacy_mean", "city.ict_coverage"}
    assert box.loc["citizens.digital_literacy_mean", "low"] == pytest.approx(X1, rel=0.1)
    assert box.loc["city.ict_coverage", "low"] == pytest.approx(X2, rel=0.1)
    assert (box["coverage"] > 0.8).all() and (box["density"] > 0.8).all()
    scores = pd.read_csv(tmp_path / "x" / "discover" / "feature_scores.csv", index_col="input")
    # The noise input matters least for the outcome.
    assert scores["gain"].idxmin() == "firms.entry_rate"
    # CART finds the same box: its best leaf restricts the two inputs at their thresholds.
    cart = pd.read_csv(tmp_path / "x" / "discover" / "cart_boxes.csv")
    best = cart[cart["box"] == 0].set_index("input")
    assert set(best.index) == {"citizens.digital_literacy_mean", "city.ict_coverage"}, cart
    assert best.loc["citizens.digital_literacy_mean", "low"] == pytest.approx(X1, rel=0.1)
    assert best.loc["city.ict_coverage", "low"] == pytest.approx(X2, rel=0.1)
    assert (best["coverage"] > 0.8).all() and (best["density"] > 0.8).all()
    assert (
        "CART boxes for `gain > 0.5`" in (tmp_path / "x" / "discover" / "discover.md").read_text()
    )
    for figure in ("peeling_trajectory.png", "cart_boxes.png", "feature_scores.png"):
        assert (tmp_path / "x" / "discover" / figure).stat().st_size > 0


@pytest.mark.parametrize(
    ("where", "expected"),
    [("gian > 0", "cannot be evaluated"), ("gain + 1", "not a condition"),
     ("gain > 9", "no run of 50 meets the condition")],
)  # fmt: skip
def test_discover_bad_condition_is_one_line_exit_2(
    where: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted_exploration(tmp_path / "x", runs=50)
    assert cli(["discover", str(tmp_path / "x"), "--where", where]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "x" / "discover").exists()


DESIGN_SPEC = """
presets = ["mature"]
years = 1
root_seed = 3

[overrides]
"citizens.count" = 100

[uncertainties]
"citizens.digital_literacy_mean" = [0.3, 0.7]

[levers]
unified_platform = {values = [false, true]}
"initiatives.online_government.financing" = {values = ["government", "ppp", "franchise"]}
"initiatives.online_government.scale" = {values = [0.5, 1.0, 1.5]}

[outcomes]
governance = {metric = "governance_index"}
cost = {metric = "public_spending", direction = "minimize"}

[sampler]
scenarios = 3

[design]
generations = 6
population = 6
seed = 1
"""


def test_design_finds_the_known_best_mix_on_the_front(tmp_path: Path) -> None:
    out = tmp_path / "design"
    result = design.run_design(
        write_text(tmp_path / "spec.toml", DESIGN_SPEC), "mature", 0.1, out,
        run_fn=helpers.lever_stand_in, progress=False,
    )  # fmt: skip
    front = result.front
    best = (
        front["unified_platform"]
        & (front["initiatives.online_government.financing"] == "ppp")
        & (front["initiatives.online_government.scale"] == 1.0)
    )
    # The stand-in's best mix dominates every other, so it is the whole front.
    assert best.all() and len(front) == 1, front
    package = load_package(result.packages[0])
    assert package.unified_platform
    (plan,) = package.initiatives
    assert (plan.spec.name, plan.financing.name, plan.scale) == ("online_government", "ppp", 1.0)
    assert package.title.startswith("Design front 0 (mature, envelope 0.1)")
    assert (out / "figures" / "front.png").stat().st_size > 0
    assert "| 0 | true | ppp | 1 |" in (out / "front.md").read_text()
    # Every mix ran at the same envelope over the same uncertainty points (paired seeds).
    runs = pd.read_parquet(out / "generations" / "00" / explore.EXPERIMENTS)
    assert runs.groupby("policy")["design_point"].apply(sorted).map(tuple).nunique() == 1


REGRET_SPEC = """
presets = ["mature"]
years = 1
root_seed = 3

[overrides]
"citizens.count" = 100

[uncertainties]
"citizens.digital_literacy_mean" = [0.3, 0.7]

[levers]
"initiatives.online_government.scale" = {values = [0.5, 1.0, 1.5]}

[outcomes]
governance = {metric = "governance_index"}

[sampler]
scenarios = 3

[design]
generations = 3
population = 4
seed = 2
"""


@pytest.mark.parametrize(("robustness", "best"), [("mean", 1.5), ("regret", 1.0)])
def test_minimax_regret_avoids_the_mix_best_on_average_that_fails_in_one_scenario(
    robustness: str, best: float, tmp_path: Path
) -> None:
    out = tmp_path / robustness
    result = design.run_design(
        write_text(tmp_path / "spec.toml", REGRET_SPEC), "mature", 0.1, out,
        run_fn=helpers.regret_stand_in, progress=False, robustness=robustness,
    )  # fmt: skip
    front = result.front
    assert set(front["initiatives.online_government.scale"]) == {best}, front
    # Scale 1.5 is best on average (1.6 at two points, 0 at the low one) but regrets 1.0
    # there; scale 1 regrets 0.6 (1.6 - 1.0 at the two others).
    trials = result.trials.drop_duplicates("initiatives.online_government.scale")
    by_scale = trials.set_index("initiatives.online_government.scale")
    assert by_scale.loc[1.5, "governance"] == pytest.approx(3.2 / 3)
    assert by_scale.loc[1.5, "governance_regret"] == pytest.approx(1.0)
    assert by_scale.loc[1.0, "governance_regret"] == pytest.approx(0.6)
    # The per-scenario outcomes are kept, so the regret can be recomputed from them.
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert len(outcomes) == len(result.trials) * 3
    again = design.max_regret(outcomes, "governance", "maximize")
    front_csv = pd.read_csv(out / "front.csv")
    np.testing.assert_allclose(
        again.loc[front_csv["mix"]].to_numpy(), front_csv["governance_regret"].to_numpy()
    )
    assert "governance max regret" in (out / "front.md").read_text()


def test_a_front_package_runs_with_smartcity_run(tmp_path: Path) -> None:
    out = tmp_path / "design"
    spec = DESIGN_SPEC.replace("generations = 6", "generations = 1").replace(
        "population = 6", "population = 2"
    )
    result = design.run_design(write_text(tmp_path / "s.toml", spec), "mature", 0.1, out,
                               run_fn=helpers.lever_stand_in, progress=False)  # fmt: skip
    argv = ["run", "--preset", "mature", "--policy", str(result.packages[0]), "--years", "1",
            "--set", "citizens.count=100", "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    assert cli(argv) == 0
    assert (tmp_path / "run" / "metrics.parquet").exists()


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_views_paired_interval_matches_the_t_interval_of_the_differences() -> None:
    from scipy import stats

    from smartcity.simulation.world.statistics import paired_interval

    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 7))
    b = a + rng.normal(0.3, 0.1, size=(5, 7))
    mean, low, high = paired_interval(a, b)
    diffs = b - a
    half = stats.t.ppf(0.975, 4) * diffs.std(axis=0, ddof=1) / np.sqrt(5)
    np.testing.assert_allclose(mean, diffs.mean(axis=0))
    np.testing.assert_allclose(high - mean, half)
    np.testing.assert_allclose(mean - low, half)
    one = paired_interval(a[:1], b[:1])
    np.testing.assert_array_equal(one[1], one[0])  # one seed: the interval is the mean


@pytest.mark.parametrize(
    ("change", "budget", "expected"),
    [
        (lambda s: s.split("[levers]")[0] + s[s.index("[outcomes]") :], "0.1",
         "[levers] is empty"),
        (lambda s: s, "1.5", "--budget 1.5 is out of range"),
        (lambda s: s.replace('direction = "minimize"', 'direction = "down"'), "0.1",
         "direction"),
        (lambda s: s.replace("population = 6", "population = 1"), "0.1", "population"),
        (lambda s: s.replace("seed = 1\n", 'seed = 1\nrobustness = "worst"\n'), "0.1",
         "robustness"),
    ],
)  # fmt: skip
def test_bad_design_is_one_line_exit_2_and_writes_nothing(
    change, budget: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_text(tmp_path / "bad.toml", change(DESIGN_SPEC))
    out = tmp_path / "out"
    argv = ["design", str(spec), "--preset", "mature", "--budget", budget, "--out", str(out)]
    assert cli([*argv, "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err
    assert not out.exists()


def test_a_mix_with_a_failed_run_is_scored_nan_not_on_fewer_scenarios():
    """A run that failed leaves no row in the store: its mix gets NaN (told FAIL to the
    optimizer) instead of a mean over the scenarios that ran, or a KeyError when every run
    of the mix failed."""
    table = pd.DataFrame(
        {"policy": ["m0", "m0", "m1"], "design_point": [0, 1, 0], "replication": [0, 0, 0],
         "g": [1.0, 2.0, 3.0]}
    )  # fmt: skip
    mixes = {name: (0, trial, f"gen/00/{name}") for trial, name in enumerate(["m0", "m1", "m2"])}
    runs = design.generation_outcomes(table, mixes, ["g"])
    objective = SimpleNamespace(name="g", direction="maximize")
    scores = design.robust_values(runs, [objective], "mean")
    assert scores.loc["gen/00/m0", "g"] == 1.5
    assert scores.loc[["gen/00/m1", "gen/00/m2"]].isna().all(axis=None)

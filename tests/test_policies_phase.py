"""Time-phased initiatives: a plan's stop year ends the initiative's spending and effects and
keeps what it built; a stop not after the start is refused in one line; a stop beyond the
horizon is one warning line; moving start and stop years the run has not reached, mid-run,
gives the same run as a fresh one with the new years (policies/initiatives.py,
policies/runtime.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from smartcity.cli import main
from smartcity.policies.packages import load_package
from smartcity.simulation.model import CityModel
from smartcity.simulation.world.errors import InputError

TINY = {"citizens__count": 1500}
SENSING = "environmental_sensing"  # grows district IoT coverage (its [district_growth])


def _package(tmp_path, plan: str, name: str = SENSING) -> str:
    path = tmp_path / "p.toml"
    path.write_text(f'[initiatives.{name}]\nfinancing = "government"\n{plan}')
    return str(path)


def _spending_and_iot(model: CityModel, steps: int) -> tuple[list[float], list[float]]:
    spent, iot = [], []
    for _ in range(steps):
        model.step()
        spent.append(model.government.accounts["initiatives"])
        iot.append(float(model.districts.iot.mean()))
    return spent, iot


def test_a_stopped_initiative_spends_nothing_adds_no_effect_and_keeps_what_it_built(tmp_path):
    model = CityModel("mature", seed=3, policy=_package(tmp_path, "stop_year = 1.5\n"), **TINY)
    spent, iot = _spending_and_iot(model, 30)
    before, after = spent[:18], spent[18:]  # step k+1 is at year k / 12: step 19 at 1.5
    assert all(s > 0 for s in before) and all(s == 0 for s in after)
    initiative = model.policy_runtime.initiatives[0]
    assert initiative.strength == 0 and model.policy_runtime.running() == []
    assert all(later >= iot[17] for later in iot[18:])  # the IoT it grew stays


def test_a_run_is_unchanged_until_the_stop_year(tmp_path):
    stopped = CityModel("mature", seed=3, policy=_package(tmp_path, "stop_year = 1\n"), **TINY)
    (tmp_path / "full").mkdir()
    full = CityModel("mature", seed=3, policy=_package(tmp_path / "full", ""), **TINY)
    _steps(stopped, 24)
    _steps(full, 24)
    a, b = stopped.metrics_frame(), full.metrics_frame()
    pd.testing.assert_frame_equal(a.iloc[:13], b.iloc[:13])  # steps 0-12: years below 1
    assert not a.iloc[13:].equals(b.iloc[13:])


@pytest.mark.parametrize("plan", ["stop_year = 2\n", "start_year = 2\nstop_year = 2\n",
                                  "start_year = 3\nstop_year = 1\n"])  # fmt: skip
def test_a_stop_not_after_the_start_is_refused_in_one_line(tmp_path, plan):
    plan = plan if "start_year" in plan else f"start_year = 2\n{plan}"
    with pytest.raises(InputError) as info:
        CityModel("mature", seed=0, policy=_package(tmp_path, plan), **TINY)
    message = str(info.value)
    assert "\n" not in message and "stop_year" in message and "after start_year" in message


def test_a_stop_beyond_the_horizon_is_one_warning_line(tmp_path, capsys):
    policy = _package(tmp_path, "stop_year = 5\n")
    argv = ["run", "--policy", policy, "--years", "1", "--set", "citizens.count=1500",
            "--out", str(tmp_path / "out"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stops in year 5" in err and "runs to the end" in err, err


def test_moving_years_still_ahead_mid_run_equals_a_fresh_run(tmp_path):
    """Start at year 3 planned; after 1 year the plan becomes start 1.5, stop 2.5: the run
    goes on from year 1 and ends bit for bit where a fresh run of the new plan ends."""
    planned = load_package(_package(tmp_path, "start_year = 3\n"))
    final = replace(
        planned,
        initiatives=tuple(replace(p, start_year=1.5, stop_year=2.5) for p in planned.initiatives),
    )
    moved = CityModel("mature", seed=5, policy=planned, **TINY)
    _steps(moved, 12)
    moved.policy_runtime.reschedule(final)
    _steps(moved, 24)
    fresh = _steps(CityModel("mature", seed=5, policy=final, **TINY), 36)
    kept = _steps(CityModel("mature", seed=5, policy=planned, **TINY), 36)
    pd.testing.assert_frame_equal(moved.metrics_frame(), fresh.metrics_frame())
    assert np.array_equal(moved.districts.iot, fresh.districts.iot)
    assert not np.array_equal(moved.districts.iot, kept.districts.iot)  # the move mattered


def _steps(model: CityModel, steps: int) -> CityModel:
    for _ in range(steps):
        model.step()
    return model

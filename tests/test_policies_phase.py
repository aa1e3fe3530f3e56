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


# --- the package's own lever groups: [phases.sectors|new_infrastructure|unified_platform] ---

LEVERS = {  # the top-level key first, so the three join into one valid TOML file
    "unified_platform": "unified_platform = true\n",
    "sectors": "[sectors]\ndigital = 2.0\n",
    "new_infrastructure": "[new_infrastructure]\ndata_centres = 0.04\nai = 0.03\n",
}
WITH_INITIATIVE = '[initiatives.online_government]\nfinancing = "government"\n'


def _lever_package(tmp_path, name: str, groups: str, phases: str = "") -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(groups + phases + WITH_INITIATIVE)
    return str(path)


def _spending(model: CityModel, steps: int) -> list[float]:
    spent = []
    for _ in range(steps):
        model.step()
        acc = model.government.accounts
        spent.append(acc["initiatives"] + acc["new_infrastructure"])
    return spent


@pytest.mark.parametrize("group", list(LEVERS))
def test_a_lever_group_phased_on_at_year_1_is_no_lever_until_1_and_spends_from_1(tmp_path, group):
    phased = _lever_package(
        tmp_path, "phased", LEVERS[group], f"[phases.{group}]\nstart_year = 1\n"
    )
    phased_model = CityModel("emerging", seed=2, policy=phased, **TINY)
    none_model = CityModel("emerging", seed=2, policy=_lever_package(tmp_path, "none", ""), **TINY)
    spent, spent_without = _spending(phased_model, 24), _spending(none_model, 24)
    assert spent[:12] == spent_without[:12]  # steps 1-12 are at years 0 to 11/12
    a, b = phased_model.metrics_frame(), none_model.metrics_frame()
    pd.testing.assert_frame_equal(a.iloc[:13], b.iloc[:13])
    assert sum(spent[12:]) > sum(spent_without[12:])  # from year 1 it spends


@pytest.mark.parametrize("group", ["sectors", "new_infrastructure"])
def test_a_lever_group_stopped_at_year_1_spends_nothing_after_and_keeps_what_it_built(
    tmp_path, group
):
    path = tmp_path / "p.toml"
    path.write_text(LEVERS[group] + f"[phases.{group}]\nstop_year = 1\n")
    model = CityModel("emerging", seed=2, policy=str(path), **TINY)
    spent = _spending(model, 24)
    assert sum(spent[:12]) > 0 and all(s == 0 for s in spent[12:])
    if group == "new_infrastructure":
        assert model.policy_runtime.infrastructure.capacity["data_centres"] > 0  # it remains


def test_moving_lever_years_still_ahead_mid_run_equals_a_fresh_run(tmp_path):
    """Sectors and the platform planned from year 3, infrastructure always on; after 1 year
    the plan becomes sectors 1.5-2.5, infrastructure stopping at 2 and the platform starting
    at 2: the run goes on from year 1 and ends bit for bit where a fresh run of the new plan
    ends."""
    phases = "[phases.sectors]\nstart_year = 3\n[phases.unified_platform]\nstart_year = 3\n"
    planned = load_package(_lever_package(tmp_path, "p", "".join(LEVERS.values()), phases))
    final = replace(
        planned,
        phases={
            "sectors": replace(planned.phase("sectors"), start_year=1.5, stop_year=2.5),
            "new_infrastructure": replace(planned.phase("new_infrastructure"), stop_year=2.0),
            "unified_platform": replace(planned.phase("unified_platform"), start_year=2.0),
        },
    )
    moved = _steps(CityModel("emerging", seed=5, policy=planned, **TINY), 12)
    moved.policy_runtime.reschedule(final)
    _steps(moved, 24)
    fresh = _steps(CityModel("emerging", seed=5, policy=final, **TINY), 36)
    kept = _steps(CityModel("emerging", seed=5, policy=planned, **TINY), 36)
    pd.testing.assert_frame_equal(moved.metrics_frame(), fresh.metrics_frame())
    assert not moved.metrics_frame().equals(kept.metrics_frame())  # the move mattered


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        ("[phases.sectors]\nstart_year = 3\nstop_year = 1\n", "stop_year 1 is not after"),
        ("[phases.sectors]\nstop_year = 0\n", "stop_year 0 is not after"),
        ("[phases.unified_platform]\nstart_year = 1\n", "sets no unified platform"),
        ("[phases.roads]\nstart_year = 1\n", "phases"),
        ("[phases.sectors]\nstart_year = -1\n", "start_year"),
    ],
)
def test_bad_lever_years_are_refused_in_one_line(tmp_path, phases, expected):
    path = tmp_path / "p.toml"
    path.write_text(LEVERS["sectors"] + phases)
    with pytest.raises(InputError, match=expected) as info:
        load_package(str(path))
    assert "\n" not in str(info.value)


def test_a_lever_group_starting_beyond_the_horizon_is_one_warning_line(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text(LEVERS["sectors"] + "[phases.sectors]\nstart_year = 5\n")
    argv = ["run", "--policy", str(path), "--years", "1", "--set", "citizens.count=1500",
            "--out", str(tmp_path / "out"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lever group sectors starts in year 5" in err, err

"""Policy packages: every shipped path runs on both presets; bad packages and initiative
files are refused with one clear InputError (policies/packages.py)."""

import subprocess
import sys

import numpy as np
import pytest

from smartcity.cli import main
from smartcity.policies.initiatives import initiative_names, load_initiative
from smartcity.policies.packages import load_package, package_names
from smartcity.simulation.model import CityModel
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.schema import toml_text

TINY = {"citizens__count": 1500}


def write_package(path, initiatives=None, tables=None, **top):
    """Write a package TOML: top-level keys, [initiatives.<name>] plans, other tables."""
    document = {"title": "test package", "source": "-", "description": "test"}
    document["unified_platform"] = top.pop("unified_platform", False)
    document.update(top)
    if initiatives:
        document["initiatives"] = initiatives
    document.update(tables or {})
    path.write_text(toml_text(document))
    return str(path)


def write_initiative(path, **changes):
    """A user initiative TOML: a safety initiative with no prerequisites, changed by
    ``changes`` (a dict value is a table)."""
    data = {
        "name": path.stem,
        "title": "user initiative",
        "key_issue": "public_safety",
        "source": "-",
        "description": "a user's initiative written only in TOML",
        "target_metric": "safety_incidents",
        "direction": "down",
        "capital_cost": 0.02,
        "operating_cost": 0.01,
        "build_years": 1.0,
        "adoption": "operability",
        "effects": {"incident_cut": 0.4},
    }
    data.update(changes)
    path.write_text(toml_text(data))
    return str(path)


# --- 7. every shipped package runs ------------------------------------------------------


@pytest.mark.parametrize("preset", ["mature", "emerging"])
@pytest.mark.parametrize("package", package_names())
def test_shipped_package_runs_three_years(package, preset):
    """Each development path runs 3 years on both presets; every metric stays finite and
    the stage columns stay within 0..3."""
    model = CityModel(preset, seed=5, policy=package, **TINY)
    model.run(3)
    frame = model.metrics_frame()
    assert len(frame) == 3 * model.steps_per_year + 1
    numbers = frame.select_dtypes("number")
    bad = [c for c in numbers if not np.isfinite(numbers[c].to_numpy()).all()]
    assert not bad, f"{package} on {preset}: non-finite metrics {bad}"
    stages = frame[[f"stage_{name}" for name in initiative_names()]]
    assert ((stages >= 0) & (stages <= 3)).all().all()
    # the package's own initiatives started (none of the shipped ones starts after year 1)
    for plan in model.package.initiatives:
        if plan.start_year < 3:
            assert frame[f"stage_{plan.spec.name}"].iloc[-1] >= 1, plan.spec.name


def test_shipped_packages_load_and_name_their_source():
    for name in package_names():
        package = load_package(name)
        assert package.name == name
        assert package.source and package.title
        if name != "baseline":
            assert package.initiatives, name


def test_shipped_initiatives_declare_a_target():
    for name in initiative_names():
        spec = load_initiative(name)
        assert spec.name == name
        assert spec.direction in ("up", "down")
        assert spec.target_metric in CityModel("mature", seed=0, **TINY).metrics_frame()


def test_policies_modules_import_on_their_own():
    """Importing a policies module in a fresh interpreter works (no import-order trap)."""
    failed = []
    for module in (
        "smartcity.simulation.world.levers",
        "smartcity.policies.initiatives",
        "smartcity.policies.packages",
    ):
        done = subprocess.run(
            [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
        )
        if done.returncode != 0:
            failed.append(f"{module}: {done.stderr.strip().splitlines()[-1]}")
    assert not failed, failed


# --- 8. bad packages --------------------------------------------------------------------


def _only(name, **plan):
    return {name: {"financing": "government", "start_year": 0, "scale": 1.0, **plan}}


def _refused(path, *needles, preset="mature"):
    with pytest.raises(InputError) as info:
        CityModel(preset, seed=0, policy=path, **TINY)
    message = str(info.value)
    assert "\n" not in message.strip(), message
    for needle in needles:
        assert needle in message, message
    return message


def test_unknown_initiative_suggests_the_close_name(tmp_path):
    path = write_package(tmp_path / "p.toml", _only("telehealth_elderly_car"))
    _refused(path, "unknown initiative 'telehealth_elderly_car'", "telehealth_elderly_care")


def test_unknown_package_field(tmp_path):
    path = write_package(tmp_path / "p.toml", unified_platfrom=True)
    _refused(path, "unified_platfrom", "unified_platform")


def test_unknown_plan_field(tmp_path):
    path = write_package(tmp_path / "p.toml", _only("privacy_protection", financed="ppp"))
    _refused(path, "financed", "privacy_protection")


def test_unknown_financing_model(tmp_path):
    path = write_package(tmp_path / "p.toml", _only("privacy_protection", financing="bonds"))
    message = _refused(path, "financing: unknown value 'bonds'")
    for model in ("government", "ppp", "franchise", "interest_aggregation"):
        assert model in message


def test_unknown_new_infrastructure_kind(tmp_path):
    path = write_package(tmp_path / "p.toml", tables={"new_infrastructure": {"6g": 0.1}})
    _refused(path, "new_infrastructure: unknown key '6g'", "5g")


def test_scale_of_wrong_type(tmp_path):
    path = write_package(tmp_path / "p.toml", _only("privacy_protection", scale="big"))
    _refused(path, "scale", "'big'")


def test_negative_start_year(tmp_path):
    path = write_package(tmp_path / "p.toml", _only("privacy_protection", start_year=-1))
    _refused(path, "start_year")


def test_unified_platform_not_a_bool(tmp_path):
    path = write_package(tmp_path / "p.toml", unified_platform="yes")
    _refused(path, "unified_platform")


def test_prerequisite_that_can_never_be_met(tmp_path):
    """safety_early_warning needs perception 0.3; the emerging city starts at 0.1 and this
    package gives perception no budget."""
    path = write_package(
        tmp_path / "p.toml",
        _only("safety_early_warning"),
        tables={"capabilities": {"perception": 0.0}},
    )
    _refused(path, "safety_early_warning", "perception", "never", preset="emerging")


def test_prerequisite_met_by_budget_is_accepted(tmp_path):
    """The same package with perception funded is fine."""
    path = write_package(
        tmp_path / "p.toml",
        _only("safety_early_warning"),
        tables={"capabilities": {"perception": 0.2}},
    )
    CityModel("emerging", seed=0, policy=path, **TINY)


def test_user_initiative_with_unknown_lever(tmp_path):
    init = write_initiative(tmp_path / "mine.toml", effects={"incident_cuts": 0.3})
    path = write_package(tmp_path / "p.toml", {init: {"financing": "government"}})
    _refused(path, "effects: unknown key 'incident_cuts'", "did you mean 'incident_cut'")


def test_user_initiative_with_unknown_field(tmp_path):
    init = write_initiative(tmp_path / "mine.toml", target_metrik="pollution")
    path = write_package(tmp_path / "p.toml", {init: {"financing": "government"}})
    _refused(path, "target_metrik", "target_metric")


def test_user_initiative_with_unknown_key_issue(tmp_path):
    init = write_initiative(tmp_path / "mine.toml", key_issue="potholes")
    path = write_package(tmp_path / "p.toml", {init: {"financing": "government"}})
    _refused(path, "key_issue", "potholes")


def test_unknown_package_name_suggests_close_one():
    with pytest.raises(InputError, match="did you mean 'mature-multicentre'"):
        CityModel("mature", seed=0, policy="mature-multicenter", **TINY)


def test_cli_refuses_unknown_policy_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "o"
    code = main(["run", "--policy", "nonexistent", "--out", str(out), "--years", "1"])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "nonexistent" in err
    assert err.count("\n") == 1, err

"""Scenarios: TOML round trip, every bad key one clear error, ``smartcity run --scenario``
reproducing a scenario bit for bit, and the planner's changes to a policy package."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from smartcity.cli import main
from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.initiatives import initiative_names
from smartcity.policies.packages import load_package
from smartcity.simulation.model import CityModel
from smartcity.simulation.world.errors import InputError
from smartcity.visualization.scenario import (
    AS_IN_PACKAGE,
    CityConfig,
    Scenario,
    apply_policy_choices,
    load_scenario,
    scenario_from_text,
    scenario_toml,
)
from smartcity.visualization.sessions import CATALOG, scenario_from_query, scenario_query

SMALL = {"citizens.count": 1500}


def _scenario() -> Scenario:
    a = CityConfig(
        "emerging", "emerging-industrial-chain", 4, SMALL, initiatives=["online_government"],
        financing="ppp", unified_platform=False, start_years={"online_government": 0.25},
        stop_years={"online_government": 1.0},
    )  # fmt: skip
    b = CityConfig("emerging", "emerging-breakthrough", 4, SMALL)
    return Scenario(a, b, 1.5, 2)


def test_toml_round_trip():
    scenario = _scenario()
    assert scenario_from_text(scenario_toml(scenario), "x") == scenario
    alone = Scenario(CityConfig("mature", "baseline", 0, {}), None, 3.0, 1)
    assert scenario_from_text(scenario_toml(alone), "x") == alone


def test_text_override_with_newline_and_quotes_round_trips(tmp_path):
    """A string override holding a newline, quotes, a backslash and a tab saves as valid
    TOML: load, save, load gives the same scenario and the same file."""
    tricky = 'two\nlines, "quoted", back\\slash and\ttab'
    scenario = Scenario(CityConfig("mature", "baseline", 2, {"city.graph_file": tricky}))
    path = tmp_path / "scenario.toml"
    path.write_text(scenario_toml(scenario), encoding="utf-8")
    loaded = load_scenario(path)
    assert loaded == scenario
    assert loaded.a.overrides["city.graph_file"] == tricky
    assert scenario_toml(loaded) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("years = 1\n", "missing required key 'a'"),
        ("colour = 1\n[a]\n", "unknown key 'colour'"),
        ("seed = -1\n[a]\n", "seed = -1: input should be greater than or equal to 0"),
        ("years = inf\n[a]\n", "years = inf: a finite number is required"),
        ("years = 0\n[a]\n", "years = 0: input should be greater than 0"),
        ("seeds = 9\n[a]\n", "seeds = 9: input should be less than or equal to 5"),
        ("[a]\ninitiatives = 5\n", "a.initiatives = 5 has the wrong type; use a list"),
        ("[a]\ninitiatives = ['nope']\n", "unknown value 'nope'"),
        ("[a]\nfinancing = 'gift'\n", "a.financing: unknown value 'gift'"),
        ("[a]\nunified_platform = 'yes'\n", "a.unified_platform = 'yes' has the wrong type"),
        ("[a]\npreset = 5\n", "a.preset = 5 has the wrong type"),
        ("[a]\nstop_years = {nope = 1}\n", "a.stop_years: unknown key 'nope'"),
        ("[a]\nstart_years = {online_government = 300}\n", "less than or equal to 200"),
        ("[a\n", "invalid TOML"),
    ],
)
def test_bad_scenarios_are_one_line_errors(text, expected):
    with pytest.raises(InputError, match=re.escape(expected)) as info:
        scenario_from_text(text, "s.toml")
    assert "\n" not in str(info.value)


def test_the_view_lists_restrict_what_a_scenario_may_name():
    text = '[a]\npreset = "/etc/secret.toml"\npolicy = "baseline"\n'
    with pytest.raises(
        InputError, match=re.escape("preset '/etc/secret.toml' is not one of: mature")
    ):
        scenario_from_text(text, "url", presets=["mature"], policies=["baseline"])
    assert scenario_from_text(text, "cli").a.preset == "/etc/secret.toml"  # the CLI allows paths


def test_load_scenario_errors(tmp_path):
    with pytest.raises(InputError, match="scenario file not found"):
        load_scenario(tmp_path / "none.toml")
    with pytest.raises(InputError, match="is a directory"):
        load_scenario(tmp_path)
    latin = tmp_path / "latin.toml"
    latin.write_bytes("[a]\npreset = 'm\xe9'\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_scenario(latin)


def test_run_scenario_reproduces_the_configuration(tmp_path, capsys):
    """``smartcity run --scenario`` runs configuration A exactly as a model built from it."""
    scenario = _scenario()
    path = tmp_path / "s.toml"
    path.write_text(scenario_toml(scenario))
    assert main(["run", "--scenario", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    frame = pd.read_parquet(tmp_path / "out" / "metrics.parquet")
    a = scenario.a
    model = CityModel(
        a.preset,
        seed=a.seed,
        policy=a.package(),
        **{k.replace(".", "__"): v for k, v in SMALL.items()},
    )
    model.run(scenario.years)
    expected = model.metrics_frame()
    assert len(frame) == len(expected) == 19  # step 0 and 18 monthly steps
    pd.testing.assert_series_equal(frame["governance_index"], expected["governance_index"])
    bad = tmp_path / "bad.toml"
    bad.write_text("[a]\npolicy = 'nope'\n")
    assert main(["run", "--scenario", str(bad), "--out", str(tmp_path / "o2")]) == 2
    assert not (tmp_path / "o2").exists()


def test_start_and_stop_years_reach_the_run_and_are_checked():
    """A configuration's start and stop years replace the plan's; a year for an initiative
    switched off, or a stop not after the start, is one line."""
    config = _scenario().a
    (plan,) = config.package().initiatives
    assert (plan.start_year, plan.stop_year) == (0.25, 1.0)
    assert "start_years=online_government:0.25" in config.choices_text()
    for years, expected in (
        ({"stop_years": {"smart_traffic": 2.0}}, "a stop year given for 'smart_traffic'"),
        ({"stop_years": {"online_government": 0.25}}, "stop_year 0.25 is not after"),
    ):
        with pytest.raises(InputError, match=re.escape(expected)):
            CityConfig(**{**config.__dict__, **years}).package()


# --- the planner's changes to a policy package ----------------------------------------------


def _plans(package):
    return {plan.spec.name: plan for plan in package.initiatives}


def test_policy_choices_switch_initiatives_off_and_on():
    package = load_package("emerging-industrial-chain")
    names = list(_plans(package))
    assert apply_policy_choices(package) is package  # nothing chosen, nothing changes
    assert apply_policy_choices(package, names, AS_IN_PACKAGE, package.unified_platform) is package
    off = apply_policy_choices(package, names[1:])
    assert list(_plans(off)) == names[1:] and load_package("emerging-industrial-chain") == package
    extra = next(n for n in initiative_names() if n not in names)
    on = apply_policy_choices(package, [*names, extra], {extra: "franchise"})
    added = _plans(on)[extra]
    assert added.financing == FINANCING_MODELS["franchise"]
    assert (added.start_year, added.scale) == (0.0, 1.0)


def test_policy_choices_financing_and_unified_platform():
    package = load_package("emerging-breakthrough")
    for name in FINANCING_MODELS:
        changed = apply_policy_choices(package, financing=name, unified_platform=False)
        assert not changed.unified_platform
        assert {p.financing.name for p in changed.initiatives} == {name}
        assert changed.parameters == package.parameters


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"initiatives": ["no_such_initiative"]}, "no_such_initiative"),
        ({"financing": "crowdfunding"}, "unknown financing model 'crowdfunding'"),
        ({"financing": {"smart_traffic": "ppp"}}, "'smart_traffic', which is switched off"),
    ],
)
def test_policy_choices_bad_input_is_input_error(kwargs, expected):
    with pytest.raises(InputError, match=expected):
        apply_policy_choices(load_package("emerging-breakthrough"), **kwargs)


def test_lever_group_years_round_trip_through_the_file_the_url_and_the_cli(tmp_path):
    """A package's lever groups take start and stop years like initiatives: the scenario
    keeps them through TOML and the URL, and ``smartcity run --scenario`` runs them exactly
    as a model of the package with those phases."""
    a = CityConfig(
        "emerging", "emerging-breakthrough", 3, SMALL,
        start_years={"sectors": 0.5, "unified_platform": 0.25},
        stop_years={"new_infrastructure": 1.0},
    )  # fmt: skip
    scenario = Scenario(a, None, 1.5, 1)
    text = scenario_toml(scenario)
    assert scenario_from_text(text, "x") == scenario
    assert scenario_from_query(scenario_query(text), CATALOG) == scenario
    package = a.package()
    assert (package.phase("sectors").start_year, package.phase("new_infrastructure").stop_year) == (
        0.5,
        1.0,
    )
    assert "start_years=sectors:0.5,unified_platform:0.25" in a.choices_text()
    path = tmp_path / "s.toml"
    path.write_text(text)
    assert main(["run", "--scenario", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    frame = pd.read_parquet(tmp_path / "out" / "metrics.parquet")
    model = CityModel("emerging", seed=3, policy=package, citizens__count=1500)
    model.run(scenario.years)
    pd.testing.assert_frame_equal(frame, model.metrics_frame(), check_dtype=False)
    plain = CityModel("emerging", seed=3, policy="emerging-breakthrough", citizens__count=1500)
    plain.run(scenario.years)
    assert not plain.metrics_frame().equals(model.metrics_frame())  # the years mattered


@pytest.mark.parametrize(
    ("years", "expected"),
    [
        ({"start_years": {"sectors": 2.0}, "stop_years": {"sectors": 1.0}}, "stop_year 1 is not"),
        ({"start_years": {"sectors": 1.0}}, "lever group 'sectors', which the package does not"),
    ],
)
def test_bad_lever_group_years_in_a_scenario_are_one_line(years, expected):
    policy = "emerging-breakthrough" if "stop_years" in years else "baseline"
    with pytest.raises(InputError, match=re.escape(expected)) as info:
        CityConfig("emerging", policy, 1, SMALL, **years).package()
    assert "\n" not in str(info.value)


def test_a_lever_group_takes_years_but_no_financing():
    """A lever group (sectors, new infrastructure, the platform) can be phased, but it has no
    financing model: financing given for one is refused in one line, not ignored."""
    package = load_package("emerging-industrial-chain")
    with pytest.raises(InputError, match="financing given for 'sectors', which is switched off"):
        apply_policy_choices(package, financing={"sectors": "ppp"})
    assert (
        apply_policy_choices(package, start_years={"sectors": 1.0}).phase("sectors").start_year
        == 1.0
    )

"""Unit tests of the planners' view without a browser: per-district values, comparison
stepping, controls from the parameter metadata, bad input shown as a message, export."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara", reason="the viz extra is not installed (pip install -e '.[viz]')")

from smartcity.policies.financing import FINANCING_MODELS
from smartcity.policies.initiatives import initiative_names
from smartcity.policies.packages import load_package
from smartcity.simulation.errors import InputError, ParameterError
from smartcity.simulation.parameters import CAPABILITY_NAMES, SECTOR_NAMES, iter_specs
from smartcity.visualization.views import (
    AS_IN_PACKAGE,
    DISTRICT_METRICS,
    VIEW_CITIZENS,
    CityConfig,
    ViewRun,
    apply_policy_choices,
    control_specs,
    district_congestion,
    district_sectors,
    district_summary,
    district_values,
    edge_congestion,
    metrics_csv,
    metrics_parquet,
    resolved_values,
)

SMALL = {"citizens.count": 1500}


@pytest.fixture(scope="module")
def city():
    run = ViewRun([CityConfig("mature", "baseline", 3, SMALL)])
    assert run.error is None
    for _ in range(3):
        run.step()
    return run.cities[0]


def test_district_values_add_up_to_city_totals(city):
    n = city.districts.n
    for name in DISTRICT_METRICS:
        values = district_values(city, name)
        assert values.shape == (n,) and np.isfinite(values).all(), name
    assert district_values(city, "population").sum() == len(city.citizens)
    assert district_values(city, "jobs").sum() == city.citizens.employed().sum()
    assert np.allclose(district_values(city, "pollution"), city.districts.pollution)
    assert np.allclose(district_values(city, "service_access"), city.district_access)
    adoption = district_values(city, "digital_adoption")
    pop = district_values(city, "population")
    city_mean = city.citizens.adopted.mean(axis=1).mean()
    assert math.isclose((adoption * pop).sum() / pop.sum(), city_mean, rel_tol=1e-9)
    assert ((adoption >= 0) & (adoption <= 1)).all()


def test_congestion_per_link_and_district(city):
    d = city.districts
    links = edge_congestion(city)
    assert links.shape == (len(d.edges),) and (links >= 1 - 1e-12).all()
    by_district = district_congestion(city)
    u = d.edges[0][0]
    touching = [k for k, (a, b) in enumerate(d.edges) if u in (a, b)]
    assert math.isclose(by_district[u], links[touching].mean())
    assert by_district.min() >= 1 - 1e-12 and by_district.max() <= links.max() + 1e-12


def test_district_summary_and_sectors(city):
    d = int(np.argmax(district_values(city, "population")))
    summary = district_summary(city, d)
    here = city.citizens.home == d
    assert summary["residents"] == here.sum()
    assert math.isclose(summary["mean_age"], city.citizens.age[here].mean())
    assert math.isclose(summary["mean_income"], city.citizens.income[here].mean())
    assert 0 <= summary["employment_rate"] <= 1
    assert 0 <= summary["service_access"] <= 1
    table = district_sectors(city, d)
    assert list(table.sector) == list(SECTOR_NAMES)
    assert table.firms.sum() == (city.firms.district == d).sum()
    assert table.jobs.sum() == round(district_values(city, "jobs")[d])


def test_comparison_steps_both_cities_together():
    run = ViewRun(
        [
            CityConfig("mature", "baseline", 5, SMALL),
            {"preset": "emerging", "policy": "baseline", "seed": 5, "overrides": SMALL},
        ]
    )
    assert run.error is None and len(run.cities) == 2
    for _ in range(4):
        run.step()
    assert [c.steps for c in run.cities] == [4, 4] and run.city_steps == 4
    assert run.labels == ["A: mature / baseline", "B: emerging / baseline"]
    a, b = (c.metrics_frame() for c in run.cities)
    assert len(a) == len(b) == 5
    assert not np.allclose(a["gdp_per_capita"], b["gdp_per_capita"])
    # stepping together is the same as stepping each alone (no shared random state)
    alone = ViewRun([CityConfig("emerging", "baseline", 5, SMALL)])
    for _ in range(4):
        alone.step()
    pd.testing.assert_frame_equal(alone.cities[0].metrics_frame(), b)


def test_every_policy_package_builds_in_the_view():
    from smartcity.simulation.runs import policy_names

    for name in policy_names():
        run = ViewRun([CityConfig("emerging", name, 1, SMALL)])
        assert run.error is None, (name, run.error)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("/nonexistent/city.toml", "file not found"),
        ("atlantis", "unknown preset 'atlantis'"),
    ],
)
def test_invalid_preset_is_a_message_not_an_exception(preset, expected):
    run = ViewRun([CityConfig(preset, "baseline", 1, SMALL)])
    assert run.cities == [] and not run.running
    assert expected in run.error
    run.step()  # stepping a failed run does nothing
    assert run.error is not None and run.cities == []


def test_invalid_toml_and_bad_values_are_messages(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[city\nname = 'x'\n")
    run = ViewRun([CityConfig(str(broken), "baseline", 1, SMALL)])
    assert "invalid TOML" in run.error and str(broken) in run.error
    unknown = tmp_path / "typo.toml"
    unknown.write_text("[citizens]\ncuont = 10\n")
    assert "did you mean 'citizens.count'" in ViewRun([CityConfig(str(unknown))]).error
    out_of_range = ViewRun([CityConfig(overrides={"citizens.trust_mean": 7.0})])
    assert "citizens.trust_mean" in out_of_range.error and "out of range" in out_of_range.error
    no_budget = {f"government.share_{c}": 0.0 for c in CAPABILITY_NAMES}
    assert "at least one share must be positive" in ViewRun([CityConfig(overrides=no_budget)]).error
    compared = ViewRun([CityConfig(overrides=SMALL), CityConfig("nope.toml")])
    assert compared.error.startswith("configuration B:") and compared.cities == []


def test_sliders_come_from_the_parameter_metadata():
    declared = {key: spec for key, _, spec in iter_specs()}
    specs = control_specs()
    keys = [s.key for s in specs]
    assert "citizens.count" in keys and "government.capability_budget_share" in keys
    assert all(k.startswith("policy.") for k in keys[1:]) or "government.share_platform" in keys
    for s in specs:
        d = declared[s.key]
        assert s.unit == d.unit and s.unit in s.label and s.doc == d.doc
        assert d.lo is None or s.lo >= d.lo
        assert d.hi is None or s.hi <= d.hi
        assert s.clamp(1e12) == s.hi and s.clamp(-1e12) == s.lo
        assert s.clamp(float("nan")) == s.lo
        # every slider position is a value the model accepts
        for value in (s.lo, s.hi):
            run = ViewRun([CityConfig(overrides={**SMALL, s.key: value})])
            if s.key == "citizens.count":
                continue
            assert run.error is None or "at least one share" in run.error, (s.key, run.error)
    count = next(s for s in specs if s.key == "citizens.count")
    assert isinstance(count.clamp(1234.6), int)
    # the view's starting population lies on the slider's grid (else the browser snaps it)
    assert (VIEW_CITIZENS - count.lo) % count.step == 0


def test_slider_start_values_follow_preset_and_package():
    mature = resolved_values("mature", "baseline")
    emerging = resolved_values("emerging", "emerging-breakthrough")
    assert mature["government.capability_budget_share"] == 0.05
    assert emerging["government.capability_budget_share"] == 0.12  # from the package
    with pytest.raises(ParameterError):
        resolved_values("missing.toml", "baseline")


def test_export_csv_and_parquet():
    run = ViewRun([CityConfig(overrides=SMALL), CityConfig("emerging", overrides=SMALL)])
    run.step()
    csv = pd.read_csv(io.BytesIO(metrics_csv(run)))
    parquet = pd.read_parquet(io.BytesIO(metrics_parquet(run)))
    assert len(csv) == len(parquet) == 4
    assert list(csv.preset) == ["mature", "mature", "emerging", "emerging"]
    assert {"step", "year", "demand_advancement_index", "gdp_per_capita"} <= set(csv.columns)


def test_figures_render(city):
    from smartcity.visualization.figures import (
        draw_district_map,
        draw_index_chart,
        draw_metric_charts,
    )

    for metric in DISTRICT_METRICS:
        fig = draw_district_map(city, metric, selected=0)
        labels = [ax.get_ylabel() for ax in fig.axes]
        assert any(DISTRICT_METRICS[metric].unit in label for label in labels)
        assert any("congestion" in label for label in labels)
    draw_index_chart([city, city], ["A", "B"], ["governance_index"])
    draw_metric_charts([city], ["A"], ["population", "gdp_per_capita", "pollution"])


def test_ui_subcommand_binds_localhost():
    import argparse

    from smartcity.visualization.cli import APP, register, solara_command

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["ui"])
    assert (args.host, args.port, args.dev) == ("127.0.0.1", 8765, False)
    command = solara_command(args.host, args.port, production=True)
    assert APP.exists() and str(APP) in command and "--production" in command
    assert command[command.index("--host") + 1] == "127.0.0.1"


def test_page_helpers():
    from smartcity.visualization.app import USER_PRESET, initial_form, package_title, run_parameters

    form = initial_form()
    assert run_parameters(form) == {
        "cities": [{"preset": "mature", "policy": "baseline", "seed": 1, "overrides": {}}]
    }
    form = {**form, "compare": True, "a": {"preset": USER_PRESET, "policy": "baseline"}}
    form["user_paths"] = {"a": "  my.toml ", "b": ""}
    a, b = run_parameters(form)["cities"]
    assert a["preset"] == "my.toml" and b["preset"] == "emerging"
    assert "Baseline" in package_title("baseline")
    form["a"] = {**form["a"], "initiatives": [], "unified_platform": False, "financing": None}
    a = run_parameters(form)["cities"][0]
    assert (a["initiatives"], a["unified_platform"]) == ([], False) and "financing" not in a
    assert "unknown policy package" in package_title("nope")


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
    assert all(_plans(off)[n] == _plans(package)[n] for n in names[1:])  # plans kept as they were

    extra = next(n for n in initiative_names() if n not in names)
    on = apply_policy_choices(package, [*names, extra], {extra: "franchise"})
    added = _plans(on)[extra]
    assert list(_plans(on)) == [*names, extra]
    assert added.financing == FINANCING_MODELS["franchise"]
    assert (added.start_year, added.scale) == (0.0, 1.0)
    assert _plans(on)[names[0]].financing == _plans(package)[names[0]].financing
    plain = _plans(apply_policy_choices(package, [extra]))[extra]
    assert plain.financing == FINANCING_MODELS["government"]  # the default for an added one


def test_policy_choices_financing_and_unified_platform():
    package = load_package("emerging-breakthrough")
    assert package.unified_platform and len({p.financing.name for p in package.initiatives}) > 1
    for name in FINANCING_MODELS:
        changed = apply_policy_choices(package, financing=name, unified_platform=False)
        assert not changed.unified_platform
        assert {p.financing.name for p in changed.initiatives} == {name}
        assert changed.parameters == package.parameters and changed.sectors == package.sectors
    first = package.initiatives[0].spec.name
    one = apply_policy_choices(package, financing={first: "interest_aggregation"})
    assert one.initiatives[0].financing.name == "interest_aggregation"
    assert one.initiatives[1:] == package.initiatives[1:]
    assert apply_policy_choices(load_package("baseline"), unified_platform=True).unified_platform


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


def test_model_runs_with_the_chosen_package():
    package = load_package("emerging-industrial-chain")
    bare = ViewRun([CityConfig("emerging", package.name, 2, SMALL, initiatives=[])])
    full = ViewRun([CityConfig("emerging", package.name, 2, SMALL)])
    assert bare.error is None and full.error is None
    assert bare.cities[0].package.initiatives == () and bare.cities[0].package.unified_platform
    assert bare.labels == ["emerging / emerging-industrial-chain (modified)"]
    # Initiatives reach the performance stage (and share data) at their own pace: a year of
    # effective months at the earliest, so run three years.
    for _ in range(36):
        bare.step()
        full.step()
    b, f = bare.cities[0].metrics_frame(), full.cities[0].metrics_frame()
    assert (b["coordination_index"] == 0).all()  # nothing to coordinate
    assert f["coordination_index"].iloc[-1] > 0
    assert not np.allclose(b["governance_index"], f["governance_index"])
    table = pd.read_csv(io.BytesIO(metrics_csv(bare)))
    assert set(table.policy_choices) == {"initiatives=none"}


def test_unreachable_initiative_is_a_message():
    """An initiative the city can never run (a prerequisite nothing builds) is refused by
    check_prerequisites_reachable in CityModel; the view shows the message."""
    no_platform = {**SMALL, "government.share_platform": 0.0}
    config = CityConfig(
        "emerging", "baseline", 1, no_platform, initiatives=["industrial_chain_platform"]
    )
    run = ViewRun([config])
    assert run.cities == [] and "industrial_chain_platform" in run.error, run.error


def test_package_choice_controls_set_and_reset_the_form():
    """The sidebar's package choices, rendered without a browser: each switch changes the
    run's parameters, a model builds from them, and another package resets them."""
    import ipyvuetify as v
    import solara

    from smartcity.visualization.app import Controls, initial_form, run_parameters

    built = {}

    @solara.component
    def Sidebar():  # noqa: N802 (a Solara component)
        form = solara.use_reactive(initial_form())

        def on_form(new):
            form.value = new
            built["city"] = run_parameters(new)["cities"][0]

        Controls(form, on_form)

    _, rc = solara.render(Sidebar(), handle_error=False)
    traffic = "Smart traffic management and green commuting"
    rc.find(v.Checkbox, label=traffic).widget.v_model = True
    rc.find(v.Switch, label="unified data platform").widget.v_model = True
    rc.find(v.Select, label="financing model (all initiatives)").widget.v_model = "ppp"
    city = built["city"]
    assert city["initiatives"] == ["smart_traffic"] and city["unified_platform"] is True
    assert city["financing"] == "ppp"
    header = rc.find(v.ExpansionPanelHeader).widget.children[0]
    assert header == "package choices: 1 initiative, platform on (changed)"
    run = ViewRun([{**city, "overrides": SMALL}])
    assert run.error is None and run.cities[0].package.initiatives[0].financing.name == "ppp"

    rc.find(v.Select, label="policy package A").widget.v_model = "mature-multicentre"
    assert set(built["city"]) == {"preset", "policy", "seed", "overrides"}  # choices reset
    assert rc.find(v.Checkbox, label=traffic).widget.v_model  # pre-checked from the package
    rc.find(v.Checkbox, label=traffic).widget.v_model = False
    assert "smart_traffic" not in built["city"]["initiatives"]
    rc.find(v.Checkbox, label=traffic).widget.v_model = True
    assert "initiatives" not in built["city"]  # back to the package's own set

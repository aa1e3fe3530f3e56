"""View-model tests of the planners' view 3 (issue 21): the form as a typed value, the
limits every URL or pasted scenario goes through, one name per quantity, the B - A map over
every seed, money and index terms in every comparison, the run-to field, the step's
duration, home paths."""

from __future__ import annotations

import base64
import math

import numpy as np
import pytest

pytest.importorskip("solara", reason="the viz extra is not installed (pip install -e '.[viz]')")

from smartcity.simulation.model.metrics import governance_terms
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.vocabulary import INDEX_METRICS
from smartcity.visualization.form import Form, Side
from smartcity.visualization.scenario import CityConfig, Scenario, scenario_toml
from smartcity.visualization.sessions import (
    MAX_LIVE_CITIZENS,
    check_limits,
    read_scenario,
    scenario_from_query,
    scenario_query,
)
from smartcity.visualization.views import (
    DISTRICT_METRICS,
    GOVERNANCE_TERMS,
    MIN_EXTRA_SPENDING,
    SUMMARY_UNITS,
    ViewRun,
    comparison_table,
    control_specs,
    district_differences,
    end_year_table,
    index_terms,
    recorded,
    step_duration,
    term_table,
    view_catalog,
)

SMALL = {"citizens.count": 1500}
CATALOG = view_catalog(None)


def _url(text: str) -> str:
    return "scenario=" + base64.urlsafe_b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def compared():
    """Two paired seeds of the emerging baseline against its breakthrough path, 3 steps."""
    configs = [
        CityConfig("emerging", "baseline", 4, SMALL),
        CityConfig("emerging", "emerging-breakthrough", 4, SMALL),
    ]
    run = ViewRun(configs, seeds=2)
    for _ in range(3):
        run.step()
    assert run.errors == []
    return run


def test_a_form_change_applies_to_the_form_as_it_is_now():
    """Two quick changes built from the same drawn form both count when each is a function
    of the current form (the seeds slider showed 3 while the run used 2)."""
    drawn = Form(compare=True)
    current = drawn
    for update in (lambda f: f.with_(seeds=2), lambda f: f.with_(seeds=3)):
        current = update(current)
    assert current.seeds == 3
    current = (lambda f: f.with_override("citizens.trust_mean", 0.3))(current)
    current = (lambda f: f.with_(compare=False))(current)
    assert current.overrides == {"citizens.trust_mean": 0.3} and current.seeds == 3
    with pytest.raises(ValueError, match="not a form field"):
        drawn.with_(trust=1)


def test_form_and_scenario_are_inverses():
    form = Form(
        Side("tokyo", "mature-urban-diseases", ("online_government",), "ppp", False),
        Side("tokyo", "baseline"),
        seed=7,
        seeds=2,
        years=3.0,
        overrides={"citizens.count": 4000},
        compare=True,
    )
    scenario = form.scenario()
    assert scenario.b is not None and scenario.a.financing == "ppp" and scenario.seeds == 2
    assert Form.from_scenario(scenario) == form
    assert Form(seeds=4).scenario().seeds == 1  # no B: one seed
    side = Side(policy="mature-multicentre").with_choice("unified_platform", False)
    assert side.changed and not side.with_package("baseline").changed


def test_a_url_over_the_view_limits_is_refused_in_one_line():
    """Issue 21: the slider's 50,000 limit applies to the URL; 200 years, too many citizens
    at once, nested TOML, damaged or huge text: one line each, no traceback."""
    big = Scenario(CityConfig(overrides={"citizens.count": 5_000_000}), None, 5.0, 1)
    with pytest.raises(InputError) as exc:
        scenario_from_query(scenario_query(scenario_toml(big)), CATALOG)
    assert "citizens.count = 5,000,000 is outside the view's slider range" in str(exc.value)
    long = Scenario(CityConfig(), None, 200.0, 1)
    with pytest.raises(InputError, match="horizons up to 50 years, not 200"):
        scenario_from_query(scenario_query(scenario_toml(long)), CATALOG)
    many = Scenario(
        CityConfig(overrides={"citizens.count": 50_000}),
        CityConfig("emerging", overrides={"citizens.count": 50_000}),
        5.0,
        5,
    )
    with pytest.raises(InputError, match=f"at most {MAX_LIVE_CITIZENS:,}"):
        check_limits(many, CATALOG)
    nested = "a = " + "[" * 5000 + "]" * 5000
    for text, expected in (
        (nested, "nested deeper than"),
        ("x" * 30_000, "at most 20,000 characters"),
        ('years = 5\n[a]\npreset = "atlantis"\n', "preset 'atlantis' is not one of"),
    ):
        with pytest.raises(InputError, match=expected) as exc:
            scenario_from_query(_url(text), CATALOG)
        assert "\n" not in str(exc.value)
    with pytest.raises(InputError, match="damaged"):
        scenario_from_query("scenario=__4", CATALOG)
    fine = Scenario(CityConfig(overrides={"citizens.count": 5000}), None, 2.0, 1)
    assert read_scenario(scenario_toml(fine), "pasted", CATALOG) == fine


def test_every_slider_limit_is_a_scenario_limit():
    for spec in control_specs():
        inside = Scenario(CityConfig(overrides={spec.key: spec.hi}), None, 1.0, 1)
        check_limits(inside, CATALOG)
        if spec.key == "citizens.count":
            continue
        outside = Scenario(CityConfig(overrides={spec.key: spec.hi + 10 * spec.step}), None, 1.0)
        with pytest.raises(InputError, match=spec.key):
            check_limits(outside, CATALOG)


def test_one_name_per_quantity():
    """Issue 21: the inspector's residents' access (less for those offline) and the map's
    district access are different quantities and carry different names."""
    assert "service_access" not in SUMMARY_UNITS and "residents_service_access" in SUMMARY_UNITS
    assert DISTRICT_METRICS["service_access"].label == "district service access"
    run = ViewRun([CityConfig("paris", "mature-multicentre", 1, SMALL)])
    run.step()
    snap = run.runs[0].history[-1]
    residents = snap.summary["residents_service_access"]
    district = snap.values["service_access"]
    lived = ~np.isnan(residents)
    assert (residents[lived] <= district[lived] + 1e-12).all()


def test_the_step_is_named_in_months_or_days():
    """Issue 24: the history slider said "0 month" at 24 or 52 steps a year."""
    assert step_duration(12) == "1 month" and step_duration(4) == "3 months"
    assert step_duration(24) == "15.2 days" and step_duration(52) == "7.0 days"


def test_the_difference_map_averages_every_seed(compared):
    """Issue 21: with 2 seeds the B - A map was seed 1 only; now it is the mean of the
    seeds' differences, with a paired interval that marks districts it includes 0 for."""
    a, b = compared.runs
    diff = district_differences(a, b, 3, "population")
    per_seed = [
        vb["population"] - va["population"]
        for va, vb in zip(a.history[3].seed_values, b.history[3].seed_values, strict=True)
    ]
    assert len(per_seed) == 2
    assert np.allclose(diff["mean"], np.mean(per_seed, axis=0))
    assert ((diff["lo"] <= diff["mean"]) & (diff["mean"] <= diff["hi"])).all()
    zero = (diff["lo"] <= 0) & (diff["hi"] >= 0)
    assert (diff["includes_zero"] == zero).all()
    from smartcity.visualization.figures import difference_map

    spec = str(difference_map(a, b, 3, "population", 1.0).to_dict(validate=False))
    assert "mean of 2 paired seeds" in spec and "interval includes 0" in spec
    assert "link congestion" not in spec  # the links are not compared here


def test_money_beside_every_difference(compared):
    """Issue 21: the cumulative extra public spending and B - A per 100 M of it."""
    table = end_year_table(recorded(compared), INDEX_METRICS)
    table = table[table["configuration"] == "B"].set_index("metric")
    spending = table.loc["public_spending"]
    extra = spending["difference"]
    assert extra > 0  # the path's initiatives cost public money
    row = table.loc["governance_index"]
    if extra >= MIN_EXTRA_SPENDING:
        assert row["per 100 M"] == pytest.approx(row["difference"] / (extra / 100))
    else:
        assert math.isnan(row["per 100 M"])
    export = comparison_table(compared, INDEX_METRICS)
    assert set(export["kind"]) == {"metric", "index term"}
    assert sorted(export["step"].unique()) == [0, 1, 2, 3]


def test_index_terms_add_up_to_each_index(compared):
    """Issue 21: why an index moved: its terms, A, B and B - A, summing to the index."""
    model = compared.runs[1].models[0]
    frame = model.metrics_frame().iloc[-1]
    terms = index_terms(model)
    assert list(governance_terms(model)) == list(GOVERNANCE_TERMS)
    table = term_table(compared, 3)
    for index in INDEX_METRICS:
        part = table[table["index"] == index]
        ours = sum(terms[t] for t in part["term"])
        assert ours == pytest.approx(frame[index], abs=1e-9), index
        mean_b = np.mean([m.metrics_frame()[index].iloc[3] for m in compared.runs[1].models])
        assert part["B"].sum() == pytest.approx(mean_b, abs=1e-9)
        assert (part["B - A"] == part["B"] - part["A"]).all()


def test_run_to_year_is_bound_to_the_horizon():
    """Issue 21: "run to year" accepted 60 with a 2-year horizon."""
    from smartcity.visualization.run_card import target_error

    assert target_error(2.0, 2.0) == "" and target_error(0.5, 2.0) == ""
    assert "at most the horizon, year 2" in target_error(60.0, 2.0)
    assert target_error(None, 2.0) and target_error(float("nan"), 2.0)


def test_home_path_of_a_named_city_is_its_own():
    """Issue 21: Paris marked all four mature paths as home; now only its own."""
    from smartcity.visualization.controls import is_home, package_items

    mature_paths = [p for p in CATALOG.policies if p.startswith("mature-")]
    assert [p for p in mature_paths if is_home(p, "paris")] == ["mature-multicentre"]
    assert all(is_home(p, "mature") for p in mature_paths)
    titles = [item["text"] for item in package_items("mature")]
    mature = [t for t in titles if t.startswith("Mature")]
    assert [t.split(":")[0] for t in mature] == ["Mature 1", "Mature 2", "Mature 3", "Mature 4"]


def test_a_slider_reports_only_a_real_move():
    from smartcity.visualization.widgets import slider_move

    spec = next(s for s in control_specs() if s.key == "citizens.trust_mean")
    assert slider_move(spec, 0.5, 0.5 + spec.step / 4) is None  # snapped, not moved
    assert slider_move(spec, 0.5, 0.7) == pytest.approx(0.7)
    assert slider_move(spec, 0.5, "x") is None


def test_a_python_initiative_is_offered_only_with_allow_code(tmp_path, monkeypatch):
    """Issue 24 item 2: a user package naming a Python initiative is listed by ``smartcity
    ui --packages DIR``; with --allow-code the view runs it, without it the page says one
    line and nothing is imported."""
    module = tmp_path / "code"
    module.mkdir()
    marker = tmp_path / "imported.txt"
    (module / "view_planted_initiative.py").write_text(
        "from smartcity.policies.initiatives import Initiative\n"
        f"open({str(marker)!r}, 'w').write('imported')\n"
        "class Greener(Initiative):\n"
        "    def apply(self, model, strength):\n"
        "        super().apply(model, strength)\n"
        "        model.districts.environment[:] = 1.0\n"
    )
    packages = tmp_path / "packages"
    packages.mkdir()
    (packages / "green.toml").write_text(
        'title = "Green corridors (Python)"\n'
        "[initiatives.online_government]\n"
        'class = "view_planted_initiative:Greener"\n'
    )
    monkeypatch.syspath_prepend(str(module))
    config = CityConfig("mature", "file: green.toml", 1, SMALL)
    refused = ViewRun([config], catalog=view_catalog(None, packages, allow_code=False))
    assert "file: green.toml" in refused.catalog.policies
    assert "--allow-code" in refused.errors[0] and "\n" not in refused.errors[0]
    assert not marker.exists()
    allowed = ViewRun([config], catalog=view_catalog(None, packages, allow_code=True))
    assert allowed.errors == []
    running = allowed.runs[0].model.policy_runtime.initiatives
    assert [type(i).__name__ for i in running] == ["Greener"] and marker.exists()
    allowed.step()
    assert (allowed.runs[0].model.districts.environment == 1.0).all()


def test_the_package_start_and_stop_years_are_shown():
    """Issue 21 item 4 (the visible part): an initiative that a package starts later shows
    its start year; no shipped plan stops, so every stop year is empty."""
    from smartcity.visualization.controls import plan_years

    years = plan_years("emerging-industrial-chain")
    starts = [start for start, _ in years.values()]
    assert years and max(starts) == 1.0 and min(starts) == 0.0
    assert {stop for _, stop in years.values()} == {None}
    assert plan_years("baseline") == {}


def test_a_stop_not_after_the_start_is_refused_in_place():
    from smartcity.visualization.controls import phase_error

    assert phase_error(1.0, None) == "" and phase_error(1.0, 2.5) == ""
    assert "must be after the start year 2" in phase_error(2.0, 2.0)
    assert "from 0 to 50" in phase_error(-1.0, None) and "from 0 to 50" in phase_error(0.0, 80.0)


def test_the_end_table_shows_a_difference_of_what_it_shows():
    """Issue 21: "A 5128, B 5134, B - A +7": a metric's values and differences now share
    their decimals (4 significant digits of its smallest difference)."""
    from smartcity.visualization.comparison import decimals_for, fixed

    d = decimals_for([float("nan"), 5.7, 120.0])
    a, b = fixed(5128.4, d), fixed(5134.1, d)
    assert (a, b, fixed(5.7, d, True)) == ("5,128.400", "5,134.100", "+5.700")
    assert float(b.replace(",", "")) - float(a.replace(",", "")) == pytest.approx(5.7)
    assert fixed(0.7462, decimals_for([0.0012])) == "0.746200"
    assert fixed(0.0, decimals_for([0.0]), True) == "+0.000"
    assert fixed(float("nan"), 3) == "-"

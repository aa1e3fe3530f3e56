"""View-model tests of the N-scenario comparison (issue 21, item 3): any number of
configurations against a chosen reference, paired over the seeds, with the money; the
small multiple of difference maps on one scale; scenarios with N configurations that
round-trip and run on the command line; the number of configurations inside the session
limits; the redraw's reads (once per redraw, index terms from the recording)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara", reason="the viz extra is not installed (pip install -e '.[viz]')")

from smartcity.cli import main
from smartcity.simulation.model.metrics import Aggregates
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.vocabulary import INDEX_METRICS
from smartcity.visualization.comparison import (
    add_configuration,
    end_table_markdown,
    every_path,
    terms_markdown,
    without_configuration,
)
from smartcity.visualization.figures import difference_map
from smartcity.visualization.form import Form, Side
from smartcity.visualization.scenario import CityConfig, Scenario, scenario_from_text, scenario_toml
from smartcity.visualization.sessions import (
    MAX_CONFIGURATIONS,
    MAX_LIVE_CITIZENS,
    check_limits,
    scenario_from_query,
    scenario_query,
)
from smartcity.visualization.views import (
    MIN_EXTRA_SPENDING,
    ViewRun,
    comparison_table,
    difference_domain,
    district_differences,
    end_year_table,
    index_terms,
    paired_differences,
    recorded,
    term_table,
    view_catalog,
)

SMALL = {"citizens.count": 1500}
CATALOG = view_catalog(None)
PATHS = ("baseline", "emerging-breakthrough", "emerging-industrial-chain", "placebo")


@pytest.fixture(scope="module")
def four():
    """The emerging city's baseline, its two paths and the placebo, 2 paired seeds, 3 steps."""
    run = ViewRun([CityConfig("emerging", p, 4, SMALL) for p in PATHS], seeds=2)
    for _ in range(3):
        run.step()
    assert run.errors == []
    return run


def test_each_configuration_against_any_reference(four):
    """Every configuration is paired with the reference seed by seed; choosing another
    reference turns X - R into -(R - X), and the reference has no difference of its own."""
    rec = recorded(four)
    assert rec.names == ("A", "B", "C", "D")
    diffs = paired_differences(rec, INDEX_METRICS, reference=2)
    assert sorted(diffs["configuration"].unique()) == ["A - C", "B - C", "D - C"]
    per_seed = [
        fb["governance_index"].iloc[3] - fc["governance_index"].iloc[3]
        for fb, fc in zip(rec.frames[1], rec.frames[2], strict=True)
    ]
    last = diffs[
        (diffs.configuration == "B - C") & (diffs.metric == "governance_index") & (diffs.step == 3)
    ].iloc[0]
    assert last["mean"] == pytest.approx(np.mean(per_seed))
    assert last["lo"] <= last["mean"] <= last["hi"]
    back = paired_differences(rec, INDEX_METRICS, reference=1)
    c_minus_b = back[(back.configuration == "C - B") & (back.metric == "governance_index")]
    assert c_minus_b["mean"].iloc[3] == pytest.approx(-last["mean"])


def test_the_end_table_has_every_configuration_its_interval_and_money(four):
    table = end_year_table(recorded(four), INDEX_METRICS, reference=0)
    assert list(table["configuration"].unique()) == ["A", "B", "C", "D"]
    assert table["metric"].iloc[0] == "public_spending"  # money first
    spending = table[table["metric"] == "public_spending"].set_index("configuration")
    assert math.isnan(spending.loc["A", "difference"])  # the reference
    for name in "BCD":
        extra = spending.loc[name, "difference"]
        assert extra == pytest.approx(spending.loc[name, "value"] - spending.loc["A", "value"])
        row = table[(table.metric == "governance_index") & (table.configuration == name)].iloc[0]
        assert row["lo"] <= row["difference"] <= row["hi"]
        if extra >= MIN_EXTRA_SPENDING:
            assert row["per 100 M"] == pytest.approx(row["difference"] / (extra / 100))
        else:
            assert math.isnan(row["per 100 M"])
    text = end_table_markdown(recorded(four), 3, 0.25, 2, 0)
    assert "D spends" in text and "more public money than A" in text
    assert text.count("| Governance index |") == 4 and "A (reference)" in text


def test_the_index_terms_of_every_configuration_add_up(four):
    table = term_table(four, 3, reference=3)
    assert {"A", "B", "C", "D", "A - D", "B - D", "C - D"} <= set(table.columns)
    for index in INDEX_METRICS:
        part = table[table["index"] == index]
        mean_b = np.mean([m.metrics_frame()[index].iloc[3] for m in four.runs[1].models])
        assert part["B"].sum() == pytest.approx(mean_b, abs=1e-9)
        assert (part["B - D"] == part["B"] - part["D"]).all()
    assert "| index / term | A | B | C | D | A - D | B - D | C - D |" in terms_markdown(four, 3, 3)
    export = comparison_table(four, INDEX_METRICS)
    assert set(export["configuration"]) == {"A", "B", "C", "D"}
    assert set(export["kind"]) == {"metric", "index term"}


def test_the_difference_maps_share_one_scale_and_mark_uncertain_districts(four):
    a, *others = four.runs
    largest = difference_domain(a, others, "population")
    worst = 0.0
    for other in others:
        diff = district_differences(a, other, 3, "population")
        per_seed = [
            vo["population"] - va["population"]
            for va, vo in zip(a.history[3].seed_values, other.history[3].seed_values, strict=True)
        ]
        assert np.allclose(diff["mean"], np.mean(per_seed, axis=0))
        assert (diff["includes_zero"] == ((diff["lo"] <= 0) & (diff["hi"] >= 0))).all()
        worst = max(worst, float(np.abs(diff["mean"]).max()))
    assert largest >= worst
    spec = str(difference_map(a, others[2], 3, "population", largest).to_dict(validate=False))
    assert "D - A: population" in spec and "mean of 2 paired seeds" in spec
    assert f"'domain': [{-largest}, {largest}]" in spec


def test_a_scenario_of_n_configurations_round_trips():
    """[c], [d] follow [a] and [b]; a two-configuration file is written as before; the form,
    the file and the URL give the same scenario."""
    configs = [CityConfig("emerging", p, 4, SMALL) for p in PATHS]
    scenario = Scenario.of(configs, 1.5, 2)
    text = scenario_toml(scenario)
    assert "[c]" in text and "[d]" in text and "[e]" not in text
    assert scenario_from_text(text, "x") == scenario
    assert scenario_from_query(scenario_query(text), CATALOG) == scenario
    form = Form.from_scenario(scenario)
    assert form.names == "abcd" and form.side("d").policy == "placebo"
    assert form.scenario() == scenario
    pair = Scenario(configs[0], configs[1], 1.5, 2)
    assert "[c]" not in scenario_toml(pair) and Scenario.of(configs[:2], 1.5, 2) == pair
    with pytest.raises(InputError, match=r"table \[c\] is missing") as exc:
        scenario_from_text('[a]\n[b]\n[d]\npreset = "mature"\n', "s.toml")
    assert "\n" not in str(exc.value)


def test_the_number_of_configurations_is_a_session_limit():
    """N configurations x seeds go through the same limits as citizens, seeds and years:
    too many configurations, or too many citizens over all of them, is one line."""
    many = Scenario.of([CityConfig(overrides={"citizens.count": 1000})] * 9, 1.0, 1)
    with pytest.raises(InputError, match=f"at most {MAX_CONFIGURATIONS} configurations, not 9"):
        scenario_from_query(scenario_query(scenario_toml(many)), CATALOG)
    heavy = Scenario.of([CityConfig(overrides={"citizens.count": 6000})] * 4, 1.0, 5)
    with pytest.raises(InputError, match=f"120,000 citizens at once.*{MAX_LIVE_CITIZENS:,}"):
        check_limits(heavy, CATALOG)
    check_limits(Scenario.of([CityConfig()] * 4, 1.0, 5), CATALOG)  # 4 x 5 x 5,000 fits


def test_the_form_adds_removes_and_fills_configurations():
    form = add_configuration(Form())
    assert form.names == "ab"
    form = add_configuration(form.with_side("b", Side("mature", "placebo")))
    assert form.names == "abc" and form.side("c") == Side("mature", "placebo")
    form = form.with_side("c", Side("mature", "mature-reactivate"))
    assert form.more == (Side("mature", "mature-reactivate"),)
    assert without_configuration(add_configuration(form), "c").side("c") == form.side("c")
    paths = every_path(Form(Side("mature", "mature-rebuild-advantage")))
    policies = [paths.side(n).policy for n in paths.names]
    assert policies[0] == "baseline" and policies[-1] == "placebo"
    assert {p for p in policies if p.startswith("mature-")} == {
        "mature-multicentre", "mature-reactivate", "mature-rebuild-advantage",
        "mature-urban-diseases",
    }  # fmt: skip
    check_limits(paths.scenario(), CATALOG)


def test_the_index_terms_are_read_from_the_recording(four, monkeypatch):
    """A snapshot's index terms read the recorded step's values: the same numbers as a
    fresh computation, without running a recorded reporter again."""
    model = four.runs[1].models[0]
    read = index_terms(model)
    calls = []
    original = Aggregates.value

    def counted(self, reporter):
        if reporter not in self._values:
            calls.append(reporter)
        return original(self, reporter)

    monkeypatch.setattr(Aggregates, "value", counted)
    assert index_terms(model) == read
    recorded_reporters = {spec.reporter for spec in model.datacollector.specs}
    assert not [r for r in calls if r in recorded_reporters]
    monkeypatch.setattr(type(model.datacollector), "recorded", lambda self, m: Aggregates(m))
    assert index_terms(model) == pytest.approx(read, abs=0)


def test_the_cli_runs_any_configuration_of_a_scenario(four, tmp_path):
    """smartcity run --scenario FILE --configuration c gives the view's C metrics bit for
    bit; a configuration the file lacks is one line, exit 2."""
    path = tmp_path / "four.toml"
    path.write_text(scenario_toml(four.scenario()))
    out = tmp_path / "c"
    args = ["run", "--scenario", str(path), "--configuration", "c", "--years", "0.25"]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    cli = pd.read_parquet(out / "metrics.parquet")
    view = four.runs[2].models[0].metrics_frame()
    for metric in INDEX_METRICS:
        assert cli[metric].to_numpy() == pytest.approx(view[metric].to_numpy(), rel=0, abs=0)
    bad = ["run", "--scenario", str(path), "--configuration", "e", "--out", str(tmp_path / "e")]
    assert main(bad) == 2
    assert not (tmp_path / "e").exists()


def test_a_comparison_switched_off_and_on_again_compares_a_and_b_only():
    """C and D follow B: switching the comparison off drops them, so switching it on again
    (or adding B) gives A and B, as the switch says."""
    form = Form(a=Side("mature", "baseline"), b=Side("mature", "placebo"), compare=True)
    form = form.with_more((Side("emerging", "baseline"), Side("emerging", "placebo")))
    assert form.names == "abcd"
    off = form.with_(compare=False)
    assert off.names == "a"
    assert off.with_(compare=True).names == "ab"
    assert add_configuration(off).names == "ab"

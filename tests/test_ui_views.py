"""Unit tests of the planners' view without a browser: per-district values and snapshots,
comparison stepping and B - A statistics, listed choices only, controls from the parameter
metadata, bad input shown as a message, exports with units, charts, the ``ui`` command."""

from __future__ import annotations

import io
import math
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara", reason="the viz extra is not installed (pip install -e '.[viz]')")

from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.world.errors import InputError, ParameterError
from smartcity.simulation.world.parameters import iter_specs
from smartcity.simulation.world.vocabulary import CAPABILITY_NAMES, INDEX_METRICS, SECTOR_NAMES
from smartcity.visualization.scenario import CityConfig
from smartcity.visualization.views import (
    DISTRICT_METRICS,
    VIEW_CITIZENS,
    ViewRun,
    capability_shares,
    control_specs,
    district_congestion,
    district_summaries,
    district_table,
    district_values,
    edge_congestion,
    end_year_table,
    metrics_table,
    paired_differences,
    recorded,
    resolved_values,
    snapshot,
    table_bytes,
    view_catalog,
)

SMALL = {"citizens.count": 1500}


@pytest.fixture(scope="module")
def stepped():
    run = ViewRun([CityConfig("mature", "baseline", 3, SMALL)])
    assert run.errors == []
    for _ in range(3):
        run.step()
    return run


@pytest.fixture(scope="module")
def city(stepped):
    return stepped.runs[0].model


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


def test_district_summaries_match_each_district(city):
    summary = district_summaries(city)
    c = city.citizens
    for d in range(city.districts.n):
        here = c.home == d
        assert summary["residents"][d] == here.sum()
        if here.any():
            assert math.isclose(summary["mean_age"][d], c.age[here].mean())
            assert math.isclose(summary["mean_income"][d], c.income[here].mean())
            labour = here & c.labour_force(city.params.citizens.retirement_age)
            employed = (labour & c.employed()).sum() / max(labour.sum(), 1)
            assert math.isclose(summary["employment_rate"][d], employed)
    snap = snapshot(city)
    d = int(np.argmax(summary["residents"]))
    table = snap.sectors(d)
    assert list(table.sector) == list(SECTOR_NAMES)
    assert table.firms.sum() == (city.firms.district == d).sum()
    assert table.jobs.sum() == pytest.approx(
        district_values(city, "jobs")[d], abs=len(SECTOR_NAMES)
    )


def test_history_keeps_every_step_as_it_was(stepped):
    """The inspector and the map read snapshots: step 1's values stay those of step 1."""
    history = stepped.runs[0].history
    assert [s.step for s in history] == [0, 1, 2, 3]
    again = ViewRun([CityConfig("mature", "baseline", 3, SMALL)])
    again.step()
    for name in DISTRICT_METRICS:
        assert np.array_equal(history[1].values[name], again.runs[0].history[1].values[name])
    assert not np.array_equal(history[0].values["population"], history[3].values["population"])


def test_comparison_steps_both_cities_together():
    run = ViewRun(
        [
            CityConfig("mature", "baseline", 5, SMALL),
            {"preset": "emerging", "policy": "baseline", "seed": 5, "overrides": SMALL},
        ]
    )
    assert run.errors == [] and len(run.live) == 2
    for _ in range(4):
        run.step()
    assert [r.model.steps for r in run.runs] == [4, 4] and run.steps == 4
    assert [r.label for r in run.runs] == ["A: mature / baseline", "B: emerging / baseline"]
    _, b = run.frames()
    # stepping together is the same as stepping each alone (no shared random state)
    alone = ViewRun([CityConfig("emerging", "baseline", 5, SMALL)])
    for _ in range(4):
        alone.step()
    pd.testing.assert_frame_equal(alone.frames()[0], b)


def test_paired_differences_and_end_year_table():
    """B - A over paired seeds: the mean is the mean of the per-seed differences, the band
    contains it and is empty for one seed; the table's B - A and % follow."""
    configs = [
        CityConfig("emerging", "baseline", 2, SMALL),
        CityConfig("emerging", "emerging-breakthrough", 2, SMALL),
    ]
    run = ViewRun(configs, seeds=3)
    for _ in range(3):
        run.step()
    diffs = paired_differences(recorded(run), INDEX_METRICS)
    assert set(diffs["configuration"]) == {"B - A"}
    last = diffs[(diffs.metric == "governance_index") & (diffs.step == 3)].iloc[0]
    per_seed = [
        mb.metrics_frame()["governance_index"].iloc[3]
        - ma.metrics_frame()["governance_index"].iloc[3]
        for ma, mb in zip(run.runs[0].models, run.runs[1].models, strict=True)
    ]
    assert last["mean"] == pytest.approx(np.mean(per_seed))
    assert last["lo"] < last["mean"] < last["hi"]
    table = end_year_table(recorded(run), INDEX_METRICS).set_index(["metric", "configuration"])
    a, b = table.loc[("governance_index", "A")], table.loc[("governance_index", "B")]
    assert b["difference"] == pytest.approx(b["value"] - a["value"])
    assert b["lo"] < b["difference"] < b["hi"]
    assert b["%"] == pytest.approx(100 * (b["value"] - a["value"]) / abs(a["value"]))
    assert b["unit"] == METRICS["governance_index"].unit
    one = ViewRun(configs, seeds=1)
    one.step()
    d = paired_differences(recorded(one), INDEX_METRICS)
    assert (d["lo"] == d["mean"]).all() and (d["hi"] == d["mean"]).all()
    # The map, the inspector and the metric charts draw the first seed's city: with several
    # seeds they say which, with one they show the plain label.
    assert run.runs[1].shown(3) == (
        "B: emerging / emerging-breakthrough, seed 2 (first of 3), year 0.25"
    )
    assert run.frames()[1].equals(run.runs[1].models[0].metrics_frame())
    assert one.runs[1].shown(1) == "B: emerging / emerging-breakthrough, year 0.08"


def test_an_error_in_b_keeps_a_running():
    run = ViewRun([CityConfig(overrides=SMALL), CityConfig("atlantis", overrides=SMALL)])
    assert run.errors == ["configuration B: preset 'atlantis' is not one of the listed presets"]
    assert [r.ok for r in run.runs] == [True, False]
    run.step()
    assert run.steps == 1 and len(run.runs[0].history) == 2


def test_only_listed_values_are_accepted(tmp_path, monkeypatch):
    """Paths, unlisted packages and unknown initiatives are refused before anything is read,
    with the same message whether the file exists or not; user presets come only from the
    configured folder."""
    secret = tmp_path / "secret.toml"
    secret.write_text("[citizens]\ncount = 2000\n")
    opened = []
    real_open = open

    def watch(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", watch)
    for preset in (str(secret), str(tmp_path / "missing.toml"), "../../etc/x.toml"):
        run = ViewRun([CityConfig(preset, "baseline", 1, SMALL)])
        assert run.errors == [f"preset {preset!r} is not one of the listed presets"]
    package = ViewRun([CityConfig("mature", str(secret), 1, SMALL)])
    assert "is not one of the listed packages" in package.errors[0]
    unknown = ViewRun([CityConfig("mature", "baseline", 1, SMALL, initiatives=["os_system"])])
    assert "initiative 'os_system' is not one listed" in unknown.errors[0]
    assert not any("secret" in p or "missing" in p for p in opened)
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "mine.toml").write_text('extends = "emerging"\n[citizens]\ncount = 2500\n')
    catalog = view_catalog(folder)
    assert catalog.presets[-1] == "file: mine.toml"
    run = ViewRun([CityConfig("file: mine.toml", "baseline", 1)], catalog=catalog)
    assert run.errors == [] and len(run.runs[0].model.citizens) == 2500  # its own count
    assert view_catalog(None).user_presets == {} or os.environ.get("SMARTCITY_PRESETS_DIR")


def test_invalid_values_are_messages(tmp_path):
    out_of_range = ViewRun([CityConfig(overrides={"citizens.trust_mean": 7.0})])
    assert "citizens.trust_mean" in out_of_range.errors[0]
    no_budget = {f"government.share_{c}": 0.0 for c in CAPABILITY_NAMES}
    assert (
        "at least one share must be positive"
        in ViewRun([CityConfig(overrides=no_budget)]).errors[0]
    )
    assert "seed must be" in ViewRun([CityConfig(seed=-1, overrides=SMALL)]).errors[0]
    bad_key = ViewRun([CityConfig(overrides={"os.system": 1})])
    assert "not a listed numeric parameter" in bad_key.errors[0]


def test_sliders_come_from_the_parameter_metadata():
    declared = {key: spec for key, _, spec in iter_specs()}
    specs = control_specs()
    keys = [s.key for s in specs]
    assert "citizens.count" in keys and "government.capability_budget_share" in keys
    for s in specs:
        d = declared[s.key]
        assert s.unit == d.unit and s.unit in s.label and s.doc == d.doc
        assert d.lo is None or s.lo >= d.lo
        assert d.hi is None or s.hi <= d.hi
        assert s.clamp(1e12) == s.hi and s.clamp(-1e12) == s.lo
    count = next(s for s in specs if s.key == "citizens.count")
    assert (VIEW_CITIZENS - count.lo) % count.step == 0


def test_capability_shares_sum_to_one():
    values = resolved_values("mature", "baseline")
    shares = capability_shares(values)
    assert sum(shares.values()) == pytest.approx(1.0)
    doubled = {k: 2 * v for k, v in values.items() if k.startswith("government.share_")}
    assert capability_shares(doubled) == pytest.approx(shares)  # only the proportions count


def test_slider_start_values_follow_preset_and_package():
    assert resolved_values("mature", "baseline")["government.capability_budget_share"] == 0.05
    emerging = resolved_values("emerging", "emerging-breakthrough")
    assert emerging["government.capability_budget_share"] == 0.12  # from the package
    with pytest.raises(ParameterError):
        resolved_values("missing.toml", "baseline")


def test_exports_carry_units_per_city_and_per_district():
    run = ViewRun([CityConfig(overrides=SMALL), CityConfig("emerging", overrides=SMALL)])
    run.step()
    city = pd.read_csv(io.BytesIO(table_bytes(metrics_table(run), "csv")))
    parquet = pd.read_parquet(io.BytesIO(table_bytes(metrics_table(run), "parquet")))
    assert len(city) == len(parquet) == 4
    assert list(city.configuration) == ["A", "A", "B", "B"]
    assert "gdp_per_capita [k/person-year]" in city.columns or any(
        c.startswith("gdp_per_capita [") for c in city.columns
    )
    districts = district_table(run)
    n_a, n_b = (r.model.districts.n for r in run.runs)
    assert len(districts) == 2 * (n_a + n_b)
    assert "population [residents]" in districts.columns
    pop = districts[(districts.configuration == "A") & (districts.step == 1)]
    assert pop["population [residents]"].sum() == len(run.runs[0].model.citizens)


def test_charts_carry_units_and_tooltips(stepped):
    from smartcity.visualization.figures import (
        colour_domain,
        difference_map,
        district_map,
        metric_charts,
    )

    runs = stepped.runs
    for metric, spec in DISTRICT_METRICS.items():
        lo, hi, basis = colour_domain(runs, metric)
        if spec.lo is not None:
            assert (lo, hi, basis) == (spec.lo, spec.hi, "documented range")
        else:
            values = np.concatenate([s.values[metric] for s in runs[0].history])
            assert hi >= values.max() and basis == "range so far (widens)"
        chart = district_map(runs[0], runs[0].history[-1], metric, (lo, hi, basis), selected=1)
        text = chart.to_json(validate=False)
        assert spec.unit in text and "tooltip" in text and '"name"' in text
    diff = difference_map(runs[0], runs[0], 2, "population", 1.0).to_dict(validate=False)
    assert '"domainMid": 0' in str(diff).replace("'", '"')
    charts = metric_charts(stepped.frames(), ["A"], INDEX_METRICS, at_year=0.1)
    assert "Governance index [0-1]" in charts.to_json(validate=False)


def test_ui_subcommand_binds_localhost_and_warns_otherwise(capsys):
    import argparse

    from smartcity.visualization.cli import APP, command_ui, register, solara_command

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["ui"])
    assert (args.host, args.port, args.dev, args.presets) == ("127.0.0.1", 8765, False, None)
    command = solara_command(args.host, args.port, production=True)
    assert APP.exists() and str(APP) in command and "--production" in command
    assert command[command.index("--host") + 1] == "127.0.0.1"
    with pytest.raises(InputError, match="not a directory"):
        command_ui(parser.parse_args(["ui", "--presets", "/nonexistent/folder"]))
    with pytest.raises(InputError, match="--max-sessions"):
        command_ui(parser.parse_args(["ui", "--max-sessions", "0"]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ui_passes_sigterm_to_the_server(tmp_path):
    """``kill -TERM`` on ``smartcity ui`` stops the Solara server it started; another host
    than 127.0.0.1 is served with a warning that there is no login."""
    port = _free_port()
    log = tmp_path / "ui.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "smartcity", "ui", "--port", str(port), "--host", "127.0.0.2"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.2", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the server did not start: {log.read_text()}")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) is not None
        time.sleep(1)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.2", port), timeout=1).close()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "no login" in log.read_text()


def test_play_stops_at_its_end_on_stop_and_when_the_page_is_gone():
    """The play loop: runs to its end step asking for redraws, stops when asked, and stops
    at once when no page of the session is connected (a closed browser stops playing)."""
    from smartcity.visualization.playback import PlayRequest, play

    run = ViewRun([CityConfig(overrides=SMALL)])
    redraws = []
    request = PlayRequest(run, end=3, speed=0.0)
    play(request, lambda: redraws.append(run.steps), lambda: True)
    assert run.steps == 3 and request.stop.is_set() and request.rate > 0
    gone = PlayRequest(run, end=12, speed=0.0)
    play(gone, lambda: None, lambda: False)
    assert run.steps == 3
    stopped = PlayRequest(run, end=12, speed=0.0)
    stopped.stop.set()
    play(stopped, lambda: None, lambda: True)
    assert run.steps == 3
    paced = PlayRequest(run, end=5, speed=20.0)
    t0 = time.perf_counter()
    play(paced, lambda: None, lambda: True)
    assert run.steps == 5 and time.perf_counter() - t0 >= 2 / 20 - 1e-3


def test_a_closing_session_drops_its_models():
    """Issue 21 item 6: a closed session's run kept every model alive (Solara keeps the
    closed kernel's render tree reachable for a while); closing now drops them."""
    from smartcity.visualization.sessions import drop_models

    run = ViewRun([{"overrides": {"citizens.count": 1500}}])
    run.step()
    drop_models(run)
    assert run.runs[0].models == [] and run.runs[0].history == []
    assert not run.step() and run.steps == 0

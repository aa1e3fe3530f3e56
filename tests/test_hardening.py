"""Bad input from a clumsy user or an attacker: one line, exit status 2, nothing written.

One test per class of case found by trying the command line, packages and sweeps with
wrong, odd and hostile input (2,000-citizen cities or smaller).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import psutil
import pytest

from smartcity.cli import main
from smartcity.experiments import store
from smartcity.experiments.store import StoreError, load_results
from smartcity.simulation.model import CityModel
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.parameters import PARAM_SPECS

SMALL = ["--set", "citizens.count=200", "--quiet"]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit status and stderr of the CLI, argparse's own exits included."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, capsys.readouterr().err


def refused(argv: list[str], capsys, out: Path, *needles: str) -> str:
    """The CLI exits 2 with one stderr line holding every needle and writes nothing."""
    status, err = run_cli(argv, capsys)
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    assert not out.exists()
    return err


def run_argv(tmp_path: Path, *extra: str, years: str = "1") -> list[str]:
    return ["run", "--years", years, "--out", str(tmp_path / "out"), *SMALL, *extra]


# --- presets -----------------------------------------------------------------------------


def test_preset_that_extends_itself(tmp_path, capsys):
    (tmp_path / "loop.toml").write_text('extends = "loop.toml"\n')
    argv = run_argv(tmp_path, "--preset", str(tmp_path / "loop.toml"))
    refused(argv, capsys, tmp_path / "out", "cycle", "loop.toml -> loop.toml")


def test_two_presets_that_extend_each_other(tmp_path, capsys):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n[citizens]\ncount = 300\n')
    argv = run_argv(tmp_path, "--preset", str(tmp_path / "a.toml"))
    refused(argv, capsys, tmp_path / "out", "cycle", "a.toml -> b.toml -> a.toml")


def test_preset_that_is_not_utf8(tmp_path, capsys):
    (tmp_path / "latin.toml").write_bytes('[city]\nname = "Zürich"\n'.encode("latin-1"))
    argv = run_argv(tmp_path, "--preset", str(tmp_path / "latin.toml"))
    refused(argv, capsys, tmp_path / "out", "not UTF-8", "0xfc")


def test_directory_named_like_a_preset(tmp_path, capsys):
    (tmp_path / "city.toml").mkdir()
    argv = run_argv(tmp_path, "--preset", str(tmp_path / "city.toml"))
    refused(argv, capsys, tmp_path / "out", "is a directory")


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("count = inf", "citizens.count"),
        ("trust_mean = nan", "citizens.trust_mean"),
        ("trust_mean = inf", "citizens.trust_mean"),
        ('count = "many"', "citizens.count"),
        ("count = [1]", "citizens.count"),
        ("count = true", "citizens.count"),
    ],
)
def test_preset_values_of_the_wrong_type_or_not_finite(tmp_path, capsys, line, needle):
    path = tmp_path / "p.toml"
    path.write_text(f'extends = "mature"\n[citizens]\n{line}\n')
    refused(run_argv(tmp_path, "--preset", str(path)), capsys, tmp_path / "out", needle)


def test_preset_section_that_is_not_a_table(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text("citizens = 5\n")
    refused(run_argv(tmp_path, "--preset", str(path)), capsys, tmp_path / "out", "citizens")


# --- command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--years", "abc"], "--years"),
        (["--seed", "-1"], "--seed"),
        (["--seed", "x"], "--seed"),
        (["--years", "inf"], "years"),
        (["--years", "nan"], "years"),
        (["--set", "citizens.count=1e400"], "citizens.count"),
        (["--set", "citizens.trust_mean=inf"], "citizens.trust_mean"),
    ],
)
def test_bad_options_are_one_line(tmp_path, capsys, extra, needle):
    refused(run_argv(tmp_path, *extra), capsys, tmp_path / "out", needle)


def test_seed_must_be_non_negative_in_the_api():
    with pytest.raises(InputError, match="seed must be an integer >= 0"):
        CityModel("mature", seed=-1, citizens__count=200)


def test_out_under_a_file_is_refused_before_the_run(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("keep")
    out = blocker / "sub" / "out"
    argv = ["run", "--years", "1", "--out", str(out), *SMALL]
    started = time.perf_counter()
    refused(argv, capsys, out, "which is a file")
    assert time.perf_counter() - started < 5, "refused only after simulating"
    assert blocker.read_text() == "keep"


def test_out_on_a_read_only_file_system_is_refused(capsys):
    readonly = Path("/proc/sys")
    if os.access(readonly, os.W_OK):
        pytest.skip("no read-only file system to write to here")
    out = readonly / "smartcity-out"
    refused(["run", "--years", "1", "--out", str(out), *SMALL], capsys, out, "not writable")


def test_full_disk_while_writing_a_run_is_one_line(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("smartcity.experiments.provenance.tempfile.mkdtemp", full)
    out = tmp_path / "out"
    argv = ["run", "--years", "0.25", "--out", str(out), *SMALL]
    refused(argv, capsys, out, "No space left on device")


# --- city graphs -------------------------------------------------------------------------

NODES = (
    "id,kind,x,y,area_km2,housing_capacity,transport,ict,computing,iot,service_capacity,"
    "environment\n"
    "a,core,0,0,{area},800,0.8,0.7,0.5,0.3,600,0.6\n"
    "b,suburb,5,0,20,600,0.6,0.5,0.4,0.2,300,0.8\n"
)
EDGES = "source,target,travel_time,capacity\na,b,12,{capacity}\n"


def graph_preset(tmp_path: Path, area: str = "8", capacity: str = "500") -> Path:
    (tmp_path / "nodes.csv").write_text(NODES.format(area=area))
    (tmp_path / "edges.csv").write_text(EDGES.format(capacity=capacity))
    path = tmp_path / "g.toml"
    path.write_text(f'extends = "mature"\n[city]\ngraph_file = "{tmp_path / "nodes.csv"}"\n')
    return path


@pytest.mark.parametrize(
    ("area", "capacity", "needle"),
    [
        ("inf", "500", "area_km2"),
        ("big", "500", "area_km2='big' is not a number"),
        ("", "500", "area_km2"),
        ("8", "lots", "capacity='lots' is not a number"),
        ("8", "", "capacity"),
    ],
)
def test_bad_csv_graph_values(tmp_path, capsys, area, capacity, needle):
    preset = graph_preset(tmp_path, area, capacity)
    refused(run_argv(tmp_path, "--preset", str(preset)), capsys, tmp_path / "out", needle)


def test_empty_csv_graph_file(tmp_path, capsys):
    preset = graph_preset(tmp_path)
    (tmp_path / "edges.csv").write_text("")
    refused(run_argv(tmp_path, "--preset", str(preset)), capsys, tmp_path / "out", "is empty")


def test_bad_graphml_value(tmp_path, capsys):
    graphml = tmp_path / "city.graphml"
    graphml.write_text(
        '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<key id="a" for="node" attr.name="area_km2" attr.type="string"/>'
        '<key id="k" for="node" attr.name="kind" attr.type="string"/>'
        '<graph edgedefault="undirected"><node id="n"><data key="a">wide</data>'
        '<data key="k">core</data></node></graph></graphml>'
    )
    preset = tmp_path / "g.toml"
    preset.write_text(f'extends = "mature"\n[city]\ngraph_file = "{graphml}"\n')
    refused(run_argv(tmp_path, "--preset", str(preset)), capsys, tmp_path / "out", "lacks")


# --- policy packages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[initiatives.online_government]\nfinancing = ["ppp"]\n', "financing"),
        ("initiatives = 5\n", "initiatives = 5"),
        ("capabilities = 5\n", "capabilities = 5"),
        ("sectors = 5\n", "sectors = 5"),
        ("new_infrastructure = [1]\n", "new_infrastructure"),
        ("parameters = 5\n", "parameters = 5"),
        ('[parameters]\n"citizens.count" = [1]\n', "citizens.count"),
        ("title = 5\n", "title = 5"),
        ("platform_cost = inf\n", "platform_cost"),
        ("[initiatives.online_government]\nscale = nan\n", "scale"),
        ("[initiatives.online_government]\nstart_year = true\n", "start_year"),
        ("[initiatives.online_government]\nclass = 5\n", "class"),
        ('[capabilities]\nbudget_share = "high"\n', "budget_share"),
        ("[sectors]\nmining = 1.0\n", "mining"),
    ],
)
def test_package_tables_of_the_wrong_type(tmp_path, capsys, body, needle):
    path = tmp_path / "p.toml"
    path.write_text(body)
    refused(run_argv(tmp_path, "--policy", str(path)), capsys, tmp_path / "out", needle)


INITIATIVE = """name = "{name}"
title = "t"
key_issue = "aging"
source = "test"
description = "d"
target_metric = "service_access"
direction = "up"
capital_cost = 0.01
operating_cost = 0.001
build_years = 1.0
adoption = "operability"
requires = {requires}
"""


def test_initiative_requires_of_the_wrong_type(tmp_path, capsys):
    (tmp_path / "mine.toml").write_text(INITIATIVE.format(name="mine", requires="5"))
    path = tmp_path / "p.toml"
    path.write_text(f'[initiatives."{tmp_path / "mine.toml"}"]\n')
    refused(run_argv(tmp_path, "--policy", str(path)), capsys, tmp_path / "out", "requires")


def test_circular_requires_is_refused(tmp_path, capsys):
    (tmp_path / "a.toml").write_text(INITIATIVE.format(name="a", requires='["b"]'))
    (tmp_path / "b.toml").write_text(INITIATIVE.format(name="b", requires='["a"]'))
    path = tmp_path / "p.toml"
    path.write_text(
        f'[initiatives."{tmp_path / "a.toml"}"]\n[initiatives."{tmp_path / "b.toml"}"]\n'
    )
    refused(run_argv(tmp_path, "--policy", str(path)), capsys, tmp_path / "out", "a -> b -> a")


def test_start_year_beyond_the_horizon_is_one_warning_line_and_the_run_goes_on(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text("[initiatives.online_government]\nstart_year = 5\n")
    status, err = run_cli(run_argv(tmp_path, "--policy", str(path), years="2"), capsys)
    assert status == 0, err
    assert err.count("\n") == 1 and "warning" in err and "starts in year 5" in err, err
    assert (tmp_path / "out" / "metrics.parquet").exists()


def test_a_shipped_path_runs_a_one_year_horizon(tmp_path, capsys):
    argv = run_argv(tmp_path, "--preset", "emerging", "--policy", "emerging-industrial-chain")
    status, err = run_cli(argv, capsys)
    assert status == 0, err
    assert err.count("\n") >= 1 and "will not run" in err and "Traceback" not in err, err


EVIL = "from pathlib import Path\nPath({marker!r}).write_text('ran')\nclass Evil: pass\n"


def test_package_code_needs_allow_code_and_is_never_imported_without(tmp_path, capsys, monkeypatch):
    """A package naming a module with side effects is refused before the import."""
    marker = tmp_path / "ran.txt"
    (tmp_path / "evil_mod.toml").write_text("")
    (tmp_path / "evil_mod.py").write_text(EVIL.format(marker=str(marker)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "p.toml"
    path.write_text('[initiatives.online_government]\nclass = "evil_mod:Evil"\n')
    refused(run_argv(tmp_path, "--policy", str(path)), capsys, tmp_path / "out", "--allow-code")
    assert not marker.exists()
    assert "evil_mod" not in sys.modules


def test_allowed_code_is_not_searched_for_in_the_working_directory(tmp_path, capsys, monkeypatch):
    """With --allow-code the module is imported by name, never from where the command
    runs (``python -m`` puts that folder first on sys.path)."""
    marker = tmp_path / "ran.txt"
    (tmp_path / "cwd_mod.py").write_text(EVIL.format(marker=str(marker)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", str(tmp_path), *sys.path])
    path = tmp_path / "p.toml"
    path.write_text('[initiatives.online_government]\nclass = "cwd_mod:Evil"\n')
    argv = run_argv(tmp_path, "--policy", str(path), "--allow-code")
    refused(argv, capsys, tmp_path / "out", "cannot be imported")
    assert not marker.exists()


def test_allowed_code_runs_a_subclass(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        '[initiatives.online_government]\nclass = "smartcity.policies.initiatives:Initiative"\n'
    )
    with pytest.raises(InputError, match="runs Python code"):
        CityModel("mature", seed=1, policy=str(path), citizens__count=200)
    model = CityModel("mature", seed=1, policy=str(path), allow_code=True, citizens__count=200)
    assert model.policy_runtime.initiatives[0].name == "online_government"


# --- sweeps ------------------------------------------------------------------------------

SPEC = """name = "tiny"
presets = ["mature"]
replications = 2
root_seed = 7
years = 1

[overrides]
"citizens.count" = 150

[grid]
"citizens.trust_mean" = [0.4, 0.6]
"""


def sweep(spec: Path, out: Path, *extra: str) -> list[str]:
    return ["sweep", str(spec), "--out", str(out), "--workers", "1", *extra]


def test_truncated_run_is_found_on_resume_and_run_again(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    whole, out = tmp_path / "whole", tmp_path / "out"
    assert run_cli(sweep(spec, whole), capsys)[0] == 0
    assert run_cli(sweep(spec, out), capsys)[0] == 0
    files = sorted((out / store.RUNS_DIR).glob("*.parquet"))
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2])
    files[1].write_bytes(b"")
    with pytest.raises(StoreError, match="damaged"):
        load_results(out)
    status, err = run_cli(sweep(spec, out, "--resume"), capsys)
    assert status == 0, err
    assert "2 damaged run file(s)" in err and files[0].stem in err
    pd.testing.assert_frame_equal(load_results(out), load_results(whole), check_exact=True)
    assert [f.read_bytes() for f in files] == [
        (whole / store.RUNS_DIR / f.name).read_bytes() for f in files
    ]


def test_altered_run_content_is_detected(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    assert run_cli(sweep(spec, out), capsys)[0] == 0
    path = sorted((out / store.RUNS_DIR).glob("*.parquet"))[0]
    frame = pd.read_parquet(path)
    frame.loc[0, "population"] += 1
    frame.to_parquet(path, index=False)
    with pytest.raises(StoreError, match="checksum"):
        load_results(out)


def test_second_sweep_into_a_busy_out_is_refused(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    out.mkdir()
    with store.locked(out):
        status, err = run_cli(sweep(spec, out), capsys)
    assert status == 2
    assert err.count("\n") == 1 and f"pid {os.getpid()}" in err, err
    assert not (out / store.MANIFEST).exists()
    assert run_cli(sweep(spec, out), capsys)[0] == 0


def test_full_disk_during_a_sweep_is_one_line_and_resume_completes(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    whole, out = tmp_path / "whole", tmp_path / "out"
    assert run_cli(sweep(spec, whole), capsys)[0] == 0
    real = store.write_run
    calls = []

    def fill_up(*args):
        calls.append(1)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(*args)

    monkeypatch.setattr(store, "write_run", fill_up)
    status, err = run_cli(sweep(spec, out), capsys)
    assert status == 2
    # The progress bar closes its line first; the error itself is one line.
    last = err.splitlines()[-1]
    assert last.startswith("smartcity sweep: error:") and "Traceback" not in err, err
    assert "No space left on device" in last and "--resume" in last
    assert len(list((out / store.RUNS_DIR).glob("*.parquet"))) == 2
    monkeypatch.setattr(store, "write_run", real)
    assert run_cli(sweep(spec, out, "--resume"), capsys)[0] == 0
    pd.testing.assert_frame_equal(load_results(out), load_results(whole), check_exact=True)


def test_spec_with_a_bad_graph_file_fails_before_writing(tmp_path, capsys):
    (tmp_path / "nodes.csv").write_text(NODES.format(area="x"))
    (tmp_path / "edges.csv").write_text(EDGES.format(capacity="500"))
    spec = tmp_path / "s.toml"
    spec.write_text(
        SPEC.replace('"citizens.count" = 150', f'"city.graph_file" = "{tmp_path / "nodes.csv"}"')
    )
    refused(sweep(spec, tmp_path / "out"), capsys, tmp_path / "out", "area_km2")


@pytest.mark.slow
def test_no_worker_survives_a_killed_sweep(tmp_path):
    """kill -9 of a sweep: its worker processes exit within 10 s."""
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace("years = 1", "years = 30").replace("= 150", "= 3000"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "smartcity", *sweep(spec, tmp_path / "out")[:-2], "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sweeper = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.5)
        # Workers are forked by the sweep's fork server (its child), so they are its
        # grandchildren.
        workers = [w for child in sweeper.children() for w in child.children()]
    assert len(workers) >= 2, "the sweep started no workers"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(w) for w in workers):
        time.sleep(0.2)
    alive = [w for w in workers if _running(w)]
    for survivor in alive:
        survivor.kill()
    assert not alive, f"{len(alive)} worker(s) survived the sweep"


def _running(process: psutil.Process) -> bool:
    """Alive and not a zombie (an exited worker whose new parent has not reaped it yet)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_spec_with_a_package_starting_after_its_years_warns_and_runs(tmp_path, capsys):
    package = tmp_path / "late.toml"
    package.write_text("[initiatives.online_government]\nstart_year = 3\n")
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace('name = "tiny"', f'policies = ["{package}"]'))
    status, err = run_cli(sweep(spec, tmp_path / "out", "--quiet"), capsys)
    assert status == 0, err
    assert err.count("\n") == 1 and "starts in year 3" in err, err


def test_sweep_runs_package_code_only_with_allow_code(tmp_path, capsys):
    package = tmp_path / "code.toml"
    package.write_text(
        '[initiatives.online_government]\nclass = "smartcity.policies.initiatives:Initiative"\n'
    )
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace('name = "tiny"', f'policies = ["{package}"]'))
    out = tmp_path / "out"
    refused(sweep(spec, out), capsys, out, "--allow-code")
    status, err = run_cli(sweep(spec, out, "--allow-code"), capsys)
    assert status == 0, err
    assert len(load_results(out)["run_id"].unique()) == 4


def test_preset_that_is_a_symlink_loop(tmp_path, capsys):
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    refused(run_argv(tmp_path, "--preset", str(loop)), capsys, tmp_path / "out", "cannot be read")


def test_empty_out_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, err = run_cli(["run", "--years", "1", *SMALL, "--out", ""], capsys)
    assert status == 2 and "--out needs a folder name" in err
    assert list(tmp_path.iterdir()) == []


def test_bad_package_parameter_names_the_package(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text('[parameters]\n"citizens.count" = "x"\n')
    argv = run_argv(tmp_path, "--policy", str(path))
    refused(argv, capsys, tmp_path / "out", "policy package 'p'", "citizens.count")


# --- hardening 2: limits before cost -----------------------------------------------------


def quickly_refused(argv: list[str], capsys, out: Path, *needles: str) -> str:
    """Refused like ``refused``, and within 2 s: nothing was planned first."""
    start = time.monotonic()
    err = refused(argv, capsys, out, *needles)
    assert time.monotonic() - start < 2.0, err
    return err


@pytest.mark.parametrize("years", ["1000000", "1e300"])
def test_run_of_a_million_years_is_refused_at_once(tmp_path, capsys, years):
    quickly_refused(run_argv(tmp_path, years=years), capsys, tmp_path / "out", "--limit steps=N")


@pytest.mark.parametrize("years", ["0", "-1", "nan", "inf"])
def test_run_of_no_time_is_refused(tmp_path, capsys, years):
    refused(run_argv(tmp_path, years=years), capsys, tmp_path / "out", "--years")


def test_raised_step_limit_is_a_documented_option(tmp_path, capsys):
    argv = run_argv(tmp_path, "--limit", "steps=20", years="2")
    refused(argv, capsys, tmp_path / "out", "24 steps", "limit of 20 steps")
    status, err = run_cli(["run", "--limit", "steps=0", "--out", str(tmp_path / "o")], capsys)
    assert status == 2 and "from 1 to" in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (("replications = 2", "replications = 1000000000"), ("2,000,000,000 runs", "--limit")),
        (("years = 1", "years = 1000000"), ("12,000,000 steps", "--limit steps=N")),
    ],
)
def test_spec_sizes_are_refused_before_anything_is_planned(tmp_path, capsys, change, needles):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace(*change))
    quickly_refused(sweep(spec, tmp_path / "out"), capsys, tmp_path / "out", *needles)


UNIT_KEYS = [key for key, spec in PARAM_SPECS.items() if (spec.lo, spec.hi) == (0, 1)][:10]


def ten_billion_point_grid(suffix: str = "") -> str:
    """Ten parameters of ten values each: 10^10 grid points."""
    values = ", ".join(f"{0.05 * i:.2f}" for i in range(1, 11))
    return "\n".join(f'"{key}{suffix}" = [{values}]' for key in UNIT_KEYS) + "\n"


def test_ten_billion_point_grid_is_refused_within_two_seconds(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.split("[grid]")[0] + "[grid]\n" + ten_billion_point_grid())
    quickly_refused(
        sweep(spec, tmp_path / "out"), capsys, tmp_path / "out", "10,000,000,000", "grid points"
    )


def test_misspelt_grid_names_are_named_before_the_grid_is_expanded(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.split("[grid]")[0] + "[grid]\n" + ten_billion_point_grid("x"))
    quickly_refused(sweep(spec, tmp_path / "out"), capsys, tmp_path / "out", f"'{UNIT_KEYS[0]}x'")


def test_compare_of_a_billion_replications_is_refused_at_once(tmp_path, capsys):
    argv = ["compare", "--out", str(tmp_path / "out"), "--replications", "1000000000"]
    quickly_refused(argv, capsys, tmp_path / "out", "runs", "--limit runs=N")


def test_calibration_trials_and_years_are_limited(tmp_path, capsys):
    spec = tmp_path / "cal.toml"
    body = (
        'preset = "mature"\nyears = 1\ntrials = 1000000000\n'
        '[parameters."citizens.trust_mean"]\nlow = 0.3\nhigh = 0.6\n'
        '[[targets]]\nmetric = "population"\nyear = 1\nvalue = 100\n'
    )
    spec.write_text(body)
    argv = ["calibrate", str(spec), "--out", str(tmp_path / "out")]
    quickly_refused(argv, capsys, tmp_path / "out", "trials", "--limit runs=N")
    spec.write_text(
        body.replace("trials = 1000000000", "trials = 2").replace("years = 1", 'years = "1"')
    )
    refused(argv, capsys, tmp_path / "out", "years", "wrong type")


def test_graph_of_too_many_districts_is_refused(tmp_path, capsys, monkeypatch):
    from smartcity.simulation.world import graph

    monkeypatch.setattr(graph, "MAX_DISTRICTS", 1)
    preset = graph_preset(tmp_path)
    refused(run_argv(tmp_path, "--preset", str(preset)), capsys, tmp_path / "out", "limit of 1")


def test_fifo_given_as_a_preset_or_a_graph_is_refused(tmp_path, capsys):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    refused(run_argv(tmp_path, "--preset", str(fifo)), capsys, tmp_path / "out", "not a regular")
    graph = tmp_path / "pipe.graphml"
    os.mkfifo(graph)
    preset = tmp_path / "g.toml"
    preset.write_text(f'extends = "mature"\n[city]\ngraph_file = "{graph}"\n')
    refused(run_argv(tmp_path, "--preset", str(preset)), capsys, tmp_path / "out", "not a regular")


# --- hardening 2: output folders ---------------------------------------------------------


def test_dangling_out_link_is_refused_before_the_run(tmp_path, capsys):
    out = tmp_path / "out"
    out.symlink_to(tmp_path / "missing")
    for argv in (run_argv(tmp_path), sweep(write_spec(tmp_path), out)):
        start = time.monotonic()
        status, err = run_cli(argv, capsys)
        assert status == 2 and err.count("\n") == 1 and "does not exist" in err, err
        assert time.monotonic() - start < 2.0
    assert not (tmp_path / "missing").exists()


def write_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    return spec


def test_calibrate_on_a_read_only_out_fails_before_any_trial(tmp_path, capsys, monkeypatch):
    from smartcity.experiments import calibrate

    spec = tmp_path / "cal.toml"
    spec.write_text(
        'preset = "mature"\nyears = 1\ntrials = 2\n[overrides]\n"citizens.count" = 100\n'
        '[parameters."citizens.trust_mean"]\nlow = 0.3\nhigh = 0.6\n'
        '[[targets]]\nmetric = "population"\nyear = 1\nvalue = 100\n'
    )
    ran = []
    monkeypatch.setattr(calibrate, "calibrate", lambda *a, **k: ran.append(1))
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    status, err = run_cli(["calibrate", str(spec), "--out", str(tmp_path / "cal")], capsys)
    assert status == 2 and err.count("\n") == 1 and "not writable" in err, err
    assert not ran


# --- hardening 2: one reader for every format --------------------------------------------

NESTED = "x = " + "[" * 5000 + "]" * 5000 + "\n"


@pytest.mark.parametrize("command", ["sweep", "sensitivity", "calibrate", "run"])
def test_deeply_nested_toml_is_one_line(tmp_path, capsys, command):
    path = tmp_path / "deep.toml"
    path.write_text(NESTED)
    out = tmp_path / "out"
    argv = {
        "sweep": sweep(path, out),
        "sensitivity": ["sensitivity", str(path), "--method", "morris", "--out", str(out)],
        "calibrate": ["calibrate", str(path), "--out", str(out)],
        "run": run_argv(tmp_path, "--scenario", str(path)),
    }[command]
    refused(argv, capsys, out, "nested deeper")


def test_moderately_nested_toml_is_one_line_too(tmp_path, capsys):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 60 + "]" * 60 + "\n")
    refused(sweep(path, tmp_path / "out"), capsys, tmp_path / "out", "nested deeper than 32")


SCENARIO = 'years = 1\n[a]\npreset = "mature"\npolicy = "baseline"\n'


def test_scenario_with_a_byte_order_mark_runs(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SCENARIO.encode())
    status, err = run_cli(run_argv(tmp_path, "--scenario", str(path)), capsys)
    assert status == 0, err


@pytest.mark.parametrize(
    ("b", "needle"),
    [
        ('[b]\npreset = "nope"\n', "[b]: unknown preset 'nope'"),
        ('[b]\npolicy = "nope"\n', "[b]: unknown policy package 'nope'"),
    ],
)
def test_every_part_of_a_scenario_is_checked(tmp_path, capsys, b, needle):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO + b)
    refused(run_argv(tmp_path, "--scenario", str(path)), capsys, tmp_path / "out", needle)


def test_every_mistake_in_a_file_is_listed_one_line_each(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(
        'presets = ["mature"]\nroot_seed = -1\nyears = "2"\nreplications = 0\nkeep_evry = 1\n'
    )
    status, err = run_cli(sweep(spec, tmp_path / "out"), capsys)
    lines = err.splitlines()
    assert status == 2 and len(lines) == 4, err
    assert all(line.startswith("smartcity sweep: error: ") for line in lines), err
    for needle in ("root_seed = -1", "years = '2'", "replications = 0", "key 'keep_evry'"):
        assert sum(needle in line for line in lines) == 1, err


def test_at_most_ten_mistakes_are_listed(tmp_path, capsys):
    keys = [key for key in PARAM_SPECS if key.startswith("citizens.")][:12]
    preset = tmp_path / "p.toml"
    preset.write_text("[citizens]\n" + "".join(f"{k.split('.')[1]} = true\n" for k in keys))
    status, err = run_cli(run_argv(tmp_path, "--preset", str(preset)), capsys)
    lines = err.splitlines()
    assert status == 2 and len(lines) == 11, err
    assert "and 2 more mistake(s)" in lines[-1], err


@pytest.mark.parametrize(
    ("setting", "needle", "absent"),
    [
        ("citizens.count=5e3", "whole number: 50 to 5000000 citizens", "5e+06"),
        ("citizens.trust_mean=2", "allowed: 0 to 1", "0 to 1 0-1"),
    ],
)
def test_ranges_are_printed_as_declared(tmp_path, capsys, setting, needle, absent):
    err = refused(run_argv(tmp_path, "--set", setting), capsys, tmp_path / "out", needle)
    assert absent not in err


def test_unknown_metric_gets_the_nearest_names_not_all(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace('name = "tiny"', 'metrics = ["governance_indx"]'))
    err = refused(sweep(spec, tmp_path / "out"), capsys, tmp_path / "out", "governance_index")
    assert len(err) < 400, err


# --- hardening 2: small and large cities -------------------------------------------------


def test_one_district_city_from_the_generator_runs(tmp_path, capsys):
    one = [f"--set=city.n_{kind}=0" for kind in ("old", "new_town", "industrial", "suburb")]
    status, err = run_cli(run_argv(tmp_path, *one), capsys)
    assert status == 0, err
    assert len(pd.read_parquet(tmp_path / "out" / "metrics.parquet")) == 13


def test_one_node_graphml_city_runs(tmp_path, capsys):
    graph = nx.Graph()
    graph.add_node(
        "only", kind="core", x=0.0, y=0.0, area_km2=8.0, housing_capacity=900.0,
        transport=0.8, ict=0.7, computing=0.5, iot=0.3, service_capacity=600.0,
        environment=0.6,
    )  # fmt: skip
    nx.write_graphml(graph, tmp_path / "one.graphml")
    preset = tmp_path / "g.toml"
    preset.write_text(f'extends = "mature"\n[city]\ngraph_file = "{tmp_path / "one.graphml"}"\n')
    status, err = run_cli(run_argv(tmp_path, "--preset", str(preset)), capsys)
    assert status == 0, err


def test_csv_graph_with_a_bad_quote_is_one_line(tmp_path, capsys):
    preset = graph_preset(tmp_path)
    (tmp_path / "edges.csv").write_text('source,target,travel_time,capacity\n"a,b,12,500\n')
    refused(run_argv(tmp_path, "--preset", str(preset)), capsys, tmp_path / "out", "edges.csv")


def test_route_trees_agree_with_the_link_incidence():
    """The two route representations give the same sums, loads and minima (to rounding) on
    a generated city, so the choice by size changes no result beyond the last bits."""
    from smartcity.simulation.model.resolve import resolve_parameters
    from smartcity.simulation.world.districts import Districts, LinkIncidence, PathTrees
    from smartcity.simulation.world.graph import build_city_graph

    params = resolve_parameters("mature", {"city.n_old": 30, "city.n_suburb": 20})
    d = Districts(build_city_graph(params.city, 5000, params.firms.research_capacity))
    assert isinstance(d.routes, LinkIncidence)
    trees = PathTrees(d.n, d.edges, d.edge_free_time)
    rng = np.random.default_rng(0)
    values = rng.uniform(0.1, 1.0, len(d.edges))
    trips = rng.uniform(0, 10, (d.n, d.n))
    np.testing.assert_allclose(trees.sum(values), d.routes.sum(values), rtol=1e-12)
    np.testing.assert_allclose(trees.load(trips), d.routes.load(trips), rtol=1e-12)
    np.testing.assert_array_equal(trees.smallest(values), d.routes.smallest(values))


def test_a_billion_sensitivity_samples_are_refused_before_sampling(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(
        'presets = ["mature"]\nroot_seed = 1\nyears = 1\n'
        '[sensitivity]\nsamples = 1000000000\nmetrics = ["population"]\n'
        '[sensitivity.bounds]\n"citizens.trust_mean" = [0.3, 0.6]\n'
        '"citizens.digital_literacy_mean" = [0.3, 0.6]\n'
    )
    argv = ["sensitivity", str(spec), "--method", "sobol", "--out", str(tmp_path / "out")]
    quickly_refused(argv, capsys, tmp_path / "out", "sensitivity samples", "--limit runs=N")

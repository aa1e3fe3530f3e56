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

import pandas as pd
import psutil
import pytest

from smartcity.cli import main
from smartcity.experiments import store
from smartcity.experiments.store import StoreError, load_results
from smartcity.simulation.model import CityModel
from smartcity.simulation.world.errors import InputError

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


def test_start_year_beyond_the_horizon_is_refused(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text("[initiatives.online_government]\nstart_year = 5\n")
    argv = run_argv(tmp_path, "--policy", str(path), years="2")
    refused(argv, capsys, tmp_path / "out", "online_government", "starts in year 5")


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


def test_spec_with_a_package_starting_after_its_years_fails_before_writing(tmp_path, capsys):
    package = tmp_path / "late.toml"
    package.write_text("[initiatives.online_government]\nstart_year = 3\n")
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC.replace('name = "tiny"', f'policies = ["{package}"]'))
    refused(sweep(spec, tmp_path / "out"), capsys, tmp_path / "out", "starts in year 3")


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

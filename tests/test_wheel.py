"""The distribution works on its own: the wheel built from this repository, installed into a
fresh virtual environment outside it, runs the command line and the Python entry point, ships
every data file read at run time and installs no name but ``smartcity``.

Slow (about a minute with a warm pip cache): it builds the wheel and lets pip install the
wheel's dependencies into the new environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

# What a working copy holds besides the sources: environments, caches, build and run outputs.
LOCAL_STATE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "results", "artifacts", "*.egg-info", "__pycache__",
    ".*_cache", ".hypothesis",
)  # fmt: skip


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH and a working directory outside the repository: only what the
    # environment installed can be imported.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this repository, built as `pip wheel --no-deps . -w DIR` builds it, from
    a copy of the source tree (a build/ folder left by an earlier build could hold files
    that no longer exist, and would be packaged)."""
    source = tmp_path_factory.mktemp("source") / "smartcity-abm"
    shutil.copytree(ROOT, source, ignore=LOCAL_STATE)
    out = tmp_path_factory.mktemp("wheel")
    _ok(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", ".", "-w", str(out)],
             cwd=source))  # fmt: skip
    (built,) = out.glob("smartcity_abm-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment (no system site-packages) with the wheel pip-installed; its
    bin folder."""
    env_dir = tmp_path_factory.mktemp("env") / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    bin_dir = env_dir / "bin"
    _ok(_run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=env_dir))
    return bin_dir


def test_wheel_ships_the_data_files_and_no_other_package(wheel: Path):
    """Every preset, initiative and package TOML and py.typed are in the wheel, under
    ``smartcity/``; tests/, benchmarks/ and docs/ are not, and nothing else is top level."""
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [
        *(ROOT / "simulation" / "world" / "presets").glob("*.toml"),
        *(ROOT / "policies" / "initiatives").glob("*.toml"),
        *(ROOT / "policies" / "packages").glob("*.toml"),
        ROOT / "py.typed",
    ]
    assert len(data) > 10
    missing = [
        p.relative_to(ROOT).as_posix()
        for p in data
        if f"smartcity/{p.relative_to(ROOT).as_posix()}" not in names
    ]
    assert not missing, f"data files missing from the wheel: {missing}"
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"smartcity"}, top
    second = {name.split("/")[1] for name in names if name.startswith("smartcity/")}
    assert not second & {"tests", "benchmarks", "docs"}, second
    assert "smartcity/cli.py" in names and "smartcity/__main__.py" in names


def test_installed_wheel_runs_outside_the_repository(installed: Path, tmp_path: Path):
    """In the new environment, with the working directory outside the repository, the
    command line and ``CityModel`` run from the installed files only."""
    python = str(installed / "python")
    where = _ok(_run([python, "-c", "import smartcity; print(smartcity.__file__)"], tmp_path))
    location = Path(where.strip()).resolve()
    assert installed.parent in location.parents, f"smartcity imported from {location}"
    assert ROOT not in location.parents

    out = tmp_path / "mature"
    _ok(_run([str(installed / "smartcity"), "run", "--preset", "mature", "--years", "1",
              "--quiet", "--out", str(out)], tmp_path))  # fmt: skip
    assert (out / "metrics.parquet").stat().st_size > 0
    assert (out / "manifest.json").is_file()

    script = (
        "import smartcity\n"
        "model = smartcity.CityModel('emerging', seed=1)\n"
        "model.run(years=1)\n"
        "print(len(model.metrics_frame()))\n"
    )
    assert _ok(_run([python, "-c", script], tmp_path)).strip() == "13"  # month 0 and 12 months


def test_installed_wheel_has_a_command_line(installed: Path, tmp_path: Path):
    """``smartcity --help`` and ``python -m smartcity --help`` list the commands; a policy
    package that ships as data is found by name."""
    for args in ([str(installed / "smartcity"), "--help"],
                 [str(installed / "python"), "-m", "smartcity", "--help"]):  # fmt: skip
        text = _ok(_run(args, tmp_path))
        for command in ("run", "compare", "sweep", "policies", "params"):
            assert command in text, f"{args}: no {command!r} in the help"
    listing = _ok(_run([str(installed / "smartcity"), "policies"], tmp_path))
    assert "baseline" in listing


def test_installed_wheel_has_no_generic_import_names(installed: Path, tmp_path: Path):
    """Only ``smartcity`` is importable: ``agents``, ``simulation``, ``policies``,
    ``experiments``, ``visualization`` and ``benchmarks`` are not installed."""
    for name in ("agents", "simulation", "policies", "experiments", "visualization", "benchmarks"):
        done = _run([str(installed / "python"), "-c", f"import {name}"], tmp_path)
        assert done.returncode != 0, f"`import {name}` works in the installed environment"
        assert "ModuleNotFoundError" in done.stderr, done.stderr[-500:]

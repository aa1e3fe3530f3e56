"""The documentation works: tutorials run and write their outputs, the tutorial package runs,
and docs/ODD.md lists every metric with a formula and names only functions that exist."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from smartcity.simulation.metrics import METRICS
from smartcity.simulation.model import CityModel
from smartcity.simulation.parameters import iter_specs

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "docs" / "tutorials"
ODD = ROOT / "docs" / "ODD.md"

# Each script, small arguments, and the files it must write into --out.
SCRIPTS = {
    "01_mature_vs_emerging.py": (
        ["--years", "1", "--citizens", "600"],
        ["indices.png", "mature_metrics.csv", "emerging_metrics.csv"],
    ),
    "02_change_one_parameter.py": (
        ["--years", "1", "--citizens", "600"],
        ["comparison.csv", "comparison.png"],
    ),
    "04_new_initiative_in_python.py": (
        ["--years", "1.5", "--citizens", "600"],
        ["green_corridors.toml", "green_package.toml", "green_corridors.csv"],
    ),
    "05_sweep_and_morris.py": (
        ["--quick"],
        [
            "sweep.toml",
            "sweep_summary.csv",
            "sweep.png",
            "morris.toml",
            "morris/indices_morris.csv",
            "morris/indices_morris.png",
        ],
    ),
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_tutorial_script_writes_its_outputs(script, tmp_path):
    """Each tutorial script runs as a student would run it and writes its files."""
    args, outputs = SCRIPTS[script]
    done = subprocess.run(
        [sys.executable, str(TUTORIALS / script), "--out", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in outputs:
        path = tmp_path / name
        assert path.is_file() and path.stat().st_size > 0, f"{script} did not write {name}"


def test_tutorial_scripts_explain_themselves():
    """Every tutorial script opens with a docstring that says what it does and how to run it."""
    for script in sorted(TUTORIALS.glob("0*.py")):
        text = script.read_text()
        assert text.startswith('"""Tutorial'), script.name
        assert "Run:" in text.split('"""')[1], script.name
    assert set(SCRIPTS) == {p.name for p in TUTORIALS.glob("0*.py")}


def test_tutorial_package_runs():
    """The package of tutorial 03 loads and runs through CityModel, with its initiatives."""
    package = TUTORIALS / "03_my_package.toml"
    model = CityModel("mature", seed=3, policy=str(package), citizens__count=400)
    names = [i.name for i in model.policy_runtime.initiatives]
    assert names == ["telehealth_elderly_care", "digital_inclusion", "privacy_protection"]
    assert model.package.unified_platform
    assert model.params.government.capability_budget_share == 0.08
    assert model.params.government.service_build_rate == 0.15
    model.run(years=0.5)
    frame = model.metrics_frame()
    assert len(frame) == 7
    assert frame["stage_telehealth_elderly_care"].iloc[-1] >= 1


def test_tutorial_package_text_shows_the_package():
    """Every TOML line of 03_my_package.toml appears in the tutorial text (the text builds it)."""
    text = (TUTORIALS / "03_write_a_policy_package.md").read_text()
    for line in (TUTORIALS / "03_my_package.toml").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert line in text, f"03_my_package.toml line not shown in the tutorial: {line!r}"


def metrics_table() -> str:
    """The metrics table of docs/ODD.md section 8, generated from METRICS."""

    def bound(x: float) -> str:
        return ("inf" if x > 0 else "-inf") if abs(x) == float("inf") else f"{x:g}"

    lines = ["| metric | unit | range | formula / definition |", "|---|---|---|---|"]
    for name, spec in METRICS.items():
        formula = spec.description.replace("|", "/")
        lines.append(
            f"| `{name}` | {spec.unit} | {bound(spec.lower)} to {bound(spec.upper)} | {formula} |"
        )
    return "\n".join(lines) + "\n"


def _odd_metric_rows() -> dict[str, list[str]]:
    rows = {}
    for line in ODD.read_text().splitlines():
        match = re.match(r"\|\s*`([a-z0-9_]+)`\s*\|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_odd_lists_every_metric_with_unit_and_formula():
    """Every metric of simulation.metrics.METRICS has a row in docs/ODD.md with its unit and
    its formula (the reporter's docstring)."""
    assert metrics_table() in ODD.read_text(), (
        "the metrics table of docs/ODD.md is stale: replace it with the output of "
        "`.venv/bin/python tests/test_tutorials.py`"
    )
    rows = _odd_metric_rows()
    missing = [name for name in METRICS if name not in rows]
    assert not missing, f"metrics missing from docs/ODD.md: {missing}"
    for name, spec in METRICS.items():
        unit, _range, formula = rows[name][:3]
        assert unit == spec.unit, f"{name}: unit {unit!r} in ODD.md, {spec.unit!r} in code"
        assert formula == spec.description.replace("|", "/"), (
            f"{name}: formula in docs/ODD.md differs from the reporter's docstring"
        )
        assert len(formula) > 10, f"{name}: no formula in docs/ODD.md"


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def test_odd_names_only_functions_that_exist():
    """Every `agents.…`, `simulation.…` or `policies.…` name in docs/ODD.md imports."""
    parameters = {key for key, _, _ in iter_specs()}
    names = set(re.findall(r"`((?:agents|simulation|policies)\.[A-Za-z_][\w.]*)`", ODD.read_text()))
    names -= parameters
    assert len(names) > 60  # the submodels are named
    broken = []
    for name in sorted(names):
        try:
            _resolve(name)
        except (ImportError, AttributeError):
            broken.append(name)
    assert not broken, f"docs/ODD.md names what does not exist: {broken}"


def test_odd_step_order_matches_the_model():
    """Section 3 lists the rules of CityModel.step in the order the code runs them."""
    import inspect

    source = inspect.getsource(CityModel.step)
    in_code = re.findall(r"\b(?:fm|cz|gov)\.(\w+)|\b(build_housing|update_pollution|"
                         r"count_safety_incidents)\b", source)  # fmt: skip
    code_order = [a or b for a, b in in_code]
    odd = ODD.read_text()
    section = odd[odd.index("## 3. Process overview") : odd.index("## 4. Design concepts")]
    odd_order = [
        n
        for n in re.findall(r"`(?:agents|simulation)\.[\w.]*?\.(\w+)`", section)
        if n in code_order
    ]
    # Rules named in the code appear in ODD section 3 in the same order (helpers aside).
    assert [n for n in code_order if n in odd_order] == [
        n for n in dict.fromkeys(odd_order) if n in code_order
    ]
    assert set(code_order) <= set(odd_order), set(code_order) - set(odd_order)


if __name__ == "__main__":
    print(metrics_table(), end="")

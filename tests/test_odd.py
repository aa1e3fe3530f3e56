"""docs/ODD.md matches the code: it lists every metric with its unit and formula (the table
is generated: `.venv/bin/python tests/test_odd.py` prints it), names only functions that exist
and lists the rules of a step in the order the model runs them."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from smartcity.simulation.model import CityModel
from smartcity.simulation.model.metrics import METRICS
from smartcity.simulation.world.parameters import iter_specs

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"


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
    """Every metric of simulation.model.metrics.METRICS has a row in docs/ODD.md with its unit and
    its formula (the reporter's docstring)."""
    assert metrics_table() in ODD.read_text(), (
        "the metrics table of docs/ODD.md is stale: replace it with the output of "
        "`.venv/bin/python tests/test_odd.py`"
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

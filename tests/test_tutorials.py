"""The tutorials work: each notebook runs from top to bottom in a fresh kernel and writes its
files, the executed notebooks in docs/tutorials/ are those of today's sources, every tutorial
explains itself and ends with exercises, each runs as a script from the repository root and
from its own folder and prints its tables, and the package of tutorial 3 runs.

The tutorials are kept as jupytext percent-format scripts (``docs/tutorials/NN_*.py``, the
files to edit); the executed notebooks beside them (``NN_*.ipynb``, with outputs, the files a
student opens) are regenerated with ``.venv/bin/python tests/test_tutorials.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from smartcity.simulation.model import CityModel

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "docs" / "tutorials"
ARTIFACTS = ROOT / "tests" / "artifacts" / "notebooks"

# Each tutorial and the files it must write (relative to the folder it runs in).
NOTEBOOKS = {
    "00_first_model": ["results/tutorial00/first_model.csv"],
    "01_mature_vs_emerging": [
        "results/tutorial01/indices.png",
        "results/tutorial01/mature_metrics.csv",
        "results/tutorial01/emerging_metrics.csv",
    ],
    "02_change_one_parameter": [
        "results/tutorial02/comparison.csv",
        "results/tutorial02/comparison.png",
    ],
    "03_write_a_policy_package": [
        "results/tutorial03/my_package/metrics.parquet",
        "results/tutorial03/baseline/metrics.parquet",
    ],
    "04_new_initiative_in_python": [
        "results/tutorial04/green_corridors.toml",
        "results/tutorial04/green_package.toml",
        "results/tutorial04/green_corridors.csv",
    ],
    "05_sweep_and_morris": [
        "results/tutorial05/sweep.toml",
        "results/tutorial05/sweep_summary.csv",
        "results/tutorial05/sweep.png",
        "results/tutorial05/morris.toml",
        "results/tutorial05/morris/indices_morris.csv",
        "results/tutorial05/morris/indices_morris.png",
    ],
    "06_bring_your_own_city": [
        "results/tutorial06/grid_city.geojson",
        "results/tutorial06/comparison.csv",
    ],
}

# A line of each result table a tutorial prints (its header), run as a script or notebook.
TABLE_HEADERS = {
    "00_first_model": r"elderly_e_gov\s+digital_divide",
    "01_mature_vs_emerging": r"year\s+demand_advancement_index\s+industrial_transition_index",
    "02_change_one_parameter": r"default \(\S+\)\s+changed \(\S+\)\s+difference",
    "03_write_a_policy_package": r"^\s+mine\s+baseline$",
    "04_new_initiative_in_python": r"baseline\s+green corridors\s+difference",
    "05_sweep_and_morris": r"metric\s+unit\s+parameter\s+mu\s+mu_star",
    "06_bring_your_own_city": r"grid city \(GeoJSON\)\s+generated mature city",
}


def read_source(name: str) -> nbformat.NotebookNode:
    """The notebook of a tutorial, read from its percent-format source."""
    return jupytext.read(TUTORIALS / f"{name}.py")


def execute_tutorial(name: str, workdir: Path) -> nbformat.NotebookNode:
    """Run a tutorial as a student runs it: every cell in order, in a fresh kernel of this
    Python, in a copy of docs/tutorials (so that its own files are found and what it writes
    stays out of the repository). Raises ``nbclient.exceptions.CellExecutionError`` on the
    first cell that fails."""
    for path in TUTORIALS.iterdir():
        if path.suffix in (".py", ".toml"):
            shutil.copy(path, workdir / path.name)
    notebook = read_source(name)
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number:02d}"  # stable ids: a regenerated notebook differs in outputs only
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    return notebook


def _errors(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
        or (output.output_type == "stream" and output.name == "stderr" and "Error" in output.text)
    ]


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_tutorial_notebook_runs_and_writes_its_files(name, tmp_path):
    """Each tutorial runs from top to bottom in a fresh kernel, every code cell gives its
    output, and it writes its files. The executed notebook is kept in tests/artifacts/."""
    notebook = execute_tutorial(name, tmp_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, ARTIFACTS / f"{name}.ipynb")
    assert not _errors(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    shown = [cell for cell in code if cell.outputs]
    assert len(shown) >= len(code) / 2, f"{name}: most cells show nothing"
    printed = "".join(
        output.get("text", "")
        for cell in code
        for output in cell.outputs
        if output.output_type == "stream"
    )
    assert re.search(TABLE_HEADERS[name], printed, flags=re.MULTILINE), f"{name}: no table"
    for relative in NOTEBOOKS[name]:
        path = tmp_path / relative
        assert path.is_file() and path.stat().st_size > 0, f"{name} did not write {relative}"


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_executed_notebook_is_that_of_its_source(name):
    """docs/tutorials/NAME.ipynb has exactly the cells of NAME.py, every code cell executed
    with no error: the notebook a student opens shows what the source does."""
    committed = nbformat.read(TUTORIALS / f"{name}.ipynb", as_version=4)
    source = read_source(name)
    assert [(c.cell_type, c.source) for c in committed.cells] == [
        (c.cell_type, c.source) for c in source.cells
    ], f"docs/tutorials/{name}.ipynb is stale: run `.venv/bin/python tests/test_tutorials.py`"
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), f"{name}.ipynb: a cell was not executed"
    assert not _errors(committed), f"{name}.ipynb shows an error"


@pytest.mark.slow
@pytest.mark.parametrize("where", ["repository root", "own folder"])
@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_tutorial_runs_as_a_script_and_prints_its_tables(name, where, tmp_path):
    """``python docs/tutorials/NAME.py`` from the repository root and ``python NAME.py`` from
    docs/tutorials both run to the end, print the tutorial's result table and write its
    files into the folder they run in (a copy of the tutorials' folder in a temporary
    repository, so nothing is written into this one)."""
    folder = tmp_path / "docs" / "tutorials"
    folder.mkdir(parents=True)
    for path in TUTORIALS.iterdir():
        if path.suffix in (".py", ".toml"):
            shutil.copy(path, folder / path.name)
    if where == "repository root":
        cwd, script = tmp_path, f"docs/tutorials/{name}.py"
    else:
        cwd, script = folder, f"{name}.py"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{name} from the {where}:\n{done.stderr[-3000:]}"
    assert re.search(TABLE_HEADERS[name], done.stdout, flags=re.MULTILINE), (
        f"{name} run as a script from the {where} prints no result table:\n{done.stdout[-2000:]}"
    )
    for relative in NOTEBOOKS[name]:
        path = cwd / relative
        assert path.is_file() and path.stat().st_size > 0, f"{name} did not write {relative}"


def test_tutorials_explain_themselves_and_end_with_exercises():
    """Every tutorial opens with its title and how to use it, and ends with 3 to 5 numbered
    exercises."""
    assert set(NOTEBOOKS) == {p.stem for p in TUTORIALS.glob("0*.py")}
    for name in NOTEBOOKS:
        cells = read_source(name).cells
        first, last = cells[0], cells[-1]
        assert first.cell_type == "markdown", name
        assert first.source.startswith(f"# Tutorial {int(name[:2])}: "), name
        assert "How to use it" in first.source, name
        assert last.cell_type == "markdown", name
        exercises = last.source.split("## Exercises", 1)
        assert len(exercises) == 2, f"{name} does not end with an Exercises section"
        items = re.findall(r"^\d+\. ", exercises[1], flags=re.MULTILINE)
        assert 3 <= len(items) <= 5, f"{name}: {len(items)} exercises"


def test_first_model_is_one_rule_one_metric_one_run_in_under_60_lines():
    """Tutorial 0 stays a first model: under 60 lines of code (comments and blank lines
    aside), one rule function, one metric function."""
    cells = [c for c in read_source("00_first_model").cells if c.cell_type == "code"]
    code = [
        line
        for cell in cells
        for line in cell.source.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(code) < 60, f"tutorial 0 has {len(code)} lines of code"
    functions = [line for line in code if line.startswith("def ")]
    assert [f.split("(")[0] for f in functions] == [
        "def teach_elderly_e_government",
        "def elderly_e_government_share",
    ]


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
    text = (TUTORIALS / "03_write_a_policy_package.py").read_text()
    for line in (TUTORIALS / "03_my_package.toml").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert f"# {line}" in text, (
                f"03_my_package.toml line not shown in the tutorial: {line!r}"
            )


def write_executed_notebooks(names: list[str]) -> None:
    """Execute tutorials and write them, with their outputs, to docs/tutorials/NAME.ipynb."""
    for name in names:
        with tempfile.TemporaryDirectory() as workdir:
            notebook = execute_tutorial(name, Path(workdir))
        nbformat.write(notebook, TUTORIALS / f"{name}.ipynb")
        print(f"wrote docs/tutorials/{name}.ipynb")


if __name__ == "__main__":
    write_executed_notebooks(sys.argv[1:] or sorted(NOTEBOOKS))

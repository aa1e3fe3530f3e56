"""Outputs a paper can use: a user's package is labelled by its title everywhere, never by
its file path, and `smartcity plot` draws a stored sweep without user code."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from smartcity.cli import main as cli

PACKAGE = """
title = "Harbour Renewal Programme"
description = "A user's own package, run from a file."
unified_platform = true

[initiatives.online_government]
financing = "ppp"
"""


@pytest.fixture
def figure_texts(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every text drawn in each saved figure (titles, legends, tick labels), by file name."""
    texts: dict[str, str] = {}
    save = Figure.savefig

    def recording(fig: Figure, path: object, *args: object, **kwargs: object) -> None:
        fig.canvas.draw()
        texts[Path(str(path)).name] = "\n".join(t.get_text() for t in fig.findobj(_is_text))
        save(fig, path, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording)
    return texts


def _is_text(artist: object) -> bool:
    from matplotlib.text import Text

    return isinstance(artist, Text)


def test_compare_labels_a_user_package_by_its_title_everywhere(
    tmp_path: Path, figure_texts: dict[str, str]
) -> None:
    folder = tmp_path / "my packages"
    folder.mkdir()
    package = folder / "harbour.toml"
    package.write_text(PACKAGE, encoding="utf-8")
    out = tmp_path / "cmp"
    argv = ["compare", "--out", str(out), "--presets", "mature", "--replications", "2",
            "--years", "2", "--policies", "baseline", str(package), "--workers", "1",
            "--set", "citizens.count=100"]  # fmt: skip
    assert cli(argv) == 0

    tables = sorted(out.glob("*.csv")) + sorted(out.glob("*.md"))
    assert {p.name for p in tables} >= {"summary.csv", "horizon.csv", "differences.csv",
                                         "paths.md"}  # fmt: skip
    for path in tables:
        text = path.read_text(encoding="utf-8")
        assert "Harbour Renewal Programme" in text, path.name
        assert str(folder) not in text and "harbour.toml" not in text, path.name
    for name in ("summary.csv", "differences.csv"):
        assert "harbour" in (out / name).read_text()  # the name column: the file's stem
    paths_md = (out / "paths.md").read_text()
    assert "2 replications, 100 citizens, 2 years" in paths_md
    assert "Student t" in paths_md and "million currency units" in paths_md
    figures = {"indices.png", "headline.png", "horizon.png", "differences.png"}
    assert figures <= set(figure_texts)
    for name in figures:
        assert "Harbour Renewal Programme" in figure_texts[name], name
        assert "harbour.toml" not in figure_texts[name], name
        assert "2 replications, 100 citizens, 2 years" in figure_texts[name], name


SWEEP = """
presets = ["mature"]
policies = ["baseline", "mature-reactivate"]
replications = 2
root_seed = 5
years = 2
keep_every = 12

[overrides]
"citizens.count" = 100

[grid]
"citizens.digital_literacy_mean" = [0.3, 0.5, 0.7]
"""


def test_plot_draws_a_sweep_store(tmp_path: Path, figure_texts: dict[str, str]) -> None:
    spec = tmp_path / "sweep.toml"
    spec.write_text(SWEEP, encoding="utf-8")
    store = tmp_path / "sweep"
    assert cli(["sweep", str(spec), "--out", str(store), "--workers", "1"]) == 0

    argv = ["plot", str(store), "--x", "citizens.digital_literacy_mean", "--y",
            "digital_adoption"]  # fmt: skip
    assert cli(argv) == 0
    figure = store / "figures" / "digital_adoption_vs_citizens.digital_literacy_mean.png"
    assert figure.stat().st_size > 10_000
    text = figure_texts[figure.name]
    assert "Mature 1" in text and "Baseline" in text  # packages by their titles
    assert "2 replications, 100 citizens, 2 years" in text
    assert cli(["plot", str(store), "--x", "year", "--y", "gdp_per_capita"]) == 0
    assert (store / "figures" / "gdp_per_capita_vs_year.png").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["--x", "citizens.count", "--y", "digital_adoption"], "not 'year' nor a parameter"),
     (["--x", "year", "--y", "gdp_capita"], "not a metric of this store"),
     (["--x", "citizens.digital_literacy_mean", "--y", "gdp_per_capita", "--year", "7"],
      "no stored row")],
)  # fmt: skip
def test_plot_bad_options_are_one_line_exit_2(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "sweep.toml"
    spec.write_text(SWEEP.replace("[0.3, 0.5, 0.7]", "[0.3, 0.7]").replace(
        "replications = 2", "replications = 1"), encoding="utf-8")  # fmt: skip
    store = tmp_path / "sweep"
    assert cli(["sweep", str(spec), "--out", str(store), "--workers", "1"]) == 0
    capsys.readouterr()
    assert cli(["plot", str(store), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err, err


def test_morris_outputs_carry_units_method_levels_and_library_version(tmp_path: Path) -> None:
    import json

    from test_experiments import SENSITIVITY_SPEC

    spec = tmp_path / "sa.toml"
    spec.write_text(SENSITIVITY_SPEC, encoding="utf-8")
    out = tmp_path / "sa"
    argv = ["sensitivity", str(spec), "--method", "morris", "--out", str(out), "--workers", "1"]
    assert cli(argv) == 0
    import pandas as pd

    table = pd.read_csv(out / "indices_morris.csv")
    assert (table["unit"] == "k/person-year").all()  # gdp_per_capita's unit
    record = json.loads((out / "indices_morris.json").read_text())
    assert record["levels"] == 4 and "Morris" in record["method"]
    assert record["salib_version"] and record["units"] == {"gdp_per_capita": "k/person-year"}
    assert set(record["columns"]) == set(table.columns)  # every column is defined

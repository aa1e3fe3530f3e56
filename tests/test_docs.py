"""The generated parameter reference stays in step with the code."""

from pathlib import Path

from simulation.parameters import parameters_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_parameter_reference_is_current():
    """docs/parameters.md is what `smartcity params --markdown` prints today."""
    written = (ROOT / "docs" / "parameters.md").read_text()
    assert written == parameters_markdown(), (
        "docs/parameters.md is stale: run `smartcity params --markdown > docs/parameters.md`"
    )

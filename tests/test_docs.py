"""The generated parameter reference stays in step with the code."""

from pathlib import Path

from smartcity.simulation.parameters import parameters_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_parameter_reference_is_current():
    """docs/parameters.md is what `smartcity params --markdown` prints today."""
    written = (ROOT / "docs" / "parameters.md").read_text()
    assert written == parameters_markdown(), (
        "docs/parameters.md is stale: run `smartcity params --markdown > docs/parameters.md`"
    )


def test_policy_catalogue_is_current():
    """docs/policies.md is what `smartcity policies --markdown` prints today."""
    from smartcity.policies.catalog import policies_markdown

    written = (ROOT / "docs" / "policies.md").read_text()
    assert written == policies_markdown(), (
        "docs/policies.md is stale: run `smartcity policies --markdown > docs/policies.md`"
    )

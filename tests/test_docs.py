"""Generated references stay in step with the code; the project names no outside path."""

import subprocess
from pathlib import Path

from smartcity.simulation.world.parameters import parameters_markdown

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


def test_the_project_names_no_path_outside_itself():
    """The project stands alone: no file names the design notes or the source documents'
    files; the sources are cited by title (docs/sources.md)."""
    forbidden = ("DESIGN" + ".md", "shared" + "/", "seeds" + "/", "000_" + "6621", "003_" + "aa48")
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    named = [
        f"{name}: {word}"
        for name in tracked
        if name.endswith((".py", ".md", ".toml", ".json", ".ipynb", ".cfg", ".txt"))
        for word in forbidden
        if word in (ROOT / name).read_text(encoding="utf-8", errors="replace")
    ]
    assert not named, named

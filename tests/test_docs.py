"""Generated references stay in step with the code; the project names no outside path."""

import pkgutil
import re
import subprocess
import tomllib
from pathlib import Path

import smartcity
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


def test_api_reference_lists_every_module():
    """Each module of the package has its `::: smartcity.…` block on a page of docs/api/
    (the API site, `make docs`), and each block names a module that exists."""
    installed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    modules = {
        info.name
        for info in pkgutil.walk_packages(smartcity.__path__, "smartcity.")
        if info.name.rpartition(".")[0] in installed["packages"]
        and not info.name.endswith("__main__")
        and (not info.ispkg or info.name.endswith(".presets"))
    }
    listed = set()
    for page in (ROOT / "docs" / "api").glob("*.md"):
        listed |= set(re.findall(r"^::: (smartcity[\w.]*)$", page.read_text(), re.MULTILINE))
    assert not modules - listed, f"modules missing from docs/api/*.md: {sorted(modules - listed)}"
    assert not listed - modules, f"docs/api/*.md names no module: {sorted(listed - modules)}"

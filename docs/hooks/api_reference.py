"""mkdocs hooks of the API reference: mkdocstrings finds the package ``smartcity`` under
its import name, and the Sphinx roles some docstrings use read as plain code.

The repository root is the package (``package-dir = {"smartcity" = "."}``), whatever the
folder a clone is called, so griffe, which reads the sources without importing them, cannot
find it by name. Before the build this hook lays out results/api-source/smartcity/ with
links to the package's own files and folders (those pyproject.toml installs; not tests/,
benchmarks/, docs/ or .venv/); mkdocs.yml points mkdocstrings at results/api-source.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "results" / "api-source" / "smartcity"
PACKAGE = ("__init__.py", "__main__.py", "cli.py", "agents", "experiments", "policies",
           "simulation", "visualization")  # fmt: skip
SPHINX_ROLE = re.compile(r":(?:meth|func|class|attr|mod):(?=<code)")


def on_startup(command: str, dirty: bool) -> None:
    """Link each part of the package into results/api-source/smartcity/."""
    SOURCE.mkdir(parents=True, exist_ok=True)
    for name in PACKAGE:
        link = SOURCE / name
        if not link.is_symlink():
            os.symlink(os.path.relpath(ROOT / name, SOURCE), link)


def on_page_content(html: str, **kwargs: object) -> str:
    """Drop the ``:meth:``-style role before inline code: mkdocstrings renders the name as
    code already, and the role would show as text."""
    return SPHINX_ROLE.sub("", html)

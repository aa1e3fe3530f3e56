"""User plug-in modules: Python modules that register metrics and analyzers.

A plug-in module decorates its reporters with ``@metric`` (simulation.model.metrics) and its
analyzer classes with ``@analyzer`` (simulation.model.analyzers); importing it registers
them, so every model built afterwards records its metrics and ``--analyzer NAME`` finds its
analyzers. A plug-in runs code, so it loads only when code is allowed (``--plugin MODULE
--allow-code``), as a policy package's Python initiative does.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.schema import one_line


def load_plugins(modules: Sequence[str], *, allow_code: bool) -> None:
    """Import each plug-in module (InputError naming one that is refused or fails).

    The modules are looked up on the interpreter's path without the working directory, so
    a file that happens to sit where the command runs is never imported.
    """
    if modules and not allow_code:
        raise InputError(
            f"plug-in {modules[0]!r} runs Python code; load it only if you trust it, with "
            "--allow-code (allow_code=True)"
        )
    cwd = os.getcwd()
    saved = list(sys.path)
    sys.path[:] = [p for p in saved if p not in ("", ".") and os.path.abspath(p) != cwd]
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception as exc:  # a plug-in's own error is reported, not raised raw
                raise InputError(
                    f"plug-in {name!r} cannot be imported ({one_line(exc)}); name a module "
                    "on PYTHONPATH, e.g. --plugin mypackage.metrics"
                ) from None
    finally:
        sys.path[:] = saved

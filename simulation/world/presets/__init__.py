"""City presets: TOML files of parameter values (white paper 5.1, two typical models).

``mature`` and ``emerging`` ship here; a user preset is any TOML file with the same
sections (``[city]``, ``[citizens]``, ``[firms]``, ``[government]``), and may start from a
shipped preset or another file with ``extends = "mature"``; a cycle of ``extends`` is refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from smartcity.simulation.world.errors import ParameterError
from smartcity.simulation.world.parameters import find_toml, preset_values, shipped_names
from smartcity.simulation.world.schema import read_toml

PRESET_DIR = Path(__file__).parent


def preset_names() -> list[str]:
    """Names of the shipped presets."""
    return shipped_names(PRESET_DIR)


def preset_path(preset: str | Path) -> Path:
    """Path of a shipped preset name or of a user TOML file."""
    return find_toml(preset, PRESET_DIR, "preset", ParameterError)


def load_preset(preset: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Flat ``{"section.name": value}`` values of a preset, following ``extends``.

    Raises:
        ParameterError: a missing, unreadable or invalid file, or an ``extends`` cycle.
    """
    path = preset_path(preset)
    data = read_toml(path, "preset", ParameterError)
    here = Path(os.path.realpath(path))
    if here in _seen:
        chain = " -> ".join(p.name for p in (*_seen, here))
        raise ParameterError(f"{path}: 'extends' forms a cycle ({chain})")
    base, values = preset_values(data, str(path))
    if base is None:
        return values
    if base not in preset_names():
        base = str(path.parent / base)
    return {**load_preset(base, (*_seen, here)), **values}

"""City presets: TOML files of parameter values (white paper 5.1, two typical models).

``mature`` and ``emerging`` ship here; a user preset is any TOML file with the same
sections (``[city]``, ``[citizens]``, ``[firms]``, ``[government]``), and may start from a
shipped preset with ``extends = "mature"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smartcity.simulation.errors import ParameterError
from smartcity.simulation.parameters import find_toml, flatten_toml, load_toml, shipped_names

PRESET_DIR = Path(__file__).parent


def preset_names() -> list[str]:
    """Names of the shipped presets."""
    return shipped_names(PRESET_DIR)


def preset_path(preset: str | Path) -> Path:
    """Path of a shipped preset name or of a user TOML file."""
    return find_toml(preset, PRESET_DIR, "preset", ParameterError)


def load_preset(preset: str | Path) -> dict[str, Any]:
    """Flat ``{"section.name": value}`` values of a preset, following ``extends``."""
    path = preset_path(preset)
    data = load_toml(path)
    base = data.pop("extends", None)
    if base is not None and not isinstance(base, str):
        raise ParameterError(f"{path}: 'extends' must be a preset name or a .toml path")
    if base is not None and base not in preset_names():
        base = str(path.parent / base)
    values = load_preset(base) if base is not None else {}
    values.update(flatten_toml(data, str(path)))
    return values

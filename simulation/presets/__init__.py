"""City presets: TOML files of parameter values (white paper 5.1, two typical models).

``mature`` and ``emerging`` ship here; a user preset is any TOML file with the same
sections (``[city]``, ``[citizens]``, ``[firms]``, ``[government]``), and may start from a
shipped preset with ``extends = "mature"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulation.errors import ParameterError
from simulation.parameters import flatten_toml, load_toml

PRESET_DIR = Path(__file__).parent


def preset_names() -> list[str]:
    """Names of the shipped presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def preset_path(preset: str | Path) -> Path:
    """Path of a shipped preset name or of a user TOML file."""
    text = str(preset)
    if text in preset_names():
        return PRESET_DIR / f"{text}.toml"
    if text.endswith(".toml"):
        return Path(text)
    raise ParameterError(
        f"unknown preset '{text}'; use one of {', '.join(preset_names())} or a path to a .toml file"
    )


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

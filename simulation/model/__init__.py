"""What lies above the agents and policies: the model that steps them, and its outputs.

``city_model`` (CityModel, the step order), ``metrics`` (every reported quantity),
``invariants`` (what must hold after each step), ``urban_systems`` (housing, pollution and
safety, which read both populations), ``resolve`` (a preset, overrides and a package made
into one Parameters object).
"""

from smartcity.simulation.model.city_model import CityModel

__all__ = ["CityModel"]

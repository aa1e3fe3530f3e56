"""The Mesa model of the city: CityModel, city graph, presets, parameters and metrics."""

from simulation.errors import InputError, InvariantError, ParameterError
from simulation.model import CityModel

__all__ = ["CityModel", "InputError", "InvariantError", "ParameterError"]

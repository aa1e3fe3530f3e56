"""The Mesa model of the city: CityModel, city graph, presets, parameters and metrics.

``CityModel`` is imported lazily so that modules the model itself depends on (policies,
agents) can import ``simulation.errors`` or ``simulation.parameters`` without a cycle.
"""

from smartcity.simulation.errors import InputError, InvariantError, ParameterError

__all__ = ["CityModel", "InputError", "InvariantError", "ParameterError"]


def __getattr__(name: str) -> object:
    if name == "CityModel":
        from smartcity.simulation.model import CityModel

        return CityModel
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")

"""smartcity: an agent-based simulation of urban development under digitalization.

Citizens and firms (array populations) and a government (a ``mesa.Agent``) interact on a
networkx graph of city districts; policy packages inject digital initiatives. The public
entry point is :class:`CityModel`::

    from smartcity import CityModel

    model = CityModel("emerging", seed=1)
    model.run(years=10)
    model.metrics_frame()

The repository's top-level folders are the subpackages: ``smartcity.simulation`` (model,
city, parameters, metrics), ``smartcity.agents``, ``smartcity.policies``,
``smartcity.experiments`` and ``smartcity.visualization``.
"""

__version__ = "0.2.0"

from smartcity.simulation.model import CityModel
from smartcity.simulation.world.errors import InputError, InvariantError, ParameterError

__all__ = ["CityModel", "InputError", "InvariantError", "ParameterError", "__version__"]

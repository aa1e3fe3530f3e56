"""The Mesa model of the city: CityModel, city graph, presets, parameters and metrics.

Import the model from ``smartcity`` (``from smartcity import CityModel``) or from
``smartcity.simulation.model``; this package's ``__init__`` stays empty of imports so that
its low layers (errors, parameters, city) load without the model above them.
"""

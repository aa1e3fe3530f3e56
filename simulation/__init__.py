"""The Mesa model of the city, in two layers.

``smartcity.simulation.world`` lies below the agents (vocabulary, inputs, the district graph,
districts, transport); ``smartcity.simulation.model`` lies above the agents and policies
(CityModel, metrics, invariants). Import the model from ``smartcity`` (``from smartcity
import CityModel``) or from ``smartcity.simulation.model``; this ``__init__`` stays empty of
imports so that the world layer loads without the model above it.
"""

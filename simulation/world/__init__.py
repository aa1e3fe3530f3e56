"""What lies below the agents: the city they live in and the inputs that describe it.

``vocabulary`` (the shared names), ``errors``, ``schema`` (typed TOML input), ``parameters``
and ``presets`` (the typed, documented parameters and the shipped cities), ``graph`` (the
district graph: generated, or loaded from GraphML or CSV), ``districts`` (district stocks and
routes as arrays), ``transport`` (travel times, congestion and transit loads) and
``protocols`` (the read-only view of the model that agent rules take).
"""

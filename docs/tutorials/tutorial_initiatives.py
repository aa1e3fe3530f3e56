"""A new initiative mechanism written in Python (used by tutorial 04).

``GreenCorridors`` plants trees and green roofs in the most polluted districts: their
environmental quality rises (which lowers their pollution target, docs/ODD.md 7.5), and
the health of the elderly living there improves a little. Neither is possible with the
TOML ``[effects]`` and ``[district_growth]`` tables alone: those grow a stock in every
district of one kind, while this targets districts by their current pollution and changes
citizens' state directly.
"""

from __future__ import annotations

import numpy as np

from smartcity.policies.initiatives import Initiative
from smartcity.simulation.world.vocabulary import per_step


class GreenCorridors(Initiative):
    """Greening of the most polluted quarter of the districts.

    At full strength, per year: the environmental quality of each targeted district closes
    ``ENVIRONMENT_RATE`` of its gap to 1, and the health of its elderly residents closes
    ``HEALTH_RATE`` of its gap to 1.
    """

    ENVIRONMENT_RATE = 0.3  # 1/year at full strength
    HEALTH_RATE = 0.1  # 1/year at full strength

    def apply(self, model, strength: float) -> None:
        """Called every step with this step's strength (0 before the start year)."""
        super().apply(model, strength)  # keep any [effects] of the TOML spec
        if strength <= 0:
            return
        d = model.districts
        targeted = d.pollution >= np.quantile(d.pollution, 0.75)
        gain = per_step(model, self.ENVIRONMENT_RATE * strength)
        d.environment[targeted] += gain * (1.0 - d.environment[targeted])

        c = model.citizens
        elderly = c.age >= model.params.citizens.retirement_age
        helped = elderly & targeted[c.home]
        c.health[helped] += per_step(model, self.HEALTH_RATE * strength) * (1 - c.health[helped])

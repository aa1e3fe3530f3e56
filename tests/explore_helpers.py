"""A stand-in run function for the designer's tests: its metrics follow the levers.

A module of its own so that worker processes can import it by name.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from smartcity.policies.packages import load_package

STEPS_PER_YEAR = 12


def lever_stand_in(
    preset: str,
    *,
    seed: np.random.SeedSequence,
    years: float,
    overrides: Mapping[str, object] | None = None,
    policy: str | None = None,
    **kwargs: object,
) -> pd.DataFrame:
    """Governance and spending as known functions of the package's levers.

    The mix with the unified platform, online government financed as a PPP and at scale 1
    has the highest governance and the lowest spending at every uncertainty value, so it
    dominates every other mix: the Pareto front is that mix alone.
    """
    package = load_package(policy)
    literacy = float((overrides or {}).get("citizens.digital_literacy_mean", 0.5))
    plans = {plan.spec.name: plan for plan in package.initiatives}
    plan = plans.get("online_government")
    platform = 1.0 if package.unified_platform else 0.0
    ppp = 1.0 if plan is not None and plan.financing.name == "ppp" else 0.0
    miss = (plan.scale - 1.0) ** 2 if plan is not None else 1.0
    steps = np.arange(int(years * STEPS_PER_YEAR) + 1)
    growth = steps / steps[-1]
    return pd.DataFrame(
        {
            "step": steps,
            "year": steps / STEPS_PER_YEAR,
            "governance_index": (literacy + platform + ppp - miss) * growth,
            "public_spending": (2.0 - 0.5 * literacy - 0.5 * platform - 0.5 * ppp + miss) * growth,
        }
    )

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


LOW_LITERACY = 0.3 + 0.4 / 3  # the upper edge of the lowest third of [0.3, 0.7]


def regret_stand_in(
    preset: str,
    *,
    seed: np.random.SeedSequence,
    years: float,
    overrides: Mapping[str, object] | None = None,
    policy: str | None = None,
    **kwargs: object,
) -> pd.DataFrame:
    """Governance as a known function of the online-government scale and literacy.

    Scale 1.5 reaches 1.6 except at low literacy, where it gets 0; scale 1 gets 1.0 and
    scale 0.5 gets 0.5 everywhere. Over a three-point Latin hypercube of literacy on
    [0.3, 0.7] (one point per third), scale 1.5 has the best mean (3.2 / 3 against 1.0) but
    the largest regret (1.0 at low literacy, against 0.6 for scale 1).
    """
    package = load_package(policy)
    literacy = float((overrides or {}).get("citizens.digital_literacy_mean", 0.5))
    (plan,) = [p for p in package.initiatives if p.spec.name == "online_government"]
    level = (0.0 if literacy < LOW_LITERACY else 1.6) if plan.scale == 1.5 else plan.scale
    steps = np.arange(int(years * STEPS_PER_YEAR) + 1)
    growth = steps / steps[-1]
    return pd.DataFrame(
        {"step": steps, "year": steps / STEPS_PER_YEAR, "governance_index": level * growth}
    )

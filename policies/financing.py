"""Project financing models (white paper 5.3): who pays, who earns, what can go wrong.

The white paper's project-level economy sorts smart-city projects into four models:
government investment (5.3.1), public-private partnership (5.3.2), franchise (5.3.3) and
interest aggregation (5.3.4). Each model here fixes the public share of capital and
operating cost, how much of the running cost users pay back in fees and how that revenue
is shared, the yearly risk that the private side pulls out, and how much fees hold back
uptake. The same initiative therefore has different public cost, private capital and
service outcomes under each. Fees are paid by the users (they come out of citizens'
local spending) and scale with uptake, so an operator earns little when demand is thin.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartcity.simulation.world.errors import InputError

CAPITAL_RECOVERY_YEARS = 10.0  # years over which fees pay back capital
FULL_USE = 0.5  # uptake at which fees recover fee_recovery of the running cost


@dataclass(frozen=True)
class FinancingModel:
    """Terms of one financing model.

    Attributes:
        name: identifier used in packages.
        public_capital_share: share of capital cost paid by the government, 0-1.
        public_operating_share: share of operating cost paid by the government, 0-1.
        fee_recovery: user fees as a share of the running cost (operating cost plus capital
            amortised over CAPITAL_RECOVERY_YEARS) when half of the potential users use it.
        public_revenue_share: share of fee revenue that goes to the government, 0-1.
        yearly_risk: yearly probability that the private side withdraws, 0-1.
        uptake: factor on the initiative's effect from fees holding back use, 0-1.
        disruption_months: months an initiative runs at reduced continuity after a withdrawal.
        source: white paper section.
    """

    name: str
    public_capital_share: float
    public_operating_share: float
    fee_recovery: float
    public_revenue_share: float
    yearly_risk: float
    uptake: float
    disruption_months: int
    source: str


FINANCING_MODELS = {
    m.name: m
    for m in (
        # The government builds and runs it from the budget: no fees, no partner to lose,
        # but it stops when the debt rule cuts spending (5.3.1).
        FinancingModel("government", 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0, "white paper 5.3.1"),
        # A partner co-finances construction and operation; users pay back part of the
        # running cost, shared with the city (5.3.2).
        FinancingModel("ppp", 0.4, 0.5, 0.4, 0.3, 0.03, 0.95, 12, "white paper 5.3.2"),
        # A concessionaire builds and runs it and recovers cost plus a margin from fees; the
        # city earns a concession share. Fees deter some users, and a concessionaire may
        # quit when demand is thin (5.3.3).
        FinancingModel("franchise", 0.0, 0.0, 1.2, 0.1, 0.08, 0.8, 18, "white paper 5.3.3"),
        # Stakeholders who gain (firms, operators) pool funds and recover some of the cost
        # from users (5.3.4).
        FinancingModel(
            "interest_aggregation", 0.25, 0.3, 0.3, 0.2, 0.05, 0.9, 12, "white paper 5.3.4"
        ),
    )
}


def financing_model(name: str, source: str) -> FinancingModel:
    """The financing model called ``name``, or a one-line InputError naming the choices."""
    try:
        return FINANCING_MODELS[name]
    except KeyError:
        raise InputError(
            f"{source}: unknown financing model '{name}'; use one of {', '.join(FINANCING_MODELS)}"
        ) from None

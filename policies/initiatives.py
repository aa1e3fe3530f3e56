"""Digital initiatives: policy modules that change the city while it runs.

An initiative (the Starsim "intervention" idea) targets one key issue of white paper
Table 1, needs capabilities and infrastructure (its prerequisites), costs capital and
operating money under a financing model (white paper 5.3), and moves through three
stages, function -> performance -> effectiveness (white paper 1.3, 2.2, 4.3):

- function: built and working technically; 30% of its full effect;
- performance: 70% of its effect, once it has accumulated a year of "effective months" in
  the function stage with operability >= 0.5 at the end;
- effectiveness: all of it, after two more effective years with operability >= 0.7 and
  adoption >= 0.25; six months of operability < 0.3 demote it one stage.

An effective month counts pace = operability x (0.7 + 0.3 adoption) x (0.7 + 0.3
organization capability) of a calendar month: an initiative advances on its own readiness,
uptake and the government's capability, so initiatives roll out in staggered stages rather
than all at month 12 (a fully ready, fully used initiative in a fully organized city takes
exactly a year).

Each step its strength = stage level x operability x (0.4 + 0.6 adoption) x financing
uptake x coordination x scale, where operability = readiness (how far capabilities and
infrastructure meet its prerequisites) x financing continuity x share built. An initiative
whose prerequisites are missing therefore underperforms rather than working by fiat. The
strength scales the initiative's effects: lever contributions (simulation.world.levers) and yearly
growth of district stocks. The stage level follows the stage factor (0.3, 0.7, 1) at
ROLLOUT_RATE, so a promotion rolls in over months instead of on one day. A plan's stop
year ends it (:meth:`Initiative.stop`): its spending and its lever effects end, the district
stocks it grew stay.

No term scores how well an initiative suits the city (white paper 5.1.1 and 5.1.2 are
reproduced, where they are, by mechanisms): each lever acts on the agents and stocks its
rule reads (the creative firms that exist, the elderly residents there are, the delay on
the links that are congested), so the same initiative does more where the city has more
of what it acts on. ``acts_on`` names those city conditions (policies.conditions) for
reports; no rule reads it. A ``greenfield`` initiative (new systems rather than work on
existing ones) costs 1 + LEGACY_COST x legacy burden times its capital and advances its
stages 1 - LEGACY_DRAG x legacy burden times as fast (city.legacy_burden; 5.1.2, "less
burdened by history").

Initiatives are TOML files (policies/initiatives/*.toml); a user adds one without Python.
A subclass overriding :meth:`Initiative.apply` adds a new mechanism: a package runs it
with ``class = "my_module:MyInitiative"`` in the initiative's plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from smartcity.policies.conditions import CONDITIONS
from smartcity.policies.financing import CAPITAL_RECOVERY_YEARS, FULL_USE, FinancingModel
from smartcity.simulation.world.errors import InputError
from smartcity.simulation.world.levers import lever_keys
from smartcity.simulation.world.parameters import find_toml, shipped_names
from smartcity.simulation.world.protocols import CityState
from smartcity.simulation.world.schema import Schema, number, read_toml, validate
from smartcity.simulation.world.vocabulary import (
    CAPABILITY_NAMES,
    DIGITAL_SERVICES,
    KEY_ISSUES,
    MODES,
    per_step,
    share,
)

INITIATIVE_DIR = Path(__file__).parent / "initiatives"

STAGE_FACTOR = np.array([0.0, 0.3, 0.7, 1.0])
# A stage's effect rolls in (and out) over months, as staff are trained and users switch
# rather than on the day of the promotion: the stage level follows STAGE_FACTOR at this
# yearly rate (time constant 3 months; assumed 2-12, the months a city-wide system takes
# to reach its users).
ROLLOUT_RATE = 4.0
DISTRICT_STOCKS = ("ict", "computing", "iot", "transport", "environment")
DISTRICT_SCOPES = ("all", "core", "old", "new_town", "industrial", "suburb")
ADOPTION_SIGNALS = (
    *(f"service:{s}" for s in DIGITAL_SERVICES),
    "citizens_digital",
    "firms_digital",
    "green_commuting",
    "literacy",
    "operability",
)

# Stage rule thresholds (white paper 2.2: function verified, then performance, then
# effectiveness once use is broad and the system sustained), in effective months.
PERFORMANCE_AFTER_MONTHS = 12
PERFORMANCE_OPERABILITY = 0.5
EFFECTIVENESS_AFTER_MONTHS = 24
EFFECTIVENESS_OPERABILITY = 0.7
EFFECTIVENESS_ADOPTION = 0.25
DEMOTION_OPERABILITY = 0.3
DEMOTION_MONTHS = 6
DISRUPTED_CONTINUITY = 0.3  # share of service kept running while a partner is replaced
LEGACY_COST = 1.0  # capital cost of a greenfield initiative rises by this x legacy burden
LEGACY_DRAG = 0.5  # its stage pace falls by this x legacy burden


Level = number(0.0, 1.0)
Cost = number(0.0, 100.0)


class Evidence(Schema):
    """Where a coefficient's size comes from: its plausible range and its source.

    Attributes:
        range: [low, high], the values a robustness analysis varies the coefficient over
            (the coefficient itself lies inside).
        source: a figure of the white paper or the new-infrastructure paper, a published
            estimate, or "assumption: ..." saying that no source gives the size.
    """

    range: Annotated[tuple[float, float], Field(strict=False)]
    source: str


class InitiativeSpec(Schema):
    """What an initiative is: its TOML file, validated (the initiative file format).

    Attributes:
        name: identifier. title, description, source: for people (source = seed section).
        key_issue: one of KEY_ISSUES. target_metric, direction: the metric it is meant to
            move and which way ("up" or "down"), checked by the test suite.
        capital_cost: one-off cost, k per resident, spent over build_years.
        operating_cost: k per resident-year once started.
        adoption: the adoption signal, one of ADOPTION_SIGNALS.
        prerequisites: capability -> level (0-1) it needs for full operability.
        infrastructure: district stock -> city mean level it needs.
        requires: other initiatives that must be in the same package.
        effects: lever key -> contribution at full strength.
        district_growth: district stock -> yearly rate toward 1 at full strength.
        scope: district kind whose stocks grow ("all" for every district).
        acts_on: the city conditions (policies.conditions.CONDITIONS) whose state its
            levers act on: reported in docs/policies.md and docs/path_fit.md, read by no
            rule (the effect follows that state through the rules themselves).
        greenfield: True for new systems that an old city's legacy slows and makes dearer.
        evidence: effect key, lever name (for all its ``name.item`` keys) or grown stock ->
            Evidence: the plausible range and source of that coefficient (docs/effects.md).
    """

    name: str
    title: str
    key_issue: Literal[KEY_ISSUES]
    source: str
    description: str
    target_metric: str
    direction: Literal["up", "down"]
    capital_cost: Cost
    operating_cost: Cost
    build_years: Cost
    adoption: Literal[ADOPTION_SIGNALS]
    prerequisites: dict[Literal[CAPABILITY_NAMES], Level] = Field(default_factory=dict)
    infrastructure: dict[Literal[DISTRICT_STOCKS], Level] = Field(default_factory=dict)
    requires: Annotated[tuple[str, ...], Field(strict=False)] = ()
    effects: dict[Literal[tuple(lever_keys())], number(-5.0, 5.0)] = Field(default_factory=dict)
    district_growth: dict[Literal[DISTRICT_STOCKS], number(0.0, 2.0)] = Field(default_factory=dict)
    scope: Literal[DISTRICT_SCOPES] = "all"
    acts_on: Annotated[tuple[Literal[CONDITIONS], ...], Field(strict=False)] = ()
    greenfield: bool = False
    evidence: dict[str, Evidence] = Field(default_factory=dict)

    @classmethod
    def from_toml(cls, data: dict[str, Any], source: str) -> InitiativeSpec:
        """Validate a TOML table into a spec; one-line InputError on the first problem."""
        spec = validate(cls, data, source)
        for key, item in spec.evidence.items():
            covered = spec.coefficients(key)
            if not covered:
                raise InputError(
                    f"{source}: evidence.{key} names no coefficient of [effects] or "
                    f"[district_growth] (they are: {', '.join(spec.coefficient_keys())})"
                )
            low, high = item.range
            if not all(low <= value <= high for value in covered.values()):
                raise InputError(
                    f"{source}: evidence.{key} range [{low:g}, {high:g}] does not contain the "
                    f"coefficient ({', '.join(f'{v:g}' for v in covered.values())})"
                )
        return spec

    def coefficient_keys(self) -> list[str]:
        """Every coefficient: the effect keys and the grown stocks."""
        return [*self.effects, *self.district_growth]

    def coefficients(self, key: str) -> dict[str, float]:
        """The coefficients an evidence key covers: one effect or grown stock, or every
        ``key.item`` effect of a vector lever."""
        values = {**self.effects, **self.district_growth}
        return {k: v for k, v in values.items() if key in (k, k.partition(".")[0])}

    def evidence_for(self, key: str) -> Evidence | None:
        """The evidence of one coefficient key (its own, or its lever's), None if none."""
        return self.evidence.get(key) or self.evidence.get(key.partition(".")[0])


def initiative_names() -> list[str]:
    """Names of the shipped initiatives."""
    return shipped_names(INITIATIVE_DIR)


def load_initiative(name_or_path: str, source: str = "package") -> InitiativeSpec:
    """Spec of a shipped initiative name, or of a user's initiative TOML file."""
    try:
        path = find_toml(name_or_path, INITIATIVE_DIR, "initiative")
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    return InitiativeSpec.from_toml(read_toml(path, "initiative"), str(path))


def adoption_signal(model: CityState, signal: str) -> float:
    """Current level (0-1) of an adoption signal: how far citizens or firms use what the
    initiative offers ("new consumption" matching the investment, NI 4.1)."""
    c = model.citizens
    if signal.startswith("service:"):
        service = DIGITAL_SERVICES.index(signal.split(":", 1)[1])
        return share(c.adopted[c.adults(), service])
    if signal == "citizens_digital":
        return share(c.adopted[c.adults()])
    if signal == "firms_digital":
        f = model.firms
        return float(np.average(f.digital, weights=f.employees() + 1.0))
    if signal == "green_commuting":
        commuting = c.mode >= 0
        return share(c.mode[commuting] != MODES.index("car"))
    if signal == "literacy":
        return float(c.literacy[c.adults()].mean())
    return 1.0  # "operability": government-run systems need no uptake by users


class Initiative:
    """One initiative running in one city: its stage, operability and money flows.

    Args:
        spec: what the initiative is. financing: how it is paid for.
        start_year: model year it starts. scale: multiplies its costs and effects.
        stop_year: model year it stops (None = it runs to the end); see :meth:`stop`.
    """

    def __init__(
        self,
        spec: InitiativeSpec,
        financing: FinancingModel,
        start_year: float,
        scale: float,
        *,
        stop_year: float | None = None,
    ):
        self.spec = spec
        self.financing = financing
        self.start_year = start_year
        self.stop_year = stop_year
        self.scale = scale
        self.stage = 0
        self.stage_level = 0.0
        self.progress = 0.0
        self.low_months = 0
        self.disrupted_months = 0
        self.built = 0.0
        self.readiness = 0.0
        self.operability = 0.0
        self.adoption = 0.0
        self.strength = 0.0
        self.public_cost = 0.0
        self.private_capital = 0.0
        self.public_revenue = 0.0
        self.fees = 0.0

    @property
    def name(self) -> str:
        """The initiative's name."""
        return self.spec.name

    def active(self) -> bool:
        """Started and not abandoned."""
        return self.stage > 0

    def measure_readiness(self, model: CityState) -> float:
        """min over prerequisites of min(1, capability / required) and over infrastructure
        of min(1, city mean stock / required)."""
        gov = model.government
        needs = self.spec.prerequisites.items()
        ratios = [min(1.0, gov.capability(c) / level) for c, level in needs if level > 0]
        d = model.districts
        stocks = self.spec.infrastructure.items()
        ratios += [min(1.0, getattr(d, s).mean() / level) for s, level in stocks if level > 0]
        return min(ratios, default=1.0)

    def step(self, model: CityState, coordination: float, funding: float = 1.0) -> None:
        """Advance one step: start, finance, build, measure, change stage, take effect.

        Args:
            coordination: multiplier on the effect from shared data (policies.runtime).
            funding: share (0-1) of its public spending the budget allows this step
                (Government.investment_room: the debt rule's fiscal room, or the envelope
                factor under equal budgets).
        """
        year = (model.steps - 1) / model.steps_per_year
        self.public_cost = self.private_capital = self.public_revenue = self.fees = 0.0
        if year < self.start_year:
            return
        if self.stop_year is not None and year >= self.stop_year:
            self.stop()
            return
        if self.stage == 0:
            self.stage, self.progress = 1, 0.0
        continuity = self.keep_financed(model) * funding
        legacy = model.params.city.legacy_burden if self.spec.greenfield else 0.0
        self.pay(model, continuity, legacy)
        self.readiness = self.measure_readiness(model)
        self.operability = self.readiness * continuity * min(1.0, self.built)
        self.adoption = adoption_signal(model, self.spec.adoption)
        organization = model.government.capability("organization")
        pace = (0.7 + 0.3 * self.adoption) * (0.7 + 0.3 * organization)
        self.advance_stage(model.steps_per_year / 12, pace * (1.0 - LEGACY_DRAG * legacy))
        target = STAGE_FACTOR[self.stage]
        self.stage_level += (target - self.stage_level) * per_step(model, ROLLOUT_RATE)
        self.strength = (
            self.stage_level
            * self.operability
            * (0.4 + 0.6 * self.adoption)
            * self.financing.uptake
            * coordination
            * self.scale
        )
        self.apply(model, self.strength)

    def stop(self) -> None:
        """Stop for good at its stop year: the city no longer pays for it (no capital,
        operating cost or fees from this step on), so it stops operating and its levers add
        nothing from this step; it leaves the running initiatives (stage 0), so it neither
        puts data on the platform nor duplicates any. What it built stays: the district
        stocks it grew are kept and change only by the model's own rules (no rule wears a
        district stock down)."""
        self.stage = 0
        self.stage_level = self.operability = self.strength = 0.0

    def keep_financed(self, model: CityState) -> float:
        """Continuity of private financing this step, 0-1: 1 for government-financed
        initiatives (the budget's share is the ``funding`` of :meth:`step`); for the
        others, DISRUPTED_CONTINUITY for some months after the private side withdraws (a
        yearly risk, higher for a franchise with thin demand)."""
        if self.financing.public_capital_share == 1.0:
            return 1.0
        if self.disrupted_months > 0:
            self.disrupted_months -= 12 / model.steps_per_year
            return DISRUPTED_CONTINUITY
        risk = self.financing.yearly_risk * (2.0 if self.adoption < 0.1 else 1.0)
        if model.rng.random() < per_step(model, risk):
            self.disrupted_months = self.financing.disruption_months
            return DISRUPTED_CONTINUITY
        return 1.0

    def pay(self, model: CityState, continuity: float, legacy: float = 0.0) -> None:
        """Split this step's capital and operating cost between the government and private
        capital, and charge users fees that recover fee_recovery of the running cost at
        half uptake (scaling with uptake, at most twice that), of which the government
        keeps public_revenue_share (white paper 5.3). ``legacy`` (the legacy burden of a
        greenfield initiative) raises the capital cost by 1 + LEGACY_COST x legacy."""
        residents = len(model.citizens)
        fin = self.financing
        capital = 0.0
        if self.built < 1.0:
            share = continuity / max(self.spec.build_years * model.steps_per_year, 1.0)
            share = min(share, 1.0 - self.built)
            self.built += share
            capital = self.spec.capital_cost * residents * self.scale * share
            capital *= 1.0 + LEGACY_COST * legacy
        yearly = self.spec.operating_cost + self.spec.capital_cost / CAPITAL_RECOVERY_YEARS
        running = yearly * residents * self.scale * continuity / model.steps_per_year
        operating = self.spec.operating_cost * residents * self.scale / model.steps_per_year
        operating *= continuity
        self.fees = fin.fee_recovery * running * min(2.0, self.adoption / FULL_USE)
        self.public_cost = (
            fin.public_capital_share * capital + fin.public_operating_share * operating
        )
        self.private_capital = capital + operating - self.public_cost
        self.public_revenue = fin.public_revenue_share * self.fees

    def advance_stage(self, steps_per_month: float = 1.0, pace: float = 1.0) -> None:
        """Move between function, performance and effectiveness by the stage rule: progress
        grows by operability x pace effective months a month (``steps_per_month`` steps a
        month); ``pace`` carries the uptake and capability terms."""
        self.progress += self.operability * pace / steps_per_month
        low = self.operability < DEMOTION_OPERABILITY
        self.low_months = self.low_months + 1 / steps_per_month if low else 0
        if self.low_months >= DEMOTION_MONTHS and self.stage > 1:
            self.stage, self.progress, self.low_months = self.stage - 1, 0.0, 0
        elif (
            self.stage == 1
            and self.progress >= PERFORMANCE_AFTER_MONTHS
            and self.operability >= PERFORMANCE_OPERABILITY
        ) or (
            self.stage == 2
            and self.progress >= EFFECTIVENESS_AFTER_MONTHS
            and self.operability >= EFFECTIVENESS_OPERABILITY
            and self.adoption >= EFFECTIVENESS_ADOPTION
        ):
            self.stage, self.progress = self.stage + 1, 0.0

    def apply(self, model: CityState, strength: float) -> None:
        """Add the effects at this strength to this step's lever inputs (the runtime's
        LeverInputs, saturated into the levers after every initiative has stepped) and grow
        district stocks."""
        for lever, amount in self.spec.effects.items():
            model.policy_runtime.inputs.add(lever, amount * strength)
        if not self.spec.district_growth:
            return
        d = model.districts
        scope = np.ones(d.n, dtype=bool) if self.spec.scope == "all" else d.is_kind(self.spec.scope)
        for stock, rate in self.spec.district_growth.items():
            values = getattr(d, stock)
            values[scope] += per_step(model, rate * strength) * (1.0 - values[scope])

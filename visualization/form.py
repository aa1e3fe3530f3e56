"""The planners' form as a typed value: what the sidebar's controls say, and nothing else.

A :class:`Form` is frozen; every control changes it through one of its ``with_*`` methods,
and the page applies each change to the form as it is when the event arrives (a function of
the current form, not a copy of the form the control was drawn with), so two quick slider
moves both count and a control never writes back a value it was drawn with. The form is the
scenario being edited: :meth:`Form.scenario` and :meth:`Form.from_scenario` are inverses for
every scenario the view can show (white paper 5.1: a city type, a development path and the
planner's choices within it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from smartcity.visualization.scenario import (
    AS_IN_PACKAGE,
    CONFIGURATION_NAMES,
    PHASE_KEYS,
    CityConfig,
    Scenario,
)

SIDES = ("a", "b")
"""The two configurations of the form's own controls: A, and B when comparing; C, D, ...
(``Form.more``) follow B."""
CHOICE_FIELDS = ("initiatives", "financing", "unified_platform")
"""Fields of a side that hold the planner's changes to its package (None = as in it)."""


@dataclass(frozen=True)
class Side:
    """One configuration's preset, package and the planner's changes to the package."""

    preset: str = "mature"
    policy: str = "baseline"
    initiatives: tuple[str, ...] | None = None
    financing: str | None = None
    unified_platform: bool | None = None
    start_years: Mapping[str, float] = field(default_factory=dict)
    stop_years: Mapping[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether any of the package's own choices was changed here."""
        return any(getattr(self, name) is not None for name in CHOICE_FIELDS) or any(
            getattr(self, key) for key in PHASE_KEYS
        )

    def with_year(self, key: str, initiative: str, year: float | None) -> Side:
        """This side with one initiative's start or stop year (``key`` one of PHASE_KEYS)
        set; None = back to its plan's."""
        if key not in PHASE_KEYS:
            raise ValueError(f"{key!r} is not one of {PHASE_KEYS}")
        years = {k: v for k, v in getattr(self, key).items() if k != initiative}
        if year is not None:
            years[initiative] = float(year)
        return replace(self, **{key: years})

    def with_choice(self, name: str, value: Any) -> Side:
        """This side with one package choice set (None = back to the package's)."""
        if name not in CHOICE_FIELDS:
            raise ValueError(f"{name!r} is not a package choice; allowed: {CHOICE_FIELDS}")
        if name == "initiatives" and value is not None:
            value = tuple(value)
        if name == "financing" and value == AS_IN_PACKAGE:
            value = None
        return replace(self, **{name: value})

    def with_package(self, policy: str) -> Side:
        """This side with another package, and that package's own choices again."""
        return Side(self.preset, policy)

    def config(self, seed: int, overrides: Mapping[str, Any]) -> CityConfig:
        """The configuration of this side with the shared seed and overrides."""
        return CityConfig(
            self.preset,
            self.policy,
            seed,
            dict(overrides),
            self.initiatives,
            self.financing,
            self.unified_platform,
            dict(self.start_years),
            dict(self.stop_years),
        )

    @classmethod
    def of(cls, config: CityConfig) -> Side:
        """The side of a configuration (its seed and overrides belong to the form)."""
        financing = config.financing if isinstance(config.financing, str) else None
        return cls(
            config.preset,
            config.policy,
            config.initiatives,
            None if financing == AS_IN_PACKAGE else financing,
            config.unified_platform,
            dict(config.start_years),
            dict(config.stop_years),
        )


@dataclass(frozen=True)
class Form:
    """The controls of the sidebar: A, B, whether B is compared, the shared seed, the paired
    seeds, the horizon, the slider overrides (``section.name`` -> value) and the further
    configurations C, D, ... compared beside B."""

    a: Side = field(default_factory=Side)
    b: Side = field(default_factory=Side)
    seed: int = 1
    seeds: int = 1
    years: float = 5.0
    overrides: Mapping[str, float] = field(default_factory=dict)
    compare: bool = False
    more: tuple[Side, ...] = ()

    @property
    def names(self) -> str:
        """The names of the configurations the form runs: "a", or "ab", "abc", ..."""
        return CONFIGURATION_NAMES[: 2 + len(self.more) if self.compare else 1]

    def side(self, name: str) -> Side:
        """Side ``"a"``, ``"b"`` or one of ``more`` (``"c"``, ``"d"``, ...)."""
        if name in SIDES:
            return getattr(self, name)
        index = CONFIGURATION_NAMES.find(name) - len(SIDES) if len(name) == 1 else -1
        if not 0 <= index < len(self.more):
            raise ValueError(f"side must be one of {SIDES + tuple(self.names[2:])}, got {name!r}")
        return self.more[index]

    def with_side(self, name: str, side: Side) -> Form:
        """The form with one side replaced."""
        self.side(name)
        if name in SIDES:
            return replace(self, **{name: side})
        index = CONFIGURATION_NAMES.index(name) - len(SIDES)
        return replace(self, more=(*self.more[:index], side, *self.more[index + 1 :]))

    def with_more(self, more: tuple[Side, ...]) -> Form:
        """The form with the configurations after B replaced (comparing when there are any)."""
        return replace(self, more=tuple(more), compare=self.compare or bool(more))

    def with_override(self, key: str, value: float) -> Form:
        """The form with one slider's value set."""
        return replace(self, overrides={**self.overrides, key: value})

    def without_overrides(self) -> Form:
        """The form with every slider back at the preset's and package's values."""
        return replace(self, overrides={})

    def with_(self, **changes: Any) -> Form:
        """The form with the seed, seeds, years or compare switch changed."""
        unknown = set(changes) - {"seed", "seeds", "years", "compare"}
        if unknown:
            raise ValueError(f"not a form field: {sorted(unknown)}")
        if changes.get("compare") is False:
            # C, D, ... follow B: a comparison switched off keeps B's settings but not them,
            # so switching it on again compares A and B, as the switch says.
            changes["more"] = ()
        return replace(self, **changes)

    def scenario(self) -> Scenario:
        """The scenario the form describes (A, and B, C, ... when comparing)."""
        cities = [self.side(name).config(self.seed, self.overrides) for name in self.names]
        return Scenario.of(cities, float(self.years), self.seeds if self.compare else 1)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Form:
        """The form of a scenario (the inverse of :meth:`scenario`)."""
        a = Side.of(scenario.a)
        return cls(
            a,
            Side.of(scenario.b) if scenario.b is not None else a,
            scenario.a.seed,
            scenario.seeds,
            float(scenario.years),
            dict(scenario.a.overrides),
            scenario.b is not None,
            tuple(Side.of(c) for c in scenario.more),
        )

"""Limits on the sizes a user asks for, checked before anything is planned or run.

A typo in a spec (``replications = 1000000000``, ``years = 1e6``, a grid of ten lists of a
hundred values) would otherwise plan billions of runs or simulate for days before anything
said so. Every command checks what it is asked for against these stated limits first and
refuses in one line naming the limit and how to raise it: ``--limit NAME=N`` on any
command, up to the limit's ceiling (``smartcity run --help`` lists them). The defaults are
far above the largest job in this repository (the README's comparisons plan 40 runs of 240
steps each); they exist to turn a slip into a message, not to ration real work.

District counts have their own, fixed limit in the city graph loader (the model's
(mode, home, work) cost tables grow with the square of the number of districts).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace

from smartcity.simulation.world.errors import InputError


@dataclass(frozen=True)
class LimitSpec:
    """One limit: its default, the largest value ``--limit`` may set, what it counts."""

    default: int
    ceiling: int
    counts: str


LIMIT_SPECS = {
    "runs": LimitSpec(
        100_000,
        10**9,
        "runs one command plans: design points (grid combinations, samples, a SALib sample) "
        "x replications x presets x policies, or trials x replications for a calibration",
    ),
    "steps": LimitSpec(
        12_000,
        10**8,
        "model steps of one run: years x simulation.steps_per_year (12,000 = 1,000 years "
        "of monthly steps)",
    ),
}


@dataclass(frozen=True)
class Limits:
    """The limits in force for one command (defaults unless raised with ``--limit``)."""

    runs: int = LIMIT_SPECS["runs"].default
    steps: int = LIMIT_SPECS["steps"].default

    def check(self, name: str, count: float, what: str) -> None:
        """Refuse ``count`` of limit ``name`` above the limit, in one line.

        Args:
            name: "runs" or "steps".
            count: what the user asked for (may be inf or nan from a float input).
            what: how the count arose, e.g. "4 presets x policies x 10 replications".

        Raises:
            InputError: the count is above the limit (or not a finite number).
        """
        limit = getattr(self, name)
        if math.isfinite(count) and count <= limit:
            return
        shown = _count(count)
        ceiling = LIMIT_SPECS[name].ceiling
        raise InputError(
            f"{what} make {shown} {name}, above the limit of {limit:,} {name}; "
            f"raise it with --limit {name}=N (at most {ceiling:,})"
        )

    def check_steps(self, years: float, steps_per_year: int) -> None:
        """Refuse a run longer than the steps limit (years x steps per year)."""
        self.check(
            "steps",
            years * steps_per_year,
            f"{_count(years)} years x {steps_per_year} steps per year",
        )


def _count(value: float) -> str:
    """A count as typed: 1000000.0 as 1,000,000 (not 1e+06), 2.5 as 2.5."""
    if math.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:g}"


DEFAULT_LIMITS = Limits()


def parse_limit(text: str) -> tuple[str, int]:
    """``NAME=N`` of the ``--limit`` option as (name, value); one-line error otherwise.

    Raises:
        argparse.ArgumentTypeError: an unknown name, a value that is not a whole number,
            or one outside 1 to the limit's ceiling.
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or name not in LIMIT_SPECS:
        raise argparse.ArgumentTypeError(
            f"expected NAME=N with NAME one of {', '.join(LIMIT_SPECS)}, got {text!r}"
        )
    ceiling = LIMIT_SPECS[name].ceiling
    try:
        number = int(value.strip().replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--limit {name} needs a whole number from 1 to {ceiling:,}, got {value!r}"
        ) from None
    if not 1 <= number <= ceiling:
        raise argparse.ArgumentTypeError(
            f"--limit {name} needs a whole number from 1 to {ceiling:,}, got {number:,}"
        )
    return name, number


def limits_from(pairs: list[tuple[str, int]] | None) -> Limits:
    """The limits of a command line's ``--limit`` options (later ones win)."""
    return replace(DEFAULT_LIMITS, **dict(pairs or []))


def limits_help() -> str:
    """The ``--limit`` option's help: every limit with its default, ceiling and meaning."""
    return "raise a limit checked before anything runs (repeatable): " + "; ".join(
        f"{name} (default {spec.default:,}, at most {spec.ceiling:,}): {spec.counts}"
        for name, spec in LIMIT_SPECS.items()
    )

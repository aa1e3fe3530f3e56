"""Run functions for the experiment tests: the real model with an injected failure or delay.

A module of its own so that worker processes can import these functions by name.
"""

from __future__ import annotations

import time

import pandas as pd

from simulation.runs import run_city


def failing_run_city(preset: str, **kwargs: object) -> pd.DataFrame:
    """The real run, except that every emerging-city run raises."""
    if preset == "emerging":
        raise RuntimeError("injected failure")
    return run_city(preset, **kwargs)


def slow_run_city(preset: str, **kwargs: object) -> pd.DataFrame:
    """The real run, slowed down so that a test can interrupt a sweep half-way."""
    time.sleep(0.2)
    return run_city(preset, **kwargs)

"""Run functions for the experiment tests: the real model with an injected failure or delay.

A module of its own so that worker processes can import these functions by name.
"""

from __future__ import annotations

import os
import time

import pandas as pd

from smartcity.experiments.runs import run_city


def failing_run_city(preset: str, **kwargs: object) -> pd.DataFrame:
    """The real run, except that every emerging-city run raises."""
    if preset == "emerging":
        raise RuntimeError("injected failure")
    return run_city(preset, **kwargs)


def slow_run_city(preset: str, **kwargs: object) -> pd.DataFrame:
    """The real run, slowed down so that a test can interrupt a sweep half-way, even on a
    loaded machine where the parent notices the first stored runs late."""
    time.sleep(0.5)
    return run_city(preset, **kwargs)


def crashing_run_city(preset: str, **kwargs: object) -> pd.DataFrame:
    """The real run, except that the emerging replication-0 runs kill their worker process."""
    if preset == "emerging" and int(kwargs["seed"].spawn_key[-1]) == 0:
        os._exit(1)
    return run_city(preset, **kwargs)

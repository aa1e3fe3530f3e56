"""Sessions of the planners' view and the limits every request goes through.

A session is one browser page (a Solara kernel). At most ``MAX_SESSIONS`` run at once; a
closed session gives its memory back (its models are dropped with the kernel, then the
allocator is asked to return freed pages to the system, see :func:`release_memory`).

Every scenario that enters the view, from the sliders, from a shareable URL or from pasted
TOML, goes through the same limits (:func:`check_limits`): the sliders' ranges, the paired
seeds, at most ``MAX_CONFIGURATIONS`` configurations compared, a horizon of at most
``MAX_VIEW_YEARS`` and at most ``MAX_LIVE_CITIZENS`` citizens held at once by one session
(count x seeds x configurations). A URL or a pasted text that is too
long, is not TOML, nests too deep or asks for more gets one line saying what is allowed,
never a traceback (benchmarks/bench_view_load.py measures the memory).
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import ctypes.util
import gc
import math
import os
import threading
import time
from collections.abc import Callable

from smartcity.simulation.world.errors import InputError
from smartcity.visualization.scenario import MAX_SEEDS, Scenario, scenario_from_text
from smartcity.visualization.views import (
    Catalog,
    ViewRun,
    control_specs,
    effective_overrides,
    view_catalog,
)

MAX_SESSIONS = int(os.environ.get("SMARTCITY_MAX_SESSIONS", "8"))
"""Most sessions (browser pages) served at once; more get a page saying the view is full."""
MAX_VIEW_YEARS = 50.0
"""Longest horizon the view runs [years] (a scenario file for the CLI may ask for more)."""
MAX_CONFIGURATIONS = 8
"""Most configurations one page compares (a mature city's four paths, the baseline and the
placebo fit); each runs every paired seed, within MAX_LIVE_CITIZENS."""
MAX_LIVE_CITIZENS = 100_000
"""Most citizens one session holds at once over all its models (count x seeds x
configurations): two 50,000-citizen cities, or five paired seeds of two 10,000-citizen
cities. It bounds a session's memory (about 1 MB per 1,000 citizens with their history)."""
MAX_SCENARIO_CHARS = 20_000
"""Longest scenario text (TOML) the view reads from a URL or a paste; a scenario the view
writes is under 2,000 characters."""
CATALOG = view_catalog()
"""What the page lists (shipped presets and packages, user presets from $SMARTCITY_PRESETS_DIR);
read once when the server starts."""
SESSIONS: dict[str, float] = {}
"""Live sessions: kernel id -> start time (guarded by SESSIONS_LOCK)."""
SESSIONS_LOCK = threading.Lock()
RELEASE_DELAY_S = 1.0
"""Seconds after a session closes before its freed memory is returned (the kernel drops
its widgets and models just after the close callbacks run)."""


def register_session(session_id: str, on_close: Callable[[Callable[[], None]], None]) -> bool:
    """Count a session in; False when MAX_SESSIONS are already open. ``on_close`` registers
    the callback that counts it out when its kernel closes (and returns its memory)."""
    with SESSIONS_LOCK:
        if session_id in SESSIONS:
            return True
        if len(SESSIONS) >= MAX_SESSIONS:
            return False
        SESSIONS[session_id] = time.time()

    def forget() -> None:
        with SESSIONS_LOCK:
            SESSIONS.pop(session_id, None)
        threading.Timer(RELEASE_DELAY_S, release_memory).start()

    on_close(forget)
    return True


def drop_models(run: ViewRun) -> None:
    """Drop a closing session's models and their history (under the run's lock, so a step
    in progress ends first). Solara keeps a closed kernel's context reachable for a while
    (its cull task's frame holds it), and with it the page's whole render tree and the run:
    every closed session's city stayed in memory, round after round
    (benchmarks/bench_view_load.py). Without its models the run is a few small objects."""
    with run.lock:
        for city in run.runs:
            city.models.clear()
            city.history.clear()


def release_memory() -> None:
    """Collect cycles and ask glibc to hand freed heap pages back to the system: without it
    the memory of closed sessions stays in the allocator's arenas and the server creeps."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:  # not glibc (macOS, musl): the allocator returns memory its own way
        return
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is not None:
        trim(0)


def check_limits(scenario: Scenario, catalog: Catalog) -> None:
    """Raise a one-line InputError unless the scenario is within what the view runs: every
    slider value inside its slider's range, 1 to MAX_SEEDS paired seeds, at most
    MAX_CONFIGURATIONS configurations, a horizon of at most MAX_VIEW_YEARS and at most
    MAX_LIVE_CITIZENS citizens held at once (every configuration runs every seed)."""
    if not 0 < scenario.years <= MAX_VIEW_YEARS:
        raise InputError(
            f"the view runs horizons up to {MAX_VIEW_YEARS:g} years, not {scenario.years:g}; "
            "run longer ones with smartcity run --scenario"
        )
    if not 1 <= scenario.seeds <= MAX_SEEDS:
        raise InputError(f"paired seeds must be 1 to {MAX_SEEDS}, not {scenario.seeds}")
    if len(scenario.cities) > MAX_CONFIGURATIONS:
        raise InputError(
            f"the view compares at most {MAX_CONFIGURATIONS} configurations, not "
            f"{len(scenario.cities)}; run more with smartcity run --scenario --configuration"
        )
    specs = {spec.key: spec for spec in control_specs()}
    for config in scenario.cities:
        for key, value in effective_overrides(config, catalog).items():
            spec = specs.get(key)
            if spec is None or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if not (math.isfinite(value) and spec.lo <= value <= spec.hi):
                shown = f"{value:,}" if spec.is_int else f"{value:g}"
                raise InputError(
                    f"{key} = {shown} is outside the view's slider range "
                    f"{spec.lo:,g} to {spec.hi:,g}"
                )
    held = sum(
        int(effective_overrides(c, catalog).get("citizens.count", 0)) for c in scenario.cities
    )
    if held * scenario.seeds > MAX_LIVE_CITIZENS:
        raise InputError(
            f"this asks for {held * scenario.seeds:,} citizens at once (count x seeds x "
            f"configurations); one session of the view runs at most {MAX_LIVE_CITIZENS:,}"
        )


def read_scenario(text: str, source: str, catalog: Catalog) -> Scenario:
    """A scenario from TOML text sent by a visitor, within the view's limits; one-line
    InputError for text that is too long, not TOML (or nested too deep to parse), names
    anything the page does not list or asks for more than :func:`check_limits` allows."""
    if len(text) > MAX_SCENARIO_CHARS:
        raise InputError(
            f"{source}: {len(text):,} characters; a scenario is at most "
            f"{MAX_SCENARIO_CHARS:,} characters of TOML"
        )
    try:
        scenario = scenario_from_text(
            text, source, presets=catalog.presets, policies=catalog.policies
        )
    except InputError:
        raise
    except RecursionError:
        raise InputError(f"{source}: nested too deep to be a scenario") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{source}: not a scenario ({type(exc).__name__})") from None
    check_limits(scenario, catalog)
    return scenario


def scenario_from_query(search: str | None, catalog: Catalog) -> Scenario | None:
    """The scenario in a URL query (None when there is none); one-line InputError when it is
    damaged, bad, names anything the page does not list or is over the view's limits."""
    for part in (search or "").split("&"):
        key, _, value = part.partition("=")
        if key == "scenario" and value:
            if len(value) > 2 * MAX_SCENARIO_CHARS:
                raise InputError("the scenario in the URL is too long to be a scenario")
            try:
                text = base64.urlsafe_b64decode(value.encode() + b"==").decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise InputError("the scenario in the URL is damaged") from None
            return read_scenario(text, "scenario in the URL", catalog)
    return None


def scenario_query(scenario_text: str) -> str:
    """The URL query that restores a scenario (its TOML, base64url)."""
    return "scenario=" + base64.urlsafe_b64encode(scenario_text.encode()).decode()

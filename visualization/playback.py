"""Playing a view's run: a play request and the loop that steps it in its own thread.

The play loop steps the run (each step under the run's lock) and only asks for a redraw, at
most every REDRAW_SECONDS; a separate draw thread of the page does the drawing, so drawing
never sets the speed (benchmarks/bench_view.py) and a page event is handled between two
steps, not after the play ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from smartcity.visualization.views import ViewRun

REDRAW_SECONDS = 0.5
"""While playing, the page is redrawn at most this often: the model steps in between, so
drawing does not set the speed (benchmarks/bench_view.py)."""
SPEEDS = {"as fast as possible": 0.0, "1 year/s": 12.0, "3 months/s": 3.0, "1 month/s": 1.0}
"""Play speeds offered, in simulated months per second (0 = no pause between steps)."""


@dataclass(eq=False)
class PlayRequest:
    """What play was asked to do: run ``run`` to step ``end`` at ``speed`` months/s (0 = as
    fast as possible). A new request (or ``stop``) ends the one before."""

    run: ViewRun
    end: int
    speed: float
    stop: threading.Event = field(default_factory=threading.Event)
    rate: float = 0.0


def play(request: PlayRequest, redraw: Callable[[], None], connected: Callable[[], bool]) -> None:
    """Step ``request.run`` (each step under its lock) until its end step, a stop, a failed
    run or no page of the session connected; ask for a redraw at most every REDRAW_SECONDS,
    so drawing does not set the speed; keep the rate reached in ``request.rate``."""
    run = request.run
    started, made, last_draw = time.perf_counter(), 0, time.perf_counter()
    months_per_step = 12 / run.steps_per_year
    while not request.stop.is_set() and run.steps < request.end and connected():
        if not run.step():
            break
        made += 1
        now = time.perf_counter()
        request.rate = made * months_per_step / max(now - started, 1e-9)
        if request.speed > 0:
            time.sleep(max(0.0, made * months_per_step / request.speed - (now - started)))
        if now - last_draw >= REDRAW_SECONDS:
            last_draw = now
            redraw()
    request.stop.set()

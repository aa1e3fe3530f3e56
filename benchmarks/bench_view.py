"""Speed of the planners' view: steps per second of the view's model, with and without
drawing what the page redraws after every step (the map and the two chart figures as PNG).

Run: ``python -m benchmarks.bench_view [--sizes 5000 10000 20000] [--steps 12] [--compare]``.
The view starts at visualization.views.VIEW_CITIZENS citizens. Figures are for comparison
within one run (the machine is shared and noisy); the table shows the median of the repeats.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time


def measure(count: int, steps: int, compare: bool, draw: bool) -> dict[str, float]:
    """Build a ViewRun of ``count`` citizens (two cities if ``compare``) and step it."""
    from smartcity.visualization.figures import (
        draw_district_map,
        draw_index_chart,
        draw_metric_charts,
    )
    from smartcity.visualization.views import HEADLINE_METRICS, INDEX_METRICS, CityConfig, ViewRun

    overrides = {"citizens.count": count}
    configs = [CityConfig("mature", "baseline", 1, overrides)]
    if compare:
        configs.append(CityConfig("emerging", "baseline", 1, overrides))
    t0 = time.perf_counter()
    run = ViewRun(configs)
    t1 = time.perf_counter()
    for _ in range(steps):
        run.step()
        if draw:
            figures = [draw_district_map(city, "population") for city in run.cities]
            figures.append(draw_index_chart(run.cities, run.labels, INDEX_METRICS))
            figures.append(draw_metric_charts(run.cities, run.labels, HEADLINE_METRICS))
            for fig in figures:
                fig.savefig(io.BytesIO(), format="png")
    t2 = time.perf_counter()
    assert run.error is None, run.error
    return {"build_s": t1 - t0, "steps_per_s": steps / (t2 - t1)}


def main(argv: list[str] | None = None) -> None:
    """Print a table of build time and steps per second by population size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000])
    parser.add_argument("--steps", type=int, default=12, help="steps per measurement")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--compare", action="store_true", help="two cities (comparison mode)")
    args = parser.parse_args(argv)
    mode = "two cities (comparison)" if args.compare else "one city"
    print(f"planners' view, {mode}, {args.steps} steps, median of {args.repeat}")
    print(f"{'citizens':>9} {'build s':>8} {'model steps/s':>14} {'steps/s with drawing':>21}")
    for count in args.sizes:
        plain = [measure(count, args.steps, args.compare, False) for _ in range(args.repeat)]
        drawn = [measure(count, args.steps, args.compare, True) for _ in range(args.repeat)]
        build = statistics.median(r["build_s"] for r in plain)
        sps = statistics.median(r["steps_per_s"] for r in plain)
        sps_drawn = statistics.median(r["steps_per_s"] for r in drawn)
        print(f"{count:>9} {build:>8.2f} {sps:>14.1f} {sps_drawn:>21.1f}")


if __name__ == "__main__":
    main()

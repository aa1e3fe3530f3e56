"""Speed of the planners' view: how many simulated months per second the page plays.

Two measurements at the view's default population (visualization.views.VIEW_CITIZENS):

- ``model``: steps per second of the view's run alone (the model plus the per-step district
  snapshot kept for the history slider), and the time to build the page's charts once;
- ``comparison`` (``--configurations N``): the mature city's baseline and its first N - 1
  paths over paired seeds, stepped together, and the seconds one redraw of the comparison
  takes (the recorded metrics read once, the difference charts, the end-year table, the
  index terms and the small multiple of difference maps), as a ratio to N = 2 in the same run;
- ``browser`` (the figure that counts): ``smartcity ui`` is started, headless Chromium opens
  the page and presses play with the default settings, and the rate the page reports when
  play reaches the horizon (5 simulated years) is read back.

Run: ``python -m benchmarks.bench_view [--sizes 5000] [--steps 24] [--no-browser]
[--configurations 2 4 6 --seeds 2]``.
Figures vary with the load of the machine (it is shared); the table shows the median of the
repeats.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import time

CHROMIUM = "/usr/bin/chromium"


def measure_model(count: int, steps: int, compare: bool) -> dict[str, float]:
    """Steps per second of a ViewRun of ``count`` citizens, and the seconds one redraw's
    charts take to build (maps, index and headline charts)."""
    from smartcity.simulation.world.vocabulary import INDEX_METRICS
    from smartcity.visualization.figures import colour_domain, district_map, metric_charts
    from smartcity.visualization.scenario import CityConfig
    from smartcity.visualization.views import HEADLINE_METRICS, ViewRun

    overrides = {"citizens.count": count}
    configs = [CityConfig("mature", "baseline", 1, overrides)]
    if compare:
        configs.append(CityConfig("emerging", "baseline", 1, overrides))
    run = ViewRun(configs)
    t0 = time.perf_counter()
    for _ in range(steps):
        run.step()
    t1 = time.perf_counter()
    assert not run.errors, run.errors
    frames, labels = run.frames(), [r.label for r in run.runs]
    for city in run.runs:
        domain = colour_domain(run.runs, "population")
        district_map(city, city.history[-1], "population", domain).to_dict(validate=False)
    for metrics in (INDEX_METRICS, HEADLINE_METRICS):
        metric_charts(frames, labels, metrics, at_year=1.0).to_dict(validate=False)
    t2 = time.perf_counter()
    return {"steps_per_s": steps / (t1 - t0), "draw_s": t2 - t1}


MATURE_PATHS = ("baseline", "mature-multicentre", "mature-reactivate",
                "mature-rebuild-advantage", "mature-urban-diseases", "placebo")  # fmt: skip


def measure_comparison(count: int, steps: int, configurations: int, seeds: int) -> dict:
    """Steps per second of ``configurations`` compared over ``seeds`` paired seeds, and the
    seconds one redraw of the comparison takes (what RunView and the comparison card
    build: the recorded metrics, the charts, the tables and the difference maps)."""
    from smartcity.simulation.world.vocabulary import INDEX_METRICS
    from smartcity.visualization.comparison import (
        COMPARED_METRICS,
        end_table_markdown,
        terms_markdown,
    )
    from smartcity.visualization.figures import difference_charts, difference_map, metric_charts
    from smartcity.visualization.scenario import CityConfig
    from smartcity.visualization.views import (
        ViewRun,
        difference_domain,
        paired_differences,
        recorded,
    )

    overrides = {"citizens.count": count}
    configs = [CityConfig("mature", p, 1, overrides) for p in MATURE_PATHS[:configurations]]
    run = ViewRun(configs, seeds=seeds)
    t0 = time.perf_counter()
    for _ in range(steps):
        run.step()
    t1 = time.perf_counter()
    assert not run.errors, run.errors
    rec = recorded(run)
    frames = [f[0] for f in rec.frames]
    metric_charts(frames, list(rec.labels), INDEX_METRICS, at_year=1.0).to_dict(validate=False)
    diffs = paired_differences(rec, COMPARED_METRICS)
    difference_charts(diffs, INDEX_METRICS, seeds).to_dict(validate=False)
    end_table_markdown(rec, steps, 1.0, seeds, 0)
    terms_markdown(run, steps, 0)
    ref, *others = run.runs
    largest = difference_domain(ref, others, "population")
    for other in others:
        difference_map(ref, other, steps, "population", largest).to_dict(validate=False)
    t2 = time.perf_counter()
    return {"steps_per_s": steps / (t1 - t0), "draw_s": t2 - t1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*extra: str) -> tuple[subprocess.Popen, str]:
    """``smartcity ui`` on a free port; returns the process and the page's address once the
    port is open."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "smartcity", "ui", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("smartcity ui did not open its port in 120 s")


def measure_browser(repeat: int) -> list[float]:
    """Simulated months per second the page reports after playing to the horizon with the
    default settings, once per repeat (a fresh page each time)."""
    from playwright.sync_api import sync_playwright

    proc, url = start_server()
    rates = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            for _ in range(repeat):
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.goto(url, timeout=120_000)
                page.wait_for_selector(".sc-play", timeout=120_000)
                page.wait_for_timeout(2000)
                page.locator(".sc-play").click()
                page.wait_for_function(
                    "() => /last play/.test(document.querySelector('.sc-rate').textContent)",
                    timeout=300_000,
                )
                text = page.locator(".sc-rate").inner_text()
                rates.append(float(re.search(r"([\d.]+) simulated months/s", text)[1]))
                page.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(20)
    return rates


def print_comparisons(args: argparse.Namespace) -> None:
    """The comparison table: per N, steps per second and one redraw's seconds, each also
    as a ratio to the first N measured in this run."""
    print(
        f"planners' view, N configurations of the mature city x {args.seeds} paired seeds, "
        f"{args.steps} steps, median of {args.repeat}"
    )
    print(f"{'citizens':>9} {'N':>3} {'steps/s':>8} {'redraw s':>9} {'redraw / first N':>17}")
    for count in args.sizes:
        first = None
        for n in args.configurations:
            runs = [
                measure_comparison(count, args.steps, n, args.seeds) for _ in range(args.repeat)
            ]
            sps = statistics.median(r["steps_per_s"] for r in runs)
            draw = statistics.median(r["draw_s"] for r in runs)
            first = first or draw
            print(f"{count:>9} {n:>3} {sps:>8.1f} {draw:>9.2f} {draw / first:>17.2f}")


def main(argv: list[str] | None = None) -> None:
    """Print the model table and the rate the page plays at."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000])
    parser.add_argument("--steps", type=int, default=24, help="steps per model measurement")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--compare", action="store_true", help="two cities (comparison mode)")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser measurement")
    parser.add_argument(
        "--configurations", type=int, nargs="+", help="measure comparisons of N configurations"
    )
    parser.add_argument("--seeds", type=int, default=2, help="paired seeds of a comparison")
    args = parser.parse_args(argv)
    if args.configurations:
        print_comparisons(args)
        return
    mode = "two cities (comparison)" if args.compare else "one city"
    print(f"planners' view, {mode}, {args.steps} steps, median of {args.repeat}")
    print(f"{'citizens':>9} {'model+snapshot steps/s':>23} {'one redraw s':>13}")
    for count in args.sizes:
        runs = [measure_model(count, args.steps, args.compare) for _ in range(args.repeat)]
        sps = statistics.median(r["steps_per_s"] for r in runs)
        draw = statistics.median(r["draw_s"] for r in runs)
        print(f"{count:>9} {sps:>23.1f} {draw:>13.2f}")
    if not args.no_browser:
        rates = measure_browser(args.repeat)
        print(
            "page, default settings, play to year 5: "
            + ", ".join(f"{r:.1f}" for r in rates)
            + f" simulated months/s (median {statistics.median(rates):.1f})"
        )


if __name__ == "__main__":
    main()

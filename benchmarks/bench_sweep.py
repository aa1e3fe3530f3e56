"""Sweep throughput: runs per minute with 1 worker, 2 local workers and a Dask LocalCluster.

Run with `python -m benchmarks.bench_sweep [--replications N] [--years Y] [--citizens C]`.
All three executors run the same small spec into fresh stores; the script also checks that
they stored identical results, since a fast executor that changes results is no use.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from smartcity.experiments.runner import run_sweep
from smartcity.experiments.spec import ExperimentSpec, parse_spec
from smartcity.experiments.store import load_results


def small_spec(replications: int, years: int, citizens: int) -> ExperimentSpec:
    """Return the benchmark spec: both presets, baseline, a small city."""
    return parse_spec(
        {
            "name": "bench",
            "presets": ["mature", "emerging"],
            "replications": replications,
            "years": years,
            "root_seed": 1,
            "overrides": {"citizens.count": citizens},
        }
    )


def timed(sweep: Callable[[Path], object], store: Path) -> float:
    """Return the wall time of one sweep into `store`."""
    start = time.perf_counter()
    sweep(store)
    return time.perf_counter() - start


def main() -> None:
    """Measure and print throughput and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--citizens", type=int, default=5000)
    args = parser.parse_args()
    spec = small_spec(args.replications, args.years, args.citizens)
    runs = len(spec.pairs()) * len(spec.points) * spec.replications

    from distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        seconds = {
            "1 worker (in-process)": timed(
                lambda s: run_sweep(spec, s, workers=1, progress=False), root / "w1"
            ),
            "2 workers (process pool)": timed(
                lambda s: run_sweep(spec, s, workers=2, progress=False), root / "w2"
            ),
        }
        start = time.perf_counter()
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            startup = time.perf_counter() - start
            executor = client.get_executor(pure=False)
            seconds["Dask LocalCluster (2 procs)"] = timed(
                lambda s: run_sweep(spec, s, executor=executor, slots=2, progress=False),
                root / "dask",
            )
        reference = load_results(root / "w1")
        identical = all(reference.equals(load_results(root / name)) for name in ("w2", "dask"))

    print(
        f"spec: 2 presets x {spec.replications} replications = {runs} runs, "
        f"{args.years} years, {args.citizens} citizens"
    )
    base = runs * 60 / seconds["1 worker (in-process)"]
    rows = [
        {
            "executor": name,
            "seconds": round(secs, 2),
            "runs_per_min": round(runs * 60 / secs, 1),
            "ratio_vs_1_worker": round(runs * 60 / secs / base, 2),
        }
        for name, secs in seconds.items()
    ]
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"Dask LocalCluster start-up (not in the timings): {startup:.2f} s")
    print(f"identical stored results across executors: {identical}")


if __name__ == "__main__":
    main()

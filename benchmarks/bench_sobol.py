"""A Sobol study's cost: CPU seconds per run inside a sweep, and N=256 extrapolated.

Run: ``python -m benchmarks.bench_sobol [--samples 16] [--citizens 20000] [--years 20]
[--workers 2] [--record yearly]``. It samples 10 parameters of the mature city (Saltelli,
first-order indices: N x (10 + 2) runs), runs them with the batch runner into a temporary
store, and prints the runs, the wall time, the CPU time of the workers (per run: what one
run costs inside a sweep, imports and kernel loading paid once per worker) and the wall
time of N=256 on the same number of workers, extrapolated from the CPU per run (runs x CPU
per run / workers, for a machine whose cores are free).
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import tempfile
import time
from pathlib import Path

from smartcity.experiments.runner import run_sweep
from smartcity.experiments.sensitivity import sample_spec
from smartcity.experiments.spec import parse_spec

# Ten parameters a Sobol study of the mature city varies, around their defaults.
BOUNDS = {
    "citizens.digital_literacy_mean": [0.3, 0.8],
    "citizens.adoption_imitation": [0.2, 1.0],
    "citizens.job_search_rate": [0.4, 0.8],
    "citizens.moving_rate": [0.05, 0.2],
    "citizens.trust_mean": [0.3, 0.7],
    "firms.digital_gain": [0.2, 0.8],
    "firms.catch_up_rate": [0.02, 0.06],
    "firms.entry_rate": [0.05, 0.15],
    "government.income_tax": [0.08, 0.2],
    "city.congestion_alpha": [0.1, 0.3],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    """Run the study and print its cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16, help="Saltelli base sample N")
    parser.add_argument("--citizens", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--record", default="yearly", help="the runs' --record choice")
    args = parser.parse_args(argv)
    spec = parse_spec(
        {
            "name": "bench-sobol",
            "presets": ["mature"],
            "root_seed": 1,
            "years": args.years,
            "overrides": {"citizens.count": args.citizens},
            "sensitivity": {
                "bounds": BOUNDS,
                "samples": args.samples,
                "metrics": ["gdp_per_capita", "governance_index"],
            },
        }
    )
    sampled, _ = sample_spec(spec, "sobol")
    sampled = dataclasses.replace(sampled, record=args.record, keep_every=1)
    runs = len(sampled.points)
    with tempfile.TemporaryDirectory() as tmp:
        wall, cpu = time.perf_counter(), _children_cpu()
        report = run_sweep(sampled, Path(tmp) / "store", workers=args.workers, progress=False)
        wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
    per_run = cpu / max(report.done, 1)
    full = 256 * (len(BOUNDS) + 2)
    print(
        f"Sobol, {len(BOUNDS)} parameters, N={args.samples}: {runs} runs of {args.citizens} "
        f"citizens x {args.years} years (record {args.record}), {args.workers} workers: "
        f"{report.done} done, {report.failed} failed"
    )
    print(f"wall {wall:.1f} s; worker CPU {cpu:.1f} s = {per_run:.2f} s per run")
    print(
        f"N=256: {full} runs x {per_run:.2f} s / {args.workers} workers = "
        f"{full * per_run / args.workers / 3600:.2f} h on {args.workers} free cores"
    )


if __name__ == "__main__":
    main()

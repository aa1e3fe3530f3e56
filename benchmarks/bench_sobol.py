"""A Sobol study's cost: CPU seconds per run inside a sweep, and N=256 extrapolated.

Run: ``python -m benchmarks.bench_sobol [--samples 16] [--citizens 20000] [--years 20]
[--record yearly]``. It samples 10 parameters of the mature city (Saltelli, first-order
indices: N x (10 + 2) runs), runs them with the batch runner into a temporary store in
this process (one worker, so that the process's CPU time is the runs' CPU time, imports
and kernel loading paid once as in a worker), and prints the CPU time per run and the
wall time of N=256 on 2 workers extrapolated from it (runs x CPU per run / 2, for a
machine whose two cores are free; runs are independent, so they scale with workers).
"""

from __future__ import annotations

import argparse
import dataclasses
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


def main(argv: list[str] | None = None) -> None:
    """Run the study and print its cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16, help="Saltelli base sample N")
    parser.add_argument("--citizens", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=20)
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
        wall, cpu = time.perf_counter(), time.process_time()
        report = run_sweep(sampled, Path(tmp) / "store", workers=1, progress=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per_run = cpu / max(report.done, 1)
    full = 256 * (len(BOUNDS) + 2)
    print(
        f"Sobol, {len(BOUNDS)} parameters, N={args.samples}: {runs} runs of {args.citizens} "
        f"citizens x {args.years} years (record {args.record}), 1 worker: "
        f"{report.done} done, {report.failed} failed"
    )
    print(f"wall {wall:.1f} s; CPU {cpu:.1f} s = {per_run:.2f} s per run")
    print(
        f"N=256: {full} runs x {per_run:.2f} s / 2 workers = "
        f"{full * per_run / 2 / 3600:.2f} h on 2 free cores"
    )


if __name__ == "__main__":
    main()

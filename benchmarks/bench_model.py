"""Model speed and memory: build time, citizen-steps per second and peak memory.

Each measurement runs in a fresh subprocess so that its peak resident memory is its own.
Run: ``python -m benchmarks.bench_model [--sizes 10000 100000] [--years 20] [--repeat 3]``.
Figures are for comparison within one run (the machine is shared and noisy): the table
reports min / median / max over the repeats.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = """
import json, resource, sys, time
from simulation import CityModel
preset, count, years, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
model = CityModel(preset, seed=seed, citizens__count=count)
t1 = time.perf_counter()
model.run(years)
t2 = time.perf_counter()
citizen_steps = float(model.datacollector.get_model_vars_dataframe()["population"].iloc[1:].sum())
print(json.dumps({"build_s": t1 - t0, "run_s": t2 - t1, "citizen_steps": citizen_steps,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(preset: str, count: int, years: float, seed: int) -> dict[str, float]:
    """Build and run one city in a subprocess; return its timings and peak memory."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, preset, str(count), str(years), str(seed)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _spread(values: list[float], fmt: str) -> str:
    return "/".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--presets", nargs="+", default=["mature", "emerging"])
    parser.add_argument("--years", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"years={args.years:g}, repeats={args.repeat}; columns give min/median/max")
    header = (
        f"{'preset':9s} {'citizens':>9s} {'build s':>17s} {'run s':>20s} "
        f"{'M citizen-steps/s':>20s} {'peak MiB':>17s}"
    )
    print(header)
    for preset in args.presets:
        for count in args.sizes:
            runs = [measure(preset, count, args.years, seed) for seed in range(1, args.repeat + 1)]
            rate = [r["citizen_steps"] / r["run_s"] / 1e6 for r in runs]
            print(
                f"{preset:9s} {count:9d} {_spread([r['build_s'] for r in runs], '.2f'):>17s} "
                f"{_spread([r['run_s'] for r in runs], '.1f'):>20s} {_spread(rate, '.2f'):>20s} "
                f"{_spread([r['peak_mib'] for r in runs], '.0f'):>17s}",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""The fixed cost of a step: CPU ms per step at two city sizes, and the intercept of the line
through them (the cost of a step of a city of no citizens).

Run: ``python -m benchmarks.bench_fixed_cost [--sizes 1000 20000] [--against PATH]``. Each
checkout runs in a fresh subprocess (bench_model's probe, another checkout linked as
``smartcity``): a mature city warmed for half a year, then the best of 3 one-year runs,
recorded yearly as batch work records, in process CPU time. Figures are for the record
(benchmarks/RESULTS.md), never asserted by a test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.bench_model import _probe

PROBE = """
import json, sys, time
from smartcity import CityModel
count = int(sys.argv[1])
model = CityModel("mature", seed=1, citizens__count=count, record="yearly")
model.run(0.5)
best = float("inf")
for _ in range(3):
    start = time.process_time()
    model.run(1)
    best = min(best, (time.process_time() - start) / model.steps_per_year * 1e3)
print(json.dumps({"ms_per_step": best}))
"""


def main(argv: list[str] | None = None) -> None:
    """Print CPU ms per step at each size and the fixed part, for this checkout and
    ``--against``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1000, 20000])
    parser.add_argument("--against", help="another checkout to time in the same run")
    args = parser.parse_args(argv)
    codes = [("this", None)] + ([("against", Path(args.against))] if args.against else [])
    small, large = args.sizes
    print("CPU ms per step, mature city, best of 3 one-year runs; fixed = intercept at 0 citizens")
    print(f"{'code':>8s} {small:>10d} {large:>10d} {'fixed':>8s} {'us/citizen':>11s}")
    for name, root in codes:
        ms = [_probe(PROBE, [str(n)], root)["ms_per_step"] for n in (small, large)]
        slope = (ms[1] - ms[0]) / (large - small)
        print(f"{name:>8s} {ms[0]:10.2f} {ms[1]:10.2f} {ms[0] - slope * small:8.2f} "
              f"{slope * 1e3:11.3f}")  # fmt: skip


if __name__ == "__main__":
    main()

"""Same runs, bit for bit: an engine change must change speed, not behaviour.

Runs a set of cities in this checkout and in another (``--against PATH``, e.g. a
``git worktree add /work/wt-before main`` made before the change) and compares, exactly,
every recorded metric and every citizen and firm column at the end of each run. Prints one
line per run and exits 1 when any array differs (naming the run and the first arrays that
differ). Run: ``python -m benchmarks.same_runs --against /work/wt-before``.

The runs cover both presets, a case city, recording every step and yearly, and policy
packages whose initiatives touch most rules; they are small (3,000-20,000 citizens, 2-4
years) so that the check takes a minute or two.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.bench_model import _probe

RUNS = (
    # preset, policy ("-" for none), citizens, years, seed, record
    ("mature", "-", 3000, 3, 1, "step"),
    ("mature", "mature-reactivate", 5000, 3, 2, "step"),
    ("mature", "mature-urban-diseases", 5000, 2, 3, "step"),
    ("mature", "mature-rebuild-advantage", 20000, 2, 4, "yearly"),
    ("emerging", "-", 3000, 3, 5, "step"),
    ("emerging", "emerging-breakthrough", 5000, 4, 6, "step"),
    ("emerging", "emerging-industrial-chain", 20000, 2, 7, "yearly"),
    ("shenzhen", "mature-multicentre", 4000, 3, 8, "step"),
    ("mature", "placebo", 3000, 2, 9, "step"),
)

PROBE = """
import sys
import numpy as np
from smartcity import CityModel
preset, policy, count, years, seed, record, out = sys.argv[1:8]
model = CityModel(preset, seed=int(seed), policy=None if policy == "-" else policy,
                  citizens__count=int(count), record=record)
model.run(float(years))
arrays = {}
frame = model.metrics_frame()
for name in frame.columns:
    arrays["metric:" + name] = frame[name].to_numpy()
for kind, agents in (("citizen", model.citizens), ("firm", model.firms)):
    for name in agents.COLUMNS:
        arrays[kind + ":" + name] = np.asarray(getattr(agents, name))
np.savez(out, **arrays)
print("{}")
"""


def differences(this: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> list[str]:
    """Names of the arrays that are not equal, NaN equal to NaN (missing ones included)."""
    names = sorted(set(this) | set(other))
    return [
        name
        for name in names
        if name not in this
        or name not in other
        or this[name].shape != other[name].shape
        or not np.array_equal(this[name], other[name], equal_nan=this[name].dtype.kind == "f")
    ]


def main(argv: list[str] | None = None) -> int:
    """Compare every run of RUNS in this checkout and in ``--against``; 0 when all equal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="the other checkout")
    args = parser.parse_args(argv)
    failed = 0
    arrays_compared = 0
    with tempfile.TemporaryDirectory() as tmp:
        for run in RUNS:
            label = " ".join(map(str, run))
            files = []
            for code, root in (("this", None), ("against", args.against)):
                path = Path(tmp) / f"{code}.npz"
                _probe(PROBE, [*map(str, run), str(path)], root)
                with np.load(path) as data:
                    files.append({name: data[name] for name in data.files})
            diff = differences(*files)
            arrays_compared += len(files[0])
            failed += bool(diff)
            verdict = "same" if not diff else f"DIFFERENT: {', '.join(diff[:6])}"
            print(f"{label:60s} {len(files[0]):4d} arrays  {verdict}", flush=True)
    print(f"{len(RUNS) - failed} of {len(RUNS)} runs the same ({arrays_compared} arrays)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

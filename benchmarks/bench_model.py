"""Model speed and memory: build time, time per step, citizen-steps per second and peak
memory per (preset, size), and the speed of the vectorized rules against the per-agent
Mesa reference (benchmarks/reference_agents.py).

Each model measurement runs in a fresh subprocess so that its peak resident memory is its
own. Run: ``python -m benchmarks`` (10k, 20k and 100k citizens), ``--full`` to add 1M
citizens (minutes), ``--against PATH`` to time another checkout (e.g. ``git worktree add
/tmp/base main``) in the same run, interleaved, for before/after ratios of process CPU
time (the paired ratio is against / this, so 2.0 means this checkout needs half the CPU);
``--record yearly`` records this checkout's metrics once a year, as batch work does (the
other checkout records what its engine records). The start-up table times ``import
smartcity.cli``, what every ``smartcity`` command pays before it starts.
Figures are for comparison within one run (the machine is shared and noisy): the tables
report min / median / max over the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SIZE = 20_000  # the planners' view runs a city of this size
VECTORIZED_TRIES = 10

PROBE = """
import json, resource, sys, time
from smartcity import CityModel
preset, count, years, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
record = {} if sys.argv[5] == "-" else {"record": sys.argv[5]}
t0 = time.perf_counter()
model = CityModel(preset, seed=seed, citizens__count=count, **record)
first = len(model.citizens)
t1, c1 = time.perf_counter(), time.process_time()
model.run(years)
t2, c2 = time.perf_counter(), time.process_time()
# Citizen-steps from the populations at the start and the end (the metrics may be recorded
# only once a year).
print(json.dumps({"build_s": t1 - t0, "run_s": t2 - t1, "cpu_s": c2 - c1,
                  "citizen_steps": model.steps * (first + len(model.citizens)) / 2,
                  "steps": model.steps,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
STARTUP_PROBE = """
import json, time
t0 = time.process_time()
import smartcity.cli
print(json.dumps({"import_cpu_s": time.process_time() - t0}))
"""


def _probe(code: str, args: list[str], root: Path | None) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter (of another checkout when ``root`` is given) and
    return the JSON of its last output line."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as link_dir:
        if root is not None:
            # The checkout's root is the package itself: put it on the path as `smartcity`,
            # ahead of this checkout's editable install.
            (Path(link_dir) / "smartcity").symlink_to(root.resolve())
            env["PYTHONPATH"] = link_dir
        out = subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=link_dir if root is not None else None,
            env=env,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(
    preset: str,
    count: int,
    years: float,
    seed: int,
    root: Path | None = None,
    record: str | None = None,
) -> dict[str, float]:
    """Build and run one city in a subprocess; return its timings and peak memory.

    ``root``: run the code of another checkout (default: this one). ``record``: the
    model's record choice (default: the engine's own default).
    """
    args = [preset, str(count), str(years), str(seed), record or "-"]
    return _probe(PROBE, args, root)


def _spread(values: list[float], fmt: str) -> str:
    return "/".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def model_table(args: argparse.Namespace) -> None:
    """Print build, per-step and run figures per (preset, size)."""
    print(
        f"\nModel: {args.years:g} years of monthly steps, repeats={args.repeat}; min/median/max"
        " (run CPU s: the process's CPU time, less sensitive to other users of the machine)"
    )
    print(
        f"{'preset':9s} {'citizens':>9s} {'code':>8s} {'build s':>16s} {'ms/step':>17s} "
        f"{'run s':>17s} {'run CPU s':>17s} {'M cit-steps/s':>16s} {'peak MiB':>16s}"
    )
    codes = [("this", None)] + ([("against", Path(args.against))] if args.against else [])
    for preset in args.presets:
        for count in args.sizes:
            runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in codes}
            for seed in range(1, args.repeat + 1):
                for name, root in codes:  # interleaved, so both see the same machine load
                    record = args.record if root is None else None
                    runs[name].append(measure(preset, count, args.years, seed, root, record))
            for name, _ in codes:
                r = runs[name]
                rate = [x["citizen_steps"] / x["run_s"] / 1e6 for x in r]
                per_step = [1000 * x["run_s"] / x["steps"] for x in r]
                print(
                    f"{preset:9s} {count:9d} {name:>8s} "
                    f"{_spread([x['build_s'] for x in r], '.2f'):>16s} "
                    f"{_spread(per_step, '.1f'):>17s} "
                    f"{_spread([x['run_s'] for x in r], '.1f'):>17s} "
                    f"{_spread([x['cpu_s'] for x in r], '.1f'):>17s} {_spread(rate, '.2f'):>16s} "
                    f"{_spread([x['peak_mib'] for x in r], '.0f'):>16s}",
                    flush=True,
                )
            if args.against:
                pairs = list(zip(runs["this"], runs["against"], strict=True))
                ratio = [b["cpu_s"] / a["cpu_s"] for a, b in pairs]
                wall = [b["run_s"] / a["run_s"] for a, b in pairs]
                print(
                    f"{'':19s} speed-up of this over against (paired, run CPU s): "
                    f"{_spread(ratio, '.2f')} (wall s: {_spread(wall, '.2f')})"
                )


def startup_table(args: argparse.Namespace) -> None:
    """Print the CPU time of ``import smartcity.cli`` (every command's start-up)."""
    codes = [("this", None)] + ([("against", Path(args.against))] if args.against else [])
    times: dict[str, list[float]] = {name: [] for name, _ in codes}
    for _ in range(args.repeat):
        for name, root in codes:
            times[name].append(_probe(STARTUP_PROBE, [], root)["import_cpu_s"])
    print(f"\nStart-up: CPU s of `import smartcity.cli`, repeats={args.repeat}; min/median/max")
    for name, _ in codes:
        print(f"{name:>8s} {_spread(times[name], '.2f'):>17s}")
    if args.against:
        ratio = [b / a for a, b in zip(times["this"], times["against"], strict=True)]
        print(f"speed-up of this over against (paired): {_spread(ratio, '.2f')}")


def reference_table(args: argparse.Namespace) -> None:
    """Print the time of each citizens' rule, vectorized and per-agent, and their ratio."""
    from benchmarks import reference_agents as ra

    count = args.reference_size
    city = ra.prepare_city("mature", count)
    state = ra.snapshot(city)
    print(
        f"\nVectorized rules vs per-agent Mesa reference, mature city of {count} citizens, "
        f"repeats={args.repeat}; one application of the rule (vectorized: best of "
        f"{VECTORIZED_TRIES}), min/median/max over repeats"
    )
    print(f"{'rule':24s} {'vectorized ms':>20s} {'per-agent ms':>22s} {'ratio':>20s}")
    total_vec, total_ref = [0.0] * args.repeat, [0.0] * args.repeat
    for rule in ra.RULES:
        vec, ref = [], []
        for seed in range(args.repeat):
            # A vectorized rule takes ~1 ms, within the machine's timing noise: take the
            # best of VECTORIZED_TRIES applications, as the ~100 ms per-agent one is barely
            # touched by that noise (this favours neither side).
            tries = []
            for k in range(VECTORIZED_TRIES):
                ra.restore(city, state)
                t0 = time.perf_counter()
                ra.apply_vectorized(city, rule, 1000 * seed + k)
                tries.append(time.perf_counter() - t0)
            vec.append(min(tries))
            ra.restore(city, state)
            reference = ra.ReferenceCity(city, seed=seed)  # agents exist before the step
            t0 = time.perf_counter()
            getattr(reference, rule)()
            ref.append(time.perf_counter() - t0)
            total_vec[seed] += vec[-1]
            total_ref[seed] += ref[-1]
        ratio = [r / v for v, r in zip(vec, ref, strict=True)]
        print(
            f"{rule:24s} {_spread([1000 * v for v in vec], '.2f'):>20s} "
            f"{_spread([1000 * r for r in ref], '.0f'):>22s} {_spread(ratio, '.0f'):>20s}",
            flush=True,
        )
    ratio = [r / v for v, r in zip(total_vec, total_ref, strict=True)]
    print(
        f"{'all three':24s} {_spread([1000 * v for v in total_vec], '.2f'):>20s} "
        f"{_spread([1000 * r for r in total_ref], '.0f'):>22s} {_spread(ratio, '.0f'):>20s}"
    )
    ra.restore(city, state)


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, DEFAULT_SIZE, 100_000])
    parser.add_argument("--full", action="store_true", help="add 1,000,000 citizens (minutes)")
    parser.add_argument("--presets", nargs="+", default=["mature", "emerging"])
    parser.add_argument("--years", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", help="another checkout to time in the same run")
    parser.add_argument(
        "--record", help="this checkout records its metrics: step, yearly or every N steps"
    )
    parser.add_argument("--reference-size", type=int, default=10_000)
    parser.add_argument("--skip-model", action="store_true", help="only the reference table")
    parser.add_argument("--skip-reference", action="store_true", help="only the model table")
    parser.add_argument("--skip-startup", action="store_true", help="no start-up table")
    args = parser.parse_args(argv)
    if args.full and 1_000_000 not in args.sizes:
        args.sizes.append(1_000_000)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    if not args.skip_reference:
        reference_table(args)
    if not args.skip_startup:
        startup_table(args)
    if not args.skip_model:
        model_table(args)


if __name__ == "__main__":
    main()

"""The regression baseline: headline metrics of a small fixed set of runs, kept in
tests/baseline.json and checked by tests/test_baseline.py.

The set is every shipped preset under the baseline package and under each of its own
development paths (the packages whose ``home`` is the preset's city type), 3 seeds, 5 years,
small cities; for each run the headline metrics at the end of years 1, 3 and 5. The model is
deterministic (same seed, same result, bit for bit), so any difference is a change of the
model; the tolerance only absorbs floating-point noise of another numpy or BLAS build.

When a change of the model is intended, update the baseline with one command and commit it
on its own, with its reason::

    .venv/bin/python tests/update_baseline.py --reason "why the metrics moved"
    git commit -m "Baseline: why the metrics moved" tests/baseline.json

The update prints what moved beyond the tolerance, so the reason can be checked against it.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from smartcity.experiments import model

BASELINE = Path(__file__).resolve().parent / "baseline.json"
ROOT = BASELINE.parent.parent
SEEDS = (1, 2, 3)
YEARS = 5.0
RECORDED_YEARS = (1.0, 3.0, 5.0)
CITIZENS = 1500
METRICS = (
    "population",
    "unemployment_rate",
    "gdp_per_capita",
    "digital_adoption",
    "travel_time_index",
    "pollution",
    "debt_ratio",
    "demand_advancement_index",
    "industrial_transition_index",
    "governance_index",
)
RELATIVE_TOLERANCE = 1e-6
"""Largest |new - old| / max(|old|, ABSOLUTE_FLOOR) taken for floating-point noise."""
ABSOLUTE_FLOOR = 1e-9
"""Below this size a value counts as zero (a relative change of a zero is not defined)."""


def baseline_runs() -> list[tuple[str, str]]:
    """(preset, policy) of every run of the baseline: each shipped preset under the baseline
    package and its own development paths."""
    return [
        (preset, policy)
        for preset in model.preset_names()
        for policy in (model.BASELINE_POLICY, *model.own_paths(preset))
    ]


def run_key(preset: str, policy: str, seed: int) -> str:
    """The name of one run in baseline.json."""
    return f"{preset}/{policy}/seed{seed}"


def headline_metrics(preset: str, policy: str, seed: int) -> dict[str, float]:
    """``{"metric@year": value}`` of one small run (RECORDED_YEARS x METRICS)."""
    frame = model.run_city(
        preset, seed=seed, years=YEARS, overrides={"citizens.count": CITIZENS}, policy=policy
    )
    rows = frame.set_index("year")
    return {
        f"{metric}@{year:g}": float(rows.at[year, metric])
        for year in RECORDED_YEARS
        for metric in METRICS
    }


def compute_baseline(progress: bool = False) -> dict[str, dict[str, float]]:
    """Every run of the baseline, computed now: ``{run key: headline metrics}``."""
    results = {}
    runs = [(p, q, s) for p, q in baseline_runs() for s in SEEDS]
    for number, (preset, policy, seed) in enumerate(runs, 1):
        if progress:
            print(f"\r{number}/{len(runs)} {run_key(preset, policy, seed):60s}", end="")
        results[run_key(preset, policy, seed)] = headline_metrics(preset, policy, seed)
    if progress:
        print()
    return results


def moved(old: float, new: float) -> bool:
    """Whether a value moved beyond floating-point noise (NaN equals NaN)."""
    if math.isnan(old) or math.isnan(new):
        return math.isnan(old) != math.isnan(new)
    return abs(new - old) > RELATIVE_TOLERANCE * max(abs(old), ABSOLUTE_FLOOR)


def drift(
    stored: Mapping[str, Mapping[str, float]], current: Mapping[str, Mapping[str, float]]
) -> Iterator[tuple[str, str, float | None, float | None]]:
    """(metric, run, old, new) of every value that moved, appeared or disappeared."""
    for run in sorted(set(stored) | set(current)):
        old_run, new_run = stored.get(run, {}), current.get(run, {})
        for metric in sorted(set(old_run) | set(new_run)):
            old, new = old_run.get(metric), new_run.get(metric)
            if old is None or new is None or moved(old, new):
                yield metric, run, old, new


def drift_report(rows: list[tuple[str, str, float | None, float | None]], limit: int = 40) -> str:
    """What moved, one line each (the first ``limit``), and how to accept it."""

    def text(value: float | None) -> str:
        return "-" if value is None else f"{value:.6g}"

    lines = [f"{len(rows)} baseline values moved (metric@year, run, old -> new):"]
    lines += [f"  {m:36s} {r:50s} {text(o)} -> {text(n)}" for m, r, o, n in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"  ... and {len(rows) - limit} more")
    lines.append(
        'if the change is intended: .venv/bin/python tests/update_baseline.py --reason "..." '
        "and commit tests/baseline.json on its own"
    )
    return "\n".join(lines)


def settings() -> dict[str, Any]:
    """What defines the set of runs and the check (stored with the values)."""
    return {
        "seeds": list(SEEDS),
        "years": YEARS,
        "recorded_years": list(RECORDED_YEARS),
        "citizens": CITIZENS,
        "metrics": list(METRICS),
        "relative_tolerance": RELATIVE_TOLERANCE,
        "absolute_floor": ABSOLUTE_FLOOR,
    }


def read_baseline() -> dict[str, Any]:
    """The stored baseline (settings, reason, runs)."""
    return json.loads(BASELINE.read_text(encoding="utf-8"))


def _git_commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    """Recompute the baseline and write tests/baseline.json with the reason given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reason", required=True, help="why the model's metrics moved")
    args = parser.parse_args(argv)
    if not args.reason.strip():
        parser.error("--reason must say why the metrics moved")
    current = compute_baseline(progress=True)
    if BASELINE.exists():
        rows = list(drift(read_baseline()["runs"], current))
        print(drift_report(rows) if rows else "no value moved")
    document = {
        "about": "regression baseline; check: tests/test_baseline.py; update: "
        'python tests/update_baseline.py --reason "..."',
        "reason": args.reason.strip(),
        "computed_at_commit": _git_commit(),
        "settings": settings(),
        "runs": current,
    }
    staging = BASELINE.with_suffix(".json.tmp")
    staging.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    staging.replace(BASELINE)
    print(f"wrote {BASELINE.relative_to(ROOT)}: {len(current)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())

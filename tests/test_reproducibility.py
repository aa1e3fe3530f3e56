"""One seed determines a run bit for bit; different seeds give different runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smartcity.cli import main
from smartcity.experiments.runs import run_city
from smartcity.simulation.model import CityModel

YEARS = 1


def small_city(preset: str, seed) -> CityModel:
    return CityModel(preset, seed=seed, citizens__count=2000)


def frame(preset: str, seed) -> pd.DataFrame:
    model = small_city(preset, seed=seed)
    model.run(YEARS)
    return model.metrics_frame()


@pytest.mark.parametrize("preset", ["mature", "emerging"])
def test_same_int_seed_gives_bit_identical_metrics(preset):
    pd.testing.assert_frame_equal(frame(preset, 7), frame(preset, 7), check_exact=True)


def test_same_seed_sequence_gives_bit_identical_metrics():
    a = frame("mature", np.random.SeedSequence(5, spawn_key=(1, 2)))
    b = frame("mature", np.random.SeedSequence(5, spawn_key=(1, 2)))
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_different_seeds_and_spawn_keys_differ():
    base = frame("mature", np.random.SeedSequence(5, spawn_key=(1, 2)))
    other_key = frame("mature", np.random.SeedSequence(5, spawn_key=(1, 3)))
    other_int = frame("mature", 8)
    for other in (other_key, other_int):
        assert not base.equals(other)
        assert (base["population"] != other["population"]).any() or (
            base["gdp"] != other["gdp"]
        ).any()


def test_agent_state_is_identical_for_the_same_seed():
    a, b = small_city("emerging", seed=3), small_city("emerging", seed=3)
    a.run(0.5)
    b.run(0.5)
    for name in a.citizens.COLUMNS:
        np.testing.assert_array_equal(getattr(a.citizens, name), getattr(b.citizens, name))
    for name in a.firms.COLUMNS:
        np.testing.assert_array_equal(getattr(a.firms, name), getattr(b.firms, name))
    assert a.government.debt == b.government.debt


def test_run_city_equals_the_model_run():
    direct = frame("emerging", 11)
    via = run_city("emerging", seed=11, years=YEARS, overrides={"citizens.count": 2000})
    pd.testing.assert_frame_equal(direct, via, check_exact=True)


def test_cli_run_twice_writes_byte_identical_parquet(tmp_path: Path):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        argv = ["run", "--preset", "emerging", "--years", "1", "--seed", "3",
                "--set", "citizens.count=1500", "--out", str(out), "--quiet"]  # fmt: skip
        assert main(argv) == 0
        outputs.append((out / "metrics.parquet").read_bytes())
    assert outputs[0] == outputs[1]
    other = tmp_path / "c"
    argv = ["run", "--preset", "emerging", "--years", "1", "--seed", "4",
            "--set", "citizens.count=1500", "--out", str(other), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert (other / "metrics.parquet").read_bytes() != outputs[0]


def test_sweep_gives_identical_parquet_contents_with_one_or_two_workers(tmp_path: Path):
    """A 2000-citizen sweep under a policy, run in this process and in two worker
    processes: every stored run holds the same values, bit for bit."""
    from smartcity.experiments import store

    spec = tmp_path / "spec.toml"
    spec.write_text(
        'name = "workers"\npresets = ["mature", "emerging"]\nreplications = 2\n'
        "root_seed = 9\nyears = 2\nkeep_every = 6\n"
        '[policies]\nmature = ["baseline", "mature-reactivate"]\n'
        'emerging = ["baseline", "emerging-breakthrough"]\n'
        '[overrides]\n"citizens.count" = 2000\n'
    )
    stored = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["sweep", str(spec), "--out", str(out), "--workers", workers]) == 0
        stored.append(store.load_results(out))
    assert stored[0]["run_id"].nunique() == 8
    pd.testing.assert_frame_equal(stored[0], stored[1], check_exact=True)


# A city whose firms outnumber OpenBLAS's threading threshold (10,000 elements a dot
# product): a sweep worker runs BLAS on one thread, `smartcity run` on every core.
BIG_CITY = """
import hashlib
from smartcity.simulation.model import CityModel
model = CityModel("mature", seed=5, citizens__count=300_000)
assert len(model.firms) > 10_000, len(model.firms)
for _ in range(3):
    model.step()
digest = hashlib.sha256(model.metrics_frame().to_numpy(dtype=float).tobytes())
digest.update(model.firms.wage.tobytes())
print(digest.hexdigest())
"""


def test_a_big_city_is_the_same_run_on_one_or_two_blas_threads():
    """The same seed gives the same run whatever threads the machine's BLAS may use: a
    city of 300,000 citizens (13,500 firms, above OpenBLAS's threading threshold), three
    steps in processes allowed one and two BLAS threads, gives the same metrics and wages
    bit for bit."""
    digests = []
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        result = subprocess.run(
            [sys.executable, "-c", BIG_CITY], env=env, capture_output=True, text=True, check=True
        )
        digests.append(result.stdout.strip())
    assert digests[0] == digests[1]

"""Unified data middle platform versus data islands (NI 4.2; white paper 2.2 and
4.3), and new infrastructure ahead of demand (NI 4.1): policies/runtime.py,
policies/new_infrastructure.py."""

import numpy as np
import pytest

from smartcity.policies.packages import PACKAGE_DIR
from smartcity.simulation.model import CityModel

CITY = {"citizens__count": 2000}
PLATFORM_SEEDS = (1, 2, 3, 4, 5)
PLATFORM_YEARS = 5


def flip_platform(directory, package, unified):
    """Copy of shipped ``package`` with unified_platform set to ``unified``."""
    text = (PACKAGE_DIR / f"{package}.toml").read_text()
    lines = [
        f"unified_platform = {'true' if unified else 'false'}"
        if line.startswith("unified_platform")
        else line
        for line in text.splitlines()
    ]
    assert any(line.startswith("unified_platform") for line in text.splitlines())
    path = directory / f"{package}-{'unified' if unified else 'islands'}.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module", params=["mature-multicentre", "emerging-industrial-chain"])
def platform_runs(request, tmp_path_factory):
    """(preset, {True: frames, False: frames}) over PLATFORM_SEEDS."""
    package = request.param
    preset = package.split("-", 1)[0]
    directory = tmp_path_factory.mktemp("platform")
    frames = {}
    for unified in (True, False):
        path = flip_platform(directory, package, unified)
        frames[unified] = []
        for seed in PLATFORM_SEEDS:
            model = CityModel(preset, seed=seed, policy=path, **CITY)
            model.run(PLATFORM_YEARS)
            assert model.package.unified_platform is unified
            frames[unified].append(model.metrics_frame())
    return package, frames


def test_unified_platform_coordinates_better_in_every_seed(platform_runs):
    package, frames = platform_runs
    for seed, unified, islands in zip(PLATFORM_SEEDS, frames[True], frames[False], strict=True):
        u, i = unified["coordination_index"].iloc[-1], islands["coordination_index"].iloc[-1]
        assert u > i, f"{package} seed {seed}: coordination unified {u:.3f} <= islands {i:.3f}"


def test_unified_platform_raises_governance_on_average(platform_runs):
    package, frames = platform_runs
    diffs = np.array(
        [
            u["governance_index"].tail(12).mean() - i["governance_index"].tail(12).mean()
            for u, i in zip(frames[True], frames[False], strict=True)
        ]
    )
    assert diffs.mean() > 0, f"{package}: governance_index unified - islands per seed {diffs}"


def test_data_islands_integrate_no_data(platform_runs):
    """With data islands no initiative data is shared: the data integration stays 0."""
    _, frames = platform_runs
    for frame in frames[False]:
        assert (frame["coordination_index"] == 0).all()


# --- 6. new infrastructure ahead of demand -------------------------------------------------


def _infra_package(directory, kind, amount):
    path = directory / f"infra_{kind}_{amount:g}.toml"
    path.write_text(
        'title = "t"\nsource = "-"\ndescription = "t"\nunified_platform = false\n'
        f'[new_infrastructure]\n"{kind}" = {amount}\n'
    )
    return str(path)


@pytest.mark.parametrize("kind", ["5g", "data_centres"])
def test_investment_far_ahead_of_demand_is_underused(kind, tmp_path):
    """Emerging city: 1.0 k per resident-year of 5G (or data centres) leaves most capacity
    idle; 0.02 is used more fully."""
    for seed in (1, 2):
        utilization = {}
        for amount in (0.02, 1.0):
            model = CityModel(
                "emerging", seed=seed, policy=_infra_package(tmp_path, kind, amount), **CITY
            )
            model.run(3)
            frame = model.metrics_frame()
            utilization[amount] = frame["new_infrastructure_utilization"].tail(12).mean()
            assert frame["initiative_public_cost"].iloc[1:].gt(0).all()
        assert utilization[1.0] < utilization[0.02], (kind, seed, utilization)
        assert utilization[1.0] < 0.5, (kind, seed, utilization)

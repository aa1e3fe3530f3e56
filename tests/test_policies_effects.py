"""Each digital initiative moves its target metric the documented way, passes through its
stages, underperforms when its prerequisites are out of reach; a user's TOML-only
initiative works end to end (policies/initiatives.py).

Paired comparisons: the same seeds with and without the initiative; the effect is the mean
over the last year of the run, averaged over seeds.
"""

import functools
from pathlib import Path

import numpy as np
import pytest

from smartcity.policies.initiatives import initiative_names, load_initiative
from smartcity.simulation.model import CityModel
from smartcity.simulation.world.vocabulary import STAGES

SEEDS = (1, 2, 3)
YEARS = 6  # 1 year to performance + 2 to effectiveness, then time to act
CITY = {"citizens__count": 3000}
# Preset where the initiative makes most sense (default mature): initiatives with a [fit]
# run in a city that has the conditions they act on (policies.conditions).
FIT_CITIES = Path(__file__).parent / "presets"
PRESET: dict[str, str] = {
    "digital_transformation_support": str(FIT_CITIES / "catch_up_city.toml"),
    "industrial_chain_platform": str(FIT_CITIES / "catch_up_city.toml"),
    "smart_traffic": str(FIT_CITIES / "congested_city.toml"),
    "smart_highland": str(FIT_CITIES / "congested_city.toml"),
}
# Initiatives whose effect is small next to the noise of a 3000-citizen city at scale 1
# (mean paired difference over seeds 1-3 below one standard error at scale 1):
# run them at scale 2.
SCALE = {
    "digital_transformation_support": 2.0,
    "industry_platform_upgrade": 2.0,
    "platform_economy": 2.0,
    # Staged roll-out: it reaches the performance stage later than after a flat year.
    "smart_highland": 2.0,
    # At scale 1 (capacity +23% after saturation) induced car demand refills the roads of
    # the congested test city within six years (car share +2 points, congestion back at or
    # above the baseline's): a result, docs/path_fit.md. At scale 2 the index falls.
    "smart_traffic": 2.0,
}


def package_text(initiatives, unified=False):
    """A package TOML with ``initiatives``: name or path -> plan dict."""
    lines = ['title = "test"', 'source = "-"', 'description = "test"']
    lines.append(f"unified_platform = {'true' if unified else 'false'}")
    for name, plan in initiatives.items():
        lines.append(f'[initiatives."{name}"]')
        for key, value in plan.items():
            lines.append(
                f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"'
            )
    return "\n".join(lines) + "\n"


def write_single(directory, name, financing="government", scale=1.0, start_year=0):
    """A package with only initiative ``name``; returns its path."""
    stem = str(name).rsplit("/", 1)[-1].removesuffix(".toml")
    path = directory / f"only_{stem}_{financing}_{scale:g}.toml"
    plan = {"financing": financing, "start_year": start_year, "scale": scale}
    path.write_text(package_text({str(name): plan}))
    return str(path)


def run(preset, seed, policy=None, years=YEARS, **overrides):
    model = CityModel(preset, seed=seed, policy=policy, **{**CITY, **overrides})
    model.run(years)
    return model


@functools.cache
def baseline_frame(preset, seed):
    return run(preset, seed).metrics_frame()


def last_year(frame, column, steps_per_year=12):
    return float(frame[column].tail(steps_per_year).mean())


def paired_effect(frames, preset, column):
    """Per-seed differences (policy - baseline) of the last-year mean of ``column``."""
    return np.array(
        [
            last_year(frame, column) - last_year(baseline_frame(preset, seed), column)
            for seed, frame in zip(SEEDS, frames, strict=True)
        ]
    )


def assert_moves(diffs, direction, what):
    sign = 1.0 if direction == "up" else -1.0
    mean = float(diffs.mean())
    se = float(diffs.std(ddof=1) / np.sqrt(len(diffs)))
    assert sign * mean > 0, f"{what}: moved the wrong way; paired diffs {diffs}, mean {mean:.4g}"
    assert sign * mean > se, (
        f"{what}: effect within noise; paired diffs {diffs}, mean {mean:.4g}, se {se:.4g}"
    )


@pytest.fixture(scope="module")
def package_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("packages")


@pytest.fixture(scope="module")
def single_runs(package_dir):
    """name -> list of (model, frame), one per seed, of the single-initiative package."""
    cache = {}

    def get(name):
        if name not in cache:
            path = write_single(package_dir, name, scale=SCALE.get(name, 1.0))
            preset = PRESET.get(name, "mature")
            models = [run(preset, seed, path) for seed in SEEDS]
            cache[name] = [(m, m.metrics_frame()) for m in models]
        return cache[name]

    return get


# --- 1. every initiative moves its target metric the documented way -------------------


@pytest.mark.parametrize("name", initiative_names())
def test_initiative_moves_its_target_metric(name, single_runs):
    spec = load_initiative(name)
    preset = PRESET.get(name, "mature")
    frames = [frame for _, frame in single_runs(name)]
    diffs = paired_effect(frames, preset, spec.target_metric)
    assert_moves(diffs, spec.direction, f"{name} on {spec.target_metric} ({preset})")


@pytest.mark.parametrize("name", initiative_names())
def test_initiative_is_booked_and_reaches_performance(name, single_runs):
    """Over 6 years in a mature city every initiative gets to performance or better, costs
    public money under government financing, and its stage never goes backwards; its
    prerequisites are met to within 10% (the upkeep of the mature city's legacy systems
    slows its capability building, so a few are just short of full)."""
    for model, frame in single_runs(name):
        stages = frame[f"stage_{name}"].to_numpy()
        assert stages[-1] >= 2, f"{name}: stuck at {STAGES[int(stages[-1])]}"
        assert (np.diff(stages) >= 0).all(), f"{name}: demoted in a well-funded city"
        assert frame["initiative_public_cost"].iloc[1:].gt(0).all()
        assert model.policy_runtime.initiatives[0].readiness > 0.9


# --- 5. stages ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["privacy_protection", "safety_early_warning", "smart_traffic"])
def test_stages_function_performance_effectiveness(name, single_runs):
    """Prerequisites met, well funded: the stage column is non-decreasing, starts at
    function, reaches performance no sooner than 12 months and effectiveness no sooner than
    24 months after that."""
    for _, frame in single_runs(name):
        stages = frame[f"stage_{name}"].to_numpy()[1:]  # step 1 onward
        assert stages[0] == 1
        assert (np.diff(stages) >= 0).all()
        assert stages[-1] == 3
        performance_month = int(np.argmax(stages >= 2)) + 1
        effectiveness_month = int(np.argmax(stages >= 3)) + 1
        assert performance_month >= 12
        assert effectiveness_month - performance_month >= 24


def test_baseline_has_no_stages_and_no_initiative_cost():
    frame = baseline_frame("mature", SEEDS[0])
    stages = frame[[f"stage_{name}" for name in initiative_names()]]
    assert (stages == 0).all().all()
    assert (frame["initiative_public_cost"] == 0).all()
    assert (frame["private_capital_mobilized"] == 0).all()


def _initiative_copy(directory, name, prerequisites):
    """A user initiative TOML: shipped initiative ``name`` with other prerequisites."""
    from smartcity.policies.initiatives import INITIATIVE_DIR

    text = (INITIATIVE_DIR / f"{name}.toml").read_text()
    head, _, rest = text.partition("[prerequisites]")
    tail = rest[rest.index("\n[") :]  # the tables after [prerequisites]
    path = directory / f"{name}_{'_'.join(prerequisites)}.toml"
    body = "".join(f"{cap} = {level}\n" for cap, level in prerequisites.items())
    path.write_text(f"{head}[prerequisites]\n{body}{tail}")
    return path


def test_out_of_reach_prerequisite_underperforms(package_dir):
    """privacy_protection needing platform 0.95 in an emerging city (platform starts at
    0.1) has readiness < 1 and a weaker strength and effect than the same initiative
    needing only digital_governance 0.2: it underperforms rather than working by fiat."""
    easy = _initiative_copy(package_dir, "privacy_protection", {"digital_governance": 0.2})
    hard = _initiative_copy(
        package_dir, "privacy_protection", {"digital_governance": 0.2, "platform": 0.95}
    )
    years = 4
    effects = {"easy": [], "hard": []}
    for seed in SEEDS:
        base = last_year(run("emerging", seed, years=years).metrics_frame(), "privacy_trust")
        models = {}
        for label, init in (("easy", easy), ("hard", hard)):
            model = run("emerging", seed, write_single(package_dir, init), years=years)
            models[label] = model
            effects[label].append(last_year(model.metrics_frame(), "privacy_trust") - base)
        easy_i, hard_i = (models[k].policy_runtime.initiatives[0] for k in ("easy", "hard"))
        assert easy_i.readiness == pytest.approx(1.0)
        assert hard_i.readiness < 0.9
        assert hard_i.strength < easy_i.strength
        assert hard_i.stage <= easy_i.stage
    easy_effect, hard_effect = np.array(effects["easy"]), np.array(effects["hard"])
    assert easy_effect.mean() > 0
    assert hard_effect.mean() < easy_effect.mean(), (easy_effect, hard_effect)


# --- 9. a user's initiative written only in TOML ------------------------------------------


def test_user_initiative_in_toml_works_end_to_end(package_dir):
    """An initiative file outside the project, referenced by path from a package in the
    same temporary folder, runs, moves through its stages and cuts safety incidents."""
    init = package_dir / "neighbourhood_watch.toml"
    init.write_text(
        """name = "neighbourhood_watch"
title = "Neighbourhood watch app"
key_issue = "public_safety"
source = "-"
description = "residents report hazards through an app; patrols go where reports are"
target_metric = "safety_incidents"
direction = "down"
capital_cost = 0.01
operating_cost = 0.01
build_years = 0.5
adoption = "operability"

[prerequisites]
organization = 0.2

[effects]
incident_cut = 0.4
"""
    )
    path = write_single(package_dir, init)
    frames = []
    for seed in SEEDS:
        model = run("mature", seed, path)
        running = model.policy_runtime.initiatives[0]
        assert running.name == "neighbourhood_watch"
        assert running.stage == 3
        assert running.strength > 0.5
        frames.append(model.metrics_frame())
        assert frames[-1]["initiative_public_cost"].iloc[1:].gt(0).all()
    diffs = paired_effect(frames, "mature", "safety_incidents")
    assert_moves(diffs, "down", "user initiative neighbourhood_watch on safety_incidents")

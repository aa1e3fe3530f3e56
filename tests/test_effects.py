"""Direction of effects a user would notice, each pair of runs on the same seed."""

from __future__ import annotations

from smartcity.simulation.world.vocabulary import CAPABILITY_NAMES

SEED = 3
CAPABILITY_METRICS = [f"capability_{name}" for name in CAPABILITY_NAMES]


def final(make_city, years: float, **overrides):
    model = make_city("mature", seed=SEED, **overrides)
    model.run(years)
    return model.metrics_frame().iloc[-1]


def test_capability_budget_raises_capabilities(make_city):
    low = final(make_city, 3, government__capability_budget_share=0.02)
    high = final(make_city, 3, government__capability_budget_share=0.2)
    assert high[CAPABILITY_METRICS].mean() > low[CAPABILITY_METRICS].mean() + 0.05
    # every capability with a positive budget share gains
    for name in CAPABILITY_METRICS:
        assert high[name] > low[name], name


def test_digital_literacy_raises_adoption(make_city):
    low = final(make_city, 3, citizens__digital_literacy_mean=0.35)
    high = final(make_city, 3, citizens__digital_literacy_mean=0.8)
    assert high["digital_adoption"] > low["digital_adoption"] + 0.03


def test_lower_road_capacity_raises_congestion(make_city):
    wide = final(make_city, 1, city__road_capacity=60.0)
    narrow = final(make_city, 1, city__road_capacity=12.0)
    assert narrow["congestion_index"] > wide["congestion_index"] + 0.1
    assert wide["congestion_index"] >= 1.0


def test_in_migration_raises_population(make_city):
    closed = final(make_city, 3, citizens__in_migration_rate=0.0)
    open_ = final(make_city, 3, citizens__in_migration_rate=0.1)
    assert open_["population"] > closed["population"] * 1.05


def test_immigrants_are_zero_without_in_migration(make_city):
    model = make_city("emerging", seed=SEED, citizens__in_migration_rate=0.0)
    model.run(1)
    assert model.metrics_frame()["immigrants"].sum() == 0

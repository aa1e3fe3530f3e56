"""The two presets reproduce the white paper's typical cities (5.1): the mature city starts
high and grows slowly, the emerging city starts low and grows fast; and every number of the
six case presets can be traced: a public statistic naming its publisher and year, or a
modelling choice with its reason."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from smartcity.simulation.model import CityModel
from smartcity.simulation.world.presets import PRESET_DIR
from smartcity.simulation.world.vocabulary import SECTOR_NAMES

ROOT = Path(__file__).resolve().parents[1]
CASE_PRESETS = ("london", "paris", "tokyo", "hamburg", "tel-aviv", "shenzhen")
# The publishers a case preset's source comment may name (add one here, with the name it
# is cited by, when a preset cites a new one); "Huawei" stands for the white paper.
PUBLISHERS = (
    "ONS", "GLA Economics", "DCMS", "INSEE", "Institut Paris Region", "STIF",
    "Ministry of Higher Education and Research", "TomTom", "Tokyo Metropolitan Government",
    "Statistics Bureau of Japan", "Ministry of Health, Labour and Welfare",
    "Geospatial Information Authority of Japan",
    "National Institute of Population and Social Security Research", "Statistikamt Nord",
    "Hamburg Port Authority", "Port of Hamburg Marketing", "Israel Central Bureau of Statistics",
    "Israel Innovation Authority", "Shenzhen Statistics Bureau", "OECD", "World Bank",
    "Eurostat", "Times Higher Education", "Huawei",
)  # fmt: skip
YEAR = re.compile(r"\b(19|20)\d\d\b")
MODELLING_CHOICE = "modelling choice:"
CALIBRATED = re.compile(r"smartcity calibrate (docs/calibration/[\w-]+\.toml)")

SEEDS = (1, 2, 3)
YEARS = 10  # 20 years at 5000 citizens takes ~33 s for the 6 runs; 10 years halves that
COUNT = 5000


def summarise(preset: str) -> dict[str, float]:
    rows = []
    for seed in SEEDS:
        model = CityModel(preset, seed=seed, citizens__count=COUNT)
        d = model.districts
        start = dict(ict=d.ict.mean(), transport=d.transport.mean())
        model.run(YEARS)
        frame = model.metrics_frame()
        first, last = frame.iloc[0], frame.iloc[-1]
        rows.append(
            dict(
                **start,
                gdp_per_capita=first["gdp_per_capita"],
                elderly_share=first["elderly_share"],
                gdp_growth=last["gdp"] / first["gdp"],
                gdp_per_capita_growth=last["gdp_per_capita"] / first["gdp_per_capita"],
                population_growth=last["population"] / first["population"],
            )
        )
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


@pytest.fixture(scope="module")
def presets() -> dict[str, dict[str, float]]:
    return {name: summarise(name) for name in ("mature", "emerging")}


def test_mature_city_starts_richer(presets):
    assert presets["mature"]["gdp_per_capita"] > 1.5 * presets["emerging"]["gdp_per_capita"]


@pytest.mark.parametrize("stock", ["ict", "transport"])
def test_mature_city_starts_with_better_infrastructure(presets, stock):
    assert presets["mature"][stock] > presets["emerging"][stock]


def test_mature_city_is_older(presets):
    assert presets["mature"]["elderly_share"] > 2 * presets["emerging"]["elderly_share"]


def test_emerging_city_gdp_grows_faster(presets):
    assert presets["emerging"]["gdp_growth"] > presets["mature"]["gdp_growth"]


def test_emerging_city_gdp_per_capita_grows_faster(presets):
    assert presets["emerging"]["gdp_per_capita_growth"] > presets["mature"]["gdp_per_capita_growth"]


def test_emerging_city_grows_in_population(presets):
    assert presets["emerging"]["population_growth"] > presets["mature"]["population_growth"]
    assert presets["emerging"]["population_growth"] > 1.0


def test_preset_sizes_are_the_white_paper_shapes():
    mature = CityModel("mature", seed=1, citizens__count=500)
    emerging = CityModel("emerging", seed=1, citizens__count=500)
    assert mature.params.city.name == "Mature city"
    assert emerging.params.city.name == "Emerging city"
    # the emerging city has more new towns and industrial zones relative to its old districts
    for model in (mature, emerging):
        assert model.districts.is_kind("core").sum() == 1
    assert emerging.districts.is_kind("new_town").sum() > mature.districts.is_kind("new_town").sum()


def key_comments(text: str) -> dict[str, str]:
    """The comment each numeric ``key = value`` line of a preset carries: its inline comment
    and the comment lines directly above it (a blank line or another key ends a comment)."""
    comments: dict[str, str] = {}
    section, above = "", []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section, above = stripped.strip("[]") + ".", []
        elif stripped.startswith("#"):
            above.append(stripped.lstrip("#").strip())
        elif not stripped:
            above = []
        else:
            key, rest = (part.strip() for part in stripped.split("=", 1))
            value, _, inline = rest.partition("#")
            if isinstance(tomllib.loads(f"x = {value}")["x"], int | float):
                comments[section + key] = " ".join([*above, inline.strip()]).strip()
            above = []
    return comments


def untraced(text: str) -> list[str]:
    """What is wrong with the comments of a preset's numbers: a number without a comment, a
    modelling choice without its reason, a source that names no publisher or no year, a
    calibration spec that does not exist."""
    problems = []
    for key, comment in key_comments(text).items():
        if MODELLING_CHOICE in comment:
            if len(comment.split(MODELLING_CHOICE, 1)[1].split()) < 5:
                problems.append(f"{key}: a modelling choice without its reason")
            continue
        if not comment:
            problems.append(f"{key}: no source and no modelling-choice comment")
            continue
        if not any(publisher in comment for publisher in PUBLISHERS):
            problems.append(f"{key}: the source names no known publisher: {comment!r}")
        if not YEAR.search(comment):
            problems.append(f"{key}: the source names no year: {comment!r}")
        spec = CALIBRATED.search(comment)
        if spec and not (ROOT / spec.group(1)).is_file():
            problems.append(f"{key}: {spec.group(1)} does not exist")
    return problems


@pytest.mark.parametrize("preset", CASE_PRESETS)
def test_every_case_preset_number_is_a_sourced_statistic_or_a_modelling_choice(preset):
    """Each numeric key of a case preset carries its own comment: a source naming a publisher
    and a year, or `modelling choice:` with the reason; the line parser sees every number
    tomllib reads."""
    text = (PRESET_DIR / f"{preset}.toml").read_text()
    data = tomllib.loads(text)
    numeric = {
        f"{section}.{key}"
        for section, table in data.items()
        if isinstance(table, dict)
        for key, value in table.items()
        if isinstance(value, int | float)
    }
    assert set(key_comments(text)) == numeric
    assert untraced(text) == []


def test_the_source_check_finds_an_untraced_number():
    """The check itself fails on a bare number, a source without a year or a publisher, a
    reasonless choice and a missing calibration spec, and passes a traced one."""
    text = """[citizens]
elderly_share = 0.2
# ONS, population estimates: about 12%.
child_share = 0.2

# Somebody's estimate, 2019.
skill_mean = 0.5
adult_age_tilt = 0.1  # modelling choice: young.
# Calibrated by `smartcity calibrate docs/calibration/nowhere.toml` (ONS 2019).
birth_rate = 0.03
# INSEE, census 2018: 14.8%.
pension = 1.0
"""
    problems = untraced(text)
    assert [p.split(":")[0] for p in problems] == [
        "citizens.elderly_share",
        "citizens.child_share",
        "citizens.skill_mean",
        "citizens.adult_age_tilt",
        "citizens.birth_rate",
    ]


@pytest.mark.parametrize("preset", CASE_PRESETS)
def test_case_preset_firm_shares_sum_to_one_and_follow_the_sector_table(preset):
    """The comments say the seven shares sum to 1 and follow docs/sectors.md: they do, and
    the table names every model sector."""
    text = (PRESET_DIR / f"{preset}.toml").read_text()
    firms = tomllib.loads(text)["firms"]
    assert sum(firms[f"share_{s}"] for s in SECTOR_NAMES) == pytest.approx(1.0, abs=1e-9)
    assert "docs/sectors.md" in text
    table = (ROOT / "docs" / "sectors.md").read_text()
    assert all(f"| {sector} |" in table for sector in SECTOR_NAMES)

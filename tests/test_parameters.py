"""Parameters: overrides, validation messages, TOML presets and the generated reference."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from smartcity.simulation.model import CityModel
from smartcity.simulation.model.resolve import resolve_parameters
from smartcity.simulation.world.errors import InputError, ParameterError
from smartcity.simulation.world.parameters import (
    Parameters,
    apply_overrides,
    iter_specs,
    parameters_markdown,
)
from smartcity.simulation.world.vocabulary import SECTOR_NAMES

SPECS = {key: spec for key, _, spec in iter_specs()}


def test_keyword_override_reaches_the_model_and_its_population():
    model = CityModel("mature", seed=1, citizens__count=600, citizens__trust_mean=0.7)
    assert model.params.citizens.count == 600
    assert model.params.citizens.trust_mean == 0.7
    assert len(model.citizens) == 600
    # other values still come from the preset
    assert model.params.citizens.elderly_share == 0.22


def test_dotted_and_keyword_overrides_are_equivalent():
    dotted = resolve_parameters("emerging", {"citizens.count": 1234, "firms.productivity": 4})
    keyword = resolve_parameters("emerging", {"citizens__count": 1234, "firms__productivity": 4})
    assert dotted == keyword
    assert dotted.citizens.count == 1234
    assert dotted.firms.productivity == 4.0
    assert isinstance(dotted.firms.productivity, float)


def test_text_values_are_typed_like_the_command_line():
    params = resolve_parameters("mature", {"citizens.count": "3000", "city.radius_km": "12.5"})
    assert params.citizens.count == 3000
    assert params.city.radius_km == 12.5


def test_overrides_do_not_mutate_the_input():
    base = Parameters()
    apply_overrides(base, {"citizens.count": 999})
    assert base.citizens.count == Parameters().citizens.count


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("citizens.cout", "citizens.count"),
        ("citizens__digital_literacy_meen", "citizens.digital_literacy_mean"),
        ("government.capability_budget", "government.capability_budget_share"),
        ("road_capacity", "city.road_capacity"),
    ],
)
def test_unknown_key_suggests_the_right_one(key, suggestion):
    with pytest.raises(ParameterError) as info:
        resolve_parameters("mature", {key: 1})
    message = str(info.value)
    assert "unknown parameter" in message
    assert f"did you mean '{suggestion}'" in message
    assert "\n" not in message


def test_unknown_keyword_to_the_model_is_refused():
    with pytest.raises(ParameterError, match=re.escape("did you mean 'citizens.count'")):
        CityModel("mature", seed=1, citizens__cont=500)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("citizens.count", 10),
        ("citizens.digital_literacy_mean", 1.5),
        ("government.capability_budget_share", -0.1),
        ("city.road_capacity", 0.5),
        ("simulation.steps_per_year", 53),
    ],
)
def test_out_of_range_names_parameter_value_and_range(key, value):
    with pytest.raises(ParameterError) as info:
        resolve_parameters("mature", {key: value})
    message = str(info.value)
    assert key in message
    assert repr(value) in message or str(value) in message
    assert SPECS[key].allowed() in message
    assert "out of range" in message


def test_range_bounds_are_inclusive():
    spec = SPECS["citizens.digital_literacy_mean"]
    low = resolve_parameters("mature", {"citizens.digital_literacy_mean": spec.lo})
    high = resolve_parameters("mature", {"citizens.digital_literacy_mean": spec.hi})
    assert low.citizens.digital_literacy_mean == spec.lo
    assert high.citizens.digital_literacy_mean == spec.hi


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("citizens.trust_mean", "abc"),
        ("citizens.count", True),
        ("citizens.count", 2000.5),
        ("citizens.count", "1e3"),
        ("citizens.trust_mean", False),
        ("citizens.trust_mean", [0.5]),
        ("city.name", 3),
        ("citizens.trust_mean", math.nan),
        ("citizens.trust_mean", "inf"),
    ],
)
def test_wrong_type_is_refused(key, value):
    with pytest.raises(ParameterError) as info:
        resolve_parameters("mature", {key: value})
    assert key in str(info.value)


def test_parameter_error_is_an_input_error():
    with pytest.raises(InputError):
        resolve_parameters("mature", {"nope.nothing": 1})


def test_all_zero_shares_are_refused():
    zeros = {f"firms.share_{s}": 0.0 for s in SECTOR_NAMES}
    with pytest.raises(ParameterError, match=re.escape("firms.share_")):
        resolve_parameters("mature", zeros)


def test_unknown_preset_name_is_refused():
    with pytest.raises(ParameterError, match="unknown preset 'matur'"):
        resolve_parameters("matur")


def test_unknown_toml_section_is_refused(tmp_path: Path):
    path = tmp_path / "city.toml"
    path.write_text('extends = "mature"\n\n[citizen]\ncount = 3000\n')
    with pytest.raises(ParameterError) as info:
        resolve_parameters(path)
    message = str(info.value)
    assert "[citizen]" in message
    assert "did you mean '[citizens]'" in message


def test_unknown_key_in_toml_is_refused(tmp_path: Path):
    path = tmp_path / "city.toml"
    path.write_text("[citizens]\ncuont = 3000\n")
    with pytest.raises(ParameterError, match=re.escape("citizens.count")):
        resolve_parameters(path)


def test_invalid_toml_syntax_is_one_line(tmp_path: Path):
    path = tmp_path / "broken.toml"
    path.write_text("[citizens\ncount = 3\n")
    with pytest.raises(ParameterError) as info:
        resolve_parameters(path)
    assert "invalid TOML" in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_preset_file_is_refused(tmp_path: Path):
    with pytest.raises(ParameterError, match="file not found"):
        resolve_parameters(tmp_path / "nowhere.toml")


def test_user_preset_extends_a_shipped_one(tmp_path: Path):
    path = tmp_path / "my_city.toml"
    path.write_text(
        'extends = "mature"\n\n[city]\nname = "My city"\n\n'
        "[citizens]\ncount = 1500\ndigital_literacy_mean = 0.8\n"
    )
    mine = resolve_parameters(path)
    mature = resolve_parameters("mature")
    assert mine.city.name == "My city"
    assert mine.citizens.count == 1500
    assert mine.citizens.digital_literacy_mean == 0.8
    # everything not overridden comes from the mature preset, not from the defaults
    assert mine.citizens.elderly_share == mature.citizens.elderly_share == 0.22
    assert mine.city.n_old == mature.city.n_old == 6
    assert mine.government.initial_debt_ratio == mature.government.initial_debt_ratio
    model = CityModel(path, seed=1)
    assert len(model.citizens) == 1500
    model.run(2 / 12)


def test_user_preset_may_extend_another_user_preset(tmp_path: Path):
    (tmp_path / "base.toml").write_text('extends = "emerging"\n[citizens]\ncount = 1700\n')
    (tmp_path / "child.toml").write_text('extends = "base.toml"\n[citizens]\ntrust_mean = 0.9\n')
    params = resolve_parameters(tmp_path / "child.toml")
    assert params.citizens.count == 1700
    assert params.citizens.trust_mean == 0.9
    assert params.city.n_new_town == 4  # from emerging


def test_overrides_win_over_the_preset(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text('extends = "mature"\n[citizens]\ncount = 1500\n')
    assert resolve_parameters(path, {"citizens.count": 900}).citizens.count == 900


def test_markdown_reference_mentions_every_parameter():
    text = parameters_markdown()
    for key, f, spec in iter_specs():
        line = next((ln for ln in text.splitlines() if f"`{key}`" in ln), None)
        assert line is not None, key
        assert spec.allowed() in line
        assert spec.doc in line
        assert repr(f.default) in line


def test_every_default_is_valid_and_every_spec_has_unit_and_doc():
    for key, f, spec in iter_specs():
        assert spec.unit and spec.doc, key
        if spec.lo is not None:
            assert f.default >= spec.lo, key
        if spec.hi is not None:
            assert f.default <= spec.hi, key
    # the defaults themselves resolve without error
    apply_overrides(Parameters(), {})


def test_shipped_presets_resolve_to_valid_parameters():
    for preset in ("mature", "emerging"):
        params = resolve_parameters(preset)
        flat = params.as_flat_dict()
        for key, _, spec in iter_specs():
            value = flat[key]
            if spec.lo is not None:
                assert value >= spec.lo, (preset, key)
            if spec.hi is not None:
                assert value <= spec.hi, (preset, key)


def test_section_schema_handles_optional_and_choice_parameters():
    """Optional (X | None) and choice (Literal) parameters validate like the others."""
    import dataclasses

    from pydantic import ValidationError

    from smartcity.simulation.world.parameters import param, section_schema

    @dataclasses.dataclass
    class Extra:
        mode: str = param("bus", "-", "a choice", choices=("bus", "rail"))
        cap: float | None = param(None, "km", "an optional bound", 0, 10)
        n: int | None = param(3, "-", "an optional count", 1, 5)

    schema = section_schema("extra", Extra)
    ok = schema.model_validate({"mode": "rail", "cap": 2.5, "n": None})
    assert (ok.mode, ok.cap, ok.n) == ("rail", 2.5, None)
    for bad in ({"mode": "tram"}, {"cap": 11.0}, {"cap": math.inf}, {"n": 2.5}, {"n": True}):
        with pytest.raises(ValidationError):
            schema.model_validate(bad)

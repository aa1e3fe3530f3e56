"""The schema layer: JSON Schemas for editors are current, and every shipped TOML file
validates against the schema of its format (the same schema the loaders use)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import jsonschema
import pytest

from smartcity.cli import SCHEMA_DIR, file_schemas, main
from smartcity.policies.initiatives import INITIATIVE_DIR
from smartcity.policies.packages import PACKAGE_DIR
from smartcity.simulation.world.presets import PRESET_DIR
from smartcity.simulation.world.schema import schema_text

ROOT = Path(__file__).resolve().parent.parent


def _doc_specs(calibration: bool = False) -> list[str]:
    """The complete experiment specs (blocks with a root_seed) shown in docs/experiments.md;
    with ``calibration``, the calibration specs (blocks with [[targets]]) instead."""
    text = (ROOT / "docs" / "experiments.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "root_seed" in b]
    blocks = [b for b in blocks if "[outcomes]" not in b]  # explorations: test_explore.py
    return [b for b in blocks if ("[[targets]]" in b) == calibration]


SHIPPED = [
    *[("preset", p) for p in sorted(PRESET_DIR.glob("*.toml"))],
    *[("initiative", p) for p in sorted(INITIATIVE_DIR.glob("*.toml"))],
    *[("package", p) for p in sorted(PACKAGE_DIR.glob("*.toml"))],
    ("package", ROOT / "docs" / "tutorials" / "03_my_package.toml"),
]


def test_docs_schemas_are_current():
    """docs/schemas/ is what `smartcity schemas` writes (regenerate with that command)."""
    for name, document in file_schemas().items():
        path = ROOT / SCHEMA_DIR / name
        assert path.read_text(encoding="utf-8") == schema_text(document), (
            f"{path} is stale: run `smartcity schemas`"
        )
    assert sorted(p.name for p in (ROOT / SCHEMA_DIR).glob("*.json")) == sorted(file_schemas())


@pytest.mark.parametrize(("kind", "path"), SHIPPED, ids=lambda v: getattr(v, "name", v))
def test_every_shipped_toml_validates_against_its_json_schema(kind, path):
    schema = file_schemas()[f"{kind}.schema.json"]
    jsonschema.Draft202012Validator.check_schema(schema)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


def test_documented_specs_validate_against_the_spec_schema():
    specs = _doc_specs()
    assert specs, "docs/experiments.md shows at least one complete spec"
    for body in specs:
        jsonschema.validate(tomllib.loads(body), file_schemas()["spec.schema.json"])


def test_documented_calibration_spec_validates_against_its_schema():
    specs = _doc_specs(calibration=True)
    assert specs, "docs/experiments.md shows a calibration spec"
    for body in specs:
        jsonschema.validate(tomllib.loads(body), file_schemas()["calibration.schema.json"])


@pytest.mark.parametrize(
    ("kind", "bad"),
    [
        ("preset", {"citizens": {"count": "many"}}),
        ("preset", {"citizen": {"count": 5}}),
        ("initiative", {"name": "x"}),
        ("package", {"initiatives": {"privacy_protection": {"financing": ["ppp"]}}}),
        ("package", {"capabilities": 5}),
        ("package", {"sectors": {"mining": 1.0}}),
        ("spec", {"presets": ["mature"], "root_seed": 1, "years": "2"}),
        ("calibration", {"preset": "mature", "years": 2, "parameters": {}, "targets": []}),
    ],
)
def test_json_schema_refuses_what_the_loader_refuses(kind, bad):
    """An editor flags the same mistakes the model refuses (a wrong type, an unknown key)."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, file_schemas()[f"{kind}.schema.json"])


def test_schemas_command_writes_the_files(tmp_path, capsys):
    assert main(["schemas", "--out", str(tmp_path / "s")]) == 0
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted(file_schemas())

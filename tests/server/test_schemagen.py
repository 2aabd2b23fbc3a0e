"""The attrs-to-JSON-Schema generator behind the OpenAPI document."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import attrs
import jsonschema
import pytest

from scaicontrol_core.money import Money
from scaicontrol_server.envelopes import to_json
from scaicontrol_server.fields import field
from scaicontrol_server.schemagen import SchemaRegistry, display_name


class Level(enum.IntEnum):
    """How loud."""

    LOW = 1
    HIGH = 2


@attrs.frozen(kw_only=True)
class Child:
    name: str = field(min_length=1, max_length=5, pattern=r"^[a-z]+$")


@attrs.frozen(kw_only=True)
class Everything:
    """Every supported kind of field."""

    text: str
    number: int = field(default=3, ge=0, lt=10, description="A small number.")
    ratio: float = 0.5
    flag: bool = False
    amount: Decimal = Decimal("1.50")
    at: datetime | None = None
    level: Level = Level.LOW
    mode: Literal["a", "b"] = "a"
    children: list[Child] = attrs.field(factory=list)
    pair: tuple[int, str] | None = None
    many: tuple[int, ...] = ()
    labels: frozenset[str] = frozenset()
    scores: dict[str, float] = attrs.field(factory=dict)
    extra: Mapping[str, Any] | None = None
    anything: Any = None
    seq: Sequence[Child] = ()
    price: Money | None = None


@pytest.fixture
def generated() -> tuple[dict[str, Any], dict[str, Any]]:
    """The component of Everything and all components it pulled in."""
    registry = SchemaRegistry()
    ref = registry.schema(Everything)
    assert ref == {"$ref": "#/components/schemas/Everything"}
    return registry.components["Everything"], registry.components


def test_scalars_and_formats(generated: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Strings, integers, numbers, booleans, decimals and datetimes get their JSON types."""
    props = generated[0]["properties"]
    assert props["text"] == {"type": "string"}
    assert props["ratio"] == {"type": "number", "default": 0.5}
    assert props["flag"] == {"type": "boolean", "default": False}
    assert props["amount"] == {"type": "string", "format": "decimal", "default": "1.50"}
    assert props["at"] == {"anyOf": [{"type": "string", "format": "date-time"},
                                     {"type": "null"}], "default": None}


def test_constraints_and_descriptions(generated: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """field() bounds, lengths and patterns become JSON Schema keywords."""
    everything, components = generated
    assert everything["properties"]["number"] == {
        "type": "integer",
        "minimum": 0,
        "exclusiveMaximum": 10,
        "description": "A small number.",
        "default": 3,
    }
    assert components["Child"]["properties"]["name"] == {
        "type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$"
    }
    assert everything["description"] == "Every supported kind of field."


def test_enums_literals_and_containers(generated: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Enums are components; literals, lists, tuples, sets and dicts are inline."""
    everything, components = generated
    props = everything["properties"]
    assert props["level"] == {"$ref": "#/components/schemas/Level", "default": 1}
    assert components["Level"] == {"title": "Level", "enum": [1, 2], "type": "integer",
                                   "description": "How loud."}
    assert props["mode"] == {"enum": ["a", "b"], "type": "string", "default": "a"}
    assert props["children"] == {"type": "array", "items": {"$ref": "#/components/schemas/Child"},
                                 "default": []}
    assert props["pair"]["anyOf"][0] == {"type": "array", "prefixItems": [
        {"type": "integer"}, {"type": "string"}], "minItems": 2, "maxItems": 2}
    assert props["many"] == {"type": "array", "items": {"type": "integer"}, "default": []}
    assert props["labels"] == {"type": "array", "items": {"type": "string"},
                               "uniqueItems": True, "default": []}
    assert props["scores"] == {"type": "object", "additionalProperties": {"type": "number"},
                               "default": {}}
    assert props["anything"] == {"default": None}
    assert components["Money"]["required"] == ["amount", "currency"]


def test_required_lists_fields_without_defaults(
    generated: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Only fields without a default are required."""
    assert generated[0]["required"] == ["text"]


def test_generated_schema_accepts_a_real_instance(
    generated: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """The unstructured form of an instance validates against its schema."""
    from scaicontrol_core.serialization import make_converter

    _, components = generated
    value = Everything(text="x", children=[Child(name="ab")], pair=(1, "a"),
                       labels=frozenset({"b", "a"}), price=Money(100, "EUR"),
                       at=datetime(2026, 1, 1).astimezone())
    root = {"$ref": "#/components/schemas/Everything", "components": {"schemas": components}}
    wire = json.loads(to_json(make_converter().unstructure(value)))
    assert wire["labels"] == ["a", "b"]
    jsonschema.Draft202012Validator(root).validate(wire)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(root).validate({"text": 1})


def test_unknown_types_are_refused() -> None:
    """A type with no JSON Schema mapping raises instead of documenting nonsense."""
    with pytest.raises(TypeError, match="no JSON Schema"):
        SchemaRegistry().schema(complex)


def test_two_classes_with_one_name_are_refused() -> None:
    """Distinct classes that would share a component name are an error."""

    @attrs.frozen
    class Child:
        other: int

    registry = SchemaRegistry()
    registry.schema(Everything)
    with pytest.raises(TypeError, match="component name 'Child'"):
        registry.schema(Child)


@pytest.mark.parametrize(
    ("tp", "name"),
    [(list[Child], "list[Child]"), (Child | None, "Union[Child, NoneType]"),
     (dict[str, Any], "dict"), (int, "int"), (Any, "Any")],
)
def test_display_names(tp: Any, name: str) -> None:
    """Types are spelled the way pydantic spells generic parameters."""
    assert display_name(tp) == name

"""One description per payload field, used twice: to validate values and to emit JSON Schema.

A payload field is described by its annotation (``str``, ``int``, ``bool``, ``datetime``, a
``StrEnum``, a nested attrs class, ``tuple[X, ...]`` or ``X | None``) and by ``metadata``
made with :func:`doc`: a description plus JSON Schema keywords (``pattern``, ``minimum``,
``minItems``, ``enum``, ``const``, ...). :func:`check_instance` enforces exactly what
:func:`schema_of_class` publishes, so the Python validation and the published schema cannot
disagree.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from ..clock import ensure_utc
from ..errors import ValidationError

__all__ = [
    "DATE_TIME_PATTERN",
    "check_instance",
    "doc",
    "schema_of_class",
    "to_tuple",
    "utc",
    "utc_or_none",
]

#: The wire form of every timestamp: ISO 8601 in UTC with an explicit ``+00:00`` offset.
DATE_TIME_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$"

_KNOWN_KEYWORDS: Final = frozenset(
    {"pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "enum", "const"}
)


def doc(text: str, **schema: Any) -> dict[str, Any]:
    """Field metadata: a one-line description plus extra JSON Schema keywords."""
    unknown = set(schema) - _KNOWN_KEYWORDS
    if unknown:
        raise TypeError(f"unsupported schema keywords: {sorted(unknown)}")
    return {"doc": text, "schema": schema}


def utc(value: datetime) -> datetime:
    """Field converter: aware datetimes become UTC; anything else is left for validation."""
    return ensure_utc(value) if isinstance(value, datetime) else value


def utc_or_none(value: datetime | None) -> datetime | None:
    """Like :func:`utc`, letting ``None`` through."""
    return ensure_utc(value) if isinstance(value, datetime) else value


def to_tuple(values: Any) -> Any:
    """Field converter: lists become tuples (frozen values); anything else is left alone."""
    return tuple(values) if isinstance(values, list) else values


def _resolved_fields(cls: type[Any]) -> tuple[attrs.Attribute[Any], ...]:
    attrs.resolve_types(cls)
    fields: tuple[attrs.Attribute[Any], ...] = attrs.fields(cls)
    return fields


def _split_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        return args[0], True
    return tp, False


def _enum_values(tp: type[enum.StrEnum], extras: Mapping[str, Any]) -> list[str]:
    allowed = [member.value for member in tp]
    if "enum" in extras:
        allowed = [v for v in allowed if v in extras["enum"]]
    return allowed


# -- validation -----------------------------------------------------------------------------


def _fail(path: str, message: str) -> typing.NoReturn:
    raise ValidationError(f"{path}: {message}", field=path)


def _check_keywords(value: Any, extras: Mapping[str, Any], path: str) -> None:
    if "const" in extras and value != extras["const"]:
        _fail(path, f"must be {extras['const']!r}")
    if "enum" in extras and value not in extras["enum"]:
        _fail(path, f"must be one of {list(extras['enum'])!r}")
    if isinstance(value, str):
        if "pattern" in extras and re.search(extras["pattern"], value) is None:
            _fail(path, f"{value!r} does not match {extras['pattern']}")
        if len(value) < extras.get("minLength", 0):
            _fail(path, "is too short")
        if "maxLength" in extras and len(value) > extras["maxLength"]:
            _fail(path, "is too long")
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in extras and value < extras["minimum"]:
            _fail(path, f"must be at least {extras['minimum']}")
        if "maximum" in extras and value > extras["maximum"]:
            _fail(path, f"must be at most {extras['maximum']}")
    if isinstance(value, tuple) and len(value) < extras.get("minItems", 0):
        _fail(path, f"needs at least {extras['minItems']} item(s)")


def _check_value(value: Any, tp: Any, extras: Mapping[str, Any], path: str) -> None:
    inner, nullable = _split_optional(tp)
    if value is None:
        if not nullable:
            _fail(path, "must not be null")
        return
    if typing.get_origin(inner) is tuple:
        if not isinstance(value, tuple):
            _fail(path, "must be a tuple")
        (item_type, _ellipsis) = typing.get_args(inner)
        for index, item in enumerate(value):
            _check_value(item, item_type, {}, f"{path}[{index}]")
    elif isinstance(inner, type) and issubclass(inner, enum.StrEnum):
        if not isinstance(value, inner):
            _fail(path, f"must be a {inner.__name__}")
    elif inner is datetime:
        if not isinstance(value, datetime) or value.utcoffset() is None:
            _fail(path, "must be a timezone-aware datetime")
    elif inner is bool:
        if type(value) is not bool:
            _fail(path, "must be a boolean")
    elif inner is int:
        if type(value) is not int:
            _fail(path, "must be an integer")
    elif inner is str:
        if not isinstance(value, str):
            _fail(path, "must be a string")
    elif attrs.has(inner):
        if not isinstance(value, inner):
            _fail(path, f"must be a {inner.__name__}")
    else:  # pragma: no cover - a programming error in a payload declaration
        raise TypeError(f"unsupported field type {inner!r}")
    _check_keywords(value, extras, path)


def check_instance(instance: Any) -> None:
    """Validate every field of an attrs instance against its declaration; raise on the first
    problem with a :class:`~scaicontrol_core.errors.ValidationError` naming the field."""
    for field in _resolved_fields(type(instance)):
        _check_value(
            getattr(instance, field.name), field.type, field.metadata.get("schema", {}), field.name
        )


# -- JSON Schema ----------------------------------------------------------------------------


def _schema_of_type(tp: Any, extras: Mapping[str, Any]) -> dict[str, Any]:
    inner, nullable = _split_optional(tp)
    schema: dict[str, Any]
    if typing.get_origin(inner) is tuple:
        schema = {"type": "array", "items": _schema_of_type(typing.get_args(inner)[0], {})}
    elif isinstance(inner, type) and issubclass(inner, enum.StrEnum):
        allowed = _enum_values(inner, extras)
        schema = {"type": "string", "enum": allowed}
        extras = {k: v for k, v in extras.items() if k != "enum"}
    elif inner is datetime:
        schema = {"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}
    elif inner is bool:
        schema = {"type": "boolean"}
    elif inner is int:
        schema = {"type": "integer"}
    elif inner is str:
        schema = {"type": "string"}
    elif attrs.has(inner):
        schema = schema_of_class(inner)
    else:  # pragma: no cover - a programming error in a payload declaration
        raise TypeError(f"unsupported field type {inner!r}")
    schema.update(extras)
    if nullable:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def schema_of_class(cls: type[Any]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12 vocabulary) of an attrs payload class.

    Every field is required (nullable fields are present with ``null``); further properties
    are allowed, because consumers must ignore fields added by later minor versions.
    Cross-field rules declared as ``SCHEMA_RULES`` on the class become an ``allOf``.
    """
    properties: dict[str, Any] = {}
    for field in _resolved_fields(cls):
        described = {"description": field.metadata["doc"]}
        described.update(_schema_of_type(field.type, field.metadata.get("schema", {})))
        properties[field.name] = described
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
    }
    rules = getattr(cls, "SCHEMA_RULES", ())
    if rules:
        schema["allOf"] = [dict(rule) for rule in rules]
    return schema

"""Constrained attrs fields for request and response schemas.

``field(ge=1, le=100, description=...)`` returns an ``attrs.field`` whose validators raise
:class:`InputError` (a ``ValueError`` that names the field and a FastAPI-style error type),
and whose metadata carries the JSON Schema keywords the OpenAPI generator publishes. Plain
attrs fields and validators work too; this helper only makes 422 details and the document
more precise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Sized
from typing import Any

import attrs

__all__ = ["DESCRIPTION", "JSON_SCHEMA", "InputError", "field"]

#: Metadata key holding a field's human description.
DESCRIPTION = "description"
#: Metadata key holding extra JSON Schema keywords for a field.
JSON_SCHEMA = "json_schema"

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


class InputError(ValueError):
    """A request value breaks a declared constraint; ``kind`` is the 422 ``type``."""

    def __init__(self, field: str, kind: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind
        self.message = message


def _bound(keyword: str, limit: float, kind: str, words: str) -> Validator:
    checks: dict[str, Callable[[Any], bool]] = {
        "minimum": lambda v: bool(v >= limit),
        "maximum": lambda v: bool(v <= limit),
        "exclusiveMinimum": lambda v: bool(v > limit),
        "exclusiveMaximum": lambda v: bool(v < limit),
    }
    check = checks[keyword]

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and not check(value):
            raise InputError(attribute.name, kind, f"Input should be {words} {limit}")

    return validate


def _length(limit: int, *, at_least: bool) -> Validator:
    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, Sized):
            return
        size = len(value)
        if at_least and size < limit:
            unit = "character" if isinstance(value, str) else "item"
            kind = "string_too_short" if isinstance(value, str) else "too_short"
            plural = "" if limit == 1 else "s"
            raise InputError(attribute.name, kind, f"Should have at least {limit} {unit}{plural}")
        if not at_least and size > limit:
            unit = "character" if isinstance(value, str) else "item"
            kind = "string_too_long" if isinstance(value, str) else "too_long"
            plural = "" if limit == 1 else "s"
            raise InputError(attribute.name, kind, f"Should have at most {limit} {unit}{plural}")

    return validate


def _pattern(pattern: str) -> Validator:
    compiled = re.compile(pattern)

    def validate(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, str) and compiled.search(value) is None:
            raise InputError(
                attribute.name,
                "string_pattern_mismatch",
                f"String should match pattern '{pattern}'",
            )

    return validate


def field(
    *,
    default: Any = attrs.NOTHING,
    factory: Callable[[], Any] | None = None,
    description: str | None = None,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    examples: Sequence[Any] | None = None,
    validator: Validator | None = None,
) -> Any:
    """An ``attrs.field`` with constraints that validate input and document themselves.

    Constraints skip ``None`` so they compose with optional fields. ``pattern`` uses
    ``re.search`` semantics, as JSON Schema does: anchor it with ``^...$``.
    """
    validators: list[Validator] = []
    schema: dict[str, Any] = {}
    bounds = (
        ("minimum", ge, "greater_than_equal", "greater than or equal to"),
        ("maximum", le, "less_than_equal", "less than or equal to"),
        ("exclusiveMinimum", gt, "greater_than", "greater than"),
        ("exclusiveMaximum", lt, "less_than", "less than"),
    )
    for keyword, limit, kind, words in bounds:
        if limit is not None:
            schema[keyword] = limit
            validators.append(_bound(keyword, limit, kind, words))
    if min_length is not None:
        validators.append(_length(min_length, at_least=True))
    if max_length is not None:
        validators.append(_length(max_length, at_least=False))
    if pattern is not None:
        schema["pattern"] = pattern
        validators.append(_pattern(pattern))
    if examples is not None:
        schema["examples"] = list(examples)
    if validator is not None:
        validators.append(validator)
    metadata: dict[str, Any] = {JSON_SCHEMA: schema}
    # Length keywords depend on the JSON type; the generator places them.
    if min_length is not None:
        metadata["min_length"] = min_length
    if max_length is not None:
        metadata["max_length"] = max_length
    if description is not None:
        metadata[DESCRIPTION] = description
    if factory is not None:
        return attrs.field(factory=factory, validator=validators, metadata=metadata)
    return attrs.field(default=default, validator=validators, metadata=metadata)

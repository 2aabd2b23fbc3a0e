"""Turning request input into schema instances, or into FastAPI-style 422 details.

Bodies are JSON structured with the core converter; query and path values are strings,
converted per field type first. A first pass checks the JSON *shape* (object where an
object is expected, array where a list is) because cattrs would happily iterate a string
as a list; the converter then does types, enums and attrs validators. cattrs reports
problems as exception groups whose notes name the attribute or index; they are flattened
into ``loc`` paths. Nothing a client sends can make this module raise.
"""

from __future__ import annotations

import enum
import json
import logging
import math
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, Literal, TypeVar

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, IterableValidationNote

from .envelopes import ValidationErrorItem
from .fields import InputError

__all__ = [
    "Loc",
    "parse_json_body",
    "parse_strings",
    "resolved_fields",
    "structure",
]

log = logging.getLogger(__name__)

Loc = tuple[str | int, ...]
T = TypeVar("T")
_INT = re.compile(r"^[+-]?\d+$")
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})
_SEQUENCES = frozenset(
    {list, tuple, set, frozenset, Sequence, typing.MutableSequence, typing.AbstractSet}
)
_MAPPINGS = frozenset({dict, Mapping, typing.MutableMapping})
_UNIONS = (typing.Union, types.UnionType)
_TYPE_MESSAGES: dict[object, tuple[str, str]] = {
    str: ("string_type", "Input should be a valid string"),
    int: ("int_type", "Input should be a valid integer"),
    bool: ("bool_type", "Input should be a valid boolean"),
    float: ("float_type", "Input should be a valid number"),
}


def _issue(loc: Loc, msg: str, kind: str) -> ValidationErrorItem:
    return ValidationErrorItem(loc=list(loc), msg=msg, type=kind)


@cache
def resolved_fields(cls: type) -> tuple[tuple[attrs.Attribute[Any], Any], ...]:
    """``(attribute, resolved type)`` pairs of an attrs class (string annotations resolved)."""
    hints = typing.get_type_hints(cls)
    return tuple((a, hints.get(a.name, a.type)) for a in attrs.fields(cls))


def _strip(tp: Any) -> Any:
    """Drop ``Annotated`` and ``NewType`` wrappers."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif hasattr(tp, "__supertype__"):
            tp = tp.__supertype__
        else:
            return tp


def _unwrap_optional(tp: Any) -> Any:
    tp = _strip(tp)
    if typing.get_origin(tp) in _UNIONS:
        members = [m for m in typing.get_args(tp) if m is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return tp


# -- shape pass ---------------------------------------------------------------------------


def _shape(value: Any, tp: Any, loc: Loc) -> list[ValidationErrorItem]:
    tp = _strip(tp)
    origin = typing.get_origin(tp)
    if origin in _UNIONS:
        members = typing.get_args(tp)
        if value is None and type(None) in members:
            return []
        rest = [m for m in members if m is not type(None)]
        return _shape(value, rest[0], loc) if len(rest) == 1 else []
    if isinstance(tp, type) and attrs.has(tp):
        if not isinstance(value, dict):
            msg = "Input should be a valid dictionary or object to extract fields from"
            return [_issue(loc, msg, "model_attributes_type")]
        found: list[ValidationErrorItem] = []
        for attribute, field_type in resolved_fields(tp):
            if attribute.name in value:
                found += _shape(value[attribute.name], field_type, (*loc, attribute.name))
        return found
    container = origin or tp
    args = typing.get_args(tp)
    if container in _SEQUENCES:
        if not isinstance(value, list):
            return [_issue(loc, "Input should be a valid list", "list_type")]
        if container is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _tuple_shape(value, args, loc)
        item = args[0] if args else Any
        return [i for n, v in enumerate(value) for i in _shape(v, item, (*loc, n))]
    if container in _MAPPINGS:
        if not isinstance(value, dict):
            return [_issue(loc, "Input should be a valid dictionary", "dict_type")]
        item = args[1] if len(args) == 2 else Any
        return [i for k, v in value.items() for i in _shape(v, item, (*loc, k))]
    return []


def _tuple_shape(value: list[Any], args: tuple[Any, ...], loc: Loc) -> list[ValidationErrorItem]:
    if args and len(value) != len(args):
        return [_issue(loc, f"Tuple should have exactly {len(args)} items", "tuple_length")]
    pairs = enumerate(zip(value, args, strict=False))
    return [i for n, (v, t) in pairs for i in _shape(v, t, (*loc, n))]


# -- flattening cattrs errors -------------------------------------------------------------


def _choices(values: Iterable[Any]) -> str:
    shown = [repr(v) for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _classify(exc: BaseException, target: Any, loc: Loc) -> ValidationErrorItem:
    """One leaf error, with the type it was being structured as (None if unknown)."""
    if isinstance(exc, InputError):
        return _issue(loc, exc.message, exc.kind)
    tp = _unwrap_optional(target)
    if isinstance(exc, KeyError) and target is not None:
        return _issue(loc, "Field required", "missing")
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _issue(loc, f"Input should be {_choices(m.value for m in tp)}", "enum")
    if typing.get_origin(tp) is Literal:
        return _issue(loc, f"Input should be {_choices(typing.get_args(tp))}", "literal_error")
    if isinstance(exc, TypeError):
        if tp in _TYPE_MESSAGES:
            kind, msg = _TYPE_MESSAGES[tp]
            return _issue(loc, msg, kind)
        return _issue(loc, _message(exc) or "Input has the wrong type", "type_error")
    return _issue(loc, _message(exc) or "Invalid value", "value_error")


def _message(exc: BaseException) -> str:
    # attrs validators raise ValueError(message, attribute, ...): keep only the message.
    if len(exc.args) > 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)


def _construction_issue(exc: BaseException, cls: type, loc: Loc) -> ValidationErrorItem:
    """An error raised by the class's ``__init__`` (its validators), not by a field hook."""
    if isinstance(exc, InputError):
        return _issue((*loc, exc.field), exc.message, exc.kind)
    names = {a.name for a in attrs.fields(cls)} if attrs.has(cls) else set()
    name: str | None = None
    if len(exc.args) > 1 and isinstance(exc.args[1], attrs.Attribute):
        name = exc.args[1].name
    elif isinstance(getattr(exc, "field", None), str):
        name = exc.field  # type: ignore[attr-defined]
    else:
        match = re.match(r"^'([A-Za-z_]\w*)'", _message(exc))
        name = match.group(1) if match else None
    where: Loc = (*loc, name) if name is not None and name in names else loc
    kind = "type_error" if isinstance(exc, TypeError) else "value_error"
    return _issue(where, _message(exc) or "Invalid value", kind)


def _child(data: Any, key: str | int) -> Any:
    if isinstance(data, dict) and isinstance(key, str):
        return data.get(key)
    if isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
        return data[key]
    return None


def _validate_fields(
    cls: type, data: Any, loc: Loc, skip: set[str], converter: cattrs.Converter
) -> list[ValidationErrorItem]:
    """Run the attrs validators of the fields that structured fine.

    attrs stops at the first failing validator and cattrs runs none while any field has
    the wrong type; checking each field here reports every problem at once. A validator
    that needs the instance cannot run this way and is left to the constructor.
    """
    if not isinstance(data, dict) or not attrs.has(cls):
        return []
    found: list[ValidationErrorItem] = []
    for attribute, tp in resolved_fields(cls):
        name = attribute.name
        if name in skip or attribute.validator is None or name not in data:
            continue
        try:
            value = converter.structure(data[name], tp)
        except Exception:
            continue  # already reported as a field error
        try:
            attribute.validator(None, attribute, value)
        except (ValueError, TypeError) as exc:
            if isinstance(exc, InputError):
                kind = exc.kind
            else:
                kind = "type_error" if isinstance(exc, TypeError) else "value_error"
            found.append(_issue((*loc, name), _message(exc) or "Invalid value", kind))
        except Exception:
            continue  # e.g. it needed the instance: the constructor's error stands
    return found


def _flatten(
    exc: BaseException, loc: Loc, target: Any, data: Any, converter: cattrs.Converter
) -> list[ValidationErrorItem]:
    if isinstance(exc, cattrs.ClassValidationError):
        found: list[ValidationErrorItem] = []
        failed: set[str] = set()
        construction: list[BaseException] = []
        for sub in exc.exceptions:
            note = _note(sub, AttributeValidationNote)
            if note is None:
                construction.append(sub)
            else:
                failed.add(note.name)
                child = _child(data, note.name)
                found += _flatten(sub, (*loc, note.name), note.type, child, converter)
        checked = _validate_fields(exc.cl, data, loc, failed, converter)
        if construction and not checked:
            checked = [_construction_issue(sub, exc.cl, loc) for sub in construction]
        return found + checked
    if isinstance(exc, BaseExceptionGroup):
        found = []  # cattrs' IterableValidationError, or any other group
        for member in exc.exceptions:
            item = _note(member, IterableValidationNote)
            if item is None:
                found += _flatten(member, loc, None, data, converter)
            else:
                index = _index(item.index)
                child = _child(data, index)
                found += _flatten(member, (*loc, index), item.type, child, converter)
        return found
    return [_classify(exc, target, loc)]


def _index(value: Any) -> str | int:
    return value if isinstance(value, (str, int)) else str(value)


def _note(exc: BaseException, kind: type[T]) -> T | None:
    return next((n for n in getattr(exc, "__notes__", ()) if isinstance(n, kind)), None)


def structure(
    converter: cattrs.Converter, data: Any, schema: Any, loc: Loc
) -> tuple[Any, list[ValidationErrorItem]]:
    """Structure ``data`` as ``schema``: ``(value, [])`` or ``(None, issues)``."""
    problems = _shape(data, schema, loc)
    if problems:
        return None, problems
    try:
        return converter.structure(data, schema), []
    except Exception as exc:  # anything a client can provoke is a 422, never a 500
        issues = _flatten(exc, loc, schema, data, converter)
        if not isinstance(exc, (cattrs.BaseValidationError, ValueError, TypeError)):
            log.debug("unusual structuring error at %s", loc, exc_info=True)
        return None, issues or [_issue(loc, "Invalid value", "value_error")]


# -- JSON bodies --------------------------------------------------------------------------


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("numbers must be finite")
    return value


def _no_constants(text: str) -> Any:
    raise ValueError(f"{text} is not valid JSON")


def parse_json_body(raw: bytes) -> tuple[Any, list[ValidationErrorItem]]:
    """Decode a request body: ``(value, [])``, or ``(None, issues)`` for empty or bad JSON."""
    if not raw.strip():
        return None, [_issue(("body",), "Field required", "missing")]
    try:
        return json.loads(raw, parse_float=_finite_float, parse_constant=_no_constants), []
    except json.JSONDecodeError as exc:
        return None, [_issue(("body", exc.pos), f"JSON decode error: {exc.msg}", "json_invalid")]
    except (ValueError, RecursionError) as exc:
        msg = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return None, [_issue(("body", 0), f"JSON decode error: {msg}", "json_invalid")]


# -- query strings and path segments ------------------------------------------------------


def _from_string(text: str, tp: Any) -> tuple[Any, tuple[str, str] | None]:
    """Convert one query or path string for a field of type ``tp``: (value, error)."""
    tp = _unwrap_optional(tp)
    if tp is bool:
        lowered = text.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE, None
        return None, ("bool_parsing", "Input should be a valid boolean, unable to interpret input")
    if tp is int or (isinstance(tp, type) and issubclass(tp, enum.IntEnum)):
        if _INT.match(text.strip()):
            return int(text), None
        if tp is int:
            msg = "Input should be a valid integer, unable to parse string as an integer"
            return None, ("int_parsing", msg)
        return text, None  # an enum: let the converter name the choices
    if tp is float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value, None
        return None, ("float_parsing", "Input should be a valid number, unable to parse string")
    if typing.get_origin(tp) is Literal and all(type(a) is int for a in typing.get_args(tp)):
        return (int(text), None) if _INT.match(text.strip()) else (text, None)
    return text, None


def parse_strings(
    converter: cattrs.Converter,
    values: Mapping[str, str],
    schema: type,
    source: str,
    getall: typing.Callable[[str], list[str]] | None = None,
) -> tuple[Any, list[ValidationErrorItem]]:
    """Build ``schema`` from string values (query parameters or path segments).

    ``getall`` returns every value of a repeated query parameter, for list-typed fields;
    unknown names are ignored, as FastAPI does.
    """
    data: dict[str, Any] = {}
    issues: list[ValidationErrorItem] = []
    for attribute, tp in resolved_fields(schema):
        name = attribute.name
        item_type = _unwrap_optional(tp)
        origin = typing.get_origin(item_type) or item_type
        if origin in _SEQUENCES and getall is not None:
            texts = getall(name)
            if not texts:
                continue
            args = typing.get_args(item_type)
            converted = []
            for n, text in enumerate(texts):
                value, error = _from_string(text, args[0] if args else str)
                if error:
                    issues.append(_issue((source, name, n), error[1], error[0]))
                converted.append(value)
            data[name] = converted
        elif name in values:
            value, error = _from_string(values[name], tp)
            if error:
                issues.append(_issue((source, name), error[1], error[0]))
            else:
                data[name] = value
    bad = {i.loc[1] for i in issues}
    if bad:
        # Structure the rest anyway so every problem is reported at once.
        defaults = {n: v for n, v in data.items() if n not in bad}
        _, more = structure(converter, defaults, schema, (source,))
        return None, issues + [i for i in more if len(i.loc) < 2 or i.loc[1] not in bad]
    return structure(converter, data, schema, (source,))

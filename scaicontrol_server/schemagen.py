"""JSON Schema (2020-12, as OpenAPI 3.1 uses it) from type hints and attrs classes.

attrs classes and enums become named components referenced with ``$ref``; everything else
is inlined. Field descriptions come from ``metadata["description"]`` or from a docstring
placed right under the field; constraints from :func:`scaicontrol_server.fields.field`.
A class may set ``__schema_name__`` to publish under another name.
"""

from __future__ import annotations

import ast
import datetime as dt
import enum
import inspect
import itertools
import re
import textwrap
import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, Literal

import attrs

from .fields import DESCRIPTION, JSON_SCHEMA
from .validation import resolved_fields

__all__ = ["COMPONENTS_PREFIX", "SchemaRegistry", "display_name", "schema_name"]

COMPONENTS_PREFIX = "#/components/schemas/"
Schema = dict[str, Any]

_SCALARS: dict[object, Schema] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    Decimal: {"type": "string", "format": "decimal"},
    dt.datetime: {"type": "string", "format": "date-time"},
    dt.date: {"type": "string", "format": "date"},
    dt.time: {"type": "string", "format": "time"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    type(None): {"type": "null"},
}
_ARRAYS = (list, tuple, set, frozenset, Sequence, typing.MutableSequence, typing.AbstractSet)
_OBJECTS = (dict, Mapping, typing.MutableMapping)
_UNIONS = (typing.Union, types.UnionType)
_COLLECTION_FACTORIES: dict[object, Any] = {list: [], tuple: [], set: [], frozenset: [], dict: {}}


def schema_name(cls: type) -> str:
    """The component name of a class."""
    return str(getattr(cls, "__schema_name__", cls.__name__))


def _strip(tp: Any) -> Any:
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif hasattr(tp, "__supertype__"):
            tp = tp.__supertype__
        else:
            return tp


def display_name(tp: Any) -> str:
    """How a type is spelled inside a generic wrapper's name, in pydantic's manner:
    ``list[Currency]``, ``Union[Plan, NoneType]``, ``dict``."""
    tp = _strip(tp)
    origin = typing.get_origin(tp)
    if tp is Any:
        return "Any"
    if origin in _UNIONS:
        return "Union[" + ", ".join(display_name(a) for a in typing.get_args(tp)) + "]"
    if (origin or tp) in _OBJECTS:
        return "dict"
    if (origin or tp) in _ARRAYS:
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return f"list[{display_name(args[0])}]" if args else "list"
    if isinstance(tp, type):
        return schema_name(tp) if (attrs.has(tp) or issubclass(tp, enum.Enum)) else tp.__name__
    return re.sub(r"\W", "_", str(tp))


def _doc(cls: type) -> str | None:
    raw = cls.__dict__.get("__doc__")
    if not isinstance(raw, str) or not raw.strip():
        return None
    return inspect.cleandoc(raw)


@cache
def _field_docs(cls: type) -> Mapping[str, str]:
    """Docstrings written right below a field in the class body."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = next((n.body for n in tree.body if isinstance(n, ast.ClassDef)), [])
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(following.value.value)
    return docs


def _jsonable(value: Any) -> tuple[bool, Any]:
    """Whether a default can be shown in the document, and its JSON form."""
    if value is None or isinstance(value, (bool, int, str)):
        return True, value
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf")), value
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, Decimal):
        return True, str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return all(ok for ok, _ in items), [v for _, v in items]
    return False, None


class SchemaRegistry:
    """Builds schemas and collects the named components they reference."""

    def __init__(self, overrides: Mapping[object, Schema] | None = None) -> None:
        self.components: dict[str, Schema] = {}
        self._owners: dict[str, object] = {}
        self._overrides = dict(overrides or {})

    @staticmethod
    def ref(name: str) -> Schema:
        return {"$ref": COMPONENTS_PREFIX + name}

    def add_component(self, name: str, owner: object, build: typing.Callable[[], Schema]) -> Schema:
        """Register ``name`` (built once) and return a reference to it."""
        known = self._owners.get(name)
        if known is None:
            self._owners[name] = owner
            self.components[name] = {}  # placeholder: recursive types refer to it
            self.components[name] = build()
        elif known != owner:
            raise TypeError(f"two different types want the component name {name!r}")
        return self.ref(name)

    def schema(self, tp: Any) -> Schema:
        """The schema of ``tp`` (a reference for classes that become components)."""
        tp = _strip(tp)
        if tp in self._overrides:
            return dict(self._overrides[tp])
        if tp is Any or tp is object:
            return {}
        if tp in _SCALARS:
            return dict(_SCALARS[tp])
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in _UNIONS:
            return {"anyOf": [self.schema(a) for a in args]}
        if origin is Literal:
            return self._literal(args)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return self.add_component(schema_name(tp), tp, lambda: self._enum(tp))
        if isinstance(tp, type) and attrs.has(tp):
            return self.add_component(schema_name(tp), tp, lambda: self._attrs_class(tp))
        container = origin or tp
        if container in _ARRAYS:
            return self._array(container, args)
        if container in _OBJECTS:
            result: Schema = {"type": "object"}
            if len(args) == 2:
                result["additionalProperties"] = self.schema(args[1])
            return result
        raise TypeError(f"no JSON Schema for {tp!r}; add an override for it")

    def _literal(self, values: tuple[Any, ...]) -> Schema:
        kinds = {type(v) for v in values}
        result: Schema = {"const": values[0]} if len(values) == 1 else {"enum": list(values)}
        if kinds <= {str}:
            result["type"] = "string"
        elif kinds <= {int}:
            result["type"] = "integer"
        return result

    def _enum(self, cls: type[enum.Enum]) -> Schema:
        values = [m.value for m in cls]
        result: Schema = {"title": schema_name(cls), "enum": values}
        if all(isinstance(v, str) for v in values):
            result["type"] = "string"
        elif all(type(v) is int for v in values):
            result["type"] = "integer"
        doc = _doc(cls)
        if doc:
            result["description"] = doc
        return result

    def _array(self, container: Any, args: tuple[Any, ...]) -> Schema:
        result: Schema = {"type": "array"}
        if container is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            result["prefixItems"] = [self.schema(a) for a in args]
            result["minItems"] = result["maxItems"] = len(args)
            return result
        if args:
            result["items"] = self.schema(args[0])
        if container in (set, frozenset, typing.AbstractSet):
            result["uniqueItems"] = True
        return result

    def object_schema(self, cls: type) -> Schema:
        """The inline object schema of an attrs class (not registered as a component)."""
        return self._attrs_class(cls)

    def _attrs_class(self, cls: type) -> Schema:
        properties: dict[str, Schema] = {}
        required: list[str] = []
        docs = _field_docs(cls)
        for attribute, tp in resolved_fields(cls):
            properties[attribute.name] = self._property(attribute, tp, docs)
            if attribute.default is attrs.NOTHING:
                required.append(attribute.name)
        result: Schema = {"title": schema_name(cls), "type": "object", "properties": properties}
        if required:
            result["required"] = required
        doc = _doc(cls)
        if doc:
            result["description"] = doc
        return result

    def _property(
        self, attribute: attrs.Attribute[Any], tp: Any, docs: Mapping[str, str]
    ) -> Schema:
        result = self.schema(tp)
        metadata = attribute.metadata
        description = metadata.get(DESCRIPTION) or docs.get(attribute.name)
        if description:
            result["description"] = description
        result.update(metadata.get(JSON_SCHEMA, {}))
        is_array = "array" in _types_of(result)
        for key, word in (("min_length", "min"), ("max_length", "max")):
            if key in metadata:
                result[f"{word}Items" if is_array else f"{word}Length"] = metadata[key]
        default = attribute.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            factory = getattr(default, "factory", None)
            if factory in _COLLECTION_FACTORIES:
                result["default"] = _COLLECTION_FACTORIES[factory]
        elif default is not attrs.NOTHING:
            ok, value = _jsonable(default)
            if ok:
                result["default"] = value
        return result


def _types_of(schema: Schema) -> set[str]:
    found = {schema["type"]} if isinstance(schema.get("type"), str) else set()
    for option in schema.get("anyOf", ()):
        found |= _types_of(option)
    return found

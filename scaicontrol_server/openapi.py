"""The OpenAPI 3.1 document, generated from the endpoint table and its attrs schemas.

Names follow what FastAPI would produce for the original, so generated clients keep
working: ``ApiResponse_<Model>_``, ``ApiResponse_list_<Model>__``,
``PaginatedResponse_<Model>_``, ``HTTPValidationError`` and ``ValidationError``, and
operation ids such as ``list_currencies_api_v1_lookups_currencies_get``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import attrs

import scaicontrol_core

from .api import API_PREFIX, PUBLIC, Endpoint, PageParams, ResponseKind
from .envelopes import ErrorResponse, HTTPValidationError, Meta, Pagination
from .schemagen import SchemaRegistry, display_name
from .settings import Settings
from .tags import TAGS
from .validation import resolved_fields

__all__ = ["ACCESS_EXTENSION", "build_openapi"]

#: Operation extension naming who may call it: "public", "authenticated" or a scope.
ACCESS_EXTENSION = "x-scaicontrol-access"
_BEARER = "HTTPBearer"
Schema = dict[str, Any]


def _component_name(title: str) -> str:
    """``ApiResponse[list[Currency]]`` spelled as a component name (pydantic's rule)."""
    return re.sub(r"[^a-zA-Z0-9.\-_]", "_", title)


def _content(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


class _Builder:
    def __init__(self) -> None:
        self.registry = SchemaRegistry()
        self.error_ref = self.registry.schema(ErrorResponse)
        self.validation_ref = self.registry.schema(HTTPValidationError)

    def envelope(self, endpoint: Endpoint) -> Schema | None:
        kind, data = endpoint.kind, endpoint.response_schema
        registry = self.registry
        if kind is ResponseKind.EMPTY:
            return None
        if kind is ResponseKind.RAW:
            return registry.schema(data) if data is not None else {}
        meta = registry.schema(Meta)
        if kind is ResponseKind.PAGE:
            title = f"PaginatedResponse[{display_name(data)}]"
            properties = {
                "data": {"type": "array", "items": registry.schema(data)},
                "pagination": registry.schema(Pagination),
                "meta": meta,
            }
        else:
            inner = list[data] if kind is ResponseKind.LIST else data  # type: ignore[valid-type]
            title = f"ApiResponse[{display_name(inner)}]"
            properties = {"data": registry.schema(inner), "meta": meta}
        name = _component_name(title)
        schema = {
            "title": title,
            "type": "object",
            "properties": properties,
            "required": list(properties),
        }
        return registry.add_component(name, ("wrapper", name), lambda: schema)

    def parameters(self, endpoint: Endpoint) -> list[Schema]:
        found: list[Schema] = []
        sources: list[tuple[str, type | None]] = [("path", endpoint.path_schema)]
        if endpoint.paginated:
            sources.append(("query", PageParams))
        sources.append(("query", endpoint.query_schema))
        for where, schema in sources:
            if schema is None:
                continue
            # Parameters are listed one by one, so the class itself is not a component.
            properties = self.registry.object_schema(schema)
            for attribute, _ in resolved_fields(schema):
                prop = dict(properties["properties"][attribute.name])
                parameter: Schema = {
                    "name": attribute.name,
                    "in": where,
                    "required": where == "path" or attribute.default is attrs.NOTHING,
                }
                if "description" in prop:
                    parameter["description"] = prop.pop("description")
                parameter["schema"] = prop
                found.append(parameter)
        return found

    def responses(self, endpoint: Endpoint) -> Schema:
        responses: Schema = {}
        success: Schema = {"description": "Successful Response"}
        body = self.envelope(endpoint)
        if body is not None:
            success["content"] = _content(body)
        responses[str(endpoint.status)] = success
        for extra in endpoint.extra_responses:
            doc: Schema = {"description": extra.description}
            if extra.schema is not None:
                doc["content"] = _content(self.registry.schema(extra.schema))
            responses[str(extra.status)] = doc
        for status in sorted(_error_statuses(endpoint)):
            if status == 422:
                responses["422"] = {
                    "description": "Validation Error",
                    "content": _content(self.validation_ref),
                }
            else:
                responses[str(status)] = {
                    "description": HTTPStatus(status).phrase,
                    "content": _content(self.error_ref),
                }
        return responses

    def operation(self, endpoint: Endpoint) -> Schema:
        operation: Schema = {}
        if endpoint.tag:
            operation["tags"] = [endpoint.tag]
        operation["summary"] = endpoint.summary
        if endpoint.description:
            operation["description"] = endpoint.description
        operation["operationId"] = endpoint.operation_id
        parameters = self.parameters(endpoint)
        if parameters:
            operation["parameters"] = parameters
        if endpoint.body_schema is not None:
            operation["requestBody"] = {
                "required": True,
                "content": _content(self.registry.schema(endpoint.body_schema)),
            }
        operation["responses"] = self.responses(endpoint)
        if not endpoint.is_public:
            operation["security"] = [{_BEARER: []}]
        operation[ACCESS_EXTENSION] = endpoint.access
        return operation


def _error_statuses(endpoint: Endpoint) -> set[int]:
    statuses = set(endpoint.errors)
    if endpoint.takes_input:
        statuses.add(422)
    if endpoint.body_schema is not None:
        statuses.add(413)
    if endpoint.path_schema is not None:
        statuses.add(404)
    if endpoint.access != PUBLIC:
        statuses.add(401)
    if endpoint.scope is not None:
        statuses.add(403)
    if endpoint.full_path.startswith(API_PREFIX + "/"):
        statuses.add(500)
    return statuses - {s.status for s in endpoint.extra_responses} - {endpoint.status}


def build_openapi(endpoints: Iterable[Endpoint], settings: Settings) -> dict[str, Any]:
    """The whole document for ``endpoints`` (those with ``include_in_schema``)."""
    builder = _Builder()
    paths: dict[str, Schema] = {}
    for endpoint in endpoints:
        if endpoint.include_in_schema:
            item = paths.setdefault(endpoint.full_path, {})
            item[endpoint.method.lower()] = builder.operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ScaiControl",
            "version": scaicontrol_core.__version__,
            "description": "Control plane for selling services through partners to tenants.",
        },
        "servers": [{"url": settings.public_url}],
        "tags": _tags(TAGS),
        "paths": paths,
        "components": {
            "schemas": dict(sorted(builder.registry.components.items())),
            "securitySchemes": {_BEARER: {"type": "http", "scheme": "bearer"}},
        },
    }


def _tags(tags: Mapping[str, str]) -> Sequence[Schema]:
    return [{"name": name, "description": text} for name, text in tags.items()]

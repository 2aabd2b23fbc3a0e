"""The OpenAPI document: valid 3.1, complete, FastAPI-style names, and true to responses."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import attrs
import jsonschema
import pytest
from aiohttp import web
from openapi_spec_validator import validate

from scaicontrol_server import build_app
from scaicontrol_server.api import PUBLIC, Call, Endpoint, ResponseKind
from scaicontrol_server.openapi import ACCESS_EXTENSION, build_openapi
from scaicontrol_server.routes import ENDPOINTS
from scaicontrol_server.settings import Settings
from scaicontrol_server.tags import TAGS

Serving = Callable[[web.Application], AbstractContextManager[Any]]


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    """The document as served at /openapi.json."""
    reply = client.get("/openapi.json")
    assert reply.status == 200
    doc: dict[str, Any] = reply.json()
    return doc


def _conforms(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    root = {**schema, "components": document["components"]}
    jsonschema.Draft202012Validator(root).validate(instance)


def _response_schema(document: dict[str, Any], path: str, status: str) -> dict[str, Any]:
    responses = document["paths"][path]["get"]["responses"]
    schema: dict[str, Any] = responses[status]["content"]["application/json"]["schema"]
    return schema


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    """openapi-spec-validator accepts the served document as OpenAPI 3.1.0."""
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_endpoint_of_the_route_table_is_documented(document: dict[str, Any]) -> None:
    """Each endpoint appears under its path and method with its operation id, tag and access."""
    for endpoint in ENDPOINTS:
        if not endpoint.include_in_schema:
            assert endpoint.full_path not in document["paths"]
            continue
        operation = document["paths"][endpoint.full_path][endpoint.method.lower()]
        assert operation["operationId"] == endpoint.operation_id
        assert operation.get("tags") == ([endpoint.tag] if endpoint.tag else None)
        assert operation[ACCESS_EXTENSION] == endpoint.access
    documented = sum(len(item) for item in document["paths"].values())
    assert documented == sum(1 for e in ENDPOINTS if e.include_in_schema)


def test_only_the_openapi_route_itself_is_hidden() -> None:
    """Every route except /openapi.json is in the document."""
    assert [e.full_path for e in ENDPOINTS if not e.include_in_schema] == ["/openapi.json"]


def test_tags_are_the_contract_list_with_descriptions(document: dict[str, Any]) -> None:
    """The top-level tags are the spec's list, in order, each with a description."""
    assert [tag["name"] for tag in document["tags"]] == list(TAGS)
    assert all(tag["description"] for tag in document["tags"])
    assert "admin-webhook-subscriptions" in TAGS and len(TAGS) == 29


def test_fastapi_style_names(document: dict[str, Any]) -> None:
    """Operation ids and wrapper component names follow FastAPI's defaults."""
    list_op = document["paths"]["/api/v1/lookups/currencies"]["get"]
    assert list_op["operationId"] == "list_currencies_api_v1_lookups_currencies_get"
    get_op = document["paths"]["/api/v1/lookups/currencies/{code}"]["get"]
    assert get_op["operationId"] == "get_currency_api_v1_lookups_currencies__code__get"
    names = set(document["components"]["schemas"])
    assert {"PaginatedResponse_Currency_", "ApiResponse_Currency_", "HTTPValidationError",
            "ValidationError", "ErrorResponse", "Meta", "Pagination"} <= names


def test_operations_with_input_document_422_and_their_errors(document: dict[str, Any]) -> None:
    """Input-taking operations list 422 (HTTPValidationError); lookups list 404 and 500."""
    responses = document["paths"]["/api/v1/lookups/currencies/{code}"]["get"]["responses"]
    assert responses["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HTTPValidationError"
    }
    for status in ("404", "500"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }
    assert "422" not in document["paths"]["/healthz"]["get"]["responses"]


def test_pagination_parameters_are_documented(document: dict[str, Any]) -> None:
    """page and page_size appear as query parameters with their bounds and defaults."""
    params = {p["name"]: p for p in document["paths"]["/api/v1/lookups/currencies"]["get"]
              ["parameters"]}
    assert params["page"]["schema"] == {"type": "integer", "minimum": 1, "default": 1}
    assert params["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100,
                                             "default": 20}
    assert params["q"]["required"] is False


def test_real_responses_match_their_documented_schemas(
    client: Any, document: dict[str, Any]
) -> None:
    """Bodies actually sent (success, 404, 422, probes) validate against the document."""
    cases = [
        ("/api/v1/lookups/currencies", "/api/v1/lookups/currencies", "200"),
        ("/api/v1/lookups/currencies/EUR", "/api/v1/lookups/currencies/{code}", "200"),
        ("/api/v1/lookups/currencies/XYZ", "/api/v1/lookups/currencies/{code}", "404"),
        ("/api/v1/lookups/currencies/1", "/api/v1/lookups/currencies/{code}", "422"),
        ("/healthz", "/healthz", "200"),
        ("/readyz", "/readyz", "200"),
    ]
    for url, path, status in cases:
        reply = client.get(url)
        assert str(reply.status) == status
        _conforms(document, _response_schema(document, path, status), reply.json())


@attrs.frozen(kw_only=True)
class Widget:
    """A thing for the naming test."""

    id: str
    """Widget id."""
    size: int = 3


async def widgets(call: Call[None, None, None]) -> list[Widget]:
    return [Widget(id="w1")]


async def maybe_widget(call: Call[None, None, None]) -> Widget | None:
    return None


async def widget_stats(call: Call[None, None, None]) -> dict[str, Any]:
    return {"count": 1}


async def add_widget(call: Call[Widget, None, None]) -> None:
    return None


EXTRA = (
    Endpoint(method="GET", path="/widgets", handler=widgets, access=PUBLIC,
             kind=ResponseKind.LIST, response_schema=Widget, tag="admin"),
    Endpoint(method="GET", path="/widgets/maybe", handler=maybe_widget, access=PUBLIC,
             response_schema=Widget | None),
    Endpoint(method="GET", path="/widgets/stats", handler=widget_stats, access="admin:usage",
             response_schema=dict[str, Any], tag="admin-usage"),
    Endpoint(method="POST", path="/widgets", handler=add_widget, access="authenticated",
             body_schema=Widget, kind=ResponseKind.EMPTY, errors={409}),
)


def test_wrapper_names_for_lists_optionals_and_dicts(settings: Settings) -> None:
    """Lists, optionals and dicts get ApiResponse_list_X__, _Union_X__NoneType__ and _dict_."""
    document = build_openapi(EXTRA, settings)
    validate(document)
    names = set(document["components"]["schemas"])
    assert {"ApiResponse_list_Widget__", "ApiResponse_Union_Widget__NoneType__",
            "ApiResponse_dict_", "Widget"} <= names
    widget = document["components"]["schemas"]["Widget"]
    assert widget["description"] == "A thing for the naming test."
    assert widget["properties"]["id"]["description"] == "Widget id."
    assert widget["properties"]["size"]["default"] == 3 and widget["required"] == ["id"]


def test_security_and_error_responses_follow_access(settings: Settings) -> None:
    """Scoped operations document bearer security, 401 and 403; posts document 413 and extras."""
    document = build_openapi(EXTRA, settings)
    stats = document["paths"]["/api/v1/widgets/stats"]["get"]
    assert stats["security"] == [{"HTTPBearer": []}]
    assert {"401", "403"} <= set(stats["responses"])
    post = document["paths"]["/api/v1/widgets"]["post"]
    assert set(post["responses"]) == {"204", "401", "409", "413", "422", "500"}
    assert "content" not in post["responses"]["204"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Widget"
    }
    assert "security" not in document["paths"]["/api/v1/widgets"]["get"]


def test_served_document_is_the_one_built_at_start_up(
    settings: Settings, plugins: list[object], serving: Serving
) -> None:
    """A test-only table gets its own document at /openapi.json."""
    from scaicontrol_server.routes import system

    app = build_app(settings, endpoints=[*system.ENDPOINTS, *EXTRA], plugins=plugins)
    with serving(app) as running:
        paths = running.get("/openapi.json").json()["paths"]
    assert "/api/v1/widgets/stats" in paths and "/api/v1/lookups/currencies" not in paths

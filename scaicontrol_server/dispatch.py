"""From :class:`~.api.Endpoint` declarations to aiohttp routes.

Per request: check access (401/403 come before any input is looked at), validate path,
query, pagination and body together (one 422 listing every problem), call the handler,
and wrap what it returns according to the endpoint's :class:`~.api.ResponseKind`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import cattrs
from aiohttp import web

from scaicontrol_core.errors import Unauthenticated

from . import keys
from .api import Call, Endpoint, Page, PageParams, ResponseKind
from .envelopes import (
    ValidationErrorItem,
    json_response,
    meta_for,
    pagination_for,
    validation_response,
)
from .validation import parse_json_body, parse_strings, structure

__all__ = ["check_table", "make_handler", "register_endpoints"]

AiohttpHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_JSON_TYPES = ("application/json",)


def check_table(endpoints: Sequence[Endpoint], converter: cattrs.Converter) -> None:
    """Refuse a table with duplicate routes or operation ids, or schemas the converter
    cannot structure (so that mistake fails at start-up, not as a 500 later)."""
    routes: set[tuple[str, str]] = set()
    operation_ids: set[str] = set()
    for endpoint in endpoints:
        route = (endpoint.method, endpoint.full_path)
        if route in routes:
            raise ValueError(f"{endpoint.method} {endpoint.full_path} is declared twice")
        if endpoint.operation_id in operation_ids:
            raise ValueError(f"operation id {endpoint.operation_id!r} is used twice")
        routes.add(route)
        operation_ids.add(endpoint.operation_id)
        for schema in (endpoint.body_schema, endpoint.query_schema, endpoint.path_schema):
            if schema is not None:
                converter.get_structure_hook(schema)


def register_endpoints(app: web.Application, endpoints: Iterable[Endpoint]) -> None:
    for endpoint in endpoints:
        app.router.add_route(
            endpoint.method,
            endpoint.full_path,
            make_handler(endpoint),
            name=endpoint.operation_id,
        )


async def _authorize(request: web.Request, endpoint: Endpoint) -> object | None:
    if endpoint.is_public:
        return None
    authorizer = request.app[keys.AUTHORIZER]
    if authorizer is None:
        # Fail closed: nothing can vouch for the caller yet.
        raise Unauthenticated("Authentication required")
    return await authorizer.authorize(request, endpoint)


def _is_json(content_type: str) -> bool:
    return content_type in _JSON_TYPES or content_type.endswith("+json")


async def _read_body(
    request: web.Request, endpoint: Endpoint, converter: cattrs.Converter
) -> tuple[Any, list[ValidationErrorItem]]:
    raw = await request.read()  # raises HTTPRequestEntityTooLarge past client_max_size
    if raw.strip() and request.headers.get("Content-Type") and not _is_json(
        request.content_type
    ):
        msg = f"Content-Type must be application/json, not '{request.content_type}'"
        return None, [ValidationErrorItem(loc=["body"], msg=msg, type="content_type")]
    data, issues = parse_json_body(raw)
    if issues:
        return None, issues
    if endpoint.body_parser is not None:
        parsed = endpoint.body_parser(data)
        if parsed is not None:
            return parsed, []
    return structure(converter, data, endpoint.body_schema, ("body",))


async def _inputs(
    request: web.Request, endpoint: Endpoint
) -> tuple[dict[str, Any], list[ValidationErrorItem]]:
    converter = request.app[keys.CONVERTER]
    issues: list[ValidationErrorItem] = []
    values: dict[str, Any] = {"path": None, "query": None, "body": None}
    query = request.query
    if endpoint.path_schema is not None:
        values["path"], found = parse_strings(
            converter, request.match_info, endpoint.path_schema, "path"
        )
        issues += found
    if endpoint.paginated:
        values["page"], found = parse_strings(converter, query, PageParams, "query")
        issues += found
    if endpoint.query_schema is not None:
        values["query"], found = parse_strings(
            converter,
            query,
            endpoint.query_schema,
            "query",
            getall=lambda name: query.getall(name, []),
        )
        issues += found
    if endpoint.body_schema is not None:
        values["body"], found = await _read_body(request, endpoint, converter)
        issues += found
    return values, issues


def _render(endpoint: Endpoint, call: Call[Any, Any, Any], result: Any) -> web.StreamResponse:
    kind = endpoint.kind
    if kind is ResponseKind.EMPTY:
        if result is not None:
            raise TypeError(f"{endpoint.operation_id} must return None, got {type(result)}")
        return web.Response(status=endpoint.status)
    if kind is ResponseKind.RAW:
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(call.converter.unstructure(result), status=endpoint.status)
    meta = meta_for(call.request_id, call.now())
    if kind is ResponseKind.PAGE:
        if not isinstance(result, Page):
            raise TypeError(f"{endpoint.operation_id} must return a Page, got {type(result)}")
        pagination = pagination_for(
            page=call.page.page, page_size=call.page.page_size, total=result.total
        )
        items = [call.converter.unstructure(item) for item in result.items]
        payload = {"data": items, "pagination": pagination, "meta": meta}
    elif kind is ResponseKind.LIST:
        if isinstance(result, (str, bytes, dict)) or not isinstance(result, Iterable):
            raise TypeError(f"{endpoint.operation_id} must return a list, got {type(result)}")
        payload = {"data": [call.converter.unstructure(item) for item in result], "meta": meta}
    else:
        payload = {"data": call.converter.unstructure(result), "meta": meta}
    return json_response(payload, status=endpoint.status)


def make_handler(endpoint: Endpoint) -> AiohttpHandler:
    """The aiohttp handler that runs ``endpoint`` (errors are left to the middleware)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        principal = await _authorize(request, endpoint)
        values, issues = await _inputs(request, endpoint)
        if issues:
            return validation_response(issues)
        call: Call[Any, Any, Any] = Call(
            request=request,
            endpoint=endpoint,
            request_id=request[keys.REQUEST_ID],
            body=values["body"],
            query=values["query"],
            path=values["path"],
            page=values.get("page") or PageParams(),
            principal=principal,
        )
        result = await endpoint.handler(call)
        return _render(endpoint, call, result)

    handle.__name__ = f"handle_{endpoint.operation_id}"
    handle.__qualname__ = handle.__name__
    return handle

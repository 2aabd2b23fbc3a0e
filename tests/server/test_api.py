"""Endpoint declarations: defaults, the checks that catch mistakes early, and Call helpers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import attrs
import pytest
from aiohttp import web

from scaicontrol_server import build_app
from scaicontrol_server.api import (
    AUTHENTICATED,
    PUBLIC,
    Call,
    Endpoint,
    PageParams,
    ResponseKind,
    paginate,
)
from scaicontrol_server.routes import ENDPOINTS
from scaicontrol_server.settings import Settings

Serving = Callable[[web.Application], AbstractContextManager[Any]]


@attrs.frozen(kw_only=True)
class ById:
    item_id: str


async def show_item(call: Call[None, None, ById]) -> dict[str, str]:
    """Show one item."""
    return {"id": call.path.item_id}


def _endpoint(**overrides: Any) -> Endpoint:
    values: dict[str, Any] = {"method": "get", "path": "/items/{item_id}", "handler": show_item,
                              "access": PUBLIC, "path_schema": ById,
                              "response_schema": dict[str, str]}
    values.update(overrides)
    return Endpoint(**values)


def test_defaults_come_from_the_handler() -> None:
    """Summary, description and operation id default the way FastAPI derives them."""
    endpoint = _endpoint()
    assert endpoint.method == "GET"
    assert endpoint.summary == "Show Item"
    assert endpoint.description == "Show one item."
    assert endpoint.operation_id == "show_item_api_v1_items__item_id__get"
    assert endpoint.full_path == "/api/v1/items/{item_id}"
    assert (endpoint.status, endpoint.is_public, endpoint.scope) == (200, True, None)


def test_access_forms() -> None:
    """Access is PUBLIC, AUTHENTICATED or a '<area>:<action>' scope; anything else fails."""
    assert _endpoint(access="admin:tenants").scope == "admin:tenants"
    assert _endpoint(access=AUTHENTICATED).scope is None
    for bad in ("admin", "Admin:Tenants", "", "admin:tenants:read"):
        with pytest.raises(ValueError, match="access"):
            _endpoint(access=bad)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"path": "/items/{other}"}, "do not match"),
        ({"path": "/items"}, "do not match"),
        ({"path": "/items/{item_id:\\d+}"}, "plain"),
        ({"path": "items/{item_id}"}, "start with"),
        ({"tag": "no-such-tag"}, "unknown tag"),
        ({"method": "TRACE"}, "method"),
        ({"body_schema": ById}, "GET endpoints take no body"),
        ({"response_schema": None}, "need a response_schema"),
        ({"kind": ResponseKind.EMPTY}, "no response_schema"),
        ({"status": 302}, "2xx"),
        ({"errors": {200}}, "4xx and 5xx"),
        ({"kind": ResponseKind.PAGE, "query_schema": PageParams}, "must not define"),
        ({"query_schema": dict}, "attrs class"),
    ],
)
def test_declaration_mistakes_are_refused(overrides: dict[str, Any], message: str) -> None:
    """Inconsistent declarations raise when the module defining them is imported."""
    with pytest.raises(ValueError, match=message):
        _endpoint(**overrides)


def test_empty_kind_defaults_to_204() -> None:
    """An endpoint without a body answers 204 unless told otherwise."""
    assert _endpoint(kind=ResponseKind.EMPTY, response_schema=None).status == 204


def test_route_table_is_consistent() -> None:
    """Operation ids and routes are unique; the probes and the OpenAPI document are public."""
    assert all(e.is_public for e in ENDPOINTS if e.prefix == "")
    assert len({e.operation_id for e in ENDPOINTS}) == len(ENDPOINTS)
    assert len({(e.method, e.full_path) for e in ENDPOINTS}) == len(ENDPOINTS)


def test_paginate_cuts_pages() -> None:
    """paginate returns the slice for the page and the full length as total."""
    page = paginate(list(range(45)), PageParams(page=3, page_size=20))
    assert (list(page.items), page.total) == ([40, 41, 42, 43, 44], 45)
    assert list(paginate([1, 2], PageParams(page=5)).items) == []


def _blocking_work(a: int, *, b: int) -> tuple[int, int]:
    return a + b, threading.get_ident()


async def run_in_thread(call: Call[None, None, None]) -> dict[str, Any]:
    total, thread = await call.run(_blocking_work, 2, b=3)
    return {"total": total, "other_thread": thread != threading.get_ident(),
            "storage": call.storage.name, "aware": call.now().tzinfo is not None,
            "request_id": call.request_id}


def test_call_runs_sync_code_in_a_thread_and_exposes_services(
    settings: Settings, plugins: list[object], serving: Serving
) -> None:
    """call.run executes off the event loop; storage, clock and request id are at hand."""
    endpoint = Endpoint(method="GET", path="/work", handler=run_in_thread, access=PUBLIC,
                        response_schema=dict[str, Any])
    with serving(build_app(settings, endpoints=[endpoint], plugins=plugins)) as running:
        reply = running.get("/api/v1/work", headers={"X-Request-Id": "r1"})
    assert reply.json()["data"] == {"total": 5, "other_thread": True, "storage": "memory",
                                    "aware": True, "request_id": "r1"}


async def wrong_shape(call: Call[None, None, None]) -> dict[str, int]:
    return {"not": 1}


@pytest.mark.parametrize("kind", [ResponseKind.PAGE, ResponseKind.LIST, ResponseKind.EMPTY])
def test_handler_returning_the_wrong_shape_is_a_500(
    settings: Settings, plugins: list[object], serving: Serving, kind: ResponseKind
) -> None:
    """A handler that breaks its declared kind is a server bug: 500 internal_error."""
    schema = None if kind is ResponseKind.EMPTY else dict[str, int]
    endpoint = Endpoint(method="POST", path="/wrong", handler=wrong_shape, access=PUBLIC,
                        kind=kind, response_schema=schema)
    with serving(build_app(settings, endpoints=[endpoint], plugins=plugins)) as running:
        reply = running.post("/api/v1/wrong")
    assert reply.status == 500
    assert reply.json()["error"]["code"] == "internal_error"

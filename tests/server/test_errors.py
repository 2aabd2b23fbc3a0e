"""The error table, unexpected errors, the body size limit and the authorization seam."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import attrs
import pytest
from aiohttp import web

from scaicontrol_core.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    Conflict,
    DuplicateRecord,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    StorageError,
    TenantScopeRequired,
    Unauthenticated,
    ValidationError,
)
from scaicontrol_server import build_app
from scaicontrol_server.api import AUTHENTICATED, PUBLIC, Call, Endpoint, ResponseKind
from scaicontrol_server.envelopes import ErrorCode
from scaicontrol_server.middlewares import ERROR_TABLE
from scaicontrol_server.settings import Settings

Serving = Callable[[web.Application], AbstractContextManager[Any]]

ERRORS: dict[str, BaseException] = {
    "validation": ValidationError("Amount must be positive", field="amount"),
    "not-found": NotFound("Invoice", "foo"),
    "conflict": Conflict("Subscription 'abc' is already active"),
    "duplicate": DuplicateRecord("Tenant", "tnt_1"),
    "stale": ConcurrencyConflict("Tenant", "tnt_1", 3),
    "transition": InvalidTransition("subscription", "cancelled", "activate"),
    "unauthenticated": Unauthenticated("Token expired"),
    "forbidden": PermissionDenied("Missing scope 'admin:tenants'"),
    "storage": StorageError("connection to 10.1.2.3:5432 refused"),
    "unexpected": RuntimeError("secret internals"),
    "tenant-scope": TenantScopeRequired("subscriptions needs a tenant"),
    "configuration": ConfigurationError("STRIPE_KEY missing"),
    "http-conflict": web.HTTPConflict(reason="Raised by aiohttp"),
}


@attrs.frozen(kw_only=True)
class Which:
    name: str


@attrs.frozen(kw_only=True)
class Note:
    text: str


async def raise_named(call: Call[None, None, Which]) -> None:
    raise ERRORS[call.path.name]


async def take_note(call: Call[Note, None, None]) -> None:
    return None


async def who_am_i(call: Call[Note, None, None]) -> dict[str, Any]:
    return {"principal": call.principal, "text": call.body.text}


ENDPOINTS = (
    Endpoint(method="GET", path="/raise/{name}", handler=raise_named, access=PUBLIC,
             path_schema=Which, kind=ResponseKind.EMPTY),
    Endpoint(method="POST", path="/notes", handler=take_note, access=PUBLIC, body_schema=Note,
             kind=ResponseKind.EMPTY),
    Endpoint(method="POST", path="/private", handler=who_am_i, access=AUTHENTICATED,
             body_schema=Note, response_schema=dict[str, Any]),
    Endpoint(method="POST", path="/admin", handler=who_am_i, access="admin:tenants",
             body_schema=Note, response_schema=dict[str, Any]),
)


@pytest.fixture
def app_client(settings: Settings, plugins: list[object], serving: Serving) -> Iterator[Any]:
    """A served app with the raising, note and private test endpoints (1 KiB body limit)."""
    app = build_app(settings, endpoints=ENDPOINTS, plugins=plugins, max_body_size=1024)
    with serving(app) as running:
        yield running


@pytest.mark.parametrize(
    ("name", "status", "code", "message"),
    [
        ("validation", 400, "bad_request", "Amount must be positive"),
        ("not-found", 404, "not_found", "Invoice 'foo' not found"),
        ("conflict", 409, "conflict", "Subscription 'abc' is already active"),
        ("duplicate", 409, "conflict", "Tenant 'tnt_1' already exists"),
        ("stale", 409, "conflict", None),
        ("transition", 400, "bad_request", "subscription: cannot apply 'activate' in state "
                                           "'cancelled'"),
        ("unauthenticated", 401, "unauthorized", "Token expired"),
        ("forbidden", 403, "forbidden", "Missing scope 'admin:tenants'"),
        ("storage", 503, "internal_error", "Storage is unavailable"),
        ("http-conflict", 409, "conflict", "Raised by aiohttp"),
    ],
)
def test_core_errors_map_to_status_and_code(
    app_client: Any, name: str, status: int, code: str, message: str | None
) -> None:
    """Each core error class becomes its documented status and code, message included."""
    reply = app_client.get(f"/api/v1/raise/{name}")
    assert reply.status == status
    error = reply.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == reply.headers["X-Request-Id"]
    if message is not None:
        assert error["message"] == message


@pytest.mark.parametrize("name", ["unexpected", "tenant-scope", "configuration"])
def test_unexpected_errors_are_500_without_leaking(
    app_client: Any, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Errors outside the table are 500 internal_error with a generic message, logged."""
    with caplog.at_level(logging.ERROR, logger="scaicontrol_server"):
        reply = app_client.get(f"/api/v1/raise/{name}")
    assert reply.status == 500
    assert reply.json()["error"]["code"] == "internal_error"
    assert reply.json()["error"]["message"] == "Internal server error"
    assert str(ERRORS[name]) not in reply.body.decode()
    assert any(record.exc_info for record in caplog.records)
    assert reply.headers["X-Request-Id"] in caplog.text


def test_storage_error_details_stay_in_the_log(
    app_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A storage failure's own words (hosts, SQL) are logged, never sent."""
    with caplog.at_level(logging.ERROR, logger="scaicontrol_server"):
        reply = app_client.get("/api/v1/raise/storage")
    assert "10.1.2.3" not in reply.body.decode()
    assert "10.1.2.3" in caplog.text


def test_unauthorized_answers_carry_a_bearer_challenge(app_client: Any) -> None:
    """401 responses include WWW-Authenticate: Bearer."""
    assert app_client.get("/api/v1/raise/unauthenticated").headers["WWW-Authenticate"] == "Bearer"


def test_error_table_only_uses_documented_codes() -> None:
    """Every table entry uses one of the six documented codes with a 4xx or 5xx status."""
    assert {m.code for m in ERROR_TABLE.values()} <= set(ErrorCode)
    assert {code.value for code in ErrorCode} == {
        "bad_request", "unauthorized", "forbidden", "not_found", "conflict", "internal_error"
    }
    assert all(400 <= m.status < 600 for m in ERROR_TABLE.values())


def test_body_over_the_limit_is_413_by_content_length(app_client: Any) -> None:
    """A declared body larger than the limit is refused with 413 bad_request."""
    reply = app_client.post("/api/v1/notes", json={"text": "x" * 2000})
    assert reply.status == 413
    assert reply.json()["error"]["code"] == "bad_request"
    assert "1024 bytes" in reply.json()["error"]["message"]


def test_chunked_body_over_the_limit_is_413(app_client: Any) -> None:
    """A body without Content-Length is cut off at the limit too."""

    async def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 512

    reply = app_client.post("/api/v1/notes", data=chunks())
    assert reply.status == 413
    assert reply.json()["error"]["code"] == "bad_request"


def test_body_under_the_limit_is_accepted(app_client: Any) -> None:
    """A body just under the limit is read and handled (204 here)."""
    reply = app_client.post("/api/v1/notes", json={"text": "x" * 900})
    assert reply.status == 204 and reply.body == b""


@pytest.mark.parametrize("path", ["/api/v1/private", "/api/v1/admin"])
def test_non_public_endpoints_without_authorizer_are_401(app_client: Any, path: str) -> None:
    """With no authorizer configured, non-public endpoints refuse every call with 401."""
    reply = app_client.post(path, json={"text": "hi"})
    assert reply.status == 401
    assert reply.json()["error"]["code"] == "unauthorized"


def test_access_is_checked_before_input(app_client: Any) -> None:
    """An unauthenticated call with a bad body gets 401, not 422."""
    assert app_client.post("/api/v1/private", json={"wrong": 1}).status == 401


class FakeAuthorizer:
    """Lets in callers whose token is 'good'; only 'admin' holds admin:tenants."""

    async def authorize(self, request: web.Request, endpoint: Endpoint) -> object:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in ("good", "admin"):
            raise Unauthenticated("Invalid token")
        if endpoint.scope is not None and token != "admin":
            raise PermissionDenied(f"Missing scope '{endpoint.scope}'")
        return f"usr_{token}"


@pytest.mark.parametrize(
    ("path", "token", "status"),
    [
        ("/api/v1/private", None, 401),
        ("/api/v1/private", "good", 200),
        ("/api/v1/admin", "good", 403),
        ("/api/v1/admin", "admin", 200),
        ("/api/v1/raise/not-found", "nonsense", 404),
    ],
)
def test_authorizer_decides_for_non_public_endpoints(
    settings: Settings, plugins: list[object], serving: Serving,
    path: str, token: str | None, status: int,
) -> None:
    """A supplied authorizer admits, refuses (401) or forbids (403); public ones skip it."""
    app = build_app(settings, endpoints=ENDPOINTS, plugins=plugins, authorizer=FakeAuthorizer())
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with serving(app) as running:
        method = "GET" if "raise" in path else "POST"
        reply = running.request(method, path, json={"text": "hi"}, headers=headers)
    assert reply.status == status
    if status == 200:
        assert reply.json()["data"] == {"principal": f"usr_{token}", "text": "hi"}

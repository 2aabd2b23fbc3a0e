"""Success envelopes, request ids, content types, and the unknown path and method envelopes."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from scaicontrol_core.clock import ManualClock
from scaicontrol_server import create_app
from scaicontrol_server.settings import Settings

Serving = Callable[[web.Application], AbstractContextManager[Any]]
REQUEST_ID = re.compile(r"^req_[0-9a-f]{32}$")
CURRENCY = "/api/v1/lookups/currencies/EUR"


def test_single_object_envelope_has_data_and_meta(client: Any) -> None:
    """A single object comes back as {data, meta} and nothing else."""
    reply = client.get(CURRENCY)
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"data", "meta"}
    assert body["data"] == {"code": "EUR", "name": "Euro", "minor_units": 2}
    assert set(body["meta"]) == {"request_id", "timestamp"}


def test_generated_request_id_is_echoed_in_header_and_meta(client: Any) -> None:
    """Without an incoming id, a fresh req_ id appears in both the header and meta."""
    first, second = client.get(CURRENCY), client.get(CURRENCY)
    rid = first.headers["X-Request-Id"]
    assert REQUEST_ID.match(rid)
    assert first.json()["meta"]["request_id"] == rid
    assert second.headers["X-Request-Id"] != rid


def test_sane_incoming_request_id_is_reused(client: Any) -> None:
    """A well-formed X-Request-Id from the caller is kept and echoed."""
    reply = client.get(CURRENCY, headers={"X-Request-Id": "trace-42:abc.DEF_1"})
    assert reply.headers["X-Request-Id"] == "trace-42:abc.DEF_1"
    assert reply.json()["meta"]["request_id"] == "trace-42:abc.DEF_1"


@pytest.mark.parametrize("incoming", ["has space", "x" * 129, "semi;colon", "ünï"])
def test_malformed_incoming_request_id_is_replaced(client: Any, incoming: str) -> None:
    """An incoming id that is not a sane token is ignored in favour of a fresh one."""
    reply = client.get(CURRENCY, headers={"X-Request-Id": incoming})
    assert REQUEST_ID.match(reply.headers["X-Request-Id"])


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/lookups/currencies/XYZ", 404),
        ("GET", "/api/v1/lookups/currencies/12", 422),
        ("GET", "/no/such/path", 404),
        ("DELETE", CURRENCY, 405),
        ("GET", "/healthz", 200),
    ],
)
def test_every_response_carries_the_request_id(
    client: Any, method: str, path: str, status: int
) -> None:
    """Errors, 422s and raw responses echo X-Request-Id too."""
    reply = client.request(method, path, headers={"X-Request-Id": "abc123"})
    assert reply.status == status
    assert reply.headers["X-Request-Id"] == "abc123"


def test_error_envelope_repeats_the_request_id(client: Any) -> None:
    """The error body's request_id equals the header."""
    reply = client.get("/api/v1/lookups/currencies/XYZ")
    assert reply.json() == {
        "error": {
            "code": "not_found",
            "message": "Currency 'XYZ' not found",
            "request_id": reply.headers["X-Request-Id"],
        }
    }


def test_json_responses_declare_utf8(client: Any) -> None:
    """JSON bodies are sent as application/json; charset=utf-8."""
    for path in (CURRENCY, "/no/such/path", "/healthz", "/openapi.json"):
        assert client.get(path).headers["Content-Type"] == "application/json; charset=utf-8"


def test_meta_timestamp_comes_from_the_app_clock(
    settings: Settings, plugins: list[object], serving: Serving
) -> None:
    """meta.timestamp is the injected clock's time in ISO 8601 with +00:00."""
    clock = ManualClock(datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    with serving(create_app(settings, plugins=plugins, clock=clock)) as running:
        meta = running.get(CURRENCY).json()["meta"]
    assert meta["timestamp"] == "2026-03-01T09:30:00+00:00"


def test_unknown_path_is_a_not_found_envelope(client: Any) -> None:
    """aiohttp's own 404 comes out as the error envelope naming the path."""
    reply = client.get("/api/v1/nothing-here")
    assert reply.status == 404
    error = reply.json()["error"]
    assert error["code"] == "not_found"
    assert error["message"] == "Path '/api/v1/nothing-here' not found"


def test_wrong_method_is_405_bad_request_with_allow(client: Any) -> None:
    """A known path with the wrong method is 405, code bad_request, with an Allow header."""
    reply = client.request("PUT", CURRENCY)
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET"
    error = reply.json()["error"]
    assert error["code"] == "bad_request"
    assert "PUT" in error["message"]

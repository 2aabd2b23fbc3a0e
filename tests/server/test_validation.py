"""Request validation: 422 details for bad query, path and body input, and never a 500."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from scaicontrol_core.money import Money
from scaicontrol_server import build_app
from scaicontrol_server.api import PUBLIC, Call, Endpoint, ResponseKind
from scaicontrol_server.fields import field
from scaicontrol_server.settings import Settings

Serving = Callable[[web.Application], AbstractContextManager[Any]]


class Colour(enum.StrEnum):
    RED = "red"
    GREEN = "green"


@attrs.frozen(kw_only=True)
class Line:
    sku: str = field(min_length=1, max_length=12)
    quantity: int = field(ge=1)
    price: Decimal


@attrs.frozen(kw_only=True)
class Order:
    name: str
    colour: Colour
    lines: list[Line]
    tags: dict[str, int] = attrs.field(factory=dict)
    note: str | None = None
    due: datetime | None = None
    total: Money | None = None
    flags: tuple[bool, ...] = ()
    code: str = attrs.field(default="AAA", validator=attrs.validators.matches_re(r"^[A-Z]{3}$"))


@attrs.frozen(kw_only=True)
class Filters:
    count: int = 1
    active: bool | None = None
    colour: Colour | None = None
    ratio: float = field(default=0.5, ge=0, le=1)
    ids: list[int] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class ItemPath:
    number: int = field(ge=1)


async def echo_order(call: Call[Order, None, None]) -> Order:
    return call.body


async def echo_filters(call: Call[None, Filters, ItemPath]) -> dict[str, Any]:
    return {"query": call.query, "number": call.path.number}


ENDPOINTS = (
    Endpoint(method="POST", path="/orders", handler=echo_order, access=PUBLIC,
             body_schema=Order, response_schema=Order, status=201),
    Endpoint(method="GET", path="/items/{number}", handler=echo_filters, access=PUBLIC,
             query_schema=Filters, path_schema=ItemPath, kind=ResponseKind.RAW),
)
GOOD = {
    "name": "first",
    "colour": "red",
    "lines": [{"sku": "A-1", "quantity": 2, "price": "9.99"}],
    "due": "2026-03-01T10:00:00+01:00",
    "total": {"amount": 1998, "currency": "EUR"},
}


@pytest.fixture
def orders(settings: Settings, plugins: list[object], serving: Serving) -> Iterator[Any]:
    """A served app with the test-only order and item endpoints."""
    with serving(build_app(settings, endpoints=ENDPOINTS, plugins=plugins)) as running:
        yield running


JSON = {"Content-Type": "application/json"}


def _detail(reply: Any) -> list[dict[str, Any]]:
    assert reply.status == 422, reply.body
    detail: list[dict[str, Any]] = reply.json()["detail"]
    assert set(reply.json()) == {"detail"}
    for item in detail:
        assert set(item) == {"loc", "msg", "type"} and item["loc"][0] in ("body", "query", "path")
    return detail


def _locs(reply: Any) -> dict[tuple[Any, ...], str]:
    return {tuple(item["loc"]): item["type"] for item in _detail(reply)}


def test_valid_body_is_structured_and_echoed(orders: Any) -> None:
    """A good body reaches the handler as typed values and comes back normalised."""
    reply = orders.post("/api/v1/orders", json=GOOD)
    assert reply.status == 201
    data = reply.json()["data"]
    assert data["due"] == "2026-03-01T09:00:00+00:00"
    assert data["lines"][0]["price"] == "9.99" and data["tags"] == {}


def test_bad_json_is_json_invalid(orders: Any) -> None:
    """Unparseable JSON is one json_invalid issue located in the body."""
    reply = orders.post("/api/v1/orders", data=b'{"name": ', headers=JSON)
    (issue,) = _detail(reply)
    assert issue["type"] == "json_invalid" and issue["loc"][0] == "body"


@pytest.mark.parametrize("raw", [b"", b"   ", b"NaN", b'{"x": 1e999}', b"[" * 100_000])
def test_empty_or_non_json_bodies_are_422(orders: Any, raw: bytes) -> None:
    """Empty bodies, NaN, overflowing numbers and absurd nesting are 422, not 500."""
    reply = orders.post("/api/v1/orders", data=raw, headers=JSON)
    assert {issue["type"] for issue in _detail(reply)} <= {"missing", "json_invalid"}


def test_non_json_content_type_is_refused(orders: Any) -> None:
    """A body declared as form data is a 422 content_type issue."""
    reply = orders.post("/api/v1/orders", data=json.dumps(GOOD),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert _locs(reply) == {("body",): "content_type"}


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8",
                                          "application/merge-patch+json"])
def test_json_bodies_need_no_or_a_json_content_type(
    orders: Any, content_type: str | None
) -> None:
    """A body without Content-Type, or with any JSON media type, is parsed."""
    headers = {"Content-Type": content_type} if content_type else {}
    reply = orders.post("/api/v1/orders", data=json.dumps(GOOD).encode(), headers=headers,
                        skip_auto_headers=["Content-Type"])
    assert reply.status == 201, reply.body


def test_body_must_be_an_object(orders: Any) -> None:
    """A JSON array where an object is expected is model_attributes_type at ['body']."""
    assert _locs(orders.post("/api/v1/orders", json=[GOOD])) == {
        ("body",): "model_attributes_type"
    }


def test_missing_and_wrongly_typed_fields_are_all_reported(orders: Any) -> None:
    """Every problem is listed at once, with full paths and list indexes as integers."""
    body = {
        "colour": "blue",
        "lines": [{"sku": "A", "quantity": "2", "price": "x"}, {"sku": 5, "price": "1"}],
        "tags": {"a": 1, "b": "two"},
        "note": 7,
        "flags": [True, "yes"],
        "code": "lower",
    }
    assert _locs(orders.post("/api/v1/orders", json=body)) == {
        ("body", "name"): "missing",
        ("body", "colour"): "enum",
        ("body", "lines", 0, "quantity"): "int_type",
        ("body", "lines", 0, "price"): "value_error",
        ("body", "lines", 1, "sku"): "string_type",
        ("body", "lines", 1, "quantity"): "missing",
        ("body", "tags", "b"): "int_type",
        ("body", "note"): "string_type",
        ("body", "flags", 1): "bool_type",
        ("body", "code"): "value_error",
    }


def test_enum_message_lists_the_choices(orders: Any) -> None:
    """An unknown enum value names the accepted values."""
    detail = _detail(orders.post("/api/v1/orders", json={**GOOD, "colour": "blue"}))
    assert detail == [{"loc": ["body", "colour"], "msg": "Input should be 'red' or 'green'",
                       "type": "enum"}]


def test_constraint_validators_locate_nested_fields(orders: Any) -> None:
    """field() constraints inside list items report the item index and field name."""
    lines = [{"sku": "", "quantity": 0, "price": "1"}]
    assert _locs(orders.post("/api/v1/orders", json={**GOOD, "lines": lines})) == {
        ("body", "lines", 0, "sku"): "string_too_short",
        ("body", "lines", 0, "quantity"): "greater_than_equal",
    }


@pytest.mark.parametrize(
    ("field_name", "value", "kind"),
    [
        ("lines", "abc", "list_type"),
        ("lines", {"sku": "A"}, "list_type"),
        ("tags", [1, 2], "dict_type"),
        ("total", [1998, "EUR"], "model_attributes_type"),
        ("total", {"amount": "1", "currency": "EUR"}, "type_error"),
        ("total", {"amount": 1, "currency": "XXX"}, "value_error"),
        ("due", "2026-03-01T10:00:00", "value_error"),
        ("due", "yesterday", "value_error"),
        ("code", "lower", "value_error"),
    ],
)
def test_shapes_and_core_types_are_checked(
    orders: Any, field_name: str, value: Any, kind: str
) -> None:
    """Strings never pass as lists, arrays never as objects; core values and plain attrs
    validators are checked."""
    reply = orders.post("/api/v1/orders", json={**GOOD, field_name: value})
    assert _locs(reply) == {("body", field_name): kind}


def test_query_and_path_strings_are_converted(orders: Any) -> None:
    """Query and path strings become ints, bools, enums and repeated-parameter lists."""
    reply = orders.get("/api/v1/items/7?count=3&active=yes&colour=green&ratio=0.25&ids=1&ids=2")
    assert reply.status == 200, reply.body
    assert reply.json() == {
        "query": {"count": 3, "active": True, "colour": "green", "ratio": 0.25, "ids": [1, 2]},
        "number": 7,
    }


def test_query_and_path_problems_are_reported_together(orders: Any) -> None:
    """Bad path and query values all appear in one 422, located by source."""
    reply = orders.get("/api/v1/items/x?count=two&active=maybe&colour=blue&ratio=2&ids=1&ids=z")
    assert _locs(reply) == {
        ("path", "number"): "int_parsing",
        ("query", "count"): "int_parsing",
        ("query", "active"): "bool_parsing",
        ("query", "colour"): "enum",
        ("query", "ratio"): "less_than_equal",
        ("query", "ids", 1): "int_parsing",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"page": "0"}, {("query", "page"): "greater_than_equal"}),
        ({"page_size": "101"}, {("query", "page_size"): "less_than_equal"}),
        ({"page_size": "0"}, {("query", "page_size"): "greater_than_equal"}),
        ({"page": "one"}, {("query", "page"): "int_parsing"}),
        ({"page": "1.5", "q": "x" * 65}, {("query", "page"): "int_parsing",
                                          ("query", "q"): "string_too_long"}),
    ],
)
def test_pagination_parameters_are_range_checked(
    client: Any, params: dict[str, str], expected: dict[tuple[str, ...], str]
) -> None:
    """page >= 1 and 1 <= page_size <= 100, as integers, or 422."""
    assert _locs(client.get("/api/v1/lookups/currencies", params=params)) == expected


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
ORDERISH = st.fixed_dictionaries(
    {},
    optional={
        name: JSON_VALUES | st.just(GOOD.get(name, "x"))
        for name in ("name", "colour", "lines", "tags", "note", "due", "total", "flags", "code")
    },
)


def test_random_json_bodies_never_cause_a_500(
    settings: Settings, plugins: list[object], serving: Serving
) -> None:
    """Whatever JSON (or bytes) is posted, the answer is 201 or a well-formed 422."""
    app = build_app(settings, endpoints=ENDPOINTS, plugins=plugins)
    statuses: set[int] = set()
    with serving(app) as running:

        @hypothesis_settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
        @given(body=JSON_VALUES | ORDERISH | st.binary(max_size=64) | st.just(GOOD))
        def check(body: Any) -> None:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            reply = running.post("/api/v1/orders", data=raw, headers=JSON)
            assert reply.status in (201, 422), reply.body
            statuses.add(reply.status)
            if reply.status == 422:
                assert "content_type" not in {issue["type"] for issue in _detail(reply)}

        check()
    assert 422 in statuses


def test_random_query_strings_never_cause_a_500(client: Any) -> None:
    """Arbitrary page, page_size and q values give 200 or 422."""

    @hypothesis_settings(deadline=None)
    @given(params=st.dictionaries(st.sampled_from(["page", "page_size", "q"]), st.text()))
    def check(params: dict[str, str]) -> None:
        reply = client.get("/api/v1/lookups/currencies", params=params)
        assert reply.status in (200, 422), reply.body

    check()

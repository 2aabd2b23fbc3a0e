"""The hand-written batch check agrees with the generic validation on every body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaicontrol_core.serialization import make_converter
from scaicontrol_server.routes._metering_batch import parse_usage_batch
from scaicontrol_server.routes.metering import UsageEventsRequest, usage_reports
from scaicontrol_server.validation import structure

CONVERTER = make_converter()


def event(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tenant_id": "tnt_demo_acme", "service_slug": "scaikey", "metric_slug": "logins",
        "quantity": 3, "occurred_at": "2026-03-15T11:59:00+00:00", "idempotency_key": "k-1",
        "properties": {"user_id": "u1"},
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not _DROP}


_DROP = object()


def agree(body: Any) -> bool:
    """Check one body; returns whether the fast path took it."""
    slow, issues = structure(CONVERTER, body, UsageEventsRequest, ("body",))
    fast = parse_usage_batch(body)
    if issues:
        assert fast is None, issues
        return False
    if fast is not None:
        assert list(fast.reports) == list(usage_reports(slow))
    return fast is not None


VALID = [
    {"events": [event()]},
    {"events": [event(service_slug=_DROP)]},
    {"events": [event(service_slug=None)]},
    {"events": [event(properties=_DROP)]},
    {"events": [event(properties={"user_id": 7, "nested": {"a": [1, None]}})]},
    {"events": [event(occurred_at="2026-03-15T13:59:00+02:00")]},
    {"events": [event(occurred_at="2026-03-15T11:59:00Z")]},
    {"events": [event(occurred_at="2026-03-15T11:59:00.123456-05:30")]},
    {"events": [event(quantity=0), event(quantity=10**12, idempotency_key="k-2")]},
    {"events": [event(tenant_id="t" * 36, idempotency_key="k" * 255)]},
    {"events": [event(metric_slug="a" * 63, service_slug="b.c_d-9")]},
    {"events": [event(extra="ignored")], "also": "ignored"},
    {"events": [event(idempotency_key=f"k-{n}") for n in range(1000)]},
]

INVALID = [
    None, [], "events", {"events": None}, {"events": []}, {"events": {}},
    {"events": [event() for _ in range(1001)]},
    {"events": [None]}, {"events": ["x"]},
    {"events": [event(tenant_id=_DROP)]}, {"events": [event(tenant_id="")]},
    {"events": [event(tenant_id="t" * 37)]}, {"events": [event(tenant_id=5)]},
    {"events": [event(metric_slug="Logins")]}, {"events": [event(metric_slug="")]},
    {"events": [event(metric_slug="a" * 64)]}, {"events": [event(metric_slug=None)]},
    {"events": [event(metric_slug=["logins"])]}, {"events": [event(service_slug="-x")]},
    {"events": [event(service_slug=1)]}, {"events": [event(service_slug={"a": 1})]},
    {"events": [event(quantity=-1)]}, {"events": [event(quantity=10**12 + 1)]},
    {"events": [event(quantity=1.0)]}, {"events": [event(quantity=True)]},
    {"events": [event(quantity="1")]}, {"events": [event(quantity=_DROP)]},
    {"events": [event(occurred_at="2026-03-15T11:59:00")]},
    {"events": [event(occurred_at="yesterday")]}, {"events": [event(occurred_at=0)]},
    {"events": [event(occurred_at=None)]}, {"events": [event(occurred_at=_DROP)]},
    {"events": [event(idempotency_key="")]}, {"events": [event(idempotency_key="k" * 256)]},
    {"events": [event(idempotency_key=None)]}, {"events": [event(properties=None)]},
    {"events": [event(properties=[1])]}, {"events": [event(properties="x")]},
    {"events": [event(), event(quantity=-5, idempotency_key="k-2")]},
]


@pytest.mark.parametrize("body", VALID, ids=range(len(VALID)))
def test_valid_bodies_take_the_fast_path_with_equal_reports(body: Any) -> None:
    """Every valid body is built by the fast path, exactly as the generic path builds it."""
    assert agree(json.loads(json.dumps(body)))


@pytest.mark.parametrize("body", INVALID, ids=range(len(INVALID)))
def test_invalid_bodies_are_left_to_the_generic_path(body: Any) -> None:
    """Every invalid body is refused by the fast path, so the generic 422 is answered."""
    data = json.loads(json.dumps(body))
    assert structure(CONVERTER, data, UsageEventsRequest, ("body",))[1]
    assert parse_usage_batch(data) is None


_ANY = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 10**12 + 2), st.floats(allow_nan=False),
    st.text(max_size=5), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_CANDIDATES = {
    "tenant_id": ["", "t" * 36, "t" * 37],
    "service_slug": ["Bad", "x\n", "a" * 63, "a" * 64, None],
    "metric_slug": ["a.b", "-a", "a" * 63, "a" * 64],
    "quantity": [0, 10**12, 10**12 + 1, -1, 2.0, False],
    "occurred_at": ["2026-03-15T11:59:00", "2026-03-15", "2026-03-15T11:59Z",
                    "2026-03-15 11:59:00.5+01:00", "nope"],
    "idempotency_key": ["", "k" * 255, "k" * 256],
    "properties": [{}, None, []],
}


@st.composite
def near_valid_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with up to two fields replaced by edge values, junk, or left out."""
    values = event(idempotency_key=f"k-{draw(st.integers(0, 3))}")
    for name in draw(st.lists(st.sampled_from(sorted(_CANDIDATES)), max_size=2, unique=True)):
        values[name] = draw(st.one_of(st.sampled_from([*_CANDIDATES[name], _DROP]), _ANY))
    return {name: value for name, value in values.items() if value is not _DROP}


_SINGLE = [(name, value) for name, values in sorted(_CANDIDATES.items())
           for value in [*values, _DROP]]


@pytest.mark.parametrize(("name", "value"), _SINGLE, ids=[f"{n}-{i}" for i, (n, _) in
                                                          enumerate(_SINGLE)])
def test_every_single_edge_value_agrees(name: str, value: Any) -> None:
    """Each field set to each edge value (or left out) gets the same verdict on both paths."""
    agree({"events": [event(), event(**{"idempotency_key": "k-2", name: value})]})


@settings(max_examples=300, deadline=None)
@given(st.lists(near_valid_events(), max_size=3), st.booleans())
def test_fast_path_never_accepts_what_the_generic_path_refuses(
    events: list[dict[str, Any]], wrapped: bool
) -> None:
    """On arbitrary near-valid events the fast path either agrees or steps aside."""
    agree({"events": events} if wrapped else events)

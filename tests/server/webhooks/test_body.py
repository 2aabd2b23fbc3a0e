"""Delivery bodies by orjson: byte for byte the core's canonical JSON, or the same refusal."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.errors import ValidationError
from scaicontrol_core.events import canonical_json, envelope_to_dict
from scaicontrol_core.events.topics import Topic
from scaicontrol_core.ids import SequentialIds
from scaicontrol_core.plain_json import is_plain
from scaicontrol_core.webhooks.samples import sample_event
from scaicontrol_server import webhook_body
from scaicontrol_server.webhook_body import render_body


class Colour(enum.Enum):
    RED = "red"


class Size(enum.StrEnum):
    BIG = "big"


def outcome(render: Any, document: Any) -> bytes | str:
    try:
        return bytes(render(document))
    except ValidationError:
        return "refused"


def texts() -> st.SearchStrategy[str]:
    # every code point, lone surrogates and control characters included
    return st.text(st.characters(codec=None, categories=None), max_size=12)


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), texts(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.integers(),  # beyond 64 bits too
    st.floats(),  # NaN and infinities too
)
ODD_SCALARS = st.sampled_from(
    [Colour.RED, Size.BIG, uuid.UUID(int=7), datetime(2026, 1, 1, tzinfo=UTC), b"x"])
KEYS = st.one_of(texts(), texts(), st.integers(-5, 5), st.just(Size.BIG))


def documents(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[Any, Any]]:
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(KEYS, inner, max_size=4),
        ),
        max_leaves=20,
    )
    return st.dictionaries(texts(), values, max_size=5)


@given(documents(JSON_SCALARS))
def test_any_json_document_renders_as_canonical_json_does(document: dict[Any, Any]) -> None:
    assert outcome(render_body, document) == outcome(canonical_json, document)


@given(documents(st.one_of(JSON_SCALARS, ODD_SCALARS)))
def test_documents_with_other_objects_render_as_canonical_json_does(
    document: dict[Any, Any]
) -> None:
    assert outcome(render_body, document) == outcome(canonical_json, document)


def valid_texts() -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8"), max_size=12)  # no lone surrogates


@given(st.dictionaries(valid_texts(), st.recursive(
    st.one_of(st.none(), st.booleans(), valid_texts(), st.integers(-(2**63), 2**64 - 1)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(valid_texts(), inner, max_size=4)),
    max_leaves=20)))
def test_plain_documents_take_the_orjson_path(document: dict[str, Any]) -> None:
    """A plain document is recognised as such, and orjson alone renders it exactly."""
    assert is_plain(document)
    assert orjson.dumps(document, option=webhook_body._OPTIONS) == canonical_json(document)


@pytest.mark.parametrize("document", [
    {"x": float("nan")}, {"x": [1.0]}, {"x": 1e16}, {"x": {"y": -0.0}},
    {"x": 2**64}, {"x": -(2**63) - 1}, {1: "int key"}, {"x": (1, 2)},
    {"x": Colour.RED}, {"x": Size.BIG}, {Size.BIG: 1}, {"x": uuid.UUID(int=1)},
    {"x": "\ud800"}, {"x": "\x00\x1f\x7f\u2028\"\\/"}, {"é": 1, "z": 2, "\U0001f600": 3},
])
def test_edge_cases_match(document: dict[Any, Any]) -> None:
    assert outcome(render_body, document) == outcome(canonical_json, document)


@pytest.mark.parametrize("topic", list(Topic))
def test_every_sample_event_renders_to_its_signed_bytes(topic: Topic) -> None:
    envelope = sample_event(topic, now=datetime(2026, 3, 1, tzinfo=UTC), ids=SequentialIds())
    document = json.loads(canonical_json(envelope_to_dict(envelope)))
    assert render_body(document) == canonical_json(document)

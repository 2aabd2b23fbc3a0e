"""Test events: every topic has a sample that validates against its published schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from scaicontrol_core.events import Topic, envelope_to_json, event_schema, parse_envelope
from scaicontrol_core.ids import SequentialIds
from scaicontrol_core.webhooks.samples import sample_event

NOW = datetime(2026, 6, 1, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize("topic", list(Topic), ids=[t.value for t in Topic])
def test_sample_events_validate_and_are_marked_as_tests(topic: Topic) -> None:
    """The sample body of each topic passes its schema and carries a test lifecycle step."""
    envelope = sample_event(topic, now=NOW, ids=SequentialIds(3))
    body = envelope_to_json(envelope)
    Draft202012Validator(event_schema(topic), format_checker=FormatChecker()).validate(
        json.loads(body)
    )
    assert parse_envelope(body) == envelope
    assert envelope.idempotency_key.endswith(f":test.{envelope.event_id}")


def test_two_samples_never_share_a_key() -> None:
    """Each test event has its own idempotency key, so it is never deduplicated away."""
    ids = SequentialIds()
    first = sample_event(Topic.SUBSCRIPTION_ACTIVATED, now=NOW, ids=ids)
    second = sample_event(Topic.SUBSCRIPTION_ACTIVATED, now=NOW, ids=ids)
    assert first.idempotency_key != second.idempotency_key

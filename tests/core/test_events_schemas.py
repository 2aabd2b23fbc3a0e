"""The published JSON Schemas are valid draft 2020-12 and docs/events.md shows them verbatim."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from scaicontrol_core.events import (
    DRAFT,
    ENVELOPE_SCHEMA,
    Topic,
    envelope_schema,
    envelope_to_json,
    event_schema,
    parse_envelope,
    payload_schema,
)
from scaicontrol_core.machines import DELIVERY

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"
_FENCE = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def render_json(schema: dict[str, Any]) -> str:
    """How docs/events.md prints a schema."""
    return json.dumps(schema, indent=2, ensure_ascii=False)


def _type_label(spec: dict[str, Any]) -> str:
    kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    base = next(kind for kind in kinds if kind != "null")
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "enum" in spec:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in spec["enum"] if v is not None)
    if spec.get("format") == "date-time":
        return "date-time string"
    if base == "array":
        return f"array of {spec['items']['type']}"
    if "minimum" in spec:
        return f"{base} ≥ {spec['minimum']}"
    return base


def render_payload_table(schema: dict[str, Any]) -> str:
    """The field table docs/events.md prints for a payload schema."""
    lines = ["| Field | Type | Null? | Meaning |", "|---|---|---|---|"]
    for name, spec in schema["properties"].items():
        nullable = isinstance(spec["type"], list) and "null" in spec["type"]
        label = _type_label(spec)
        lines.append(
            f"| `{name}` | {label} | {'yes' if nullable else 'no'} | {spec['description']} |"
        )
    return "\n".join(lines)


def _section(text: str, topic: Topic) -> str:
    heading = f"### `{topic.value}`"
    assert heading in text, f"docs/events.md has no section {heading}"
    start = text.index(heading) + len(heading)
    following = re.search(r"^##+ ", text[start:], re.MULTILINE)
    end = start + following.start() if following else len(text)
    return text[start:end]


@pytest.fixture(scope="module")
def docs_text() -> str:
    """The text of docs/events.md."""
    return DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("topic", list(Topic))
def test_schemas_are_valid_draft_2020_12(topic: Topic) -> None:
    """Every payload and event schema passes the draft 2020-12 metaschema."""
    for schema in (payload_schema(topic), event_schema(topic)):
        assert schema["$schema"] == DRAFT
        Draft202012Validator.check_schema(schema)


def test_the_envelope_schema_is_valid_and_requires_all_seven_fields() -> None:
    """ENVELOPE_SCHEMA is a valid schema requiring the documented envelope fields."""
    Draft202012Validator.check_schema(ENVELOPE_SCHEMA)
    assert ENVELOPE_SCHEMA["required"] == [
        "event_id",
        "event_type",
        "event_version",
        "occurred_at",
        "source",
        "idempotency_key",
        "data",
    ]
    assert ENVELOPE_SCHEMA["properties"]["source"]["const"] == "scaicontrol"
    assert envelope_schema() == ENVELOPE_SCHEMA
    assert envelope_schema() is not ENVELOPE_SCHEMA


def test_schema_functions_return_fresh_copies() -> None:
    """Mutating a returned schema does not change the next one."""
    schema = payload_schema(Topic.SUBSCRIPTION_ACTIVATED)
    schema["properties"].clear()
    assert payload_schema(Topic.SUBSCRIPTION_ACTIVATED)["properties"]


@pytest.mark.parametrize("topic", list(Topic))
def test_docs_publish_each_topic_schema_exactly(docs_text: str, topic: Topic) -> None:
    """The topic's section contains its data schema exactly as the code renders it."""
    blocks = _FENCE.findall(_section(docs_text, topic))
    assert render_json(payload_schema(topic)) in blocks


@pytest.mark.parametrize("topic", list(Topic))
def test_docs_payload_tables_match_the_schema(docs_text: str, topic: Topic) -> None:
    """The topic's field table lists exactly the schema's fields, types and nullability."""
    assert render_payload_table(payload_schema(topic)) in _section(docs_text, topic)


@pytest.mark.parametrize("topic", list(Topic))
def test_docs_examples_are_valid_events(docs_text: str, topic: Topic) -> None:
    """Every example in a topic's section validates and parses as an event of that topic."""
    schema_text = render_json(payload_schema(topic))
    examples = [b for b in _FENCE.findall(_section(docs_text, topic)) if b != schema_text]
    assert examples, f"no example for {topic.value}"
    validator = Draft202012Validator(event_schema(topic))
    for example in examples:
        document = json.loads(example)
        validator.validate(document)
        envelope = parse_envelope(example.encode())
        assert envelope.event_type is topic
        assert json.loads(envelope_to_json(envelope)) == document


def test_docs_publish_the_envelope_schema(docs_text: str) -> None:
    """The envelope schema appears verbatim."""
    assert render_json(ENVELOPE_SCHEMA) in _FENCE.findall(docs_text)


def test_docs_draw_the_delivery_machine_from_its_table(docs_text: str) -> None:
    """The delivery state diagram in the docs is the one generated from TRANSITIONS."""
    assert f"```mermaid\n{DELIVERY.to_mermaid()}\n```" in docs_text

"""JSON Schemas (draft 2020-12) of the envelope and of every topic's ``data``.

They are generated from the payload classes, so the published schema and the validation
applied when a payload is built are one description. Every call returns a fresh dict.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from ._model import DATE_TIME_PATTERN, schema_of_class
from .catalog import payload_type
from .topics import EVENT_VERSION, SOURCE, Topic

__all__ = [
    "DRAFT",
    "ENVELOPE_SCHEMA",
    "envelope_schema",
    "event_schema",
    "payload_schema",
]

DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"
_UUID4_PATTERN: Final = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
_SEGMENT: Final = r"[A-Za-z0-9_.\-]{1,64}"
_KEY_PATTERN: Final = rf"^{_SEGMENT}:{_SEGMENT}:{_SEGMENT}:[A-Za-z0-9_.:\-]{{1,128}}$"


def _envelope_properties(event_type: dict[str, Any], version_pattern: str) -> dict[str, Any]:
    return {
        "event_id": {
            "description": "UUIDv4 of this event; repeated in X-ScaiControl-Event-Id.",
            "type": "string",
            "pattern": _UUID4_PATTERN,
        },
        "event_type": {"description": "Topic name without version suffix.", **event_type},
        "event_version": {
            "description": "MAJOR.MINOR version of the payload schema.",
            "type": "string",
            "pattern": version_pattern,
        },
        "occurred_at": {
            "description": "When the domain change happened (not when it was sent).",
            "type": "string",
            "format": "date-time",
            "pattern": DATE_TIME_PATTERN,
        },
        "source": {"description": "Always scaicontrol.", "type": "string", "const": SOURCE},
        "idempotency_key": {
            "description": "<resource_type>:<resource_id>:<event>:<lifecycle_step>; "
            "the same for every retry and every subscriber of one logical event.",
            "type": "string",
            "pattern": _KEY_PATTERN,
        },
        "data": {"description": "Topic-specific payload.", "type": "object"},
    }


def _envelope(
    schema_id: str, title: str, event_type: dict[str, Any], version_pattern: str
) -> dict[str, Any]:
    properties = _envelope_properties(event_type, version_pattern)
    return {
        "$schema": DRAFT,
        "$id": schema_id,
        "title": title,
        "type": "object",
        "properties": properties,
        "required": list(properties),
    }


#: The envelope of any topic, ``data`` left open. Treat as read-only; see :func:`envelope_schema`.
ENVELOPE_SCHEMA: Final[dict[str, Any]] = _envelope(
    "urn:scaicontrol:events:envelope",
    "ScaiControl event envelope",
    {"type": "string", "enum": [topic.value for topic in Topic]},
    r"^\d+\.\d+$",
)


def envelope_schema() -> dict[str, Any]:
    """A fresh copy of :data:`ENVELOPE_SCHEMA`."""
    return copy.deepcopy(ENVELOPE_SCHEMA)


def payload_schema(topic: Topic | str) -> dict[str, Any]:
    """The schema of ``data`` for ``topic``."""
    topic = Topic(topic)
    cls = payload_type(topic)
    summary = (cls.__doc__ or "").strip().splitlines()[0].replace("``", "")
    return {
        "$schema": DRAFT,
        "$id": f"urn:scaicontrol:events:{topic.catalog_name}:data",
        "title": f"{topic.value} data, version {EVENT_VERSION}",
        "description": summary,
        **schema_of_class(cls),
    }


def event_schema(topic: Topic | str) -> dict[str, Any]:
    """The schema of a whole delivery body of ``topic``: the envelope with its ``data``."""
    topic = Topic(topic)
    major = topic.major_version
    schema = _envelope(
        f"urn:scaicontrol:events:{topic.catalog_name}",
        f"{topic.value} event, version {EVENT_VERSION}",
        {"type": "string", "const": topic.value},
        rf"^{major}\.\d+$",
    )
    data = payload_schema(topic)
    del data["$schema"], data["$id"]
    schema["properties"]["data"] = data
    return schema

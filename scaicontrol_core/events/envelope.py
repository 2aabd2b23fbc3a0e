"""The envelope every delivery carries, its canonical JSON bytes, and its outbox message.

Canonical body: UTF-8 JSON with compact separators (``,`` and ``:``), object keys sorted
lexicographically at every level, non-ASCII characters written as themselves, no NaN or
infinity, timestamps in the ``+00:00`` form. Sorting (rather than declaration order) makes the
bytes depend only on the values, so an envelope re-read from any store, whatever key order
that store keeps, renders to the same bytes and the same signature.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import attrs
import cattrs

from ..errors import ValidationError
from ..ids import IdFactory, is_uuid
from ..records import NewOutboxMessage
from ..serialization import make_converter
from ._model import utc
from .catalog import payload_type
from .common import EventPayload
from .keys import IdempotencyKey, idempotency_key
from .topics import EVENT_VERSION, SOURCE, Topic

__all__ = [
    "OUTBOX_KIND",
    "Envelope",
    "build_event",
    "canonical_json",
    "envelope_from_dict",
    "envelope_to_dict",
    "envelope_to_json",
    "event_key",
    "outbox_message",
    "parse_envelope",
    "payload_from_dict",
    "payload_to_dict",
]

#: ``NewOutboxMessage.kind`` of an event.
OUTBOX_KIND: Final = "event"

_VERSION = re.compile(r"[0-9]+\.[0-9]+")


def _enum_value(member: enum.StrEnum) -> str:
    return member.value


def _make_converter() -> cattrs.Converter:
    converter = make_converter()
    # StrEnum before str in the MRO: wire enums unstructure to plain strings.
    converter.register_unstructure_hook(enum.StrEnum, _enum_value)
    return converter


_CONVERTER: Final = _make_converter()


def _topic(value: Topic | str) -> Topic:
    try:
        return Topic(value)
    except ValueError:
        raise ValidationError(f"unknown event_type {value!r}", field="event_type") from None


def _check_event_id(_: Any, __: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not is_uuid(value) or str(UUID(value)) != value:
        raise ValidationError(f"event_id {value!r} is not a lower-case UUID", field="event_id")
    if UUID(value).version != 4:
        raise ValidationError(f"event_id {value!r} is not a UUIDv4 string", field="event_id")


def _check_version(_: Any, __: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        raise ValidationError(f"event_version {value!r} is not MAJOR.MINOR", field="event_version")


def _check_source(_: Any, __: attrs.Attribute[str], value: str) -> None:
    if value != SOURCE:
        raise ValidationError(f"source must be {SOURCE!r}", field="source")


@attrs.frozen(kw_only=True)
class Envelope:
    """One event as delivered: the seven documented fields, ``data`` typed per topic."""

    event_id: str = attrs.field(validator=_check_event_id)
    event_type: Topic = attrs.field(converter=_topic)
    event_version: str = attrs.field(default=EVENT_VERSION, validator=_check_version)
    occurred_at: datetime = attrs.field(converter=utc)
    source: str = attrs.field(default=SOURCE, validator=_check_source)
    idempotency_key: str
    data: EventPayload

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.occurred_at, datetime) or self.occurred_at.utcoffset() is None:
            raise ValidationError("occurred_at must be a timezone-aware datetime")
        if not isinstance(self.data, EventPayload) or self.data.TOPIC is not self.event_type:
            raise ValidationError(f"data is not a {self.event_type.value} payload", field="data")
        key = IdempotencyKey.parse(self.idempotency_key)
        expected = (self.event_type.resource.value, self.data.resource_id, self.event_type.event)
        if (key.resource_type, key.resource_id, key.event) != expected:
            raise ValidationError(
                f"idempotency key {self.idempotency_key!r} does not name this event",
                field="idempotency_key",
            )


def event_key(payload: EventPayload) -> str:
    """The idempotency key of the logical event ``payload`` describes."""
    topic = payload.TOPIC
    return idempotency_key(
        topic.resource.value, payload.resource_id, topic.event, payload.lifecycle_step
    )


def build_event(payload: EventPayload, *, occurred_at: datetime, ids: IdFactory) -> Envelope:
    """Wrap ``payload`` in an envelope; ``occurred_at`` is when the domain change happened.

    The only fresh value is ``event_id`` (from ``ids``); everything else, including the
    idempotency key, follows from the arguments.
    """
    return Envelope(
        event_id=ids.uuid(),
        event_type=payload.TOPIC,
        occurred_at=occurred_at,
        idempotency_key=event_key(payload),
        data=payload,
    )


def payload_to_dict(payload: EventPayload) -> dict[str, Any]:
    """The JSON-ready ``data`` object (strings, numbers, booleans, null, lists, objects)."""
    result: dict[str, Any] = _CONVERTER.unstructure(payload)
    return result


def payload_from_dict(topic: Topic | str, data: Mapping[str, Any]) -> EventPayload:
    """Structure a ``data`` object of ``topic``; unknown fields are ignored."""
    cls = payload_type(topic)
    if not isinstance(data, Mapping):
        raise ValidationError("data must be a JSON object", field="data")
    try:
        payload: EventPayload = _CONVERTER.structure(dict(data), cls)
    except ValidationError:
        raise
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise ValidationError(f"invalid {Topic(topic).value} data: {exc}", field="data") from exc
    return payload


def envelope_to_dict(envelope: Envelope) -> dict[str, Any]:
    """The JSON-ready envelope, as stored in the outbox and sent on the wire."""
    return {
        "event_id": envelope.event_id,
        "event_type": envelope.event_type.value,
        "event_version": envelope.event_version,
        "occurred_at": _CONVERTER.unstructure(envelope.occurred_at),
        "source": envelope.source,
        "idempotency_key": envelope.idempotency_key,
        "data": payload_to_dict(envelope.data),
    }


def _text(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise ValidationError(f"envelope field {name!r} must be a string", field=name)
    return value


def envelope_from_dict(document: Mapping[str, Any]) -> Envelope:
    """The reverse of :func:`envelope_to_dict`; accepts any ``1.x`` version of a known topic."""
    if not isinstance(document, Mapping):
        raise ValidationError("an envelope must be a JSON object")
    event_type = _text(document, "event_type")
    try:
        topic = Topic(event_type)
    except ValueError:
        raise ValidationError(f"unknown event_type {event_type!r}", field="event_type") from None
    version = _text(document, "event_version")
    if not _VERSION.fullmatch(version) or int(version.split(".")[0]) != topic.major_version:
        raise ValidationError(f"unsupported event_version {version!r}", field="event_version")
    data = document.get("data")
    if not isinstance(data, Mapping):
        raise ValidationError("envelope field 'data' must be an object", field="data")
    try:
        occurred_at = _CONVERTER.structure(_text(document, "occurred_at"), datetime)
    except (ValueError, TypeError) as exc:
        raise ValidationError(str(exc), field="occurred_at") from exc
    return Envelope(
        event_id=_text(document, "event_id"),
        event_type=topic,
        event_version=version,
        occurred_at=occurred_at,
        source=_text(document, "source"),
        idempotency_key=_text(document, "idempotency_key"),
        data=payload_from_dict(topic, data),
    )


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """Render a JSON-ready mapping to the canonical body bytes (see the module docstring)."""
    try:
        text = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode("utf-8")
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise ValidationError(f"not renderable as canonical JSON: {exc}") from exc


def envelope_to_json(envelope: Envelope) -> bytes:
    """The exact bytes that are signed and sent for ``envelope``."""
    return canonical_json(envelope_to_dict(envelope))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValidationError("duplicate key in JSON object")
    return result


def _no_constant(name: str) -> Any:
    raise ValidationError(f"{name} is not valid JSON")


def parse_envelope(body: bytes | str) -> Envelope:
    """Parse a delivery body; raises ``ValidationError`` on anything that is not a valid
    envelope (malformed JSON, duplicate keys, NaN, unknown topic, bad fields)."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        document = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except ValidationError:
        raise
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ValidationError(f"body is not JSON: {exc}") from exc
    return envelope_from_dict(document)


def outbox_message(envelope: Envelope) -> NewOutboxMessage:
    """The outbox row recording this event, keyed by its idempotency key.

    Appending a key that is already in the outbox is a no-op, so the same logical event is
    recorded once however often the domain action that caused it runs.
    """
    return NewOutboxMessage(
        kind=OUTBOX_KIND,
        topic=envelope.event_type.value,
        key=envelope.idempotency_key,
        payload=envelope_to_dict(envelope),
        created_at=envelope.occurred_at,
        tenant_id=envelope.data.tenant_scope,
    )

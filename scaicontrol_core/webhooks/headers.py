"""The header set of one outbound delivery attempt."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from ..errors import ValidationError
from ..events import Envelope
from .signing import sign, sign_standard, unix_seconds

__all__ = [
    "CONTENT_TYPE",
    "CONTENT_TYPE_HEADER",
    "DEFAULT_USER_AGENT",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SIGNATURE_HEADER",
    "STANDARD_ID_HEADER",
    "STANDARD_SIGNATURE_HEADER",
    "STANDARD_TIMESTAMP_HEADER",
    "TIMESTAMP_HEADER",
    "USER_AGENT_HEADER",
    "delivery_headers",
]

CONTENT_TYPE_HEADER: Final = "Content-Type"
USER_AGENT_HEADER: Final = "User-Agent"
SIGNATURE_HEADER: Final = "X-ScaiControl-Signature"
TIMESTAMP_HEADER: Final = "X-ScaiControl-Timestamp"
EVENT_ID_HEADER: Final = "X-ScaiControl-Event-Id"
EVENT_TYPE_HEADER: Final = "X-ScaiControl-Event-Type"
STANDARD_ID_HEADER: Final = "webhook-id"
STANDARD_TIMESTAMP_HEADER: Final = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER: Final = "webhook-signature"

CONTENT_TYPE: Final = "application/json"
DEFAULT_USER_AGENT: Final = "ScaiControl-Webhook/1.0"


def _header_value(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value or not value.isprintable() or not value.isascii():
        raise ValidationError(f"{name} must be a non-empty printable ASCII string", field=name)
    return value


def delivery_headers(
    event: Envelope | Mapping[str, Any],
    body: bytes,
    secret: str,
    now: datetime,
    user_agent: str = DEFAULT_USER_AGENT,
    standard_webhooks: bool = False,
) -> dict[str, str]:
    """Headers for one POST of ``body`` (the canonical bytes of ``event``) at ``now``.

    ``event`` is an :class:`~scaicontrol_core.events.Envelope` or its stored dict form.
    The timestamp is taken fresh from ``now`` on every attempt; the body and the event id
    stay the same. With ``standard_webhooks`` the three Standard Webhooks headers are added,
    using the event id as ``webhook-id`` and the same timestamp.
    """
    raw_id: Any
    raw_type: Any
    if isinstance(event, Envelope):
        raw_id, raw_type = event.event_id, event.event_type.value
    else:
        raw_id, raw_type = event.get("event_id"), event.get("event_type")
    event_id = _header_value(raw_id, "event_id")
    event_type = _header_value(raw_type, "event_type")
    timestamp = unix_seconds(now)
    headers = {
        CONTENT_TYPE_HEADER: CONTENT_TYPE,
        USER_AGENT_HEADER: _header_value(user_agent, "user_agent"),
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, body),
    }
    if standard_webhooks:
        headers[STANDARD_ID_HEADER] = event_id
        headers[STANDARD_TIMESTAMP_HEADER] = str(timestamp)
        headers[STANDARD_SIGNATURE_HEADER] = sign_standard(secret, event_id, timestamp, body)
    return headers

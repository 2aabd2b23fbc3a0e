"""Stored records of outbound webhooks: subscriptions, deliveries and their attempts.

A :class:`WebhookSubscription` says where events go and how they are signed. Fan-out turns
one outbox event into one :class:`WebhookDelivery` per matching active subscription; the
delivery row is also the work queue (it carries its own lease), and every POST leaves a
:class:`DeliveryAttempt`. Ids of deliveries are derived from (subscription, idempotency key),
so fanning the same event out twice can never create a second delivery.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from ..machines.delivery import DeliveryStatus
from .retry import DeliveryOutcome

__all__ = [
    "DERIVED_ID_NAMESPACE",
    "PROGRESS_FIELDS",
    "AttemptQuery",
    "DeliveryAttempt",
    "DeliveryQuery",
    "WebhookDelivery",
    "WebhookSubscription",
    "delivery_id_for",
    "derived_id",
]

#: Namespace of the name-based (UUIDv5) ids derived from natural keys.
DERIVED_ID_NAMESPACE: Final = uuid.UUID("6b0c8f4e-2a57-4d0e-9a43-5c1f3d2b7e91")
_NAMESPACE_BYTES: Final = DERIVED_ID_NAMESPACE.bytes


def derived_id(*parts: str) -> str:
    """A stable UUID string for a natural key: the same parts always give the same id.

    It is ``str(uuid.uuid5(DERIVED_ID_NAMESPACE, "\\x1f".join(parts)))``, computed without
    the intermediate ``UUID`` object (this runs three times per webhook delivery).
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "\x1f".join(parts).encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def delivery_id_for(subscription_id: str, idempotency_key: str) -> str:
    """The id of the one delivery of an event (by idempotency key) to a subscription."""
    return derived_id("delivery", subscription_id, idempotency_key)


@attrs.frozen(kw_only=True)
class WebhookSubscription:
    """A subscriber endpoint: target URL, topic patterns, signing secret, on/off switch.

    ``topics`` holds normalised patterns (see :func:`validate_topic_patterns`). ``secret``
    signs every delivery; it is shown to an operator only when created or rotated.
    ``standard_webhooks`` adds the Standard Webhooks headers to every delivery.
    """

    id: str
    name: str
    target_url: str
    topics: tuple[str, ...]
    secret: str
    is_active: bool = True
    standard_webhooks: bool = False
    description: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class WebhookDelivery:
    """One logical event for one subscription, and its progress.

    ``payload`` is the envelope as stored in the outbox; every attempt renders the same
    canonical bytes from it. ``attempt_count`` drives the backoff and restarts at 0 when an
    operator redelivers; ``total_attempts`` never restarts and numbers the attempt records.
    ``lease_owner`` / ``lease_expires_at`` mark the worker currently sending it.
    """

    id: str
    subscription_id: str
    event_id: str
    event_type: str
    idempotency_key: str
    tenant_id: str | None = None
    payload: Mapping[str, Any]
    occurred_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempt_count: int = 0
    total_attempts: int = 0
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None = None
    dispatched_at: datetime | None = None
    response_code: int | None = None
    error_message: str | None = None
    is_test: bool = False
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1


#: The fields of a delivery that change after it is created (its progress); the event it
#: carries (ids, type, key, payload, times of the event) never changes.
PROGRESS_FIELDS: Final = (
    "status", "attempt_count", "total_attempts", "next_attempt_at", "last_attempt_at",
    "dispatched_at", "response_code", "error_message", "lease_owner", "lease_expires_at",
    "updated_at",
)


@attrs.frozen(kw_only=True)
class DeliveryAttempt:
    """One POST of a delivery: what came back (or what went wrong) and how long it took.

    ``status_code`` is None when no response arrived (timeout, network error, refused
    target); ``worker`` is the lease owner that made the attempt.
    """

    id: str
    delivery_id: str
    subscription_id: str
    attempt_number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    outcome: DeliveryOutcome
    worker: str
    version: int = 1


@attrs.frozen(kw_only=True)
class DeliveryQuery:
    """Filters for listing deliveries; ``created_from`` is inclusive, ``created_to`` not."""

    subscription_id: str | None = None
    status: DeliveryStatus | None = None
    event_type: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@attrs.frozen(kw_only=True)
class AttemptQuery:
    """Filters for listing attempts; ``attempted_from`` is inclusive, ``attempted_to`` not."""

    delivery_id: str | None = None
    subscription_id: str | None = None
    outcome: DeliveryOutcome | None = None
    attempted_from: datetime | None = None
    attempted_to: datetime | None = None

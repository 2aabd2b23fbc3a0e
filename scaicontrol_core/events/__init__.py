"""Outbound events: the 14 topics, the envelope, idempotency keys, payloads and schemas.

Pure values and functions only: time and ids are parameters. A domain operation builds a
payload, wraps it with :func:`build_event` and records it in the same transaction as the
change (:func:`scaicontrol_core.notifications.record_event` appends :func:`outbox_message`
to the outbox and adds the tenant's notification); the dispatcher later renders
:func:`envelope_to_json` (or :func:`canonical_json` of the stored dict) and signs those
bytes.

Modules: ``topics`` (catalog), ``keys`` (idempotency keys), ``common`` (base class and wire
enums), ``billing``, ``subscriptions``, ``packs`` (payloads), ``catalog`` (topic -> class),
``envelope`` (envelope, JSON, outbox) and ``schemas`` (JSON Schema).
"""

from __future__ import annotations

from .billing import (
    PartnerBillingLinked,
    PartnerBillingUpdated,
    TenantBillingLinked,
    TenantBillingUpdated,
)
from .catalog import PAYLOAD_TYPES, payload_type
from .common import (
    BillingPeriod,
    ChangeKind,
    EventPayload,
    OwnerKind,
    SubscriptionStatus,
    SuspensionReason,
    TerminalState,
    monthly_recurring_cents,
)
from .envelope import (
    OUTBOX_KIND,
    Envelope,
    build_event,
    canonical_json,
    envelope_from_dict,
    envelope_to_dict,
    envelope_to_json,
    event_key,
    outbox_message,
    parse_envelope,
    payload_from_dict,
    payload_to_dict,
)
from .keys import INITIAL, TERMINAL, IdempotencyKey, idempotency_key, stamp
from .packs import (
    PackItem,
    PackSubscriptionActivated,
    PackSubscriptionCancelled,
    PackSubscriptionChanged,
)
from .schemas import DRAFT, ENVELOPE_SCHEMA, envelope_schema, event_schema, payload_schema
from .subscriptions import (
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionChanged,
    SubscriptionPaymentFailed,
    SubscriptionResumed,
    SubscriptionSuspended,
    SubscriptionTrialEnding,
)
from .topics import EVENT_VERSION, SOURCE, ResourceType, Topic

__all__ = [
    "DRAFT",
    "ENVELOPE_SCHEMA",
    "EVENT_VERSION",
    "INITIAL",
    "OUTBOX_KIND",
    "PAYLOAD_TYPES",
    "SOURCE",
    "TERMINAL",
    "BillingPeriod",
    "ChangeKind",
    "Envelope",
    "EventPayload",
    "IdempotencyKey",
    "OwnerKind",
    "PackItem",
    "PackSubscriptionActivated",
    "PackSubscriptionCancelled",
    "PackSubscriptionChanged",
    "PartnerBillingLinked",
    "PartnerBillingUpdated",
    "ResourceType",
    "SubscriptionActivated",
    "SubscriptionCancelled",
    "SubscriptionChanged",
    "SubscriptionPaymentFailed",
    "SubscriptionResumed",
    "SubscriptionStatus",
    "SubscriptionSuspended",
    "SubscriptionTrialEnding",
    "SuspensionReason",
    "TenantBillingLinked",
    "TenantBillingUpdated",
    "TerminalState",
    "Topic",
    "build_event",
    "canonical_json",
    "envelope_from_dict",
    "envelope_schema",
    "envelope_to_dict",
    "envelope_to_json",
    "event_key",
    "event_schema",
    "idempotency_key",
    "monthly_recurring_cents",
    "outbox_message",
    "parse_envelope",
    "payload_from_dict",
    "payload_schema",
    "payload_to_dict",
    "payload_type",
    "stamp",
]

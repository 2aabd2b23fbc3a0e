"""Request and response schemas of the webhook admin API (tag ``admin-webhook-subscriptions``).

Responses never carry a subscription's secret, except the one that creates the
subscription or rotates its secret (:class:`WebhookSubscriptionSecretResponse`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from scaicontrol_core.events import Topic
from scaicontrol_core.machines.delivery import DeliveryStatus
from scaicontrol_core.webhooks import DeliveryOutcome
from scaicontrol_core.webhooks.model import DeliveryAttempt, WebhookDelivery, WebhookSubscription

from ..fields import field

__all__ = [
    "AttemptFilter",
    "DeliveryFilter",
    "DeliveryPath",
    "SubscriptionPath",
    "WebhookAttemptResponse",
    "WebhookDeliveryDetailResponse",
    "WebhookDeliveryResponse",
    "WebhookReplayResponse",
    "WebhookSecretRotate",
    "WebhookSubscriptionCreate",
    "WebhookSubscriptionResponse",
    "WebhookSubscriptionSecretResponse",
    "WebhookSubscriptionUpdate",
    "WebhookTestRequest",
    "WebhookTestResponse",
    "attempt_view",
    "delivery_detail",
    "delivery_view",
    "secret_view",
    "subscription_view",
]

_ID = r"^[A-Za-z0-9_.\-]{1,64}$"


@attrs.frozen(kw_only=True)
class SubscriptionPath:
    subscription_id: str = field(pattern=_ID, description="Webhook subscription id.")


@attrs.frozen(kw_only=True)
class DeliveryPath:
    delivery_id: str = field(pattern=_ID, description="Webhook delivery id.")


@attrs.frozen(kw_only=True)
class WebhookSubscriptionCreate:
    """A new subscriber endpoint."""

    name: str = field(min_length=1, max_length=255, description="Human label.")
    target_url: str = field(
        min_length=1, max_length=2048,
        description="Where events are POSTed: https (http only where the deployment allows "
                    "it); loopback, private and link-local addresses are refused.",
    )
    topics: list[str] = field(  # noqa: RUF009
        min_length=1, max_length=50,
        description="Topic patterns, e.g. 'subscription.*' or 'tenant.billing_linked'.",
    )
    secret: str | None = field(
        default=None, min_length=16, max_length=255,
        description="Signing secret; omitted, one is generated and returned once.",
    )
    is_active: bool = field(default=True, description="Inactive subscriptions get nothing.")
    standard_webhooks: bool = field(
        default=False, description="Also send the Standard Webhooks headers."
    )
    description: str | None = field(default=None, max_length=1000, description="Free text.")


@attrs.frozen(kw_only=True)
class WebhookSubscriptionUpdate:
    """A partial update: fields left out (or null) keep their value."""

    name: str | None = field(default=None, min_length=1, max_length=255)
    target_url: str | None = field(default=None, min_length=1, max_length=2048)
    topics: list[str] | None = field(default=None, min_length=1, max_length=50)  # noqa: RUF009
    is_active: bool | None = None
    standard_webhooks: bool | None = None
    description: str | None = field(
        default=None, max_length=1000, description="An empty string clears it."
    )


@attrs.frozen(kw_only=True)
class WebhookSecretRotate:
    """A new secret, or nothing to have one generated."""

    secret: str | None = field(default=None, min_length=16, max_length=255)


@attrs.frozen(kw_only=True)
class WebhookTestRequest:
    """Which topic the sample event has; by default the first one the subscription takes."""

    event_type: Topic | None = None


@attrs.frozen(kw_only=True)
class WebhookSubscriptionResponse:
    """A subscriber endpoint (without its secret)."""

    id: str
    name: str
    target_url: str
    topics: list[str]
    is_active: bool
    standard_webhooks: bool
    description: str | None
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class WebhookSubscriptionSecretResponse(WebhookSubscriptionResponse):
    """A subscriber endpoint with its signing secret, shown only on create and rotate."""

    secret: str


@attrs.frozen(kw_only=True)
class WebhookDeliveryResponse:
    """One event for one subscription and how far it got."""

    id: str
    subscription_id: str
    event_id: str
    event_type: str
    idempotency_key: str
    tenant_id: str | None
    occurred_at: datetime
    status: DeliveryStatus
    attempt_count: int
    """Attempts in the current round (restarts at 0 on redelivery); drives the backoff."""
    total_attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    dispatched_at: datetime | None
    response_code: int | None
    error_message: str | None
    is_test: bool
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class WebhookDeliveryDetailResponse(WebhookDeliveryResponse):
    """A delivery with the envelope every attempt sends (as canonical JSON of this)."""

    payload: dict[str, Any]


@attrs.frozen(kw_only=True)
class WebhookAttemptResponse:
    """One POST of a delivery."""

    id: str
    delivery_id: str
    subscription_id: str
    attempt_number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    outcome: DeliveryOutcome
    worker: str


@attrs.frozen(kw_only=True)
class WebhookTestResponse:
    """The stored test delivery and its one attempt."""

    delivery: WebhookDeliveryDetailResponse
    attempt: WebhookAttemptResponse


@attrs.frozen(kw_only=True)
class WebhookReplayResponse:
    replayed: int
    """How many dead deliveries were queued again."""


@attrs.frozen(kw_only=True)
class DeliveryFilter:
    subscription_id: str | None = field(default=None, max_length=64)
    status: DeliveryStatus | None = None
    event_type: Topic | None = None
    created_from: datetime | None = field(  # noqa: RUF009
        default=None, description="Created at or after (ISO 8601 with offset, e.g. ...Z)."
    )
    created_to: datetime | None = field(default=None, description="Created before.")  # noqa: RUF009


@attrs.frozen(kw_only=True)
class AttemptFilter:
    delivery_id: str | None = field(default=None, max_length=64)
    subscription_id: str | None = field(default=None, max_length=64)
    outcome: DeliveryOutcome | None = None
    attempted_from: datetime | None = field(default=None, description="At or after.")  # noqa: RUF009
    attempted_to: datetime | None = field(default=None, description="Before.")  # noqa: RUF009


def subscription_view(s: WebhookSubscription) -> WebhookSubscriptionResponse:
    return WebhookSubscriptionResponse(
        id=s.id, name=s.name, target_url=s.target_url, topics=list(s.topics),
        is_active=s.is_active, standard_webhooks=s.standard_webhooks,
        description=s.description, created_at=s.created_at, updated_at=s.updated_at,
    )


def secret_view(s: WebhookSubscription) -> WebhookSubscriptionSecretResponse:
    return WebhookSubscriptionSecretResponse(
        **attrs.asdict(subscription_view(s), recurse=False), secret=s.secret
    )


_DELIVERY_FIELDS = [f.name for f in attrs.fields(WebhookDeliveryResponse)]


def delivery_view(d: WebhookDelivery) -> WebhookDeliveryResponse:
    return WebhookDeliveryResponse(**{name: getattr(d, name) for name in _DELIVERY_FIELDS})


def delivery_detail(d: WebhookDelivery) -> WebhookDeliveryDetailResponse:
    values = {name: getattr(d, name) for name in _DELIVERY_FIELDS}
    return WebhookDeliveryDetailResponse(**values, payload=dict(d.payload))


def attempt_view(a: DeliveryAttempt) -> WebhookAttemptResponse:
    return WebhookAttemptResponse(
        id=a.id, delivery_id=a.delivery_id, subscription_id=a.subscription_id,
        attempt_number=a.attempt_number, attempted_at=a.attempted_at,
        duration_ms=a.duration_ms, status_code=a.status_code, error=a.error,
        outcome=a.outcome, worker=a.worker,
    )

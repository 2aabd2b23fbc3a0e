"""Operator actions on webhook subscriptions and deliveries, as functions of a unit of work.

Subscriptions: create (a secret is generated unless given), change, delete, rotate the
secret. Deliveries: redeliver one, replay every dead delivery of a subscription, and record
the outcome of a test event. Randomness (new secrets) and time come in as arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs

from ..errors import ValidationError
from ..events import Envelope, envelope_to_dict
from ..ids import IdFactory
from ..machines.delivery import DELIVERY, DeliveryStatus, DeliveryTrigger
from .dispatch import MAX_ERROR_LENGTH, AttemptResult, attempt_id, outcome_of, settled_copy
from .matching import validate_topic_patterns
from .model import DeliveryAttempt, WebhookDelivery, WebhookSubscription, delivery_id_for
from .signing import generate_secret, standard_key
from .urls import UrlPolicy, check_target_url

if TYPE_CHECKING:
    from ..ports import UnitOfWork

__all__ = [
    "NewSubscription",
    "SubscriptionChanges",
    "create_subscription",
    "delete_subscription",
    "record_test_delivery",
    "redeliver",
    "replay_dead",
    "rotate_secret",
    "sample_delivery",
    "update_subscription",
]

_MIN_SECRET: Final = 16
_MAX_SECRET: Final = 255


@attrs.frozen(kw_only=True)
class NewSubscription:
    """What an operator registers. ``secret`` None means "generate one"."""

    name: str
    target_url: str
    topics: Sequence[str]
    secret: str | None = None
    is_active: bool = True
    standard_webhooks: bool = False
    description: str | None = None


@attrs.frozen(kw_only=True)
class SubscriptionChanges:
    """A partial update: None leaves a field as it is; an empty description clears it."""

    name: str | None = None
    target_url: str | None = None
    topics: Sequence[str] | None = None
    is_active: bool | None = None
    standard_webhooks: bool | None = None
    description: str | None = None


def _name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > 255:
        raise ValidationError("name must be 1 to 255 characters", field="name")
    return name


def _target(url: str, policy: UrlPolicy) -> str:
    verdict = check_target_url(url, policy)
    if not verdict:
        raise ValidationError(f"target_url refused ({verdict.problem}): {verdict.detail}",
                              field="target_url")
    return url


def _secret(secret: str, standard_webhooks: bool) -> str:
    if not (_MIN_SECRET <= len(secret) <= _MAX_SECRET) or not (
        secret.isascii() and secret.isprintable() and " " not in secret
    ):
        raise ValidationError(
            f"secret must be {_MIN_SECRET} to {_MAX_SECRET} printable ASCII characters "
            "without spaces", field="secret",
        )
    if standard_webhooks:
        try:
            standard_key(secret)
        except ValidationError:
            raise ValidationError(
                "Standard Webhooks need a secret of the form whsec_<base64>", field="secret"
            ) from None
    return secret


def create_subscription(
    uow: UnitOfWork,
    spec: NewSubscription,
    *,
    policy: UrlPolicy,
    now: datetime,
    ids: IdFactory,
    random_bytes: bytes,
) -> WebhookSubscription:
    """Register a subscriber; ``random_bytes`` (32 recommended) seed a generated secret."""
    secret = spec.secret if spec.secret is not None else generate_secret(random_bytes)
    subscription = WebhookSubscription(
        id=ids.uuid(),
        name=_name(spec.name),
        target_url=_target(spec.target_url, policy),
        topics=validate_topic_patterns(spec.topics),
        secret=_secret(secret, spec.standard_webhooks),
        is_active=spec.is_active,
        standard_webhooks=spec.standard_webhooks,
        description=spec.description or None,
        created_at=now,
        updated_at=now,
    )
    stored: WebhookSubscription = uow.webhook_subscriptions.add(subscription)
    return stored


def update_subscription(
    uow: UnitOfWork,
    subscription_id: str,
    changes: SubscriptionChanges,
    *,
    policy: UrlPolicy,
    now: datetime,
) -> WebhookSubscription:
    """Apply a partial update; refuses turning on Standard Webhooks with an unfit secret."""
    current: WebhookSubscription = uow.webhook_subscriptions.require(subscription_id)
    updated = attrs.evolve(
        current,
        name=current.name if changes.name is None else _name(changes.name),
        target_url=current.target_url if changes.target_url is None
        else _target(changes.target_url, policy),
        topics=current.topics if changes.topics is None
        else validate_topic_patterns(changes.topics),
        is_active=current.is_active if changes.is_active is None else changes.is_active,
        standard_webhooks=current.standard_webhooks if changes.standard_webhooks is None
        else changes.standard_webhooks,
        description=current.description if changes.description is None
        else (changes.description or None),
        updated_at=now,
    )
    _secret(updated.secret, updated.standard_webhooks)
    saved: WebhookSubscription = uow.webhook_subscriptions.update(updated)
    return saved


def delete_subscription(uow: UnitOfWork, subscription_id: str, *, now: datetime) -> int:
    """Delete a subscription; its deliveries stay for the record. Pending ones can no longer
    be sent and become dead. Returns how many pending deliveries that was."""
    current = uow.webhook_subscriptions.require(subscription_id)
    pending = uow.webhook_deliveries.find(
        {"subscription_id": subscription_id, "status": DeliveryStatus.PENDING}
    )
    dead = [
        attrs.evolve(
            d, status=DELIVERY.fire(d.status, DeliveryTrigger.ATTEMPT_FAILED_PERMANENT),
            next_attempt_at=None, error_message="subscription deleted", lease_owner=None,
            lease_expires_at=None, updated_at=now,
        )
        for d in pending
    ]
    if dead:
        uow.webhook_deliveries.save_many(dead)
    uow.webhook_subscriptions.delete(current)
    return len(dead)


def rotate_secret(
    uow: UnitOfWork,
    subscription_id: str,
    *,
    now: datetime,
    random_bytes: bytes,
    secret: str | None = None,
) -> WebhookSubscription:
    """Replace the signing secret (generated unless given); the next attempt of every
    delivery is signed with the new one."""
    current: WebhookSubscription = uow.webhook_subscriptions.require(subscription_id)
    new_secret = secret if secret is not None else generate_secret(random_bytes)
    updated = attrs.evolve(
        current, secret=_secret(new_secret, current.standard_webhooks), updated_at=now
    )
    saved: WebhookSubscription = uow.webhook_subscriptions.update(updated)
    return saved


def _requeued(delivery: WebhookDelivery, now: datetime) -> WebhookDelivery:
    return attrs.evolve(
        delivery,
        status=DELIVERY.fire(delivery.status, DeliveryTrigger.REDELIVER),
        attempt_count=0,
        next_attempt_at=now,
        dispatched_at=None,
        response_code=None,
        error_message=None,
        lease_owner=None,
        lease_expires_at=None,
        updated_at=now,
    )


def redeliver(uow: UnitOfWork, delivery_id: str, *, now: datetime) -> WebhookDelivery:
    """Queue a settled (dispatched or dead) delivery again, due now, with a fresh attempt
    budget; ``event_id`` and the idempotency key stay, so the subscriber can deduplicate.
    A pending delivery raises ``InvalidTransition``."""
    current: WebhookDelivery = uow.webhook_deliveries.require(delivery_id)
    saved: WebhookDelivery = uow.webhook_deliveries.update(_requeued(current, now))
    return saved


def replay_dead(uow: UnitOfWork, subscription_id: str, *, now: datetime) -> int:
    """Queue every dead delivery of a subscription again; returns how many."""
    uow.webhook_subscriptions.require(subscription_id)
    dead = uow.webhook_deliveries.find(
        {"subscription_id": subscription_id, "status": DeliveryStatus.DEAD}
    )
    if not dead:
        return 0
    return uow.webhook_deliveries.save_many([_requeued(d, now) for d in dead])


def sample_delivery(
    subscription: WebhookSubscription, envelope: Envelope, *, now: datetime
) -> WebhookDelivery:
    """A delivery of a sample event, before its one attempt (it is stored afterwards)."""
    return WebhookDelivery(
        id=delivery_id_for(subscription.id, envelope.idempotency_key),
        subscription_id=subscription.id,
        event_id=envelope.event_id,
        event_type=envelope.event_type.value,
        idempotency_key=envelope.idempotency_key,
        tenant_id=envelope.data.tenant_scope,
        payload=envelope_to_dict(envelope),
        occurred_at=envelope.occurred_at,
        next_attempt_at=now,
        is_test=True,
        created_at=now,
        updated_at=now,
    )


def record_test_delivery(
    uow: UnitOfWork, result: AttemptResult, *, worker: str, now: datetime
) -> tuple[WebhookDelivery, DeliveryAttempt]:
    """Store a test delivery with the outcome of its one attempt."""
    settled = settled_copy(result, now)
    attempt = DeliveryAttempt(
        id=attempt_id(result, settled.total_attempts, worker),
        delivery_id=settled.id,
        subscription_id=settled.subscription_id,
        attempt_number=settled.total_attempts,
        attempted_at=result.attempted_at,
        duration_ms=result.duration_ms,
        status_code=result.status_code,
        error=None if result.error is None else result.error[:MAX_ERROR_LENGTH],
        outcome=outcome_of(result),
        worker=worker,
    )
    stored: WebhookDelivery = uow.webhook_deliveries.add(settled)
    uow.webhook_attempts.add(attempt)
    return stored, attempt

"""The dispatcher's storage side, as functions of a unit of work and ``now``.

Pass 1, :func:`fan_out`: claim event messages from the outbox, create one delivery per
active subscription whose patterns match (and a broadcast notification when the event
concerns a tenant), and complete the messages, all in the caller's one transaction.
Pass 2 is split around the network: :func:`claim_deliveries` leases due deliveries (commit,
then POST outside any transaction), and :func:`settle` records each attempt and applies the
retry policy. No function here does I/O; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..events import OUTBOX_KIND, Topic
from ..machines.delivery import DELIVERY, DeliveryStatus, DeliveryTrigger
from ..notifications.from_events import notification_for_event
from ..notifications.model import Notification
from .matching import matches_any
from .model import (
    DeliveryAttempt,
    WebhookDelivery,
    WebhookSubscription,
    delivery_id_for,
    derived_id,
)
from .retry import BACKOFF_SCHEDULE, DeliveryOutcome, classify_response, trigger_for

if TYPE_CHECKING:
    from ..ports import UnitOfWork

__all__ = [
    "MAX_ERROR_LENGTH",
    "AttemptResult",
    "Claimed",
    "DeliveryJob",
    "FanOut",
    "SettleReport",
    "attempt_id",
    "claim_deliveries",
    "fan_out",
    "outcome_of",
    "settle",
    "settled_copy",
]

#: Longest error text kept on a delivery or attempt.
MAX_ERROR_LENGTH: Final = 1000


@attrs.frozen(kw_only=True)
class DeliveryJob:
    """A leased delivery and the subscription it goes to: all a sender needs."""

    delivery: WebhookDelivery
    subscription: WebhookSubscription


@attrs.frozen(kw_only=True)
class FanOut:
    """What one fan-out batch did. ``jobs`` are the new deliveries, leased to the caller."""

    events: int
    jobs: list[DeliveryJob]
    notifications: int
    broken_events: int


def _problem(message: Mapping[str, Any], topic: str) -> str | None:
    """Why a stored event cannot be fanned out, or None."""
    if message.get("event_type") != topic:
        return "the stored envelope does not match the message topic"
    try:
        Topic(topic)
    except ValueError:
        return f"unknown event type {topic!r}"
    if not isinstance(message.get("event_id"), str) or not isinstance(message.get("data"), dict):
        return "the stored envelope lacks an event id or data"
    return None


def fan_out(
    uow: UnitOfWork, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> FanOut:
    """Fan out up to ``limit`` events. New deliveries are leased to ``owner`` so that it can
    send them at once; if it never does, they become claimable when the lease expires."""
    messages = uow.outbox.claim(owner=owner, now=now, lease=lease, limit=limit, kinds=[OUTBOX_KIND])
    if not messages:
        return FanOut(events=0, jobs=[], notifications=0, broken_events=0)
    active = uow.webhook_subscriptions.find({"is_active": True})
    jobs: list[DeliveryJob] = []
    notifications: list[Notification] = []
    done: list[int] = []
    broken = 0
    expires = now + lease
    audiences: dict[str, list[WebhookSubscription]] = {}  # topic -> matching subscriptions
    for message in messages:
        envelope = message.payload
        problem = _problem(envelope, message.topic)
        if problem is not None:
            uow.outbox.give_up(message.seq, owner=owner, now=now, error=problem)
            broken += 1
            continue
        done.append(message.seq)
        occurred_at = message.created_at
        audience = audiences.get(message.topic)
        if audience is None:
            audience = [s for s in active if matches_any(s.topics, message.topic)]
            audiences[message.topic] = audience
        for subscription in audience:
            delivery = WebhookDelivery(
                id=delivery_id_for(subscription.id, message.key),
                subscription_id=subscription.id,
                event_id=envelope["event_id"],
                event_type=message.topic,
                idempotency_key=message.key,
                tenant_id=message.tenant_id,
                payload=envelope,
                occurred_at=occurred_at,
                next_attempt_at=now,
                lease_owner=owner,
                lease_expires_at=expires,
                created_at=now,
                updated_at=now,
            )
            jobs.append(DeliveryJob(delivery=delivery, subscription=subscription))
        notification = notification_for_event(envelope, message.tenant_id, created_at=occurred_at)
        if notification is not None:
            notifications.append(notification)
    if jobs:
        # ids are derived from (subscription, event): a second fan-out inserts nothing
        inserted = uow.webhook_deliveries.add_many([job.delivery for job in jobs])
        if inserted != len(jobs):
            # a delivery of this event existed already (an event message that was revived
            # after its fan-out): hand out only the deliveries made here
            stored = {d.id: d for d in uow.webhook_deliveries.find(
                {"id": [job.delivery.id for job in jobs]}
            )}
            jobs = [job for job in jobs if _is_ours(stored.get(job.delivery.id), job.delivery)]
    made = uow.notifications.add_many(notifications) if notifications else 0
    uow.outbox.complete_many(done, owner=owner, now=now)
    return FanOut(events=len(messages), jobs=jobs, notifications=made, broken_events=broken)


def _is_ours(stored: WebhookDelivery | None, inserted: WebhookDelivery) -> bool:
    return (
        stored is not None
        and stored.version == 1
        and stored.lease_owner == inserted.lease_owner
        and stored.lease_expires_at == inserted.lease_expires_at
        and stored.created_at == inserted.created_at
    )


@attrs.frozen(kw_only=True)
class Claimed:
    """Due deliveries leased for sending, and how many were settled without sending."""

    jobs: list[DeliveryJob]
    orphaned: int


def claim_deliveries(
    uow: UnitOfWork, *, owner: str, now: datetime, lease: timedelta, limit: int
) -> Claimed:
    """Lease up to ``limit`` due deliveries with their subscriptions.

    A delivery whose subscription was deleted or deactivated is not sent: it becomes
    ``dead`` at once (an operator can replay it after re-activating the subscription).
    """
    claimed = uow.webhook_deliveries.claim_due(owner=owner, now=now, lease=lease, limit=limit)
    if not claimed:
        return Claimed(jobs=[], orphaned=0)
    ids = sorted({d.subscription_id for d in claimed})
    subscriptions = {s.id: s for s in uow.webhook_subscriptions.find({"id": ids})}
    jobs: list[DeliveryJob] = []
    orphans: list[WebhookDelivery] = []
    for delivery in claimed:
        subscription = subscriptions.get(delivery.subscription_id)
        if subscription is None or not subscription.is_active:
            reason = "subscription deleted" if subscription is None else "subscription inactive"
            orphans.append(_give_up(delivery, reason, now))
        else:
            jobs.append(DeliveryJob(delivery=delivery, subscription=subscription))
    if orphans:
        uow.webhook_deliveries.save_many(orphans)
    return Claimed(jobs=jobs, orphaned=len(orphans))


def _give_up(delivery: WebhookDelivery, reason: str, now: datetime) -> WebhookDelivery:
    return attrs.evolve(
        delivery,
        status=DELIVERY.fire(delivery.status, DeliveryTrigger.ATTEMPT_FAILED_PERMANENT),
        next_attempt_at=None,
        error_message=reason,
        lease_owner=None,
        lease_expires_at=None,
        updated_at=now,
    )


@attrs.frozen(kw_only=True)
class AttemptResult:
    """How one POST of a leased delivery went.

    ``status_code`` is None when no response arrived; ``permanent`` marks a refusal no retry
    can fix (the target URL is no longer allowed), which makes the delivery dead.
    """

    delivery: WebhookDelivery
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False


@attrs.frozen(kw_only=True)
class SettleReport:
    """How many attempts were recorded and where their deliveries ended up."""

    attempts: int
    dispatched: int
    retrying: int
    dead: int
    stale: int


def outcome_of(result: AttemptResult) -> DeliveryOutcome:
    """The delivery outcome of an attempt (see ``classify_response``)."""
    if result.permanent:
        return DeliveryOutcome.DEAD
    return classify_response(result.status_code)


def _trim(text: str | None) -> str | None:
    return None if text is None else text[:MAX_ERROR_LENGTH]


def settled_copy(result: AttemptResult, now: datetime) -> WebhookDelivery:
    """The delivery after ``result``: dispatched, dead, or pending with its next attempt.

    Test deliveries get one attempt only: a retryable failure makes them dead.
    """
    delivery = result.delivery
    attempt_number = delivery.attempt_count + 1
    outcome = outcome_of(result)
    trigger = trigger_for(attempt_number, outcome)
    if delivery.is_test and trigger is DeliveryTrigger.ATTEMPT_FAILED_RETRYABLE:
        trigger = DeliveryTrigger.ATTEMPTS_EXHAUSTED
    status = DELIVERY.fire(delivery.status, trigger)
    retry_at = now + BACKOFF_SCHEDULE[attempt_number - 1] if status is DeliveryStatus.PENDING \
        else None
    delivered = status is DeliveryStatus.DISPATCHED
    return attrs.evolve(
        delivery,
        status=status,
        attempt_count=attempt_number,
        total_attempts=delivery.total_attempts + 1,
        next_attempt_at=retry_at,
        last_attempt_at=result.attempted_at,
        dispatched_at=now if delivered else delivery.dispatched_at,
        response_code=result.status_code,
        error_message=None if delivered else _trim(result.error),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=now,
    )


def attempt_id(result: AttemptResult, attempt_number: int, worker: str) -> str:
    """The id of an attempt record: derived from what identifies the attempt, so recording
    the same result twice (a retried transaction) stores it once."""
    return derived_id("attempt", result.delivery.id, str(attempt_number), worker,
                      result.attempted_at.isoformat())


def settle(
    uow: UnitOfWork,
    results: Sequence[AttemptResult],
    *,
    owner: str,
    now: datetime,
) -> SettleReport:
    """Record every attempt and move each delivery on (optimistically, by version).

    An attempt is always recorded. Its delivery is only changed if nobody touched it since
    this worker leased it; otherwise (the lease expired and another worker took over) the
    result counts as ``stale`` and the other worker's outcome stands.
    """
    if not results:
        return SettleReport(attempts=0, dispatched=0, retrying=0, dead=0, stale=0)
    copies = [settled_copy(result, now) for result in results]
    attempts = [
        DeliveryAttempt(
            id=attempt_id(result, copy.total_attempts, owner),
            delivery_id=result.delivery.id,
            subscription_id=result.delivery.subscription_id,
            attempt_number=copy.total_attempts,
            attempted_at=result.attempted_at,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            error=_trim(result.error),
            outcome=outcome_of(result),
            worker=owner,
        )
        for result, copy in zip(results, copies, strict=True)
    ]
    saved = uow.webhook_deliveries.save_many(copies)
    uow.webhook_attempts.add_many(attempts)
    counts = dict.fromkeys(DeliveryStatus, 0)
    for copy in copies:
        counts[copy.status] += 1
    return SettleReport(
        attempts=len(attempts),
        dispatched=counts[DeliveryStatus.DISPATCHED],
        retrying=counts[DeliveryStatus.PENDING],
        dead=counts[DeliveryStatus.DEAD],
        stale=len(copies) - saved,
    )

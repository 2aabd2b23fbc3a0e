"""The dispatcher's storage side, as functions of a unit of work and ``now``.

Work is split around the network: one transaction hands out work, the POSTs happen outside
any transaction, and one transaction records how they went.

* :func:`fan_out` leases event messages from the outbox and makes one delivery per active
  subscription whose patterns match. The deliveries of a first attempt are not stored yet:
  the leased message is the unit of work. A message nobody subscribes to is completed at
  once. (An event's notification is made when it is recorded:
  :func:`~scaicontrol_core.notifications.recording.record_event`.)
* :func:`claim_deliveries` leases stored deliveries that are due: retries, redeliveries,
  replays and test events.
* :func:`settle` records each attempt and applies the retry policy: a first attempt stores
  its delivery in its resulting state and completes the event message in the same
  transaction; a stored delivery is updated (optimistically, by version).

If a worker dies between the two transactions, its leases expire and another worker sends
again: nothing is lost, and a subscriber may see an event twice (it deduplicates by event
id). No function here does I/O; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..events import OUTBOX_KIND, Topic
from ..machines.delivery import DELIVERY, DeliveryStatus, DeliveryTrigger
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
    from ..records import OutboxMessage

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
    """A leased delivery and the subscription it goes to: all a sender needs.

    ``message_seq`` is set for a first attempt: the delivery is not stored yet, and the
    outbox message it comes from completes when all of its deliveries are settled.
    """

    delivery: WebhookDelivery
    subscription: WebhookSubscription
    message_seq: int | None = None


@attrs.frozen(kw_only=True)
class FanOut:
    """What one fan-out batch did. ``jobs`` are first attempts, leased to the caller
    through their messages (see :class:`DeliveryJob`)."""

    events: int
    jobs: list[DeliveryJob]
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
    """Lease up to ``limit`` events to ``owner`` and return their first attempts.

    A message leased before (its lease expired, or it was revived) skips the subscriptions
    that already have its delivery; a message left with no delivery to make is completed.
    """
    messages = uow.outbox.claim(owner=owner, now=now, lease=lease, limit=limit, kinds=[OUTBOX_KIND])
    if not messages:
        return FanOut(events=0, jobs=[], broken_events=0)
    active = uow.webhook_subscriptions.find({"is_active": True})
    jobs: list[DeliveryJob] = []
    sound: list[int] = []
    audiences: dict[str, list[WebhookSubscription]] = {}  # topic -> matching subscriptions
    for message in messages:
        envelope = message.payload
        problem = _problem(envelope, message.topic)
        if problem is not None:
            uow.outbox.give_up(message.seq, owner=owner, now=now, error=problem)
            continue
        sound.append(message.seq)
        audience = audiences.get(message.topic)
        if audience is None:
            audience = [s for s in active if matches_any(s.topics, message.topic)]
            audiences[message.topic] = audience
        for subscription in audience:
            jobs.append(DeliveryJob(
                delivery=_first_delivery(message, envelope, subscription, owner, now),
                subscription=subscription, message_seq=message.seq,
            ))
    jobs = _without_stored(uow, jobs, {m.seq for m in messages if m.attempts > 1})
    pending = {job.message_seq for job in jobs}
    finished = [seq for seq in sound if seq not in pending]
    if finished:
        uow.outbox.complete_many(finished, owner=owner, now=now)
    return FanOut(events=len(messages), jobs=jobs, broken_events=len(messages) - len(sound))


def _first_delivery(
    message: OutboxMessage, envelope: Mapping[str, Any], subscription: WebhookSubscription,
    owner: str, now: datetime,
) -> WebhookDelivery:
    return WebhookDelivery(
        id=delivery_id_for(subscription.id, message.key),
        subscription_id=subscription.id,
        event_id=envelope["event_id"],
        event_type=message.topic,
        idempotency_key=message.key,
        tenant_id=message.tenant_id,
        payload=envelope,
        occurred_at=message.created_at,
        next_attempt_at=now,
        lease_owner=owner,
        lease_expires_at=message.lease_expires_at,
        created_at=now,
        updated_at=now,
    )


def _without_stored(
    uow: UnitOfWork, jobs: list[DeliveryJob], reclaimed: set[int]
) -> list[DeliveryJob]:
    """``jobs`` less the deliveries stored already (only messages leased before can have
    any: ids are derived from subscription and event, so one query finds them)."""
    suspects = [job.delivery.id for job in jobs if job.message_seq in reclaimed]
    if not suspects:
        return jobs
    stored = {d.id for d in uow.webhook_deliveries.find({"id": suspects})}
    return [job for job in jobs if job.delivery.id not in stored]


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
    ``message_seq`` comes from the job: set, this was a first attempt (see
    :class:`DeliveryJob`). ``sent`` is False for a first attempt that was never made (its
    lease ran too short before a sender got to it, or building it failed unexpectedly):
    settling stores its delivery as pending and due, without an attempt, so the rest of
    the event is not held back.
    """

    delivery: WebhookDelivery
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False
    message_seq: int | None = None
    sent: bool = True

    @classmethod
    def not_sent(cls, job: DeliveryJob, now: datetime) -> AttemptResult:
        """The result of a first attempt that was never made."""
        return cls(delivery=job.delivery, attempted_at=now, duration_ms=0,
                   message_seq=job.message_seq, sent=False)


@attrs.frozen(kw_only=True)
class SettleReport:
    """How many attempts were recorded and where their deliveries ended up (``unsent``:
    first attempts never made, stored as pending and due)."""

    attempts: int
    dispatched: int
    retrying: int
    dead: int
    stale: int
    unsent: int = 0


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


def _unsent_copy(result: AttemptResult, now: datetime) -> WebhookDelivery:
    return attrs.evolve(result.delivery, next_attempt_at=now, lease_owner=None,
                        lease_expires_at=None, updated_at=now)


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
    """Record attempts and move their deliveries on.

    First attempts (``message_seq`` set) must come with every other first attempt of their
    message. If ``owner`` still holds the message, it is completed and its deliveries are
    stored in their resulting state (a first attempt never made: pending and due); if
    not, another worker took the message over and sends it again, so these results are
    only counted as ``stale``. A stored delivery is changed only if nobody touched it
    since this worker leased it (otherwise the result is ``stale`` and the other worker's
    outcome stands); its attempt is recorded anyway.
    """
    if not results:
        return SettleReport(attempts=0, dispatched=0, retrying=0, dead=0, stale=0)
    seqs = {r.message_seq for r in results if r.message_seq is not None}
    held = set(uow.outbox.complete_many(sorted(seqs), owner=owner, now=now)) if seqs else set()
    kept = [r for r in results if r.message_seq is None or r.message_seq in held]
    copies = [settled_copy(r, now) if r.sent else _unsent_copy(r, now) for r in kept]
    first = [c for c, r in zip(copies, kept, strict=True) if r.message_seq is not None]
    later = [c for c, r in zip(copies, kept, strict=True) if r.message_seq is None]
    stored = uow.webhook_deliveries.add_many(first) if first else 0
    saved = uow.webhook_deliveries.save_many(later) if later else 0
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
        for result, copy in zip(kept, copies, strict=True)
        if result.sent
    ]
    if attempts:
        uow.webhook_attempts.add_many(attempts)
    counts = dict.fromkeys(DeliveryStatus, 0)
    for result, copy in zip(kept, copies, strict=True):
        if result.sent:
            counts[copy.status] += 1
    return SettleReport(
        attempts=len(attempts),
        dispatched=counts[DeliveryStatus.DISPATCHED],
        retrying=counts[DeliveryStatus.PENDING],
        dead=counts[DeliveryStatus.DEAD],
        stale=len(results) - stored - saved,
        unsent=len(kept) - len(attempts),
    )

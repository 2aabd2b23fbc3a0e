"""The dispatcher's storage side on the memory backend: fan-out, claiming, settling.

Time is a manual clock; "sending" is simulated by handing results to ``settle``, so these
tests pin the bookkeeping (statuses, schedule, attempts, leases) without any network.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.events import Topic, outbox_message
from scaicontrol_core.ids import RandomIds, SequentialIds
from scaicontrol_core.machines.delivery import DeliveryStatus
from scaicontrol_core.machines.outbox import OutboxStatus
from scaicontrol_core.records import NewOutboxMessage
from scaicontrol_core.webhooks import BACKOFF_SCHEDULE, MAX_ATTEMPTS, DeliveryOutcome, UrlPolicy
from scaicontrol_core.webhooks.admin import NewSubscription, create_subscription
from scaicontrol_core.webhooks.dispatch import (
    AttemptResult,
    DeliveryJob,
    claim_deliveries,
    fan_out,
    settle,
)
from scaicontrol_core.webhooks.model import (
    AttemptQuery,
    WebhookDelivery,
    WebhookSubscription,
    delivery_id_for,
)
from scaicontrol_core.webhooks.samples import sample_event

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
POLICY = UrlPolicy()


@pytest.fixture
def storage() -> Iterator[MemoryStorage]:
    """An empty memory storage."""
    yield MemoryStorage()


def subscribe(storage: MemoryStorage, topics: list[str], **changes: Any) -> WebhookSubscription:
    with storage.unit_of_work() as uow:
        sub = create_subscription(
            uow, NewSubscription(name="hook", target_url="https://hooks.example.com/in",
                                 topics=topics, **changes),
            policy=POLICY, now=T0, ids=RandomIds(),
            random_bytes=bytes(range(32)),
        )
        uow.commit()
    return sub


def record(storage: MemoryStorage, *topics: Topic, at: datetime = T0) -> list[str]:
    keys = []
    ids = SequentialIds(7000)
    with storage.unit_of_work() as uow:
        for topic in topics:
            envelope = sample_event(topic, now=at, ids=ids)
            uow.outbox.append(outbox_message(envelope))
            keys.append(envelope.idempotency_key)
        uow.commit()
    return keys


def run_fan_out(storage: MemoryStorage, owner: str = "w1", now: datetime = T0) -> list[DeliveryJob]:
    with storage.unit_of_work(cross_tenant=True) as uow:
        result = fan_out(uow, owner=owner, now=now, lease=LEASE, limit=50)
        uow.commit()
    return result.jobs


def run_settle(storage: MemoryStorage, results: list[AttemptResult], now: datetime,
               owner: str = "w1") -> Any:
    with storage.unit_of_work(cross_tenant=True) as uow:
        report = settle(uow, results, owner=owner, now=now)
        uow.commit()
    return report


def result(job: DeliveryJob, status: int | None, at: datetime, **changes: Any) -> AttemptResult:
    base = AttemptResult(delivery=job.delivery, attempted_at=at, duration_ms=7,
                         status_code=status, error=None if status == 200 else f"HTTP {status}")
    return attrs.evolve(base, **changes)


def test_fan_out_matches_whole_names_and_skips_inactive(storage: MemoryStorage) -> None:
    """subscription.* gets subscription events only; an inactive subscription gets none."""
    subs = subscribe(storage, ["subscription.*"])
    packs = subscribe(storage, ["*.activated"])
    subscribe(storage, ["*"], is_active=False)
    record(storage, Topic.SUBSCRIPTION_ACTIVATED, Topic.PACK_SUBSCRIPTION_ACTIVATED,
           Topic.PARTNER_BILLING_LINKED)
    jobs = run_fan_out(storage)
    got = sorted((j.subscription.id, j.delivery.event_type) for j in jobs)
    assert got == sorted([
        (subs.id, "subscription.activated"),
        (packs.id, "subscription.activated"),
        (packs.id, "pack_subscription.activated"),
    ])
    assert all(j.delivery.lease_owner == "w1" and j.delivery.status is DeliveryStatus.PENDING
               for j in jobs)
    with storage.unit_of_work() as uow:
        assert {m.status for m in uow.outbox.find()} == {OutboxStatus.DONE}
        assert uow.webhook_deliveries.count() == 3


def test_fan_out_keeps_the_event_and_its_id(storage: MemoryStorage) -> None:
    """Each delivery carries the stored envelope unchanged: same event id and key."""
    subscribe(storage, ["*"])
    [key] = record(storage, Topic.SUBSCRIPTION_CHANGED)
    [job] = run_fan_out(storage)
    with storage.unit_of_work() as uow:
        [message] = uow.outbox.find()
    assert job.delivery.payload == message.payload
    assert job.delivery.event_id == message.payload["event_id"]
    assert job.delivery.idempotency_key == key
    assert job.delivery.id == delivery_id_for(job.subscription.id, key)


def test_fan_out_never_duplicates_an_existing_delivery(storage: MemoryStorage) -> None:
    """A delivery that already exists for (subscription, event) is neither stored twice nor
    handed out again; other subscribers of the event still get theirs."""
    first = subscribe(storage, ["*"])
    second = subscribe(storage, ["subscription.*"])
    [key] = record(storage, Topic.SUBSCRIPTION_ACTIVATED)
    earlier = sample_event(Topic.SUBSCRIPTION_ACTIVATED, now=T0, ids=SequentialIds(1))
    existing = WebhookDelivery(
        id=delivery_id_for(first.id, key), subscription_id=first.id, event_id=earlier.event_id,
        event_type="subscription.activated", idempotency_key=key, payload={},
        occurred_at=T0, status=DeliveryStatus.DISPATCHED, next_attempt_at=None,
        created_at=T0, updated_at=T0,
    )
    with storage.unit_of_work() as uow:
        uow.webhook_deliveries.add(existing)
        uow.commit()
    jobs = run_fan_out(storage)
    assert [j.subscription.id for j in jobs] == [second.id]
    with storage.unit_of_work() as uow:
        assert uow.webhook_deliveries.count() == 2
        assert uow.webhook_deliveries.require(existing.id) == existing


def test_fan_out_notifies_tenants_only(storage: MemoryStorage) -> None:
    """Tenant events make one broadcast notification; partner events make none."""
    record(storage, Topic.SUBSCRIPTION_TRIAL_ENDING, Topic.PARTNER_BILLING_UPDATED)
    run_fan_out(storage)
    with storage.unit_of_work(tenant_id="tnt_demo_acme") as uow:
        [seen] = uow.notifications.find_for_user("usr_any")
    assert seen.title == "Trial ending soon" and seen.user_id is None and not seen.is_read
    assert seen.category == "subscriptions" and seen.link is not None


def test_a_broken_event_is_set_aside_not_lost(storage: MemoryStorage) -> None:
    """An outbox event whose envelope cannot be sent is marked dead with a reason."""
    subscribe(storage, ["*"])
    with storage.unit_of_work() as uow:
        uow.outbox.append(NewOutboxMessage(kind="event", topic="subscription.activated",
                                           key="broken", payload={"event_type": "other"},
                                           created_at=T0))
        uow.commit()
    assert run_fan_out(storage) == []
    with storage.unit_of_work() as uow:
        [message] = uow.outbox.find()
    assert message.status is OutboxStatus.DEAD and "does not match" in str(message.last_error)


CLASSES = [
    *[(code, DeliveryStatus.DISPATCHED) for code in (200, 201, 202, 204, 299, 409)],
    *[(code, DeliveryStatus.DEAD) for code in (400, 401, 403, 404, 408, 410, 422, 429, 499)],
    *[(code, DeliveryStatus.PENDING) for code in (None, 100, 301, 302, 500, 502, 503, 599)],
]


@pytest.mark.parametrize(("status", "after"), CLASSES)
def test_each_response_class_moves_the_delivery(
    storage: MemoryStorage, status: int | None, after: DeliveryStatus
) -> None:
    """2xx and 409 dispatch, other 4xx kill, 5xx/1xx/3xx/no response retry in 1 minute."""
    subscribe(storage, ["*"])
    record(storage, Topic.SUBSCRIPTION_RESUMED)
    [job] = run_fan_out(storage)
    settled_at = T0 + timedelta(seconds=3)
    report = run_settle(storage, [result(job, status, T0 + timedelta(seconds=1))], settled_at)
    with storage.unit_of_work() as uow:
        stored = uow.webhook_deliveries.require(job.delivery.id)
        [attempt] = uow.webhook_attempts.find()
    assert stored.status is after and report.attempts == 1
    assert stored.attempt_count == 1 and stored.response_code == status
    assert stored.lease_owner is None and stored.last_attempt_at == T0 + timedelta(seconds=1)
    retry_at = settled_at + BACKOFF_SCHEDULE[0] if after is DeliveryStatus.PENDING else None
    assert stored.next_attempt_at == retry_at
    assert (stored.dispatched_at is not None) == (after is DeliveryStatus.DISPATCHED)
    assert attempt.status_code == status and attempt.duration_ms == 7
    assert attempt.attempt_number == 1 and attempt.worker == "w1"
    expected = {DeliveryStatus.DISPATCHED: DeliveryOutcome.DELIVERED,
                DeliveryStatus.DEAD: DeliveryOutcome.DEAD,
                DeliveryStatus.PENDING: DeliveryOutcome.RETRY}[after]
    assert attempt.outcome is expected


def test_backoff_schedule_then_dead(storage: MemoryStorage) -> None:
    """Seven failures, each retried exactly when due (1m, 5m, 30m, 2h, 12h, 24h), then dead;
    a delivery is never claimable before it is due."""
    subscribe(storage, ["*"])
    record(storage, Topic.SUBSCRIPTION_SUSPENDED)
    [job] = run_fan_out(storage)
    now = T0
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run_settle(storage, [result(job, 503, now)], now)
        with storage.unit_of_work() as uow:
            stored = uow.webhook_deliveries.require(job.delivery.id)
        if attempt == MAX_ATTEMPTS:
            assert stored.status is DeliveryStatus.DEAD and stored.next_attempt_at is None
            break
        assert stored.next_attempt_at is not None
        waits.append(stored.next_attempt_at - now)
        with storage.unit_of_work() as uow:
            early = claim_deliveries(uow, owner="w1", now=stored.next_attempt_at
                                     - timedelta(microseconds=1), lease=LEASE, limit=10)
        assert early.jobs == []
        now = stored.next_attempt_at
        with storage.unit_of_work() as uow:
            claimed = claim_deliveries(uow, owner="w1", now=now, lease=LEASE, limit=10)
            uow.commit()
        [job] = claimed.jobs
    assert waits == list(BACKOFF_SCHEDULE)
    with storage.unit_of_work() as uow:
        attempts = uow.webhook_attempts.find_matching(AttemptQuery(delivery_id=job.delivery.id))
    assert [a.attempt_number for a in attempts] == list(range(MAX_ATTEMPTS, 0, -1))
    assert [a.outcome for a in attempts] == [DeliveryOutcome.RETRY] * MAX_ATTEMPTS
    assert all(a.error == "HTTP 503" for a in attempts)


def test_a_late_result_does_not_overwrite_a_takeover(storage: MemoryStorage) -> None:
    """When a lease expires and another worker takes over, the first worker's late result
    is recorded as an attempt but the takeover's outcome stands."""
    subscribe(storage, ["*"])
    record(storage, Topic.SUBSCRIPTION_CANCELLED)
    [slow] = run_fan_out(storage, owner="w1")
    later = T0 + LEASE
    with storage.unit_of_work() as uow:
        [fresh] = claim_deliveries(uow, owner="w2", now=later, lease=LEASE, limit=5).jobs
        uow.commit()
    assert run_settle(storage, [result(fresh, 200, later)], later, owner="w2").stale == 0
    late = run_settle(storage, [result(slow, 500, T0)], later, owner="w1")
    assert late.stale == 1
    with storage.unit_of_work() as uow:
        stored = uow.webhook_deliveries.require(slow.delivery.id)
        workers = sorted(a.worker for a in uow.webhook_attempts.find())
    assert stored.status is DeliveryStatus.DISPATCHED and stored.response_code == 200
    assert workers == ["w1", "w2"]


def test_claims_skip_deliveries_of_gone_or_paused_subscriptions(storage: MemoryStorage) -> None:
    """A due delivery whose subscription was deactivated or deleted becomes dead unsent."""
    paused = subscribe(storage, ["subscription.*"])
    gone = subscribe(storage, ["pack_subscription.*"])
    record(storage, Topic.SUBSCRIPTION_ACTIVATED, Topic.PACK_SUBSCRIPTION_CANCELLED)
    jobs = run_fan_out(storage)
    run_settle(storage, [result(j, 503, T0) for j in jobs], T0)
    with storage.unit_of_work() as uow:
        uow.webhook_subscriptions.update(attrs.evolve(paused, is_active=False))
        uow.webhook_subscriptions.delete(uow.webhook_subscriptions.require(gone.id))
        uow.commit()
    with storage.unit_of_work() as uow:
        claimed = claim_deliveries(uow, owner="w1", now=T0 + timedelta(hours=1), lease=LEASE,
                                   limit=10)
        uow.commit()
    assert claimed.jobs == [] and claimed.orphaned == 2
    with storage.unit_of_work() as uow:
        errors = sorted(str(d.error_message) for d in uow.webhook_deliveries.find(
            {"status": DeliveryStatus.DEAD}))
        assert uow.webhook_attempts.count() == 2  # the first failures only
    assert errors == ["subscription deleted", "subscription inactive"]


def test_a_test_delivery_gets_one_attempt(storage: MemoryStorage) -> None:
    """A retryable failure of a test delivery makes it dead at once."""
    subscribe(storage, ["*"])
    record(storage, Topic.SUBSCRIPTION_ACTIVATED)
    [job] = run_fan_out(storage)
    test_job = attrs.evolve(job, delivery=attrs.evolve(job.delivery, is_test=True))
    run_settle(storage, [result(test_job, 503, T0)], T0)
    with storage.unit_of_work() as uow:
        assert uow.webhook_deliveries.require(job.delivery.id).status is DeliveryStatus.DEAD

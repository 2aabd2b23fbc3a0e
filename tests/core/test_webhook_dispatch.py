"""The dispatcher's storage side on the memory backend: fan-out, claiming, settling.

Time is a manual clock; "sending" is simulated by handing results to ``settle``, so these
tests pin the bookkeeping (statuses, schedule, attempts, leases) without any network.
First attempts are not stored at fan-out: their event message is leased instead, and
settling them stores the deliveries and completes the message.
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
    FanOut,
    claim_deliveries,
    fan_out,
    settle,
    settled_copy,
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


def run_fan_out_batch(storage: MemoryStorage, owner: str = "w1", now: datetime = T0) -> FanOut:
    with storage.unit_of_work(cross_tenant=True) as uow:
        result = fan_out(uow, owner=owner, now=now, lease=LEASE, limit=50)
        uow.commit()
    return result


def run_fan_out(storage: MemoryStorage, owner: str = "w1", now: datetime = T0) -> list[DeliveryJob]:
    return run_fan_out_batch(storage, owner, now).jobs


def run_settle(storage: MemoryStorage, results: list[AttemptResult], now: datetime,
               owner: str = "w1") -> Any:
    with storage.unit_of_work(cross_tenant=True) as uow:
        report = settle(uow, results, owner=owner, now=now)
        uow.commit()
    return report


def result(job: DeliveryJob, status: int | None, at: datetime, **changes: Any) -> AttemptResult:
    base = AttemptResult(delivery=job.delivery, attempted_at=at, duration_ms=7,
                         status_code=status, error=None if status == 200 else f"HTTP {status}",
                         message_seq=job.message_seq)
    return attrs.evolve(base, **changes)


def messages(storage: MemoryStorage) -> list[tuple[OutboxStatus, str | None]]:
    """(status, lease owner) of every outbox message, in seq order."""
    with storage.unit_of_work() as uow:
        return [(m.status, m.lease_owner) for m in uow.outbox.find()]


def stored_deliveries(storage: MemoryStorage) -> list[WebhookDelivery]:
    with storage.unit_of_work() as uow:
        return uow.webhook_deliveries.find()


def lease_elsewhere(storage: MemoryStorage, owner: str = "gone") -> None:
    """Lease every event message to a worker that never settles it."""
    with storage.unit_of_work() as uow:
        assert uow.outbox.claim(owner=owner, now=T0, lease=LEASE, limit=50)
        uow.commit()


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
               and j.delivery.lease_expires_at == T0 + LEASE for j in jobs)
    # the partner event matches no active subscription: done at once
    assert messages(storage) == [(OutboxStatus.PENDING, "w1"), (OutboxStatus.PENDING, "w1"),
                                 (OutboxStatus.DONE, None)]
    assert stored_deliveries(storage) == []
    run_settle(storage, [result(j, 200, T0) for j in jobs], T0)
    assert {m[0] for m in messages(storage)} == {OutboxStatus.DONE}
    assert sorted(d.id for d in stored_deliveries(storage)) == sorted(j.delivery.id for j in jobs)


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
    assert job.message_seq == message.seq


def test_fan_out_never_duplicates_an_existing_delivery(storage: MemoryStorage) -> None:
    """When an event is leased again, a delivery that already exists for (subscription,
    event) is neither stored twice nor handed out again; other subscribers still get theirs."""
    first = subscribe(storage, ["*"])
    second = subscribe(storage, ["subscription.*"])
    [key] = record(storage, Topic.SUBSCRIPTION_ACTIVATED)
    lease_elsewhere(storage)
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
    jobs = run_fan_out(storage, now=T0 + LEASE)
    assert [j.subscription.id for j in jobs] == [second.id]
    report = run_settle(storage, [result(j, 200, T0 + LEASE) for j in jobs], T0 + LEASE)
    assert (report.attempts, report.dispatched, report.stale) == (1, 1, 0)
    assert messages(storage) == [(OutboxStatus.DONE, None)]
    with storage.unit_of_work() as uow:
        assert uow.webhook_deliveries.count() == 2
        assert uow.webhook_deliveries.require(existing.id) == existing
        assert [a.delivery_id for a in uow.webhook_attempts.find()] == [jobs[0].delivery.id]


def test_fan_out_leaves_notifications_to_recording(storage: MemoryStorage) -> None:
    """Fan-out makes deliveries only: an event's notification is made when it is recorded
    (record_event), so an event appended on its own notifies nobody."""
    subscribe(storage, ["*"])
    record(storage, Topic.SUBSCRIPTION_TRIAL_ENDING)
    assert len(run_fan_out(storage)) == 1
    with storage.unit_of_work(cross_tenant=True) as uow:
        assert uow.notifications.count() == 0


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
    assert stored.status is after and report.attempts == 1 and report.stale == 0
    assert messages(storage) == [(OutboxStatus.DONE, None)]
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
    """When the lease of a stored delivery (a retry) expires and another worker takes over,
    the first worker's late result is recorded as an attempt but the takeover's outcome
    stands."""
    subscribe(storage, ["*"])
    record(storage, Topic.SUBSCRIPTION_CANCELLED)
    [first] = run_fan_out(storage, owner="w1")
    run_settle(storage, [result(first, 503, T0)], T0)
    due = T0 + BACKOFF_SCHEDULE[0]
    with storage.unit_of_work() as uow:
        [slow] = claim_deliveries(uow, owner="w1", now=due, lease=LEASE, limit=5).jobs
        uow.commit()
    later = due + LEASE
    with storage.unit_of_work() as uow:
        assert claim_deliveries(uow, owner="w2", now=later - timedelta(microseconds=1),
                                lease=LEASE, limit=5).jobs == []
        [fresh] = claim_deliveries(uow, owner="w2", now=later, lease=LEASE, limit=5).jobs
        uow.commit()
    assert slow.message_seq is None and fresh.message_seq is None
    assert run_settle(storage, [result(fresh, 200, later)], later, owner="w2").stale == 0
    late = run_settle(storage, [result(slow, 500, due)], later, owner="w1")
    assert late.stale == 1 and late.attempts == 1
    with storage.unit_of_work() as uow:
        stored = uow.webhook_deliveries.require(slow.delivery.id)
        workers = sorted(a.worker for a in uow.webhook_attempts.find())
    assert stored.status is DeliveryStatus.DISPATCHED and stored.response_code == 200
    assert stored.attempt_count == 2
    assert workers == ["w1", "w1", "w2"]


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


def test_a_first_attempt_is_stored_when_settled(storage: MemoryStorage) -> None:
    """Fan-out stores no delivery and leaves the event pending, leased to the owner;
    settling stores the delivery in its resulting state with one attempt and completes
    the event."""
    subscribe(storage, ["*"])
    record(storage, Topic.SUBSCRIPTION_ACTIVATED)
    [job] = run_fan_out(storage)
    assert stored_deliveries(storage) == []
    assert messages(storage) == [(OutboxStatus.PENDING, "w1")]
    with storage.unit_of_work() as uow:
        [message] = uow.outbox.find()
        assert uow.webhook_attempts.count() == 0
    assert job.message_seq == message.seq and message.lease_expires_at == T0 + LEASE
    settled_at = T0 + timedelta(seconds=2)
    report = run_settle(storage, [result(job, 204, T0 + timedelta(seconds=1))], settled_at)
    assert (report.attempts, report.dispatched, report.retrying, report.dead,
            report.stale) == (1, 1, 0, 0, 0)
    [stored] = stored_deliveries(storage)
    assert stored.id == job.delivery.id and stored.status is DeliveryStatus.DISPATCHED
    assert stored.version == 1 and stored.attempt_count == 1 and stored.total_attempts == 1
    assert stored.dispatched_at == settled_at and stored.response_code == 204
    assert stored.lease_owner is None and stored.lease_expires_at is None
    assert stored.payload == message.payload and stored.created_at == T0
    with storage.unit_of_work() as uow:
        [attempt] = uow.webhook_attempts.find()
        [done] = uow.outbox.find()
    assert attempt.delivery_id == stored.id and attempt.worker == "w1"
    assert done.status is OutboxStatus.DONE and done.finished_at == settled_at
    assert done.lease_owner is None


def test_settling_an_event_with_two_subscribers_stores_both(storage: MemoryStorage) -> None:
    """Both first attempts of an event are settled together: each delivery is stored in
    its own resulting state and the event is completed."""
    ok = subscribe(storage, ["*"])
    failing = subscribe(storage, ["subscription.*"])
    record(storage, Topic.SUBSCRIPTION_PAYMENT_FAILED)
    jobs = run_fan_out(storage)
    assert sorted(j.subscription.id for j in jobs) == sorted([ok.id, failing.id])
    assert len({j.message_seq for j in jobs}) == 1
    assert stored_deliveries(storage) == []
    outcomes = {ok.id: 200, failing.id: 500}
    report = run_settle(storage, [result(j, outcomes[j.subscription.id], T0) for j in jobs], T0)
    assert (report.attempts, report.dispatched, report.retrying, report.stale) == (2, 1, 1, 0)
    statuses = {d.subscription_id: d.status for d in stored_deliveries(storage)}
    assert statuses == {ok.id: DeliveryStatus.DISPATCHED, failing.id: DeliveryStatus.PENDING}
    assert messages(storage) == [(OutboxStatus.DONE, None)]
    with storage.unit_of_work() as uow:
        assert uow.webhook_attempts.count() == 2


def test_an_event_nobody_subscribes_to_is_completed_by_fan_out(storage: MemoryStorage) -> None:
    """With no matching active subscription, fan-out hands out nothing and completes the
    event itself; events that have subscribers stay leased."""
    subscribe(storage, ["pack_subscription.*"])
    subscribe(storage, ["*"], is_active=False)
    record(storage, Topic.SUBSCRIPTION_ACTIVATED, Topic.PACK_SUBSCRIPTION_ACTIVATED)
    with storage.unit_of_work(cross_tenant=True) as uow:
        done = fan_out(uow, owner="w1", now=T0, lease=LEASE, limit=50)
        uow.commit()
    assert done.events == 2 and done.broken_events == 0
    assert [j.delivery.event_type for j in done.jobs] == ["pack_subscription.activated"]
    assert messages(storage) == [(OutboxStatus.DONE, None), (OutboxStatus.PENDING, "w1")]
    with storage.unit_of_work() as uow:
        [finished, _] = uow.outbox.find()
    assert finished.finished_at == T0
    assert stored_deliveries(storage) == []


def test_an_expired_event_lease_is_taken_over_and_late_results_are_stale(
    storage: MemoryStorage,
) -> None:
    """Once an event's lease expires another worker fans it out again; the first worker's
    late results are stale: they store nothing and do not complete the event, and the
    second worker's results are stored."""
    subscribe(storage, ["*"])
    subscribe(storage, ["subscription.*"])
    record(storage, Topic.SUBSCRIPTION_CANCELLED)
    first = run_fan_out_batch(storage, owner="w1")
    slow = first.jobs
    assert run_fan_out(storage, owner="w2", now=T0 + LEASE - timedelta(microseconds=1)) == []
    later = T0 + LEASE
    second = run_fan_out_batch(storage, owner="w2", now=later)
    fresh = second.jobs
    assert (first.events, second.events) == (1, 1)
    assert sorted(j.delivery.id for j in fresh) == sorted(j.delivery.id for j in slow)
    assert all(j.delivery.lease_owner == "w2" and j.delivery.lease_expires_at == later + LEASE
               for j in fresh)
    late = run_settle(storage, [result(j, 200, T0) for j in slow], later, owner="w1")
    assert (late.attempts, late.dispatched, late.stale) == (0, 0, 2)
    assert stored_deliveries(storage) == []
    assert messages(storage) == [(OutboxStatus.PENDING, "w2")]
    with storage.unit_of_work() as uow:
        assert uow.webhook_attempts.count() == 0
    report = run_settle(storage, [result(j, 410, later) for j in fresh], later, owner="w2")
    assert (report.attempts, report.dead, report.stale) == (2, 2, 0)
    assert {(d.status, d.response_code) for d in stored_deliveries(storage)} == {
        (DeliveryStatus.DEAD, 410)}
    assert messages(storage) == [(OutboxStatus.DONE, None)]
    with storage.unit_of_work() as uow:
        assert {a.worker for a in uow.webhook_attempts.find()} == {"w2"}


def set_aside_with(storage: MemoryStorage, jobs: list[DeliveryJob], now: datetime) -> None:
    """Store ``jobs`` as dispatched and set their event aside (dead), as an operator might
    before reviving it."""
    [seq] = {j.message_seq for j in jobs}
    assert seq is not None
    with storage.unit_of_work() as uow:
        copies = [settled_copy(result(j, 200, now), now) for j in jobs]
        assert uow.webhook_deliveries.add_many(copies) == len(jobs)
        assert uow.outbox.give_up(seq, owner=jobs[0].delivery.lease_owner or "", now=now,
                                  error="set aside")
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.outbox.revive(seq, now=now)
        uow.commit()


def test_a_revived_event_skips_deliveries_already_stored(storage: MemoryStorage) -> None:
    """An event fanned out again after some of its deliveries were stored hands out only
    the missing ones, and settling them completes it."""
    kept = subscribe(storage, ["*"])
    missing = subscribe(storage, ["subscription.*"])
    record(storage, Topic.SUBSCRIPTION_CHANGED)
    jobs = run_fan_out(storage, owner="w1")
    [kept_job] = [j for j in jobs if j.subscription.id == kept.id]
    set_aside_with(storage, [kept_job], T0)
    with storage.unit_of_work() as uow:
        earlier = uow.webhook_deliveries.require(kept_job.delivery.id)
    later = T0 + timedelta(hours=1)
    [again] = run_fan_out(storage, owner="w2", now=later)
    assert again.subscription.id == missing.id and again.message_seq == kept_job.message_seq
    assert messages(storage) == [(OutboxStatus.PENDING, "w2")]
    report = run_settle(storage, [result(again, 200, later)], later, owner="w2")
    assert (report.attempts, report.stale) == (1, 0)
    assert messages(storage) == [(OutboxStatus.DONE, None)]
    with storage.unit_of_work() as uow:
        assert uow.webhook_deliveries.require(earlier.id) == earlier
        assert uow.webhook_deliveries.count() == 2
        assert [a.worker for a in uow.webhook_attempts.find()] == ["w2"]


def test_a_revived_event_with_every_delivery_stored_is_completed_by_fan_out(
    storage: MemoryStorage,
) -> None:
    """If every delivery of a revived event exists already, fan-out hands out nothing and
    completes the event; the stored deliveries are left as they are."""
    subscribe(storage, ["*"])
    subscribe(storage, ["subscription.*"])
    record(storage, Topic.SUBSCRIPTION_CHANGED)
    jobs = run_fan_out(storage, owner="w1")
    assert len(jobs) == 2
    set_aside_with(storage, jobs, T0)
    before = stored_deliveries(storage)
    later = T0 + timedelta(hours=1)
    assert run_fan_out(storage, owner="w2", now=later) == []
    assert messages(storage) == [(OutboxStatus.DONE, None)]
    assert stored_deliveries(storage) == before


def test_a_retryable_first_attempt_is_stored_pending_and_claimed_when_due(
    storage: MemoryStorage,
) -> None:
    """A 503 on the first attempt stores a pending delivery due after the first backoff
    step; ``claim_deliveries`` hands it out then (not before), as a stored delivery."""
    subscribe(storage, ["*"])
    record(storage, Topic.SUBSCRIPTION_SUSPENDED)
    [job] = run_fan_out(storage)
    settled_at = T0 + timedelta(seconds=2)
    report = run_settle(storage, [result(job, 503, T0 + timedelta(seconds=1))], settled_at)
    assert (report.attempts, report.retrying, report.stale) == (1, 1, 0)
    [stored] = stored_deliveries(storage)
    due = settled_at + BACKOFF_SCHEDULE[0]
    assert stored.status is DeliveryStatus.PENDING and stored.next_attempt_at == due
    assert stored.attempt_count == 1 and stored.lease_owner is None
    assert stored.error_message == "HTTP 503"
    assert messages(storage) == [(OutboxStatus.DONE, None)]
    with storage.unit_of_work() as uow:
        early = claim_deliveries(uow, owner="w2", now=due - timedelta(microseconds=1),
                                 lease=LEASE, limit=10)
        assert early.jobs == [] and early.orphaned == 0
    with storage.unit_of_work() as uow:
        [retry] = claim_deliveries(uow, owner="w2", now=due, lease=LEASE, limit=10).jobs
        uow.commit()
    assert retry.message_seq is None and retry.delivery.id == job.delivery.id
    assert retry.delivery.lease_owner == "w2" and retry.delivery.lease_expires_at == due + LEASE
    # settled in one batch with the first attempt of another event
    record(storage, Topic.SUBSCRIPTION_RESUMED, at=due)
    [other] = run_fan_out(storage, owner="w2", now=due)
    report = run_settle(storage, [result(retry, 200, due), result(other, 200, due)], due,
                        owner="w2")
    assert (report.attempts, report.dispatched, report.stale) == (2, 2, 0)
    final = {d.id: d for d in stored_deliveries(storage)}
    assert final[job.delivery.id].status is DeliveryStatus.DISPATCHED
    assert final[job.delivery.id].attempt_count == 2 and final[job.delivery.id].version == 3
    assert final[other.delivery.id].status is DeliveryStatus.DISPATCHED
    assert messages(storage) == [(OutboxStatus.DONE, None)] * 2
    with storage.unit_of_work() as uow:
        numbers = [a.attempt_number for a in uow.webhook_attempts.find_matching(
            AttemptQuery(delivery_id=job.delivery.id))]
    assert numbers == [2, 1]


def test_a_first_attempt_never_made_is_stored_due_without_holding_back_its_event(
    storage: MemoryStorage,
) -> None:
    """One subscriber answered, the other's attempt was never made: the event completes,
    the answered delivery is dispatched, the other is stored pending and due with no
    attempt, and the claim job then hands it out like a retry."""
    subscribe(storage, ["subscription.*"])
    subscribe(storage, ["*"])
    record(storage, Topic.SUBSCRIPTION_ACTIVATED)
    made, skipped = run_fan_out(storage)
    later = T0 + timedelta(seconds=50)
    report = run_settle(storage, [result(made, 200, T0),
                                  AttemptResult.not_sent(skipped, later)], later)
    assert (report.attempts, report.dispatched, report.unsent, report.stale) == (1, 1, 1, 0)
    assert messages(storage) == [(OutboxStatus.DONE, None)]
    stored = {d.id: d for d in stored_deliveries(storage)}
    parked = stored[skipped.delivery.id]
    assert stored[made.delivery.id].status is DeliveryStatus.DISPATCHED
    assert (parked.status, parked.attempt_count, parked.total_attempts) == \
        (DeliveryStatus.PENDING, 0, 0)
    assert (parked.next_attempt_at, parked.lease_owner) == (later, None)
    with storage.unit_of_work(cross_tenant=True) as uow:
        attempts = uow.webhook_attempts.find_matching(AttemptQuery())
        claimed = claim_deliveries(uow, owner="w2", now=later, lease=LEASE, limit=10)
        uow.commit()
    assert [a.delivery_id for a in attempts] == [made.delivery.id]
    assert [j.delivery.id for j in claimed.jobs] == [skipped.delivery.id]
    [retry] = claimed.jobs
    assert retry.message_seq is None
    run_settle(storage, [result(retry, 200, later)], later, owner="w2")
    assert {d.status for d in stored_deliveries(storage)} == {DeliveryStatus.DISPATCHED}

"""Operator actions on subscriptions and deliveries, on the memory backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.errors import InvalidTransition, NotFound, ValidationError
from scaicontrol_core.events import Topic, envelope_to_json, outbox_message
from scaicontrol_core.ids import RandomIds, SequentialIds
from scaicontrol_core.machines.delivery import DeliveryStatus
from scaicontrol_core.webhooks import UrlPolicy, standard_key
from scaicontrol_core.webhooks.admin import (
    NewSubscription,
    SubscriptionChanges,
    create_subscription,
    delete_subscription,
    record_test_delivery,
    redeliver,
    replay_dead,
    rotate_secret,
    sample_delivery,
    update_subscription,
)
from scaicontrol_core.webhooks.dispatch import AttemptResult, fan_out, settle
from scaicontrol_core.webhooks.model import WebhookSubscription
from scaicontrol_core.webhooks.samples import sample_event

T0 = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
STRICT = UrlPolicy()
SECRET = "whsec_" + "A" * 43 + "="


@pytest.fixture
def storage() -> Iterator[MemoryStorage]:
    """An empty memory storage."""
    yield MemoryStorage()


def create(storage: MemoryStorage, policy: UrlPolicy = STRICT, **fields: object) -> (
    WebhookSubscription
):
    values: dict[str, object] = {"name": "CRM", "target_url": "https://crm.example.com/hook",
                                 "topics": ["subscription.*"], **fields}
    with storage.unit_of_work() as uow:
        stored = create_subscription(uow, NewSubscription(**values),  # type: ignore[arg-type]
                                     policy=policy, now=T0, ids=RandomIds(),
                                     random_bytes=bytes(range(32)))
        uow.commit()
    return stored


def test_create_generates_a_secret_for_both_schemes(storage: MemoryStorage) -> None:
    """Without a secret one is generated from the random bytes; patterns are normalised."""
    sub = create(storage, topics=["subscription.activated.v1", "subscription.activated"])
    assert sub.secret.startswith("whsec_") and len(standard_key(sub.secret)) == 32
    assert sub.topics == ("subscription.activated",)
    with storage.unit_of_work() as uow:
        assert uow.webhook_subscriptions.require(sub.id) == sub


@pytest.mark.parametrize(("fields", "field"), [
    ({"target_url": "http://crm.example.com/hook"}, "target_url"),
    ({"target_url": "https://127.0.0.1/hook"}, "target_url"),
    ({"target_url": "https://10.1.2.3/hook"}, "target_url"),
    ({"target_url": "https://169.254.169.254/latest"}, "target_url"),
    ({"target_url": "https://user:pw@crm.example.com/"}, "target_url"),
    ({"topics": []}, "topics"),
    ({"topics": ["subscription.[ab]*"]}, "topics"),
    ({"topics": ["invoice.*"]}, "topics"),
    ({"name": "   "}, "name"),
    ({"secret": "short"}, "secret"),
    ({"secret": "has spaces in it, long enough"}, "secret"),
    ({"secret": "plain-secret-0123456789", "standard_webhooks": True}, "secret"),
])
def test_create_refuses_bad_input_and_stores_nothing(
    storage: MemoryStorage, fields: dict[str, object], field: str
) -> None:
    """Unsafe URLs, bad patterns, blank names and unfit secrets are refused by field."""
    with pytest.raises(ValidationError) as caught:
        create(storage, STRICT, **fields)
    assert caught.value.field == field
    with storage.unit_of_work() as uow:
        assert uow.webhook_subscriptions.count() == 0


def test_the_policy_lets_development_targets_through(storage: MemoryStorage) -> None:
    """allow_http and an allowlist entry admit http://127.0.0.1 (and nothing more)."""
    local = UrlPolicy(allow_http=True, allowlist=("127.0.0.1",))
    assert create(storage, local, target_url="http://127.0.0.1:8099/hook").is_active
    with pytest.raises(ValidationError):
        create(storage, local, target_url="http://10.0.0.1/hook")


def test_update_changes_only_what_is_given(storage: MemoryStorage) -> None:
    """Fields left None keep their value; an empty description clears it; checks apply."""
    sub = create(storage, description="first")
    with storage.unit_of_work() as uow:
        updated = update_subscription(
            uow, sub.id, SubscriptionChanges(topics=["*.cancelled"], is_active=False,
                                             description=""),
            policy=STRICT, now=T0 + timedelta(minutes=1),
        )
        uow.commit()
    assert updated.topics == ("*.cancelled",) and not updated.is_active
    assert updated.description is None and updated.name == sub.name
    assert updated.updated_at == T0 + timedelta(minutes=1) and updated.version == 2
    with storage.unit_of_work() as uow, pytest.raises(ValidationError):
        update_subscription(uow, sub.id, SubscriptionChanges(target_url="https://[::1]/"),
                            policy=STRICT, now=T0)
    plain = create(storage, secret="plain-secret-0123456789")
    with storage.unit_of_work() as uow, pytest.raises(ValidationError):
        update_subscription(uow, plain.id, SubscriptionChanges(standard_webhooks=True),
                            policy=STRICT, now=T0)


def test_rotate_replaces_the_secret(storage: MemoryStorage) -> None:
    """A rotated secret is new (generated or given); an unknown id is NotFound."""
    sub = create(storage)
    with storage.unit_of_work() as uow:
        generated = rotate_secret(uow, sub.id, now=T0, random_bytes=bytes(range(1, 33)))
        given = rotate_secret(uow, sub.id, now=T0, random_bytes=b"", secret=SECRET)
        uow.commit()
    assert generated.secret not in (sub.secret, SECRET) and given.secret == SECRET
    with storage.unit_of_work() as uow, pytest.raises(NotFound):
        rotate_secret(uow, "nope", now=T0, random_bytes=bytes(32))


def _deliver(storage: MemoryStorage, *statuses: int) -> list[str]:
    """Fan out one event per status and settle each with that status."""
    with storage.unit_of_work() as uow:
        ids = SequentialIds(100)
        for n, _ in enumerate(statuses):
            uow.outbox.append(outbox_message(sample_event(
                Topic.SUBSCRIPTION_ACTIVATED if n % 2 == 0 else Topic.SUBSCRIPTION_CHANGED,
                now=T0 + timedelta(seconds=n), ids=ids)))
        uow.commit()
    with storage.unit_of_work(cross_tenant=True) as uow:
        jobs = fan_out(uow, owner="w", now=T0 + timedelta(minutes=1), lease=timedelta(minutes=1),
                       limit=50).jobs
        results = [AttemptResult(delivery=j.delivery, attempted_at=T0, duration_ms=1,
                                 status_code=s, message_seq=j.message_seq)
                   for j, s in zip(jobs, statuses, strict=True)]
        assert settle(uow, results, owner="w", now=T0).stale == 0
        uow.commit()
    return [j.delivery.id for j in jobs]


def test_redeliver_requeues_settled_deliveries_only(storage: MemoryStorage) -> None:
    """Dead and dispatched deliveries go back to pending, due now, with the same event id;
    a pending one cannot be redelivered."""
    create(storage)
    dead_id, retrying_id = _deliver(storage, 410, 503)
    later = T0 + timedelta(hours=1)
    with storage.unit_of_work() as uow:
        before = uow.webhook_deliveries.require(dead_id)
        again = redeliver(uow, dead_id, now=later)
        with pytest.raises(InvalidTransition):
            redeliver(uow, retrying_id, now=later)
        uow.commit()
    assert again.status is DeliveryStatus.PENDING and again.next_attempt_at == later
    assert again.attempt_count == 0 and again.total_attempts == 1
    assert again.response_code is None and again.error_message is None
    assert (again.event_id, again.idempotency_key) == (before.event_id, before.idempotency_key)


def test_replay_requeues_every_dead_delivery(storage: MemoryStorage) -> None:
    """Replay takes every dead delivery of the subscription and nothing else."""
    create(storage)
    ids = _deliver(storage, 404, 200, 401, 500)
    with storage.unit_of_work() as uow:
        sub = uow.webhook_subscriptions.find()[0]
        assert replay_dead(uow, sub.id, now=T0) == 2
        uow.commit()
    with storage.unit_of_work() as uow:
        statuses = [uow.webhook_deliveries.require(i).status for i in ids]
        assert replay_dead(uow, sub.id, now=T0) == 0
        with pytest.raises(NotFound):
            replay_dead(uow, "missing", now=T0)
    assert statuses == [DeliveryStatus.PENDING, DeliveryStatus.DISPATCHED,
                        DeliveryStatus.PENDING, DeliveryStatus.PENDING]


def test_delete_keeps_history_and_kills_pending(storage: MemoryStorage) -> None:
    """Deleting a subscription keeps its deliveries; the pending ones become dead."""
    create(storage)
    ids = _deliver(storage, 200, 503)
    with storage.unit_of_work() as uow:
        sub = uow.webhook_subscriptions.find()[0]
        assert delete_subscription(uow, sub.id, now=T0) == 1
        uow.commit()
    with storage.unit_of_work() as uow:
        kept = [uow.webhook_deliveries.require(i) for i in ids]
        assert uow.webhook_subscriptions.count() == 0
    assert [d.status for d in kept] == [DeliveryStatus.DISPATCHED, DeliveryStatus.DEAD]
    assert kept[1].error_message == "subscription deleted"


def test_a_test_delivery_is_recorded_with_its_attempt(storage: MemoryStorage) -> None:
    """The sample event's delivery is stored settled, with one attempt, marked as a test."""
    sub = create(storage)
    envelope = sample_event(Topic.TENANT_BILLING_LINKED, now=T0, ids=SequentialIds(5))
    pending = sample_delivery(sub, envelope, now=T0)
    assert pending.idempotency_key.endswith(f":test.{envelope.event_id}")
    outcome = AttemptResult(delivery=pending, attempted_at=T0, duration_ms=12, status_code=204)
    with storage.unit_of_work() as uow:
        stored, attempt = record_test_delivery(uow, outcome, worker="api", now=T0)
        uow.commit()
    assert stored.is_test and stored.status is DeliveryStatus.DISPATCHED
    assert attempt.status_code == 204 and attempt.delivery_id == stored.id
    assert envelope_to_json(envelope) and stored.payload["event_id"] == envelope.event_id
    assert attrs.evolve(stored, version=1) == stored

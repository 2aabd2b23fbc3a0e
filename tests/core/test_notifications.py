"""Notifications: made from events, and read by users (per-user state for broadcasts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.errors import NotFound, ValidationError
from scaicontrol_core.events import Topic, envelope_to_dict
from scaicontrol_core.ids import SequentialIds
from scaicontrol_core.notifications import (
    CATEGORIES,
    Notification,
    list_for_user,
    mark_all_read,
    mark_read,
    notification_for_event,
    record_event,
)
from scaicontrol_core.webhooks.samples import sample_event

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
TENANT_TOPICS = [t for t in Topic if not t.value.startswith("partner.")]


@pytest.mark.parametrize("topic", list(Topic), ids=[t.value for t in Topic])
def test_every_tenant_event_makes_one_broadcast(topic: Topic) -> None:
    """Events about a tenant become a broadcast with a title, message and category; partner
    events make none; the id depends on the event's key only."""
    envelope = envelope_to_dict(sample_event(topic, now=T0, ids=SequentialIds()))
    tenant = "tnt_demo_acme" if topic in TENANT_TOPICS else None
    made = notification_for_event(envelope, tenant, created_at=T0)
    if tenant is None:
        assert made is None
        return
    assert made is not None and made.user_id is None and made.tenant_id == tenant
    assert made.title and made.message.endswith(".") and "None" not in made.message
    assert made.category == CATEGORIES[topic.resource.value]
    assert made.source_key == envelope["idempotency_key"] and made.created_at == T0
    again = notification_for_event(envelope, tenant, created_at=T0 + timedelta(days=1))
    assert again is not None and again.id == made.id


def test_no_notification_without_a_tenant_or_for_unknown_events() -> None:
    """A missing tenant, an unknown type or a malformed envelope makes nothing."""
    envelope = envelope_to_dict(sample_event(Topic.SUBSCRIPTION_ACTIVATED, now=T0,
                                             ids=SequentialIds()))
    assert notification_for_event(envelope, None, created_at=T0) is None
    assert notification_for_event({**envelope, "event_type": "x.y"}, "tnt_a", created_at=T0) \
        is None
    assert notification_for_event({**envelope, "data": None}, "tnt_a", created_at=T0) is None


def test_recording_an_event_notifies_its_tenant_once() -> None:
    """record_event stores the outbox row and, for a tenant event only, one broadcast in
    the same unit of work, even one with no tenant scope; recording the same event again
    stores neither."""
    storage = MemoryStorage()
    ids = SequentialIds()
    trial = sample_event(Topic.SUBSCRIPTION_TRIAL_ENDING, now=T0, ids=ids)
    partner = sample_event(Topic.PARTNER_BILLING_UPDATED, now=T0, ids=ids)
    with storage.unit_of_work() as uow:
        assert record_event(uow, trial) and record_event(uow, partner)
        assert not record_event(uow, trial)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert not record_event(uow, trial)
        assert [m.key for m in uow.outbox.find()] == [trial.idempotency_key,
                                                       partner.idempotency_key]
        uow.commit()
    with storage.unit_of_work(cross_tenant=True) as uow:
        [made] = uow.notifications.find()
    expected = notification_for_event(envelope_to_dict(trial), "tnt_demo_acme", created_at=T0)
    assert made == attrs.evolve(expected, version=1)


def test_an_event_and_its_notification_roll_back_together() -> None:
    """Nothing of an event is stored when its unit of work does not commit."""
    storage = MemoryStorage()
    with storage.unit_of_work(tenant_id="tnt_demo_acme") as uow:
        assert record_event(uow, sample_event(Topic.SUBSCRIPTION_ACTIVATED, now=T0,
                                              ids=SequentialIds()))
        assert uow.notifications.count() == 1
    with storage.unit_of_work(cross_tenant=True) as uow:
        assert (uow.outbox.find(), uow.notifications.count()) == ([], 0)


def test_payment_failure_text_shows_money_in_major_units() -> None:
    """The payment-failed message quotes the amount with the currency's minor units."""
    envelope = envelope_to_dict(sample_event(Topic.SUBSCRIPTION_PAYMENT_FAILED, now=T0,
                                             ids=SequentialIds()))
    made = notification_for_event(envelope, "tnt_demo_acme", created_at=T0)
    assert made is not None and "19.00 EUR" in made.message


CHANGE_DATA = {
    "plan_key": "scaikey.pro", "previous_plan_key": "scaikey.basic", "quantity": 5,
    "previous_quantity": 3, "current_period_end": "2026-06-01T00:00:00Z",
    "pending_cancellation_at": "2026-07-01T00:00:00Z", "state": "past_due",
    "previous_state": "active", "subscription_id": "sub_1",
}


@pytest.mark.parametrize(("kind", "message"), [
    ("plan_change", "Your plan changed from scaikey.basic to scaikey.pro."),
    ("quantity_change", "The quantity of scaikey.pro changed from 3 to 5."),
    ("renewal", "scaikey.pro renewed; the current period ends on 2026-06-01."),
    ("scheduled_cancellation", "scaikey.pro will be cancelled on 2026-07-01."),
    ("scheduled_cancellation_undone", "The scheduled cancellation of scaikey.pro was withdrawn."),
    ("status_change", "scaikey.pro changed from active to past_due."),
    ("something_new", "scaikey.pro changed."),
])
def test_a_subscription_change_is_told_by_its_kind(kind: str, message: str) -> None:
    """Each change kind has its own sentence, built from the event's data; an unknown kind
    still says what changed."""
    envelope = {"event_type": Topic.SUBSCRIPTION_CHANGED.value, "idempotency_key": "k:1",
                "data": {**CHANGE_DATA, "change_kind": kind}}
    made = notification_for_event(envelope, "tnt_a", created_at=T0)
    assert made is not None
    assert (made.title, made.message, made.link) == ("Subscription changed", message,
                                                     "/subscriptions/sub_1")


@pytest.fixture
def storage() -> Iterator[MemoryStorage]:
    """A memory storage with notifications for two tenants and two users."""
    storage = MemoryStorage()
    items = [
        Notification(id="n-broadcast", tenant_id="tnt_a", category="billing", title="All",
                     message="For everyone.", created_at=T0),
        Notification(id="n-mine", tenant_id="tnt_a", user_id="usr_me", category="general",
                     title="Mine", message="For me.", created_at=T0 + timedelta(minutes=1)),
        Notification(id="n-theirs", tenant_id="tnt_a", user_id="usr_other", category="general",
                     title="Theirs", message="Not for me.", created_at=T0),
        Notification(id="n-foreign", tenant_id="tnt_b", category="billing", title="Other",
                     message="Other tenant.", created_at=T0),
    ]
    with storage.unit_of_work(cross_tenant=True) as uow:
        uow.notifications.add_many(items)
        uow.commit()
    yield storage


def test_reading_a_broadcast_is_per_user(storage: MemoryStorage) -> None:
    """One user reading a broadcast leaves it unread for the others; reading twice keeps
    the first read time."""
    with storage.unit_of_work(tenant_id="tnt_a") as uow:
        first = mark_read(uow, "n-broadcast", "usr_me", T0 + timedelta(hours=1))
        second = mark_read(uow, "n-broadcast", "usr_me", T0 + timedelta(hours=2))
        uow.commit()
    assert first.is_read and second.read_at == T0 + timedelta(hours=1)
    with storage.unit_of_work(tenant_id="tnt_a") as uow:
        mine, _ = list_for_user(uow, "usr_me", unread_only=True)
        theirs, _ = list_for_user(uow, "usr_other", unread_only=True)
    assert [n.id for n in mine] == ["n-mine"]
    assert [n.id for n in theirs] == ["n-theirs", "n-broadcast"]


def test_marking_what_one_cannot_see_is_not_found(storage: MemoryStorage) -> None:
    """Another user's notification and another tenant's are NotFound, and change nothing."""
    with storage.unit_of_work(tenant_id="tnt_a") as uow:
        with pytest.raises(NotFound):
            mark_read(uow, "n-theirs", "usr_me", T0)
        with pytest.raises(NotFound):
            mark_read(uow, "n-foreign", "usr_me", T0)
        assert uow.notification_reads.count() == 0
    with storage.unit_of_work(cross_tenant=True) as uow, pytest.raises(ValidationError):
        mark_read(uow, "n-mine", "usr_me", T0)


def test_mark_all_read_marks_only_what_was_unread(storage: MemoryStorage) -> None:
    """read-all marks the user's unread ones (own and broadcast) and counts them once."""
    with storage.unit_of_work(tenant_id="tnt_a") as uow:
        assert mark_all_read(uow, "usr_me", T0) == 2
        uow.commit()
    with storage.unit_of_work(tenant_id="tnt_a") as uow:
        assert mark_all_read(uow, "usr_me", T0) == 0
        items, total = list_for_user(uow, "usr_me")
        others, _ = list_for_user(uow, "usr_other", unread_only=True)
    assert total == 2 and all(n.is_read for n in items)
    assert len(others) == 2

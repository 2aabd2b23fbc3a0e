"""The contract of the webhook and notification repositories, for every storage backend.

Subclass :class:`WebhookStorageContract` with the same ``storage`` fixture as
:class:`~scaicontrol_core.testing.storage_contract.StorageContract`.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from ..errors import ConcurrencyConflict, TenantScopeRequired, ValidationError
from ..machines.delivery import DeliveryStatus
from ..notifications.model import Notification, NotificationRead
from ..notifications.service import receipt_id
from ..ports import Storage
from ..webhooks.model import (
    AttemptQuery,
    DeliveryAttempt,
    DeliveryQuery,
    WebhookDelivery,
)
from ..webhooks.retry import DeliveryOutcome

__all__ = ["WebhookStorageContract"]

T0 = datetime(2026, 2, 1, 8, 0, 0, 250000, tzinfo=UTC)
LEASE = timedelta(seconds=60)
ENVELOPE = {"event_id": "e", "data": {"n": [1, 2], "s": "ü"}, "event_type": "subscription.changed"}


def delivery(n: int, **changes: Any) -> WebhookDelivery:
    base = WebhookDelivery(
        id=f"00000000-0000-4000-8000-{n:012d}", subscription_id="sub-a",
        event_id=f"10000000-0000-4000-8000-{n:012d}", event_type="subscription.changed",
        idempotency_key=f"subscription:s{n}:changed:initial", tenant_id="tnt_a",
        payload=ENVELOPE, occurred_at=T0, next_attempt_at=T0 + timedelta(seconds=n),
        created_at=T0 + timedelta(minutes=n), updated_at=T0,
    )
    return attrs.evolve(base, **changes)


def attempt(n: int, **changes: Any) -> DeliveryAttempt:
    base = DeliveryAttempt(
        id=f"20000000-0000-4000-8000-{n:012d}", delivery_id="d1", subscription_id="sub-a",
        attempt_number=n, attempted_at=T0 + timedelta(minutes=n), duration_ms=12,
        status_code=503, error="HTTP 503", outcome=DeliveryOutcome.RETRY, worker="w1",
    )
    return attrs.evolve(base, **changes)


def notification(n: int, **changes: Any) -> Notification:
    base = Notification(
        id=f"30000000-0000-4000-8000-{n:012d}", tenant_id="tnt_a", category="subscriptions",
        title=f"Title {n}", message="Something happened.", created_at=T0 + timedelta(minutes=n),
    )
    return attrs.evolve(base, **changes)


def add_deliveries(storage: Storage, *items: WebhookDelivery) -> None:
    with storage.unit_of_work() as uow:
        uow.webhook_deliveries.add_many(list(items))
        uow.commit()


class WebhookStorageContract:
    """Behaviour of deliveries, attempts and notifications shared by every backend."""

    # --- deliveries ----------------------------------------------------------------------

    def test_add_many_inserts_new_and_skips_known_ids(self, storage: Storage) -> None:
        """add_many stores every field at version 1, skips existing ids, and counts."""
        first = delivery(1, version=9, response_code=None, tenant_id=None, is_test=True)
        with storage.unit_of_work() as uow:
            assert uow.webhook_deliveries.add_many([first, delivery(2)]) == 2
            assert uow.webhook_deliveries.add_many([delivery(2), delivery(3)]) == 1
            assert uow.webhook_deliveries.add_many([]) == 0
            uow.commit()
        with storage.unit_of_work() as uow:
            stored = uow.webhook_deliveries.require(first.id)
            assert uow.webhook_deliveries.count() == 3
        assert stored == attrs.evolve(first, version=1)
        assert stored.payload == ENVELOPE and stored.occurred_at.tzinfo is not None

    def test_claim_due_leases_due_pending_rows_in_order(self, storage: Storage) -> None:
        """Only due, pending, unleased deliveries are claimed, earliest first, with a lease."""
        add_deliveries(
            storage,
            delivery(3), delivery(1), delivery(2),
            delivery(4, next_attempt_at=T0 + timedelta(hours=1)),
            delivery(5, status=DeliveryStatus.DEAD, next_attempt_at=None),
            delivery(6, status=DeliveryStatus.DISPATCHED, next_attempt_at=None),
            delivery(7, lease_owner="other", lease_expires_at=T0 + LEASE),
        )
        now = T0 + timedelta(seconds=30)
        with storage.unit_of_work() as uow:
            got = uow.webhook_deliveries.claim_due(owner="w1", now=now, lease=LEASE, limit=2)
            uow.commit()
        assert [d.id for d in got] == [delivery(1).id, delivery(2).id]
        assert all(d.lease_owner == "w1" and d.lease_expires_at == now + LEASE for d in got)
        assert all(d.version == 2 for d in got)
        with storage.unit_of_work() as uow:
            rest = uow.webhook_deliveries.claim_due(owner="w2", now=now, lease=LEASE, limit=10)
            assert uow.webhook_deliveries.require(delivery(1).id) == got[0]
            uow.commit()
        assert [d.id for d in rest] == [delivery(3).id]
        later = T0 + LEASE + timedelta(seconds=31)
        with storage.unit_of_work() as uow:
            again = uow.webhook_deliveries.claim_due(owner="w3", now=later, lease=LEASE, limit=10)
            uow.commit()
        assert sorted(d.id for d in again) == sorted(
            delivery(n).id for n in (1, 2, 3, 7)
        )

    def test_claim_due_with_nothing_due_claims_nothing(self, storage: Storage) -> None:
        """An empty table, a zero limit or nothing due gives an empty list."""
        with storage.unit_of_work() as uow:
            assert uow.webhook_deliveries.claim_due(owner="w", now=T0, lease=LEASE, limit=5) == []
        add_deliveries(storage, delivery(1))
        with storage.unit_of_work() as uow:
            assert uow.webhook_deliveries.claim_due(owner="w", now=T0, lease=LEASE, limit=0) == []
            assert uow.webhook_deliveries.claim_due(owner="w", now=T0, lease=LEASE, limit=5) == []

    def test_save_many_is_optimistic_per_row(self, storage: Storage) -> None:
        """save_many saves the progress of rows whose version still matches (never the event
        they carry), bumps their version, and skips the rest."""
        add_deliveries(storage, delivery(1), delivery(2))
        with storage.unit_of_work() as uow:
            [one, two] = uow.webhook_deliveries.claim_due(
                owner="w1", now=T0 + timedelta(seconds=5), lease=LEASE, limit=2
            )
            uow.commit()
        done = attrs.evolve(one, status=DeliveryStatus.DISPATCHED, response_code=200,
                            lease_owner=None, lease_expires_at=None, error_message=None,
                            dispatched_at=T0, attempt_count=1, total_attempts=1)
        stale = attrs.evolve(two, version=1, status=DeliveryStatus.DEAD)
        tampered = attrs.evolve(done, payload={"changed": True}, event_type="x.y")
        with storage.unit_of_work() as uow:
            assert uow.webhook_deliveries.save_many([tampered, stale]) == 1
            assert uow.webhook_deliveries.save_many([]) == 0
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.webhook_deliveries.require(one.id) == attrs.evolve(done, version=3)
            assert uow.webhook_deliveries.require(two.id) == two

    def test_find_matching_filters_orders_and_pages(self, storage: Storage) -> None:
        """Filters on subscription, status, type and a half-open time range; newest first."""
        add_deliveries(
            storage,
            *(delivery(n) for n in range(1, 6)),
            delivery(6, subscription_id="sub-b"),
            delivery(7, status=DeliveryStatus.DEAD, event_type="subscription.cancelled"),
        )
        with storage.unit_of_work() as uow:
            repo = uow.webhook_deliveries
            everything = repo.find_matching(DeliveryQuery())
            assert [d.id for d in everything] == [delivery(n).id for n in range(7, 0, -1)]
            assert repo.count_matching(DeliveryQuery(subscription_id="sub-b")) == 1
            dead = repo.find_matching(DeliveryQuery(status=DeliveryStatus.DEAD))
            assert [d.id for d in dead] == [delivery(7).id]
            typed = DeliveryQuery(event_type="subscription.cancelled")
            assert [d.id for d in repo.find_matching(typed)] == [delivery(7).id]
            window = DeliveryQuery(
                subscription_id="sub-a",
                created_from=T0 + timedelta(minutes=2), created_to=T0 + timedelta(minutes=5),
            )
            assert [d.id for d in repo.find_matching(window)] == [
                delivery(n).id for n in (4, 3, 2)
            ]
            assert repo.count_matching(window) == 3
            page = repo.find_matching(window, offset=1, limit=1)
            assert [d.id for d in page] == [delivery(3).id]
            with pytest.raises(ValidationError):
                repo.find_matching(window, offset=-1)

    def test_concurrent_claimers_never_share_a_delivery(self, storage: Storage) -> None:
        """Four threads claiming together lease every due delivery exactly once."""
        total = 90
        for start in range(0, total, 30):
            add_deliveries(storage, *(delivery(n) for n in range(start, start + 30)))
        claimed: dict[str, list[str]] = {}
        errors: list[BaseException] = []
        lock = threading.Lock()
        now = T0 + timedelta(hours=1)

        def drain(owner: str) -> None:
            idle = 0
            while idle < 3:
                try:
                    with storage.unit_of_work() as uow:
                        got = uow.webhook_deliveries.claim_due(
                            owner=owner, now=now, lease=timedelta(hours=1), limit=7
                        )
                        uow.commit()
                except ConcurrencyConflict:
                    continue
                except BaseException as exc:  # reported below
                    errors.append(exc)
                    return
                idle = idle + 1 if not got else 0
                with lock:
                    for d in got:
                        claimed.setdefault(d.id, []).append(owner)

        threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert len(claimed) == total
        assert all(len(owners) == 1 for owners in claimed.values())

    # --- attempts ------------------------------------------------------------------------

    def test_attempts_are_listed_with_filters(self, storage: Storage) -> None:
        """Attempts round-trip and filter by delivery, subscription, outcome and time."""
        items = [
            attempt(1), attempt(2, status_code=None, error="timeout"),
            attempt(3, status_code=200, error=None, outcome=DeliveryOutcome.DELIVERED),
            attempt(4, delivery_id="d2", subscription_id="sub-b"),
        ]
        with storage.unit_of_work() as uow:
            assert uow.webhook_attempts.add_many(items) == 4
            assert uow.webhook_attempts.add_many(items[:1]) == 0
            uow.commit()
        with storage.unit_of_work() as uow:
            repo = uow.webhook_attempts
            assert repo.require(items[1].id) == items[1]
            of_d1 = repo.find_matching(AttemptQuery(delivery_id="d1"))
            assert [a.attempt_number for a in of_d1] == [3, 2, 1]
            delivered = AttemptQuery(outcome=DeliveryOutcome.DELIVERED)
            assert [a.id for a in repo.find_matching(delivered)] == [items[2].id]
            window = AttemptQuery(
                subscription_id="sub-a", attempted_from=T0 + timedelta(minutes=2),
                attempted_to=T0 + timedelta(minutes=3),
            )
            assert [a.id for a in repo.find_matching(window)] == [items[1].id]
            assert repo.count_matching(AttemptQuery(subscription_id="sub-b")) == 1
            assert [a.id for a in repo.find_matching(AttemptQuery(), offset=3, limit=5)] == [
                items[0].id
            ]

    # --- notifications -------------------------------------------------------------------

    def _seed_notifications(self, storage: Storage) -> None:
        with storage.unit_of_work(cross_tenant=True) as uow:
            uow.notifications.add_many([
                notification(1),                                    # broadcast
                notification(2, user_id="usr_me"),                  # mine
                notification(3, user_id="usr_other"),               # someone else's
                notification(4, category="billing"),                # broadcast, billing
                notification(5, user_id="usr_me", is_read=True, read_at=T0),  # mine, read
                notification(6, tenant_id="tnt_b"),                 # another tenant
            ])
            uow.notification_reads.add(NotificationRead(
                id=receipt_id(notification(4).id, "usr_me"), tenant_id="tnt_a",
                notification_id=notification(4).id, user_id="usr_me", read_at=T0,
            ))
            uow.commit()

    def test_user_sees_own_and_broadcast_notifications(self, storage: Storage) -> None:
        """A user sees their tenant's broadcasts and their own, newest first, with read state."""
        self._seed_notifications(storage)
        with storage.unit_of_work(tenant_id="tnt_a") as uow:
            repo = uow.notifications
            seen = repo.find_for_user("usr_me")
            assert [(v.title, v.is_read) for v in seen] == [
                ("Title 5", True), ("Title 4", True), ("Title 2", False), ("Title 1", False)
            ]
            assert seen[1].read_at == T0 and seen[3].read_at is None
            assert repo.count_for_user("usr_me") == 4
            unread = repo.find_for_user("usr_me", unread_only=True)
            assert [v.title for v in unread] == ["Title 2", "Title 1"]
            assert repo.count_for_user("usr_me", unread_only=True) == 2
            billing = repo.find_for_user("usr_me", category="billing")
            assert [v.title for v in billing] == ["Title 4"]
            assert [v.title for v in repo.find_for_user("usr_me", offset=1, limit=2)] == [
                "Title 4", "Title 2"
            ]
            other = repo.find_for_user("usr_other", unread_only=True)
            assert [v.title for v in other] == ["Title 4", "Title 3", "Title 1"]

    def test_notifications_are_confined_to_their_tenant(self, storage: Storage) -> None:
        """Another tenant's notification is invisible, foreign writes are refused, and
        an unscoped unit of work cannot use the repository at all."""
        self._seed_notifications(storage)
        with storage.unit_of_work(tenant_id="tnt_b") as uow:
            assert [v.title for v in uow.notifications.find_for_user("usr_me")] == ["Title 6"]
            assert uow.notifications.get(notification(1).id) is None
            with pytest.raises(ValidationError):
                uow.notifications.add_many([notification(9)])
        with storage.unit_of_work() as uow, pytest.raises(TenantScopeRequired):
            uow.notifications.find_for_user("usr_me")

    def test_event_notifications_are_stored_whatever_the_scope(self, storage: Storage) -> None:
        """``add_for_event`` stores a notification from any unit of work (unscoped, or
        scoped to another tenant), once per id; ``add_many`` still refuses both."""
        with storage.unit_of_work() as uow:
            assert uow.notifications.add_for_event(notification(1))
            assert not uow.notifications.add_for_event(notification(1, title="Again"))
            with pytest.raises(TenantScopeRequired):
                uow.notifications.add_many([notification(2)])
            uow.commit()
        with storage.unit_of_work(tenant_id="tnt_b") as uow:
            assert uow.notifications.add_for_event(notification(3))
            uow.commit()
        with storage.unit_of_work(tenant_id="tnt_a") as uow:
            assert [v.title for v in uow.notifications.find_for_user("usr_me")] == [
                "Title 3", "Title 1"]

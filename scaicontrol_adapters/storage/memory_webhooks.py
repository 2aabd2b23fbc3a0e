"""The in-memory repositories of deliveries, attempts and notifications.

They extend the generic memory repository with the dispatcher's batch operations and the
range and per-user queries of :mod:`scaicontrol_core.webhooks.store` and
:mod:`scaicontrol_core.notifications.model`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs

from scaicontrol_core.errors import ValidationError
from scaicontrol_core.machines.delivery import DeliveryStatus
from scaicontrol_core.notifications.model import Notification, UserNotification
from scaicontrol_core.notifications.service import receipt_id
from scaicontrol_core.webhooks.model import (
    PROGRESS_FIELDS,
    AttemptQuery,
    DeliveryAttempt,
    DeliveryQuery,
    WebhookDelivery,
)

from .memory import SPECIALISED_REPOSITORIES, _Repository

__all__ = ["MemoryAttempts", "MemoryDeliveries", "MemoryNotifications"]

T = TypeVar("T")


def _page(items: list[T], offset: int, limit: int | None) -> list[T]:
    if offset < 0 or (limit is not None and limit < 0):
        raise ValidationError("offset and limit must not be negative")
    return items[offset: None if limit is None else offset + limit]


def _within(value: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or value >= start) and (end is None or value < end)


class _BatchInsert(_Repository):
    def add_many(self, records: Sequence[Any]) -> int:
        rows = self._rows  # checks the scope
        for record in records:
            self._check_scope(record)
        return self._insert_new(rows, records)

    def _insert_new(self, rows: dict[str, Any], records: Sequence[Any]) -> int:
        added = 0
        for record in records:
            if record.id in rows:
                continue
            rows[record.id] = attrs.evolve(record, version=1)
            self._uow.touch(self._kind.name, record.id)
            added += 1
        return added


class MemoryDeliveries(_BatchInsert):
    """Deliveries with leasing, optimistic bulk saves and filtered listings."""

    def claim_due(
        self, *, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[WebhookDelivery]:
        rows = self._rows
        due = sorted(
            (
                d for d in rows.values()
                if d.status is DeliveryStatus.PENDING
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
                and (d.lease_expires_at is None or d.lease_expires_at <= now)
            ),
            key=lambda d: (d.next_attempt_at, d.id),
        )[: max(limit, 0)]
        claimed = []
        for delivery in due:
            leased = attrs.evolve(
                delivery, lease_owner=owner, lease_expires_at=now + lease,
                version=delivery.version + 1,
            )
            rows[delivery.id] = leased
            self._uow.touch(self._kind.name, delivery.id)
            claimed.append(leased)
        return claimed

    def save_many(self, deliveries: Sequence[WebhookDelivery]) -> int:
        rows = self._rows
        saved = 0
        for delivery in deliveries:
            current = rows.get(delivery.id)
            if current is None or current.version != delivery.version:
                continue
            progress = {name: getattr(delivery, name) for name in PROGRESS_FIELDS}
            rows[delivery.id] = attrs.evolve(current, **progress, version=delivery.version + 1)
            self._uow.touch(self._kind.name, delivery.id)
            saved += 1
        return saved

    def _matching(self, query: DeliveryQuery) -> list[WebhookDelivery]:
        found = [
            d for d in self._rows.values()
            if (query.subscription_id is None or d.subscription_id == query.subscription_id)
            and (query.status is None or d.status == query.status)
            and (query.event_type is None or d.event_type == query.event_type)
            and _within(d.created_at, query.created_from, query.created_to)
        ]
        return sorted(found, key=lambda d: (d.created_at, d.id), reverse=True)

    def find_matching(
        self, query: DeliveryQuery, *, offset: int = 0, limit: int | None = None
    ) -> list[WebhookDelivery]:
        return _page(self._matching(query), offset, limit)

    def count_matching(self, query: DeliveryQuery) -> int:
        return len(self._matching(query))


class MemoryAttempts(_BatchInsert):
    """The attempt history with filtered listings."""

    def _matching(self, query: AttemptQuery) -> list[DeliveryAttempt]:
        found = [
            a for a in self._rows.values()
            if (query.delivery_id is None or a.delivery_id == query.delivery_id)
            and (query.subscription_id is None or a.subscription_id == query.subscription_id)
            and (query.outcome is None or a.outcome == query.outcome)
            and _within(a.attempted_at, query.attempted_from, query.attempted_to)
        ]
        return sorted(found, key=lambda a: (a.attempted_at, a.attempt_number, a.id),
                      reverse=True)

    def find_matching(
        self, query: AttemptQuery, *, offset: int = 0, limit: int | None = None
    ) -> list[DeliveryAttempt]:
        return _page(self._matching(query), offset, limit)

    def count_matching(self, query: AttemptQuery) -> int:
        return len(self._matching(query))


class MemoryNotifications(_BatchInsert):
    """Notifications as one user sees them, with broadcast read receipts resolved."""

    def add_for_event(self, notification: Notification) -> bool:
        self._uow.ensure_open()
        every_tenant = self._uow.work.records[self._kind.name]
        return self._insert_new(every_tenant, [notification]) == 1

    def _for_user(
        self, user_id: str, unread_only: bool, category: str | None
    ) -> list[UserNotification]:
        receipts: dict[str, Any] = self._uow.work.records["notification_reads"]
        views: list[UserNotification] = []
        for n in self._visible_rows():
            if n.user_id not in (None, user_id):
                continue
            if category is not None and n.category != category:
                continue
            if n.user_id is None:
                receipt = receipts.get(receipt_id(n.id, user_id))
                read_at = None if receipt is None else receipt.read_at
                is_read = receipt is not None
            else:
                read_at, is_read = n.read_at, n.is_read
            if unread_only and is_read:
                continue
            views.append(_view(n, is_read, read_at))
        return sorted(views, key=lambda v: (v.created_at, v.id), reverse=True)

    def _visible_rows(self) -> Iterable[Notification]:
        return [n for n in self._rows.values() if self._visible(n)]

    def find_for_user(
        self,
        user_id: str,
        *,
        unread_only: bool = False,
        category: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[UserNotification]:
        return _page(self._for_user(user_id, unread_only, category), offset, limit)

    def count_for_user(
        self, user_id: str, *, unread_only: bool = False, category: str | None = None
    ) -> int:
        return len(self._for_user(user_id, unread_only, category))


def _view(n: Notification, is_read: bool, read_at: datetime | None) -> UserNotification:
    return UserNotification(
        id=n.id, tenant_id=n.tenant_id, user_id=n.user_id, category=n.category, title=n.title,
        message=n.message, link=n.link, is_read=is_read, read_at=read_at,
        created_at=n.created_at,
    )


SPECIALISED_REPOSITORIES.update(
    {"webhook_deliveries": MemoryDeliveries, "webhook_attempts": MemoryAttempts,
     "notifications": MemoryNotifications}
)

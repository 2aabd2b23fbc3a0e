"""SQL repositories of deliveries, attempts and notifications: the dispatcher's hot path.

Batch operations use one prepared statement per batch (``executemany``) and build records
from rows directly rather than through the converter, because they run for every webhook
delivered. Leases are taken with ``SELECT ... FOR UPDATE SKIP LOCKED`` where the database
has row locks (PostgreSQL, MariaDB); SQLite serialises writers at ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from scaicontrol_core.clock import ensure_utc
from scaicontrol_core.errors import StorageError, ValidationError
from scaicontrol_core.machines.delivery import DeliveryStatus
from scaicontrol_core.notifications.model import Notification, UserNotification
from scaicontrol_core.webhooks.model import (
    PROGRESS_FIELDS,
    AttemptQuery,
    DeliveryAttempt,
    DeliveryQuery,
    WebhookDelivery,
)
from scaicontrol_core.webhooks.retry import DeliveryOutcome

from .bulk import insert_records, update_records
from .dialects import scan_queue_in_index_order, translated_errors
from .prepared import SKIPS_CONFLICTS
from .repositories import SqlRepository
from .tables_webhooks import PENDING_ONLY, notification_reads
from .uow import SPECIALISED_REPOSITORIES

__all__ = ["SqlAttempts", "SqlBatchRepository", "SqlDeliveries", "SqlNotifications"]

R = TypeVar("R")


def _values(record: Any, fields: Sequence[str], **override: Any) -> tuple[Any, ...]:
    """Column values of a trusted record in ``fields`` order: enums by value."""
    values = []
    for name in fields:
        value = override[name] if name in override else getattr(record, name)
        values.append(value.value if isinstance(value, enum.Enum) else value)
    return tuple(values)


def _page(statement: sa.Select[Any], offset: int, limit: int | None) -> sa.Select[Any]:
    if offset < 0 or (limit is not None and limit < 0):
        raise ValidationError("offset and limit must not be negative")
    if offset:
        statement = statement.offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return statement


def _range(
    column: sa.Column[Any], start: datetime | None, end: datetime | None
) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if start is not None:
        conditions.append(column >= ensure_utc(start))
    if end is not None:
        conditions.append(column < ensure_utc(end))
    return conditions


class SqlBatchRepository(SqlRepository[R]):
    """A repository that can insert many records in one round trip."""

    def add_many(self, records: Sequence[R]) -> int:
        """Insert, skipping known ids: on PostgreSQL and SQLite in one statement or one
        ``executemany`` (``ON CONFLICT DO NOTHING``). Elsewhere one query finds the known
        ids and one ``executemany`` inserts the rest inside a savepoint; a concurrent insert
        of the same id (the savepoint fails) falls back to one row at a time."""
        self._scope()
        for record in records:
            self._check_scope(record)
        return self._insert_new(records)

    def _insert_new(self, records: Sequence[R]) -> int:
        self._uow.ensure_open()
        if not records:
            return 0
        t, names = self._table, self._fields
        connection = self._uow.connection
        self._uow.note_write(t)
        if connection.dialect.name in SKIPS_CONFLICTS:
            with translated_errors():
                return insert_records(connection, t, records, names, skip_conflicts_on="id")
        ids = [record.id for record in records]  # type: ignore[attr-defined]
        known = set(self._uow.execute(sa.select(t.c.id).where(t.c.id.in_(ids))).scalars())
        fresh = [r for r in records if r.id not in known]  # type: ignore[attr-defined]
        if not fresh:
            return 0
        try:
            with connection.begin_nested(), translated_errors():
                insert_records(connection, t, fresh, names, skip_conflicts_on=None)
        except StorageError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            return sum(
                self._uow.insert_unless_exists(t, dict(zip(names, row, strict=True)), "id")
                for row in (_values(r, names, version=1) for r in fresh)
            )
        return len(fresh)


class SqlDeliveries(SqlBatchRepository[WebhookDelivery]):
    """Deliveries with leasing, optimistic bulk saves and filtered listings."""

    def _delivery(self, row: RowMapping) -> WebhookDelivery:
        values = dict(row)
        values["status"] = DeliveryStatus(values["status"])
        return WebhookDelivery(**values)

    def claim_due(
        self, *, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[WebhookDelivery]:
        self._scope()
        if limit <= 0:
            return []
        now = ensure_utc(now)
        t = self._table
        statement = (
            sa.select(*self._columns)
            .where(
                sa.text(PENDING_ONLY),  # word for word the partial index's predicate
                t.c.next_attempt_at <= now,
                sa.or_(t.c.lease_expires_at.is_(None), t.c.lease_expires_at <= now),
            )
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(limit)
        )
        if self._uow.locks_rows:
            # rows another claimer holds are passed over, never waited for or shared
            statement = statement.with_for_update(skip_locked=True)
        scan_queue_in_index_order(self._uow.connection)
        rows = self._uow.execute(statement).mappings().all()
        if not rows:
            return []
        expires = now + lease
        self._uow.execute(
            sa.update(t)
            .where(t.c.id.in_([row["id"] for row in rows]))
            .values(lease_owner=owner, lease_expires_at=expires, version=t.c.version + 1)
        )
        return [
            attrs.evolve(
                self._delivery(row), lease_owner=owner, lease_expires_at=expires,
                version=row["version"] + 1,
            )
            for row in rows
        ]

    def save_many(self, deliveries: Sequence[WebhookDelivery]) -> int:
        self._scope()
        if not deliveries:
            return 0
        t = self._table
        self._uow.note_write(t)
        with translated_errors():
            return update_records(self._uow.connection, t, deliveries, PROGRESS_FIELDS,
                                  ("id", "version"))

    def _conditions(self, query: DeliveryQuery) -> list[sa.ColumnElement[bool]]:
        t = self._table
        conditions = [*self._scope(), *_range(t.c.created_at, query.created_from, query.created_to)]
        if query.subscription_id is not None:
            conditions.append(t.c.subscription_id == query.subscription_id)
        if query.status is not None:
            conditions.append(t.c.status == DeliveryStatus(query.status).value)
        if query.event_type is not None:
            conditions.append(t.c.event_type == query.event_type)
        return conditions

    def find_matching(
        self, query: DeliveryQuery, *, offset: int = 0, limit: int | None = None
    ) -> list[WebhookDelivery]:
        t = self._table
        statement = (
            sa.select(*self._columns).where(*self._conditions(query))
            .order_by(t.c.created_at.desc(), t.c.id.desc())
        )
        rows = self._uow.execute(_page(statement, offset, limit)).mappings().all()
        return [self._delivery(row) for row in rows]

    def count_matching(self, query: DeliveryQuery) -> int:
        statement = sa.select(sa.func.count()).select_from(self._table)
        return int(self._uow.execute(statement.where(*self._conditions(query))).scalar_one())


class SqlAttempts(SqlBatchRepository[DeliveryAttempt]):
    """The attempt history with filtered listings."""


    def _conditions(self, query: AttemptQuery) -> list[sa.ColumnElement[bool]]:
        t = self._table
        conditions = [
            *self._scope(), *_range(t.c.attempted_at, query.attempted_from, query.attempted_to)
        ]
        if query.delivery_id is not None:
            conditions.append(t.c.delivery_id == query.delivery_id)
        if query.subscription_id is not None:
            conditions.append(t.c.subscription_id == query.subscription_id)
        if query.outcome is not None:
            conditions.append(t.c.outcome == DeliveryOutcome(query.outcome).value)
        return conditions

    def find_matching(
        self, query: AttemptQuery, *, offset: int = 0, limit: int | None = None
    ) -> list[DeliveryAttempt]:
        t = self._table
        statement = (
            sa.select(*self._columns).where(*self._conditions(query))
            .order_by(t.c.attempted_at.desc(), t.c.attempt_number.desc(), t.c.id.desc())
        )
        rows = self._uow.execute(_page(statement, offset, limit)).mappings().all()
        return [
            DeliveryAttempt(**{**row, "outcome": DeliveryOutcome(row["outcome"])})
            for row in rows
        ]

    def count_matching(self, query: AttemptQuery) -> int:
        statement = sa.select(sa.func.count()).select_from(self._table)
        return int(self._uow.execute(statement.where(*self._conditions(query))).scalar_one())


class SqlNotifications(SqlBatchRepository[Any]):
    """Notifications as one user sees them: a left join with that user's read receipts."""

    def add_for_event(self, notification: Notification) -> bool:
        return self._insert_new([notification]) == 1

    def _user_query(
        self, columns: Sequence[sa.ColumnElement[Any]], user_id: str, unread_only: bool,
        category: str | None,
    ) -> sa.Select[Any]:
        n, r = self._table, notification_reads
        joined = n.outerjoin(r, sa.and_(r.c.notification_id == n.c.id, r.c.user_id == user_id))
        conditions = [
            *self._scope(), sa.or_(n.c.user_id == user_id, n.c.user_id.is_(None))
        ]
        if category is not None:
            conditions.append(n.c.category == category)
        if unread_only:
            conditions.append(sa.or_(
                sa.and_(n.c.user_id.is_(None), r.c.id.is_(None)),
                sa.and_(n.c.user_id == user_id, sa.not_(n.c.is_read)),
            ))
        return sa.select(*columns).select_from(joined).where(*conditions)

    def find_for_user(
        self,
        user_id: str,
        *,
        unread_only: bool = False,
        category: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[UserNotification]:
        n, r = self._table, notification_reads
        columns = [*self._columns, r.c.id.label("receipt_id"), r.c.read_at.label("receipt_at")]
        statement = self._user_query(columns, user_id, unread_only, category).order_by(
            n.c.created_at.desc(), n.c.id.desc()
        )
        rows = self._uow.execute(_page(statement, offset, limit)).mappings().all()
        return [_view(row) for row in rows]

    def count_for_user(
        self, user_id: str, *, unread_only: bool = False, category: str | None = None
    ) -> int:
        statement = self._user_query([sa.func.count()], user_id, unread_only, category)
        return int(self._uow.execute(statement).scalar_one())


def _view(row: Mapping[Any, Any]) -> UserNotification:
    broadcast = row["user_id"] is None
    is_read = row["receipt_id"] is not None if broadcast else bool(row["is_read"])
    return UserNotification(
        id=row["id"], tenant_id=row["tenant_id"], user_id=row["user_id"],
        category=row["category"], title=row["title"], message=row["message"],
        link=row["link"], is_read=is_read,
        read_at=row["receipt_at"] if broadcast else row["read_at"],
        created_at=row["created_at"],
    )


SPECIALISED_REPOSITORIES.update(
    {"webhook_deliveries": SqlDeliveries, "webhook_attempts": SqlAttempts,
     "notifications": SqlNotifications}
)

"""The outbox in SQL: appends deduplicated by key, leases taken with SKIP LOCKED."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
from sqlalchemy.sql.dml import ReturningUpdate

from scaicontrol_core.clock import ensure_utc
from scaicontrol_core.machines.outbox import OUTBOX_MESSAGE, OutboxStatus, OutboxTrigger
from scaicontrol_core.records import NewOutboxMessage, OutboxMessage

from .dialects import in_list, scan_queue_in_index_order
from .repositories import column_values

if TYPE_CHECKING:
    from .uow import SqlUnitOfWork

__all__ = ["SqlOutbox"]


class SqlOutbox:
    """Outbox rows read and changed inside one unit of work's transaction."""

    def __init__(self, uow: SqlUnitOfWork, table: sa.Table) -> None:
        self._uow = uow
        self._table = table
        self._names = tuple(field.name for field in attrs.fields(OutboxMessage))
        self._columns = tuple(table.c[name] for name in self._names)

    def append(self, message: NewOutboxMessage) -> bool:
        self._uow.ensure_open()
        payload = self._uow.converter.unstructure(dict(message.payload), dict[str, Any])
        values = column_values(
            self._table,
            {
                "kind": message.kind,
                "topic": message.topic,
                "key": message.key,
                "payload": payload,
                "tenant_id": message.tenant_id,
                "created_at": message.created_at,
                "available_at": message.available_at or message.created_at,
                "status": OUTBOX_MESSAGE.initial,
                "attempts": 0,
                "lease_owner": None,
                "lease_expires_at": None,
                "last_error": None,
                "finished_at": None,
            },
        )
        return self._uow.insert_unless_exists(self._table, values, "key")

    def claim(
        self,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        kinds: Sequence[str] | None = None,
    ) -> list[OutboxMessage]:
        self._uow.ensure_open()
        now = ensure_utc(now)
        if limit <= 0 or (kinds is not None and not kinds):
            return []
        expires = ensure_utc(now + lease)
        values: dict[str, Any] = {"now": now, "limit": limit, "owner_": owner,
                                  "expires_": expires}
        if kinds is not None:
            values["kinds"] = list(kinds)
        by_kind, locks = kinds is not None, self._uow.locks_rows
        scan_queue_in_index_order(self._uow.connection)
        if self._uow.connection.dialect.update_returning:
            # one statement: lease the due rows and return them
            leasing = _lease_due(self._table, self._columns, by_kind, locks)
            rows = self._uow.execute(leasing, values).all()
            return sorted((self._message(row) for row in rows), key=lambda m: m.seq)
        due = _select_due(self._table, self._columns, by_kind, locks)
        rows = self._uow.execute(due, values).all()
        if not rows:
            return []
        values["seqs"] = [row.seq for row in rows]
        self._uow.execute(_lease_seqs(self._table), values)
        return [
            attrs.evolve(
                self._message(row),
                lease_owner=owner,
                lease_expires_at=expires,
                attempts=row.attempts + 1,
            )
            for row in rows
        ]

    def complete(self, seq: int, *, owner: str, now: datetime) -> bool:
        return self._fire(
            seq, OutboxTrigger.COMPLETE, owner,
            lease_owner=None, lease_expires_at=None, finished_at=now,
        )

    def complete_many(self, seqs: Sequence[int], *, owner: str, now: datetime) -> list[int]:
        """Mark done, in one statement, every message of ``seqs`` that ``owner`` holds
        (without ``RETURNING``, the held rows are locked and read first)."""
        self._uow.ensure_open()
        if not seqs:
            return []
        values = {"seqs": sorted(set(seqs)), "owner_": owner, "finished_": ensure_utc(now)}
        dialect = self._uow.connection.dialect
        arrays = dialect.name == "postgresql"
        if dialect.update_returning:
            completing = _complete_held(self._table, returning=True, arrays=arrays)
            return sorted(self._uow.execute(completing, values).scalars())
        found = sorted(self._uow.execute(_lock_held(self._table, arrays), values).scalars())
        if found:
            values["seqs"] = found
            self._uow.execute(_complete_held(self._table, returning=False, arrays=arrays),
                              values)
        return found

    def retry(self, seq: int, *, owner: str, available_at: datetime, error: str) -> bool:
        return self._fire(
            seq, OutboxTrigger.RETRY, owner,
            lease_owner=None, lease_expires_at=None, available_at=available_at, last_error=error,
        )

    def give_up(self, seq: int, *, owner: str, now: datetime, error: str) -> bool:
        return self._fire(
            seq, OutboxTrigger.GIVE_UP, owner,
            lease_owner=None, lease_expires_at=None, last_error=error, finished_at=now,
        )

    def revive(self, seq: int, *, now: datetime) -> bool:
        return self._fire(seq, OutboxTrigger.REVIVE, None, available_at=now, finished_at=None)

    def _fire(self, seq: int, trigger: OutboxTrigger, owner: str | None, **changes: Any) -> bool:
        """Apply ``trigger`` to row ``seq`` in one conditional UPDATE.

        The states it may leave from, and where each leads, come from the machine table;
        with ``owner``, the row must also be leased by that owner.
        """
        self._uow.ensure_open()
        moves = {
            source.value: target.value
            for (source, fired), target in OUTBOX_MESSAGE.transitions.items()
            if fired is trigger
        }
        if not moves:
            return False
        t = self._table
        conditions = [t.c.seq == seq, t.c.status.in_(list(moves))]
        if owner is not None:
            conditions.append(t.c.lease_owner == owner)
        targets = set(moves.values())
        values = column_values(t, changes)
        values["status"] = targets.pop() if len(targets) == 1 else sa.case(moves, value=t.c.status)
        result = self._uow.execute(sa.update(t).where(*conditions).values(values))
        return result.rowcount == 1

    def get(self, seq: int) -> OutboxMessage | None:
        self._uow.ensure_open()
        statement = sa.select(*self._columns).where(self._table.c.seq == seq)
        row = self._uow.execute(statement).first()
        return None if row is None else self._message(row)

    def find(
        self,
        *,
        status: OutboxStatus | None = None,
        kinds: Sequence[str] | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[OutboxMessage]:
        self._uow.ensure_open()
        if limit <= 0 or (kinds is not None and not kinds):
            return []
        t = self._table
        conditions = [t.c.seq > after_seq]
        if status is not None:
            conditions.append(t.c.status == OutboxStatus(status).value)
        if kinds is not None:
            conditions.append(t.c.kind.in_(list(kinds)))
        statement = sa.select(*self._columns).where(*conditions).order_by(t.c.seq).limit(limit)
        return [self._message(row) for row in self._uow.execute(statement).all()]

    def purge(self, *, finished_before: datetime) -> int:
        self._uow.ensure_open()
        t = self._table
        statement = sa.delete(t).where(
            t.c.status == OutboxStatus.DONE.value,
            t.c.finished_at.is_not(None),
            t.c.finished_at < ensure_utc(finished_before),
        )
        return int(self._uow.execute(statement).rowcount)

    def _message(self, row: Sequence[Any]) -> OutboxMessage:
        # built directly from the values (selected in field order): claiming is on the
        # webhook hot path, and the converter and row mappings are slow
        values = dict(zip(self._names, row, strict=True))
        try:
            values["status"] = OutboxStatus(values["status"])
            return OutboxMessage(**values)
        except (TypeError, ValueError):
            return self._uow.structure(values, OutboxMessage)  # raises a clear StorageError


# --- hot statements, built once (with bound parameters) and reused ------------------------


def _due_conditions(t: sa.Table, by_kind: bool) -> list[sa.ColumnElement[bool]]:
    now = sa.bindparam("now", type_=t.c.available_at.type)
    conditions = [
        t.c.status == OutboxStatus.PENDING.value,
        t.c.available_at <= now,
        sa.or_(t.c.lease_expires_at.is_(None), t.c.lease_expires_at <= now),
    ]
    if by_kind:
        conditions.append(t.c.kind.in_(sa.bindparam("kinds", expanding=True)))
    return conditions


def _leased(t: sa.Table) -> dict[str, Any]:
    return {"lease_owner": sa.bindparam("owner_"), "lease_expires_at": sa.bindparam("expires_"),
            "attempts": t.c.attempts + 1}


@cache
def _select_due(t: sa.Table, columns: tuple[sa.Column[Any], ...], by_kind: bool,
                locks: bool) -> sa.Select[Any]:
    """Due pending rows in seq order; where rows can be locked, those another claimer
    holds are passed over, never waited for or shared."""
    statement = (sa.select(*columns).where(*_due_conditions(t, by_kind)).order_by(t.c.seq)
                 .limit(sa.bindparam("limit", type_=sa.Integer())))
    return statement.with_for_update(skip_locked=True) if locks else statement


@cache
def _lease_due(t: sa.Table, columns: tuple[sa.Column[Any], ...], by_kind: bool,
               locks: bool) -> ReturningUpdate[Any]:
    due = _select_due(t, (t.c.seq,), by_kind, locks)
    return sa.update(t).where(t.c.seq.in_(due)).values(_leased(t)).returning(*columns)


@cache
def _lease_seqs(t: sa.Table) -> sa.Update:
    return sa.update(t).where(t.c.seq.in_(sa.bindparam("seqs", expanding=True))).values(
        _leased(t))


def _held(t: sa.Table, arrays: bool) -> list[sa.ColumnElement[bool]]:
    return [
        in_list(t.c.seq, "seqs", arrays=arrays),
        t.c.status == OutboxStatus.PENDING.value,
        t.c.lease_owner == sa.bindparam("owner_"),
    ]


@cache
def _lock_held(t: sa.Table, arrays: bool) -> sa.Select[Any]:
    return sa.select(t.c.seq).where(*_held(t, arrays)).with_for_update()


@cache
def _complete_held(t: sa.Table, *, returning: bool, arrays: bool
                   ) -> sa.Update | ReturningUpdate[Any]:
    done = OUTBOX_MESSAGE.fire(OutboxStatus.PENDING, OutboxTrigger.COMPLETE)
    statement = sa.update(t).where(*_held(t, arrays)).values(
        status=done.value, lease_owner=None, lease_expires_at=None,
        finished_at=sa.bindparam("finished_"),
    )
    return statement.returning(t.c.seq) if returning else statement

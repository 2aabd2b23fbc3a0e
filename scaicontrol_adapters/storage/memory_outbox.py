"""The in-memory outbox: messages by seq, leased and moved on by the outbox machine.

Appended messages stay with the unit of work until it commits; the storage then gives each
a seq (:func:`stored_message`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from scaicontrol_core.machines.outbox import OUTBOX_MESSAGE, OutboxStatus, OutboxTrigger
from scaicontrol_core.records import NewOutboxMessage, OutboxMessage

if TYPE_CHECKING:
    from .memory import _UnitOfWork

__all__ = ["MemoryOutbox", "stored_message"]


class MemoryOutbox:
    """The outbox of one unit of work: appended messages wait for the commit, changes to
    stored ones apply to the unit of work's copy."""

    def __init__(self, uow: _UnitOfWork) -> None:
        self._uow = uow
        self.appended: list[NewOutboxMessage] = []

    @property
    def _rows(self) -> dict[int, OutboxMessage]:
        self._uow.ensure_open()
        return self._uow.work.outbox

    def append(self, message: NewOutboxMessage) -> bool:
        self._uow.ensure_open()
        if message.key in self._uow.work.keys or any(m.key == message.key for m in self.appended):
            return False
        self.appended.append(message)
        return True

    def _set(self, seq: int, trigger: OutboxTrigger, owner: str | None, **changes: Any) -> bool:
        message = self._rows.get(seq)
        if message is None or (owner is not None and message.lease_owner != owner):
            return False
        if not OUTBOX_MESSAGE.can_fire(message.status, trigger):
            return False
        status = OUTBOX_MESSAGE.fire(message.status, trigger)
        self._rows[seq] = attrs.evolve(message, status=status, **changes)
        self._uow.touch_outbox(seq)
        return True

    def claim(
        self,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        kinds: Sequence[str] | None = None,
    ) -> list[OutboxMessage]:
        due = [
            m
            for seq, m in sorted(self._rows.items())
            if m.status is OutboxStatus.PENDING
            and m.available_at <= now
            and (m.lease_expires_at is None or m.lease_expires_at <= now)
            and (kinds is None or m.kind in kinds)
        ][:limit]
        claimed = []
        for message in due:
            leased = attrs.evolve(
                message, lease_owner=owner, lease_expires_at=now + lease,
                attempts=message.attempts + 1,
            )
            self._rows[message.seq] = leased
            self._uow.touch_outbox(message.seq)
            claimed.append(leased)
        return claimed

    def complete(self, seq: int, *, owner: str, now: datetime) -> bool:
        return self._set(
            seq, OutboxTrigger.COMPLETE, owner,
            lease_owner=None, lease_expires_at=None, finished_at=now,
        )

    def complete_many(self, seqs: Sequence[int], *, owner: str, now: datetime) -> list[int]:
        return [seq for seq in sorted(set(seqs)) if self.complete(seq, owner=owner, now=now)]

    def retry(self, seq: int, *, owner: str, available_at: datetime, error: str) -> bool:
        return self._set(
            seq, OutboxTrigger.RETRY, owner,
            lease_owner=None, lease_expires_at=None, available_at=available_at, last_error=error,
        )

    def give_up(self, seq: int, *, owner: str, now: datetime, error: str) -> bool:
        return self._set(
            seq, OutboxTrigger.GIVE_UP, owner,
            lease_owner=None, lease_expires_at=None, last_error=error, finished_at=now,
        )

    def revive(self, seq: int, *, now: datetime) -> bool:
        return self._set(seq, OutboxTrigger.REVIVE, None, available_at=now, finished_at=None)

    def get(self, seq: int) -> OutboxMessage | None:
        return self._rows.get(seq)

    def find(
        self,
        *,
        status: OutboxStatus | None = None,
        kinds: Sequence[str] | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[OutboxMessage]:
        return [
            m
            for seq, m in sorted(self._rows.items())
            if seq > after_seq
            and (status is None or m.status is status)
            and (kinds is None or m.kind in kinds)
        ][:limit]

    def purge(self, *, finished_before: datetime) -> int:
        doomed = [
            seq
            for seq, m in self._rows.items()
            if m.status is OutboxStatus.DONE
            and m.finished_at is not None
            and m.finished_at < finished_before
        ]
        for seq in doomed:
            del self._rows[seq]
            self._uow.touch_outbox(seq)
        return len(doomed)


def stored_message(seq: int, new: NewOutboxMessage) -> OutboxMessage:
    """The stored form of ``new``, committed as ``seq``."""
    return OutboxMessage(
        seq=seq,
        kind=new.kind,
        topic=new.topic,
        key=new.key,
        payload=dict(new.payload),
        tenant_id=new.tenant_id,
        created_at=new.created_at,
        available_at=new.available_at or new.created_at,
        status=OutboxStatus.PENDING,
        attempts=0,
        lease_owner=None,
        lease_expires_at=None,
        last_error=None,
        finished_at=None,
    )

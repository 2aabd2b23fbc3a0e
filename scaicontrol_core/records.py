"""Stored records of the foundation: organisations and outbox messages.

Every stored record is a frozen attrs class with an ``id`` and a ``version``; storage bumps
the version on each update and refuses a save that carries a stale one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import attrs

from .machines.outbox import OutboxStatus

__all__ = [
    "NewOutboxMessage",
    "OrgStatus",
    "OutboxMessage",
    "Partner",
    "Record",
    "Tenant",
]


class Record(Protocol):
    """What storage needs from any record: an id and an optimistic-lock version."""

    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


class OrgStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"


@attrs.frozen(kw_only=True)
class Partner:
    """A reseller or MSP; the platform operator is a partner with ``is_operator`` set."""

    id: str
    name: str
    is_operator: bool = False
    status: OrgStatus = OrgStatus.ACTIVE
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class Tenant:
    """A customer organisation; it belongs to exactly one partner."""

    id: str
    partner_id: str
    name: str
    email: str | None = None
    status: OrgStatus = OrgStatus.ACTIVE
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class NewOutboxMessage:
    """A message to append in the same transaction as the change that caused it.

    ``key`` is unique across the outbox: appending a key that exists is a no-op, so the
    same logical event or effect is never recorded twice.
    """

    kind: str
    topic: str
    key: str
    payload: Mapping[str, Any]
    created_at: datetime
    tenant_id: str | None = None
    available_at: datetime | None = None


@attrs.frozen(kw_only=True)
class OutboxMessage:
    """A stored outbox message.

    ``seq`` grows with each insert. On servers with concurrent writers a transaction that
    commits later may hold a lower ``seq``, so it orders claims, not a gap-free change feed.
    """

    seq: int
    kind: str
    topic: str
    key: str
    payload: Mapping[str, Any]
    tenant_id: str | None
    created_at: datetime
    available_at: datetime
    status: OutboxStatus
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    finished_at: datetime | None

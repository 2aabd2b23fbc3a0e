"""In-app notifications: tenant-scoped records, per-user read receipts and the user's view.

A notification is addressed to one user (``user_id`` set; its own ``is_read``/``read_at``)
or broadcast to every user of its tenant (``user_id`` None). Each user reads a broadcast
for themselves, so broadcasts keep one :class:`NotificationRead` receipt per user instead of
a flag on the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from ..ports import Repository

__all__ = [
    "Notification",
    "NotificationRead",
    "NotificationRepository",
    "UserNotification",
]


@attrs.frozen(kw_only=True)
class Notification:
    """A message for one user, or (``user_id`` None) for every user of ``tenant_id``.

    ``source_key`` is the idempotency key of the event it was made from, if any.
    """

    id: str
    tenant_id: str
    user_id: str | None = None
    category: str
    title: str
    message: str
    link: str | None = None
    is_read: bool = False
    read_at: datetime | None = None
    source_key: str | None = None
    created_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class NotificationRead:
    """That ``user_id`` read the broadcast ``notification_id`` at ``read_at``."""

    id: str
    tenant_id: str
    notification_id: str
    user_id: str
    read_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class UserNotification:
    """A notification as one user sees it: read state resolved for broadcasts."""

    id: str
    tenant_id: str
    user_id: str | None
    category: str
    title: str
    message: str
    link: str | None
    is_read: bool
    read_at: datetime | None
    created_at: datetime


class NotificationRepository(Repository[Notification], Protocol):
    """Notifications of the unit of work's tenant, with the per-user queries."""

    def add_many(self, notifications: Sequence[Notification]) -> int:
        """Insert at version 1; notifications whose id exists are skipped. Returns how many
        were inserted."""
        ...

    def add_for_event(self, notification: Notification) -> bool:
        """Insert the notification made from a recorded event, whatever the unit of work's
        tenant scope (the event decides the tenant, as for its outbox row); False if its
        id exists."""
        ...

    def find_for_user(
        self,
        user_id: str,
        *,
        unread_only: bool = False,
        category: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[UserNotification]:
        """What ``user_id`` sees: notifications addressed to them and their tenant's
        broadcasts, newest first (``created_at``, then ``id``, both descending), with the
        read state of that user."""
        ...

    def count_for_user(
        self, user_id: str, *, unread_only: bool = False, category: str | None = None
    ) -> int:
        """How many notifications :meth:`find_for_user` would return without paging."""
        ...

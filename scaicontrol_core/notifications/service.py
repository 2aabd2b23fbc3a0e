"""What a user does with notifications: list them, mark one read, mark all read.

Every function takes a unit of work opened for the caller's tenant, so another tenant's
notification reads as missing (404 at the API), exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from ..errors import DuplicateRecord, NotFound, ValidationError
from ..webhooks.model import derived_id
from .model import Notification, NotificationRead, UserNotification

if TYPE_CHECKING:
    from ..ports import UnitOfWork

__all__ = ["list_for_user", "mark_all_read", "mark_read", "receipt_id"]

_LABEL = "Notification"


def receipt_id(notification_id: str, user_id: str) -> str:
    """The id of ``user_id``'s read receipt for a broadcast (one per user and notification)."""
    return derived_id("notification-read", notification_id, user_id)


def _require_tenant(uow: UnitOfWork) -> str:
    if uow.tenant_id is None:
        raise ValidationError("notifications are read within one tenant", field="tenant_id")
    return uow.tenant_id


def list_for_user(
    uow: UnitOfWork,
    user_id: str,
    *,
    unread_only: bool = False,
    category: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[UserNotification], int]:
    """One page of what ``user_id`` sees, newest first, and the total."""
    _require_tenant(uow)
    items = uow.notifications.find_for_user(
        user_id, unread_only=unread_only, category=category, offset=offset, limit=limit
    )
    total = uow.notifications.count_for_user(user_id, unread_only=unread_only, category=category)
    return items, total


def _view(notification: Notification, is_read: bool, read_at: datetime | None) -> UserNotification:
    return UserNotification(
        id=notification.id,
        tenant_id=notification.tenant_id,
        user_id=notification.user_id,
        category=notification.category,
        title=notification.title,
        message=notification.message,
        link=notification.link,
        is_read=is_read,
        read_at=read_at,
        created_at=notification.created_at,
    )


def _read(uow: UnitOfWork, notification: Notification, user_id: str, now: datetime) -> tuple[
    UserNotification, bool
]:
    """Mark ``notification`` read for ``user_id``; returns the view and whether it changed."""
    if notification.user_id is not None:
        if notification.is_read:
            return _view(notification, True, notification.read_at), False
        saved = uow.notifications.update(attrs.evolve(notification, is_read=True, read_at=now))
        return _view(saved, True, now), True
    receipt_key = receipt_id(notification.id, user_id)
    existing = uow.notification_reads.get(receipt_key)
    if existing is not None:
        return _view(notification, True, existing.read_at), False
    receipt = NotificationRead(
        id=receipt_key, tenant_id=notification.tenant_id, notification_id=notification.id,
        user_id=user_id, read_at=now,
    )
    try:
        uow.notification_reads.add(receipt)
    except DuplicateRecord:  # read in a parallel request a moment ago
        return _view(notification, True, now), False
    return _view(notification, True, now), True


def mark_read(uow: UnitOfWork, notification_id: str, user_id: str, now: datetime) -> (
    UserNotification
):
    """Mark one notification read for ``user_id``; marking it again changes nothing.

    A notification of another tenant, or addressed to another user, is ``NotFound``.
    """
    _require_tenant(uow)
    notification = uow.notifications.get(notification_id)
    if notification is None or notification.user_id not in (None, user_id):
        raise NotFound(_LABEL, notification_id)
    view, _ = _read(uow, notification, user_id, now)
    return view


def mark_all_read(uow: UnitOfWork, user_id: str, now: datetime) -> int:
    """Mark everything ``user_id`` has not read yet; returns how many were marked."""
    _require_tenant(uow)
    unread = uow.notifications.find_for_user(user_id, unread_only=True)
    marked = 0
    for item in unread:
        notification = uow.notifications.get(item.id)
        if notification is not None and _read(uow, notification, user_id, now)[1]:
            marked += 1
    return marked

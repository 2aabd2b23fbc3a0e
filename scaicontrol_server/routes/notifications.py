"""In-app notifications of the caller: ``/api/v1/notifications`` (tag ``notifications``).

A caller sees the notifications addressed to them and their tenant's broadcasts; each user
reads a broadcast for themselves. The unit of work is confined to the caller's tenant, so
another tenant's notification id answers 404 like a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import attrs

from scaicontrol_core.notifications import (
    UserNotification,
    list_for_user,
    mark_all_read,
    mark_read,
)

from ..api import AUTHENTICATED, Call, Endpoint, Page, ResponseKind
from ..fields import field
from ._common import own_tenant_id, principal_of

__all__ = ["ENDPOINTS", "NotificationResponse"]

TAG: Final = "notifications"


@attrs.frozen(kw_only=True)
class NotificationFilter:
    unread_only: bool = field(default=False, description="Only notifications not yet read.")
    category: str | None = field(
        default=None, max_length=64,
        description="Only this category: billing, subscriptions, service_packs, ...",
    )


@attrs.frozen(kw_only=True)
class NotificationPath:
    notification_id: str = field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")


@attrs.frozen(kw_only=True)
class NotificationResponse:
    """A notification as the caller sees it."""

    id: str
    tenant_id: str
    user_id: str | None
    """The addressee; null for a broadcast to every user of the tenant."""
    category: str
    title: str
    message: str
    link: str | None
    """A path in the portal the notification is about, if any."""
    is_read: bool
    read_at: datetime | None
    created_at: datetime


@attrs.frozen(kw_only=True)
class NotificationsMarkedRead:
    marked_read: int
    """How many notifications were unread and now are read."""


def _view(item: UserNotification) -> NotificationResponse:
    return NotificationResponse(
        id=item.id, tenant_id=item.tenant_id, user_id=item.user_id, category=item.category,
        title=item.title, message=item.message, link=item.link, is_read=item.is_read,
        read_at=item.read_at, created_at=item.created_at,
    )


def _caller(call: Call[Any, Any, Any]) -> tuple[str, str]:
    principal = principal_of(call)
    return own_tenant_id(principal), principal.subject


async def list_notifications(
    call: Call[None, NotificationFilter, None],
) -> Page[NotificationResponse]:
    """The caller's notifications and their tenant's broadcasts, newest first."""
    tenant_id, user_id = _caller(call)

    def read() -> Page[NotificationResponse]:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            items, total = list_for_user(
                uow, user_id, unread_only=call.query.unread_only, category=call.query.category,
                offset=call.page.offset, limit=call.page.limit,
            )
        return Page(items=[_view(item) for item in items], total=total)

    return await call.run(read)


async def read_all(call: Call[None, None, None]) -> NotificationsMarkedRead:
    """Mark everything the caller has not read yet as read."""
    tenant_id, user_id = _caller(call)
    now = call.now()

    def write() -> int:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            marked = mark_all_read(uow, user_id, now)
            uow.commit()
            return marked

    return NotificationsMarkedRead(marked_read=await call.run(write))


async def read_one(call: Call[None, None, NotificationPath]) -> NotificationResponse:
    """Mark one notification read (again: no change); 404 if the caller cannot see it."""
    tenant_id, user_id = _caller(call)
    now = call.now()

    def write() -> UserNotification:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            view = mark_read(uow, call.path.notification_id, user_id, now)
            uow.commit()
            return view

    return _view(await call.run(write))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/notifications", handler=list_notifications,
             access=AUTHENTICATED, tag=TAG, kind=ResponseKind.PAGE,
             response_schema=NotificationResponse, query_schema=NotificationFilter,
             summary="List Notifications"),
    Endpoint(method="POST", path="/notifications/read-all", handler=read_all,
             access=AUTHENTICATED, tag=TAG, response_schema=NotificationsMarkedRead,
             summary="Mark All Notifications Read"),
    Endpoint(method="POST", path="/notifications/{notification_id}/read", handler=read_one,
             access=AUTHENTICATED, tag=TAG, response_schema=NotificationResponse,
             path_schema=NotificationPath, summary="Mark Notification Read"),
)

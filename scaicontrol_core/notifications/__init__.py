"""In-app notifications: records, the per-user view, texts made from events, user actions.

Modules: ``model`` (records, view, repository protocol), ``from_events`` (event ->
broadcast notification), ``recording`` (an event and its notification, in the caller's
transaction) and ``service`` (list, mark read, mark all read).
"""

from __future__ import annotations

from .from_events import CATEGORIES, notification_for_event
from .model import Notification, NotificationRead, NotificationRepository, UserNotification
from .recording import record_event
from .service import list_for_user, mark_all_read, mark_read, receipt_id

__all__ = [
    "CATEGORIES",
    "Notification",
    "NotificationRead",
    "NotificationRepository",
    "UserNotification",
    "list_for_user",
    "mark_all_read",
    "mark_read",
    "notification_for_event",
    "receipt_id",
    "record_event",
]

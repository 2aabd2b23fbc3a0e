"""Recording an event in the unit of work of the change that caused it.

The event goes to the outbox (for webhooks) and, when it concerns a tenant, becomes that
tenant's broadcast notification in the same transaction: the notification exists as soon as
the change commits, whether or not a worker runs, and the webhook dispatcher has nothing to
do for it. An event whose key is in the outbox already is recorded once, notification
included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..events import Envelope, outbox_message
from .from_events import notification_for_event

if TYPE_CHECKING:
    from ..ports import UnitOfWork

__all__ = ["record_event"]


def record_event(uow: UnitOfWork, envelope: Envelope) -> bool:
    """Append ``envelope`` to the outbox and add its tenant's notification, if any; returns
    False (and records nothing) when the same logical event is recorded already.

    Like the outbox row, the notification is stored whatever the unit of work's tenant
    scope: it belongs to the tenant the event is about.
    """
    message = outbox_message(envelope)
    if not uow.outbox.append(message):
        return False
    notification = notification_for_event(
        message.payload, message.tenant_id, created_at=message.created_at
    )
    if notification is not None:
        uow.notifications.add_for_event(notification)
    return True

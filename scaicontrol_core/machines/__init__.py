"""State machines, one module per machine; :data:`ALL_MACHINES` lists them for docs and tests."""

from __future__ import annotations

from typing import Any

from ._table import Machine
from .delivery import DELIVERY, DeliveryStatus, DeliveryTrigger
from .outbox import OUTBOX_MESSAGE, OutboxStatus, OutboxTrigger
from .pack_subscription import PACK_SUBSCRIPTION
from .subscription import SUBSCRIPTION, SubscriptionStatus, SubscriptionTrigger

__all__ = [
    "ALL_MACHINES",
    "DELIVERY",
    "OUTBOX_MESSAGE",
    "PACK_SUBSCRIPTION",
    "SUBSCRIPTION",
    "DeliveryStatus",
    "DeliveryTrigger",
    "Machine",
    "OutboxStatus",
    "OutboxTrigger",
    "SubscriptionStatus",
    "SubscriptionTrigger",
]

ALL_MACHINES: tuple[Machine[Any, Any], ...] = (
    OUTBOX_MESSAGE, DELIVERY, SUBSCRIPTION, PACK_SUBSCRIPTION,
)

"""State machines, one module per machine; :data:`ALL_MACHINES` lists them for docs and tests."""

from __future__ import annotations

from typing import Any

from ._table import Machine
from .delivery import DELIVERY, DeliveryStatus, DeliveryTrigger
from .outbox import OUTBOX_MESSAGE, OutboxStatus, OutboxTrigger

__all__ = [
    "ALL_MACHINES",
    "DELIVERY",
    "OUTBOX_MESSAGE",
    "DeliveryStatus",
    "DeliveryTrigger",
    "Machine",
    "OutboxStatus",
    "OutboxTrigger",
]

ALL_MACHINES: tuple[Machine[Any, Any], ...] = (OUTBOX_MESSAGE, DELIVERY)

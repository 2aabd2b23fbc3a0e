"""Lifecycle of a pack subscription: the subscription table, applied to the whole pack.

The contract infers (state-machines §3.2) that a pack subscription has the subscription's
states and transitions, and that its child subscriptions share its status. So this
machine reuses :data:`~scaicontrol_core.machines.subscription.TRANSITIONS` under its own
name; every change of the pack is applied to its children in the same transaction.
"""

from __future__ import annotations

from typing import Final

from ._table import Machine
from .subscription import TRANSITIONS, SubscriptionStatus, SubscriptionTrigger

__all__ = ["PACK_SUBSCRIPTION"]

PACK_SUBSCRIPTION: Final = Machine(
    "pack_subscription",
    TRANSITIONS,
    states=SubscriptionStatus,
    triggers=SubscriptionTrigger,
    initial=SubscriptionStatus.PENDING,
)

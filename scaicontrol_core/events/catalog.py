"""Which payload class carries the ``data`` of which topic."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from .billing import (
    PartnerBillingLinked,
    PartnerBillingUpdated,
    TenantBillingLinked,
    TenantBillingUpdated,
)
from .common import EventPayload
from .packs import PackSubscriptionActivated, PackSubscriptionCancelled, PackSubscriptionChanged
from .subscriptions import (
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionChanged,
    SubscriptionPaymentFailed,
    SubscriptionResumed,
    SubscriptionSuspended,
    SubscriptionTrialEnding,
)
from .topics import Topic

__all__ = ["PAYLOAD_TYPES", "payload_type"]

_CLASSES: Final[tuple[type[EventPayload], ...]] = (
    TenantBillingLinked,
    TenantBillingUpdated,
    PartnerBillingLinked,
    PartnerBillingUpdated,
    SubscriptionActivated,
    SubscriptionChanged,
    SubscriptionCancelled,
    SubscriptionSuspended,
    SubscriptionResumed,
    SubscriptionTrialEnding,
    SubscriptionPaymentFailed,
    PackSubscriptionActivated,
    PackSubscriptionChanged,
    PackSubscriptionCancelled,
)

#: Topic -> payload class, in catalog order; every topic has exactly one class.
PAYLOAD_TYPES: Final[Mapping[Topic, type[EventPayload]]] = MappingProxyType(
    {cls.TOPIC: cls for cls in _CLASSES}
)

if set(PAYLOAD_TYPES) != set(Topic) or len(PAYLOAD_TYPES) != len(_CLASSES):  # pragma: no cover
    raise RuntimeError("every topic needs exactly one payload class")


def payload_type(topic: Topic | str) -> type[EventPayload]:
    """The payload class of ``topic`` (an enum member or its wire name)."""
    return PAYLOAD_TYPES[Topic(topic)]

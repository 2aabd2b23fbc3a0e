"""The event catalog: 14 topics, each published at envelope version ``1.0``.

A topic's value is its wire ``event_type`` (``subscription.activated``): no ``scaicontrol.``
prefix and no ``.v1`` suffix. The versioned catalog name (``subscription.activated.v1``) is
derived from it.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = [
    "EVENT_VERSION",
    "SOURCE",
    "ResourceType",
    "Topic",
]

#: Every topic of the launch catalog ships this ``event_version``.
EVENT_VERSION: Final = "1.0"

#: The constant ``source`` of every envelope.
SOURCE: Final = "scaicontrol"


class ResourceType(enum.StrEnum):
    """First segment of an idempotency key: the kind of resource the event is about."""

    TENANT = "tenant"
    PARTNER = "partner"
    SUBSCRIPTION = "subscription"
    PACK_SUBSCRIPTION = "pack_subscription"


class Topic(enum.StrEnum):
    """The 14 topics; values are wire ``event_type`` strings and must never be renamed."""

    TENANT_BILLING_LINKED = "tenant.billing_linked"
    TENANT_BILLING_UPDATED = "tenant.billing_updated"
    PARTNER_BILLING_LINKED = "partner.billing_linked"
    PARTNER_BILLING_UPDATED = "partner.billing_updated"
    SUBSCRIPTION_ACTIVATED = "subscription.activated"
    SUBSCRIPTION_CHANGED = "subscription.changed"
    SUBSCRIPTION_CANCELLED = "subscription.cancelled"
    SUBSCRIPTION_SUSPENDED = "subscription.suspended"
    SUBSCRIPTION_RESUMED = "subscription.resumed"
    SUBSCRIPTION_TRIAL_ENDING = "subscription.trial_ending"
    SUBSCRIPTION_PAYMENT_FAILED = "subscription.payment_failed"
    PACK_SUBSCRIPTION_ACTIVATED = "pack_subscription.activated"
    PACK_SUBSCRIPTION_CHANGED = "pack_subscription.changed"
    PACK_SUBSCRIPTION_CANCELLED = "pack_subscription.cancelled"

    @property
    def resource(self) -> ResourceType:
        """The part before the dot, as a resource type (``subscription``)."""
        return ResourceType(self.value.split(".", 1)[0])

    @property
    def event(self) -> str:
        """The part after the dot (``activated``): the third idempotency-key segment."""
        return self.value.split(".", 1)[1]

    @property
    def major_version(self) -> int:
        """The major version of the payload schema (the ``vN`` of the catalog name)."""
        return int(EVENT_VERSION.split(".", 1)[0])

    @property
    def catalog_name(self) -> str:
        """The versioned catalog name, e.g. ``subscription.activated.v1``."""
        return f"{self.value}.v{self.major_version}"

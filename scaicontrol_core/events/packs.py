"""Payloads of the three ``pack_subscription.*`` topics (service packs bought as one unit)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from ..errors import ValidationError
from ._model import check_instance, doc, to_tuple, utc, utc_or_none
from .common import (
    CURRENCY_PATTERN,
    ENTITY_ID_PATTERN,
    PARTNER_ID_PATTERN,
    PLAN_KEY_PATTERN,
    SLUG_PATTERN,
    TENANT_ID_PATTERN,
    BillingPeriod,
    EventPayload,
    SubscriptionStatus,
)
from .keys import INITIAL, TERMINAL, stamp
from .topics import Topic

__all__ = [
    "PackItem",
    "PackSubscriptionActivated",
    "PackSubscriptionCancelled",
    "PackSubscriptionChanged",
]

_PACK_SUB = doc("Pack subscription id (a UUID string).", pattern=ENTITY_ID_PATTERN)
_TENANT = doc("Tenant id (tnt_...) of the buyer.", pattern=TENANT_ID_PATTERN)
_PARTNER = doc("Partner id (prt_...).", pattern=PARTNER_ID_PATTERN)
_PACK = doc("Service pack id.", pattern=ENTITY_ID_PATTERN)
_SLUG = doc("Service pack slug.", pattern=SLUG_PATTERN)
_ITEMS = doc("One entry per child subscription of the pack.", minItems=1)
_CURRENCY = doc("ISO 4217 currency of the amounts.", pattern=CURRENCY_PATTERN)
_MRR = doc("Monthly-normalised pack price in integer minor units (cents).", minimum=0)


@attrs.frozen(kw_only=True)
class PackItem:
    """A child subscription created for one item of the pack."""

    subscription_id: str = attrs.field(
        metadata=doc("Child subscription id.", pattern=ENTITY_ID_PATTERN)
    )
    plan_key: str = attrs.field(metadata=doc("Plan key of the item.", pattern=PLAN_KEY_PATTERN))

    def __attrs_post_init__(self) -> None:
        check_instance(self)


class _Pack(EventPayload):
    """Shared behaviour: keyed by ``pack_subscription_id``."""

    __slots__ = ()
    pack_subscription_id: str

    @property
    def resource_id(self) -> str:
        return self.pack_subscription_id


@attrs.frozen(kw_only=True)
class PackSubscriptionActivated(_Pack):
    """A pack subscription was created and entered ``active`` or ``trialing``."""

    TOPIC: ClassVar[Topic] = Topic.PACK_SUBSCRIPTION_ACTIVATED
    SCHEMA_RULES: ClassVar[tuple[Mapping[str, Any], ...]] = (
        {
            "if": {"properties": {"status": {"const": "trialing"}}},
            "then": {"properties": {"trial_ends_at": {"type": "string"}}},
            "else": {"properties": {"trial_ends_at": {"type": "null"}}},
        },
    )

    pack_subscription_id: str = attrs.field(metadata=_PACK_SUB)
    tenant_id: str = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    pack_id: str = attrs.field(metadata=_PACK)
    pack_slug: str = attrs.field(metadata=_SLUG)
    status: SubscriptionStatus = attrs.field(
        metadata=doc("State entered: active or trialing.", enum=["trialing", "active"])
    )
    billing_period: BillingPeriod = attrs.field(metadata=doc("Billing cadence of the pack."))
    currency: str = attrs.field(metadata=_CURRENCY)
    mrr_amount_cents: int = attrs.field(metadata=_MRR)
    items: tuple[PackItem, ...] = attrs.field(converter=to_tuple, metadata=_ITEMS)
    trial_ends_at: datetime | None = attrs.field(
        converter=utc_or_none, metadata=doc("End of the trial; null unless trialing.")
    )
    activated_at: datetime = attrs.field(
        converter=utc, metadata=doc("When the pack subscription became active or trialing.")
    )

    def check_rules(self) -> None:
        super().check_rules()
        if (self.status is SubscriptionStatus.TRIALING) != (self.trial_ends_at is not None):
            raise ValidationError(
                "trial_ends_at is set exactly when the status is trialing", field="trial_ends_at"
            )

    @property
    def lifecycle_step(self) -> str:
        return INITIAL


@attrs.frozen(kw_only=True)
class PackSubscriptionChanged(_Pack):
    """A pack subscription changed state, other than its activation and its end."""

    TOPIC: ClassVar[Topic] = Topic.PACK_SUBSCRIPTION_CHANGED

    pack_subscription_id: str = attrs.field(metadata=_PACK_SUB)
    tenant_id: str = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    pack_id: str = attrs.field(metadata=_PACK)
    pack_slug: str = attrs.field(metadata=_SLUG)
    status: SubscriptionStatus = attrs.field(metadata=doc("State after the change."))
    previous_status: SubscriptionStatus = attrs.field(metadata=doc("State before the change."))
    currency: str = attrs.field(metadata=_CURRENCY)
    mrr_amount_cents: int = attrs.field(metadata=_MRR)
    items: tuple[PackItem, ...] = attrs.field(converter=to_tuple, metadata=_ITEMS)
    changed_at: datetime = attrs.field(converter=utc, metadata=doc("When the change happened."))

    @property
    def lifecycle_step(self) -> str:
        return stamp(self.changed_at)


@attrs.frozen(kw_only=True)
class PackSubscriptionCancelled(_Pack):
    """A pack subscription was cancelled; the cancel cascades to every child subscription."""

    TOPIC: ClassVar[Topic] = Topic.PACK_SUBSCRIPTION_CANCELLED

    pack_subscription_id: str = attrs.field(metadata=_PACK_SUB)
    tenant_id: str = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    pack_id: str = attrs.field(metadata=_PACK)
    pack_slug: str = attrs.field(metadata=_SLUG)
    status: SubscriptionStatus = attrs.field(
        default=SubscriptionStatus.CANCELLED, metadata=doc("Always cancelled.", const="cancelled")
    )
    currency: str = attrs.field(metadata=_CURRENCY)
    mrr_amount_cents: int = attrs.field(
        metadata=doc("Monthly-normalised amount that ended.", minimum=0)
    )
    items: tuple[PackItem, ...] = attrs.field(converter=to_tuple, metadata=_ITEMS)
    cancelled_at: datetime = attrs.field(converter=utc, metadata=doc("When it was cancelled."))
    cancellation_reason: str | None = attrs.field(metadata=doc("Free-text reason, if given."))

    @property
    def lifecycle_step(self) -> str:
        return TERMINAL

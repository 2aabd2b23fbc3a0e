"""Stored records of the catalog capability: services, plans, service packs, subscriptions
and pack subscriptions.

Kept apart from the operations that use them so :mod:`scaicontrol_core.ports` and
:mod:`scaicontrol_core.schema` can import the record types without an import cycle.
Services, plans and packs are global; subscriptions and pack subscriptions are
tenant-scoped. Money is integer cents next to an ISO 4217 currency.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from .events.common import BillingPeriod
from .machines.subscription import SubscriptionStatus

__all__ = [
    "BillingPeriod",
    "DiscountType",
    "PackSubscription",
    "Plan",
    "PlanFeatures",
    "Service",
    "ServicePack",
    "ServicePackItem",
    "Subscription",
    "SubscriptionStatus",
    "TierMode",
    "UsagePriceTier",
]


class DiscountType(enum.StrEnum):
    """How a service pack is priced."""

    FIXED_PRICE = "fixed_price"  # the pack's base price is the bill
    PERCENTAGE = "percentage"  # the item prices, less a percentage


@attrs.frozen(kw_only=True)
class PlanFeatures:
    """Marketing bullet points of a plan or pack, and the unit they are counted in."""

    items: tuple[str, ...] = ()
    unit: str | None = None


class TierMode(enum.StrEnum):
    """How a metric's brackets price usage (see :mod:`scaicontrol_core.metering.rating`)."""

    GRADUATED = "graduated"  # each bracket prices the units inside it
    VOLUME = "volume"  # the bracket the total falls in prices every unit


@attrs.frozen(kw_only=True)
class UsagePriceTier:
    """One bracket of usage pricing for one metric.

    Units in ``[tier_start, tier_end)`` cost ``unit_price_cents`` per ``unit_divisor``
    units (a started block counts whole); ``tier_end`` None means open-ended.
    ``tier_mode`` and ``included_quantity`` (free units before the brackets apply) are
    per metric: every bracket of a metric carries the same values.
    """

    metric_slug: str
    tier_start: int
    tier_end: int | None = None
    unit_price_cents: int
    unit_label: str
    unit_divisor: int = 1
    tier_mode: TierMode = TierMode.GRADUATED
    included_quantity: int = 0


@attrs.frozen(kw_only=True)
class Service:
    """A service the platform sells (ScaiKey, ScaiDrive, ...); plans belong to it."""

    id: str
    slug: str
    name: str
    description: str | None = None
    is_active: bool = True
    is_public: bool = True
    sort_order: int = 0
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class Plan:
    """A priced way to buy a service; ``plan_key`` is ``<service_slug>.<plan_slug>``.

    ``quotas`` maps a metric to its limit; 0 or a missing metric means unlimited.
    ``fixed_term_periods`` makes the plan end (``expired``) after that many billing periods.
    """

    id: str
    service_id: str
    slug: str
    plan_key: str
    name: str
    description: str | None = None
    tier: str | None = None
    billing_period: BillingPeriod
    base_price_cents: int
    currency: str
    features: PlanFeatures = attrs.field(factory=PlanFeatures)
    quotas: Mapping[str, int] = attrs.field(factory=dict)
    usage_pricing: tuple[UsagePriceTier, ...] = ()
    trial_days: int = 0
    fixed_term_periods: int | None = None
    cost_multiplier: Decimal | None = None
    is_active: bool = True
    is_public: bool = True
    sort_order: int = 0
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class ServicePackItem:
    """One plan inside a pack; ``override_price_cents`` None inherits the plan's price."""

    service_id: str
    plan_id: str
    override_price_cents: int | None = None
    sort_order: int = 0


@attrs.frozen(kw_only=True)
class ServicePack:
    """Several plans sold together as one unit, priced by ``discount_type``."""

    id: str
    slug: str
    name: str
    description: str | None = None
    icon_url: str | None = None
    billing_period: BillingPeriod
    base_price_cents: int
    currency: str
    discount_type: DiscountType
    discount_percentage: Decimal | None = None
    trial_days: int = 0
    features: PlanFeatures = attrs.field(factory=PlanFeatures)
    items: tuple[ServicePackItem, ...] = ()
    is_active: bool = True
    is_public: bool = True
    sort_order: int = 0
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class Subscription:
    """A tenant's subscription to one plan of one service.

    ``billing_anchor`` is the start of the first paid period; period ends are counted from
    it so a subscription started on the 31st renews on the last day of shorter months.
    ``updated_at`` is the instant of the latest lifecycle change: the changes of one
    subscription are stamped strictly after one another. ``pack_subscription_id`` links a
    child of a pack subscription, whose lifecycle follows the pack.
    """

    id: str
    tenant_id: str
    partner_id: str
    service_id: str
    plan_id: str
    plan_key: str
    status: SubscriptionStatus
    quantity: int = 1
    pack_subscription_id: str | None = None
    activated_at: datetime | None = None
    trial_ends_at: datetime | None = None
    billing_anchor: datetime | None = None
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    ends_at: datetime | None = None
    past_due_since: datetime | None = None
    payment_failures: int = 0
    suspended_at: datetime | None = None
    pending_cancellation_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    trial_notice_days: int | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class PackSubscription:
    """A tenant's subscription to a service pack; one child subscription per pack item.

    ``price_cents`` is the pack price per billing period, fixed when the pack was bought.
    """

    id: str
    tenant_id: str
    partner_id: str
    pack_id: str
    pack_slug: str
    status: SubscriptionStatus
    billing_period: BillingPeriod
    price_cents: int
    currency: str
    activated_at: datetime | None = None
    trial_ends_at: datetime | None = None
    billing_anchor: datetime | None = None
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    past_due_since: datetime | None = None
    payment_failures: int = 0
    suspended_at: datetime | None = None
    pending_cancellation_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

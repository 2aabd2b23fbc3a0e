"""Response bodies of the catalog, subscription and pack routes (OpenAPI component names)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

import attrs

from scaicontrol_core.catalog_records import (
    BillingPeriod,
    DiscountType,
    Plan,
    PlanFeatures,
    Service,
    Subscription,
    SubscriptionStatus,
    UsagePriceTier,
)
from scaicontrol_core.commerce import PackQuote, PackSubscriptionView, plan_mrr_cents
from scaicontrol_core.events import monthly_recurring_cents

from ._common import pick

T = TypeVar("T")


def _build(cls: type[T], source: Any, **extra: Any) -> T:
    """``pick`` with the result typed as ``cls``."""
    built: T = pick(cls, source, **extra)
    return built

__all__ = [
    "CatalogPlanResponse",
    "CatalogServiceResponse",
    "PackItemResponse",
    "PackResponse",
    "PackSubscriptionResponse",
    "PlanResponse",
    "ServiceResponse",
    "SubscriptionResponse",
    "catalog_plan_view",
    "catalog_service_view",
    "pack_subscription_view",
    "pack_view",
    "plan_view",
    "service_view",
    "subscription_view",
]


@attrs.frozen(kw_only=True)
class CatalogPlanResponse:
    """A plan as the shop shows it."""

    id: str
    service_id: str
    slug: str
    plan_key: str
    """``<service_slug>.<plan_slug>``, stable across re-seeds."""
    name: str
    description: str | None
    tier: str | None
    billing_period: BillingPeriod
    base_price_cents: int
    currency: str
    mrr_cents: int
    """The price normalised to a month (yearly / 12, quarterly / 3, ...), rounded half up."""
    features: PlanFeatures
    quotas: Mapping[str, int]
    """Limits per metric; 0 or a missing metric means unlimited."""
    usage_pricing: list[UsagePriceTier]
    trial_days: int
    fixed_term_periods: int | None
    sort_order: int


@attrs.frozen(kw_only=True)
class PlanResponse(CatalogPlanResponse):
    """A plan with the fields only operators see."""

    cost_multiplier: Decimal | None
    is_active: bool
    is_public: bool
    metadata: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class CatalogServiceResponse:
    """A service with the plans it sells."""

    id: str
    slug: str
    name: str
    description: str | None
    sort_order: int
    plans: list[CatalogPlanResponse]


@attrs.frozen(kw_only=True)
class ServiceResponse:
    id: str
    slug: str
    name: str
    description: str | None
    is_active: bool
    is_public: bool
    sort_order: int
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class SubscriptionResponse:
    """A subscription to one plan; children of a pack name it in ``pack_subscription_id``."""

    kind: Literal["subscription"] = "subscription"
    id: str
    tenant_id: str
    partner_id: str
    service_id: str
    service_slug: str
    plan_id: str
    plan_key: str
    status: SubscriptionStatus
    quantity: int
    pack_subscription_id: str | None
    activated_at: datetime | None
    trial_ends_at: datetime | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    ends_at: datetime | None
    """End of a fixed-term plan's term."""
    past_due_since: datetime | None
    payment_failures: int
    suspended_at: datetime | None
    pending_cancellation_at: datetime | None
    cancelled_at: datetime | None
    cancellation_reason: str | None
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class PackItemResponse:
    service_id: str
    plan_id: str
    plan_key: str
    override_price_cents: int | None
    price_cents: int
    """The override, or else the plan's price."""
    sort_order: int


@attrs.frozen(kw_only=True)
class PackResponse:
    """A service pack with its computed prices."""

    id: str
    slug: str
    name: str
    description: str | None
    icon_url: str | None
    billing_period: BillingPeriod
    base_price_cents: int
    """The headline price; the bill of a fixed_price pack."""
    currency: str
    discount_type: DiscountType
    discount_percentage: Decimal | None
    trial_days: int
    features: PlanFeatures
    items: list[PackItemResponse]
    price_cents: int
    """What a subscriber pays per period."""
    list_price_cents: int
    """What the items cost on their own."""
    mrr_cents: int
    is_active: bool
    is_public: bool
    sort_order: int
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class PackSubscriptionResponse:
    """A pack subscription and the child subscriptions that follow it."""

    kind: Literal["pack_subscription"] = "pack_subscription"
    id: str
    tenant_id: str
    partner_id: str
    pack_id: str
    pack_slug: str
    status: SubscriptionStatus
    billing_period: BillingPeriod
    price_cents: int
    currency: str
    mrr_cents: int
    activated_at: datetime | None
    trial_ends_at: datetime | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    past_due_since: datetime | None
    payment_failures: int
    suspended_at: datetime | None
    pending_cancellation_at: datetime | None
    cancelled_at: datetime | None
    cancellation_reason: str | None
    created_at: datetime
    updated_at: datetime
    subscriptions: list[SubscriptionResponse]


def catalog_plan_view(plan: Plan) -> CatalogPlanResponse:
    return _build(CatalogPlanResponse, plan, mrr_cents=plan_mrr_cents(plan),
                usage_pricing=list(plan.usage_pricing), quotas=dict(plan.quotas))


def plan_view(plan: Plan) -> PlanResponse:
    return _build(PlanResponse, plan, mrr_cents=plan_mrr_cents(plan),
                usage_pricing=list(plan.usage_pricing), quotas=dict(plan.quotas),
                metadata=dict(plan.metadata))


def catalog_service_view(service: Service, plans: list[Plan]) -> CatalogServiceResponse:
    return _build(CatalogServiceResponse, service,
                plans=[catalog_plan_view(p) for p in plans if p.service_id == service.id])


def service_view(service: Service) -> ServiceResponse:
    return _build(ServiceResponse, service)


def subscription_view(sub: Subscription) -> SubscriptionResponse:
    return _build(SubscriptionResponse, sub, service_slug=sub.plan_key.split(".", 1)[0])


def pack_view(quote: PackQuote) -> PackResponse:
    pack = quote.pack
    items = []
    for item in pack.items:
        plan = quote.plans.get(item.plan_id)
        price = item.override_price_cents
        items.append(PackItemResponse(
            service_id=item.service_id, plan_id=item.plan_id,
            plan_key=plan.plan_key if plan is not None else "",
            override_price_cents=price,
            price_cents=price if price is not None else (plan.base_price_cents if plan else 0),
            sort_order=item.sort_order,
        ))
    return _build(PackResponse, pack, items=items, price_cents=quote.price_cents,
                list_price_cents=quote.list_price_cents,
                mrr_cents=monthly_recurring_cents(quote.price_cents, pack.billing_period))


def pack_subscription_view(view: PackSubscriptionView) -> PackSubscriptionResponse:
    pack = view.pack_subscription
    return _build(PackSubscriptionResponse, pack,
                mrr_cents=monthly_recurring_cents(pack.price_cents, pack.billing_period),
                subscriptions=[subscription_view(child) for child in view.children])

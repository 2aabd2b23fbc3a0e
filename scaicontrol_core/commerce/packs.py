"""Service packs: the pack catalog rules, pack prices, and pack subscription lifecycles.

A pack subscription owns one child subscription per pack item. The children mirror the
pack: they take its status and every lifecycle field in the same transaction, and they
record no events of their own; the pack records ``pack_subscription.activated`` when it is
bought, ``pack_subscription.cancelled`` when it ends, and ``pack_subscription.changed`` for
every other state change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

import attrs

from ..catalog_records import (
    BillingPeriod,
    DiscountType,
    PackSubscription,
    Plan,
    PlanFeatures,
    ServicePack,
    ServicePackItem,
    Subscription,
)
from ..currencies import is_currency
from ..errors import ValidationError
from ..events import EventPayload
from ..machines.subscription import SubscriptionStatus, SubscriptionTrigger
from . import payloads
from .catalog import KEEP, Keep, check_slug
from .lifecycle import enter, next_period, renewal_due, stamp_after

__all__ = [
    "MIRRORED_FIELDS",
    "RESERVED_PACK_SLUGS",
    "NewPack",
    "PackChange",
    "PackChanges",
    "buy_pack",
    "change_pack",
    "fire_pack",
    "list_price_cents",
    "mirror",
    "new_pack",
    "pack_price_cents",
    "renew_pack",
]

S, T = SubscriptionStatus, SubscriptionTrigger
#: Slugs that would clash with the pack subscription paths of the API.
RESERVED_PACK_SLUGS: Final = frozenset({"subscriptions"})
MAX_ITEMS: Final = 20
#: Lifecycle fields a child subscription copies from its pack subscription.
MIRRORED_FIELDS: Final = (
    "status", "activated_at", "trial_ends_at", "billing_anchor", "current_period_start",
    "current_period_end", "past_due_since", "payment_failures", "suspended_at",
    "pending_cancellation_at", "cancelled_at", "cancellation_reason", "updated_at",
)


@attrs.frozen(kw_only=True)
class NewPack:
    slug: str
    name: str
    billing_period: BillingPeriod
    base_price_cents: int
    currency: str
    discount_type: DiscountType
    items: tuple[ServicePackItem, ...]
    discount_percentage: Decimal | None = None
    description: str | None = None
    icon_url: str | None = None
    trial_days: int = 0
    features: PlanFeatures = attrs.field(factory=PlanFeatures)
    is_active: bool = True
    is_public: bool = True
    sort_order: int = 0


@attrs.frozen(kw_only=True)
class PackChanges:
    """Fields to change; slug, billing period and currency are fixed for life."""

    name: str | Keep = KEEP
    description: str | Keep | None = KEEP
    icon_url: str | Keep | None = KEEP
    base_price_cents: int | Keep = KEEP
    discount_type: DiscountType | Keep = KEEP
    discount_percentage: Decimal | Keep | None = KEEP
    trial_days: int | Keep = KEEP
    features: PlanFeatures | Keep = KEEP
    items: tuple[ServicePackItem, ...] | Keep = KEEP
    is_active: bool | Keep = KEEP
    is_public: bool | Keep = KEEP
    sort_order: int | Keep = KEEP


def _check_pack(pack: ServicePack, plans: Mapping[str, Plan]) -> ServicePack:
    """Every catalog rule of a pack, given the plans its items name."""
    check_slug(pack.slug)
    if pack.slug in RESERVED_PACK_SLUGS:
        raise ValidationError(f"'{pack.slug}' is a reserved slug", field="slug")
    if not pack.name.strip() or len(pack.name) > 255:
        raise ValidationError("name must be 1-255 characters", field="name")
    if type(pack.base_price_cents) is not int or pack.base_price_cents < 0:
        raise ValidationError("base_price_cents must be a non-negative integer",
                              field="base_price_cents")
    if not is_currency(pack.currency):
        raise ValidationError(f"{pack.currency!r} is not an ISO 4217 currency", field="currency")
    if type(pack.trial_days) is not int or not 0 <= pack.trial_days <= 366:
        raise ValidationError("trial_days must be 0-366", field="trial_days")
    percentage = pack.discount_percentage
    if pack.discount_type is DiscountType.PERCENTAGE:
        if percentage is None or not percentage.is_finite() or not 0 <= percentage <= 100:
            raise ValidationError("a percentage pack needs a discount_percentage of 0-100",
                                  field="discount_percentage")
    elif percentage is not None:
        raise ValidationError("only percentage packs have a discount_percentage",
                              field="discount_percentage")
    if not 1 <= len(pack.items) <= MAX_ITEMS:
        raise ValidationError(f"a pack holds 1 to {MAX_ITEMS} items", field="items")
    services = [item.service_id for item in pack.items]
    if len(set(services)) != len(services):
        raise ValidationError("a pack holds at most one plan per service", field="items")
    for item in pack.items:
        plan = plans.get(item.plan_id)
        if plan is None:
            raise ValidationError(f"plan '{item.plan_id}' does not exist", field="items")
        if plan.service_id != item.service_id:
            raise ValidationError(f"plan '{plan.plan_key}' is not a plan of service "
                                  f"'{item.service_id}'", field="items")
        if plan.currency != pack.currency or plan.billing_period is not pack.billing_period:
            raise ValidationError(
                f"plan '{plan.plan_key}' must bill in {pack.currency} "
                f"{pack.billing_period.value}, like the pack", field="items")
        if plan.fixed_term_periods is not None:
            raise ValidationError(f"plan '{plan.plan_key}' has a fixed term; packs do not",
                                  field="items")
        override = item.override_price_cents
        if override is not None and (type(override) is not int or override < 0):
            raise ValidationError("override_price_cents must be a non-negative integer",
                                  field="items")
    ordered = tuple(sorted(pack.items, key=lambda i: (i.sort_order, i.service_id)))
    return attrs.evolve(pack, name=pack.name.strip(), items=ordered)


def new_pack(command: NewPack, plans: Mapping[str, Plan], *, pack_id: str,
             now: datetime) -> ServicePack:
    pack = ServicePack(id=pack_id, created_at=now, updated_at=now,
                       **{f.name: getattr(command, f.name) for f in attrs.fields(NewPack)})
    return _check_pack(pack, plans)


def change_pack(pack: ServicePack, changes: PackChanges, plans: Mapping[str, Plan], *,
                now: datetime) -> ServicePack:
    values = {}
    for field in attrs.fields(PackChanges):
        value = getattr(changes, field.name)
        values[field.name] = getattr(pack, field.name) if isinstance(value, Keep) else value
    return _check_pack(attrs.evolve(pack, **values, updated_at=now), plans)


def list_price_cents(pack: ServicePack, plans: Mapping[str, Plan]) -> int:
    """The items' prices added up (overrides first, else the plan's price)."""
    total = 0
    for item in pack.items:
        price = item.override_price_cents
        total += plans[item.plan_id].base_price_cents if price is None else price
    return total


def pack_price_cents(pack: ServicePack, plans: Mapping[str, Plan]) -> int:
    """What the pack costs per billing period.

    ``fixed_price``: the pack's ``base_price_cents``. ``percentage``: the items' list
    price times ``(100 - discount_percentage) / 100``, rounded half up to a whole cent.
    """
    if pack.discount_type is DiscountType.FIXED_PRICE:
        return pack.base_price_cents
    assert pack.discount_percentage is not None  # guaranteed by _check_pack
    exact = Decimal(list_price_cents(pack, plans)) * (100 - pack.discount_percentage) / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- pack subscriptions ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PackChange:
    """A pack subscription and its children after one operation, with its events."""

    pack: PackSubscription
    children: tuple[Subscription, ...]
    at: datetime
    events: tuple[EventPayload, ...] = ()


def mirror(child: Subscription, pack: PackSubscription) -> Subscription:
    """``child`` carrying the pack's status and lifecycle fields."""
    return attrs.evolve(child, **{name: getattr(pack, name) for name in MIRRORED_FIELDS})


def buy_pack(pack: ServicePack, plans: Mapping[str, Plan], *, pack_subscription_id: str,
             child_ids: Sequence[str], tenant_id: str, partner_id: str,
             now: datetime) -> PackChange:
    """A pack subscription, activated (``trialing`` when the pack has trial days), with one
    child subscription per item; records ``pack_subscription.activated``."""
    if not pack.is_active:
        raise ValidationError(f"service pack '{pack.slug}' is not for sale")
    if len(child_ids) != len(pack.items):
        raise ValueError("one child id per pack item is needed")
    pending = PackSubscription(
        id=pack_subscription_id, tenant_id=tenant_id, partner_id=partner_id, pack_id=pack.id,
        pack_slug=pack.slug, status=S.PENDING, billing_period=pack.billing_period,
        price_cents=pack_price_cents(pack, plans), currency=pack.currency,
        created_at=now, updated_at=now,
    )
    trigger = T.ACTIVATE_TRIAL if pack.trial_days > 0 else T.ACTIVATE
    active = enter(pending, trigger, now, billing_period=pack.billing_period,
                   trial_days=pack.trial_days, term=None, reason=None)
    children = []
    for child_id, item in zip(child_ids, pack.items, strict=True):
        plan = plans[item.plan_id]
        child = Subscription(
            id=child_id, tenant_id=tenant_id, partner_id=partner_id, service_id=plan.service_id,
            plan_id=plan.id, plan_key=plan.plan_key, status=S.PENDING,
            pack_subscription_id=pack_subscription_id, created_at=now, updated_at=now,
        )
        children.append(mirror(child, active))
    event = payloads.pack_activated(active, children, now)
    return PackChange(pack=active, children=tuple(children), at=now, events=(event,))


def fire_pack(pack: PackSubscription, children: Sequence[Subscription],
              trigger: SubscriptionTrigger, *, now: datetime, trial_days: int = 0,
              reason: str | None = None) -> PackChange:
    """Apply ``trigger`` to the pack subscription and cascade it to every child."""
    if trigger is T.EXPIRE:
        raise ValidationError("service packs have no fixed term and never expire")
    at = stamp_after(pack.updated_at, now)
    after = enter(pack, trigger, at, billing_period=pack.billing_period,
                  trial_days=trial_days, term=None, reason=reason)
    mirrored = tuple(mirror(child, after) for child in children)
    event: EventPayload
    if trigger in (T.ACTIVATE, T.ACTIVATE_TRIAL):
        event = payloads.pack_activated(after, mirrored, at)
    elif after.status is S.CANCELLED:
        event = payloads.pack_cancelled(after, mirrored, at)
    else:
        event = payloads.pack_changed(after, mirrored, at, previous_status=pack.status)
    return PackChange(pack=after, children=mirrored, at=at, events=(event,))


def renew_pack(pack: PackSubscription, children: Sequence[Subscription]) -> PackChange:
    """Roll the pack's period (and its children's) over; packs record no renewal event."""
    boundary = renewal_due(pack)
    if boundary is None:
        raise ValidationError("the pack subscription has no period to renew")
    at = stamp_after(pack.updated_at, boundary)
    after = next_period(pack, pack.billing_period, at)
    return PackChange(pack=after, children=tuple(mirror(c, after) for c in children), at=at)

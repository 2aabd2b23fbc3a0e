"""The catalog: commands that create and change services and plans, and the price helpers.

Pure functions: they check a command against the catalog rules and return the record to
store (or raise ``ValidationError`` naming the field). Storage, uniqueness checks and ids
are the service's business (:mod:`.catalog_service`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

import attrs

from ..catalog_records import BillingPeriod, Plan, PlanFeatures, Service, UsagePriceTier
from ..currencies import is_currency
from ..errors import ValidationError
from ..events.common import monthly_recurring_cents

__all__ = [
    "KEEP",
    "SLUG_PATTERN",
    "Keep",
    "NewPlan",
    "NewService",
    "PlanChanges",
    "ServiceChanges",
    "change_plan",
    "change_service",
    "check_slug",
    "make_plan_key",
    "new_plan",
    "new_service",
    "plan_mrr_cents",
    "quota_limit",
    "usage_charge_cents",
]

SLUG_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_METRIC = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
MAX_TRIAL_DAYS: Final = 366


class Keep(enum.Enum):
    """Marks a field of a change command that should stay as it is."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP
V = TypeVar("V")


def _pick(change: V | Keep, current: V) -> V:
    return current if isinstance(change, Keep) else change


def check_slug(value: str, field: str = "slug") -> str:
    """Lower-case letters, digits, ``-`` and ``_``; starts with a letter or digit; <= 63."""
    if not isinstance(value, str) or not SLUG_PATTERN.fullmatch(value):
        raise ValidationError(
            f"{field} must be 1-63 lower-case letters, digits, '-' or '_'", field=field
        )
    return value


def _name(value: str, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise ValidationError(f"{field} must be 1-255 characters", field=field)
    return value.strip()


def _optional_text(value: str | None, field: str, limit: int = 2000) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise ValidationError(f"{field} must be at most {limit} characters", field=field)
    return value or None


def _non_negative(value: int, field: str) -> int:
    if type(value) is not int or value < 0:
        raise ValidationError(f"{field} must be a non-negative integer", field=field)
    return value


def make_plan_key(service_slug: str, plan_slug: str) -> str:
    """``<service_slug>.<plan_slug>``, the stable reference used in events."""
    return f"{check_slug(service_slug, 'service_slug')}.{check_slug(plan_slug)}"


# -- services -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class NewService:
    slug: str
    name: str
    description: str | None = None
    is_active: bool = True
    is_public: bool = True
    sort_order: int = 0


@attrs.frozen(kw_only=True)
class ServiceChanges:
    """Fields to change; the slug never changes (plan keys are built from it)."""

    name: str | Keep = KEEP
    description: str | Keep | None = KEEP
    is_active: bool | Keep = KEEP
    is_public: bool | Keep = KEEP
    sort_order: int | Keep = KEEP


def new_service(command: NewService, *, service_id: str, now: datetime) -> Service:
    return Service(
        id=service_id,
        slug=check_slug(command.slug),
        name=_name(command.name),
        description=_optional_text(command.description, "description"),
        is_active=command.is_active,
        is_public=command.is_public,
        sort_order=command.sort_order,
        created_at=now,
        updated_at=now,
    )


def change_service(service: Service, changes: ServiceChanges, *, now: datetime) -> Service:
    return attrs.evolve(
        service,
        name=_name(_pick(changes.name, service.name)),
        description=_optional_text(_pick(changes.description, service.description), "description"),
        is_active=_pick(changes.is_active, service.is_active),
        is_public=_pick(changes.is_public, service.is_public),
        sort_order=_pick(changes.sort_order, service.sort_order),
        updated_at=now,
    )


# -- plans ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class NewPlan:
    service_id: str
    slug: str
    name: str
    billing_period: BillingPeriod
    base_price_cents: int
    currency: str
    description: str | None = None
    tier: str | None = None
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


@attrs.frozen(kw_only=True)
class PlanChanges:
    """Fields to change. Slug, service, billing period and currency are fixed for life:
    subscriptions and invoices refer to them; sell a new plan instead."""

    name: str | Keep = KEEP
    description: str | Keep | None = KEEP
    tier: str | Keep | None = KEEP
    base_price_cents: int | Keep = KEEP
    features: PlanFeatures | Keep = KEEP
    quotas: Mapping[str, int] | Keep = KEEP
    usage_pricing: tuple[UsagePriceTier, ...] | Keep = KEEP
    trial_days: int | Keep = KEEP
    fixed_term_periods: int | Keep | None = KEEP
    cost_multiplier: Decimal | Keep | None = KEEP
    is_active: bool | Keep = KEEP
    is_public: bool | Keep = KEEP
    sort_order: int | Keep = KEEP
    metadata: Mapping[str, Any] | Keep = KEEP


def _features(value: PlanFeatures) -> PlanFeatures:
    if len(value.items) > 100 or any(not item or len(item) > 255 for item in value.items):
        raise ValidationError("features.items holds up to 100 texts of 1-255 characters",
                              field="features")
    return PlanFeatures(items=tuple(value.items), unit=_optional_text(value.unit, "features"))


def _quotas(value: Mapping[str, int]) -> dict[str, int]:
    for metric, limit in value.items():
        if not isinstance(metric, str) or not _METRIC.fullmatch(metric):
            raise ValidationError(f"quota metric {metric!r} is not a metric slug", field="quotas")
        _non_negative(limit, f"quotas.{metric}")
    return dict(sorted(value.items()))


def _tiers(tiers: Sequence[UsagePriceTier]) -> tuple[UsagePriceTier, ...]:
    """Per metric, brackets start at 0 and follow each other without gaps or overlaps;
    only the last one may be open-ended."""
    ordered = sorted(tiers, key=lambda t: (t.metric_slug, t.tier_start))
    previous: UsagePriceTier | None = None
    for tier in ordered:
        if not _METRIC.fullmatch(tier.metric_slug):
            raise ValidationError(f"{tier.metric_slug!r} is not a metric slug",
                                  field="usage_pricing")
        _non_negative(tier.tier_start, "usage_pricing.tier_start")
        _non_negative(tier.unit_price_cents, "usage_pricing.unit_price_cents")
        if type(tier.unit_divisor) is not int or tier.unit_divisor < 1:
            raise ValidationError("unit_divisor must be at least 1", field="usage_pricing")
        if tier.tier_end is not None and tier.tier_end <= tier.tier_start:
            raise ValidationError("tier_end must be above tier_start", field="usage_pricing")
        if not tier.unit_label or len(tier.unit_label) > 64:
            raise ValidationError("unit_label must be 1-64 characters", field="usage_pricing")
        same_metric = previous is not None and previous.metric_slug == tier.metric_slug
        expected_start = previous.tier_end if same_metric and previous else 0
        _non_negative(tier.included_quantity, "usage_pricing.included_quantity")
        if same_metric and previous is not None and (
            (tier.tier_mode, tier.included_quantity)
            != (previous.tier_mode, previous.included_quantity)
        ):
            raise ValidationError(f"brackets of {tier.metric_slug} must share tier_mode and "
                                  "included_quantity", field="usage_pricing")
        if same_metric and previous is not None and previous.tier_end is None:
            raise ValidationError("only the last bracket of a metric may be open-ended",
                                  field="usage_pricing")
        if tier.tier_start != expected_start:
            raise ValidationError(
                f"brackets of {tier.metric_slug} must start at 0 and join without gaps",
                field="usage_pricing",
            )
        previous = tier
    return tuple(ordered)


def _plan_rules(plan: Plan) -> Plan:
    _non_negative(plan.base_price_cents, "base_price_cents")
    if not is_currency(plan.currency):
        raise ValidationError(f"{plan.currency!r} is not an ISO 4217 currency", field="currency")
    if type(plan.trial_days) is not int or not 0 <= plan.trial_days <= MAX_TRIAL_DAYS:
        raise ValidationError(f"trial_days must be 0-{MAX_TRIAL_DAYS}", field="trial_days")
    term = plan.fixed_term_periods
    if term is not None and (type(term) is not int or term < 1):
        raise ValidationError("fixed_term_periods must be at least 1", field="fixed_term_periods")
    if term is not None and plan.billing_period is BillingPeriod.ONE_TIME:
        raise ValidationError("one_time plans have no term", field="fixed_term_periods")
    multiplier = plan.cost_multiplier
    if multiplier is not None and (not multiplier.is_finite() or multiplier <= 0):
        raise ValidationError("cost_multiplier must be a positive number", field="cost_multiplier")
    if plan.tier is not None and not 1 <= len(plan.tier) <= 32:
        raise ValidationError("tier must be 1-32 characters", field="tier")
    return attrs.evolve(
        plan,
        name=_name(plan.name),
        description=_optional_text(plan.description, "description"),
        features=_features(plan.features),
        quotas=_quotas(plan.quotas),
        usage_pricing=_tiers(plan.usage_pricing),
        metadata=dict(plan.metadata),
    )


def new_plan(command: NewPlan, *, service: Service, plan_id: str, now: datetime) -> Plan:
    """A plan of ``service``; ``plan_key`` is derived from the two slugs."""
    plan = Plan(
        id=plan_id,
        service_id=service.id,
        slug=check_slug(command.slug),
        plan_key=make_plan_key(service.slug, command.slug),
        name=command.name,
        description=command.description,
        tier=command.tier,
        billing_period=BillingPeriod(command.billing_period),
        base_price_cents=command.base_price_cents,
        currency=command.currency,
        features=command.features,
        quotas=command.quotas,
        usage_pricing=command.usage_pricing,
        trial_days=command.trial_days,
        fixed_term_periods=command.fixed_term_periods,
        cost_multiplier=command.cost_multiplier,
        is_active=command.is_active,
        is_public=command.is_public,
        sort_order=command.sort_order,
        metadata=command.metadata,
        created_at=now,
        updated_at=now,
    )
    return _plan_rules(plan)


def change_plan(plan: Plan, changes: PlanChanges, *, now: datetime) -> Plan:
    updated = attrs.evolve(
        plan,
        **{
            field.name: _pick(getattr(changes, field.name), getattr(plan, field.name))
            for field in attrs.fields(PlanChanges)
        },
        updated_at=now,
    )
    return _plan_rules(updated)


# -- prices ---------------------------------------------------------------------------------


def plan_mrr_cents(plan: Plan, quantity: int = 1) -> int:
    """Monthly-normalised price of ``quantity`` units (rounded half up on the total)."""
    return monthly_recurring_cents(plan.base_price_cents * quantity, plan.billing_period)


def quota_limit(plan: Plan, metric: str) -> int | None:
    """The plan's limit for ``metric``; None means unlimited (0 or no entry)."""
    limit = plan.quotas.get(metric, 0)
    return limit or None


def usage_charge_cents(tiers: Sequence[UsagePriceTier], metric: str, used: int) -> int:
    """Graduated charge for ``used`` units of ``metric``.

    Each bracket bills the units that fall inside it, in started blocks of
    ``unit_divisor`` units (rounded up per bracket), at ``unit_price_cents`` per block.
    Usage above the last closed bracket is not billed.
    """
    _non_negative(used, "used")
    total = 0
    for tier in tiers:
        if tier.metric_slug != metric:
            continue
        end = used if tier.tier_end is None else min(used, tier.tier_end)
        units = max(0, end - tier.tier_start)
        blocks = -(-units // tier.unit_divisor)
        total += blocks * tier.unit_price_cents
    return total

"""Tables of the catalog capability: services, plans, service packs, subscriptions and pack
subscriptions (migration 0004).

Nested values (plan features, quotas, usage pricing, pack items, metadata) are JSON
columns; decimals (cost multiplier, discount percentage) are stored as their exact text.
The composite indexes serve the lifecycle jobs, which look up one status with a deadline.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ._meta import ID_LENGTH, TABLE_OPTIONS, metadata
from .types import UtcDateTime

__all__ = ["pack_subscriptions", "plans", "service_packs", "services", "subscriptions"]

SLUG_LENGTH = 63
PLAN_KEY_LENGTH = 127
DECIMAL_LENGTH = 32


def _id(name: str = "id", **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(ID_LENGTH), **kwargs)  # type: ignore[arg-type]


def _text(name: str, length: int, nullable: bool = True) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _flag(name: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _json(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.JSON(), nullable=False)


def _cents(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


services = sa.Table(
    "services",
    metadata,
    _id(primary_key=True),
    _text("slug", SLUG_LENGTH, nullable=False),
    _text("name", 255, nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    _flag("is_active"),
    _flag("is_public"),
    _int("sort_order"),
    _at("created_at", nullable=False),
    _at("updated_at", nullable=False),
    _int("version"),
    sa.UniqueConstraint("slug"),
    **TABLE_OPTIONS,
)

plans = sa.Table(
    "plans",
    metadata,
    _id(primary_key=True),
    _id("service_id", nullable=False),
    _text("slug", SLUG_LENGTH, nullable=False),
    _text("plan_key", PLAN_KEY_LENGTH, nullable=False),
    _text("name", 255, nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    _text("tier", 32),
    _text("billing_period", 16, nullable=False),
    _cents("base_price_cents"),
    _text("currency", 3, nullable=False),
    _json("features"),
    _json("quotas"),
    _json("usage_pricing"),
    _int("trial_days"),
    _int("fixed_term_periods", nullable=True),
    _text("cost_multiplier", DECIMAL_LENGTH),
    _flag("is_active"),
    _flag("is_public"),
    _int("sort_order"),
    _json("metadata"),
    _at("created_at", nullable=False),
    _at("updated_at", nullable=False),
    _int("version"),
    sa.UniqueConstraint("plan_key"),
    sa.UniqueConstraint("service_id", "slug"),
    **TABLE_OPTIONS,
)

service_packs = sa.Table(
    "service_packs",
    metadata,
    _id(primary_key=True),
    _text("slug", SLUG_LENGTH, nullable=False),
    _text("name", 255, nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    _text("icon_url", 2048),
    _text("billing_period", 16, nullable=False),
    _cents("base_price_cents"),
    _text("currency", 3, nullable=False),
    _text("discount_type", 16, nullable=False),
    _text("discount_percentage", DECIMAL_LENGTH),
    _int("trial_days"),
    _json("features"),
    _json("items"),
    _flag("is_active"),
    _flag("is_public"),
    _int("sort_order"),
    _at("created_at", nullable=False),
    _at("updated_at", nullable=False),
    _int("version"),
    sa.UniqueConstraint("slug"),
    **TABLE_OPTIONS,
)


def _lifecycle_columns() -> list[sa.Column[Any]]:
    """Status and deadline columns shared by subscriptions and pack subscriptions."""
    return [
        _text("status", 16, nullable=False),
        _at("activated_at"),
        _at("trial_ends_at"),
        _at("billing_anchor"),
        _at("current_period_start"),
        _at("current_period_end"),
        _at("past_due_since"),
        _int("payment_failures"),
        _at("suspended_at"),
        _at("pending_cancellation_at"),
        _at("cancelled_at"),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _int("version"),
    ]


subscriptions = sa.Table(
    "subscriptions",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", nullable=False, index=True),
    _id("partner_id", nullable=False, index=True),
    _id("service_id", nullable=False),
    _id("plan_id", nullable=False, index=True),
    _text("plan_key", PLAN_KEY_LENGTH, nullable=False),
    _int("quantity"),
    _id("pack_subscription_id", nullable=True, index=True),
    _at("ends_at"),
    _int("trial_notice_days", nullable=True),
    *_lifecycle_columns(),
    sa.Index(None, "tenant_id", "service_id"),
    sa.Index(None, "status", "current_period_end"),
    sa.Index(None, "status", "trial_ends_at"),
    sa.Index(None, "status", "pending_cancellation_at"),
    sa.Index(None, "status", "past_due_since"),
    sa.Index(None, "status", "ends_at"),
    **TABLE_OPTIONS,
)

pack_subscriptions = sa.Table(
    "pack_subscriptions",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", nullable=False, index=True),
    _id("partner_id", nullable=False, index=True),
    _id("pack_id", nullable=False, index=True),
    _text("pack_slug", SLUG_LENGTH, nullable=False),
    _text("billing_period", 16, nullable=False),
    _cents("price_cents"),
    _text("currency", 3, nullable=False),
    *_lifecycle_columns(),
    sa.Index(None, "status", "current_period_end"),
    sa.Index(None, "status", "trial_ends_at"),
    sa.Index(None, "status", "pending_cancellation_at"),
    sa.Index(None, "status", "past_due_since"),
    **TABLE_OPTIONS,
)

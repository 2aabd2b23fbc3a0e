"""Catalog, subscriptions and service packs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

__all__: list[str] = []

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from the table modules, so later changes there cannot
# change what this revision creates.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
SLUG = 63
PLAN_KEY = 127
DECIMAL = 32


def _id(name: str = "id", nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _text(name: str, length: int, nullable: bool = True) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _long_text(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=True)


def _at(name: str, nullable: bool = True) -> sa.Column[datetime]:
    kind = sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    return sa.Column(name, kind, nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _flag(name: str) -> sa.Column[bool]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _json(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.JSON(), nullable=False)


def _cents(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _lifecycle() -> list[sa.Column[Any]]:
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
        _long_text("cancellation_reason"),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _int("version"),
    ]


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


_DEADLINES = ("current_period_end", "trial_ends_at", "pending_cancellation_at", "past_due_since")


def upgrade() -> None:
    op.create_table(
        "services",
        _id(),
        _text("slug", SLUG, nullable=False),
        _text("name", 255, nullable=False),
        _long_text("description"),
        _flag("is_active"),
        _flag("is_public"),
        _int("sort_order"),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _int("version"),
        _pk("services"),
        sa.UniqueConstraint("slug", name=op.f("uq_services_slug")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "plans",
        _id(),
        _id("service_id"),
        _text("slug", SLUG, nullable=False),
        _text("plan_key", PLAN_KEY, nullable=False),
        _text("name", 255, nullable=False),
        _long_text("description"),
        _text("tier", 32),
        _text("billing_period", 16, nullable=False),
        _cents("base_price_cents"),
        _text("currency", 3, nullable=False),
        _json("features"),
        _json("quotas"),
        _json("usage_pricing"),
        _int("trial_days"),
        _int("fixed_term_periods", nullable=True),
        _text("cost_multiplier", DECIMAL),
        _flag("is_active"),
        _flag("is_public"),
        _int("sort_order"),
        _json("metadata"),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _int("version"),
        _pk("plans"),
        sa.UniqueConstraint("plan_key", name=op.f("uq_plans_plan_key")),
        sa.UniqueConstraint("service_id", "slug", name=op.f("uq_plans_service_id_slug")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "service_packs",
        _id(),
        _text("slug", SLUG, nullable=False),
        _text("name", 255, nullable=False),
        _long_text("description"),
        _text("icon_url", 2048),
        _text("billing_period", 16, nullable=False),
        _cents("base_price_cents"),
        _text("currency", 3, nullable=False),
        _text("discount_type", 16, nullable=False),
        _text("discount_percentage", DECIMAL),
        _int("trial_days"),
        _json("features"),
        _json("items"),
        _flag("is_active"),
        _flag("is_public"),
        _int("sort_order"),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _int("version"),
        _pk("service_packs"),
        sa.UniqueConstraint("slug", name=op.f("uq_service_packs_slug")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "subscriptions",
        _id(),
        _id("tenant_id"),
        _id("partner_id"),
        _id("service_id"),
        _id("plan_id"),
        _text("plan_key", PLAN_KEY, nullable=False),
        _int("quantity"),
        _id("pack_subscription_id", nullable=True),
        _at("ends_at"),
        _int("trial_notice_days", nullable=True),
        *_lifecycle(),
        _pk("subscriptions"),
        **TABLE_OPTIONS,
    )
    for columns in (("tenant_id",), ("partner_id",), ("plan_id",), ("pack_subscription_id",),
                    ("tenant_id", "service_id")):
        _index("subscriptions", *columns)
    for deadline in (*_DEADLINES, "ends_at"):
        _index("subscriptions", "status", deadline)
    op.create_table(
        "pack_subscriptions",
        _id(),
        _id("tenant_id"),
        _id("partner_id"),
        _id("pack_id"),
        _text("pack_slug", SLUG, nullable=False),
        _text("billing_period", 16, nullable=False),
        _cents("price_cents"),
        _text("currency", 3, nullable=False),
        *_lifecycle(),
        _pk("pack_subscriptions"),
        **TABLE_OPTIONS,
    )
    for columns in (("tenant_id",), ("partner_id",), ("pack_id",)):
        _index("pack_subscriptions", *columns)
    for deadline in _DEADLINES:
        _index("pack_subscriptions", "status", deadline)


def downgrade() -> None:
    op.drop_table("pack_subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("service_packs")
    op.drop_table("plans")
    op.drop_table("services")

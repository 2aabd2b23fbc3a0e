"""Metering: metric definitions, service API keys, usage events, rollups, distinct values.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

__all__: list[str] = []

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from the table modules, so later changes there cannot
# change what this revision creates.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
ID = 36
SLUG = 63
KEY = 255


def _text(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    kind = sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    return sa.Column(name, kind, nullable=nullable)


def _big(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def _bucket() -> list[sa.Column[Any]]:
    return [
        _text("tenant_id", ID),
        _text("service_slug", SLUG),
        _text("metric_slug", SLUG),
        _text("period", 8),
        sa.Column("period_start", sa.Date(), nullable=False),
    ]


_BUCKET = ("tenant_id", "service_slug", "metric_slug", "period", "period_start")


def upgrade() -> None:
    op.create_table(
        "metric_definitions",
        _text("id", ID),
        _text("service_slug", SLUG),
        _text("slug", SLUG),
        _text("name", 255),
        _text("unit", 64),
        _text("aggregation", 16),
        _text("unique_property", 64, nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_definitions")),
        sa.UniqueConstraint("service_slug", "slug",
                            name=op.f("uq_metric_definitions_service_slug_slug")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "service_api_keys",
        _text("id", ID),
        _text("service_slug", SLUG),
        _text("name", 255),
        _text("secret_hash", 64),
        sa.Column("permissions", sa.JSON(), nullable=False),
        _text("created_by", 255, nullable=True),
        _at("created_at"),
        _at("revoked_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_api_keys")),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_service_api_keys_service_slug"), "service_api_keys",
                    ["service_slug"])
    op.create_table(
        "usage_events",
        _text("tenant_id", ID),
        _text("idempotency_key", KEY),
        _text("service_slug", SLUG),
        _text("metric_slug", SLUG),
        _big("quantity"),
        _at("occurred_at"),
        _at("received_at"),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "idempotency_key", name=op.f("pk_usage_events")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "usage_rollups",
        *_bucket(),
        _big("quantity_sum"),
        _big("event_count"),
        _big("quantity_max"),
        _big("latest_quantity"),
        _at("latest_at"),
        _text("latest_key", KEY),
        _big("unique_count"),
        sa.PrimaryKeyConstraint(*_BUCKET, name=op.f("pk_usage_rollups")),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_usage_rollups_period_period_start"), "usage_rollups",
                    ["period", "period_start"])
    op.create_index(op.f("ix_usage_rollups_tenant_id_period_period_start"), "usage_rollups",
                    ["tenant_id", "period", "period_start"])
    op.create_table(
        "usage_distinct_values",
        *_bucket(),
        _text("value", KEY),
        sa.PrimaryKeyConstraint(*_BUCKET, "value", name=op.f("pk_usage_distinct_values")),
        **TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("usage_distinct_values")
    op.drop_index(op.f("ix_usage_rollups_tenant_id_period_period_start"),
                  table_name="usage_rollups")
    op.drop_index(op.f("ix_usage_rollups_period_period_start"), table_name="usage_rollups")
    op.drop_table("usage_rollups")
    op.drop_table("usage_events")
    op.drop_index(op.f("ix_service_api_keys_service_slug"), table_name="service_api_keys")
    op.drop_table("service_api_keys")
    op.drop_table("metric_definitions")

"""Outbound webhooks and notifications.

Revision ID: 0003
Revises: 0002
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

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from tables_webhooks.py, so later changes there cannot
# change what this revision creates.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _id(name: str = "id", nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    kind = sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    return sa.Column(name, kind, nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("target_url", sa.String(2048), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("standard_webhooks", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _int("version"),
        _pk("webhook_subscriptions"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "webhook_deliveries",
        _id(),
        _id("subscription_id"),
        _id("event_id"),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        _id("tenant_id", nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        _at("occurred_at"),
        sa.Column("status", sa.String(16), nullable=False),
        _int("attempt_count"),
        _int("total_attempts"),
        _at("next_attempt_at", nullable=True),
        _at("last_attempt_at", nullable=True),
        _at("dispatched_at", nullable=True),
        _int("response_code", nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        _at("lease_expires_at", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _int("version"),
        _pk("webhook_deliveries"),
        sa.UniqueConstraint(
            "subscription_id", "idempotency_key",
            name=op.f("uq_webhook_deliveries_subscription_id_idempotency_key"),
        ),
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"), "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        op.f("ix_webhook_deliveries_created_at"), "webhook_deliveries", ["created_at"]
    )
    op.create_table(
        "webhook_attempts",
        _id(),
        _id("delivery_id"),
        _id("subscription_id"),
        _int("attempt_number"),
        _at("attempted_at"),
        _int("duration_ms"),
        _int("status_code", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("worker", sa.String(255), nullable=False),
        _int("version"),
        _pk("webhook_attempts"),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_webhook_attempts_delivery_id"), "webhook_attempts", ["delivery_id"])
    op.create_index(
        op.f("ix_webhook_attempts_attempted_at"), "webhook_attempts", ["attempted_at"]
    )
    op.create_index(
        op.f("ix_webhook_attempts_subscription_id_attempted_at"), "webhook_attempts",
        ["subscription_id", "attempted_at"],
    )
    op.create_table(
        "notifications",
        _id(),
        _id("tenant_id"),
        _id("user_id", nullable=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("link", sa.String(2048), nullable=True),
        sa.Column("is_read", sa.Boolean(), nullable=False),
        _at("read_at", nullable=True),
        sa.Column("source_key", sa.String(255), nullable=True),
        _at("created_at"),
        _int("version"),
        _pk("notifications"),
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_notifications_tenant_id_created_at"), "notifications",
        ["tenant_id", "created_at"],
    )
    op.create_table(
        "notification_reads",
        _id(),
        _id("tenant_id"),
        _id("notification_id"),
        _id("user_id"),
        _at("read_at"),
        _int("version"),
        _pk("notification_reads"),
        sa.UniqueConstraint(
            "notification_id", "user_id", name=op.f("uq_notification_reads_notification_id_user_id")
        ),
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_notification_reads_tenant_id"), "notification_reads", ["tenant_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_reads_tenant_id"), table_name="notification_reads")
    op.drop_table("notification_reads")
    op.drop_index(op.f("ix_notifications_tenant_id_created_at"), table_name="notifications")
    op.drop_table("notifications")
    for name in ("subscription_id_attempted_at", "attempted_at", "delivery_id"):
        op.drop_index(op.f(f"ix_webhook_attempts_{name}"), table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    for name in ("created_at", "status_next_attempt_at"):
        op.drop_index(op.f(f"ix_webhook_deliveries_{name}"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")

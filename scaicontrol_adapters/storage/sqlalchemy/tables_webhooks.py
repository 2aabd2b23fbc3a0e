"""Tables of outbound webhooks and in-app notifications (created by migration 0003)."""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

from scaicontrol_core.machines.delivery import DeliveryStatus

from ._meta import ID_LENGTH, TABLE_OPTIONS, metadata
from .types import UtcDateTime

__all__ = [
    "PENDING_ONLY",
    "notification_reads",
    "notifications",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_subscriptions",
]

#: The predicate of the partial claim index of deliveries (PostgreSQL and SQLite); a claim
#: must state it word for word (not as a bound parameter) for the index to serve it.
PENDING_ONLY: Final = f"status = '{DeliveryStatus.PENDING.value}'"

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("target_url", sa.String(2048), nullable=False),
    sa.Column("topics", sa.JSON(), nullable=False),
    sa.Column("secret", sa.String(255), nullable=False),
    sa.Column("is_active", sa.Boolean(), nullable=False),
    sa.Column("standard_webhooks", sa.Boolean(), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    **TABLE_OPTIONS,
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("subscription_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("event_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("tenant_id", sa.String(ID_LENGTH), nullable=True),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempt_count", sa.Integer(), nullable=False),
    sa.Column("total_attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("last_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("dispatched_at", UtcDateTime(), nullable=True),
    sa.Column("response_code", sa.Integer(), nullable=True),
    sa.Column("error_message", sa.Text(), nullable=True),
    sa.Column("is_test", sa.Boolean(), nullable=False),
    sa.Column("lease_owner", sa.String(255), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    # one delivery per subscriber and logical event, whatever happens during fan-out
    sa.UniqueConstraint("subscription_id", "idempotency_key"),
    # claiming scans due pending rows; listings filter on time (and on subscription, which
    # the unique constraint's index covers). Where the database allows, the claim index
    # holds pending rows only: most deliveries are dispatched at once and never enter it.
    sa.Index(None, "status", "next_attempt_at", "id",
             postgresql_where=sa.text(PENDING_ONLY), sqlite_where=sa.text(PENDING_ONLY)),
    sa.Index(None, "created_at"),
    **TABLE_OPTIONS,
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("delivery_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("subscription_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("attempt_number", sa.Integer(), nullable=False),
    sa.Column("attempted_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("duration_ms", sa.Integer(), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("worker", sa.String(255), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Index(None, "subscription_id", "attempted_at"),
    **TABLE_OPTIONS,
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("tenant_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("user_id", sa.String(ID_LENGTH), nullable=True),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("link", sa.String(2048), nullable=True),
    sa.Column("is_read", sa.Boolean(), nullable=False),
    sa.Column("read_at", UtcDateTime(), nullable=True),
    sa.Column("source_key", sa.String(255), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    # a user's list: their tenant's rows, newest first
    sa.Index(None, "tenant_id", "created_at"),
    **TABLE_OPTIONS,
)

notification_reads = sa.Table(
    "notification_reads",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("tenant_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("notification_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("user_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("read_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.UniqueConstraint("notification_id", "user_id"),
    **TABLE_OPTIONS,
)

"""Foundation: partners, tenants and the outbox.

Revision ID: 0001
Revises:
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

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from tables.py, so later changes there cannot change
# what this revision creates.
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _id() -> sa.String:
    return sa.String(36)


def _utc() -> sa.types.TypeEngine[datetime]:
    return sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", _id(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("is_operator", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "tenants",
        sa.Column("id", _id(), nullable=False),
        sa.Column("partner_id", _id(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_tenants_partner_id"), "tenants", ["partner_id"])
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("tenant_id", _id(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("available_at", _utc(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", _utc(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
        sqlite_autoincrement=True,
        **TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_outbox_tenant_id"), "outbox", ["tenant_id"])
    op.create_index(
        op.f("ix_outbox_status_available_at_seq"), "outbox", ["status", "available_at", "seq"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_status_available_at_seq"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_tenant_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_tenants_partner_id"), table_name="tenants")
    op.drop_table("tenants")
    op.drop_table("partners")

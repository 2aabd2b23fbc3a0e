"""A claim index of pending deliveries only (PostgreSQL and SQLite).

Deliveries are claimed among pending rows, yet the claim index held every delivery, and
almost all of them are dispatched at their first attempt and never claimed. Inserting
their entries cost each stored delivery an index write, and the index grew with the
history. Where partial indexes exist it now holds pending rows only; MariaDB has none
and keeps the full index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Fixed here rather than imported, so the migration keeps meaning what it meant.
PENDING_ONLY = "status = 'pending'"
NAME = "ix_webhook_deliveries_status_next_attempt_at_id"
COLUMNS = ["status", "next_attempt_at", "id"]


def _partial() -> bool:
    return op.get_context().dialect.name in ("postgresql", "sqlite")


def upgrade() -> None:
    if _partial():
        op.drop_index(op.f(NAME), table_name="webhook_deliveries")
        op.create_index(op.f(NAME), "webhook_deliveries", COLUMNS,
                        postgresql_where=sa.text(PENDING_ONLY),
                        sqlite_where=sa.text(PENDING_ONLY))


def downgrade() -> None:
    if _partial():
        op.drop_index(op.f(NAME), table_name="webhook_deliveries")
        op.create_index(op.f(NAME), "webhook_deliveries", COLUMNS)

"""Claim indexes that hand out work without sorting the backlog.

The outbox is claimed in ``seq`` order among pending rows, so its index is (status, seq):
the due check is a filter on the few rows read. Deliveries are claimed in
(next_attempt_at, id) order, which their index now covers completely.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

__all__: list[str] = []

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_outbox_status_seq"), "outbox", ["status", "seq"])
    op.drop_index(op.f("ix_outbox_status_available_at_seq"), table_name="outbox")
    op.create_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at_id"), "webhook_deliveries",
        ["status", "next_attempt_at", "id"],
    )
    op.drop_index(op.f("ix_webhook_deliveries_status_next_attempt_at"),
                  table_name="webhook_deliveries")


def downgrade() -> None:
    op.create_index(
        op.f("ix_webhook_deliveries_status_next_attempt_at"), "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.drop_index(op.f("ix_webhook_deliveries_status_next_attempt_at_id"),
                  table_name="webhook_deliveries")
    op.create_index(
        op.f("ix_outbox_status_available_at_seq"), "outbox", ["status", "available_at", "seq"]
    )
    op.drop_index(op.f("ix_outbox_status_seq"), table_name="outbox")

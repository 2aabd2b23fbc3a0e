"""Tables of metering (migration 0005): metric definitions, service API keys, usage events,
rollups and the distinct-value sets of unique-count metrics.

Usage tables are keyed by what makes a row unique, so the duplicate-safe inserts and the
rollup upserts can rely on the primary key alone.
"""

from __future__ import annotations

import sqlalchemy as sa

from ._meta import ID_LENGTH, TABLE_OPTIONS, metadata
from .types import UtcDateTime

__all__ = [
    "metric_definitions",
    "service_api_keys",
    "usage_distinct_values",
    "usage_events",
    "usage_rollups",
]

SLUG = 63
KEY = 255


def _bucket() -> list[sa.Column[object]]:
    return [
        sa.Column("tenant_id", sa.String(ID_LENGTH), primary_key=True),
        sa.Column("service_slug", sa.String(SLUG), primary_key=True),
        sa.Column("metric_slug", sa.String(SLUG), primary_key=True),
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("period_start", sa.Date(), primary_key=True),
    ]


metric_definitions = sa.Table(
    "metric_definitions",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("service_slug", sa.String(SLUG), nullable=False),
    sa.Column("slug", sa.String(SLUG), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("unit", sa.String(64), nullable=False),
    sa.Column("aggregation", sa.String(16), nullable=False),
    sa.Column("unique_property", sa.String(64), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.UniqueConstraint("service_slug", "slug"),
    **TABLE_OPTIONS,
)

service_api_keys = sa.Table(
    "service_api_keys",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("service_slug", sa.String(SLUG), nullable=False, index=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("permissions", sa.JSON(), nullable=False),
    sa.Column("created_by", sa.String(255), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False),
    **TABLE_OPTIONS,
)

usage_events = sa.Table(
    "usage_events",
    metadata,
    sa.Column("tenant_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("idempotency_key", sa.String(KEY), primary_key=True),
    sa.Column("service_slug", sa.String(SLUG), nullable=False),
    sa.Column("metric_slug", sa.String(SLUG), nullable=False),
    sa.Column("quantity", sa.BigInteger(), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("properties", sa.JSON(), nullable=False),
    **TABLE_OPTIONS,
)

usage_rollups = sa.Table(
    "usage_rollups",
    metadata,
    *_bucket(),
    sa.Column("quantity_sum", sa.BigInteger(), nullable=False),
    sa.Column("event_count", sa.BigInteger(), nullable=False),
    sa.Column("quantity_max", sa.BigInteger(), nullable=False),
    sa.Column("latest_quantity", sa.BigInteger(), nullable=False),
    sa.Column("latest_at", UtcDateTime(), nullable=False),
    sa.Column("latest_key", sa.String(KEY), nullable=False),
    sa.Column("unique_count", sa.BigInteger(), nullable=False),
    # platform-wide totals read one period of every tenant
    sa.Index(None, "period", "period_start"),
    # a tenant's summaries, quotas and history read one period range of that tenant
    sa.Index(None, "tenant_id", "period", "period_start"),
    **TABLE_OPTIONS,
)

usage_distinct_values = sa.Table(
    "usage_distinct_values",
    metadata,
    *_bucket(),
    sa.Column("value", sa.String(KEY), primary_key=True),
    **TABLE_OPTIONS,
)

"""The schema as SQLAlchemy Core tables; Alembic migrations must create exactly this.

One table per entry of :data:`scaicontrol_core.schema.RECORD_KINDS` (named like the
unit-of-work attribute, one column per record field), plus the outbox. The foundation's
tables live here; later capabilities add ``tables_<capability>.py`` modules imported below.
"""

from __future__ import annotations

import sqlalchemy as sa

from scaicontrol_core.errors import ConfigurationError
from scaicontrol_core.schema import RecordKind

# Each capability keeps its tables in its own module on the same MetaData; importing them
# here registers them, so ``metadata`` always describes the whole schema.
from . import (
    tables_catalog,  # noqa: F401  (catalog, migration 0004)
    tables_identity,  # noqa: F401  (identity, migration 0002)
    tables_metering,  # noqa: F401  (metering, migration 0005)
    tables_webhooks,  # noqa: F401  (webhooks, migration 0003)
)
from ._meta import ID_LENGTH, NAMING_CONVENTION, TABLE_OPTIONS, metadata
from .types import UtcDateTime

__all__ = [
    "ID_LENGTH",
    "NAMING_CONVENTION",
    "OUTBOX_FILLFACTOR",
    "TABLE_OPTIONS",
    "metadata",
    "outbox",
    "partners",
    "table_for",
    "tenants",
]

#: Percent of each outbox page PostgreSQL fills on insert (see migration 0007).
OUTBOX_FILLFACTOR = 50

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("is_operator", sa.Boolean(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    **TABLE_OPTIONS,
)

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("partner_id", sa.String(ID_LENGTH), nullable=False, index=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    **TABLE_OPTIONS,
)

outbox = sa.Table(
    "outbox",
    metadata,
    # SQLite only autoincrements an INTEGER primary key; AUTOINCREMENT never reuses a seq.
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("key", sa.String(255), nullable=False, unique=True),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("tenant_id", sa.String(ID_LENGTH), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("available_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("lease_owner", sa.String(255), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    # claiming reads pending rows in seq order and skips the few not due yet
    sa.Index(None, "status", "seq"),
    sqlite_autoincrement=True,
    # PostgreSQL: room on each page for the leased version of its rows (see migration 0007)
    postgresql_with={"fillfactor": OUTBOX_FILLFACTOR},
    **TABLE_OPTIONS,
)


def table_for(kind: RecordKind) -> sa.Table:
    """The table holding records of ``kind``; a kind without one is a configuration error."""
    table = metadata.tables.get(kind.name)
    if table is None:
        raise ConfigurationError(f"the SQL schema has no table for record kind '{kind.name}'")
    return table

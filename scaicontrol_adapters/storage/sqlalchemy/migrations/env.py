"""Alembic environment: runs on the connection the migrator passes in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from scaicontrol_adapters.storage.sqlalchemy.migrator import VERSION_TABLE
from scaicontrol_adapters.storage.sqlalchemy.tables import metadata

__all__: list[str] = []


def run_migrations() -> None:
    """Migrate online on the caller's connection; offline (SQL script) mode is not offered."""
    if context.is_offline_mode():
        raise RuntimeError("scaicontrol migrations run online only")
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run scaicontrol migrations through the storage migrator")
    context.configure(
        connection=connection, target_metadata=metadata, version_table=VERSION_TABLE
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

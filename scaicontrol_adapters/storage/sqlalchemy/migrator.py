"""Alembic, driven programmatically: the migrations ship inside this package."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from scaicontrol_core.errors import StorageError

from .dialects import translated_errors

__all__ = ["MIGRATIONS_PATH", "VERSION_TABLE", "SqlMigrator", "alembic_config"]

MIGRATIONS_PATH: Final = Path(__file__).resolve().parent / "migrations"
#: Our own name, so a host application's Alembic history in the same database never clashes.
VERSION_TABLE: Final = "scaicontrol_schema_version"

#: Opens a connection; ``write=False`` asks for one that only reads.
ConnectionOpener = Callable[..., AbstractContextManager[Connection]]


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration without an ini file; ``env.py`` uses ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class SqlMigrator:
    """Reports and moves the schema revision of one database."""

    def __init__(self, connect: ConnectionOpener) -> None:
        self._connect = connect

    def head(self) -> str:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        if head is None:
            raise StorageError("no migrations found")
        return head

    def current(self) -> str | None:
        with self._connect(write=False) as connection, translated_errors():
            return current_revision(connection)

    def upgrade(self, target: str = "head") -> None:
        with self._connect() as connection, translated_errors(), connection.begin():
            command.upgrade(alembic_config(connection), target)

    def downgrade(self, target: str) -> None:
        with self._connect() as connection, translated_errors(), connection.begin():
            command.downgrade(alembic_config(connection), target)


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database, or None before the first migration."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()

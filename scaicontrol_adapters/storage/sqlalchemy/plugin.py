"""Entry point of the SQLAlchemy storage backend.

Importing this module needs neither SQLAlchemy nor Alembic: they are imported when the
factory runs, which raises ``MissingDependency`` if they are not installed.
"""

from __future__ import annotations

from scaicontrol_core.errors import MissingDependency
from scaicontrol_core.hookspecs import RegisterStorage, hookimpl
from scaicontrol_core.ports import Storage, StorageConfig

__all__ = ["scaicontrol_register_storage_backends", "sqlalchemy_storage"]

_REQUIRED = ("sqlalchemy", "alembic")


def sqlalchemy_storage(config: StorageConfig) -> Storage:
    """Open the database at ``config.url`` (SQLite, PostgreSQL or MariaDB)."""
    try:
        from .storage import SqlAlchemyStorage
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in _REQUIRED:
            raise MissingDependency("SQLAlchemy storage", "sqlalchemy") from exc
        raise
    return SqlAlchemyStorage.from_config(config)


@hookimpl
def scaicontrol_register_storage_backends(register: RegisterStorage) -> None:
    register("sqlalchemy", sqlalchemy_storage)

"""Fixtures for the SQL storage tests: a migrated shared database and throwaway ones.

SQLAlchemy is imported inside the fixtures, so the memory-backend tests in this folder
still run where the ``sqlalchemy`` extra is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage

__all__: list[str] = []

SCRATCH_DATABASE = "scaicontrol_migtest"

OpenStorage = Callable[..., "SqlAlchemyStorage"]


def _open(url: str, **options: str) -> SqlAlchemyStorage:
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
    from scaicontrol_core.ports import StorageConfig

    return SqlAlchemyStorage.from_config(StorageConfig(url=url, options=options))


@pytest.fixture(scope="session")
def migrated_database_url(database_url: str) -> str:
    """The shared test database, emptied of every table and migrated to head once."""
    pytest.importorskip("sqlalchemy")
    import sqlalchemy as sa

    storage = _open(database_url)
    try:
        with storage.connection() as connection, connection.begin():
            existing = sa.MetaData()
            existing.reflect(connection)
            existing.drop_all(connection)
        storage.migrator.upgrade()
    finally:
        storage.close()
    return database_url


@pytest.fixture
def sql_storage(migrated_database_url: str) -> Iterator[SqlAlchemyStorage]:
    """A storage on the shared database with every table emptied."""
    from scaicontrol_adapters.storage.sqlalchemy.tables import metadata

    storage = _open(migrated_database_url)
    try:
        with storage.connection() as connection, connection.begin():
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
        yield storage
    finally:
        storage.close()


@pytest.fixture
def open_sql_storage() -> Iterator[OpenStorage]:
    """Opens storages on any URL and closes them all after the test."""
    opened: list[SqlAlchemyStorage] = []

    def open_storage(url: str, **options: str) -> SqlAlchemyStorage:
        storage = _open(url, **options)
        opened.append(storage)
        return storage

    yield open_storage
    for storage in opened:
        storage.close()


@pytest.fixture
def scratch_database_url(
    database_url: str, database_kind: str, tmp_path: Path
) -> Iterator[str]:
    """An empty database of the kind under test, for tests that migrate or add tables.

    SQLite gets a new file; PostgreSQL and MariaDB get a database created for the test
    next to the shared one and dropped afterwards.
    """
    pytest.importorskip("sqlalchemy")
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    import sqlalchemy as sa

    server = sa.make_url(database_url)
    if database_kind == "postgresql":
        drop = f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)"
        create = f"CREATE DATABASE {SCRATCH_DATABASE}"
    else:
        drop = f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}"
        create = (
            f"CREATE DATABASE {SCRATCH_DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        )
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(drop)
            connection.exec_driver_sql(create)
        yield server.set(database=SCRATCH_DATABASE).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(drop)
    finally:
        admin.dispose()

"""Alembic migrations of the SQLAlchemy backend, and the readiness check built on them.

Destructive tests run on a scratch database, never on the shared one the contract uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from scaicontrol_adapters.storage.sqlalchemy.migrator import (
    MIGRATIONS_PATH,
    VERSION_TABLE,
    alembic_config,
)
from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
from scaicontrol_adapters.storage.sqlalchemy.tables import metadata

OpenStorage = Callable[..., SqlAlchemyStorage]
OUR_TABLES = set(metadata.tables)
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def table_names(storage: SqlAlchemyStorage) -> set[str]:
    with storage.connection(write=False) as connection:
        return set(sa.inspect(connection).get_table_names())


def test_revisions_are_short_ordered_and_linear() -> None:
    """Revision ids are four digits, numbered in order, each file named after its id."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    assert [r.revision for r in revisions] == [f"{i:04d}" for i in range(1, len(revisions) + 1)]
    for revision in revisions:
        assert revision.path is not None
        assert re.fullmatch(rf"{revision.revision}_[a-z0-9_]+\.py", Path(revision.path).name)
    assert script.get_heads() == [revisions[-1].revision]


def test_migrations_ship_inside_the_package() -> None:
    """The Alembic environment, template and versions live in the package folder."""
    for name in ("env.py", "script.py.mako", "versions/0001_foundation.py"):
        assert (MIGRATIONS_PATH / name).is_file(), name


def test_upgrade_downgrade_round_trip(
    scratch_database_url: str, open_sql_storage: OpenStorage
) -> None:
    """Upgrading creates the tables, downgrading to base removes them, upgrading again restores."""
    storage = open_sql_storage(scratch_database_url)
    migrator = storage.migrator
    assert migrator.current() is None
    migrator.upgrade()
    assert migrator.current() == migrator.head() == HEAD
    assert table_names(storage) >= OUR_TABLES
    migrator.downgrade("base")
    assert migrator.current() is None
    assert not OUR_TABLES & table_names(storage)
    migrator.upgrade("head")
    assert table_names(storage) >= OUR_TABLES
    with storage.unit_of_work() as uow:
        assert uow.partners.count() == 0


def test_migrations_create_exactly_the_metadata(
    scratch_database_url: str, open_sql_storage: OpenStorage
) -> None:
    """Autogenerate finds no difference between the migrated schema and tables.py."""
    storage = open_sql_storage(scratch_database_url)
    storage.migrator.upgrade()
    with storage.connection(write=False) as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_check_reports_schema_state(
    scratch_database_url: str, open_sql_storage: OpenStorage
) -> None:
    """check() says not current on an empty database and ready after the upgrade."""
    storage = open_sql_storage(scratch_database_url)
    before = storage.check()
    assert before.reachable and not before.schema_current
    assert before.detail == f"schema at none, head {HEAD}"
    storage.migrator.upgrade()
    after = storage.check()
    assert after.ready and after.detail == f"schema at {HEAD}, head {HEAD}"


UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-scaicontrol-dir/sub/db.sqlite",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=5",
    "mysql": "mysql+pymysql://root@127.0.0.1:1/test?connect_timeout=5",
}
DRIVERS = {"sqlite": "sqlite3", "postgresql": "psycopg", "mysql": "pymysql"}


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_check_on_unreachable_database(kind: str, open_sql_storage: OpenStorage) -> None:
    """check() on a database that cannot be reached reports it and does not raise."""
    pytest.importorskip(DRIVERS[kind])
    storage = open_sql_storage(UNREACHABLE[kind])
    status = storage.check()
    assert not status.reachable and not status.schema_current and not status.ready
    assert status.detail

"""Pooled connections on PostgreSQL and MariaDB: pinged only after being idle.

A connection whose server session was killed is found by the ping once it has been idle
for ``PING_AFTER``; one used just before is taken as alive, so its next transaction
fails once and the pool replaces it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage

    from .conftest import OpenStorage

pytest.importorskip("sqlalchemy")

import sqlalchemy as sa

from scaicontrol_adapters.storage.sqlalchemy.engine import PING_AFTER

SESSION_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
KILL = {"postgresql": "SELECT pg_terminate_backend({})", "mysql": "KILL {}"}


@pytest.fixture
def server_kind(database_kind: str) -> str:
    if database_kind == "sqlite":
        pytest.skip("SQLite has no server sessions to lose")
    return database_kind


def session_id(storage: SqlAlchemyStorage, kind: str) -> int:
    with storage.connection() as connection:
        return int(connection.exec_driver_sql(SESSION_ID[kind]).scalar_one())


def kill(storage: SqlAlchemyStorage, kind: str, session: int) -> None:
    """End ``session`` from another connection of a storage of its own."""
    with storage.connection() as connection:
        connection.exec_driver_sql(KILL[kind].format(int(session)))
    time.sleep(0.2)  # let the server close it


def test_an_idle_connection_is_pinged_and_replaced(
    server_kind: str, database_url: str, open_sql_storage: OpenStorage
) -> None:
    storage = open_sql_storage(database_url)
    killer = open_sql_storage(database_url)
    first = session_id(storage, server_kind)
    kill(killer, server_kind, first)
    time.sleep(PING_AFTER)
    assert session_id(storage, server_kind) != first  # no error: the ping found it dead


def test_a_connection_used_just_now_is_not_pinged(
    server_kind: str, database_url: str, open_sql_storage: OpenStorage
) -> None:
    """No round trip for a connection in steady use; the price is one failed transaction
    when its session died within the last second."""
    storage = open_sql_storage(database_url)
    killer = open_sql_storage(database_url)
    first = session_id(storage, server_kind)
    kill(killer, server_kind, first)
    with pytest.raises(sa.exc.OperationalError):
        session_id(storage, server_kind)
    assert session_id(storage, server_kind) != first

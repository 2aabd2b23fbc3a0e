"""Both storage backends pass the webhook and notification repository contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.testing.webhook_storage_contract import WebhookStorageContract

if TYPE_CHECKING:
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage as SqlStorage


class TestMemoryWebhookStorage(WebhookStorageContract):
    """The contract on the in-memory backend."""

    @pytest.fixture
    def storage(self) -> Iterator[MemoryStorage]:
        """A fresh memory storage."""
        yield MemoryStorage()


class TestSqlWebhookStorage(WebhookStorageContract):
    """The contract on the database under test (SQLite file, PostgreSQL or MariaDB)."""

    @pytest.fixture
    def storage(self, sql_storage: SqlStorage) -> Iterator[SqlStorage]:
        """The shared migrated database, emptied."""
        yield sql_storage


def test_postgres_relays_commits_of_other_storages(database_url: str, database_kind: str,
                                                   sql_storage: SqlStorage) -> None:
    """On PostgreSQL a listener hears, through NOTIFY, a commit made by another storage
    object (as it would from another process), and not its own commits twice."""
    if database_kind != "postgresql":
        pytest.skip("NOTIFY exists on PostgreSQL only")
    import threading
    import time
    from datetime import UTC, datetime

    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
    from scaicontrol_core.ports import CommitInfo, StorageConfig
    from scaicontrol_core.records import NewOutboxMessage

    heard: list[CommitInfo] = []
    arrived = threading.Event()

    def listen(info: CommitInfo) -> None:
        heard.append(info)
        arrived.set()

    sql_storage.add_commit_listener(listen)
    other = SqlAlchemyStorage.from_config(StorageConfig(url=database_url))
    try:
        time.sleep(0.5)  # the listening connection is up
        with other.unit_of_work() as uow:
            uow.outbox.append(NewOutboxMessage(kind="event", topic="t", key="relayed",
                                               payload={}, created_at=datetime.now(UTC)))
            uow.commit()
        assert arrived.wait(5)
        time.sleep(0.3)
    finally:
        sql_storage.remove_commit_listener(listen)
        other.close()
    assert heard == [CommitInfo(outbox_kinds=frozenset({"event"}))]

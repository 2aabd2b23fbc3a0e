"""Both storage backends pass the webhook and notification repository contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.testing.webhook_storage_contract import WebhookStorageContract

if TYPE_CHECKING:
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage


class TestMemoryWebhookStorage(WebhookStorageContract):
    """The contract on the in-memory backend."""

    @pytest.fixture
    def storage(self) -> Iterator[MemoryStorage]:
        """A fresh memory storage."""
        yield MemoryStorage()


class TestSqlWebhookStorage(WebhookStorageContract):
    """The contract on the database under test (SQLite file, PostgreSQL or MariaDB)."""

    @pytest.fixture
    def storage(self, sql_storage: SqlAlchemyStorage) -> Iterator[SqlAlchemyStorage]:
        """The shared migrated database, emptied."""
        yield sql_storage

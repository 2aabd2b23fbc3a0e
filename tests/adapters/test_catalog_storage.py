"""The catalog storage contract on the memory backend and on the SQL database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.testing.catalog_storage_contract import CatalogStorageContract


class TestCatalogOnMemory(CatalogStorageContract):
    @pytest.fixture
    def storage(self) -> Iterator[MemoryStorage]:
        """A fresh in-memory storage."""
        yield MemoryStorage()


class TestCatalogOnSql(CatalogStorageContract):
    @pytest.fixture
    def storage(self, sql_storage: Any) -> Iterator[Any]:
        """The shared migrated database (SQLite, PostgreSQL or MariaDB), emptied."""
        pytest.importorskip("sqlalchemy")
        yield sql_storage

"""Both storage backends pass the identity contract (search, isolation, tokens, sync)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.testing.identity_contract import IdentityStorageContract

if TYPE_CHECKING:
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage


class TestMemoryIdentity(IdentityStorageContract):
    @pytest.fixture
    def storage(self) -> Iterator[MemoryStorage]:
        """A fresh in-memory backend."""
        yield MemoryStorage()


class TestSqlIdentity(IdentityStorageContract):
    @pytest.fixture
    def storage(self, sql_storage: SqlAlchemyStorage) -> Iterator[SqlAlchemyStorage]:
        """The shared migrated database under test (SQLite, PostgreSQL or MariaDB), emptied."""
        yield sql_storage


class TestSqlInMemorySqliteIdentity(IdentityStorageContract):
    @pytest.fixture
    def storage(self, open_sql_storage: Callable[..., Any]) -> Iterator[Any]:
        """A new in-memory SQLite database migrated to head."""
        storage = open_sql_storage("sqlite:///:memory:")
        storage.migrator.upgrade()
        yield storage

"""The memory backend passes the shared storage contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.testing.storage_contract import StorageContract


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def storage(self) -> Iterator[MemoryStorage]:
        yield MemoryStorage()

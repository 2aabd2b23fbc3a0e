"""A served shop: the real application with the test authorizer, on memory or SQL storage,
filled with the commerce test world, and callers for each kind of principal.

``shop`` serves on memory storage; ``any_shop`` runs a test on memory and on the SQL
database under test (migrated and emptied first).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import pytest

from scaicontrol_adapters.storage import memory
from scaicontrol_core.clock import ManualClock
from scaicontrol_core.testing.commerce_world import ACME, GLOBEX, NOPROFILE, START, CommerceWorld
from scaicontrol_server import create_app
from scaicontrol_server.keys import STORAGE
from scaicontrol_server.settings import Settings
from scaicontrol_server.testing import HeaderAuthorizer, principal_header

from ..conftest import Client, Reply, served

__all__ = ["CALLERS", "Shop"]

CALLERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "acme_admin": principal_header("usr_acme", roles=("tenant_admin",), tenant_id=ACME),
    "acme_user": principal_header("usr_acme_user", roles=("tenant_user",), tenant_id=ACME),
    "globex_admin": principal_header("usr_globex", roles=("tenant_admin",), tenant_id=GLOBEX),
    "noprofile_admin": principal_header("usr_np", roles=("tenant_admin",), tenant_id=NOPROFILE),
    "reseller": principal_header("usr_res", roles=("partner_admin",), partner_id="prt_res"),
    "root": principal_header("usr_root", roles=("super_admin",)),
}


@attrs.define
class Shop:
    """The served app and the world behind it; requests name their caller."""

    client: Client
    world: CommerceWorld

    def call(self, method: str, path: str, who: str = "root", **kwargs: Any) -> Reply:
        return self.client.request(method, f"/api/v1{path}", headers=CALLERS[who], **kwargs)

    def get(self, path: str, who: str = "root", **kwargs: Any) -> Reply:
        return self.call("GET", path, who, **kwargs)

    def post(self, path: str, who: str = "root", **kwargs: Any) -> Reply:
        return self.call("POST", path, who, **kwargs)

    def data(self, reply: Reply, status: int = 200) -> Any:
        """The ``data`` of a reply that must have ``status``."""
        assert reply.status == status, reply.body
        return reply.json()["data"]


@contextmanager
def open_shop(settings: Settings, plugins: list[object]) -> Iterator[Shop]:
    clock = ManualClock(START)
    app = create_app(settings, plugins=plugins, authorizer=HeaderAuthorizer(), clock=clock)
    with served(app) as client:
        world = CommerceWorld.build(client.app[STORAGE])
        world.clock = clock
        yield Shop(client=client, world=world)


@pytest.fixture
def shop() -> Iterator[Shop]:
    """The shop on memory storage."""
    with open_shop(Settings(database_url="memory://", workers_enabled=False), [memory]) as s:
        yield s


def _empty(url: str) -> None:
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
    from scaicontrol_adapters.storage.sqlalchemy.tables import metadata
    from scaicontrol_core.ports import StorageConfig

    storage = SqlAlchemyStorage.from_config(StorageConfig(url=url))
    try:
        storage.migrator.upgrade()
        with storage.connection() as connection, connection.begin():
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        storage.close()


@pytest.fixture(params=["memory", "sql"])
def any_shop(request: pytest.FixtureRequest, database_url: str) -> Iterator[Shop]:
    """The shop on memory storage, then on the SQL database under test."""
    if request.param == "memory":
        settings, plugins = Settings(database_url="memory://", workers_enabled=False), [memory]
    else:
        pytest.importorskip("sqlalchemy")
        from scaicontrol_adapters.storage.sqlalchemy import plugin as sql_plugin

        _empty(database_url)
        settings, plugins = Settings(database_url=database_url, workers_enabled=False), [
            sql_plugin]
    with open_shop(settings, plugins) as running:
        yield running

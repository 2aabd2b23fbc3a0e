"""Serving the real application with the local identity provider and the demo data set.

``identity_server(...)`` starts ``create_app`` (bearer authentication, no test authorizer)
on the memory or SQL backend with a manual clock, loads the demo data, and hands back a
client that can log the demo users in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from scaicontrol_adapters.identity import local_plugin
from scaicontrol_adapters.storage import memory
from scaicontrol_core.clock import ManualClock
from scaicontrol_core.demo import load_demo
from scaicontrol_core.identity_demo import DEMO_PASSWORD
from scaicontrol_core.ids import RandomIds
from scaicontrol_core.ports import Storage
from scaicontrol_server import create_app
from scaicontrol_server.keys import STORAGE
from scaicontrol_server.settings import Settings

from ..conftest import Client, served

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

#: The demo accounts the tests act as, by role.
ACCOUNTS = {
    "super_admin": "admin@scailabs.example",
    "partner_admin": "partner@northwind.example",
    "tenant_admin": "admin@acme.example",
    "tenant_user": "user@acme.example",
    "group_admin": "finance@acme.example",
    "globex_admin": "admin@globex.example",
}


class IdentityClient(Client):
    """A client of the served app that can log demo users in."""

    def __init__(self, inner: Client, clock: ManualClock) -> None:
        super().__init__(inner._loop, inner._client)
        self.clock = clock
        self._tokens: dict[str, str] = {}

    @property
    def storage(self) -> Storage:
        return self.app[STORAGE]

    def login(self, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
        reply = self.post("/api/v1/auth/token", json={
            "grant_type": "password", "username": email, "password": password})
        assert reply.status == 200, reply.body
        body: dict[str, Any] = reply.json()
        return body

    def headers(self, who: str) -> dict[str, str]:
        """Bearer headers for a role of :data:`ACCOUNTS` (logged in once per client)."""
        if who not in self._tokens:
            self._tokens[who] = self.login(ACCOUNTS[who])["access_token"]
        return {"Authorization": f"Bearer {self._tokens[who]}"}

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


def _demo_on_start(app: web.Application) -> None:
    async def load(app: web.Application) -> None:
        def work() -> None:
            with app[STORAGE].unit_of_work(cross_tenant=True) as uow:
                load_demo(uow, now=START, ids=RandomIds())
                uow.commit()

        await asyncio.to_thread(work)

    app.on_startup.append(load)


@contextmanager
def identity_server(settings: Settings, plugins: list[object],
                    clock: ManualClock | None = None) -> Iterator[IdentityClient]:
    clock = clock or ManualClock(START)
    app = create_app(settings, plugins=plugins, clock=clock)
    _demo_on_start(app)
    with served(app) as client:
        yield IdentityClient(client, clock)


def _empty_sql_database(url: str) -> None:
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


MEMORY = Settings(database_url="memory://", workers_enabled=False)


@pytest.fixture
def memory_server() -> Iterator[IdentityClient]:
    """The app on the memory backend with the demo data, clock at START."""
    with identity_server(MEMORY, [memory, local_plugin]) as client:
        yield client


@pytest.fixture(params=["memory", "sql"])
def server(request: pytest.FixtureRequest, database_url: str) -> Iterator[IdentityClient]:
    """The app with the demo data on the memory backend and on the SQL database under test."""
    if request.param == "memory":
        with identity_server(MEMORY, [memory, local_plugin]) as client:
            yield client
        return
    pytest.importorskip("sqlalchemy")
    from scaicontrol_adapters.storage.sqlalchemy import plugin as sql_plugin

    _empty_sql_database(database_url)
    settings = Settings(database_url=database_url, workers_enabled=False)
    with identity_server(settings, [sql_plugin, local_plugin]) as client:
        yield client


@pytest.fixture
def start_server() -> Callable[..., AbstractContextManager[IdentityClient]]:
    """``with start_server(settings, plugins, clock) as client:`` for special set-ups."""
    return identity_server

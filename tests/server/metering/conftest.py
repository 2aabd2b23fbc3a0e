"""The real application with the header test authorizer, the demo data and a manual clock,
on the memory backend and on the SQL database under test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from scaicontrol_adapters.storage import memory
from scaicontrol_core.clock import ManualClock
from scaicontrol_core.demo import load_demo
from scaicontrol_core.ids import RandomIds
from scaicontrol_server import create_app
from scaicontrol_server.keys import STORAGE
from scaicontrol_server.settings import Settings
from scaicontrol_server.testing import HeaderAuthorizer, principal_header

from ..conftest import Client, Reply, served

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
SERVICE = principal_header("svc-scaikey", permissions=("registry:manage",), service=True)
SUPER = principal_header("root", roles=("super_admin",))
ACME_USER = principal_header("usr-acme", roles=("tenant_user",), tenant_id="tnt_demo_acme")
GLOBEX_ADMIN = principal_header("usr-globex", roles=("tenant_admin",),
                                tenant_id="tnt_demo_globex")
NORTHWIND = principal_header("usr-nw", roles=("partner_admin",),
                             partner_id="prt_demo_northwind", tenant_id="tnt_demo_globex")


class MeteringClient(Client):
    def __init__(self, inner: Client) -> None:
        super().__init__(inner._loop, inner._client)

    def ingest(self, events: list[dict[str, Any]], headers: dict[str, str] = SERVICE) -> Reply:
        return self.post("/api/v1/metering/events", json={"events": events}, headers=headers)

    def concurrently(self, bodies: list[list[dict[str, Any]]]) -> list[Reply]:
        """Post several batches at once and wait for every answer."""

        async def one(events: list[dict[str, Any]]) -> Reply:
            async with self._client.post("/api/v1/metering/events", json={"events": events},
                                         headers=SERVICE) as response:
                return Reply(response.status, response.headers, await response.read())

        async def every() -> list[Reply]:
            return list(await asyncio.gather(*(one(b) for b in bodies)))

        return self._loop.run_until_complete(every())


def _app(settings: Settings, plugins: list[object]) -> web.Application:
    app = create_app(settings, plugins=plugins, authorizer=HeaderAuthorizer(),
                     clock=ManualClock(NOW))

    async def load(app: web.Application) -> None:
        def work() -> None:
            with app[STORAGE].unit_of_work(cross_tenant=True) as uow:
                load_demo(uow, now=NOW, ids=RandomIds())
                uow.commit()

        await asyncio.to_thread(work)

    app.on_startup.append(load)
    return app


@pytest.fixture(params=["memory", "sql"])
def metering(request: pytest.FixtureRequest, database_url: str) -> Iterator[MeteringClient]:
    """The app with the demo data on the memory backend and on the SQL database."""
    if request.param == "memory":
        settings = Settings(database_url="memory://", workers_enabled=False)
        with served(_app(settings, [memory])) as client:
            yield MeteringClient(client)
        return
    pytest.importorskip("sqlalchemy")
    from scaicontrol_adapters.storage.sqlalchemy import plugin as sql_plugin

    from ..identity.conftest import _empty_sql_database

    _empty_sql_database(database_url)
    settings = Settings(database_url=database_url, workers_enabled=False)
    with served(_app(settings, [sql_plugin])) as client:
        yield MeteringClient(client)

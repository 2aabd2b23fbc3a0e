"""Fixtures of the webhook tests: a local receiver, settings that allow it, both backends.

The receiver is a real aiohttp server on 127.0.0.1 in its own thread and event loop, so
the code under test talks real HTTP to it. It records every webhook request (one with an
event id header) and answers from a script of statuses (204 once the script runs out),
optionally after a delay.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from aiohttp import web

from scaicontrol_adapters.storage import memory
from scaicontrol_server.settings import Settings

__all__ = ["Hit", "Receiver"]


@attrs.frozen
class Hit:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """A scripted HTTP endpoint; ``url`` is its base, e.g. ``http://127.0.0.1:41234``."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.script: deque[int] = deque()
        self.delay = 0.0
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def respond(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order."""
        self.script.extend(statuses)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if "X-ScaiControl-Event-Id" not in request.headers:
            return web.Response(status=404)  # a stray request (another test's old port)
        self.hits.append(Hit(request.path, dict(request.headers), body, time.monotonic()))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.script.popleft() if self.script else 204
        if status in (301, 302, 307):
            return web.Response(status=status, headers={"Location": f"{self.url}/moved"})
        return web.Response(status=status, text="" if status < 300 else f"answer {status}")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10), "the receiver did not start"

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Hit]:
        """Block until ``count`` requests arrived (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.hits) < count:
            assert time.monotonic() < deadline, f"{len(self.hits)} of {count} requests arrived"
            time.sleep(0.01)
        return list(self.hits)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver, stopped after the test."""
    running = Receiver()
    running.start()
    yield running
    running.stop()


def hook_settings(database_url: str = "memory://", **changes: Any) -> Settings:
    """Settings that let webhooks reach the local receiver (http, 127.0.0.1), with the
    safety-net tick far away so that only commits wake the jobs."""
    base = Settings(database_url=database_url, workers_enabled=False, webhook_allow_http=True,
                    webhook_allowlist=("127.0.0.1",), webhook_tick_seconds=3600.0)
    return attrs.evolve(base, **changes)


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


Backend = tuple[Callable[..., Settings], list[object]]


@pytest.fixture(params=["memory", "sql"])
def backend(request: pytest.FixtureRequest, database_url: str) -> Backend:
    """(settings factory, plugins) for the memory backend and the SQL database under test;
    the SQL database is migrated and emptied first."""
    if request.param == "memory":
        return (lambda **changes: hook_settings(**changes)), [memory]
    pytest.importorskip("sqlalchemy")
    from scaicontrol_adapters.storage.sqlalchemy import plugin as sql_plugin

    _empty_sql_database(database_url)
    return (lambda **changes: hook_settings(database_url, **changes)), [sql_plugin]

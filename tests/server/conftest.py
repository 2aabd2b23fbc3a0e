"""Serving aiohttp applications to synchronous tests.

``served(app)`` starts the application on a private event loop (through aiohttp's
``TestServer``/``TestClient``, so startup and cleanup contexts run) and hands back a small
synchronous client. Tests stay plain functions, which keeps Hypothesis simple.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy

from scaicontrol_adapters.storage import memory
from scaicontrol_server.settings import Settings


@attrs.frozen
class Reply:
    """A finished response: status, headers and the whole body."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Synchronous requests against an application served on a private loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: TestClient[Any, Any]) -> None:
        self._loop = loop
        self._client = client

    @property
    def app(self) -> web.Application:
        app: web.Application | None = self._client.app
        assert app is not None
        return app

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        async def go() -> Reply:
            async with self._client.request(method, path, **kwargs) as response:
                body = await response.read()
                return Reply(response.status, response.headers, body)

        return self._loop.run_until_complete(go())

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)


@contextmanager
def served(app: web.Application) -> Iterator[Client]:
    loop = asyncio.new_event_loop()
    try:

        async def start() -> TestClient[Any, Any]:
            client: TestClient[Any, Any] = TestClient(TestServer(app))
            try:
                await client.start_server()
            except BaseException:
                await client.close()
                raise
            return client

        client = loop.run_until_complete(start())
        try:
            yield Client(loop, client)
        finally:
            loop.run_until_complete(client.close())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


@pytest.fixture
def serving() -> Callable[[web.Application], AbstractContextManager[Client]]:
    """``with serving(app) as client:`` runs ``app`` for the duration of the block."""
    return served


@pytest.fixture
def settings() -> Settings:
    """Settings for in-memory storage with the background workers off."""
    return Settings(database_url="memory://", workers_enabled=False)


@pytest.fixture
def plugins() -> list[object]:
    """The plugin list most tests build apps with: the memory storage backend only."""
    return [memory]


@pytest.fixture
def client(settings: Settings, plugins: list[object]) -> Iterator[Client]:
    """The real application (every endpoint of the route table), served."""
    from scaicontrol_server import create_app

    with served(create_app(settings, plugins=plugins)) as running:
        yield running

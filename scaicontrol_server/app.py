"""Building the aiohttp application: ``create_app`` for the real API, ``build_app`` for
any endpoint table (tests build small ones).

Nothing happens at import time. Plugins are loaded and the OpenAPI document generated
when the application is built; the storage backend is opened when it starts and closed
when it stops (one cleanup context), before the workers start and after they stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable

from aiohttp import web

from scaicontrol_core.clock import Clock
from scaicontrol_core.ids import IdFactory, RandomIds
from scaicontrol_core.ports import Storage
from scaicontrol_core.serialization import make_converter

from . import keys
from .api import Authorizer, Endpoint
from .bootstrap import load_plugins, open_storage
from .clock import SystemClock
from .dispatch import check_table, register_endpoints
from .middlewares import envelope_middleware
from .openapi import build_openapi
from .settings import Settings
from .workers import workers_context

__all__ = ["DEFAULT_MAX_BODY_SIZE", "build_app", "create_app", "storage_context"]

log = logging.getLogger(__name__)

#: Largest request body accepted unless told otherwise (1 MiB).
DEFAULT_MAX_BODY_SIZE = 1024 * 1024


def create_app(
    settings: Settings,
    *,
    plugins: Iterable[object] | None = None,
    authorizer: Authorizer | None = None,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> web.Application:
    """The ScaiControl HTTP application with every endpoint of ``routes.ENDPOINTS``.

    ``plugins=None`` loads the ``scaicontrol`` entry points (minus
    ``settings.disabled_plugins``); a list means exactly those plugin objects.
    ``authorizer=None`` authenticates bearer tokens with the identity provider the
    settings name (``SCAICONTROL_IDENTITY``), built when the application starts.
    """
    from .auth import BearerAuthorizer, identity_context
    from .routes import ENDPOINTS
    from .service_keys import ServiceKeyAuthorizer

    app = build_app(
        settings,
        endpoints=ENDPOINTS,
        plugins=plugins,
        authorizer=ServiceKeyAuthorizer(authorizer or BearerAuthorizer()),
        clock=clock,
        ids=ids,
        max_body_size=max_body_size,
    )
    if authorizer is None:
        app.cleanup_ctx.insert(1, identity_context)  # after storage, before the workers
    return app


def build_app(
    settings: Settings,
    *,
    endpoints: Iterable[Endpoint],
    plugins: Iterable[object] | None = None,
    authorizer: Authorizer | None = None,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> web.Application:
    """An application serving exactly ``endpoints``, wired like :func:`create_app`."""
    if max_body_size < 1:
        raise ValueError("max_body_size must be positive")
    table = tuple(endpoints)
    facade = load_plugins(settings, plugins)
    converter = facade.configure_converter(make_converter())
    check_table(table, converter)

    app = web.Application(middlewares=[envelope_middleware], client_max_size=max_body_size)
    app[keys.SETTINGS] = settings
    app[keys.PLUGINS] = facade
    app[keys.CONVERTER] = converter
    app[keys.CLOCK] = clock or SystemClock()
    app[keys.IDS] = ids or RandomIds()
    app[keys.AUTHORIZER] = authorizer
    app[keys.ENDPOINTS] = table
    app[keys.MAX_BODY_SIZE] = max_body_size
    app[keys.OPENAPI] = build_openapi(table, settings)
    register_endpoints(app, table)
    app.cleanup_ctx.append(storage_context)
    if settings.workers_enabled:
        app.cleanup_ctx.append(workers_context)
    return app


def _prepare(storage: Storage, auto_migrate: bool) -> None:
    migrator = storage.migrator
    if auto_migrate and migrator is not None:
        log.info("upgrading the %s storage schema", storage.name)
        migrator.upgrade()


async def storage_context(app: web.Application) -> AsyncIterator[None]:
    """Open the configured storage backend (migrating first if asked), close it on cleanup."""
    settings = app[keys.SETTINGS]
    storage = await asyncio.to_thread(open_storage, settings, app[keys.PLUGINS])
    try:
        await asyncio.to_thread(_prepare, storage, settings.auto_migrate)
        app[keys.STORAGE] = storage
        yield
    finally:
        await asyncio.to_thread(storage.close)

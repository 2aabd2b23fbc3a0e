"""Authentication for the real application: the identity provider and the bearer authorizer.

:func:`create_app` uses :class:`BearerAuthorizer` unless an authorizer is passed in. The
provider named by ``SCAICONTROL_IDENTITY`` is built through the plugin facade when the
application starts (it needs the storage) and closed when it stops. If no identity plugin
is installed at all, every non-public endpoint answers 401 (fail closed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from scaicontrol_core.access import Principal
from scaicontrol_core.clock import Clock
from scaicontrol_core.errors import PermissionDenied, Unauthenticated
from scaicontrol_core.identity import resolve_principal
from scaicontrol_core.identity_provider import IdentityConfig, IdentityProvider
from scaicontrol_core.ids import IdFactory
from scaicontrol_core.plugins import Plugins
from scaicontrol_core.ports import Storage

from . import keys
from .api import AUTHENTICATED, PUBLIC, Endpoint
from .settings import Settings

__all__ = [
    "IDENTITY",
    "BearerAuthorizer",
    "bearer_token",
    "check_access",
    "identity_config",
    "identity_context",
    "open_identity_provider",
]

log = logging.getLogger(__name__)

#: The application's identity provider (None when no identity plugin is installed).
IDENTITY: Final[web.AppKey[IdentityProvider | None]] = web.AppKey("identity")


def identity_config(settings: Settings, storage: Storage, clock: Clock,
                    ids: IdFactory) -> IdentityConfig:
    return IdentityConfig(storage=storage, clock=clock, ids=ids,
                          public_url=settings.public_url, options=settings.identity_options)


def open_identity_provider(settings: Settings, plugins: Plugins, storage: Storage,
                           clock: Clock, ids: IdFactory) -> IdentityProvider | None:
    """The configured provider; None only when no identity plugin is installed at all."""
    if not plugins.identity_providers():
        log.warning("no identity provider is installed: every non-public endpoint answers 401")
        return None
    return plugins.open_identity_provider(
        settings.identity_provider, identity_config(settings, storage, clock, ids)
    )


async def identity_context(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: build the identity provider at start, close it at stop."""
    provider = await asyncio.to_thread(
        open_identity_provider, app[keys.SETTINGS], app[keys.PLUGINS], app[keys.STORAGE],
        app[keys.CLOCK], app[keys.IDS],
    )
    app[IDENTITY] = provider
    try:
        yield
    finally:
        if provider is not None:
            await provider.aclose()


def bearer_token(request: web.Request) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or Unauthenticated."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Authentication required: send 'Authorization: Bearer <token>'")
    return token


def check_access(principal: Principal, endpoint: Endpoint) -> None:
    """Raise PermissionDenied unless ``principal`` satisfies the endpoint's access rule."""
    if endpoint.access in (PUBLIC, AUTHENTICATED):
        return
    if not principal.has(endpoint.access):
        raise PermissionDenied(f"this operation needs the '{endpoint.access}' permission")


class BearerAuthorizer:
    """Verifies the bearer token with the identity provider, merges local roles, and
    checks the endpoint's scope (``super_admin`` passes every check)."""

    async def authorize(self, request: web.Request, endpoint: Endpoint) -> Principal:
        provider = request.app.get(IDENTITY)
        if provider is None:
            raise Unauthenticated("Authentication required")
        verified = await provider.verify(bearer_token(request))
        storage = request.app[keys.STORAGE]

        def resolve() -> Principal:
            with storage.unit_of_work() as uow:
                return resolve_principal(uow, verified)

        principal = await asyncio.to_thread(resolve)
        check_access(principal, endpoint)
        return principal

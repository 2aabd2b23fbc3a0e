"""Service API keys: ``X-ScaiControl-Key`` as an alternative to a bearer service token.

:class:`ServiceKeyAuthorizer` wraps the application's authorizer. A request carrying the
header is authenticated by the key alone (a missing, malformed, unknown or revoked key is
401, never a fallback to the bearer token); the caller becomes a service principal holding
the key's permissions, and the key's service is remembered on the request for handlers.
Requests without the header go to the wrapped authorizer unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Final

from aiohttp import web

from scaicontrol_core.access import Principal, PrincipalKind
from scaicontrol_core.errors import Unauthenticated
from scaicontrol_core.metering.admin import verify_service_key
from scaicontrol_core.metering.model import ServiceApiKey

from . import keys
from .api import Authorizer, Endpoint
from .auth import check_access

__all__ = ["KEY_HEADER", "SERVICE_KEY", "ServiceKeyAuthorizer", "key_service"]

KEY_HEADER: Final = "X-ScaiControl-Key"
#: The verified key of the request, when it authenticated with one.
SERVICE_KEY: Final[web.RequestKey[ServiceApiKey]] = web.RequestKey(
    "service_key", ServiceApiKey)


def key_service(request: web.Request) -> str | None:
    """The service whose API key authenticated the request (None for bearer callers)."""
    key = request.get(SERVICE_KEY)
    return key.service_slug if key is not None else None


class ServiceKeyAuthorizer:
    """Authenticates ``X-ScaiControl-Key`` requests; delegates the rest to ``inner``."""

    def __init__(self, inner: Authorizer | None) -> None:
        self.inner = inner

    async def authorize(self, request: web.Request, endpoint: Endpoint) -> object:
        token = request.headers.get(KEY_HEADER)
        if token is None:
            if self.inner is None:
                raise Unauthenticated("Authentication required")
            return await self.inner.authorize(request, endpoint)
        storage = request.app[keys.STORAGE]

        def verify() -> ServiceApiKey | None:
            with storage.unit_of_work() as uow:
                return verify_service_key(uow, token.strip())

        key = await asyncio.to_thread(verify)
        if key is None:
            raise Unauthenticated(f"the {KEY_HEADER} header holds no valid service key")
        principal = Principal(subject=f"service-key:{key.id}", kind=PrincipalKind.SERVICE,
                              permissions=frozenset(key.permissions))
        check_access(principal, endpoint)
        request[SERVICE_KEY] = key
        return principal

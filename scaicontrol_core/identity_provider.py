"""The identity-provider port: how the server learns who is calling.

An identity provider verifies bearer tokens, answers the token endpoint (login, refresh,
or the OIDC code exchange) and describes how a client logs in. Providers are plugins
registered through ``scaicontrol_register_identity_providers``; the built-in ones are
``local`` (users and passwords kept here) and ``oidc`` (an external issuer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import attrs

from .clock import Clock
from .ids import IdFactory
from .ports import Storage

__all__ = [
    "AuthConfig",
    "DirectoryGroup",
    "DirectorySnapshot",
    "DirectoryUser",
    "IdentityConfig",
    "IdentityDirectory",
    "IdentityProvider",
    "IdentityProviderFactory",
    "PasswordHasher",
    "TokenRequest",
    "VerifiedToken",
]


@attrs.frozen(kw_only=True)
class VerifiedToken:
    """What a verified bearer token says about its holder.

    ``roles`` and ``permissions`` are those the token itself carries; roles held locally
    are merged in afterwards (:func:`scaicontrol_core.identity.resolve_principal`).
    """

    subject: str
    tenant_id: str | None = None
    partner_id: str | None = None
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    is_service: bool = False
    email: str | None = None
    expires_at: datetime | None = None


@attrs.frozen(kw_only=True)
class AuthConfig:
    """How a client logs in (the body of ``GET /api/v1/auth/config``)."""

    provider: str
    issuer: str
    client_id: str | None
    scopes: tuple[str, ...]
    logout_url: str | None
    authorization_url: str | None
    token_url: str
    grant_types: tuple[str, ...]


@attrs.frozen(kw_only=True)
class TokenRequest:
    """The body of ``POST /api/v1/auth/token`` as a provider receives it."""

    grant_type: str
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None
    refresh_token: str | None = None
    username: str | None = None
    password: str | None = None


class PasswordHasher(Protocol):
    """Hashes and checks passwords (the local provider uses argon2id)."""

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


@attrs.frozen(kw_only=True)
class DirectoryUser:
    """A user as an external directory lists it."""

    id: str
    tenant_id: str
    email: str
    display_name: str | None = None


@attrs.frozen(kw_only=True)
class DirectoryGroup:
    """A group as an external directory lists it, with its members' user ids."""

    id: str
    tenant_id: str
    name: str
    description: str | None = None
    member_ids: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class DirectorySnapshot:
    """Everything a directory holds at one moment; a sync makes storage match it."""

    users: Sequence[DirectoryUser]
    groups: Sequence[DirectoryGroup]


class IdentityDirectory(Protocol):
    """Reads the full user and group lists of an external identity provider."""

    async def fetch(self) -> DirectorySnapshot: ...


class IdentityProvider(Protocol):
    """Verifies tokens and serves the token endpoint.

    ``verify`` raises ``Unauthenticated`` for anything it cannot vouch for; ``token``
    raises ``ValidationError`` (400) for a refused grant, ``Unauthenticated`` (401) for a
    reused refresh token, and ``UpstreamError`` (502) when an upstream issuer fails.
    """

    name: str

    @property
    def passwords(self) -> PasswordHasher | None:
        """The hasher of providers that keep passwords (the local one); None otherwise."""
        ...

    def auth_config(self) -> AuthConfig: ...

    async def verify(self, token: str) -> VerifiedToken: ...

    async def token(self, request: TokenRequest) -> Mapping[str, Any]: ...

    def directory(self) -> IdentityDirectory | None:
        """The provider's user directory for ``scaicontrol sync``, if it has one."""
        ...

    async def aclose(self) -> None: ...


@attrs.frozen(kw_only=True)
class IdentityConfig:
    """What an identity-provider factory is given.

    ``options`` holds the provider settings by short name (``issuer``, ``client_id``,
    ``client_secret``, ``jwks_url``, ``audience``, ``directory_url``,
    ``access_token_ttl``, ``refresh_token_ttl``, ``jwks_cache_ttl``).
    """

    storage: Storage
    clock: Clock
    ids: IdFactory
    public_url: str
    options: Mapping[str, str] = attrs.field(factory=dict)


IdentityProviderFactory = Callable[[IdentityConfig], IdentityProvider]

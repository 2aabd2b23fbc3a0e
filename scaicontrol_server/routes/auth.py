"""Authentication (tag ``auth``, 3 endpoints): how to log in, the token endpoint, and who
the caller is. Their bodies are plain objects, without the ``data`` envelope."""

from __future__ import annotations

import enum

import attrs
from aiohttp import web

from scaicontrol_core.access import Role, Scope
from scaicontrol_core.errors import Unauthenticated
from scaicontrol_core.identity_provider import TokenRequest as ProviderTokenRequest

from ..api import AUTHENTICATED, PUBLIC, Call, Endpoint, ResponseKind
from ..auth import IDENTITY
from ..envelopes import json_response
from ..fields import field
from ._common import principal_of

__all__ = ["ENDPOINTS", "AuthConfigResponse", "GrantType", "MeResponse", "TokenRequest",
           "TokenResponse"]


class GrantType(enum.StrEnum):
    PASSWORD = "password"
    REFRESH_TOKEN = "refresh_token"
    AUTHORIZATION_CODE = "authorization_code"


@attrs.frozen(kw_only=True)
class AuthConfigResponse:
    """What a client needs to log in."""

    provider: str
    """'local' (password grant here) or 'oidc' (authorization code at the issuer)."""
    issuer: str
    client_id: str | None
    scopes: list[str]
    logout_url: str | None
    authorization_url: str | None
    token_url: str
    grant_types: list[str]


@attrs.frozen(kw_only=True)
class TokenRequest:
    """A token grant: ``password`` (local), ``authorization_code`` (oidc, with PKCE) or
    ``refresh_token`` (both)."""

    grant_type: GrantType
    code: str | None = field(default=None, max_length=4096)
    redirect_uri: str | None = field(default=None, max_length=2048)
    code_verifier: str | None = field(default=None, max_length=256)
    refresh_token: str | None = field(default=None, max_length=4096)
    username: str | None = field(default=None, max_length=320,
                                 description="E-mail address (password grant).")
    password: str | None = field(default=None, max_length=256)


@attrs.frozen(kw_only=True)
class TokenResponse:
    """The token response (from the local provider, or the issuer's, passed through)."""

    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str | None = None


@attrs.frozen(kw_only=True)
class MeResponse:
    """The caller: identity from the stored user, roles merged from token, user and groups."""

    user_id: str
    tenant_id: str | None
    partner_id: str | None
    email: str | None
    display_name: str | None
    tenant_name: str | None
    partner_name: str | None
    roles: list[str]
    permissions: list[str]
    """Effective scopes (every scope for super_admin)."""


async def get_auth_config(call: Call[None, None, None]) -> AuthConfigResponse:
    """How to log in with the configured identity provider."""
    provider = call.app.get(IDENTITY)
    if provider is None:
        raise Unauthenticated("no identity provider is configured")
    config = provider.auth_config()
    return AuthConfigResponse(
        provider=config.provider, issuer=config.issuer, client_id=config.client_id,
        scopes=list(config.scopes), logout_url=config.logout_url,
        authorization_url=config.authorization_url, token_url=config.token_url,
        grant_types=list(config.grant_types),
    )


async def get_me(call: Call[None, None, None]) -> MeResponse:
    """Who is calling: user, tenant, partner, roles and effective permissions."""
    principal = principal_of(call)

    def read() -> MeResponse:
        with call.storage.unit_of_work() as uow:
            user = uow.users.get(principal.subject)
            tenant = uow.tenants.get(principal.tenant_id) if principal.tenant_id else None
            partner = uow.partners.get(principal.partner_id) if principal.partner_id else None
        permissions = frozenset(Scope) if principal.is_super_admin else principal.permissions
        return MeResponse(
            user_id=principal.subject, tenant_id=principal.tenant_id,
            partner_id=principal.partner_id, email=user.email if user else None,
            display_name=user.display_name if user else None,
            tenant_name=tenant.name if tenant else None,
            partner_name=partner.name if partner else None,
            roles=sorted(r for r in principal.roles if r in set(Role)),
            permissions=sorted(str(p) for p in permissions),
        )

    return await call.run(read)


async def post_token(call: Call[TokenRequest, None, None]) -> web.StreamResponse:
    """Log in or refresh: the local provider answers itself, the oidc provider forwards the
    grant to the issuer with this deployment's client credentials."""
    provider = call.app.get(IDENTITY)
    if provider is None:
        raise Unauthenticated("no identity provider is configured")
    body = call.body
    grant = ProviderTokenRequest(
        grant_type=body.grant_type.value, code=body.code, redirect_uri=body.redirect_uri,
        code_verifier=body.code_verifier, refresh_token=body.refresh_token,
        username=body.username, password=body.password,
    )
    result = await provider.token(grant)
    return json_response(dict(result), headers={"Cache-Control": "no-store",
                                                "Pragma": "no-cache"})


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/auth/config", handler=get_auth_config, access=PUBLIC,
             tag="auth", kind=ResponseKind.RAW, response_schema=AuthConfigResponse,
             summary="Get Auth Config"),
    Endpoint(method="GET", path="/auth/me", handler=get_me, access=AUTHENTICATED, tag="auth",
             kind=ResponseKind.RAW, response_schema=MeResponse, summary="Get Me"),
    Endpoint(method="POST", path="/auth/token", handler=post_token, access=PUBLIC, tag="auth",
             kind=ResponseKind.RAW, response_schema=TokenResponse, body_schema=TokenRequest,
             summary="Proxy Token", errors=(400, 401, 502)),
)

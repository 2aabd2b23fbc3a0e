"""Test support for applications built with :func:`scaicontrol_server.create_app`.

:class:`HeaderAuthorizer` trusts a principal described in a request header. It applies the
same access rules as a real authorizer (401 without a principal, 403 without the scope,
``super_admin`` passes everything), so endpoint tests can act as any caller without an
identity provider. Never use it in production.
"""

from __future__ import annotations

import json
from typing import Final

from aiohttp import web

from scaicontrol_core.access import Principal, PrincipalKind, scopes_for_roles
from scaicontrol_core.errors import Unauthenticated

from .api import Endpoint
from .auth import check_access

__all__ = ["PRINCIPAL_HEADER", "HeaderAuthorizer", "check_access", "principal_header"]

PRINCIPAL_HEADER: Final = "X-Test-Principal"


def principal_header(
    subject: str,
    *,
    roles: tuple[str, ...] = (),
    tenant_id: str | None = None,
    partner_id: str | None = None,
    permissions: tuple[str, ...] = (),
    service: bool = False,
) -> dict[str, str]:
    """Headers that make :class:`HeaderAuthorizer` see the described principal."""
    value = {
        "subject": subject,
        "roles": list(roles),
        "tenant_id": tenant_id,
        "partner_id": partner_id,
        "permissions": list(permissions),
        "service": service,
    }
    return {PRINCIPAL_HEADER: json.dumps(value)}


class HeaderAuthorizer:
    """Reads the caller from the ``X-Test-Principal`` JSON header (tests only)."""

    async def authorize(self, request: web.Request, endpoint: Endpoint) -> Principal:
        raw = request.headers.get(PRINCIPAL_HEADER)
        if not raw:
            raise Unauthenticated("missing credentials")
        try:
            value = json.loads(raw)
            roles = frozenset(value.get("roles", ()))
            principal = Principal(
                subject=value["subject"],
                kind=PrincipalKind.SERVICE if value.get("service") else PrincipalKind.USER,
                tenant_id=value.get("tenant_id"),
                partner_id=value.get("partner_id"),
                roles=roles,
                permissions=frozenset(value.get("permissions", ())) | scopes_for_roles(roles),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise Unauthenticated("malformed test principal") from exc
        check_access(principal, endpoint)
        return principal

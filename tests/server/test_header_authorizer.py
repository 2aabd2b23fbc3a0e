"""The test authorizer enforces the same access rules a real one must."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import attrs
from aiohttp import web

from scaicontrol_core.access import Principal
from scaicontrol_server.api import AUTHENTICATED, Call, Endpoint
from scaicontrol_server.app import build_app
from scaicontrol_server.settings import Settings
from scaicontrol_server.testing import HeaderAuthorizer, principal_header


@attrs.frozen(kw_only=True)
class WhoAmI:
    subject: str
    tenant_id: str | None


async def whoami(call: Call[None, None, None]) -> WhoAmI:
    assert isinstance(call.principal, Principal)
    return WhoAmI(subject=call.principal.subject, tenant_id=call.principal.tenant_id)


ENDPOINTS = (
    Endpoint(method="GET", path="/t/tenants", handler=whoami, access="admin:tenants",
             response_schema=WhoAmI),
    Endpoint(method="GET", path="/t/me", handler=whoami, access=AUTHENTICATED,
             response_schema=WhoAmI),
)


def test_access_rules(settings: Settings, plugins: list[object],
                      serving: Callable[[web.Application], AbstractContextManager[Any]]) -> None:
    """No principal is 401, a missing scope 403, a role's scope or super_admin passes."""
    app = build_app(settings, endpoints=ENDPOINTS, plugins=plugins, authorizer=HeaderAuthorizer())
    with serving(app) as client:
        assert client.get("/api/v1/t/me").status == 401
        assert client.get("/api/v1/t/me", headers={"X-Test-Principal": "{nope"}).status == 401
        user = principal_header("usr_1", roles=("tenant_user",), tenant_id="tnt_1")
        assert client.get("/api/v1/t/me", headers=user).json()["data"] == {
            "subject": "usr_1", "tenant_id": "tnt_1"}
        denied = client.get("/api/v1/t/tenants", headers=user)
        assert denied.status == 403 and denied.json()["error"]["code"] == "forbidden"
        partner = principal_header("usr_2", roles=("partner_admin",), partner_id="prt_1")
        assert client.get("/api/v1/t/tenants", headers=partner).status == 200
        root = principal_header("usr_0", roles=("super_admin",))
        assert client.get("/api/v1/t/tenants", headers=root).status == 200
        granted = principal_header("usr_3", permissions=("admin:tenants",))
        assert client.get("/api/v1/t/tenants", headers=granted).status == 200

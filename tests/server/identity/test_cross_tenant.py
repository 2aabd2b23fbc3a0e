"""Tenant isolation over HTTP: no endpoint of the identity capability leaks another tenant's
or partner's data, and a foreign id answers 404 exactly like a missing one.

The callers: Northwind's partner admin (reach: Globex, Initech, Northwind Staff) and
Globex's tenant admin. The foreign records belong to Acme, a tenant of the operator.
"""

from __future__ import annotations

from typing import Any

import pytest

from scaicontrol_server.routes import (
    admin_audit,
    admin_groups,
    admin_partners,
    admin_tenants,
    admin_users,
    auth,
    billing_profile,
    organization,
)

from .conftest import IdentityClient

#: (method, path template, foreign values, missing values, JSON body) per endpoint that takes
#: the id of something that belongs to a tenant or a partner.
FOREIGN: list[tuple[str, str, dict[str, str], dict[str, str], Any]] = [
    ("GET", "/api/v1/admin/tenants/{tenant_id}", {"tenant_id": "tnt_demo_acme"},
     {"tenant_id": "tnt_missing"}, None),
    ("PUT", "/api/v1/admin/tenants/{tenant_id}/billing-profile", {"tenant_id": "tnt_demo_acme"},
     {"tenant_id": "tnt_missing"}, {"company_name": "Hijack", "address_line1": "x",
                                    "postal_code": "1", "city": "y", "country_code": "NL"}),
    ("GET", "/api/v1/admin/partners/{partner_id}", {"partner_id": "prt_demo_operator"},
     {"partner_id": "prt_missing"}, None),
    ("PATCH", "/api/v1/admin/partners/{partner_id}", {"partner_id": "prt_demo_operator"},
     {"partner_id": "prt_missing"}, {"legal_name": "Hijack B.V."}),
    ("GET", "/api/v1/admin/partners/{partner_id}/tenants", {"partner_id": "prt_demo_operator"},
     {"partner_id": "prt_missing"}, None),
    ("POST", "/api/v1/admin/partners/{partner_id}/tenants",
     {"partner_id": "prt_demo_operator"}, {"partner_id": "prt_missing"}, {"name": "Hijack"}),
    ("GET", "/api/v1/admin/users/{user_id}", {"user_id": "usr_demo_acme_admin"},
     {"user_id": "usr_missing"}, None),
    ("PATCH", "/api/v1/admin/users/{user_id}", {"user_id": "usr_demo_acme_admin"},
     {"user_id": "usr_missing"}, {"status": "deleted"}),
    ("POST", "/api/v1/admin/users/{user_id}/role", {"user_id": "usr_demo_acme_admin"},
     {"user_id": "usr_missing"}, {"role": "tenant_user"}),
    ("DELETE", "/api/v1/admin/users/{user_id}/role?role=tenant_admin",
     {"user_id": "usr_demo_acme_admin"}, {"user_id": "usr_missing"}, None),
    ("GET", "/api/v1/admin/groups/{group_id}", {"group_id": "grp_demo_acme_finance"},
     {"group_id": "grp_missing"}, None),
    ("POST", "/api/v1/admin/groups/{group_id}/role", {"group_id": "grp_demo_acme_finance"},
     {"group_id": "grp_missing"}, {"role": "tenant_user"}),
    ("DELETE", "/api/v1/admin/groups/{group_id}/role", {"group_id": "grp_demo_acme_finance"},
     {"group_id": "grp_missing"}, None),
]
IDENTITY_ENDPOINTS = [e for module in (auth, organization, admin_tenants, admin_partners,
                                        admin_users, admin_groups, billing_profile, admin_audit)
                      for e in module.ENDPOINTS]


def test_every_identity_endpoint_with_an_id_is_covered() -> None:
    """Each identity endpoint that takes an id in its path appears in FOREIGN."""
    covered = {(m, p.split("?")[0]) for m, p, *_ in FOREIGN}
    needed = {(e.method, e.full_path) for e in IDENTITY_ENDPOINTS if e.path_params}
    assert needed - covered == set()


def _snapshot(client: IdentityClient) -> Any:
    with client.storage.unit_of_work(cross_tenant=True) as uow:
        return (uow.tenants.find(), uow.partners.find(), uow.users.find(), uow.groups.find(),
                uow.tenant_billing_profiles.find(), uow.partner_configurations.find(),
                len(uow.outbox.find(limit=1000)), uow.audit_log.count())


@pytest.mark.parametrize(("method", "path", "foreign", "missing", "body"), FOREIGN,
                         ids=[f"{m} {p}" for m, p, *_ in FOREIGN])
def test_foreign_ids_answer_like_missing_ones(
    server: IdentityClient, method: str, path: str, foreign: dict[str, str],
    missing: dict[str, str], body: Any,
) -> None:
    """A partner admin gets 404 for the operator's records, just as for absent ones, and
    nothing changes."""
    headers = server.headers("partner_admin")
    before = _snapshot(server)
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    alien = server.request(method, path.format(**foreign), **kwargs)
    absent = server.request(method, path.format(**missing), **kwargs)
    assert alien.status == absent.status == 404
    assert alien.json()["error"]["code"] == absent.json()["error"]["code"] == "not_found"
    foreign_id, missing_id = next(iter(foreign.values())), next(iter(missing.values()))
    assert alien.json()["error"]["message"] == absent.json()["error"]["message"].replace(
        missing_id, foreign_id)
    assert _snapshot(server) == before


def _ids(reply: Any, key: str) -> set[str]:
    assert reply.status == 200, reply.body
    return {item[key] for item in reply.json()["data"]}


def test_partner_admin_lists_only_its_own(server: IdentityClient) -> None:
    """Lists of tenants, partners, users, groups and the own-partner tenants hold nothing
    outside Northwind, whatever filter is asked for."""
    h = server.headers("partner_admin")
    reach = {"tnt_demo_globex", "tnt_demo_initech", "tnt_demo_northwind"}
    assert _ids(server.get("/api/v1/admin/tenants", headers=h), "tenant_id") == reach
    assert _ids(server.get("/api/v1/admin/tenants?q=acme", headers=h), "tenant_id") == set()
    assert _ids(server.get("/api/v1/organization/partner/tenants", headers=h),
                "tenant_id") == reach
    assert _ids(server.get("/api/v1/admin/partners", headers=h),
                "partner_id") == {"prt_demo_northwind"}
    users = server.get("/api/v1/admin/users", headers=h).json()["data"]
    assert {u["tenant_id"] for u in users} <= reach and users
    assert _ids(server.get("/api/v1/admin/users?tenant_id=tnt_demo_acme", headers=h),
                "id") == set()
    groups = server.get("/api/v1/admin/groups", headers=h)
    assert _ids(groups, "id") == {"grp_demo_globex_ops"}
    assert _ids(server.get("/api/v1/admin/groups?tenant_id=tnt_demo_acme", headers=h),
                "id") == set()


def test_tenant_self_service_sees_only_its_own_tenant(server: IdentityClient) -> None:
    """Globex's admin reads its own profile (or none), never Acme's, and its PUT writes
    Globex's profile while Acme's stays as it was."""
    h = server.headers("globex_admin")
    seen = server.get("/api/v1/billing/billing-profile", headers=h).json()["data"]
    assert seen is None or seen["tenant_id"] == "tnt_demo_globex"
    with server.storage.unit_of_work(tenant_id="tnt_demo_acme") as uow:
        acme_before = uow.tenant_billing_profiles.require("tnt_demo_acme")
    body = {"company_name": "Globex Logistics B.V. (new)", "address_line1": "Kade 5",
            "postal_code": "3011 AA", "city": "Rotterdam", "country_code": "NL"}
    created = server.put("/api/v1/billing/billing-profile", headers=h, json=body)
    assert created.status == 200 and created.json()["data"]["tenant_id"] == "tnt_demo_globex"
    with server.storage.unit_of_work(tenant_id="tnt_demo_acme") as uow:
        assert uow.tenant_billing_profiles.require("tnt_demo_acme") == acme_before
    own = server.get("/api/v1/organization/tenant", headers=h).json()["data"]
    assert own["id"] == "tnt_demo_globex" and own["has_billing_profile"] is True


def test_tenant_admin_has_no_admin_reach(server: IdentityClient) -> None:
    """A tenant admin cannot use admin lists at all (403), so it cannot probe ids either."""
    h = server.headers("globex_admin")
    for path in ("/api/v1/admin/tenants", "/api/v1/admin/tenants/tnt_demo_acme",
                 "/api/v1/admin/users", "/api/v1/admin/groups/grp_demo_acme_finance"):
        assert server.get(path, headers=h).status == 403, path

"""Administration endpoints end to end (memory and SQL): billing profiles with validation,
their events and audit entries, partner seller configuration and the billable rule, users
and groups with the role guard rails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scaicontrol_core.events import envelope_from_dict

from .conftest import IdentityClient

PROFILE: dict[str, Any] = {
    "company_name": "Globex Logistics B.V.", "address_line1": "Kade 5",
    "postal_code": "3011 AA", "city": "Rotterdam", "country_code": "NL",
    "vat_number": "NL 8674.06598.B01", "preferred_einvoice_format": "ubl",
    "preferred_language": "nl", "peppol_id": "0106:12345678", "peppol_scheme": "0106",
}


def _events(client: IdentityClient, topic: str) -> list[Any]:
    with client.storage.unit_of_work() as uow:
        messages = [m for m in uow.outbox.find(limit=1000) if m.topic == topic]
    return [envelope_from_dict(dict(m.payload)) for m in messages]


def _audit(client: IdentityClient, **where: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in where.items())
    reply = client.get(f"/api/v1/admin/audit-log?{query}", headers=client.headers("super_admin"))
    assert reply.status == 200
    data: list[dict[str, Any]] = reply.json()["data"]
    return data


@pytest.mark.parametrize(("change", "loc"), [
    ({"country_code": "XX"}, "country_code"),
    ({"country_code": "nl"}, "country_code"),
    ({"vat_number": "NL867406598B02X"}, "vat_number"),
    ({"vat_number": "DE136695976"}, "vat_number"),
    ({"preferred_einvoice_format": "pdf"}, "preferred_einvoice_format"),
    ({"preferred_language": "pt"}, "preferred_language"),
    ({"company_name": ""}, "company_name"),
    ({"city": "x" * 129}, "city"),
    ({"tax_exempt": "yes"}, "tax_exempt"),
    ({"peppol_scheme": None}, "peppol_id"),
    ({"contact_email": "not-an-address"}, "contact_email"),
])
def test_bad_profiles_are_422_and_change_nothing(
    server: IdentityClient, change: dict[str, Any], loc: str
) -> None:
    """Each invalid field is reported with its location; nothing is stored or emitted."""
    headers = server.headers("partner_admin")
    path = "/api/v1/admin/tenants/tnt_demo_initech/billing-profile"
    with server.storage.unit_of_work(cross_tenant=True) as uow:
        before = (uow.tenant_billing_profiles.get("tnt_demo_initech"),
                  len(uow.outbox.find(limit=1000)))
    reply = server.put(path, headers=headers, json={**PROFILE, **change})
    assert reply.status == 422
    assert ["body", loc] in [item["loc"] for item in reply.json()["detail"]]
    with server.storage.unit_of_work(cross_tenant=True) as uow:
        after = (uow.tenant_billing_profiles.get("tnt_demo_initech"),
                 len(uow.outbox.find(limit=1000)))
    assert after == before


def test_profile_lifecycle_records_linked_then_updated(server: IdentityClient) -> None:
    """First PUT links (one event), an identical PUT records nothing, a change records
    billing_updated with exactly the changed fields; each write is audited."""
    headers = server.headers("super_admin")
    with server.storage.unit_of_work(cross_tenant=True) as uow:
        uow.tenant_billing_profiles.delete(uow.tenant_billing_profiles.require("tnt_demo_acme"))
        uow.commit()
    path = "/api/v1/admin/tenants/tnt_demo_acme/billing-profile"
    body = {**PROFILE, "company_name": "Acme Analytics GmbH", "country_code": "NL"}
    server.clock.advance(timedelta(seconds=1))
    first = server.put(path, headers=headers, json=body)
    assert first.status == 200
    assert first.json()["data"]["vat_number"] == "NL867406598B01"  # normalised
    assert server.put(path, headers=headers, json=body).status == 200
    server.clock.advance(timedelta(seconds=1))
    changed = server.put(path, headers=headers,
                         json={**body, "city": "Amsterdam", "phone": "+31 20 123 4567"})
    assert changed.status == 200
    linked = [e for e in _events(server, "tenant.billing_linked")
              if e.data.tenant_id == "tnt_demo_acme"]
    updates = [e for e in _events(server, "tenant.billing_updated")
               if e.data.tenant_id == "tnt_demo_acme"]
    assert len(linked) == 1  # the demo's own linking event has the same key
    assert [u.data.changed_fields for u in updates] == [("city", "phone")]
    assert updates[0].data.scaicontrol_customer_id == "tnt_demo_acme"
    entries = _audit(server, resource_type="billing_profile", resource_id="tnt_demo_acme")
    assert [e["actor_id"] for e in entries] == ["usr_demo_admin", "usr_demo_admin", "demo"]
    assert entries[0]["before"]["city"] == "Rotterdam" and entries[0]["after"]["city"] == \
        "Amsterdam"
    assert entries[0]["request_id"].startswith("req_")


def test_tenant_self_service_profile_needs_the_scopes(server: IdentityClient) -> None:
    """tenant_user may neither read nor write; tenant_admin may both; data null before."""
    user, admin = server.headers("tenant_user"), server.headers("globex_admin")
    assert server.get("/api/v1/billing/billing-profile", headers=user).status == 403
    assert server.put("/api/v1/billing/billing-profile", headers=user,
                      json=PROFILE).status == 403
    saved = server.put("/api/v1/billing/billing-profile", headers=admin, json=PROFILE)
    assert saved.status == 200
    read = server.get("/api/v1/billing/billing-profile", headers=admin).json()["data"]
    assert read == saved.json()["data"]


def test_partner_becomes_billable_once_and_updates_after(server: IdentityClient) -> None:
    """The billable rule: linked on the first legal name + country, updated afterwards,
    nothing before; IBAN and BIC are checked; absent fields are kept."""
    root = server.headers("super_admin")
    created = server.post("/api/v1/admin/partners", headers=root,
                          json={"name": "Contoso", "id_suffix": "contoso"})
    assert created.status == 201 and created.json()["data"]["billable"] is False
    path = "/api/v1/admin/partners/prt_contoso"
    step1 = server.patch(path, headers=root, json={"legal_name": "Contoso SA"})
    assert step1.json()["data"]["billable"] is False
    assert _events(server, "partner.billing_linked") == [] or all(
        e.data.partner_id != "prt_contoso" for e in _events(server, "partner.billing_linked"))
    bad = server.patch(path, headers=root, json={"iban": "NL91ABNA0417164301"})
    assert bad.status == 422 and bad.json()["detail"][0]["loc"] == ["body", "iban"]
    step2 = server.patch(path, headers=root, json={"seller_country_code": "BE",
                                                   "iban": "DE89 3704 0044 0532 0130 00"})
    assert step2.status == 200
    data = step2.json()["data"]
    assert data["billable"] is True and data["configuration"]["legal_name"] == "Contoso SA"
    assert data["configuration"]["iban"] == "DE89370400440532013000"
    step3 = server.patch(path, headers=root, json={"city": "Brussels", "name": "Contoso Group"})
    assert step3.json()["data"]["name"] == "Contoso Group"
    mine = [e for e in _events(server, "partner.billing_linked")
            if e.data.partner_id == "prt_contoso"]
    updated = [e for e in _events(server, "partner.billing_updated")
               if e.data.partner_id == "prt_contoso"]
    assert [(e.data.legal_name, e.data.country_code) for e in mine] == [("Contoso SA", "BE")]
    assert [e.data.changed_fields for e in updated] == [("city",)]
    cleared = server.patch(path, headers=root, json={"legal_name": None})
    assert cleared.json()["data"]["billable"] is False
    assert server.patch(path, headers=root, json={"vat_number": "BE0403170701"}).status == 200


def test_partner_admin_edits_its_own_partner_only(server: IdentityClient) -> None:
    """Northwind's admin may patch Northwind but cannot create partners."""
    h = server.headers("partner_admin")
    ok = server.patch("/api/v1/admin/partners/prt_demo_northwind", headers=h,
                      json={"bic": "ABNANL2A"})
    assert ok.status == 200 and ok.json()["data"]["configuration"]["bic"] == "ABNANL2A"
    assert server.post("/api/v1/admin/partners", headers=h, json={"name": "X"}).status == 403


def test_user_creation_login_and_deactivation(server: IdentityClient) -> None:
    """An admin creates a user with a password; it logs in; a new password ends the old
    sessions; deactivating the user locks it out."""
    h = server.headers("partner_admin")
    created = server.post("/api/v1/admin/users", headers=h, json={
        "tenant_id": "tnt_demo_initech", "email": "Jean@Initech.example",
        "display_name": "Jean", "password": "correct horse battery", "roles": ["tenant_admin"]})
    assert created.status == 201, created.body
    detail = created.json()["data"]
    assert detail["user"]["email"] == "jean@initech.example" and detail["has_password"]
    user_id = detail["user"]["id"]
    assert server.post("/api/v1/admin/users", headers=h, json={
        "tenant_id": "tnt_demo_initech", "email": "jean@initech.example"}).status == 409
    assert server.post("/api/v1/admin/users", headers=h, json={
        "tenant_id": "tnt_demo_acme", "email": "x@acme.example"}).status == 404
    assert server.post("/api/v1/admin/users", headers=h, json={
        "tenant_id": "tnt_demo_initech", "email": "y@initech.example",
        "roles": ["super_admin"]}).status == 403
    assert server.post("/api/v1/admin/users", headers=h, json={
        "tenant_id": "tnt_demo_initech", "email": "z@initech.example",
        "password": "short"}).status == 422
    old = server.login("jean@initech.example", "correct horse battery")
    changed = server.patch(f"/api/v1/admin/users/{user_id}", headers=h,
                           json={"password": "a new passphrase"})
    assert changed.status == 200
    assert server.post("/api/v1/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": old["refresh_token"]}).status == 400
    tokens = server.login("jean@initech.example", "a new passphrase")
    me = server.get("/api/v1/auth/me",
                    headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert me["roles"] == ["tenant_admin"] and me["tenant_id"] == "tnt_demo_initech"
    off = server.patch(f"/api/v1/admin/users/{user_id}", headers=h, json={"status": "deleted"})
    assert off.status == 200 and off.json()["data"]["user"]["status"] == "deleted"
    assert server.get("/api/v1/auth/me", headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).status == 401
    listed = server.get("/api/v1/admin/users?q=jean", headers=h).json()["data"]
    assert listed == []
    with_deleted = server.get("/api/v1/admin/users?q=jean&include_deleted=true", headers=h)
    assert [u["id"] for u in with_deleted.json()["data"]] == [user_id]
    actions = {e["action"] for e in _audit(server, resource_id=user_id)}
    assert actions == {"user.create", "user.password", "user.update"}


def test_role_guard_rails(server: IdentityClient) -> None:
    """Only super_admin grants super_admin; nobody changes their own roles; grants are
    idempotent; unknown roles are 422; has_role filters users."""
    partner, root = server.headers("partner_admin"), server.headers("super_admin")
    target = "/api/v1/admin/users/usr_demo_globex_admin/role"
    assert server.post(target, headers=partner, json={"role": "super_admin"}).status == 403
    assert server.post(target, headers=partner, json={"role": "wizard"}).status == 422
    assert server.post("/api/v1/admin/users/usr_demo_northwind/role", headers=partner,
                       json={"role": "tenant_user"}).status == 403
    granted = server.post(target, headers=partner, json={"role": "partner_admin"})
    assert granted.status == 200
    assert granted.json()["data"]["user"]["roles"] == ["partner_admin", "tenant_admin"]
    again = server.post(target, headers=partner, json={"role": "partner_admin"})
    assert again.json()["data"] == granted.json()["data"]
    holders = server.get("/api/v1/admin/users?has_role=partner_admin", headers=root).json()
    assert {u["id"] for u in holders["data"]} == {"usr_demo_northwind", "usr_demo_globex_admin"}
    assert server.delete(target + "?role=partner_admin", headers=root).status == 200
    assert server.delete(target, headers=root).status == 422
    grants = _audit(server, resource_id="usr_demo_globex_admin", action="user.grant_role")
    assert len(grants) == 1 and grants[0]["after"]["roles"] == ["partner_admin",
                                                               "tenant_admin"]


def test_group_roles_are_inherited_and_guarded(server: IdentityClient) -> None:
    """A role given to a group reaches its members at once; members may not change their
    own group's role; the role can be taken away again."""
    partner = server.headers("partner_admin")
    globex = server.headers("globex_admin")
    assert server.get("/api/v1/admin/users", headers=globex).status == 403
    path = "/api/v1/admin/groups/grp_demo_globex_ops"
    detail = server.get(path, headers=partner).json()["data"]
    assert detail["members"] == [{"user_id": "usr_demo_globex_admin",
                                  "email": "admin@globex.example",
                                  "display_name": "Globex Admin"}]
    given = server.post(path + "/role", headers=partner, json={"role": "partner_admin"})
    assert given.status == 200 and given.json()["data"]["role"] == "partner_admin"
    assert server.get("/api/v1/admin/users", headers=globex).status == 200
    assert server.post(path + "/role", headers=globex, json={"role": "tenant_user"}).status \
        == 403
    with_role = server.get("/api/v1/admin/groups?has_role=true", headers=partner).json()
    assert [g["id"] for g in with_role["data"]] == ["grp_demo_globex_ops"]
    assert server.delete(path + "/role", headers=partner).json()["data"]["role"] is None
    assert server.get("/api/v1/admin/users", headers=globex).status == 403


def test_organization_endpoints(server: IdentityClient) -> None:
    """Own tenant and partner are readable by any user; tenant admins rename their tenant."""
    user, admin = server.headers("tenant_user"), server.headers("tenant_admin")
    partner = server.get("/api/v1/organization/partner", headers=user).json()["data"]
    assert partner["id"] == "prt_demo_operator" and partner["legal_name"] == \
        "ScaiLabs Platform B.V."
    assert server.patch("/api/v1/organization/tenant", headers=user,
                        json={"name": "x"}).status == 403
    renamed = server.patch("/api/v1/organization/tenant", headers=admin,
                           json={"name": "Acme Analytics AG", "email": None})
    assert renamed.status == 200
    assert renamed.json()["data"]["name"] == "Acme Analytics AG"
    assert renamed.json()["data"]["email"] is None
    assert server.patch("/api/v1/organization/tenant", headers=admin,
                        json={"name": ""}).status == 422
    entries = _audit(server, action="tenant.update", tenant_id="tnt_demo_acme")
    assert entries[0]["before"]["name"] == "Acme Analytics GmbH"

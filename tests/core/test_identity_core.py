"""Pure identity rules: scopes and reach, role guard rails, principal resolution, billing
identities (validation, events, the billable rule), countries and audit snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.access import ROLE_SCOPES, Principal, Role, Scope, rank_of
from scaicontrol_core.audit import Actor, snapshot
from scaicontrol_core.billing_profiles import (
    PROFILE_FIELDS,
    BillingProfileInput,
    is_billable,
    patch_partner_configuration,
    upsert_billing_profile,
)
from scaicontrol_core.countries import COUNTRY_NAMES, EU_MEMBER_STATES
from scaicontrol_core.errors import NotFound, PermissionDenied, Unauthenticated, ValidationError
from scaicontrol_core.identity import (
    check_role_change,
    membership_id,
    normalise_email,
    resolve_principal,
)
from scaicontrol_core.identity_provider import VerifiedToken
from scaicontrol_core.identity_records import (
    Credential,
    Group,
    GroupMembership,
    User,
    UserStatus,
)
from scaicontrol_core.ids import SequentialIds
from scaicontrol_core.records import Partner, Tenant

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ACTOR = Actor(id="usr_test")
S = Scope


def test_role_scope_table_is_the_documented_one() -> None:
    """The role-to-scope table docs/identity.md prints, checked entry by entry."""
    assert ROLE_SCOPES[Role.SUPER_ADMIN] == frozenset(Scope) and len(Scope) == 16
    assert ROLE_SCOPES[Role.PARTNER_ADMIN] == {
        S.ADMIN_TENANTS, S.ADMIN_USERS, S.ADMIN_GROUPS, S.ADMIN_USAGE, S.ADMIN_SUBSCRIPTIONS,
        S.ADMIN_PARTNERS, S.SERVICES_READ}
    assert ROLE_SCOPES[Role.TENANT_ADMIN] == {S.BILLING_MANAGE, S.BILLING_READ,
                                              S.SUBSCRIPTIONS_READ, S.SERVICES_READ}
    assert ROLE_SCOPES[Role.TENANT_USER] == {S.SERVICES_READ, S.SUBSCRIPTIONS_READ}


def _principal(*roles: str, tenant: str | None = "tnt_a", partner: str | None = "prt_a",
               subject: str = "usr_actor") -> Principal:
    return Principal(subject=subject, tenant_id=tenant, partner_id=partner,
                     roles=frozenset(roles))


@pytest.mark.parametrize(("roles", "partner_id", "reach_a", "reach_b"), [
    (("super_admin",), None, True, True),
    (("partner_admin",), "prt_a", True, False),
    (("partner_admin",), None, False, False),
    (("tenant_admin",), "prt_a", False, False),
    ((), "prt_a", False, False),
])
def test_partner_reach(roles: tuple[str, ...], partner_id: str | None, reach_a: bool,
                       reach_b: bool) -> None:
    """Super admins reach every partner, partner admins their own, nobody else any."""
    principal = _principal(*roles, partner=partner_id)
    assert (principal.can_reach_partner("prt_a"), principal.can_reach_partner("prt_b")) == (
        reach_a, reach_b)


def test_tenant_reach() -> None:
    """A partner admin reaches its partner's tenants; a tenant principal only itself."""
    partner = _principal("partner_admin")
    tenant = _principal("tenant_admin")
    assert partner.can_reach_tenant("tnt_x", "prt_a") and not partner.can_reach_tenant(
        "tnt_y", "prt_b")
    assert tenant.can_reach_tenant("tnt_a", "prt_a") and not tenant.can_reach_tenant(
        "tnt_x", "prt_a")


TENANT_A = Tenant(id="tnt_a", partner_id="prt_a", name="A", created_at=T0, updated_at=T0)
TENANT_B = Tenant(id="tnt_b", partner_id="prt_b", name="B", created_at=T0, updated_at=T0)


@pytest.mark.parametrize("actor_role", [r.value for r in Role])
@pytest.mark.parametrize("role", [r.value for r in Role])
def test_role_change_rules_for_every_pair(actor_role: str, role: str) -> None:
    """For every (actor role, role) pair: allowed exactly when the actor outranks or equals
    the role, super_admin only by super_admin."""
    actor = _principal(actor_role)
    reachable = actor.can_reach_tenant(TENANT_A.id, TENANT_A.partner_id)
    allowed = reachable and (actor_role == "super_admin" or (
        rank_of([role]) <= rank_of([actor_role]) and role != "super_admin"))
    if not reachable:
        with pytest.raises(NotFound):
            check_role_change(actor, TENANT_A, "usr_target", role)
    elif allowed:
        check_role_change(actor, TENANT_A, "usr_target", role)
    else:
        with pytest.raises(PermissionDenied):
            check_role_change(actor, TENANT_A, "usr_target", role)


def test_role_change_refuses_self_foreign_and_unknown() -> None:
    """Own roles, a tenant out of reach and an unknown role are all refused."""
    root = _principal("super_admin", subject="usr_root")
    with pytest.raises(PermissionDenied):
        check_role_change(root, TENANT_A, "usr_root", "tenant_user")
    with pytest.raises(NotFound):
        check_role_change(_principal("partner_admin"), TENANT_B, "usr_x", "tenant_user")
    with pytest.raises(ValidationError):
        check_role_change(root, TENANT_A, "usr_x", "wizard")


def _store_user(storage: MemoryStorage, **changes: Any) -> None:
    with storage.unit_of_work() as uow:
        uow.tenants.add(TENANT_A)
        uow.users.add(attrs.evolve(User(id="usr_1", tenant_id="tnt_a", email="a@a.example",
                                        roles=("tenant_user",), created_at=T0,
                                        updated_at=T0), **changes))
        for gid, role, status in (("grp_1", "tenant_admin", UserStatus.ACTIVE),
                                  ("grp_2", "partner_admin", UserStatus.DELETED)):
            uow.groups.add(Group(id=gid, tenant_id="tnt_a", name=gid, role=role, status=status,
                                 created_at=T0, updated_at=T0))
            uow.group_memberships.add(GroupMembership(id=membership_id(gid, "usr_1"),
                                                      group_id=gid, user_id="usr_1",
                                                      created_at=T0))
        uow.commit()


def test_principal_merges_token_user_and_active_group_roles() -> None:
    """Roles: token + direct + active groups (a deleted group grants nothing); the partner
    comes from the stored tenant when the token has none."""
    storage = MemoryStorage()
    _store_user(storage)
    token = VerifiedToken(subject="usr_1", roles=frozenset({"unknown_role"}),
                          permissions=frozenset({"admin:usage"}))
    with storage.unit_of_work() as uow:
        principal = resolve_principal(uow, token)
    assert principal.roles == {"unknown_role", "tenant_user", "tenant_admin"}
    assert principal.permissions == {"admin:usage"} | ROLE_SCOPES[Role.TENANT_ADMIN]
    assert (principal.tenant_id, principal.partner_id) == ("tnt_a", "prt_a")


def test_principal_of_service_or_deleted_user() -> None:
    """Service tokens get no local roles; a deleted user is refused outright."""
    storage = MemoryStorage()
    _store_user(storage, status=UserStatus.DELETED)
    with storage.unit_of_work() as uow:
        with pytest.raises(Unauthenticated):
            resolve_principal(uow, VerifiedToken(subject="usr_1"))
        service = resolve_principal(uow, VerifiedToken(
            subject="app_x", is_service=True, permissions=frozenset({"registry:manage"})))
    assert service.is_service and service.roles == frozenset()
    assert service.has("registry:manage") and not service.has("admin:tenants")


@pytest.mark.parametrize(("raw", "normal"), [
    (" Ann@Example.COM ", "ann@example.com"), ("a.b+c@sub.example.org", "a.b+c@sub.example.org"),
])
def test_emails_are_normalised(raw: str, normal: str) -> None:
    """Login names are trimmed and lower-cased."""
    assert normalise_email(raw) == normal


@pytest.mark.parametrize("raw", ["", "no-at", "a@b", "a b@c.example", "@x.example",
                                 "a@@b.example"])
def test_bad_emails_are_refused(raw: str) -> None:
    """Things that are not addresses raise ValidationError."""
    with pytest.raises(ValidationError):
        normalise_email(raw)


def test_country_table() -> None:
    """All assigned ISO 3166-1 alpha-2 codes; the 27 EU member states among them."""
    assert len(COUNTRY_NAMES) == 249 and COUNTRY_NAMES["NL"] == "Netherlands"
    assert len(EU_MEMBER_STATES) == 27 and set(COUNTRY_NAMES) >= EU_MEMBER_STATES
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_NAMES)


def _profile(**changes: Any) -> BillingProfileInput:
    base = BillingProfileInput(company_name=" Acme ", address_line1="Main 1",
                               postal_code="1000", city="Brussels", country_code="BE")
    return attrs.evolve(base, **changes)


IDS = SequentialIds()


def _upsert(storage: MemoryStorage, data: BillingProfileInput, when: datetime = T0,
            **kwargs: Any) -> tuple[Any, tuple[str, ...]]:
    with storage.unit_of_work(tenant_id="tnt_a") as uow:
        if uow.tenants.get("tnt_a") is None:
            uow.tenants.add(TENANT_A)
        result = upsert_billing_profile(uow, TENANT_A, data, now=when, ids=IDS, actor=ACTOR,
                                        **kwargs)
        uow.commit()
    return result


@pytest.mark.parametrize(("changes", "field"), [
    ({"country_code": "XX"}, "country_code"), ({"country_code": "be"}, "country_code"),
    ({"company_name": "  "}, "company_name"), ({"city": "x" * 129}, "city"),
    ({"vat_number": "BE 0403!170"}, "vat_number"), ({"peppol_id": "0208:123"}, "peppol_id"),
    ({"peppol_id": "1", "peppol_scheme": "12"}, "peppol_scheme"),
])
def test_core_profile_validation(changes: dict[str, Any], field: str) -> None:
    """The core refuses bad input even without the HTTP layer, naming the field."""
    with pytest.raises(ValidationError) as caught:
        _upsert(MemoryStorage(), _profile(**changes))
    assert caught.value.field == field


def test_profile_events_and_vat_checker() -> None:
    """Creation links, a no-op records nothing, a change records updated with the fields;
    the injected VAT checker sees the number and country and its result is stored."""
    storage = MemoryStorage()
    seen: list[tuple[str, str]] = []

    def check(number: str, country: str) -> str:
        seen.append((number, country))
        return number.replace(" ", "").upper()

    profile, changed = _upsert(storage, _profile(vat_number="be 0403 170 701"), vat_check=check)
    assert profile.company_name == "Acme" and profile.vat_number == "BE0403170701"
    assert changed == PROFILE_FIELDS and seen == [("be 0403 170 701", "BE")]
    assert _upsert(storage, _profile(vat_number="BE0403170701"), vat_check=check)[1] == ()
    later = T0 + timedelta(hours=1)
    _, changed = _upsert(storage, _profile(vat_number="BE0403170701", city="Ghent"), later,
                         vat_check=check)
    assert changed == ("city",)
    with storage.unit_of_work() as uow:
        topics = [(m.topic, m.key) for m in uow.outbox.find()]
        audited = uow.audit_log.count({"resource_type": "billing_profile"})
    assert topics == [("tenant.billing_linked", "tenant:tnt_a:billing_linked:initial"),
                      ("tenant.billing_updated",
                       "tenant:tnt_a:billing_updated:20260105T100000Z")]
    assert audited == 2


PARTNER = Partner(id="prt_a", name="A", created_at=T0, updated_at=T0)


@given(st.lists(st.sampled_from([
    {"legal_name": "A B.V."}, {"legal_name": None}, {"seller_country_code": "NL"},
    {"seller_country_code": None}, {"city": "Utrecht"}, {"city": None},
]), max_size=8))
def test_partner_billing_events_follow_the_rule(steps: list[dict[str, Any]]) -> None:
    """For any sequence of patches: linked exactly once, at the first moment both fields are
    set; updated for every later real change; nothing before the first link."""
    storage = MemoryStorage()
    with storage.unit_of_work() as uow:
        uow.partners.add(PARTNER)
        uow.commit()
    expected: list[str] = []
    ids = SequentialIds()
    linked = False
    state: dict[str, Any] = {"legal_name": None, "seller_country_code": None, "city": None}
    for n, change in enumerate(steps):
        when = T0 + timedelta(minutes=n)
        new_state = {**state, **change}
        differs = new_state != state
        billable = bool(new_state["legal_name"] and new_state["seller_country_code"])
        if differs and not linked and billable:
            expected.append("partner.billing_linked")
            linked = True
        elif differs and linked:
            expected.append("partner.billing_updated")
        state = new_state
        with storage.unit_of_work() as uow:
            config, _ = patch_partner_configuration(uow, PARTNER, change, now=when,
                                                    ids=ids, actor=ACTOR)
            uow.commit()
        assert is_billable(config) == billable
    with storage.unit_of_work() as uow:
        assert [m.topic for m in uow.outbox.find()] == expected


def test_partner_patch_refuses_unknown_fields_and_bad_countries() -> None:
    """Only seller fields can be patched, and the seller country must be a real code."""
    storage = MemoryStorage()
    with storage.unit_of_work() as uow:
        for change in ({"name": "x"}, {"seller_country_code": "ZZ"}):
            with pytest.raises(ValidationError):
                patch_partner_configuration(uow, PARTNER, change, now=T0, ids=SequentialIds(),
                                            actor=ACTOR)


def test_audit_snapshots_never_hold_secrets() -> None:
    """Credentials are reduced to their id; other records lose only their version."""
    credential = Credential(id="a@b.example", user_id="usr_1", password_hash="$argon2id$x",
                            created_at=T0, updated_at=T0)
    assert snapshot(credential) == {"id": "a@b.example"}
    data = snapshot(TENANT_A)
    assert data is not None and "version" not in data and data["created_at"] == \
        "2026-01-05T09:00:00+00:00"

"""The identity part of the demo data set: staff tenants, users who can log in with the
``local`` identity provider, a group that grants a role, billing identities.

Every demo user's password is :data:`DEMO_PASSWORD`; its argon2id hash is stored as a
constant, so loading the demo needs no hashing library. Loading is idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from .audit import Actor
from .billing_profiles import (
    BillingProfileInput,
    patch_partner_configuration,
    upsert_billing_profile,
)
from .identity import membership_id
from .identity_records import (
    Credential,
    EinvoiceFormat,
    Group,
    GroupMembership,
    InvoiceLanguage,
    User,
)
from .ids import IdFactory
from .ports import UnitOfWork
from .records import Tenant

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "load_identity_demo"]

DEMO_PASSWORD: Final = "scaicontrol-demo"
_DEMO_HASH: Final = (
    "$argon2id$v=19$m=65536,t=3,p=4$ZfXFEjrFilMB71uWgH1nCA$"
    "LRH82+0czi+xiHjSxP4qF7HTeDz9XJ12tOIuZ/8F6WQ"
)

#: Staff tenants: the operator's and the reseller's own organisations.
_STAFF_TENANTS: Final = (
    ("tnt_demo_scailabs", "prt_demo_operator", "ScaiLabs Operations", "ops@scailabs.example"),
    ("tnt_demo_northwind", "prt_demo_northwind", "Northwind Staff", "staff@northwind.example"),
)

#: (user id, tenant, e-mail, display name, direct roles)
_USERS: Final = (
    ("usr_demo_admin", "tnt_demo_scailabs", "admin@scailabs.example", "Platform Admin",
     ("super_admin",)),
    ("usr_demo_northwind", "tnt_demo_northwind", "partner@northwind.example",
     "Northwind Admin", ("partner_admin",)),
    ("usr_demo_acme_admin", "tnt_demo_acme", "admin@acme.example", "Acme Admin",
     ("tenant_admin",)),
    ("usr_demo_acme_finance", "tnt_demo_acme", "finance@acme.example", "Acme Finance", ()),
    ("usr_demo_acme_user", "tnt_demo_acme", "user@acme.example", "Acme User",
     ("tenant_user",)),
    ("usr_demo_globex_admin", "tnt_demo_globex", "admin@globex.example", "Globex Admin",
     ("tenant_admin",)),
)

#: (e-mail, role as the demo describes it) for ``scaicontrol demo`` and the docs.
DEMO_LOGINS: Final = (
    ("admin@scailabs.example", "super_admin (platform operator)"),
    ("partner@northwind.example", "partner_admin of Northwind (Globex, Initech)"),
    ("admin@acme.example", "tenant_admin of Acme"),
    ("finance@acme.example", "tenant_admin of Acme through the group 'Acme Finance'"),
    ("user@acme.example", "tenant_user of Acme"),
    ("admin@globex.example", "tenant_admin of Globex"),
)

#: (group id, tenant, name, role, members)
_GROUPS: Final = (
    ("grp_demo_acme_finance", "tnt_demo_acme", "Acme Finance", "tenant_admin",
     ("usr_demo_acme_finance",)),
    ("grp_demo_globex_ops", "tnt_demo_globex", "Globex Operations", None,
     ("usr_demo_globex_admin",)),
)

_ACME_PROFILE: Final = BillingProfileInput(
    company_name="Acme Analytics GmbH", address_line1="Friedrichstraße 123",
    postal_code="10117", city="Berlin", country_code="DE", vat_number="DE136695976",
    contact_email="billing@acme.example", preferred_einvoice_format=EinvoiceFormat.XRECHNUNG,
    preferred_language=InvoiceLanguage.DE, leitweg_id="991-12345-67",
)
_DEMO_ACTOR: Final = Actor(id="demo")

_SELLERS: Final = (
    ("prt_demo_operator", {"legal_name": "ScaiLabs Platform B.V.",
                           "address_line1": "Herengracht 1", "postal_code": "1015 BA",
                           "city": "Amsterdam", "seller_country_code": "NL",
                           "vat_number": "NL867406598B01", "iban": "NL91ABNA0417164300",
                           "bic": "ABNANL2A", "contact_email": "billing@scailabs.example"}),
    ("prt_demo_northwind", {"legal_name": "Northwind Managed Services B.V.",
                            "address_line1": "Stationsplein 10", "postal_code": "3511 ED",
                            "city": "Utrecht", "seller_country_code": "NL",
                            "contact_email": "billing@northwind.example"}),
)


def load_identity_demo(uow: UnitOfWork, *, now: datetime, ids: IdFactory) -> tuple[int, int]:
    """Add the missing identity demo records; returns (created, already present).

    Needs a unit of work opened with ``cross_tenant=True`` (billing profiles are per tenant).
    Billing identities are created through the real operations, so their billing-link
    events and audit entries are recorded as for any other tenant or partner.
    """
    created = unchanged = 0

    def put(repo: object, record: object) -> None:
        nonlocal created, unchanged
        if repo.get(record.id) is None:  # type: ignore[attr-defined]
            repo.add(record)  # type: ignore[attr-defined]
            created += 1
        else:
            unchanged += 1

    for tid, partner_id, name, email in _STAFF_TENANTS:
        put(uow.tenants, Tenant(id=tid, partner_id=partner_id, name=name, email=email,
                                created_at=now, updated_at=now))
    for uid, tid, email, display, roles in _USERS:
        put(uow.users, User(id=uid, tenant_id=tid, email=email, display_name=display,
                            roles=tuple(roles), created_at=now, updated_at=now))
        put(uow.credentials, Credential(id=email, user_id=uid, password_hash=_DEMO_HASH,
                                        created_at=now, updated_at=now))
    for gid, tid, name, role, members in _GROUPS:
        put(uow.groups, Group(id=gid, tenant_id=tid, name=name, role=role,
                              created_at=now, updated_at=now))
        for uid in members:
            put(uow.group_memberships, GroupMembership(
                id=membership_id(gid, uid), group_id=gid, user_id=uid, created_at=now))
    acme = uow.tenants.get("tnt_demo_acme")
    if acme is not None and uow.tenant_billing_profiles.get(acme.id) is None:
        upsert_billing_profile(uow, acme, _ACME_PROFILE, now=now, ids=ids, actor=_DEMO_ACTOR)
        created += 1
    else:
        unchanged += 1
    for pid, fields in _SELLERS:
        partner = uow.partners.get(pid)
        if partner is not None and uow.partner_configurations.get(pid) is None:
            patch_partner_configuration(uow, partner, fields, now=now, ids=ids,
                                        actor=_DEMO_ACTOR)
            created += 1
        else:
            unchanged += 1
    return created, unchanged

"""The demo data set: a platform operator, a reseller and a few tenants.

Loading is idempotent: records that exist are left exactly as they are, so running the
loader twice changes nothing. Each capability adds its own part of the demo here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import attrs

from .catalog_demo import load_catalog_demo
from .identity_demo import load_identity_demo
from .ids import IdFactory, RandomIds
from .metering_demo import load_metering_demo
from .ports import UnitOfWork
from .records import Partner, Tenant
from .webhooks_demo import load_webhooks_demo

__all__ = ["DEMO_PARTNERS", "DEMO_TENANTS", "DemoSummary", "load_demo"]

OPERATOR_ID: Final = "prt_demo_operator"
RESELLER_ID: Final = "prt_demo_northwind"

DEMO_PARTNERS: Final[tuple[tuple[str, str, bool], ...]] = (
    (OPERATOR_ID, "ScaiLabs Platform B.V.", True),
    (RESELLER_ID, "Northwind Managed Services", False),
)

DEMO_TENANTS: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("tnt_demo_acme", OPERATOR_ID, "Acme Analytics GmbH", "billing@acme.example"),
    ("tnt_demo_globex", RESELLER_ID, "Globex Logistics B.V.", "finance@globex.example"),
    ("tnt_demo_initech", RESELLER_ID, "Initech SARL", "compta@initech.example"),
)


@attrs.frozen(kw_only=True)
class DemoSummary:
    created: int
    unchanged: int


def load_demo(uow: UnitOfWork, *, now: datetime, ids: IdFactory | None = None) -> DemoSummary:
    """Add every demo record that is missing; the caller commits.

    Open the unit of work with ``cross_tenant=True``: some demo records are per tenant.
    ``ids`` mints event and audit ids (fresh random ones unless given).
    """
    created = unchanged = 0
    for pid, name, is_operator in DEMO_PARTNERS:
        if uow.partners.get(pid) is None:
            uow.partners.add(
                Partner(id=pid, name=name, is_operator=is_operator, created_at=now, updated_at=now)
            )
            created += 1
        else:
            unchanged += 1
    for tid, partner_id, name, email in DEMO_TENANTS:
        if uow.tenants.get(tid) is None:
            uow.tenants.add(
                Tenant(
                    id=tid, partner_id=partner_id, name=name, email=email,
                    created_at=now, updated_at=now,
                )
            )
            created += 1
        else:
            unchanged += 1
    ids = ids or RandomIds()
    made, kept = load_identity_demo(uow, now=now, ids=ids)
    bought, present = load_catalog_demo(uow, now=now, ids=ids)
    hooked, there = load_webhooks_demo(uow, now=now)
    metered, same = load_metering_demo(uow, now=now)
    return DemoSummary(created=created + made + bought + hooked + metered,
                       unchanged=unchanged + kept + present + there + same)

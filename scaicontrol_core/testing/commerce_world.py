"""A small commerce world for tests of the catalog, subscription and pack services.

``CommerceWorld.build(storage)`` fills an empty storage with two partners, three tenants
(two with billing profiles), three services and a handful of plans and packs, and hands
back the services, a manual clock and sequential ids. Helpers read the recorded events
and take snapshots, so a test can prove that a refused operation changed nothing.
Backend-neutral: contract suites run it on every storage.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from ..catalog_records import BillingPeriod, DiscountType, ServicePackItem
from ..clock import ManualClock
from ..commerce import (
    AdminLifecycle,
    CatalogService,
    LifecyclePolicy,
    NewPack,
    NewPlan,
    NewService,
    PackService,
    Reach,
    SubscriptionService,
)
from ..events import Envelope, envelope_from_dict
from ..identity_records import TenantBillingProfile
from ..ids import SequentialIds
from ..ports import Storage
from ..records import Partner, Tenant
from ..timetravel import TravelStep, advance_to

__all__ = ["ACME", "GLOBEX", "NOPROFILE", "START", "CommerceWorld"]

START: Final = datetime(2026, 1, 1, tzinfo=UTC)
ACME: Final = "tnt_acme"  # operator's tenant, with a billing profile
GLOBEX: Final = "tnt_globex"  # reseller's tenant, with a billing profile
NOPROFILE: Final = "tnt_noprofile"  # reseller's tenant without a billing profile

#: (service, slug, billing period, price, trial days, fixed term)
PLANS: Final = (
    ("scaikey", "trial", BillingPeriod.MONTHLY, 2900, 14, None),
    ("scaikey", "pro", BillingPeriod.MONTHLY, 9900, 0, None),
    ("scaikey", "yearly", BillingPeriod.YEARLY, 99000, 0, None),
    ("scaikey", "commit", BillingPeriod.MONTHLY, 8900, 0, 3),
    ("scaidrive", "team", BillingPeriod.MONTHLY, 4900, 30, None),
    ("scaidrive", "basic", BillingPeriod.MONTHLY, 1500, 0, None),
    ("scaivault", "pro", BillingPeriod.MONTHLY, 1900, 0, None),
    ("scaivault", "once", BillingPeriod.ONE_TIME, 50000, 0, None),
)


@attrs.define
class CommerceWorld:
    storage: Storage
    clock: ManualClock
    ids: SequentialIds
    catalog: CatalogService
    subscriptions: SubscriptionService
    packs: PackService
    admin: AdminLifecycle
    policy: LifecyclePolicy

    @classmethod
    def build(cls, storage: Storage, *, start: datetime = START,
              policy: LifecyclePolicy | None = None) -> CommerceWorld:
        ids = SequentialIds(1000)
        subscriptions = SubscriptionService(storage, ids)
        packs = PackService(storage, ids)
        world = cls(storage=storage, clock=ManualClock(start), ids=ids,
                    catalog=CatalogService(storage, ids), subscriptions=subscriptions,
                    packs=packs, admin=AdminLifecycle(subscriptions, packs),
                    policy=policy or LifecyclePolicy())
        world._organisations(start)
        world._catalog(start)
        return world

    def _organisations(self, at: datetime) -> None:
        with self.storage.unit_of_work(cross_tenant=True) as uow:
            uow.partners.add(Partner(id="prt_op", name="Operator", is_operator=True,
                                     created_at=at, updated_at=at))
            uow.partners.add(Partner(id="prt_res", name="Reseller", created_at=at,
                                     updated_at=at))
            for tid, pid in ((ACME, "prt_op"), (GLOBEX, "prt_res"), (NOPROFILE, "prt_res")):
                uow.tenants.add(Tenant(id=tid, partner_id=pid, name=tid, created_at=at,
                                       updated_at=at))
            for tid in (ACME, GLOBEX):
                uow.tenant_billing_profiles.add(TenantBillingProfile(
                    id=tid, tenant_id=tid, company_name=tid, address_line1="Street 1",
                    postal_code="1000", city="City", country_code="NL", created_at=at,
                    updated_at=at))
            uow.commit()

    def _catalog(self, at: datetime) -> None:
        for slug in ("scaikey", "scaidrive", "scaivault"):
            self.catalog.create_service(NewService(slug=slug, name=slug.title()), now=at)
        for service, slug, period, price, trial, term in PLANS:
            self.catalog.create_plan(NewPlan(
                service_id=service, slug=slug, name=f"{service} {slug}", billing_period=period,
                base_price_cents=price, currency="EUR", trial_days=trial,
                fixed_term_periods=term, tier=slug), now=at)
        key, drive, vault = (self.plan(k) for k in ("scaikey.pro", "scaidrive.basic",
                                                     "scaivault.pro"))
        items = tuple(ServicePackItem(service_id=p.service_id, plan_id=p.id, sort_order=n)
                      for n, p in enumerate((key, drive, vault)))
        self.packs.create_pack(NewPack(
            slug="bundle", name="Bundle", billing_period=BillingPeriod.MONTHLY,
            base_price_cents=12000, currency="EUR", discount_type=DiscountType.PERCENTAGE,
            discount_percentage=Decimal("12.5"), items=items), now=at)
        self.packs.create_pack(NewPack(
            slug="trial-bundle", name="Trial bundle", billing_period=BillingPeriod.MONTHLY,
            base_price_cents=5000, currency="EUR", discount_type=DiscountType.FIXED_PRICE,
            trial_days=10, items=items[1:]), now=at)

    # -- helpers ----------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def plan(self, key: str) -> Any:
        return self.catalog.get_plan(key)

    def tenant(self, tenant_id: str = ACME) -> Reach:
        return Reach(tenant_id=tenant_id)

    def subscribe(self, plan: str, tenant_id: str = ACME, **kwargs: Any) -> Any:
        return self.subscriptions.subscribe(Reach(tenant_id=tenant_id), tenant_id=tenant_id,
                                            plan=plan, now=self.now, **kwargs)

    def travel(self, instant: datetime) -> list[TravelStep]:
        return advance_to(self.storage, self.clock, instant, ids=self.ids, policy=self.policy)

    def events(self, resource_id: str | None = None) -> list[Envelope]:
        """Recorded events in outbox order, optionally only those about one resource."""
        with self.storage.unit_of_work(cross_tenant=True) as uow:
            messages = uow.outbox.find(kinds=["event"], limit=100_000)
        found = [envelope_from_dict(m.payload) for m in messages]
        return [e for e in found if resource_id is None or e.data.resource_id == resource_id]

    def snapshot(self) -> tuple[Any, ...]:
        """Every subscription, pack subscription and outbox key, to compare before/after."""
        with self.storage.unit_of_work(cross_tenant=True) as uow:
            return (
                tuple(uow.subscriptions.find()),
                tuple(uow.pack_subscriptions.find()),
                tuple(m.key for m in uow.outbox.find(limit=100_000)),
            )

"""The catalog part of the demo data set: services, plans, two service packs, and
subscriptions of the demo tenants in varied states.

Ids are fixed (UUIDv5 of a readable name), so loading twice finds everything in place and
changes nothing. Subscriptions are bought and moved through the real operations, so their
events are in the outbox as for any tenant. Globex and Initech get billing profiles first,
because a tenant may only buy once it has one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Final

from .audit import Actor
from .billing_profiles import BillingProfileInput, upsert_billing_profile
from .catalog_records import (
    BillingPeriod,
    DiscountType,
    PlanFeatures,
    ServicePackItem,
    UsagePriceTier,
)
from .commerce.catalog import NewPlan, NewService, new_plan, new_service
from .commerce.lifecycle import PaymentFailure, TransitionContext, fire
from .commerce.operations import save_change
from .commerce.pack_service import subscribe_pack_in
from .commerce.packs import NewPack, new_pack
from .commerce.reach import EVERYTHING
from .commerce.subscription_service import subscribe_in
from .ids import IdFactory
from .machines.subscription import SubscriptionTrigger
from .ports import UnitOfWork

__all__ = ["DEMO_PACKS", "DEMO_PLANS", "DEMO_SUBSCRIPTIONS", "demo_id", "load_catalog_demo"]

_NAMESPACE: Final = uuid.UUID("5ca1ab1e-0000-4000-8000-00000000de30")
T = SubscriptionTrigger


def demo_id(name: str) -> str:
    """The fixed id of a demo record, e.g. ``demo_id("plan:scaikey.starter")``."""
    return str(uuid.uuid5(_NAMESPACE, name))


_SERVICES: Final = (
    NewService(slug="scaikey", name="ScaiKey", description="Identity and single sign-on.",
               sort_order=1),
    NewService(slug="scaidrive", name="ScaiDrive", description="File storage and sharing.",
               sort_order=2),
    NewService(slug="scaivault", name="ScaiVault", description="Secrets management.",
               sort_order=3),
)

_MAU_PRICING: Final = (
    UsagePriceTier(metric_slug="monthly_active_users", tier_start=0, tier_end=10_000,
                   unit_price_cents=0, unit_label="users"),
    UsagePriceTier(metric_slug="monthly_active_users", tier_start=10_000,
                   unit_price_cents=5, unit_label="100 users", unit_divisor=100),
)

#: (service slug, plan) of every demo plan; the plan's service_id is the service slug.
DEMO_PLANS: Final = (
    NewPlan(service_id="scaikey", slug="starter", name="ScaiKey Starter", tier="starter",
            billing_period=BillingPeriod.MONTHLY, base_price_cents=2900, currency="EUR",
            trial_days=14, quotas={"monthly_active_users": 1000},
            features=PlanFeatures(items=("SSO", "MFA"), unit="users")),
    NewPlan(service_id="scaikey", slug="pro", name="ScaiKey Pro", tier="pro",
            billing_period=BillingPeriod.MONTHLY, base_price_cents=9900, currency="EUR",
            quotas={"monthly_active_users": 10_000}, usage_pricing=_MAU_PRICING,
            features=PlanFeatures(items=("SSO", "MFA", "SCIM", "Audit log"), unit="users")),
    NewPlan(service_id="scaikey", slug="annual-commit", name="ScaiKey Pro, 12-month commitment",
            tier="pro", billing_period=BillingPeriod.MONTHLY, base_price_cents=8900,
            currency="EUR", fixed_term_periods=12, quotas={"monthly_active_users": 10_000}),
    NewPlan(service_id="scaikey", slug="enterprise", name="ScaiKey Enterprise",
            tier="enterprise", billing_period=BillingPeriod.YEARLY, base_price_cents=1_200_000,
            currency="EUR", quotas={"monthly_active_users": 0},
            cost_multiplier=Decimal("1.15")),
    NewPlan(service_id="scaidrive", slug="team", name="ScaiDrive Team", tier="team",
            billing_period=BillingPeriod.MONTHLY, base_price_cents=4900, currency="EUR",
            trial_days=30, quotas={"storage_gb": 1000, "users": 50}),
    NewPlan(service_id="scaivault", slug="pro", name="ScaiVault Pro", tier="pro",
            billing_period=BillingPeriod.MONTHLY, base_price_cents=1900, currency="EUR",
            quotas={"secrets": 25_000}),
)

#: (slug, name, pricing, percentage, base price, trial days, plan keys)
DEMO_PACKS: Final = (
    ("security-bundle", "Security bundle", DiscountType.PERCENTAGE, Decimal("20"), 9500, 0,
     ("scaikey.pro", "scaivault.pro")),
    ("team-suite", "Team suite", DiscountType.FIXED_PRICE, None, 6900, 14,
     ("scaikey.starter", "scaidrive.team")),
)

#: (name, tenant, plan key or pack slug, triggers applied after buying)
DEMO_SUBSCRIPTIONS: Final = (
    ("acme-scaikey", "tnt_demo_acme", "scaikey.pro", ()),
    ("acme-scaidrive", "tnt_demo_acme", "scaidrive.team", ()),
    ("globex-security", "tnt_demo_globex", "pack:security-bundle", ()),
    ("globex-scaidrive", "tnt_demo_globex", "scaidrive.team",
     (T.CONVERT, T.SCHEDULE_CANCELLATION)),
    ("initech-scaikey", "tnt_demo_initech", "scaikey.annual-commit", (T.PAYMENT_FAILED,)),
    ("initech-scaivault", "tnt_demo_initech", "scaivault.pro", (T.PAYMENT_FAILED, T.SUSPEND)),
)

_PROFILES: Final = (
    ("tnt_demo_globex", BillingProfileInput(
        company_name="Globex Logistics B.V.", address_line1="Wilhelminakade 91",
        postal_code="3072 AP", city="Rotterdam", country_code="NL",
        vat_number="NL859048436B01", contact_email="finance@globex.example")),
    ("tnt_demo_initech", BillingProfileInput(
        company_name="Initech SARL", address_line1="12 rue de la Paix", postal_code="75002",
        city="Paris", country_code="FR", contact_email="compta@initech.example")),
)
_ACTOR: Final = Actor(id="demo")


def load_catalog_demo(uow: UnitOfWork, *, now: datetime, ids: IdFactory) -> tuple[int, int]:
    """Add the missing catalog demo records; returns (created, already present).

    Needs a unit of work opened with ``cross_tenant=True``; the caller commits. Demo
    tenants that do not exist are skipped.
    """
    created = present = 0

    def missing(found: object) -> bool:
        nonlocal created, present
        if found is None:
            created += 1
            return True
        present += 1
        return False

    for service_command in _SERVICES:
        sid = demo_id(f"service:{service_command.slug}")
        if missing(uow.services.get(sid)):
            uow.services.add(new_service(service_command, service_id=sid, now=now))
    for plan_command in DEMO_PLANS:
        key = f"{plan_command.service_id}.{plan_command.slug}"
        if missing(uow.plans.get(demo_id(f"plan:{key}"))):
            service = uow.services.require(demo_id(f"service:{plan_command.service_id}"))
            uow.plans.add(new_plan(plan_command, service=service, plan_id=demo_id(f"plan:{key}"),
                                   now=now))
    for slug, name, pricing, percentage, price, trial, keys in DEMO_PACKS:
        pid = demo_id(f"pack:{slug}")
        if missing(uow.service_packs.get(pid)):
            plans = {p.id: p for p in (uow.plans.require(demo_id(f"plan:{k}")) for k in keys)}
            items = tuple(ServicePackItem(service_id=plan.service_id, plan_id=plan.id,
                                          sort_order=n) for n, plan in enumerate(plans.values()))
            pack_command = NewPack(
                slug=slug, name=name, billing_period=BillingPeriod.MONTHLY,
                base_price_cents=price, currency="EUR", discount_type=pricing,
                discount_percentage=percentage, trial_days=trial, items=items,
            )
            uow.service_packs.add(new_pack(pack_command, plans, pack_id=pid, now=now))
    for tenant_id, profile in _PROFILES:
        tenant = uow.tenants.get(tenant_id)
        if tenant is not None and missing(uow.tenant_billing_profiles.get(tenant_id)):
            upsert_billing_profile(uow, tenant, profile, now=now, ids=ids, actor=_ACTOR)
    for name, tenant_id, bought, triggers in DEMO_SUBSCRIPTIONS:
        record_id = demo_id(f"subscription:{name}")
        if uow.tenants.get(tenant_id) is None:
            continue
        found = uow.subscriptions.get(record_id) or uow.pack_subscriptions.get(record_id)
        if missing(found):
            _buy(uow, ids, record_id, tenant_id, bought, triggers, now)
    return created, present


def _buy(uow: UnitOfWork, ids: IdFactory, record_id: str, tenant_id: str, bought: str,
         triggers: tuple[SubscriptionTrigger, ...], now: datetime) -> None:
    if bought.startswith("pack:"):
        subscribe_pack_in(uow, ids, EVERYTHING, tenant_id=tenant_id, pack=bought[5:], now=now,
                          pack_subscription_id=record_id)
        return
    sub = subscribe_in(uow, ids, EVERYTHING, tenant_id=tenant_id, plan=bought, now=now,
                       subscription_id=record_id)
    plan = uow.plans.require(sub.plan_id)
    for trigger in triggers:
        payment = PaymentFailure(amount_cents=plan.base_price_cents, currency=plan.currency,
                                 failure_reason="card_declined")
        context = TransitionContext(payment=payment if trigger is T.PAYMENT_FAILED else None,
                                    reason="demo")
        sub = save_change(uow, ids, fire(sub, trigger, plan=plan, now=now, context=context))

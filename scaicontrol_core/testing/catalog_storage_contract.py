"""What every storage backend must do for the catalog record kinds.

Subclass :class:`CatalogStorageContract` with a ``storage`` fixture yielding a fresh,
empty, migrated backend. It checks that nested values and exact decimals survive a round
trip, and pins :meth:`~scaicontrol_core.commerce.store.LifecycleRepository.find_due`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from ..catalog_records import (
    BillingPeriod,
    DiscountType,
    PackSubscription,
    Plan,
    PlanFeatures,
    ServicePack,
    ServicePackItem,
    Subscription,
    SubscriptionStatus,
    UsagePriceTier,
)
from ..errors import TenantScopeRequired, ValidationError
from ..ports import Storage

__all__ = ["CatalogStorageContract"]

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
S = SubscriptionStatus


def plan(**changes: Any) -> Plan:
    base = Plan(
        id="plan-1", service_id="service-1", slug="pro", plan_key="scaikey.pro", name="Pro ✓",
        description="Für Teams", tier="pro", billing_period=BillingPeriod.QUARTERLY,
        base_price_cents=12_345_678_901, currency="EUR",
        features=PlanFeatures(items=("SSO", "MFA"), unit="users"),
        quotas={"monthly_active_users": 1000, "apps": 0},
        usage_pricing=(
            UsagePriceTier(metric_slug="mau", tier_start=0, tier_end=100, unit_price_cents=0,
                           unit_label="users"),
            UsagePriceTier(metric_slug="mau", tier_start=100, unit_price_cents=7,
                           unit_label="10 users", unit_divisor=10),
        ),
        trial_days=14, fixed_term_periods=4, cost_multiplier=Decimal("1.2500"),
        metadata={"color": "blue", "nested": {"list": [1, "two", None], "flag": True}},
        created_at=T0, updated_at=T0,
    )
    return attrs.evolve(base, **changes)


def subscription(sid: str, tenant_id: str = "tnt_a", **changes: Any) -> Subscription:
    base = Subscription(
        id=sid, tenant_id=tenant_id, partner_id="prt_a", service_id="service-1",
        plan_id="plan-1", plan_key="scaikey.pro", status=S.ACTIVE, created_at=T0, updated_at=T0,
    )
    return attrs.evolve(base, **changes)


class CatalogStorageContract:
    """Storage behaviour the catalog capability relies on."""

    def test_plans_keep_nested_values_and_decimals(self, storage: Storage) -> None:
        """Features, quotas, usage tiers, metadata, big amounts and decimals round-trip."""
        original = plan()
        with storage.unit_of_work() as uow:
            uow.plans.add(original)
            uow.commit()
        with storage.unit_of_work() as uow:
            loaded = uow.plans.require("plan-1")
            updated = uow.plans.update(attrs.evolve(loaded, cost_multiplier=None, quotas={}))
            uow.commit()
        assert loaded == original
        assert loaded.cost_multiplier == Decimal("1.2500")
        with storage.unit_of_work() as uow:
            assert uow.plans.require("plan-1") == updated

    def test_packs_keep_their_items(self, storage: Storage) -> None:
        """Pack items and the discount percentage round-trip exactly."""
        pack = ServicePack(
            id="pack-1", slug="bundle", name="Bundle", billing_period=BillingPeriod.MONTHLY,
            base_price_cents=100, currency="EUR", discount_type=DiscountType.PERCENTAGE,
            discount_percentage=Decimal("12.5"),
            items=(ServicePackItem(service_id="s1", plan_id="p1", override_price_cents=None),
                   ServicePackItem(service_id="s2", plan_id="p2", override_price_cents=5,
                                   sort_order=1)),
            created_at=T0, updated_at=T0,
        )
        with storage.unit_of_work() as uow:
            uow.service_packs.add(pack)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.service_packs.require("pack-1") == pack

    def test_subscriptions_are_tenant_scoped(self, storage: Storage) -> None:
        """Subscriptions and pack subscriptions need a tenant or cross_tenant."""
        with storage.unit_of_work() as uow:
            with pytest.raises(TenantScopeRequired):
                uow.subscriptions.find()
            with pytest.raises(TenantScopeRequired):
                uow.pack_subscriptions.get("x")
        with storage.unit_of_work(tenant_id="tnt_a") as uow:
            uow.subscriptions.add(subscription("a1"))
            uow.commit()
        with storage.unit_of_work(tenant_id="tnt_b") as uow:
            assert uow.subscriptions.get("a1") is None

    def test_round_trip_of_lifecycle_records(self, storage: Storage) -> None:
        """Every field of a subscription and a pack subscription survives."""
        sub = subscription("s1", activated_at=T0, trial_ends_at=T0, billing_anchor=T0,
                           current_period_start=T0, current_period_end=T0 + timedelta(days=30),
                           ends_at=T0, past_due_since=T0, payment_failures=2, suspended_at=T0,
                           pending_cancellation_at=T0, cancelled_at=T0,
                           cancellation_reason="ünïcode reason", trial_notice_days=3,
                           pack_subscription_id="pk1", quantity=7)
        pack = PackSubscription(
            id="pk1", tenant_id="tnt_a", partner_id="prt_a", pack_id="pack-1",
            pack_slug="bundle", status=S.SUSPENDED, billing_period=BillingPeriod.YEARLY,
            price_cents=99_999_999_999, currency="JPY", activated_at=T0, suspended_at=T0,
            created_at=T0, updated_at=T0,
        )
        with storage.unit_of_work(cross_tenant=True) as uow:
            uow.subscriptions.add(sub)
            uow.pack_subscriptions.add(pack)
            uow.commit()
        with storage.unit_of_work(tenant_id="tnt_a") as uow:
            assert uow.subscriptions.require("s1") == sub
            assert uow.pack_subscriptions.require("pk1") == pack

    def test_find_due_is_a_range_on_one_deadline(self, storage: Storage) -> None:
        """Set deadlines at or before the bound, matching the filters, earliest first."""
        deadlines = {"d1": T0 + timedelta(days=3), "d2": T0, "d3": T0 + timedelta(days=1),
                     "d4": T0 + timedelta(days=1), "d5": None, "d6": T0 + timedelta(days=9)}
        with storage.unit_of_work(cross_tenant=True) as uow:
            for sid, end in deadlines.items():
                tenant = "tnt_b" if sid == "d4" else "tnt_a"
                uow.subscriptions.add(subscription(sid, tenant, current_period_end=end))
            uow.subscriptions.add(subscription("d7", status=S.CANCELLED, current_period_end=T0))
            uow.subscriptions.add(subscription("d8", pack_subscription_id="p",
                                               current_period_end=T0))
            uow.commit()
        bound = T0 + timedelta(days=3)
        active = {"status": S.ACTIVE, "pack_subscription_id": None}
        with storage.unit_of_work(cross_tenant=True) as uow:
            due = uow.subscriptions.find_due("current_period_end", bound, active)
            assert [s.id for s in due] == ["d2", "d3", "d4", "d1"]
            assert [s.id for s in uow.subscriptions.find_due(
                "current_period_end", bound, active, offset=1, limit=2)] == ["d3", "d4"]
            assert [s.id for s in uow.subscriptions.find_due(
                "current_period_end", bound - timedelta(microseconds=1), active)] == [
                "d2", "d3", "d4"]
            assert len(uow.subscriptions.find_due("current_period_end", bound)) == 6
            with pytest.raises(ValidationError):
                uow.subscriptions.find_due("nope", bound)
        with storage.unit_of_work(tenant_id="tnt_a") as uow:
            assert [s.id for s in uow.subscriptions.find_due(
                "current_period_end", bound, active)] == ["d2", "d3", "d1"]

    def test_pack_subscriptions_have_find_due_too(self, storage: Storage) -> None:
        """The pack repository answers the same deadline query."""
        with storage.unit_of_work(cross_tenant=True) as uow:
            for n, days in enumerate((5, 1)):
                uow.pack_subscriptions.add(PackSubscription(
                    id=f"pk{n}", tenant_id="tnt_a", partner_id="prt_a", pack_id="pack-1",
                    pack_slug="bundle", status=S.CANCELLING, billing_period=BillingPeriod.MONTHLY,
                    price_cents=1, currency="EUR",
                    pending_cancellation_at=T0 + timedelta(days=days),
                    created_at=T0, updated_at=T0))
            uow.commit()
        with storage.unit_of_work(cross_tenant=True) as uow:
            found = uow.pack_subscriptions.find_due("pending_cancellation_at",
                                                    T0 + timedelta(days=5),
                                                    {"status": S.CANCELLING})
        assert [p.id for p in found] == ["pk1", "pk0"]

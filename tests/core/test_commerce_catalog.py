"""The catalog service: creating, changing and browsing services and plans."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.catalog_records import BillingPeriod, PlanFeatures, UsagePriceTier
from scaicontrol_core.commerce import (
    KEEP,
    CatalogService,
    NewPlan,
    NewService,
    PlanChanges,
    ServiceChanges,
)
from scaicontrol_core.errors import DuplicateRecord, NotFound, ValidationError
from scaicontrol_core.ids import SequentialIds
from scaicontrol_core.testing.commerce_world import START

NOW = START


@pytest.fixture
def catalog() -> CatalogService:
    """A catalog on memory storage with one service."""
    service = CatalogService(MemoryStorage(), SequentialIds())
    service.create_service(NewService(slug="scaikey", name="ScaiKey"), now=NOW)
    return service


def plan_command(**changes: Any) -> NewPlan:
    base = NewPlan(service_id="scaikey", slug="pro", name="Pro",
                   billing_period=BillingPeriod.MONTHLY, base_price_cents=9900, currency="EUR")
    return attrs.evolve(base, **changes)


def tier(start: int, end: int | None, **changes: Any) -> UsagePriceTier:
    base = UsagePriceTier(metric_slug="mau", tier_start=start, tier_end=end,
                          unit_price_cents=1, unit_label="users")
    return attrs.evolve(base, **changes)


def test_a_plan_gets_its_key_from_both_slugs(catalog: CatalogService) -> None:
    """plan_key is <service_slug>.<plan_slug>, and the plan is found by id or key."""
    plan = catalog.create_plan(plan_command(quotas={"users": 5}), now=NOW)
    assert plan.plan_key == "scaikey.pro"
    assert catalog.get_plan("scaikey.pro") == catalog.get_plan(plan.id) == plan


BAD_PLANS = [
    ("slug", {"slug": "Pro Plan"}),
    ("name", {"name": "  "}),
    ("base_price_cents", {"base_price_cents": -1}),
    ("currency", {"currency": "EUX"}),
    ("trial_days", {"trial_days": 400}),
    ("fixed_term_periods", {"fixed_term_periods": 0}),
    ("fixed_term_periods", {"fixed_term_periods": 3, "billing_period": BillingPeriod.ONE_TIME}),
    ("cost_multiplier", {"cost_multiplier": Decimal("0")}),
    ("cost_multiplier", {"cost_multiplier": Decimal("NaN")}),
    ("tier", {"tier": "x" * 33}),
    ("quotas", {"quotas": {"Bad Metric": 1}}),
    ("quotas.users", {"quotas": {"users": -5}}),
    ("features", {"features": PlanFeatures(items=("",))}),
    ("usage_pricing", {"usage_pricing": (tier(5, None),)}),
    ("usage_pricing", {"usage_pricing": (tier(0, 10), tier(11, None))}),
    ("usage_pricing", {"usage_pricing": (tier(0, None), tier(10, None))}),
    ("usage_pricing", {"usage_pricing": (tier(0, 10, unit_divisor=0),)}),
    ("usage_pricing", {"usage_pricing": (tier(0, 0),)}),
    ("usage_pricing", {"usage_pricing": (tier(0, None, unit_label=""),)}),
]


@pytest.mark.parametrize(("field", "changes"), BAD_PLANS, ids=[f for f, _ in BAD_PLANS])
def test_bad_plans_are_refused_naming_the_field(catalog: CatalogService, field: str,
                                                changes: dict[str, Any]) -> None:
    """Each broken rule is a ValidationError on its field, and nothing is stored."""
    with pytest.raises(ValidationError) as refused:
        catalog.create_plan(plan_command(**changes), now=NOW)
    assert refused.value.field == field
    assert catalog.list_plans() == ([], 0)


def test_usage_brackets_are_stored_sorted_per_metric(catalog: CatalogService) -> None:
    """Brackets given in any order are kept sorted by metric and start."""
    tiers = (tier(10, None), tier(0, 10), tier(0, None, metric_slug="api"))
    plan = catalog.create_plan(plan_command(usage_pricing=tiers), now=NOW)
    assert [(t.metric_slug, t.tier_start) for t in plan.usage_pricing] == [
        ("api", 0), ("mau", 0), ("mau", 10)]


def test_slugs_and_plan_keys_are_unique(catalog: CatalogService) -> None:
    """A second service or plan with a taken slug is a DuplicateRecord."""
    catalog.create_plan(plan_command(), now=NOW)
    with pytest.raises(DuplicateRecord):
        catalog.create_service(NewService(slug="scaikey", name="Again"), now=NOW)
    with pytest.raises(DuplicateRecord):
        catalog.create_plan(plan_command(name="Again"), now=NOW)


def test_a_plan_needs_an_existing_service(catalog: CatalogService) -> None:
    """Naming an unknown service is NotFound."""
    with pytest.raises(NotFound):
        catalog.create_plan(plan_command(service_id="nope"), now=NOW)


def test_changes_keep_what_they_do_not_name(catalog: CatalogService) -> None:
    """KEEP leaves a field alone; None clears a nullable one; rules still apply."""
    plan = catalog.create_plan(plan_command(description="Old", tier="pro",
                                            cost_multiplier=Decimal("1.5")), now=NOW)
    changed = catalog.update_plan("scaikey.pro", PlanChanges(
        base_price_cents=12000, description=None, cost_multiplier=KEEP), now=NOW)
    assert (changed.base_price_cents, changed.description, changed.tier) == (12000, None, "pro")
    assert changed.cost_multiplier == Decimal("1.5") and changed.version == plan.version + 1
    assert not hasattr(PlanChanges, "currency") and "billing_period" not in attrs.fields_dict(
        PlanChanges)
    with pytest.raises(ValidationError):
        catalog.update_plan(plan.id, PlanChanges(trial_days=-1), now=NOW)
    service = catalog.update_service("scaikey", ServiceChanges(is_public=False,
                                                               description="x"), now=NOW)
    assert (service.slug, service.is_public, service.description) == ("scaikey", False, "x")


def test_public_listings_show_only_what_is_for_sale(catalog: CatalogService) -> None:
    """Inactive or private services and plans are hidden from the shop, not from admins."""
    catalog.create_plan(plan_command(), now=NOW)
    catalog.create_plan(plan_command(slug="secret", is_public=False), now=NOW)
    catalog.create_plan(plan_command(slug="old", is_active=False), now=NOW)
    catalog.create_service(NewService(slug="hidden", name="Hidden", is_public=False), now=NOW)
    shop, total = catalog.list_plans(public_only=True)
    assert [p.plan_key for p in shop] == ["scaikey.pro"] and total == 1
    assert catalog.list_plans()[1] == 3
    assert [s.slug for s in catalog.list_services(public_only=True)[0]] == ["scaikey"]
    assert catalog.list_services()[1] == 2
    with pytest.raises(NotFound):
        catalog.get_plan("scaikey.secret", public_only=True)
    with pytest.raises(NotFound):
        catalog.get_service("hidden", public_only=True)
    with pytest.raises(NotFound):
        catalog.list_plans(service="hidden", public_only=True)

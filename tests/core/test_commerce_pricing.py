"""Catalog arithmetic: MRR, billing periods, usage tiers and pack prices."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.catalog_records import (
    BillingPeriod,
    DiscountType,
    Plan,
    ServicePack,
    ServicePackItem,
    UsagePriceTier,
)
from scaicontrol_core.commerce import plan_mrr_cents, quota_limit, usage_charge_cents
from scaicontrol_core.commerce.packs import list_price_cents, pack_price_cents
from scaicontrol_core.commerce.periods import add_periods, next_period_end
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.events import monthly_recurring_cents

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MRR_FACTORS = {
    BillingPeriod.MONTHLY: Decimal(1), BillingPeriod.YEARLY: Decimal(1) / 12,
    BillingPeriod.QUARTERLY: Decimal(1) / 3, BillingPeriod.WEEKLY: Decimal(4),
    BillingPeriod.DAILY: Decimal(30), BillingPeriod.ONE_TIME: Decimal(1),
}


def make_plan(price: int, period: BillingPeriod = BillingPeriod.MONTHLY, **extra: object) -> Plan:
    return Plan(id=f"p{price}", service_id="s", slug="x", plan_key="svc.x", name="X",
                billing_period=period, base_price_cents=price, currency="EUR",
                created_at=T0, updated_at=T0, **extra)  # type: ignore[arg-type]


@given(price=st.integers(0, 10**12), quantity=st.integers(1, 1000),
       period=st.sampled_from(BillingPeriod))
def test_mrr_is_the_documented_normalisation_rounded_half_up(
    price: int, quantity: int, period: BillingPeriod
) -> None:
    """MRR equals price x quantity x the period's factor, rounded half up to a cent."""
    exact = Decimal(price * quantity) * MRR_FACTORS[period]
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert plan_mrr_cents(make_plan(price, period), quantity) == expected
    assert monthly_recurring_cents(price * quantity, period) == expected


def test_mrr_examples_from_the_contract() -> None:
    """Yearly 1200 is 100 a month, quarterly 10 rounds to 3, weekly 5 is 20, daily 2 is 60."""
    assert plan_mrr_cents(make_plan(1200, BillingPeriod.YEARLY)) == 100
    assert plan_mrr_cents(make_plan(10, BillingPeriod.QUARTERLY)) == 3
    assert plan_mrr_cents(make_plan(11, BillingPeriod.QUARTERLY)) == 4
    assert plan_mrr_cents(make_plan(5, BillingPeriod.WEEKLY)) == 20
    assert plan_mrr_cents(make_plan(2, BillingPeriod.DAILY)) == 60
    assert plan_mrr_cents(make_plan(700, BillingPeriod.ONE_TIME)) == 700


def test_a_quota_of_zero_or_missing_is_unlimited() -> None:
    """0 and absent metrics mean no limit; other values are the limit."""
    plan = make_plan(1, quotas={"users": 10, "apps": 0})
    assert quota_limit(plan, "users") == 10
    assert quota_limit(plan, "apps") is None
    assert quota_limit(plan, "storage") is None


TIERS = (
    UsagePriceTier(metric_slug="mau", tier_start=0, tier_end=1000, unit_price_cents=0,
                   unit_label="users"),
    UsagePriceTier(metric_slug="mau", tier_start=1000, tier_end=5000, unit_price_cents=3,
                   unit_label="10 users", unit_divisor=10),
    UsagePriceTier(metric_slug="mau", tier_start=5000, unit_price_cents=2, unit_label="users"),
    UsagePriceTier(metric_slug="api", tier_start=0, unit_price_cents=1, unit_label="calls"),
)


def reference_charge(used: int) -> int:
    """Unit by unit: blocks of 10 in the middle bracket, rounded up; 2 cents above 5000."""
    middle = max(0, min(used, 5000) - 1000)
    return -(-middle // 10) * 3 + max(0, used - 5000) * 2


@given(st.integers(0, 50_000))
def test_graduated_usage_charge_matches_a_unit_by_unit_reference(used: int) -> None:
    """Each bracket bills only its own units, in started blocks of its divisor."""
    assert usage_charge_cents(TIERS, "mau", used) == reference_charge(used)
    assert usage_charge_cents(TIERS, "api", used) == used
    assert usage_charge_cents(TIERS, "other", used) == 0


@given(st.integers(0, 40_000), st.integers(0, 40_000))
def test_more_usage_never_costs_less(a: int, b: int) -> None:
    """The charge grows with usage."""
    low, high = sorted((a, b))
    assert usage_charge_cents(TIERS, "mau", low) <= usage_charge_cents(TIERS, "mau", high)


def test_negative_usage_is_refused() -> None:
    """Usage is a count; below zero is a validation error."""
    with pytest.raises(ValidationError):
        usage_charge_cents(TIERS, "mau", -1)


anchors = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                       timezones=st.just(UTC))
recurring = st.sampled_from([p for p in BillingPeriod if p is not BillingPeriod.ONE_TIME])


@given(anchor=anchors, count=st.integers(0, 60))
def test_monthly_periods_keep_the_anchor_day_or_the_month_end(anchor: datetime,
                                                                count: int) -> None:
    """The n-th monthly boundary is n months on, clamped to the last day of short months."""
    end = add_periods(anchor, BillingPeriod.MONTHLY, count)
    months = anchor.month - 1 + count
    year, month = anchor.year + months // 12, months % 12 + 1
    assert (end.year, end.month) == (year, month)
    assert end.day == min(anchor.day, calendar.monthrange(year, month)[1])
    assert end.time() == anchor.time() and end.tzinfo is not None


@given(anchor=anchors, period=recurring, offset=st.integers(0, 3000))
def test_next_period_end_is_the_first_boundary_after(anchor: datetime, period: BillingPeriod,
                                                     offset: int) -> None:
    """next_period_end is a boundary of the anchor, after the given end, with none between."""
    current = anchor + timedelta(days=offset)
    found = next_period_end(anchor, period, current)
    assert found > current
    boundaries = [add_periods(anchor, period, n) for n in range(1, 4000)
                  if add_periods(anchor, period, n) > current][:1]
    assert found == boundaries[0]


def test_month_end_anchor_does_not_drift() -> None:
    """31 January renews on 28 February, 31 March, 30 April."""
    anchor = datetime(2027, 1, 31, tzinfo=UTC)
    ends = [add_periods(anchor, BillingPeriod.MONTHLY, n) for n in (1, 2, 3)]
    assert [e.date().isoformat() for e in ends] == ["2027-02-28", "2027-03-31", "2027-04-30"]
    assert next_period_end(anchor, BillingPeriod.MONTHLY, ends[0]) == ends[1]


def test_one_time_has_no_periods() -> None:
    """one_time plans have no boundaries."""
    with pytest.raises(ValidationError):
        add_periods(T0, BillingPeriod.ONE_TIME)


def pack(discount: DiscountType, percentage: Decimal | None, overrides: list[int | None],
         base: int = 999) -> ServicePack:
    items = tuple(ServicePackItem(service_id=f"s{n}", plan_id=f"p{n}", override_price_cents=o)
                  for n, o in enumerate(overrides))
    return ServicePack(id="k", slug="k", name="K", billing_period=BillingPeriod.MONTHLY,
                       base_price_cents=base, currency="EUR", discount_type=discount,
                       discount_percentage=percentage, items=items, created_at=T0,
                       updated_at=T0)


@given(prices=st.lists(st.integers(0, 10**9), min_size=1, max_size=6),
       overrides=st.lists(st.none() | st.integers(0, 10**9), min_size=6, max_size=6),
       percentage=st.decimals(0, 100, places=2))
def test_percentage_pack_price(prices: list[int], overrides: list[int | None],
                               percentage: Decimal) -> None:
    """Items (override, else plan price) summed, less the percentage, rounded half up."""
    chosen = overrides[: len(prices)]
    plans = {f"p{n}": make_plan(price) for n, price in enumerate(prices)}
    bundle = pack(DiscountType.PERCENTAGE, percentage, chosen)
    listed = sum(o if o is not None else p for o, p in zip(chosen, prices, strict=True))
    exact = Decimal(listed) * (Decimal(100) - percentage) / Decimal(100)
    assert list_price_cents(bundle, plans) == listed
    assert pack_price_cents(bundle, plans) == int(exact.quantize(Decimal(1), ROUND_HALF_UP))
    assert 0 <= pack_price_cents(bundle, plans) <= listed


def test_fixed_price_pack_bills_its_base_price() -> None:
    """A fixed_price pack costs its base price whatever the items cost."""
    plans = {"p0": make_plan(5000), "p1": make_plan(7000)}
    assert pack_price_cents(pack(DiscountType.FIXED_PRICE, None, [None, 1]), plans) == 999
    assert pack_price_cents(pack(DiscountType.PERCENTAGE, Decimal("50"), [None, 1]),
                            plans) == 2501

"""A year in the life of a subscription, played in well under a second with time travel.

Run it with ``python examples/subscription_year.py`` (add ``--database-url sqlite:///year.db``
to play it on SQLite instead of in memory). A tenant starts a 14-day trial, converts, pays
for a few months, misses a payment, is suspended by dunning, is resumed by an operator,
schedules a cancellation, changes its mind, and finally leaves. Every event the platform
would send to webhook subscribers is printed at the end, with the instant it happened.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core import ManualClock, SequentialIds
from scaicontrol_core.catalog_records import BillingPeriod
from scaicontrol_core.commerce import (
    EVERYTHING,
    CatalogService,
    LifecyclePolicy,
    NewPlan,
    NewService,
    PaymentFailure,
    Reach,
    SubscriptionService,
)
from scaicontrol_core.events import envelope_from_dict
from scaicontrol_core.identity_records import TenantBillingProfile
from scaicontrol_core.ports import Storage
from scaicontrol_core.records import Partner, Tenant
from scaicontrol_core.timetravel import advance_to

__all__ = ["main", "play_year"]

START = datetime(2026, 1, 1, tzinfo=UTC)


def day(month: int, day_of_month: int) -> datetime:
    return datetime(2026, month, day_of_month, tzinfo=UTC)


def open_storage(url: str | None) -> Storage:
    if not url:
        return MemoryStorage()
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
    from scaicontrol_core.ports import StorageConfig

    storage = SqlAlchemyStorage.from_config(StorageConfig(url=url))
    storage.migrator.upgrade()
    return storage


def setup(storage: Storage, ids: SequentialIds) -> None:
    """A partner, a tenant with a billing profile, and a plan with a 14-day trial."""
    with storage.unit_of_work(cross_tenant=True) as uow:
        uow.partners.add(Partner(id="prt_example", name="Example Partner", created_at=START,
                                 updated_at=START))
        uow.tenants.add(Tenant(id="tnt_example", partner_id="prt_example", name="Example Co",
                               created_at=START, updated_at=START))
        uow.tenant_billing_profiles.add(TenantBillingProfile(
            id="tnt_example", tenant_id="tnt_example", company_name="Example Co",
            address_line1="Main Street 1", postal_code="1011 AB", city="Amsterdam",
            country_code="NL", created_at=START, updated_at=START))
        uow.commit()
    catalog = CatalogService(storage, ids)
    catalog.create_service(NewService(slug="scaikey", name="ScaiKey"), now=START)
    catalog.create_plan(NewPlan(
        service_id="scaikey", slug="starter", name="Starter", tier="starter",
        billing_period=BillingPeriod.MONTHLY, base_price_cents=2900, currency="EUR",
        trial_days=14, quotas={"monthly_active_users": 1000}), now=START)


def play_year(storage: Storage) -> list[str]:
    """Play the year and return one line per recorded event."""
    ids, clock = SequentialIds(), ManualClock(START)
    policy = LifecyclePolicy(dunning_delay=timedelta(days=14))
    setup(storage, ids)
    subscriptions = SubscriptionService(storage, ids)

    def travel(month: int, day_of_month: int) -> None:
        advance_to(storage, clock, day(month, day_of_month), ids=ids, policy=policy)

    tenant = Reach(tenant_id="tnt_example")
    sub = subscriptions.subscribe(tenant, tenant_id="tnt_example", plan="scaikey.starter",
                                  now=clock.now())
    travel(4, 1)  # trial notices, conversion on 15 January, two renewals
    failure = PaymentFailure(amount_cents=2900, currency="EUR", failure_reason="card_expired")
    subscriptions.record_payment_failure(EVERYTHING, sub.id, failure, now=clock.now())
    travel(5, 1)  # dunning suspends it on 15 April
    subscriptions.resume(EVERYTHING, sub.id, now=clock.now())  # an operator, once paid
    travel(7, 1)
    subscriptions.cancel(tenant, sub.id, now=clock.now(), reason="budget")
    travel(7, 10)
    subscriptions.undo_cancellation(tenant, sub.id, now=clock.now())
    travel(9, 5)
    subscriptions.cancel(tenant, sub.id, now=clock.now(), reason="switching provider")
    travel(12, 31)  # the reaper ends it on 1 October

    with storage.unit_of_work(cross_tenant=True) as uow:
        messages = uow.outbox.find(kinds=["event"], limit=1000)
    lines = []
    for message in messages:
        envelope = envelope_from_dict(message.payload)
        when = envelope.occurred_at.isoformat(timespec="seconds")
        lines.append(f"{when}  {envelope.event_type.value:<28} {describe(envelope.data)}")
    return lines


def describe(data: Any) -> str:
    """A few words on what an event's payload says."""
    if hasattr(data, "change_kind"):
        return f"{data.change_kind.value} ({data.previous_state.value} -> {data.state.value})"
    if hasattr(data, "days_remaining"):
        return f"{data.days_remaining} days of trial left"
    if hasattr(data, "attempt"):
        return f"attempt {data.attempt}: {data.failure_reason}"
    if hasattr(data, "reason"):
        return f"by {data.reason.value}"
    if hasattr(data, "effective_immediately"):
        when = "at once" if data.effective_immediately else "at period end"
        return f"{when} ({data.cancellation_reason})"
    return str(getattr(data, "status", getattr(data, "state", "")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="e.g. sqlite:///year.db (default: in memory)")
    storage = open_storage(parser.parse_args().database_url)
    try:
        for line in play_year(storage):
            print(line)
    finally:
        storage.close()


if __name__ == "__main__":
    main()

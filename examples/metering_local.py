"""Usage metering with the library alone: ingest a batch twice, read the quota, rate usage.

    python examples/metering_local.py
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.demo import load_demo
from scaicontrol_core.metering.ingest import IngestPolicy, UsageReport, ingest_usage, retrying
from scaicontrol_core.metering.queries import quota_status
from scaicontrol_core.metering.rating import pricing_for, rate

__all__: list[str] = []


def main() -> None:
    now = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    storage = MemoryStorage()
    with storage.unit_of_work(cross_tenant=True) as uow:
        load_demo(uow, now=now)
        uow.commit()
    batch = [
        UsageReport(tenant_id="tnt_demo_acme", service_slug="scaikey",
                    metric_slug="monthly_active_users", quantity=1,
                    occurred_at=now - timedelta(minutes=n), idempotency_key=f"example-{n}",
                    properties={"user_id": f"example-user-{n % 4}"})
        for n in range(10)
    ]
    policy = IngestPolicy(late_window=timedelta(days=7))
    for attempt in (1, 2):  # the second post is all duplicates
        result = retrying(storage, lambda uow: ingest_usage(uow, batch, now=now, policy=policy))
        print(f"post {attempt}: accepted {result.accepted}, duplicates {result.duplicates}")
    with storage.unit_of_work(cross_tenant=True) as uow:
        quota = quota_status(uow, "tnt_demo_acme", "scaikey", "monthly_active_users", now=now)
        plan = uow.plans.require(quota.plan_id or "")
    print(f"quota: used {quota.used} of {quota.limit}, {quota.remaining} left")
    pricing = pricing_for(plan, "monthly_active_users")
    if pricing is not None:
        for used in (quota.used, 12_345):
            line = rate(used, pricing)
            print(f"{used} {line.unit_label}: {line.amount_cents} cents")


if __name__ == "__main__":
    main()

"""The metering part of the demo data set: metrics of the demo services, a service API key
with a published demo secret, and some usage of the demo tenants.

Idempotent like the rest of the demo: metrics and the key are added when missing; usage
events carry fixed idempotency keys, so loading twice counts nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from .catalog_demo import demo_id
from .metering.admin import (
    SERVICE_KEY_PERMISSIONS,
    NewMetric,
    define_metric,
    find_metric,
    hash_secret,
)
from .metering.ingest import unique_properties
from .metering.model import Aggregation, ServiceApiKey, UsageEvent
from .ports import UnitOfWork

__all__ = ["DEMO_METRICS", "DEMO_SERVICE_KEY", "DEMO_SERVICE_KEY_ID", "load_metering_demo"]

DEMO_SERVICE_KEY_ID: Final = "00000000-0000-4000-8000-00000000c0de"
_DEMO_SECRET: Final = "scaicontrol-demo-service-key-secret-not-for-production"
#: The demo key of ScaiKey, for ``X-ScaiControl-Key`` (demo data only, like its passwords).
DEMO_SERVICE_KEY: Final = f"sck_{DEMO_SERVICE_KEY_ID}.{_DEMO_SECRET}"

A = Aggregation
DEMO_METRICS: Final[tuple[NewMetric, ...]] = (
    NewMetric(service_slug="scaikey", slug="monthly_active_users", name="Monthly active users",
              unit="user", aggregation=A.UNIQUE_COUNT, unique_property="user_id"),
    NewMetric(service_slug="scaikey", slug="logins", name="Logins", unit="login",
              aggregation=A.COUNT),
    NewMetric(service_slug="scaidrive", slug="storage_gb", name="Storage in use", unit="GB",
              aggregation=A.LATEST),
    NewMetric(service_slug="scaidrive", slug="egress_mb", name="Data transfer out", unit="MB",
              aggregation=A.SUM),
    NewMetric(service_slug="scaivault", slug="secrets", name="Secrets stored", unit="secret",
              aggregation=A.MAX),
)


def _usage(now: datetime) -> list[UsageEvent]:
    """A few hours of usage before ``now`` for Acme and Initech."""
    events = []
    for hour in range(1, 7):
        at = now - timedelta(hours=hour)
        for tenant, users in (("tnt_demo_acme", 5), ("tnt_demo_initech", 2)):
            for user in range(users):
                events.append(UsageEvent(
                    tenant_id=tenant, service_slug="scaikey", metric_slug="logins",
                    quantity=1, occurred_at=at, idempotency_key=f"demo-login-{hour}-{user}",
                    properties={"user_id": f"u{user}"}, received_at=now))
                events.append(UsageEvent(
                    tenant_id=tenant, service_slug="scaikey",
                    metric_slug="monthly_active_users", quantity=1, occurred_at=at,
                    idempotency_key=f"demo-mau-{hour}-{user}",
                    properties={"user_id": f"u{user}"}, received_at=now))
        events.append(UsageEvent(
            tenant_id="tnt_demo_acme", service_slug="scaidrive", metric_slug="storage_gb",
            quantity=40 + hour, occurred_at=at, idempotency_key=f"demo-storage-{hour}",
            received_at=now))
        events.append(UsageEvent(
            tenant_id="tnt_demo_acme", service_slug="scaidrive", metric_slug="egress_mb",
            quantity=250 * hour, occurred_at=at, idempotency_key=f"demo-egress-{hour}",
            received_at=now))
    return events


def load_metering_demo(uow: UnitOfWork, *, now: datetime) -> tuple[int, int]:
    """Add missing demo metrics, the demo key and demo usage; returns (created, unchanged)."""
    created = unchanged = 0
    definitions = []
    for metric in DEMO_METRICS:
        found = find_metric(uow, metric.service_slug, metric.slug)
        if found is None:
            metric_id = demo_id(f"metric:{metric.service_slug}.{metric.slug}")
            found = define_metric(uow, metric, metric_id=metric_id, now=now)
            created += 1
        else:
            unchanged += 1
        definitions.append(found)
    if uow.service_api_keys.get(DEMO_SERVICE_KEY_ID) is None:
        uow.service_api_keys.add(ServiceApiKey(
            id=DEMO_SERVICE_KEY_ID, service_slug="scaikey", name="Demo key",
            secret_hash=hash_secret(_DEMO_SECRET), permissions=SERVICE_KEY_PERMISSIONS,
            created_by="demo", created_at=now))
        created += 1
    else:
        unchanged += 1
    events = _usage(now)
    stored = uow.metering.record(events, unique_properties=unique_properties(definitions))
    return created + len(stored), unchanged + len(events) - len(stored)

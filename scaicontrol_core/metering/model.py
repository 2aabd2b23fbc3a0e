"""Metering records and values: metric definitions, service API keys, usage events, rollups.

Quantities are non-negative integers (report fractional units in a smaller unit, such as
milliseconds or megabytes; plans convert with ``unit_divisor``). Periods are UTC calendar
days and UTC calendar months.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

import attrs

__all__ = [
    "MAX_QUANTITY",
    "Aggregation",
    "MetricDefinition",
    "PeriodType",
    "Rollup",
    "RollupKey",
    "ServiceApiKey",
    "UsageEvent",
]

#: The largest quantity one event may carry (sums stay far below 2**63).
MAX_QUANTITY: Final = 10**12


class Aggregation(enum.StrEnum):
    """How the events of a metric become one number per period."""

    SUM = "sum"  # total quantity
    COUNT = "count"  # number of events
    MAX = "max"  # largest quantity
    LATEST = "latest"  # quantity of the latest event (gauges such as storage in use)
    UNIQUE_COUNT = "unique_count"  # distinct values of one event property


class PeriodType(enum.StrEnum):
    """Rollup granularity: UTC calendar days and UTC calendar months."""

    DAILY = "daily"
    MONTHLY = "monthly"


@attrs.frozen(kw_only=True)
class MetricDefinition:
    """A metric a service reports: its slug within the service and how it aggregates.

    ``unique_property`` names the event property whose distinct values a
    ``unique_count`` metric counts (required for it, absent for the others).
    """

    id: str
    service_slug: str
    slug: str
    name: str
    unit: str
    aggregation: Aggregation
    unique_property: str | None = None
    description: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1


@attrs.frozen(kw_only=True)
class ServiceApiKey:
    """A static credential of one service (header ``X-ScaiControl-Key``).

    Only a SHA-256 hash of the secret is kept; the full key is shown once, when made.
    """

    id: str
    service_slug: str
    name: str
    secret_hash: str
    permissions: tuple[str, ...] = ()
    created_by: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None
    version: int = 1

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@attrs.frozen(kw_only=True)
class UsageEvent:
    """One usage report; ``(tenant_id, idempotency_key)`` identifies it for ever."""

    tenant_id: str
    service_slug: str
    metric_slug: str
    quantity: int
    occurred_at: datetime
    idempotency_key: str
    properties: Mapping[str, Any] = attrs.field(factory=dict)
    received_at: datetime


@attrs.frozen(order=True)
class RollupKey:
    """One rollup bucket: a tenant's metric of a service in one day or month."""

    tenant_id: str
    service_slug: str
    metric_slug: str
    period: PeriodType
    period_start: date


@attrs.frozen(kw_only=True)
class Rollup:
    """Running aggregates of one bucket, kept up to date at ingestion.

    ``latest_*`` belong to the event with the greatest ``(occurred_at, idempotency_key)``,
    so the result does not depend on the order events arrive in.
    """

    key: RollupKey
    quantity_sum: int
    event_count: int
    quantity_max: int
    latest_quantity: int
    latest_at: datetime
    latest_key: str
    unique_count: int = 0

    def value(self, aggregation: Aggregation) -> int:
        """The bucket's number for a metric aggregated with ``aggregation``."""
        match aggregation:
            case Aggregation.SUM:
                return self.quantity_sum
            case Aggregation.COUNT:
                return self.event_count
            case Aggregation.MAX:
                return self.quantity_max
            case Aggregation.LATEST:
                return self.latest_quantity
            case Aggregation.UNIQUE_COUNT:
                return self.unique_count

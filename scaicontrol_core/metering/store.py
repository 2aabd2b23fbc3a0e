"""The storage port of metering: ``uow.metering``.

Usage is tenant-scoped: in a unit of work opened for a tenant only that tenant's usage is
visible or writable; without a tenant, every method raises ``TenantScopeRequired`` unless
the unit of work was opened with ``cross_tenant=True``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

from .model import PeriodType, Rollup, UsageEvent

__all__ = ["MeteringStore"]


class MeteringStore(Protocol):
    """Raw usage events, deduplicated, and the rollups kept with them."""

    def record(
        self,
        events: Sequence[UsageEvent],
        *,
        unique_properties: Mapping[tuple[str, str], str],
    ) -> list[UsageEvent]:
        """Store every event whose ``(tenant_id, idempotency_key)`` is new and fold it into
        its daily and monthly rollups; returns the events stored, in input order.

        A key seen before (stored earlier or earlier in ``events``) is skipped, never
        counted twice. ``unique_properties`` maps ``(service_slug, metric_slug)`` of
        unique-count metrics to the property whose distinct values are counted. Raises
        ``ConcurrencyConflict`` when a concurrent transaction got in the way (retry).
        """
        ...

    def rollups(
        self,
        *,
        period: PeriodType,
        start: date,
        end: date,
        tenant_id: str | None = None,
        service_slug: str | None = None,
        metric_slug: str | None = None,
    ) -> list[Rollup]:
        """Buckets of ``period`` with ``start <= period_start < end``, ordered by key;
        ``tenant_id`` None means every tenant (cross-tenant units of work only)."""
        ...

    def distinct_count(
        self,
        *,
        tenant_id: str,
        service_slug: str,
        metric_slug: str,
        start: date,
        end: date,
    ) -> int:
        """Distinct counted values of a unique-count metric over the days
        ``start <= day < end`` (from the daily value sets, not from raw events)."""
        ...

    def events(
        self,
        *,
        tenant_id: str,
        service_slug: str | None = None,
        metric_slug: str | None = None,
        limit: int = 1000,
    ) -> list[UsageEvent]:
        """Raw events of a tenant ordered by ``(occurred_at, idempotency_key)``."""
        ...

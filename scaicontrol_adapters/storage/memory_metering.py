"""In-memory metering: usage events, rollups and distinct-value sets.

A unit of work collects the events it recorded; the commit re-checks, under the storage
lock, that no other commit stored one of their keys meanwhile (``ConcurrencyConflict``
otherwise, so the caller retries) and folds them into the rollups. Reads see committed
data plus what the unit of work itself recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from scaicontrol_core.errors import ConcurrencyConflict, TenantScopeRequired, ValidationError
from scaicontrol_core.metering.model import PeriodType, Rollup, RollupKey, UsageEvent
from scaicontrol_core.metering.rollup import bucket_deltas, merge

if TYPE_CHECKING:
    from .memory import _UnitOfWork

__all__ = ["MemoryMetering", "MeteringData"]

EventKey = tuple[str, str]


class MeteringData:
    """The committed metering state of one memory storage."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: dict[EventKey, UsageEvent] = {}
        self.rollups: dict[RollupKey, Rollup] = {}
        self.values: dict[RollupKey, set[str]] = {}

    def fold(self, events: Sequence[UsageEvent],
             unique_properties: Mapping[tuple[str, str], str]) -> None:
        """Store ``events`` (keys known to be new) and update their buckets."""
        for event in events:
            self.events[(event.tenant_id, event.idempotency_key)] = event
        for key, delta in bucket_deltas(events, unique_properties).items():
            seen = self.values.setdefault(key, set()) if delta.values else set()
            fresh = delta.values - seen
            seen |= fresh
            self.rollups[key] = merge(self.rollups.get(key), key, delta, len(fresh))

    def copy(self) -> MeteringData:
        twin = MeteringData()
        twin.events = dict(self.events)
        twin.rollups = dict(self.rollups)
        twin.values = {key: set(values) for key, values in self.values.items()}
        return twin


class MemoryMetering:
    """``uow.metering`` of the memory backend."""

    def __init__(self, uow: _UnitOfWork, data: MeteringData) -> None:
        self._uow = uow
        self._data = data
        self._pending: list[UsageEvent] = []
        self._unique: dict[tuple[str, str], str] = {}

    def _scope(self, tenant_id: str | None) -> str | None:
        self._uow.ensure_open()
        scope = self._uow.tenant_id
        if scope is None and not self._uow.cross_tenant:
            raise TenantScopeRequired("metering needs a tenant-scoped unit of work")
        if scope is not None and tenant_id is not None and tenant_id != scope:
            raise ValidationError("usage of another tenant", field="tenant_id")
        return tenant_id if tenant_id is not None else scope

    def _view(self) -> MeteringData:
        if not self._pending:
            return self._data
        with self._data.lock:
            view = self._data.copy()
        view.fold(self._pending, self._unique)
        return view

    def record(self, events: Sequence[UsageEvent], *,
               unique_properties: Mapping[tuple[str, str], str]) -> list[UsageEvent]:
        for event in events:
            self._scope(event.tenant_id)
        seen = {(e.tenant_id, e.idempotency_key) for e in self._pending}
        stored: list[UsageEvent] = []
        with self._data.lock:
            for event in events:
                key = (event.tenant_id, event.idempotency_key)
                if key in seen or key in self._data.events:
                    continue
                seen.add(key)
                stored.append(event)
        self._pending.extend(stored)
        self._unique.update(unique_properties)
        return stored

    def commit_locked(self) -> None:
        """Called by the storage while it holds its commit lock."""
        if not self._pending:
            return
        with self._data.lock:
            for event in self._pending:
                if (event.tenant_id, event.idempotency_key) in self._data.events:
                    raise ConcurrencyConflict("UsageEvent", event.idempotency_key, 0)
            self._data.fold(self._pending, self._unique)
        self.discard()

    def discard(self) -> None:
        self._pending = []
        self._unique = {}

    def rollups(self, *, period: PeriodType, start: date, end: date,
                tenant_id: str | None = None, service_slug: str | None = None,
                metric_slug: str | None = None) -> list[Rollup]:
        tenant_id = self._scope(tenant_id)
        view = self._view()
        with self._data.lock:
            found = [
                r for k, r in view.rollups.items()
                if k.period is period and start <= k.period_start < end
                and (tenant_id is None or k.tenant_id == tenant_id)
                and (service_slug is None or k.service_slug == service_slug)
                and (metric_slug is None or k.metric_slug == metric_slug)
            ]
        return sorted(found, key=lambda r: r.key)

    def distinct_count(self, *, tenant_id: str, service_slug: str, metric_slug: str,
                       start: date, end: date) -> int:
        tenant_id = self._scope(tenant_id) or tenant_id
        view = self._view()
        values: set[str] = set()
        with self._data.lock:
            for key, seen in view.values.items():
                if (key.period is PeriodType.DAILY and start <= key.period_start < end
                        and (key.tenant_id, key.service_slug, key.metric_slug)
                        == (tenant_id, service_slug, metric_slug)):
                    values |= seen
        return len(values)

    def events(self, *, tenant_id: str, service_slug: str | None = None,
               metric_slug: str | None = None, limit: int = 1000) -> list[UsageEvent]:
        tenant_id = self._scope(tenant_id) or tenant_id
        view = self._view()
        with self._data.lock:
            found = [
                e for e in view.events.values()
                if e.tenant_id == tenant_id
                and (service_slug is None or e.service_slug == service_slug)
                and (metric_slug is None or e.metric_slug == metric_slug)
            ]
        found.sort(key=lambda e: (e.occurred_at, e.idempotency_key))
        return found[:limit]

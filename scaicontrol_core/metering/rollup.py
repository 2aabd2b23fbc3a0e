"""Rollup arithmetic: which buckets an event falls into and how buckets change.

Storage adapters call :func:`bucket_deltas` with the events they actually stored (never
duplicates) and apply each delta with an upsert; :func:`merge` is that upsert in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from .model import Aggregation, PeriodType, Rollup, RollupKey, UsageEvent

__all__ = [
    "BucketDelta",
    "bucket_deltas",
    "combine",
    "merge",
    "period_bounds",
    "period_of",
    "property_value",
]


def period_of(moment: datetime, period: PeriodType) -> date:
    """The first day of the UTC day or month holding ``moment``."""
    day = moment.astimezone(UTC).date()
    return day if period is PeriodType.DAILY else day.replace(day=1)


def period_bounds(start: date, period: PeriodType) -> tuple[datetime, datetime]:
    """``[start, end)`` of the period beginning on ``start``, as UTC instants."""
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    if period is PeriodType.DAILY:
        return begin, begin + timedelta(days=1)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return begin, datetime(year, month, 1, tzinfo=UTC)


def property_value(properties: Mapping[str, Any], name: str) -> str | None:
    """The text a unique-count metric counts: a string or integer property (None if absent)."""
    value = properties.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


@attrs.define(kw_only=True)
class BucketDelta:
    """What a set of new events adds to one bucket; ``values`` are candidate distinct values."""

    quantity_sum: int = 0
    event_count: int = 0
    quantity_max: int = 0
    latest: tuple[datetime, str, int] | None = None
    values: set[str] = attrs.field(factory=set)

    def add(self, event: UsageEvent, value: str | None) -> None:
        self.quantity_sum += event.quantity
        self.event_count += 1
        self.quantity_max = max(self.quantity_max, event.quantity)
        candidate = (event.occurred_at, event.idempotency_key, event.quantity)
        if self.latest is None or candidate[:2] > self.latest[:2]:
            self.latest = candidate
        if value is not None:
            self.values.add(value)

    def absorb(self, other: BucketDelta) -> None:
        """Add what ``other`` holds (a bucket that contains ``other``'s, e.g. its month)."""
        self.quantity_sum += other.quantity_sum
        self.event_count += other.event_count
        self.quantity_max = max(self.quantity_max, other.quantity_max)
        if other.latest is not None and (self.latest is None
                                         or other.latest[:2] > self.latest[:2]):
            self.latest = other.latest
        self.values |= other.values


def bucket_deltas(
    events: Iterable[UsageEvent], unique_properties: Mapping[tuple[str, str], str]
) -> dict[RollupKey, BucketDelta]:
    """Per bucket (daily and monthly), what ``events`` add. ``unique_properties`` maps
    ``(service_slug, metric_slug)`` of unique-count metrics to the counted property."""
    # each event is added to its day once; months are summed from the days
    days: dict[tuple[str, str, str, date], BucketDelta] = {}
    for event in events:
        name = unique_properties.get((event.service_slug, event.metric_slug))
        value = property_value(event.properties, name) if name is not None else None
        day = (event.tenant_id, event.service_slug, event.metric_slug,
               period_of(event.occurred_at, PeriodType.DAILY))
        delta = days.get(day)
        if delta is None:
            delta = days[day] = BucketDelta()
        delta.add(event, value)
    deltas: dict[RollupKey, BucketDelta] = {}
    for (tenant_id, service_slug, metric_slug, first), delta in days.items():
        deltas[RollupKey(tenant_id, service_slug, metric_slug, PeriodType.DAILY, first)] = delta
        month = RollupKey(tenant_id, service_slug, metric_slug, PeriodType.MONTHLY,
                          first.replace(day=1))
        total = deltas.get(month)
        if total is None:
            total = deltas[month] = BucketDelta()
        total.absorb(delta)
    return deltas


def merge(current: Rollup | None, key: RollupKey, delta: BucketDelta, new_values: int) -> Rollup:
    """``current`` (None for a new bucket) with ``delta`` applied; ``new_values`` is how many
    of the delta's values the bucket had not seen before."""
    assert delta.latest is not None, "a delta holds at least one event"
    latest_at, latest_key, latest_quantity = delta.latest
    if current is None:
        return Rollup(key=key, quantity_sum=delta.quantity_sum, event_count=delta.event_count,
                      quantity_max=delta.quantity_max, latest_quantity=latest_quantity,
                      latest_at=latest_at, latest_key=latest_key, unique_count=new_values)
    newer = (latest_at, latest_key) > (current.latest_at, current.latest_key)
    return attrs.evolve(
        current,
        quantity_sum=current.quantity_sum + delta.quantity_sum,
        event_count=current.event_count + delta.event_count,
        quantity_max=max(current.quantity_max, delta.quantity_max),
        latest_quantity=latest_quantity if newer else current.latest_quantity,
        latest_at=latest_at if newer else current.latest_at,
        latest_key=latest_key if newer else current.latest_key,
        unique_count=current.unique_count + new_values,
    )


def combine(rollups: Iterable[Rollup], aggregation: Aggregation) -> int:
    """One number from buckets of the same metric and tenant over consecutive periods.

    Sums and counts add, maxima take the largest, latest takes the latest bucket's value.
    Unique counts of *different* periods cannot be added exactly; callers ask storage for
    the distinct values of a longer range instead (this adds them, which is exact only for
    a single bucket).
    """
    chosen = list(rollups)
    if not chosen:
        return 0
    match aggregation:
        case Aggregation.SUM:
            return sum(r.quantity_sum for r in chosen)
        case Aggregation.COUNT:
            return sum(r.event_count for r in chosen)
        case Aggregation.MAX:
            return max(r.quantity_max for r in chosen)
        case Aggregation.LATEST:
            return max(chosen, key=lambda r: (r.latest_at, r.latest_key)).latest_quantity
        case Aggregation.UNIQUE_COUNT:
            return sum(r.unique_count for r in chosen)

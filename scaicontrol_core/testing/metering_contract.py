"""What every storage backend must do for metering (``uow.metering`` and its records).

Subclass :class:`MeteringStorageContract` with a ``storage`` fixture yielding a fresh,
empty, migrated backend. Every test uses its own tenant ids, so examples never see each
other's usage. Rollups are checked against a brute-force computation over the raw events.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..errors import TenantScopeRequired, ValidationError
from ..metering.ingest import retrying
from ..metering.model import (
    Aggregation,
    MetricDefinition,
    PeriodType,
    Rollup,
    ServiceApiKey,
    UsageEvent,
)
from ..metering.rollup import period_of, property_value
from ..ports import Storage

__all__ = ["MeteringStorageContract", "brute_force"]

T0 = datetime(2026, 3, 30, 22, 0, tzinfo=UTC)
UNIQUE = {("svc", "users"): "user_id"}
_tenants = itertools.count(1)


def fresh_tenant() -> str:
    return f"tnt_metering_{next(_tenants):06d}"


def event(tenant: str, key: str, quantity: int = 1, *, at: datetime = T0,
          metric: str = "calls", user: str | None = None) -> UsageEvent:
    return UsageEvent(tenant_id=tenant, service_slug="svc", metric_slug=metric,
                      quantity=quantity, occurred_at=at, idempotency_key=key,
                      properties={"user_id": user} if user is not None else {},
                      received_at=T0)


def brute_force(events: Iterable[UsageEvent], period: PeriodType) -> dict[tuple[Any, ...], Any]:
    """Per (tenant, service, metric, period start): sum, count, max, latest, distinct values,
    computed from the events themselves (the first event of each key wins)."""
    first: dict[tuple[str, str], UsageEvent] = {}
    for e in events:
        first.setdefault((e.tenant_id, e.idempotency_key), e)
    groups: dict[tuple[Any, ...], list[UsageEvent]] = {}
    for e in first.values():
        key = (e.tenant_id, e.service_slug, e.metric_slug, period_of(e.occurred_at, period))
        groups.setdefault(key, []).append(e)
    result = {}
    for key, group in groups.items():
        latest = max(group, key=lambda e: (e.occurred_at, e.idempotency_key))
        name = UNIQUE.get((key[1], key[2]))
        values = {property_value(e.properties, name) for e in group} - {None} if name else set()
        result[key] = (sum(e.quantity for e in group), len(group),
                       max(e.quantity for e in group), latest.quantity, len(values))
    return result


def as_table(rollups: Sequence[Rollup]) -> dict[tuple[Any, ...], Any]:
    return {
        (r.key.tenant_id, r.key.service_slug, r.key.metric_slug, r.key.period_start):
        (r.quantity_sum, r.event_count, r.quantity_max, r.latest_quantity, r.unique_count)
        for r in rollups
    }


_FAR = (date(2000, 1, 1), date(2100, 1, 1))


def _rollups(storage: Storage, tenant: str, period: PeriodType) -> list[Rollup]:
    with storage.unit_of_work(tenant_id=tenant) as uow:
        return uow.metering.rollups(period=period, start=_FAR[0], end=_FAR[1])


def _record(storage: Storage, events: Sequence[UsageEvent]) -> list[UsageEvent]:
    return retrying(storage, lambda uow: uow.metering.record(events, unique_properties=UNIQUE))


class MeteringStorageContract:
    """Subclass with a ``storage`` fixture yielding an empty backend."""

    def test_new_events_are_stored_and_duplicates_skipped(self, storage: Storage) -> None:
        """Keys seen before, in storage or earlier in the batch, are skipped; order is kept."""
        tenant = fresh_tenant()
        first = _record(storage, [event(tenant, "a", 5), event(tenant, "b", 7)])
        assert [e.idempotency_key for e in first] == ["a", "b"]
        second = _record(storage, [event(tenant, "c", 1), event(tenant, "a", 99),
                                   event(tenant, "c", 50), event(tenant, "d", 2)])
        assert [e.idempotency_key for e in second] == ["c", "d"]
        with storage.unit_of_work(tenant_id=tenant) as uow:
            stored = uow.metering.events(tenant_id=tenant)
        assert {e.idempotency_key: e.quantity for e in stored} == {"a": 5, "b": 7, "c": 1, "d": 2}

    def test_same_key_in_two_tenants_is_two_events(self, storage: Storage) -> None:
        """Idempotency keys are per tenant."""
        one, two = fresh_tenant(), fresh_tenant()
        assert len(_record(storage, [event(one, "k"), event(two, "k")])) == 2

    def test_rollups_per_day_and_month(self, storage: Storage) -> None:
        """Daily and monthly buckets hold sum, count, max, latest and distinct values."""
        tenant = fresh_tenant()
        later = T0 + timedelta(hours=3)  # the next day, and the next month (April)
        _record(storage, [
            event(tenant, "1", 4, user="u1", metric="users"),
            event(tenant, "2", 9, user="u2", metric="users"),
            event(tenant, "3", 1, user="u1", metric="users", at=T0 - timedelta(days=1)),
            event(tenant, "4", 6, user="u1", metric="users", at=later),
        ])
        daily = as_table(_rollups(storage, tenant, PeriodType.DAILY))
        assert daily == {
            (tenant, "svc", "users", date(2026, 3, 29)): (1, 1, 1, 1, 1),
            (tenant, "svc", "users", date(2026, 3, 30)): (13, 2, 9, 9, 2),
            (tenant, "svc", "users", date(2026, 3, 31)): (6, 1, 6, 6, 1),
        }
        monthly = as_table(_rollups(storage, tenant, PeriodType.MONTHLY))
        assert monthly == {
            (tenant, "svc", "users", date(2026, 3, 1)): (20, 4, 9, 6, 2),
        }

    def test_latest_is_independent_of_arrival_order(self, storage: Storage) -> None:
        """The latest event wins by time, then by key, whatever the batch order."""
        tenant = fresh_tenant()
        _record(storage, [event(tenant, "b", 2, at=T0)])
        _record(storage, [event(tenant, "a", 1, at=T0), event(tenant, "z", 3,
                                                             at=T0 - timedelta(minutes=1))])
        (rollup,) = _rollups(storage, tenant, PeriodType.MONTHLY)
        assert (rollup.latest_quantity, rollup.latest_key) == (2, "b")
        assert rollup.value(Aggregation.LATEST) == 2

    def test_unique_counts_stay_exact_across_batches(self, storage: Storage) -> None:
        """A value seen in an earlier batch is not counted again; ranges count distinct days."""
        tenant = fresh_tenant()
        for batch in (["u1", "u2"], ["u2", "u3"], ["u1"]):
            _record(storage, [event(tenant, f"{tenant}-{u}-{i}-{len(batch)}", metric="users",
                                    user=u, at=T0 - timedelta(days=i))
                              for i, u in enumerate(batch)])
        (month,) = _rollups(storage, tenant, PeriodType.MONTHLY)
        assert month.unique_count == 3
        with storage.unit_of_work(tenant_id=tenant) as uow:
            count = uow.metering.distinct_count(tenant_id=tenant, service_slug="svc",
                                                metric_slug="users", start=date(2026, 3, 1),
                                                end=date(2026, 4, 1))
        assert count == 3

    def test_nothing_is_kept_without_commit(self, storage: Storage) -> None:
        """A unit of work left without commit stores no event and no rollup."""
        tenant = fresh_tenant()
        with storage.unit_of_work(cross_tenant=True) as uow:
            uow.metering.record([event(tenant, "x", 3)], unique_properties=UNIQUE)
        assert _rollups(storage, tenant, PeriodType.DAILY) == []
        assert len(_record(storage, [event(tenant, "x", 3)])) == 1

    def test_reads_are_confined_to_the_tenant(self, storage: Storage) -> None:
        """A tenant's unit of work sees only its usage; no scope at all is refused."""
        one, two = fresh_tenant(), fresh_tenant()
        _record(storage, [event(one, "k", 1), event(two, "k", 2)])
        with storage.unit_of_work(tenant_id=one) as uow:
            found = uow.metering.rollups(period=PeriodType.DAILY, start=_FAR[0], end=_FAR[1])
            assert {r.key.tenant_id for r in found} == {one}
            with pytest.raises(ValidationError):
                uow.metering.rollups(period=PeriodType.DAILY, start=_FAR[0], end=_FAR[1],
                                     tenant_id=two)
            with pytest.raises(ValidationError):
                uow.metering.record([event(two, "z")], unique_properties=UNIQUE)
        with storage.unit_of_work() as uow, pytest.raises(TenantScopeRequired):
            uow.metering.rollups(period=PeriodType.DAILY, start=_FAR[0], end=_FAR[1])

    def test_concurrent_overlapping_batches_count_each_event_once(self, storage: Storage) -> None:
        """Threads recording overlapping batches store every key once and total exactly."""
        tenant = fresh_tenant()
        keys = [f"k{i:03d}" for i in range(120)]
        batches = [keys[i:i + 40] for i in range(0, 120, 20)]  # every key in two batches
        stored: list[int] = []
        lock = threading.Lock()

        def post(batch: list[str]) -> None:
            done = _record(storage, [event(tenant, k, int(k[1:]) + 1, metric="users",
                                           user=f"u{int(k[1:]) % 7}") for k in batch])
            with lock:
                stored.append(len(done))

        threads = [threading.Thread(target=post, args=(b,)) for b in batches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(stored) == 120
        (month,) = _rollups(storage, tenant, PeriodType.MONTHLY)
        assert (month.quantity_sum, month.event_count, month.unique_count) == (
            sum(range(1, 121)), 120, 7)

    # each example uses fresh tenant ids, so sharing the storage fixture is safe
    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.differing_executors])
    @given(data=st.data())
    def test_rollups_equal_brute_force(self, storage: Storage, data: st.DataObject) -> None:
        """Any events in any batches (with repeats) roll up to the brute-force aggregates."""
        tenant = fresh_tenant()
        spec = st.tuples(st.sampled_from(["calls", "users"]), st.integers(0, 12),
                         st.integers(0, 10**6), st.integers(-3000, 3000),
                         st.sampled_from(["u1", "u2", "u3", "7"]))
        raw = data.draw(st.lists(spec, min_size=1, max_size=30))
        events = [
            event(tenant, f"key-{k}", q, metric=m, user=u if m == "users" else None,
                  at=T0 + timedelta(minutes=minutes))
            for m, k, q, minutes, u in raw
        ]
        cuts = sorted(data.draw(st.sets(st.integers(1, len(events)), max_size=4)))
        for start, end in itertools.pairwise([0, *cuts, len(events)]):
            if start < end:
                _record(storage, events[start:end])
        for period in PeriodType:
            assert as_table(_rollups(storage, tenant, period)) == brute_force(events, period)

    def test_metric_definitions_and_keys_round_trip(self, storage: Storage) -> None:
        """Metric definitions and service API keys are stored records like any other."""
        metric = MetricDefinition(id="met-1", service_slug="svc", slug="users", name="Users",
                                  unit="user", aggregation=Aggregation.UNIQUE_COUNT,
                                  unique_property="user_id", created_at=T0, updated_at=T0)
        key = ServiceApiKey(id="key-1", service_slug="svc", name="ci", secret_hash="0" * 64,
                            permissions=("registry:manage",), created_at=T0)
        with storage.unit_of_work() as uow:
            uow.metric_definitions.add(metric)
            uow.service_api_keys.add(key)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.metric_definitions.require("met-1") == metric
            assert uow.service_api_keys.require("key-1") == key
            revoked = uow.service_api_keys.update(attrs.evolve(key, revoked_at=T0))
            assert not revoked.active

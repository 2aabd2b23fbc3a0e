"""SQL metering: deduplicated batch inserts of usage events and rollup upserts.

One request's events go in as one duplicate-safe bulk insert on the
``(tenant_id, idempotency_key)`` primary key that says which events are new (see
:mod:`.metering_bulk`: ``ON CONFLICT DO NOTHING RETURNING`` on PostgreSQL and SQLite, keys
read first on MariaDB, where a key committed concurrently becomes ``ConcurrencyConflict``
and the caller retries the batch).

Rollups are upserted in the same transaction, one statement per batch, in key order (so
concurrent batches lock buckets in the same order). Distinct values of unique-count
metrics go into ``usage_distinct_values`` the same duplicate-safe way; only values that
were really new raise a bucket's ``unique_count``, which keeps it exact under concurrency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from scaicontrol_core.errors import TenantScopeRequired, ValidationError
from scaicontrol_core.metering.model import PeriodType, Rollup, RollupKey, UsageEvent
from scaicontrol_core.metering.rollup import BucketDelta, bucket_deltas

from .metering_bulk import insert_new
from .tables_metering import usage_distinct_values, usage_events, usage_rollups
from .types import MYSQL_DIALECTS

if TYPE_CHECKING:
    from .uow import SqlUnitOfWork

__all__ = ["SqlMetering"]

_BUCKET = ("tenant_id", "service_slug", "metric_slug", "period", "period_start")
_EVENT_COLUMNS = ("tenant_id", "idempotency_key", "service_slug", "metric_slug", "quantity",
                  "occurred_at", "received_at", "properties")


def _bucket_values(key: RollupKey) -> dict[str, Any]:
    return {"tenant_id": key.tenant_id, "service_slug": key.service_slug,
            "metric_slug": key.metric_slug, "period": key.period.value,
            "period_start": key.period_start}


def _key_of(row: Any) -> RollupKey:
    return RollupKey(row.tenant_id, row.service_slug, row.metric_slug, PeriodType(row.period),
                     row.period_start)


class SqlMetering:
    """``uow.metering`` of the SQL backend."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def _dialect(self) -> str:
        return self._uow.connection.dialect.name

    def _scope(self, tenant_id: str | None) -> str | None:
        self._uow.ensure_open()
        scope = self._uow.tenant_id
        if scope is None and not self._uow.cross_tenant:
            raise TenantScopeRequired("metering needs a tenant-scoped unit of work")
        if scope is not None and tenant_id is not None and tenant_id != scope:
            raise ValidationError("usage of another tenant", field="tenant_id")
        return tenant_id if tenant_id is not None else scope

    # --- writes ----------------------------------------------------------------------

    def record(self, events: Sequence[UsageEvent], *,
               unique_properties: Mapping[tuple[str, str], str]) -> list[UsageEvent]:
        for tenant_id in {event.tenant_id for event in events}:
            self._scope(tenant_id)
        unique: dict[tuple[str, str], UsageEvent] = {}
        for event in events:
            unique.setdefault((event.tenant_id, event.idempotency_key), event)
        if not unique:
            return []
        # key order, so concurrent batches wait for each other's keys in the same order
        chosen = sorted(unique.items())
        rows = [
            (e.tenant_id, e.idempotency_key, e.service_slug, e.metric_slug, e.quantity,
             e.occurred_at, e.received_at, e.properties)
            for _, e in chosen
        ]
        inserted = insert_new(self._uow.connection, usage_events, _EVENT_COLUMNS, 2, rows)
        new_keys = {chosen[i][0] for i in inserted}
        # first occurrences, in input order
        stored = [e for key, e in unique.items() if key in new_keys]
        if stored:
            self._fold(bucket_deltas(stored, unique_properties))
        return stored

    def _fold(self, deltas: Mapping[RollupKey, BucketDelta]) -> None:
        fresh_values = self._new_values(deltas)
        params = []
        for key, delta in sorted(deltas.items()):
            assert delta.latest is not None
            latest_at, latest_key, latest_quantity = delta.latest
            params.append({
                **_bucket_values(key), "quantity_sum": delta.quantity_sum,
                "event_count": delta.event_count, "quantity_max": delta.quantity_max,
                "latest_quantity": latest_quantity, "latest_at": latest_at,
                "latest_key": latest_key, "unique_count": fresh_values.get(key, 0),
            })
        self._uow.execute(self._upsert(), params)

    def _new_values(self, deltas: Mapping[RollupKey, BucketDelta]) -> dict[RollupKey, int]:
        keys: list[RollupKey] = []
        rows: list[tuple[Any, ...]] = []
        for key, delta in sorted(deltas.items()):
            for value in sorted(delta.values):
                keys.append(key)
                rows.append((key.tenant_id, key.service_slug, key.metric_slug,
                             key.period.value, key.period_start, value))
        counts: dict[RollupKey, int] = {}
        names = (*_BUCKET, "value")
        for index in insert_new(self._uow.connection, usage_distinct_values, names, 6, rows):
            counts[keys[index]] = counts.get(keys[index], 0) + 1
        return counts

    def _upsert(self) -> sa.Insert:
        t = usage_rollups
        dialect = self._dialect
        if dialect in MYSQL_DIALECTS:
            statement = mysql.insert(t)
            new = statement.inserted
            newer = sa.or_(new.latest_at > t.c.latest_at,
                           sa.and_(new.latest_at == t.c.latest_at,
                                   new.latest_key > t.c.latest_key))
            # MariaDB applies assignments left to right, later ones seeing earlier results:
            # the latest_* columns go quantity, key, then time, so each test still holds.
            return statement.on_duplicate_key_update([
                ("quantity_sum", t.c.quantity_sum + new.quantity_sum),
                ("event_count", t.c.event_count + new.event_count),
                ("quantity_max", sa.func.greatest(t.c.quantity_max, new.quantity_max)),
                ("unique_count", t.c.unique_count + new.unique_count),
                ("latest_quantity", sa.case((newer, new.latest_quantity),
                                            else_=t.c.latest_quantity)),
                ("latest_key", sa.case((newer, new.latest_key), else_=t.c.latest_key)),
                ("latest_at", sa.case((newer, new.latest_at), else_=t.c.latest_at)),
            ])
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        upsert = insert(t)
        excluded = upsert.excluded
        biggest = sa.func.greatest if dialect == "postgresql" else sa.func.max
        newer = sa.or_(excluded.latest_at > t.c.latest_at,
                       sa.and_(excluded.latest_at == t.c.latest_at,
                               excluded.latest_key > t.c.latest_key))
        return upsert.on_conflict_do_update(
            index_elements=[t.c[name] for name in _BUCKET],
            set_={
                "quantity_sum": t.c.quantity_sum + excluded.quantity_sum,
                "event_count": t.c.event_count + excluded.event_count,
                "quantity_max": biggest(t.c.quantity_max, excluded.quantity_max),
                "unique_count": t.c.unique_count + excluded.unique_count,
                "latest_quantity": sa.case((newer, excluded.latest_quantity),
                                           else_=t.c.latest_quantity),
                "latest_key": sa.case((newer, excluded.latest_key), else_=t.c.latest_key),
                "latest_at": sa.case((newer, excluded.latest_at), else_=t.c.latest_at),
            },
        )

    # --- reads -----------------------------------------------------------------------

    def _filters(self, table: sa.Table, **values: Any) -> Iterable[sa.ColumnElement[bool]]:
        return [table.c[name] == value for name, value in values.items() if value is not None]

    def rollups(self, *, period: PeriodType, start: date, end: date,
                tenant_id: str | None = None, service_slug: str | None = None,
                metric_slug: str | None = None) -> list[Rollup]:
        tenant_id = self._scope(tenant_id)
        t = usage_rollups
        query = sa.select(t).where(
            t.c.period == period.value, t.c.period_start >= start, t.c.period_start < end,
            *self._filters(t, tenant_id=tenant_id, service_slug=service_slug,
                           metric_slug=metric_slug),
        ).order_by(*[t.c[name] for name in _BUCKET])
        return [
            Rollup(key=_key_of(row), quantity_sum=row.quantity_sum,
                   event_count=row.event_count, quantity_max=row.quantity_max,
                   latest_quantity=row.latest_quantity, latest_at=row.latest_at,
                   latest_key=row.latest_key, unique_count=row.unique_count)
            for row in self._uow.execute(query)
        ]

    def distinct_count(self, *, tenant_id: str, service_slug: str, metric_slug: str,
                       start: date, end: date) -> int:
        tenant_id = self._scope(tenant_id) or tenant_id
        t = usage_distinct_values
        query = sa.select(sa.func.count(sa.distinct(t.c.value))).where(
            t.c.tenant_id == tenant_id, t.c.service_slug == service_slug,
            t.c.metric_slug == metric_slug, t.c.period == PeriodType.DAILY.value,
            t.c.period_start >= start, t.c.period_start < end,
        )
        return int(self._uow.execute(query).scalar_one())

    def events(self, *, tenant_id: str, service_slug: str | None = None,
               metric_slug: str | None = None, limit: int = 1000) -> list[UsageEvent]:
        tenant_id = self._scope(tenant_id) or tenant_id
        t = usage_events
        query = sa.select(t).where(
            *self._filters(t, tenant_id=tenant_id, service_slug=service_slug,
                           metric_slug=metric_slug),
        ).order_by(t.c.occurred_at, t.c.idempotency_key).limit(limit)
        return [
            UsageEvent(tenant_id=row.tenant_id, service_slug=row.service_slug,
                       metric_slug=row.metric_slug, quantity=row.quantity,
                       occurred_at=row.occurred_at, idempotency_key=row.idempotency_key,
                       properties=row.properties, received_at=row.received_at)
            for row in self._uow.execute(query)
        ]

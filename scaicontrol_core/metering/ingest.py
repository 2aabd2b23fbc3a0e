"""Ingestion: check a batch of usage reports as a whole, then store it deduplicated.

A batch is all or nothing: any problem (unknown tenant, service or metric, a service key
reporting for another service, an event older than the late-arrival window or from the
future, a unique-count event without its property) rejects the batch with every problem
listed by event index and field, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import attrs

from ..clock import ensure_utc
from ..errors import ConcurrencyConflict, ValidationError
from ..ports import Storage, UnitOfWork
from .model import Aggregation, MetricDefinition, UsageEvent
from .rollup import property_value

__all__ = [
    "DEFAULT_FUTURE_SKEW",
    "BatchRejected",
    "EventProblem",
    "IngestPolicy",
    "IngestResult",
    "UsageReport",
    "ingest_usage",
    "retrying",
    "unique_properties",
]

T = TypeVar("T")

#: How far ahead of the server clock an event time may be (clock skew between hosts).
DEFAULT_FUTURE_SKEW: Final = timedelta(minutes=5)


@attrs.frozen(kw_only=True)
class UsageReport:
    """One event as a service sends it; ``service_slug`` None means the key's service."""

    tenant_id: str
    service_slug: str | None
    metric_slug: str
    quantity: int
    occurred_at: datetime
    idempotency_key: str
    properties: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class IngestPolicy:
    """Accepted event times: ``[now - late_window, now + future_skew]``."""

    late_window: timedelta
    future_skew: timedelta = DEFAULT_FUTURE_SKEW


@attrs.frozen(kw_only=True)
class IngestResult:
    accepted: int
    duplicates: int


@attrs.frozen
class EventProblem:
    """Why event ``index`` was refused; ``field`` is a path inside the event."""

    index: int
    field: tuple[str, ...]
    message: str


class BatchRejected(ValidationError):
    """The batch was refused as a whole; ``problems`` lists every reason found."""

    def __init__(self, problems: Sequence[EventProblem]) -> None:
        first = problems[0]
        super().__init__(f"event {first.index}: {first.message}", field=".".join(first.field))
        self.problems = tuple(problems)


def unique_properties(definitions: Sequence[MetricDefinition]) -> dict[tuple[str, str], str]:
    """``(service_slug, metric_slug) -> property`` of the unique-count metrics."""
    return {
        (d.service_slug, d.slug): d.unique_property
        for d in definitions
        if d.aggregation is Aggregation.UNIQUE_COUNT and d.unique_property
    }


def _check(
    uow: UnitOfWork,
    reports: Sequence[UsageReport],
    *,
    now: datetime,
    policy: IngestPolicy,
    service_slug: str | None,
) -> tuple[list[EventProblem], dict[tuple[str, str], MetricDefinition]]:
    problems: list[EventProblem] = []
    tenant_ids = sorted({r.tenant_id for r in reports})
    slugs = sorted({r.service_slug or service_slug or "" for r in reports} - {""})
    known_tenants = {t.id for t in uow.tenants.find({"id": tenant_ids})} if tenant_ids else set()
    known_services = {s.slug for s in uow.services.find({"slug": slugs})} if slugs else set()
    definitions: dict[tuple[str, str], MetricDefinition] = {
        (d.service_slug, d.slug): d
        for d in (uow.metric_definitions.find({"service_slug": slugs}) if slugs else ())
    }
    oldest, newest = now - policy.late_window, now + policy.future_skew
    for index, report in enumerate(reports):
        def problem(name: str, message: str, index: int = index) -> None:
            problems.append(EventProblem(index, (name,), message))

        service = report.service_slug or service_slug
        if report.tenant_id not in known_tenants:
            problem("tenant_id", f"unknown tenant '{report.tenant_id}'")
        if service is None:
            problem("service_slug", "service_slug is required with a bearer token")
        elif service_slug is not None and service != service_slug:
            problem("service_slug", f"this API key reports usage for '{service_slug}' only")
        elif service not in known_services:
            problem("service_slug", f"unknown service '{service}'")
        elif (service, report.metric_slug) not in definitions:
            problem("metric_slug", f"service '{service}' has no metric '{report.metric_slug}'")
        else:
            definition = definitions[(service, report.metric_slug)]
            name = definition.unique_property
            if (definition.aggregation is Aggregation.UNIQUE_COUNT and name is not None
                    and property_value(report.properties, name) is None):
                problems.append(EventProblem(index, ("properties", name), (
                    f"metric '{report.metric_slug}' counts distinct values of property "
                    f"'{name}': give it as a string or an integer")))
        occurred = ensure_utc(report.occurred_at)
        if occurred < oldest:
            problem("occurred_at", f"event is older than the late-arrival window "
                    f"({int(policy.late_window.total_seconds())} s): events since "
                    f"{oldest.isoformat()} are accepted")
        elif occurred > newest:
            problem("occurred_at", "event time is in the future")
    return problems, definitions


def ingest_usage(
    uow: UnitOfWork,
    reports: Sequence[UsageReport],
    *,
    now: datetime,
    policy: IngestPolicy,
    service_slug: str | None = None,
) -> IngestResult:
    """Check and store a batch; the caller commits (and retries on ``ConcurrencyConflict``).

    ``service_slug`` is the reporting service when the caller authenticated with a
    service API key: every event must belong to it (and may leave its slug out).
    Raises :class:`BatchRejected` with every problem found; nothing is stored then.
    """
    if not reports:
        return IngestResult(accepted=0, duplicates=0)
    problems, definitions = _check(uow, reports, now=now, policy=policy,
                                   service_slug=service_slug)
    if problems:
        raise BatchRejected(problems)
    events = [
        UsageEvent(
            tenant_id=r.tenant_id,
            service_slug=r.service_slug or service_slug or "",
            metric_slug=r.metric_slug,
            quantity=r.quantity,
            occurred_at=ensure_utc(r.occurred_at),
            idempotency_key=r.idempotency_key,
            properties=dict(r.properties),
            received_at=now,
        )
        for r in reports
    ]
    stored = uow.metering.record(events, unique_properties=unique_properties(
        list(definitions.values())))
    return IngestResult(accepted=len(stored), duplicates=len(events) - len(stored))


def retrying(storage: Storage, work: Callable[[UnitOfWork], T], *, attempts: int = 8) -> T:
    """Run ``work`` in a cross-tenant unit of work and commit, starting over (up to
    ``attempts`` times) when a concurrent transaction got in the way."""
    for attempt in range(1, attempts + 1):
        try:
            with storage.unit_of_work(cross_tenant=True) as uow:
                result = work(uow)
                uow.commit()
                return result
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")

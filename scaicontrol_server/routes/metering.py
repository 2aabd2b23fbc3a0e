"""Usage metering: ingestion, the internal quota check, and a tenant's own usage.

``POST /metering/events`` and ``GET /internal/quotas/...`` are service-to-platform calls
(``registry:manage``, with a bearer service token or ``X-ScaiControl-Key``). The
``/usage/...`` endpoints answer for the caller's own tenant only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs
from aiohttp import web

from scaicontrol_core.access import Principal
from scaicontrol_core.errors import NotFound, PermissionDenied, ValidationError
from scaicontrol_core.metering.ingest import (
    BatchRejected,
    IngestPolicy,
    IngestResult,
    UsageReport,
    ingest_usage,
    retrying,
)
from scaicontrol_core.metering.model import MAX_QUANTITY, PeriodType
from scaicontrol_core.metering.queries import (
    QuotaStatus,
    ServiceUsage,
    UsagePoint,
    UsageSummary,
    quota_status,
    tenant_quotas,
    usage_history,
    usage_summary,
)

from ..api import AUTHENTICATED, Call, Endpoint, ResponseKind
from ..envelopes import ValidationErrorItem, json_response, meta_for, validation_response
from ..fields import field
from ..service_keys import key_service
from ._common import own_tenant_id, principal_of
from ._metering_batch import KEY_MAX, MAX_BATCH, SLUG, TENANT_ID_MAX, ReportBatch, parse_usage_batch

__all__ = [
    "ENDPOINTS",
    "MAX_BATCH",
    "UsageEventIn",
    "UsageEventsRequest",
    "UsageIngestResponse",
    "usage_reports",
]

TAG = "metering"
SERVICE_SCOPE = "registry:manage"
_MAX_HISTORY = {PeriodType.DAILY: 400, PeriodType.MONTHLY: 120}


@attrs.frozen(kw_only=True)
class UsageEventIn:
    tenant_id: str = field(min_length=1, max_length=TENANT_ID_MAX,
                           description="The tenant that used it.")
    metric_slug: str = field(pattern=SLUG, description="A metric defined for the service.")
    quantity: int = field(ge=0, le=MAX_QUANTITY, description="Whole units, at least 0.")
    occurred_at: datetime = attrs.field(metadata={"description": "RFC 3339 with offset."})
    idempotency_key: str = field(min_length=1, max_length=KEY_MAX,
                                 description="Unique per tenant; a repeat is a duplicate.")
    service_slug: str | None = field(default=None, pattern=SLUG,
                                     description="Required with a bearer token; optional "
                                                 "with an API key (the key's service).")
    properties: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class UsageEventsRequest:
    events: list[UsageEventIn] = field(  # noqa: RUF009
        min_length=1, max_length=MAX_BATCH, description="1 to 1000 events, stored all or none.")


@attrs.frozen(kw_only=True)
class UsageIngestResponse:
    received: int
    accepted: int
    duplicates: int


@attrs.frozen(kw_only=True)
class IngestEnvelope:
    data: UsageIngestResponse
    meta: dict[str, str]


@attrs.frozen(kw_only=True)
class QuotaPath:
    tenant_id: str = field(max_length=64)
    service_slug: str = field(max_length=63)
    metric_slug: str = field(max_length=63)


@attrs.frozen(kw_only=True)
class ServicePath:
    slug: str = field(max_length=63, description="Service slug.")


@attrs.frozen(kw_only=True)
class PeriodQuery:
    period_type: PeriodType = field(default=PeriodType.MONTHLY,  # noqa: RUF009
                                    description="daily or monthly (the current one).")


@attrs.frozen(kw_only=True)
class HistoryQuery:
    period_type: PeriodType = field(default=PeriodType.MONTHLY)  # noqa: RUF009
    start: date | None = field(  # noqa: RUF009
        default=None, description="First day (default: 12 periods back).")
    end: date | None = field(  # noqa: RUF009
        default=None, description="Day after the last (default: tomorrow).")
    service_slug: str | None = field(default=None, max_length=63)
    metric_slug: str | None = field(default=None, max_length=63)


def _policy(call: Call[Any, Any, Any]) -> IngestPolicy:
    return IngestPolicy(late_window=timedelta(
        seconds=max(60, call.settings.metering_late_arrival_seconds)))


def usage_reports(body: UsageEventsRequest | ReportBatch) -> Sequence[UsageReport]:
    """The core reports of a validated body, from either validation path."""
    if isinstance(body, ReportBatch):  # the fast path already built them
        return body.reports
    return [
        UsageReport(tenant_id=e.tenant_id, service_slug=e.service_slug,
                    metric_slug=e.metric_slug, quantity=e.quantity, occurred_at=e.occurred_at,
                    idempotency_key=e.idempotency_key, properties=e.properties)
        for e in body.events
    ]


async def post_usage_events(
    call: Call[UsageEventsRequest | ReportBatch, None, None],
) -> web.StreamResponse:
    """Report a batch of usage events (202). A repeated ``(tenant_id, idempotency_key)`` is
    accepted but counted once; any invalid event rejects the whole batch (422 naming its
    index and field) and nothing is stored."""
    principal = principal_of(call)
    if not (principal.is_service or principal.is_super_admin):
        raise PermissionDenied("usage is reported by services")
    reports = usage_reports(call.body)
    now, policy, service = call.now(), _policy(call), key_service(call.request)
    try:
        result: IngestResult = await call.run(
            retrying, call.storage,
            lambda uow: ingest_usage(uow, reports, now=now, policy=policy,
                                     service_slug=service))
    except BatchRejected as rejected:
        return validation_response([
            ValidationErrorItem(loc=["body", "events", p.index, *p.field], msg=p.message,
                                type="value_error")
            for p in rejected.problems
        ])
    data = {"received": len(reports), "accepted": result.accepted,
            "duplicates": result.duplicates}
    return json_response({"data": data, "meta": meta_for(call.request_id, now)}, status=202)


async def get_quota(call: Call[None, None, QuotaPath]) -> QuotaStatus:
    """A tenant's limit, use and remainder of one metric in the current month, from the plan
    of its current subscription to the service (``limit`` null: unlimited)."""
    path, now = call.path, call.now()

    def read() -> QuotaStatus:
        with call.storage.unit_of_work(cross_tenant=True) as uow:
            return quota_status(uow, path.tenant_id, path.service_slug, path.metric_slug,
                                now=now)

    return await call.run(read)


def _own(call: Call[Any, Any, Any]) -> str:
    principal: Principal = principal_of(call)
    return own_tenant_id(principal)


async def get_usage_summary(call: Call[None, PeriodQuery, None]) -> UsageSummary:
    """The caller's tenant's usage in the current month (or day), per service and metric."""
    tenant_id, now = _own(call), call.now()

    def read() -> UsageSummary:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            return usage_summary(uow, tenant_id, now=now, period=call.query.period_type)

    return await call.run(read)


async def get_usage_by_service(call: Call[None, PeriodQuery, ServicePath]) -> ServiceUsage:
    """Every metric of one service for the caller's tenant in the current period (zero when
    unused), with quota limits from the current plan."""
    tenant_id, now = _own(call), call.now()

    def read() -> ServiceUsage:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            if not uow.services.find({"slug": call.path.slug}):
                raise NotFound("Service", call.path.slug)
            summary = usage_summary(uow, tenant_id, now=now, period=call.query.period_type,
                                    service_slug=call.path.slug)
        return next(s for s in summary.services if s.service_slug == call.path.slug)

    return await call.run(read)


async def get_usage_history(call: Call[None, HistoryQuery, None]) -> list[UsagePoint]:
    """Usage per past day or month, oldest first (at most 400 days or 120 months)."""
    tenant_id, now, query = _own(call), call.now(), call.query
    end = query.end or (now.date() + timedelta(days=1))
    back = 12 * (31 if query.period_type is PeriodType.MONTHLY else 1)
    start = query.start or (end - timedelta(days=back))
    if start >= end:
        raise ValidationError("start must be before end", field="start")
    span = (end - start).days if query.period_type is PeriodType.DAILY else (
        (end.year - start.year) * 12 + end.month - start.month)
    if span > _MAX_HISTORY[query.period_type]:
        raise ValidationError("the range is too long (at most 400 days or 120 months)",
                              field="start")

    def read() -> list[UsagePoint]:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            return usage_history(uow, tenant_id, period=query.period_type, start=start,
                                 end=end, service_slug=query.service_slug,
                                 metric_slug=query.metric_slug)

    return await call.run(read)


async def get_usage_quotas(call: Call[None, None, None]) -> list[QuotaStatus]:
    """Quota status of every metric of every service the caller's tenant subscribes to."""
    tenant_id, now = _own(call), call.now()

    def read() -> list[QuotaStatus]:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            return tenant_quotas(uow, tenant_id, now=now)

    return await call.run(read)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="POST", path="/metering/events", handler=post_usage_events,
             access=SERVICE_SCOPE, tag=TAG, kind=ResponseKind.RAW, status=202,
             body_schema=UsageEventsRequest, body_parser=parse_usage_batch,
             response_schema=IngestEnvelope,
             summary="Post Usage Events", errors={401, 403, 422}),
    Endpoint(method="GET", path="/internal/quotas/{tenant_id}/{service_slug}/{metric_slug}",
             handler=get_quota, access=SERVICE_SCOPE, tag=TAG, path_schema=QuotaPath,
             response_schema=QuotaStatus, summary="Check Quota", errors={401, 403, 404}),
    Endpoint(method="GET", path="/usage/summary", handler=get_usage_summary,
             access=AUTHENTICATED, tag=TAG, query_schema=PeriodQuery,
             response_schema=UsageSummary, summary="Usage Summary", errors={401, 403}),
    Endpoint(method="GET", path="/usage/by-service/{slug}", handler=get_usage_by_service,
             access=AUTHENTICATED, tag=TAG, query_schema=PeriodQuery, path_schema=ServicePath,
             response_schema=ServiceUsage, summary="Usage By Service",
             errors={401, 403, 404}),
    Endpoint(method="GET", path="/usage/history", handler=get_usage_history,
             access=AUTHENTICATED, tag=TAG, kind=ResponseKind.LIST, query_schema=HistoryQuery,
             response_schema=UsagePoint, summary="Usage History", errors={401, 403}),
    Endpoint(method="GET", path="/usage/quotas", handler=get_usage_quotas,
             access=AUTHENTICATED, tag=TAG, kind=ResponseKind.LIST,
             response_schema=QuotaStatus, summary="Usage Quotas", errors={401, 403}),
)

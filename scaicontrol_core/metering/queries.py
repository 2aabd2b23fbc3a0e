"""Usage read from rollups (never from raw events): summaries, history, quotas.

"Current period" is the UTC calendar month (``monthly``, the default) or UTC day
(``daily``) holding ``now``. Quota limits come from the plan of the tenant's current
subscription to the service; a limit of 0 or a metric missing from ``plans.quotas`` means
unlimited (``limit`` None).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

import attrs

from ..catalog_records import Plan, Subscription, SubscriptionStatus
from ..errors import NotFound
from ..ports import UnitOfWork
from .model import Aggregation, MetricDefinition, PeriodType, Rollup
from .rollup import combine, period_bounds, period_of

__all__ = [
    "CURRENT_STATUSES",
    "MetricUsage",
    "PlatformMetric",
    "PlatformService",
    "PlatformUsage",
    "QuotaStatus",
    "ServiceUsage",
    "UsagePoint",
    "UsageSummary",
    "current_plan",
    "current_plans",
    "platform_usage",
    "quota_status",
    "tenant_quotas",
    "usage_history",
    "usage_summary",
]

#: Subscription states whose plan sets the quotas.
CURRENT_STATUSES = (
    SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.CANCELLING, SubscriptionStatus.SUSPENDED,
)


@attrs.frozen(kw_only=True)
class MetricUsage:
    metric_slug: str
    name: str
    unit: str
    aggregation: Aggregation
    value: int
    event_count: int
    limit: int | None
    remaining: int | None


@attrs.frozen(kw_only=True)
class ServiceUsage:
    service_slug: str
    plan_key: str | None
    metrics: list[MetricUsage]


@attrs.frozen(kw_only=True)
class UsageSummary:
    tenant_id: str
    period_type: PeriodType
    period_start: datetime
    period_end: datetime
    services: list[ServiceUsage]


@attrs.frozen(kw_only=True)
class UsagePoint:
    service_slug: str
    metric_slug: str
    period_start: datetime
    period_end: datetime
    value: int
    event_count: int


@attrs.frozen(kw_only=True)
class QuotaStatus:
    tenant_id: str
    service_slug: str
    metric_slug: str
    plan_id: str | None
    plan_key: str | None
    limit: int | None
    used: int
    remaining: int | None
    exceeded: bool
    period_start: datetime
    period_end: datetime


@attrs.frozen(kw_only=True)
class PlatformMetric:
    metric_slug: str
    aggregation: Aggregation
    value: int
    event_count: int


@attrs.frozen(kw_only=True)
class PlatformService:
    service_slug: str
    active_tenants: int
    metrics: list[PlatformMetric]


@attrs.frozen(kw_only=True)
class PlatformUsage:
    period_type: PeriodType
    period_start: datetime
    period_end: datetime
    tenant_count: int
    services: list[PlatformService]


def _window(now: datetime, period: PeriodType) -> tuple[date, date, datetime, datetime]:
    first = period_of(now, period)
    begin, end = period_bounds(first, period)
    return first, end.date(), begin, end


def current_plan(uow: UnitOfWork, tenant_id: str, service_slug: str) -> Plan | None:
    """The plan of the tenant's latest current subscription to the service, if any."""
    return current_plans(uow, tenant_id, [service_slug])[service_slug]


def current_plans(uow: UnitOfWork, tenant_id: str,
                  service_slugs: Iterable[str]) -> dict[str, Plan | None]:
    """:func:`current_plan` of several services, in three queries whatever their number."""
    slugs = sorted(set(service_slugs))
    plans: dict[str, Plan | None] = dict.fromkeys(slugs)
    services = {s.id: s.slug for s in uow.services.find({"slug": slugs})} if slugs else {}
    if not services:
        return plans
    latest: dict[str, Subscription] = {}
    for subscription in uow.subscriptions.find(
            {"tenant_id": tenant_id, "service_id": sorted(services),
             "status": list(CURRENT_STATUSES)}, order_by=("-updated_at", "id")):
        latest.setdefault(services[subscription.service_id], subscription)
    plan_ids = sorted({s.plan_id for s in latest.values()})
    found = {p.id: p for p in uow.plans.find({"id": plan_ids})} if plan_ids else {}
    for slug, subscription in latest.items():
        plans[slug] = found.get(subscription.plan_id)
    return plans


def _limit(plan: Plan | None, metric: str) -> int | None:
    return (plan.quotas.get(metric, 0) or None) if plan is not None else None


def _definitions(
    uow: UnitOfWork, services: Iterable[str]
) -> dict[tuple[str, str], MetricDefinition]:
    slugs = sorted(set(services))
    if not slugs:
        return {}
    return {(d.service_slug, d.slug): d
            for d in uow.metric_definitions.find({"service_slug": slugs})}


def _metric_usage(definition: MetricDefinition, rollup: Rollup | None,
                  limit: int | None) -> MetricUsage:
    value = rollup.value(definition.aggregation) if rollup is not None else 0
    return MetricUsage(
        metric_slug=definition.slug, name=definition.name, unit=definition.unit,
        aggregation=definition.aggregation, value=value,
        event_count=rollup.event_count if rollup is not None else 0,
        limit=limit, remaining=None if limit is None else max(0, limit - value),
    )


def usage_summary(uow: UnitOfWork, tenant_id: str, *, now: datetime,
                  period: PeriodType = PeriodType.MONTHLY,
                  service_slug: str | None = None) -> UsageSummary:
    """A tenant's usage of the current period: every metric it reported, plus every metric
    of ``service_slug`` when given (zero when unused)."""
    first, after, begin, end = _window(now, period)
    rollups = {(r.key.service_slug, r.key.metric_slug): r for r in uow.metering.rollups(
        period=period, start=first, end=after, tenant_id=tenant_id, service_slug=service_slug)}
    wanted = {s for s, _ in rollups} | ({service_slug} if service_slug else set())
    definitions = _definitions(uow, wanted)
    plans = current_plans(uow, tenant_id, wanted)
    services = []
    for slug in sorted(wanted):
        plan = plans[slug]
        metrics = [
            _metric_usage(d, rollups.get(key), _limit(plan, d.slug))
            for key, d in sorted(definitions.items())
            if key[0] == slug and (key in rollups or slug == service_slug)
        ]
        services.append(ServiceUsage(service_slug=slug,
                                     plan_key=plan.plan_key if plan else None, metrics=metrics))
    return UsageSummary(tenant_id=tenant_id, period_type=period, period_start=begin,
                        period_end=end, services=services)


def quota_status(uow: UnitOfWork, tenant_id: str, service_slug: str, metric_slug: str, *,
                 now: datetime) -> QuotaStatus:
    """Limit, use and what remains of one metric this month. Raises NotFound for an unknown
    tenant, service or metric."""
    if uow.tenants.get(tenant_id) is None:
        raise NotFound("Tenant", tenant_id)
    definition = _definitions(uow, [service_slug]).get((service_slug, metric_slug))
    if not uow.services.find({"slug": service_slug}):
        raise NotFound("Service", service_slug)
    if definition is None:
        raise NotFound("Metric", f"{service_slug}/{metric_slug}")
    first, after, _, _ = _window(now, PeriodType.MONTHLY)
    rollups = uow.metering.rollups(period=PeriodType.MONTHLY, start=first, end=after,
                                   tenant_id=tenant_id, service_slug=definition.service_slug,
                                   metric_slug=definition.slug)
    return _quota(tenant_id, definition, current_plan(uow, tenant_id, service_slug),
                  rollups[0] if rollups else None, now)


def _quota(tenant_id: str, definition: MetricDefinition, plan: Plan | None,
           rollup: Rollup | None, now: datetime) -> QuotaStatus:
    _, _, begin, end = _window(now, PeriodType.MONTHLY)
    used = rollup.value(definition.aggregation) if rollup is not None else 0
    limit = _limit(plan, definition.slug)
    return QuotaStatus(
        tenant_id=tenant_id, service_slug=definition.service_slug,
        metric_slug=definition.slug, plan_id=plan.id if plan else None,
        plan_key=plan.plan_key if plan else None, limit=limit, used=used,
        remaining=None if limit is None else max(0, limit - used),
        exceeded=limit is not None and used > limit, period_start=begin, period_end=end,
    )


def tenant_quotas(uow: UnitOfWork, tenant_id: str, *, now: datetime) -> list[QuotaStatus]:
    """Quota status of every metric of every service the tenant currently subscribes to."""
    subscriptions: Sequence[Subscription] = uow.subscriptions.find(
        {"tenant_id": tenant_id, "status": list(CURRENT_STATUSES)})
    service_ids = sorted({s.service_id for s in subscriptions})
    slugs = [s.slug for s in uow.services.find({"id": service_ids})] if service_ids else []
    definitions = _definitions(uow, slugs)
    if not definitions:
        return []
    plans = current_plans(uow, tenant_id, slugs)
    first, after, _, _ = _window(now, PeriodType.MONTHLY)
    rollups = {(r.key.service_slug, r.key.metric_slug): r for r in uow.metering.rollups(
        period=PeriodType.MONTHLY, start=first, end=after, tenant_id=tenant_id)}
    return [_quota(tenant_id, definition, plans[key[0]], rollups.get(key), now)
            for key, definition in sorted(definitions.items())]


def usage_history(uow: UnitOfWork, tenant_id: str, *, period: PeriodType, start: date,
                  end: date, service_slug: str | None = None,
                  metric_slug: str | None = None) -> list[UsagePoint]:
    """One point per bucket with usage in ``[start, end)``, oldest first."""
    rollups = uow.metering.rollups(period=period, start=period_of_date(start, period),
                                   end=end, tenant_id=tenant_id, service_slug=service_slug,
                                   metric_slug=metric_slug)
    definitions = _definitions(uow, {r.key.service_slug for r in rollups})
    points = []
    for rollup in sorted(rollups, key=lambda r: (r.key.period_start, r.key.service_slug,
                                                  r.key.metric_slug)):
        definition = definitions.get((rollup.key.service_slug, rollup.key.metric_slug))
        aggregation = definition.aggregation if definition else Aggregation.SUM
        begin, finish = period_bounds(rollup.key.period_start, period)
        points.append(UsagePoint(
            service_slug=rollup.key.service_slug, metric_slug=rollup.key.metric_slug,
            period_start=begin, period_end=finish, value=rollup.value(aggregation),
            event_count=rollup.event_count))
    return points


def period_of_date(day: date, period: PeriodType) -> date:
    return day if period is PeriodType.DAILY else day.replace(day=1)


def platform_usage(uow: UnitOfWork, *, now: datetime, period: PeriodType = PeriodType.MONTHLY,
                   tenant_ids: frozenset[str] | None = None) -> PlatformUsage:
    """Totals per service and metric over every tenant (or only ``tenant_ids``) in the
    current period: per-tenant values added up (maxima take the largest), plus how many
    distinct tenants reported usage of each service."""
    first, after, begin, end = _window(now, period)
    rollups = [r for r in uow.metering.rollups(period=period, start=first, end=after)
               if tenant_ids is None or r.key.tenant_id in tenant_ids]
    definitions = _definitions(uow, {r.key.service_slug for r in rollups})
    by_service: dict[str, dict[str, list[Rollup]]] = {}
    for rollup in rollups:
        by_service.setdefault(rollup.key.service_slug, {}).setdefault(
            rollup.key.metric_slug, []).append(rollup)
    services = []
    for slug, metrics in sorted(by_service.items()):
        tenants = {r.key.tenant_id for group in metrics.values() for r in group}
        rows = []
        for metric, group in sorted(metrics.items()):
            definition = definitions.get((slug, metric))
            aggregation = definition.aggregation if definition else Aggregation.SUM
            value = (combine(group, aggregation) if aggregation is Aggregation.MAX
                     else sum(r.value(aggregation) for r in group))
            rows.append(PlatformMetric(metric_slug=metric, aggregation=aggregation,
                                       value=value, event_count=sum(r.event_count for r in group)))
        services.append(PlatformService(service_slug=slug, active_tenants=len(tenants),
                                        metrics=rows))
    return PlatformUsage(period_type=period, period_start=begin, period_end=end,
                         tenant_count=len({r.key.tenant_id for r in rollups}),
                         services=services)

"""Operators and partners read usage across tenants: ``/api/v1/admin/usage/...``.

Needs ``admin:usage``. A partner admin sees only its own tenants: the aggregate counts
only them, and another partner's tenant answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

import attrs

from scaicontrol_core.metering.queries import (
    PlatformUsage,
    UsageSummary,
    platform_usage,
    usage_summary,
)

from ..api import Call, Endpoint
from ..fields import field
from ._common import principal_of, reachable_tenant, tenant_reach
from .metering import PeriodQuery

__all__ = ["ENDPOINTS", "TenantUsagePath"]

TAG = "admin-usage"
SCOPE = "admin:usage"


@attrs.frozen(kw_only=True)
class TenantUsagePath:
    tenant_id: str = field(max_length=64, description="Tenant id.")


async def admin_aggregate_usage(call: Call[None, PeriodQuery, None]) -> PlatformUsage:
    """Totals per service and metric over every tenant in reach for the current month (or
    day), with the number of distinct tenants that used each service."""
    principal, now = principal_of(call), call.now()

    def read() -> PlatformUsage:
        with call.storage.unit_of_work(cross_tenant=True) as uow:
            reach = tenant_reach(uow, principal)
            return platform_usage(uow, now=now, period=call.query.period_type,
                                  tenant_ids=None if reach is None else frozenset(reach))

    return await call.run(read)


async def admin_tenant_usage(call: Call[None, PeriodQuery, TenantUsagePath]) -> UsageSummary:
    """One tenant's usage in the current month (or day), like its own ``/usage/summary``."""
    principal, now = principal_of(call), call.now()

    def read() -> UsageSummary:
        with call.storage.unit_of_work(cross_tenant=True) as uow:
            tenant = reachable_tenant(uow, principal, call.path.tenant_id)
            return usage_summary(uow, tenant.id, now=now, period=call.query.period_type)

    return await call.run(read)


def _endpoints() -> tuple[Endpoint, ...]:
    common: dict[str, Any] = {"access": SCOPE, "tag": TAG, "query_schema": PeriodQuery}
    return (
        Endpoint(method="GET", path="/admin/usage/aggregate", handler=admin_aggregate_usage,
                 response_schema=PlatformUsage, summary="Admin Aggregate Usage",
                 errors={401, 403}, **common),
        Endpoint(method="GET", path="/admin/usage/tenant/{tenant_id}",
                 handler=admin_tenant_usage, path_schema=TenantUsagePath,
                 response_schema=UsageSummary, summary="Admin Tenant Usage",
                 errors={401, 403, 404}, **common),
    )


ENDPOINTS: tuple[Endpoint, ...] = _endpoints()

"""The shop window: ``/api/v1/catalog/...`` (tag ``catalog``).

``GET /catalog/services`` answers without credentials, as the contract documents; the
other three need ``services:read``. Only active, public services and plans are shown;
anything else reads as missing.
"""

from __future__ import annotations

from typing import Any

import attrs

from scaicontrol_core.catalog_records import Plan

from ..api import PUBLIC, Call, Endpoint, Page, ResponseKind
from ..fields import field
from ._commerce import catalog_service
from ._commerce_views import (
    CatalogPlanResponse,
    CatalogServiceResponse,
    catalog_plan_view,
    catalog_service_view,
)

__all__ = ["ENDPOINTS", "PlanPath", "ServicePath"]

TAG = "catalog"
SCOPE = "services:read"


@attrs.frozen(kw_only=True)
class ServicePath:
    service: str = field(max_length=64, description="Service slug (or id).")


@attrs.frozen(kw_only=True)
class PlanPath:
    plan: str = field(max_length=128, description="Plan id, or its plan key such as "
                                                   "scaikey.starter.")


def _public_plans(call: Call[Any, Any, Any]) -> list[Plan]:
    plans, _ = catalog_service(call).list_plans(public_only=True)
    return plans


async def list_catalog_services(call: Call[None, None, None]) -> Page[CatalogServiceResponse]:
    """Services for sale, each with its plans for sale (no credentials needed)."""
    service = catalog_service(call)
    services, total = await call.run(service.list_services, public_only=True,
                                     offset=call.page.offset, limit=call.page.limit)
    plans = await call.run(_public_plans, call)
    return Page(items=[catalog_service_view(s, plans) for s in services], total=total)


async def get_catalog_service(call: Call[None, None, ServicePath]) -> CatalogServiceResponse:
    """One service for sale with its plans."""
    service = catalog_service(call)
    found = await call.run(service.get_service, call.path.service, public_only=True)
    plans, _ = await call.run(service.list_plans, service=found.id, public_only=True)
    return catalog_service_view(found, plans)


async def list_catalog_service_plans(
    call: Call[None, None, ServicePath],
) -> list[CatalogPlanResponse]:
    """The plans a service sells, in display order."""
    plans, _ = await call.run(catalog_service(call).list_plans, service=call.path.service,
                              public_only=True)
    return [catalog_plan_view(plan) for plan in plans]


async def get_catalog_plan(call: Call[None, None, PlanPath]) -> CatalogPlanResponse:
    """One plan for sale, by id or plan key."""
    plan = await call.run(catalog_service(call).get_plan, call.path.plan, public_only=True)
    return catalog_plan_view(plan)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/catalog/services", handler=list_catalog_services,
             access=PUBLIC, tag=TAG, kind=ResponseKind.PAGE,
             response_schema=CatalogServiceResponse),
    Endpoint(method="GET", path="/catalog/services/{service}", handler=get_catalog_service,
             access=SCOPE, tag=TAG, response_schema=CatalogServiceResponse,
             path_schema=ServicePath, errors={404}),
    Endpoint(method="GET", path="/catalog/services/{service}/plans",
             handler=list_catalog_service_plans, access=SCOPE, tag=TAG,
             kind=ResponseKind.LIST, response_schema=CatalogPlanResponse,
             path_schema=ServicePath, errors={404}),
    Endpoint(method="GET", path="/catalog/plans/{plan}", handler=get_catalog_plan,
             access=SCOPE, tag=TAG, response_schema=CatalogPlanResponse, path_schema=PlanPath,
             errors={404}),
)

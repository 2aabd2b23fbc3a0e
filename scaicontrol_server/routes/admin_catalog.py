"""Operators manage the catalog: ``/api/v1/admin/catalog/...`` (tag ``admin``).

Services need ``admin:registry`` (services are what the registry knows); plans are prices
and need ``admin:billing``, like packs. Updates are partial: a field left out stays as it
is, and ``null`` clears a field that may be empty (description, tier, term, multiplier).
Nothing is deleted: set ``is_active`` to false to stop selling.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from scaicontrol_core.catalog_records import BillingPeriod, PlanFeatures, UsagePriceTier
from scaicontrol_core.commerce import KEEP, NewPlan, NewService, PlanChanges, ServiceChanges

from ..api import Call, Endpoint, Page, ResponseKind
from ..fields import field
from ._commerce import catalog_service
from ._commerce_views import PlanResponse, ServiceResponse, plan_view, service_view
from ._common import present_fields
from .catalog import PlanPath, ServicePath

__all__ = [
    "ENDPOINTS",
    "PlanCreateRequest",
    "PlanListQuery",
    "PlanUpdateRequest",
    "ServiceCreateRequest",
    "ServiceUpdateRequest",
]

TAG = "admin"
SERVICES = "admin:registry"
PLANS = "admin:billing"
_SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"


@attrs.frozen(kw_only=True)
class ServiceCreateRequest:
    slug: str = field(pattern=_SLUG, description="Lower-case slug; fixed for life.")
    name: str = field(min_length=1, max_length=255)
    description: str | None = field(default=None, max_length=2000)
    is_active: bool = True
    is_public: bool = True
    sort_order: int = field(default=0, ge=-1_000_000, le=1_000_000)


@attrs.frozen(kw_only=True)
class ServiceUpdateRequest:
    name: str | None = field(default=None, min_length=1, max_length=255)
    description: str | None = field(default=None, max_length=2000)
    is_active: bool | None = None
    is_public: bool | None = None
    sort_order: int | None = field(default=None, ge=-1_000_000, le=1_000_000)


@attrs.frozen(kw_only=True)
class PlanCreateRequest:
    service: str = field(max_length=64, description="Slug or id of the service.")
    slug: str = field(pattern=_SLUG, description="Unique within the service; fixed for life.")
    name: str = field(min_length=1, max_length=255)
    billing_period: BillingPeriod
    base_price_cents: int = field(ge=0, le=10**12, description="Price per billing period.")
    currency: str = field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")
    description: str | None = field(default=None, max_length=2000)
    tier: str | None = field(default=None, min_length=1, max_length=32)
    features: PlanFeatures = attrs.field(factory=PlanFeatures)
    quotas: dict[str, int] = attrs.field(factory=dict)
    usage_pricing: list[UsagePriceTier] = attrs.field(factory=list)
    trial_days: int = field(default=0, ge=0, le=366)
    fixed_term_periods: int | None = field(default=None, ge=1, le=1200)
    cost_multiplier: Decimal | None = None
    is_active: bool = True
    is_public: bool = True
    sort_order: int = field(default=0, ge=-1_000_000, le=1_000_000)
    metadata: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class PlanUpdateRequest:
    name: str | None = field(default=None, min_length=1, max_length=255)
    description: str | None = field(default=None, max_length=2000)
    tier: str | None = field(default=None, min_length=1, max_length=32)
    base_price_cents: int | None = field(default=None, ge=0, le=10**12)
    features: PlanFeatures | None = None
    quotas: dict[str, int] | None = None
    usage_pricing: list[UsagePriceTier] | None = None
    trial_days: int | None = field(default=None, ge=0, le=366)
    fixed_term_periods: int | None = field(default=None, ge=1, le=1200)
    cost_multiplier: Decimal | None = None
    is_active: bool | None = None
    is_public: bool | None = None
    sort_order: int | None = field(default=None, ge=-1_000_000, le=1_000_000)
    metadata: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class PlanListQuery:
    service: str | None = field(default=None, max_length=64,
                                description="Only the plans of this service (slug or id).")


def partial(body: Any, present: frozenset[str], nullable: frozenset[str]) -> dict[str, Any]:
    """Change-command values from a partial body: a field left out keeps its value, and
    ``null`` clears it only where empty is allowed."""
    values: dict[str, Any] = {}
    for attribute in attrs.fields(type(body)):
        value = getattr(body, attribute.name)
        if attribute.name not in present or (value is None and attribute.name not in nullable):
            values[attribute.name] = KEEP
        elif isinstance(value, list):
            values[attribute.name] = tuple(value)
        else:
            values[attribute.name] = value
    return values


async def list_admin_services(call: Call[None, None, None]) -> Page[ServiceResponse]:
    """Every service, including inactive and private ones."""
    items, total = await call.run(catalog_service(call).list_services,
                                  offset=call.page.offset, limit=call.page.limit)
    return Page(items=[service_view(s) for s in items], total=total)


async def create_service(call: Call[ServiceCreateRequest, None, None]) -> ServiceResponse:
    """Add a service to the catalog; 409 if the slug is taken."""
    command = NewService(**attrs.asdict(call.body))
    return service_view(await call.run(catalog_service(call).create_service, command,
                                       now=call.now()))


async def update_service(call: Call[ServiceUpdateRequest, None, ServicePath]) -> ServiceResponse:
    """Change a service's name, description, visibility or order."""
    present = await present_fields(call)
    changes = ServiceChanges(**partial(call.body, present, frozenset({"description"})))
    return service_view(await call.run(catalog_service(call).update_service,
                                       call.path.service, changes, now=call.now()))


async def list_admin_plans(call: Call[None, PlanListQuery, None]) -> Page[PlanResponse]:
    """Every plan, including inactive and private ones, optionally of one service."""
    items, total = await call.run(catalog_service(call).list_plans, service=call.query.service,
                                  offset=call.page.offset, limit=call.page.limit)
    return Page(items=[plan_view(p) for p in items], total=total)


async def get_admin_plan(call: Call[None, None, PlanPath]) -> PlanResponse:
    """One plan by id or plan key, with its operator-only fields."""
    return plan_view(await call.run(catalog_service(call).get_plan, call.path.plan))


async def create_plan(call: Call[PlanCreateRequest, None, None]) -> PlanResponse:
    """Add a plan to a service; 409 if its plan key is taken."""
    body = call.body
    values: dict[str, Any] = {a.name: getattr(body, a.name)
                              for a in attrs.fields(PlanCreateRequest) if a.name != "service"}
    values["usage_pricing"] = tuple(body.usage_pricing)
    command = NewPlan(service_id=body.service, **values)
    return plan_view(await call.run(catalog_service(call).create_plan, command, now=call.now()))


async def update_plan(call: Call[PlanUpdateRequest, None, PlanPath]) -> PlanResponse:
    """Change a plan's prices, quotas, trial, term or visibility (slug, service, billing
    period and currency are fixed for life)."""
    present = await present_fields(call)
    nullable = frozenset({"description", "tier", "fixed_term_periods", "cost_multiplier"})
    changes = PlanChanges(**partial(call.body, present, nullable))
    return plan_view(await call.run(catalog_service(call).update_plan, call.path.plan, changes,
                                    now=call.now()))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/admin/catalog/services", handler=list_admin_services,
             access=SERVICES, tag=TAG, kind=ResponseKind.PAGE, response_schema=ServiceResponse),
    Endpoint(method="POST", path="/admin/catalog/services", handler=create_service,
             access=SERVICES, tag=TAG, status=201, response_schema=ServiceResponse,
             body_schema=ServiceCreateRequest, errors={400, 409}),
    Endpoint(method="PATCH", path="/admin/catalog/services/{service}", handler=update_service,
             access=SERVICES, tag=TAG, response_schema=ServiceResponse,
             body_schema=ServiceUpdateRequest, path_schema=ServicePath, errors={400, 404, 409}),
    Endpoint(method="GET", path="/admin/catalog/plans", handler=list_admin_plans, access=PLANS,
             tag=TAG, kind=ResponseKind.PAGE, response_schema=PlanResponse,
             query_schema=PlanListQuery, errors={404}),
    Endpoint(method="GET", path="/admin/catalog/plans/{plan}", handler=get_admin_plan,
             access=PLANS, tag=TAG, response_schema=PlanResponse, path_schema=PlanPath,
             errors={404}),
    Endpoint(method="POST", path="/admin/catalog/plans", handler=create_plan, access=PLANS,
             tag=TAG, status=201, response_schema=PlanResponse, body_schema=PlanCreateRequest,
             errors={400, 404, 409}),
    Endpoint(method="PATCH", path="/admin/catalog/plans/{plan}", handler=update_plan,
             access=PLANS, tag=TAG, response_schema=PlanResponse,
             body_schema=PlanUpdateRequest, path_schema=PlanPath, errors={400, 404, 409}),
)

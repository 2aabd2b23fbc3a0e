"""Operator and partner administration of tenants (tag ``admin-tenants``, 3 endpoints).

A partner admin sees and edits only its own partner's tenants; any other tenant id
answers 404, like one that does not exist.
"""

from __future__ import annotations

import attrs

from scaicontrol_core.access import Scope
from scaicontrol_core.billing_profiles import upsert_billing_profile

from ..api import Call, Endpoint, Page, ResponseKind
from ..fields import field
from ..vat import check_vat_number
from ._billing_body import BillingProfileCreateUpdate
from ._common import actor_of, principal_of, reachable_tenant, tenant_reach
from ._views import BillingProfileResponse, TenantDetailResponse, profile_view, tenant_detail

__all__ = ["ENDPOINTS", "TenantPath", "TenantQuery"]


@attrs.frozen(kw_only=True)
class TenantQuery:
    q: str | None = field(default=None, max_length=255,
                          description="Case-insensitive search in name, e-mail and tenant id.")


@attrs.frozen(kw_only=True)
class TenantPath:
    tenant_id: str = field(max_length=36, description="Tenant id (tnt_...).")


async def list_tenants(call: Call[None, TenantQuery, None]) -> Page[TenantDetailResponse]:
    """Tenants within the caller's reach, by name, with their billing profiles."""
    principal = principal_of(call)
    text = (call.query.q or "").strip()

    def read() -> Page[TenantDetailResponse]:
        with call.storage.unit_of_work(cross_tenant=True) as uow:
            reach = tenant_reach(uow, principal)
            where = None if reach is None else {"id": reach}
            fields = ["name", "email", "id"]
            found = uow.tenants.search(text, fields, where, order_by=["name", "id"],
                                       offset=call.page.offset, limit=call.page.limit)
            total = uow.tenants.count_search(text, fields, where)
            return Page(items=[tenant_detail(uow, t) for t in found], total=total)

    return await call.run(read)


async def get_tenant(call: Call[None, None, TenantPath]) -> TenantDetailResponse:
    """One tenant with its partner and billing profile."""
    principal = principal_of(call)

    def read() -> TenantDetailResponse:
        with call.storage.unit_of_work(cross_tenant=True) as uow:
            return tenant_detail(uow, reachable_tenant(uow, principal, call.path.tenant_id))

    return await call.run(read)


async def admin_upsert_profile(
    call: Call[BillingProfileCreateUpdate, None, TenantPath],
) -> BillingProfileResponse | None:
    """Create or replace a tenant's billing profile (same body and events as the tenant's own
    ``PUT /billing/billing-profile``)."""
    principal, actor, now = principal_of(call), actor_of(call), call.now()
    data = call.body.to_input()

    def write() -> BillingProfileResponse | None:
        with call.storage.unit_of_work(cross_tenant=True) as uow:
            tenant = reachable_tenant(uow, principal, call.path.tenant_id)
            profile, _ = upsert_billing_profile(uow, tenant, data, now=now, ids=call.ids,
                                                actor=actor, vat_check=check_vat_number)
            uow.commit()
            return profile_view(profile)

    return await call.run(write)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/admin/tenants", handler=list_tenants,
             access=Scope.ADMIN_TENANTS, tag="admin-tenants", kind=ResponseKind.PAGE,
             response_schema=TenantDetailResponse, query_schema=TenantQuery,
             summary="List Tenants"),
    Endpoint(method="GET", path="/admin/tenants/{tenant_id}", handler=get_tenant,
             access=Scope.ADMIN_TENANTS, tag="admin-tenants",
             response_schema=TenantDetailResponse, path_schema=TenantPath,
             summary="Get Tenant", errors=(404,)),
    Endpoint(method="PUT", path="/admin/tenants/{tenant_id}/billing-profile",
             handler=admin_upsert_profile, access=Scope.ADMIN_TENANTS, tag="admin-tenants",
             response_schema=BillingProfileResponse, body_schema=BillingProfileCreateUpdate,
             path_schema=TenantPath, summary="Admin Upsert Billing Profile", errors=(404,)),
)

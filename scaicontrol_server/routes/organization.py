"""The caller's own organisation (tag ``organization``, 4 endpoints): its tenant, its
partner's public branding, and (for partner admins) the partner's tenants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from scaicontrol_core.access import Scope
from scaicontrol_core.audit import record_change
from scaicontrol_core.errors import NotFound, PermissionDenied
from scaicontrol_core.records import OrgStatus, Tenant

from ..api import AUTHENTICATED, Call, Endpoint, Page, ResponseKind
from ..fields import field
from ._common import actor_of, own_tenant_id, present_fields, principal_of, tenant_reach
from ._views import TenantDetailResponse, tenant_detail

__all__ = ["ENDPOINTS", "OrganizationPartner", "OrganizationTenant", "TenantUpdate"]


@attrs.frozen(kw_only=True)
class OrganizationTenant:
    """The caller's tenant."""

    id: str
    name: str
    email: str | None
    partner_id: str
    partner_name: str | None
    status: OrgStatus
    has_billing_profile: bool
    """Whether the tenant may subscribe and be invoiced."""
    created_at: datetime


@attrs.frozen(kw_only=True)
class OrganizationPartner:
    """The caller's partner, with what a portal needs to show its brand."""

    id: str
    name: str
    is_operator: bool
    legal_name: str | None
    logo_url: str | None
    contact_email: str | None


@attrs.frozen(kw_only=True)
class TenantUpdate:
    """Tenant fields to change; absent fields stay as they are."""

    name: str | None = field(default=None, min_length=1, max_length=255)
    email: str | None = field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$",
                              description="Contact address; null clears it.")


def _tenant_view(uow: object, tenant: Tenant) -> OrganizationTenant:
    detail = tenant_detail(uow, tenant)  # type: ignore[arg-type]
    return OrganizationTenant(
        id=tenant.id, name=tenant.name, email=tenant.email, partner_id=tenant.partner_id,
        partner_name=detail.partner_name, status=tenant.status,
        has_billing_profile=detail.has_billing_profile, created_at=tenant.created_at,
    )


async def get_own_tenant(call: Call[None, None, None]) -> OrganizationTenant:
    """The caller's tenant."""
    tenant_id = own_tenant_id(principal_of(call))

    def read() -> OrganizationTenant:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            return _tenant_view(uow, uow.tenants.require(tenant_id))

    return await call.run(read)


async def update_own_tenant(call: Call[TenantUpdate, None, None]) -> OrganizationTenant:
    """Change the caller's tenant name or contact address (tenant admins)."""
    tenant_id = own_tenant_id(principal_of(call))
    actor, now = actor_of(call), call.now()
    present = await present_fields(call)
    changes: dict[str, Any] = {}
    if "name" in present and call.body.name is not None:
        changes["name"] = call.body.name.strip()
    if "email" in present:
        changes["email"] = call.body.email

    def write() -> OrganizationTenant:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            tenant = uow.tenants.require(tenant_id)
            if any(getattr(tenant, k) != v for k, v in changes.items()):
                saved = uow.tenants.update(attrs.evolve(tenant, **changes, updated_at=now))
                record_change(uow, actor=actor, action="tenant.update", resource_type="tenant",
                              resource_id=tenant.id, before=tenant, after=saved, now=now,
                              ids=call.ids, tenant_id=tenant.id, partner_id=tenant.partner_id)
                tenant = saved
                uow.commit()
            return _tenant_view(uow, tenant)

    return await call.run(write)


async def get_own_partner(call: Call[None, None, None]) -> OrganizationPartner:
    """The caller's partner and its public branding (any user may read it)."""
    partner_id = principal_of(call).partner_id
    if partner_id is None:
        raise PermissionDenied("this caller belongs to no partner")

    def read() -> OrganizationPartner:
        with call.storage.unit_of_work() as uow:
            partner = uow.partners.get(partner_id)
            if partner is None:
                raise NotFound("Partner", partner_id)
            config = uow.partner_configurations.get(partner_id)
        return OrganizationPartner(
            id=partner.id, name=partner.name, is_operator=partner.is_operator,
            legal_name=config.legal_name if config else None,
            logo_url=config.logo_url if config else None,
            contact_email=config.contact_email if config else None,
        )

    return await call.run(read)


async def list_own_partner_tenants(call: Call[None, None, None]) -> Page[TenantDetailResponse]:
    """The tenants of the caller's partner that are within its reach."""
    principal = principal_of(call)
    if principal.partner_id is None:
        raise PermissionDenied("this caller belongs to no partner")

    def read() -> Page[TenantDetailResponse]:
        with call.storage.unit_of_work(cross_tenant=True) as uow:
            reach = tenant_reach(uow, principal)
            where: dict[str, object] = {"partner_id": principal.partner_id}
            if reach is not None:
                where["id"] = reach
            found = uow.tenants.find(where, order_by=["name", "id"], offset=call.page.offset,
                                     limit=call.page.limit)
            return Page(items=[tenant_detail(uow, t) for t in found],
                        total=uow.tenants.count(where))

    return await call.run(read)


_TAG = "organization"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/organization/tenant", handler=get_own_tenant,
             access=AUTHENTICATED, tag=_TAG, response_schema=OrganizationTenant,
             summary="Get Own Tenant", errors=(403,)),
    Endpoint(method="PATCH", path="/organization/tenant", handler=update_own_tenant,
             access=Scope.BILLING_MANAGE, tag=_TAG, response_schema=OrganizationTenant,
             body_schema=TenantUpdate, summary="Update Own Tenant", errors=(409,)),
    Endpoint(method="GET", path="/organization/partner", handler=get_own_partner,
             access=AUTHENTICATED, tag=_TAG, response_schema=OrganizationPartner,
             summary="Get Own Partner", errors=(403, 404)),
    Endpoint(method="GET", path="/organization/partner/tenants",
             handler=list_own_partner_tenants, access=Scope.ADMIN_TENANTS, tag=_TAG,
             kind=ResponseKind.PAGE, response_schema=TenantDetailResponse,
             summary="List Own Partner Tenants"),
)

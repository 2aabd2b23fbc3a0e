"""Partner administration (tag ``admin-partners``, 6 endpoints): partners, their seller
configuration (which makes them billable), and their tenants.

Partners and tenants normally arrive from the identity provider's directory; the two
create endpoints serve deployments that run the ``local`` identity provider. A partner
admin reaches only its own partner; only a super admin creates partners.
"""

from __future__ import annotations

from typing import Any

import attrs

from scaicontrol_core.access import Scope
from scaicontrol_core.audit import record_change
from scaicontrol_core.billing_profiles import PARTNER_FIELDS, patch_partner_configuration
from scaicontrol_core.errors import PermissionDenied
from scaicontrol_core.ids import IdPrefix
from scaicontrol_core.records import Partner, Tenant

from ..api import Call, Endpoint, Page, ResponseKind
from ..fields import field
from ..vat import check_bic, check_iban, check_vat_number
from ._billing_body import PartnerUpdate
from ._common import actor_of, present_fields, principal_of, reachable_partner
from ._views import PartnerDetailResponse, TenantDetailResponse, partner_detail, tenant_detail

__all__ = ["ENDPOINTS", "NewPartner", "NewTenant", "PartnerPath", "PartnerQuery"]

_ID = r"^[A-Za-z0-9_]{1,32}$"


@attrs.frozen(kw_only=True)
class PartnerQuery:
    q: str | None = field(default=None, max_length=255,
                          description="Case-insensitive search in name and partner id.")


@attrs.frozen(kw_only=True)
class PartnerPath:
    partner_id: str = field(max_length=36, description="Partner id (prt_...).")


@attrs.frozen(kw_only=True)
class NewPartner:
    """A partner to create."""

    name: str = field(min_length=1, max_length=255)
    id_suffix: str | None = field(default=None, pattern=_ID,
                                  description="Optional id after 'prt_'; random if absent.")


@attrs.frozen(kw_only=True)
class NewTenant:
    """A tenant to create under the partner."""

    name: str = field(min_length=1, max_length=255)
    email: str | None = field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    id_suffix: str | None = field(default=None, pattern=_ID,
                                  description="Optional id after 'tnt_'; random if absent.")


async def list_partners(call: Call[None, PartnerQuery, None]) -> Page[PartnerDetailResponse]:
    """Partners within the caller's reach (a partner admin sees its own only)."""
    principal = principal_of(call)
    text = (call.query.q or "").strip()

    def read() -> Page[PartnerDetailResponse]:
        with call.storage.unit_of_work() as uow:
            where = None if principal.is_super_admin else {"id": [principal.partner_id or ""]}
            fields = ["name", "id"]
            found = uow.partners.search(text, fields, where, order_by=["name", "id"],
                                        offset=call.page.offset, limit=call.page.limit)
            total = uow.partners.count_search(text, fields, where)
            return Page(items=[partner_detail(uow, p) for p in found], total=total)

    return await call.run(read)


async def create_partner(call: Call[NewPartner, None, None]) -> PartnerDetailResponse:
    """Create a partner (super admin only)."""
    principal, actor, now = principal_of(call), actor_of(call), call.now()
    if not principal.is_super_admin:
        raise PermissionDenied("only a super admin creates partners")
    suffix = call.body.id_suffix
    partner_id = f"{IdPrefix.PARTNER.value}{suffix}" if suffix else call.ids.prefixed(
        IdPrefix.PARTNER)

    def write() -> PartnerDetailResponse:
        with call.storage.unit_of_work() as uow:
            partner = uow.partners.add(Partner(id=partner_id, name=call.body.name.strip(),
                                               created_at=now, updated_at=now))
            record_change(uow, actor=actor, action="partner.create", resource_type="partner",
                          resource_id=partner.id, before=None, after=partner, now=now,
                          ids=call.ids, partner_id=partner.id)
            uow.commit()
            return partner_detail(uow, partner)

    return await call.run(write)


async def get_partner(call: Call[None, None, PartnerPath]) -> PartnerDetailResponse:
    """A partner with its seller configuration, billable flag and tenant count."""
    principal = principal_of(call)

    def read() -> PartnerDetailResponse:
        with call.storage.unit_of_work() as uow:
            return partner_detail(uow, reachable_partner(uow, principal, call.path.partner_id))

    return await call.run(read)


def _normalised(changes: dict[str, Any]) -> dict[str, Any]:
    if changes.get("iban"):
        changes["iban"] = check_iban(changes["iban"])
    if changes.get("bic"):
        changes["bic"] = check_bic(changes["bic"])
    return changes


async def update_partner(call: Call[PartnerUpdate, None, PartnerPath]) -> PartnerDetailResponse:
    """Change the partner's name or seller configuration; absent fields stay as they are.

    The first time both ``legal_name`` and ``seller_country_code`` are set records
    ``partner.billing_linked``; later changes record ``partner.billing_updated``.
    """
    principal, actor, now = principal_of(call), actor_of(call), call.now()
    present = await present_fields(call)
    changes = _normalised({n: getattr(call.body, n) for n in PARTNER_FIELDS if n in present})
    new_name = call.body.name.strip() if "name" in present and call.body.name else None

    def write() -> PartnerDetailResponse:
        with call.storage.unit_of_work() as uow:
            partner = reachable_partner(uow, principal, call.path.partner_id)
            if new_name is not None and new_name != partner.name:
                renamed = uow.partners.update(attrs.evolve(partner, name=new_name,
                                                           updated_at=now))
                record_change(uow, actor=actor, action="partner.update",
                              resource_type="partner", resource_id=partner.id, before=partner,
                              after=renamed, now=now, ids=call.ids, partner_id=partner.id)
                partner = renamed
            patch_partner_configuration(uow, partner, changes, now=now, ids=call.ids,
                                        actor=actor, vat_check=check_vat_number)
            uow.commit()
            return partner_detail(uow, partner)

    return await call.run(write)


async def list_partner_tenants(
    call: Call[None, None, PartnerPath],
) -> Page[TenantDetailResponse]:
    """The partner's tenants, by name."""
    principal = principal_of(call)

    def read() -> Page[TenantDetailResponse]:
        with call.storage.unit_of_work(cross_tenant=True) as uow:
            partner = reachable_partner(uow, principal, call.path.partner_id)
            where = {"partner_id": partner.id}
            found = uow.tenants.find(where, order_by=["name", "id"], offset=call.page.offset,
                                     limit=call.page.limit)
            total = uow.tenants.count(where)
            return Page(items=[tenant_detail(uow, t) for t in found], total=total)

    return await call.run(read)


async def create_partner_tenant(
    call: Call[NewTenant, None, PartnerPath],
) -> TenantDetailResponse:
    """Create a tenant of the partner."""
    principal, actor, now = principal_of(call), actor_of(call), call.now()
    suffix = call.body.id_suffix
    tenant_id = f"{IdPrefix.TENANT.value}{suffix}" if suffix else call.ids.prefixed(
        IdPrefix.TENANT)

    def write() -> TenantDetailResponse:
        with call.storage.unit_of_work(cross_tenant=True) as uow:
            partner = reachable_partner(uow, principal, call.path.partner_id)
            tenant = uow.tenants.add(Tenant(
                id=tenant_id, partner_id=partner.id, name=call.body.name.strip(),
                email=call.body.email, created_at=now, updated_at=now,
            ))
            record_change(uow, actor=actor, action="tenant.create", resource_type="tenant",
                          resource_id=tenant.id, before=None, after=tenant, now=now,
                          ids=call.ids, tenant_id=tenant.id, partner_id=partner.id)
            uow.commit()
            return tenant_detail(uow, tenant)

    return await call.run(write)


_TAG = "admin-partners"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/admin/partners", handler=list_partners,
             access=Scope.ADMIN_PARTNERS, tag=_TAG, kind=ResponseKind.PAGE,
             response_schema=PartnerDetailResponse, query_schema=PartnerQuery,
             summary="List Partners"),
    Endpoint(method="POST", path="/admin/partners", handler=create_partner,
             access=Scope.ADMIN_PARTNERS, tag=_TAG, status=201,
             response_schema=PartnerDetailResponse, body_schema=NewPartner,
             summary="Create Partner", errors=(409,)),
    Endpoint(method="GET", path="/admin/partners/{partner_id}", handler=get_partner,
             access=Scope.ADMIN_PARTNERS, tag=_TAG, response_schema=PartnerDetailResponse,
             path_schema=PartnerPath, summary="Get Partner", errors=(404,)),
    Endpoint(method="PATCH", path="/admin/partners/{partner_id}", handler=update_partner,
             access=Scope.ADMIN_PARTNERS, tag=_TAG, response_schema=PartnerDetailResponse,
             body_schema=PartnerUpdate, path_schema=PartnerPath,
             summary="Update Partner Configuration", errors=(404, 409)),
    Endpoint(method="GET", path="/admin/partners/{partner_id}/tenants",
             handler=list_partner_tenants, access=Scope.ADMIN_PARTNERS, tag=_TAG,
             kind=ResponseKind.PAGE, response_schema=TenantDetailResponse,
             path_schema=PartnerPath, summary="List Partner Tenants", errors=(404,)),
    Endpoint(method="POST", path="/admin/partners/{partner_id}/tenants",
             handler=create_partner_tenant, access=Scope.ADMIN_PARTNERS, tag=_TAG,
             status=201, response_schema=TenantDetailResponse, body_schema=NewTenant,
             path_schema=PartnerPath, summary="Create Partner Tenant", errors=(404, 409)),
)

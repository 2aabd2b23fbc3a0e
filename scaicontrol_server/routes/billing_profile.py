"""The tenant's own billing profile: ``GET`` and ``PUT /api/v1/billing/billing-profile``.

The unit of work is confined to the caller's tenant, so no other tenant's profile can be
read or written here, whatever the request says.
"""

from __future__ import annotations

from typing import Any

from scaicontrol_core.access import Scope
from scaicontrol_core.billing_profiles import upsert_billing_profile

from ..api import Call, Endpoint
from ..vat import check_vat_number
from ._billing_body import BillingProfileCreateUpdate
from ._common import actor_of, own_tenant_id, principal_of
from ._views import BillingProfileResponse, profile_view

__all__ = ["ENDPOINTS"]


async def get_billing_profile(call: Call[None, None, None]) -> BillingProfileResponse | None:
    """The caller's tenant billing profile; ``data`` is null until one is created."""
    tenant_id = own_tenant_id(principal_of(call))

    def read() -> BillingProfileResponse | None:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            return profile_view(uow.tenant_billing_profiles.get(tenant_id))

    return await call.run(read)


async def upsert_profile(call: Call[BillingProfileCreateUpdate, None, None]) -> Any:
    """Create or replace the caller's tenant billing profile.

    The first creation records ``tenant.billing_linked``; a later change records
    ``tenant.billing_updated`` with the changed fields; an identical PUT records nothing.
    """
    tenant_id = own_tenant_id(principal_of(call))
    data, actor, now = call.body.to_input(), actor_of(call), call.now()

    def write() -> BillingProfileResponse | None:
        with call.storage.unit_of_work(tenant_id=tenant_id) as uow:
            tenant = uow.tenants.require(tenant_id)
            profile, _ = upsert_billing_profile(uow, tenant, data, now=now, ids=call.ids,
                                                actor=actor, vat_check=check_vat_number)
            uow.commit()
            return profile_view(profile)

    return await call.run(write)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/billing/billing-profile", handler=get_billing_profile,
             access=Scope.BILLING_READ, tag="billing",
             response_schema=BillingProfileResponse | None,
             summary="Get Billing Profile"),
    Endpoint(method="PUT", path="/billing/billing-profile", handler=upsert_profile,
             access=Scope.BILLING_MANAGE, tag="billing", response_schema=BillingProfileResponse,
             body_schema=BillingProfileCreateUpdate, summary="Upsert Billing Profile",
             errors=(403,)),
)

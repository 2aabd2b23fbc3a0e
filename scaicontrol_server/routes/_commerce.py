"""What the catalog, subscription and pack routes share: the caller's reach and services.

Tenant self-service endpoints work in the caller's own tenant. Operator endpoints reach
every tenant for a super admin, a partner's tenants for that partner's admin, and only
its own tenant for anyone else holding the scope; out of reach is 404, as if missing.
"""

from __future__ import annotations

from typing import Any

from scaicontrol_core.access import Role
from scaicontrol_core.commerce import (
    EVERYTHING,
    AdminLifecycle,
    CatalogService,
    PackService,
    Reach,
    SubscriptionService,
)
from scaicontrol_core.errors import PermissionDenied

from ..api import Call
from ._common import own_tenant_id, principal_of

__all__ = [
    "admin_lifecycle",
    "admin_reach",
    "catalog_service",
    "pack_service",
    "subscription_service",
    "tenant_reach_of",
]


def tenant_reach_of(call: Call[Any, Any, Any]) -> Reach:
    """The caller's own tenant (403 for callers that belong to none)."""
    return Reach(tenant_id=own_tenant_id(principal_of(call)))


def admin_reach(call: Call[Any, Any, Any]) -> Reach:
    """Whose subscriptions an operator endpoint may touch."""
    principal = principal_of(call)
    if principal.is_super_admin:
        return EVERYTHING
    if Role.PARTNER_ADMIN.value in principal.roles and principal.partner_id is not None:
        return Reach(partner_id=principal.partner_id)
    if principal.tenant_id is not None:
        return Reach(tenant_id=principal.tenant_id)
    raise PermissionDenied("no tenant is within this caller's reach")


def catalog_service(call: Call[Any, Any, Any]) -> CatalogService:
    return CatalogService(call.storage, call.ids)


def subscription_service(call: Call[Any, Any, Any]) -> SubscriptionService:
    return SubscriptionService(call.storage, call.ids)


def pack_service(call: Call[Any, Any, Any]) -> PackService:
    return PackService(call.storage, call.ids)


def admin_lifecycle(call: Call[Any, Any, Any]) -> AdminLifecycle:
    return AdminLifecycle(subscription_service(call), pack_service(call))

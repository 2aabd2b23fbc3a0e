"""Helpers the identity routes share: the caller, its reach, and partial-update bodies.

Reach rules: a super admin reaches every partner and tenant; a partner admin reaches its own
partner and that partner's tenants; anyone else reaches only its own tenant. Whatever is
out of reach answers 404, exactly like a missing record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from scaicontrol_core.access import Principal, Role
from scaicontrol_core.audit import Actor
from scaicontrol_core.errors import NotFound, PermissionDenied, Unauthenticated
from scaicontrol_core.ports import UnitOfWork
from scaicontrol_core.records import Partner, Tenant

from ..api import Call

__all__ = [
    "actor_of",
    "own_tenant_id",
    "pick",
    "present_fields",
    "principal_of",
    "reachable_partner",
    "reachable_tenant",
    "tenant_reach",
]

T = TypeVar("T")


def principal_of(call: Call[Any, Any, Any]) -> Principal:
    """The authenticated caller of a non-public endpoint."""
    principal = call.principal
    if not isinstance(principal, Principal):
        raise Unauthenticated("Authentication required")
    return principal


def actor_of(call: Call[Any, Any, Any]) -> Actor:
    """The caller as the audit log names it, with the request id."""
    return Actor(id=principal_of(call).subject, request_id=call.request_id)


def own_tenant_id(principal: Principal) -> str:
    """The caller's tenant; a principal without one (a service, a partner-level token)
    cannot use tenant self-service endpoints."""
    if principal.tenant_id is None:
        raise PermissionDenied("this operation needs a caller that belongs to a tenant")
    return principal.tenant_id


def tenant_reach(uow: UnitOfWork, principal: Principal) -> list[str] | None:
    """Ids of the tenants within the caller's admin reach; None means every tenant."""
    if principal.is_super_admin:
        return None
    if Role.PARTNER_ADMIN.value in principal.roles and principal.partner_id is not None:
        return [t.id for t in uow.tenants.find({"partner_id": principal.partner_id})]
    return [principal.tenant_id] if principal.tenant_id is not None else []


def reachable_tenant(uow: UnitOfWork, principal: Principal, tenant_id: str) -> Tenant:
    """The tenant if it exists and is within reach; otherwise NotFound."""
    tenant = uow.tenants.get(tenant_id)
    if tenant is None or not principal.can_reach_tenant(tenant.id, tenant.partner_id):
        raise NotFound("Tenant", tenant_id)
    return tenant


def reachable_partner(uow: UnitOfWork, principal: Principal, partner_id: str) -> Partner:
    """The partner if it exists and is within reach; otherwise NotFound."""
    partner = uow.partners.get(partner_id)
    if partner is None or not principal.can_reach_partner(partner.id):
        raise NotFound("Partner", partner_id)
    return partner


async def present_fields(call: Call[Any, Any, Any]) -> frozenset[str]:
    """Names of the top-level fields the JSON body actually contained (for PATCH, where
    an absent field stays as it is and ``null`` clears it). The body was already read and
    validated, so this only re-parses the cached bytes."""
    raw = await call.request.read()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return frozenset()
    return frozenset(data) if isinstance(data, dict) else frozenset()


def pick(cls: type[T], source: Any, **extra: Any) -> T:
    """An instance of the attrs class ``cls`` from same-named attributes of ``source``
    (a record or a mapping), with ``extra`` filling or overriding fields."""
    values: dict[str, Any] = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]
        if field.name in extra:
            values[field.name] = extra[field.name]
        elif isinstance(source, Mapping) and field.name in source:
            values[field.name] = source[field.name]
        elif hasattr(source, field.name):
            values[field.name] = getattr(source, field.name)
    return cls(**values)

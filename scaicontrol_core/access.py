"""Who is calling and what they may do: scopes, roles and the principal.

Permission scopes are stable ``<area>:<action>`` strings. A role bundles scopes;
``super_admin`` bypasses every check. A principal's permissions are the union of the
scopes its token carries, the scopes of its token roles, and those of roles held locally
(directly or through groups).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

import attrs

__all__ = [
    "ROLE_RANK",
    "ROLE_SCOPES",
    "Principal",
    "PrincipalKind",
    "Role",
    "Scope",
    "effective_permissions",
    "is_role",
    "rank_of",
    "scopes_for_roles",
]


class Scope(enum.StrEnum):
    ADMIN_BILLING = "admin:billing"
    ADMIN_TENANTS = "admin:tenants"
    ADMIN_PARTNERS = "admin:partners"
    ADMIN_SUBSCRIPTIONS = "admin:subscriptions"
    ADMIN_USERS = "admin:users"
    ADMIN_GROUPS = "admin:groups"
    ADMIN_PROVISIONING = "admin:provisioning"
    ADMIN_REGISTRY = "admin:registry"
    ADMIN_ACCOUNTING = "admin:accounting"
    ADMIN_PLATFORM = "admin:platform"
    ADMIN_USAGE = "admin:usage"
    BILLING_MANAGE = "billing:manage"
    BILLING_READ = "billing:read"
    SUBSCRIPTIONS_READ = "subscriptions:read"
    SERVICES_READ = "services:read"
    REGISTRY_MANAGE = "registry:manage"


class Role(enum.StrEnum):
    SUPER_ADMIN = "super_admin"
    PARTNER_ADMIN = "partner_admin"
    TENANT_ADMIN = "tenant_admin"
    TENANT_USER = "tenant_user"


S = Scope
#: Default scopes of each role (``super_admin`` needs none: it bypasses every check).
ROLE_SCOPES: Final[Mapping[Role, frozenset[Scope]]] = MappingProxyType({
    Role.SUPER_ADMIN: frozenset(Scope),
    Role.PARTNER_ADMIN: frozenset({
        S.ADMIN_TENANTS, S.ADMIN_USERS, S.ADMIN_GROUPS, S.ADMIN_USAGE, S.ADMIN_SUBSCRIPTIONS,
        S.ADMIN_PARTNERS, S.SERVICES_READ,
    }),
    Role.TENANT_ADMIN: frozenset({
        S.BILLING_MANAGE, S.BILLING_READ, S.SUBSCRIPTIONS_READ, S.SERVICES_READ,
    }),
    Role.TENANT_USER: frozenset({S.SERVICES_READ, S.SUBSCRIPTIONS_READ}),
})


#: Who outranks whom when granting roles: a principal may grant roles up to its own rank.
ROLE_RANK: Final[Mapping[Role, int]] = MappingProxyType({
    Role.TENANT_USER: 1,
    Role.TENANT_ADMIN: 2,
    Role.PARTNER_ADMIN: 3,
    Role.SUPER_ADMIN: 4,
})


def is_role(name: str) -> bool:
    """Whether ``name`` is one of the four roles."""
    return name in Role.__members__.values()


def rank_of(roles: Iterable[str]) -> int:
    """The highest rank among ``roles`` (0 when none is a known role)."""
    return max((ROLE_RANK[Role(name)] for name in roles if is_role(name)), default=0)


def effective_permissions(roles: Iterable[str], permissions: Iterable[str] = ()) -> frozenset[str]:
    """Granted scopes plus those of the roles; ``super_admin`` holds every scope."""
    return frozenset(permissions) | scopes_for_roles(roles)


def scopes_for_roles(roles: Iterable[str]) -> frozenset[str]:
    """The union of the default scopes of every known role in ``roles``."""
    result: set[str] = set()
    for name in roles:
        if name in Role.__members__.values():
            result.update(ROLE_SCOPES[Role(name)])
    return frozenset(result)


class PrincipalKind(enum.StrEnum):
    USER = "user"
    SERVICE = "service"


@attrs.frozen(kw_only=True)
class Principal:
    """An authenticated caller, as handed to every non-public handler."""

    subject: str
    kind: PrincipalKind = PrincipalKind.USER
    tenant_id: str | None = None
    partner_id: str | None = None
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()

    @property
    def is_super_admin(self) -> bool:
        return Role.SUPER_ADMIN.value in self.roles

    @property
    def is_service(self) -> bool:
        return self.kind is PrincipalKind.SERVICE

    def has(self, scope: str) -> bool:
        """Whether the principal may use ``scope`` (always true for ``super_admin``)."""
        return self.is_super_admin or scope in self.permissions

    def can_reach_tenant(self, tenant_id: str, tenant_partner_id: str) -> bool:
        """Whether admin reach covers a tenant: everything for super admins, a partner's own
        tenants for partner principals, and only itself for a tenant principal."""
        if self.is_super_admin:
            return True
        if self.partner_id is not None and Role.PARTNER_ADMIN.value in self.roles:
            return tenant_partner_id == self.partner_id
        return self.tenant_id == tenant_id

    def can_reach_partner(self, partner_id: str) -> bool:
        """Whether admin reach covers a partner: every partner for super admins, its own
        for a partner admin, none for anyone else."""
        if self.is_super_admin:
            return True
        return Role.PARTNER_ADMIN.value in self.roles and self.partner_id == partner_id

    @property
    def rank(self) -> int:
        """The highest rank among the principal's roles (see :data:`ROLE_RANK`)."""
        return rank_of(self.roles)

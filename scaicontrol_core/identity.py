"""Users, groups and roles: who a caller is and what it may do.

A principal's roles are the union of the roles its token carries, the roles held locally
by its user, and the roles of the (active) groups the user belongs to; its permissions are
the scopes of those roles plus the scopes the token grants. Every operation here takes the
unit of work, ``now`` and an id factory; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import attrs

from .access import Principal, PrincipalKind, Role, effective_permissions, is_role, rank_of
from .audit import Actor, record_change
from .errors import (
    DuplicateRecord,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationError,
)
from .identity_provider import VerifiedToken
from .identity_records import (
    Credential,
    Group,
    User,
    UserStatus,
)
from .ids import IdFactory, IdPrefix
from .ports import UnitOfWork
from .records import Tenant

__all__ = [
    "active_groups_of",
    "change_password",
    "check_role_change",
    "create_user",
    "grant_user_role",
    "local_roles",
    "membership_id",
    "normalise_email",
    "resolve_principal",
    "revoke_user_role",
    "set_group_role",
    "super_admin_exists",
    "user_by_login",
]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased; a value that is not an address raises ValidationError."""
    value = email.strip().lower()
    if len(value) > 320 or not _EMAIL.match(value) or "." not in value.rsplit("@", 1)[1]:
        raise ValidationError(f"'{email}' is not an e-mail address", field="email")
    return value


def membership_id(group_id: str, user_id: str) -> str:
    """The id of a group membership record."""
    return f"{group_id}:{user_id}"


def active_groups_of(uow: UnitOfWork, user_id: str) -> list[Group]:
    """The active groups ``user_id`` belongs to, by id."""
    group_ids = [m.group_id for m in uow.group_memberships.find({"user_id": user_id})]
    if not group_ids:
        return []
    return uow.groups.find({"id": group_ids, "status": UserStatus.ACTIVE})


def local_roles(uow: UnitOfWork, user: User) -> frozenset[str]:
    """Roles held here: granted to the user directly or through its active groups."""
    inherited = {g.role for g in active_groups_of(uow, user.id) if g.role is not None}
    return frozenset(user.roles) | frozenset(inherited)


def resolve_principal(uow: UnitOfWork, token: VerifiedToken) -> Principal:
    """The principal for a verified token, with local roles merged in.

    A user deleted here (soft-deleted by a sync or an administrator) is refused even while
    its token is still valid.
    """
    user = uow.users.get(token.subject)
    if user is not None and user.status is UserStatus.DELETED:
        raise Unauthenticated("this user has been deactivated")
    roles = set(token.roles)
    if user is not None and not token.is_service:
        roles |= local_roles(uow, user)
    tenant_id = token.tenant_id or (user.tenant_id if user is not None else None)
    partner_id = token.partner_id
    if partner_id is None and tenant_id is not None:
        tenant = uow.tenants.get(tenant_id)
        partner_id = tenant.partner_id if tenant is not None else None
    return Principal(
        subject=token.subject,
        kind=PrincipalKind.SERVICE if token.is_service else PrincipalKind.USER,
        tenant_id=tenant_id,
        partner_id=partner_id,
        roles=frozenset(roles),
        permissions=effective_permissions(roles, token.permissions),
    )


def user_by_login(uow: UnitOfWork, email: str) -> tuple[User, Credential] | None:
    """The active user and credential for a login name, or None."""
    try:
        login = normalise_email(email)
    except ValidationError:
        return None
    credential = uow.credentials.get(login)
    if credential is None:
        return None
    user = uow.users.get(credential.user_id)
    if user is None or user.status is not UserStatus.ACTIVE:
        return None
    return user, credential


def super_admin_exists(uow: UnitOfWork) -> bool:
    """Whether any active user holds ``super_admin`` directly."""
    return any(
        Role.SUPER_ADMIN.value in user.roles
        for user in uow.users.find({"status": UserStatus.ACTIVE})
    )


def _checked_roles(roles: Iterable[str]) -> tuple[str, ...]:
    unknown = sorted(r for r in roles if not is_role(r))
    if unknown:
        raise ValidationError(f"unknown role(s): {', '.join(unknown)}", field="roles")
    return tuple(sorted(set(roles)))


def create_user(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    email: str,
    display_name: str | None,
    password_hash: str | None,
    roles: Iterable[str] = (),
    now: datetime,
    ids: IdFactory,
    actor: Actor,
    user_id: str | None = None,
) -> User:
    """A new local user of an existing tenant; with a password hash it can log in."""
    tenant: Tenant = uow.tenants.require(tenant_id)
    login = normalise_email(email)
    if uow.credentials.get(login) is not None or uow.users.find({"email": login}, limit=1):
        raise DuplicateRecord("User", login)
    user = uow.users.add(User(
        id=user_id or ids.prefixed(IdPrefix.USER), tenant_id=tenant.id, email=login,
        display_name=display_name, roles=_checked_roles(roles), created_at=now, updated_at=now,
    ))
    if password_hash is not None:
        uow.credentials.add(Credential(
            id=login, user_id=user.id, password_hash=password_hash,
            created_at=now, updated_at=now,
        ))
    record_change(
        uow, actor=actor, action="user.create", resource_type="user", resource_id=user.id,
        before=None, after=user, now=now, ids=ids, tenant_id=tenant.id,
        partner_id=tenant.partner_id,
    )
    return user


def change_password(
    uow: UnitOfWork, user: User, password_hash: str, *, now: datetime, ids: IdFactory,
    actor: Actor,
) -> None:
    """Set or replace the local password of ``user`` (its login name is its e-mail) and
    revoke every refresh token it holds, so sessions started with the old one end."""
    for token in uow.refresh_tokens.find({"user_id": user.id, "revoked_at": None}):
        uow.refresh_tokens.update(attrs.evolve(token, revoked_at=now))
    existing = uow.credentials.find({"user_id": user.id}, limit=1)
    if existing:
        current = existing[0]
        uow.credentials.update(attrs.evolve(current, password_hash=password_hash, updated_at=now))
    else:
        uow.credentials.add(Credential(
            id=user.email, user_id=user.id, password_hash=password_hash,
            created_at=now, updated_at=now,
        ))
    tenant = uow.tenants.get(user.tenant_id)
    record_change(
        uow, actor=actor, action="user.password", resource_type="user", resource_id=user.id,
        before={"password": "unchanged"}, after={"password": "changed"}, now=now, ids=ids,
        tenant_id=user.tenant_id, partner_id=tenant.partner_id if tenant else None,
    )


def check_role_change(actor: Principal, target_tenant: Tenant | None, user_id: str,
                      role: str) -> None:
    """Refuse role changes above the actor's rank, on itself, or outside its reach.

    Only ``super_admin`` grants or revokes ``super_admin``; nobody changes their own
    roles; a partner admin manages users of its own partner's tenants only (others read
    as missing, like any record out of reach).
    """
    if target_tenant is None or not actor.can_reach_tenant(target_tenant.id,
                                                           target_tenant.partner_id):
        raise NotFound("User", user_id)
    if actor.subject == user_id:
        raise PermissionDenied("nobody may change their own roles")
    if not is_role(role):
        raise ValidationError(f"unknown role '{role}'", field="role")
    if not actor.is_super_admin and rank_of([role]) > actor.rank:
        raise PermissionDenied(f"only a higher-ranked administrator may manage '{role}'")


def _set_user_roles(
    uow: UnitOfWork, user: User, roles: Iterable[str], action: str, *, now: datetime,
    ids: IdFactory, actor: Actor,
) -> User:
    new_roles = _checked_roles(roles)
    if new_roles == user.roles:
        return user
    saved = uow.users.update(attrs.evolve(user, roles=new_roles, updated_at=now))
    tenant = uow.tenants.get(user.tenant_id)
    record_change(
        uow, actor=actor, action=action, resource_type="user", resource_id=user.id,
        before=user, after=saved, now=now, ids=ids, tenant_id=user.tenant_id,
        partner_id=tenant.partner_id if tenant else None,
    )
    return saved


def grant_user_role(uow: UnitOfWork, user: User, role: str, *, now: datetime, ids: IdFactory,
                    actor: Actor) -> User:
    """Add ``role`` to the user's local roles (no change if it holds it already)."""
    return _set_user_roles(uow, user, {*user.roles, role}, "user.grant_role",
                           now=now, ids=ids, actor=actor)


def revoke_user_role(uow: UnitOfWork, user: User, role: str, *, now: datetime,
                     ids: IdFactory, actor: Actor) -> User:
    """Remove ``role`` from the user's local roles (no change if it does not hold it)."""
    return _set_user_roles(uow, user, set(user.roles) - {role}, "user.revoke_role",
                           now=now, ids=ids, actor=actor)


def set_group_role(uow: UnitOfWork, group: Group, role: str | None, *, now: datetime,
                   ids: IdFactory, actor: Actor) -> Group:
    """Give the group a role every member inherits, or take it away with None."""
    if role is not None and not is_role(role):
        raise ValidationError(f"unknown role '{role}'", field="role")
    if group.role == role:
        return group
    saved = uow.groups.update(attrs.evolve(group, role=role, updated_at=now))
    tenant = uow.tenants.get(group.tenant_id)
    record_change(
        uow, actor=actor, action="group.assign_role" if role else "group.revoke_role",
        resource_type="group", resource_id=group.id, before=group, after=saved, now=now,
        ids=ids, tenant_id=group.tenant_id, partner_id=tenant.partner_id if tenant else None,
    )
    return saved

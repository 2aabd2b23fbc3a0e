"""User administration (tag ``admin-users``, 6 endpoints): list, create, read, update,
grant and revoke roles.

A partner admin manages the users of its own partner's tenants; nobody changes their own
roles; only a super admin grants or revokes ``super_admin``. Users of the ``oidc``
provider come from its directory (``scaicontrol sync``); creating users with passwords
needs the ``local`` provider.
"""

from __future__ import annotations

from typing import Any

import attrs

from scaicontrol_core.access import Role, Scope, effective_permissions
from scaicontrol_core.audit import record_change
from scaicontrol_core.errors import NotFound, PermissionDenied, ValidationError
from scaicontrol_core.identity import (
    active_groups_of,
    change_password,
    check_role_change,
    create_user,
    grant_user_role,
    local_roles,
    revoke_user_role,
)
from scaicontrol_core.identity_records import User, UserStatus
from scaicontrol_core.ports import UnitOfWork

from ..api import Call, Endpoint, Page, ResponseKind
from ..auth import IDENTITY
from ..fields import field
from ._common import actor_of, present_fields, principal_of, tenant_reach
from ._views import UserDetailResponse, UserGroup, UserResponse

__all__ = ["ENDPOINTS", "NewUser", "RoleChange", "RoleQuery", "UserPath", "UserQuery",
           "UserUpdate"]



@attrs.frozen(kw_only=True)
class UserQuery:
    q: str | None = field(default=None, max_length=255,
                          description="Case-insensitive search in e-mail, name and user id.")
    tenant_id: str | None = field(default=None, max_length=36, description="Only this tenant.")
    has_role: Role | None = field(  # noqa: RUF009
        default=None, description="Only users holding this role directly.")
    include_deleted: bool = field(default=False, description="Also list deactivated users.")


@attrs.frozen(kw_only=True)
class UserPath:
    user_id: str = field(max_length=36, description="User id (usr_...).")


@attrs.frozen(kw_only=True)
class NewUser:
    """A local user to create."""

    tenant_id: str = field(max_length=36)
    email: str = field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    display_name: str | None = field(default=None, max_length=255)
    password: str | None = field(default=None, min_length=12, max_length=256,
                                 description="Lets the user log in (local provider only).")
    roles: list[Role] = field(factory=list, description="Roles to grant at once.")  # noqa: RUF009


@attrs.frozen(kw_only=True)
class UserUpdate:
    """User fields to change; absent fields stay as they are."""

    display_name: str | None = field(default=None, max_length=255)
    status: UserStatus | None = field(default=None,  # noqa: RUF009
                                      description="'deleted' deactivates, 'active' restores.")
    password: str | None = field(default=None, min_length=12, max_length=256)


@attrs.frozen(kw_only=True)
class RoleChange:
    role: Role = field(description="The role to grant.")  # noqa: RUF009


@attrs.frozen(kw_only=True)
class RoleQuery:
    role: Role = field(description="The role to revoke.")  # noqa: RUF009


def _view(user: User) -> UserResponse:
    return UserResponse(
        id=user.id, tenant_id=user.tenant_id, email=user.email, display_name=user.display_name,
        roles=list(user.roles), status=user.status, source=user.source,
        created_at=user.created_at, updated_at=user.updated_at, deleted_at=user.deleted_at,
        synced_at=user.synced_at,
    )


def _detail(uow: UnitOfWork, user: User) -> UserDetailResponse:
    roles = local_roles(uow, user)
    permissions = effective_permissions(roles)
    if Role.SUPER_ADMIN.value in roles:
        permissions = frozenset(Scope)
    return UserDetailResponse(
        user=_view(user),
        groups=[UserGroup(id=g.id, name=g.name, role=g.role)
                for g in active_groups_of(uow, user.id)],
        effective_roles=sorted(roles), permissions=sorted(permissions),
        has_password=bool(uow.credentials.find({"user_id": user.id}, limit=1)),
    )


def _reachable_user(uow: UnitOfWork, call: Call[Any, Any, UserPath]) -> User:
    principal = principal_of(call)
    user = uow.users.get(call.path.user_id)
    tenant = uow.tenants.get(user.tenant_id) if user is not None else None
    if user is None or tenant is None or not principal.can_reach_tenant(tenant.id,
                                                                        tenant.partner_id):
        raise NotFound("User", call.path.user_id)
    return user


async def _hash(call: Call[Any, Any, Any], password: str | None) -> str | None:
    if password is None:
        return None
    provider = call.app.get(IDENTITY)
    hasher = provider.passwords if provider is not None else None
    if hasher is None:
        raise ValidationError("passwords need the local identity provider", field="password")
    return await call.run(hasher.hash, password)


async def list_users(call: Call[None, UserQuery, None]) -> Page[UserResponse]:
    """Users within the caller's reach, by e-mail address."""
    principal, query = principal_of(call), call.query

    def read() -> Page[UserResponse]:
        with call.storage.unit_of_work() as uow:
            reach = tenant_reach(uow, principal)
            where: dict[str, Any] = {}
            if query.tenant_id is not None:
                allowed = reach is None or query.tenant_id in reach
                where["tenant_id"] = query.tenant_id if allowed else []
            elif reach is not None:
                where["tenant_id"] = reach
            if not query.include_deleted:
                where["status"] = UserStatus.ACTIVE
            fields = ["email", "display_name", "id"]
            text = (query.q or "").strip()
            if query.has_role is None:
                found = uow.users.search(text, fields, where, order_by=["email"],
                                         offset=call.page.offset, limit=call.page.limit)
                return Page(items=[_view(u) for u in found],
                            total=uow.users.count_search(text, fields, where))
            matching = [u for u in uow.users.search(text, fields, where, order_by=["email"])
                        if query.has_role.value in u.roles]
            chosen = matching[call.page.offset:call.page.offset + call.page.limit]
            return Page(items=[_view(u) for u in chosen], total=len(matching))

    return await call.run(read)


async def create_local_user(call: Call[NewUser, None, None]) -> UserDetailResponse:
    """Create a user of a tenant within reach, optionally with a password and roles."""
    principal, actor, now, body = principal_of(call), actor_of(call), call.now(), call.body
    password_hash = await _hash(call, body.password)

    def write() -> UserDetailResponse:
        with call.storage.unit_of_work() as uow:
            tenant = uow.tenants.get(body.tenant_id)
            if tenant is None or not principal.can_reach_tenant(tenant.id, tenant.partner_id):
                raise NotFound("Tenant", body.tenant_id)
            for role in body.roles:
                check_role_change(principal, tenant, "(new user)", role.value)
            user = create_user(uow, tenant_id=tenant.id, email=body.email,
                               display_name=body.display_name, password_hash=password_hash,
                               roles=[r.value for r in body.roles], now=now, ids=call.ids,
                               actor=actor)
            uow.commit()
            return _detail(uow, user)

    return await call.run(write)


async def get_user(call: Call[None, None, UserPath]) -> UserDetailResponse:
    """A user with its groups, effective roles and permissions."""

    def read() -> UserDetailResponse:
        with call.storage.unit_of_work() as uow:
            return _detail(uow, _reachable_user(uow, call))

    return await call.run(read)


async def update_user(call: Call[UserUpdate, None, UserPath]) -> UserDetailResponse:
    """Rename, deactivate, restore or set the password of a user within reach."""
    principal, actor, now, body = principal_of(call), actor_of(call), call.now(), call.body
    present = await present_fields(call)
    password_hash = await _hash(call, body.password if "password" in present else None)

    def write() -> UserDetailResponse:
        with call.storage.unit_of_work() as uow:
            user = _reachable_user(uow, call)
            changes: dict[str, Any] = {}
            if "display_name" in present and body.display_name != user.display_name:
                changes["display_name"] = body.display_name
            if body.status is not None and body.status is not user.status:
                if user.id == principal.subject:
                    raise PermissionDenied("nobody may deactivate themselves")
                changes["status"] = body.status
                changes["deleted_at"] = now if body.status is UserStatus.DELETED else None
            if changes:
                saved = uow.users.update(attrs.evolve(user, **changes, updated_at=now))
                tenant = uow.tenants.get(user.tenant_id)
                record_change(uow, actor=actor, action="user.update", resource_type="user",
                              resource_id=user.id, before=user, after=saved, now=now,
                              ids=call.ids, tenant_id=user.tenant_id,
                              partner_id=tenant.partner_id if tenant else None)
                user = saved
            if password_hash is not None:
                change_password(uow, user, password_hash, now=now, ids=call.ids, actor=actor)
            uow.commit()
            return _detail(uow, user)

    return await call.run(write)


async def grant_role(call: Call[RoleChange, None, UserPath]) -> UserDetailResponse:
    """Grant a role to a user (idempotent)."""
    return await _change_role(call, call.body.role.value, grant=True)


async def revoke_role(call: Call[None, RoleQuery, UserPath]) -> UserDetailResponse:
    """Revoke a directly granted role from a user (idempotent)."""
    return await _change_role(call, call.query.role.value, grant=False)


async def _change_role(call: Call[Any, Any, UserPath], role: str, *,
                       grant: bool) -> UserDetailResponse:
    principal, actor, now = principal_of(call), actor_of(call), call.now()

    def write() -> UserDetailResponse:
        with call.storage.unit_of_work() as uow:
            user = _reachable_user(uow, call)
            check_role_change(principal, uow.tenants.get(user.tenant_id), user.id, role)
            change = grant_user_role if grant else revoke_user_role
            user = change(uow, user, role, now=now, ids=call.ids, actor=actor)
            uow.commit()
            return _detail(uow, user)

    return await call.run(write)


_TAG = "admin-users"
_USERS = "/admin/users"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path=_USERS, handler=list_users, access=Scope.ADMIN_USERS,
             tag=_TAG, kind=ResponseKind.PAGE, response_schema=UserResponse,
             query_schema=UserQuery, summary="List Users"),
    Endpoint(method="POST", path=_USERS, handler=create_local_user, access=Scope.ADMIN_USERS,
             tag=_TAG, status=201, response_schema=UserDetailResponse, body_schema=NewUser,
             summary="Create User", errors=(404, 409)),
    Endpoint(method="GET", path=_USERS + "/{user_id}", handler=get_user,
             access=Scope.ADMIN_USERS, tag=_TAG, response_schema=UserDetailResponse,
             path_schema=UserPath, summary="Get User", errors=(404,)),
    Endpoint(method="PATCH", path=_USERS + "/{user_id}", handler=update_user,
             access=Scope.ADMIN_USERS, tag=_TAG, response_schema=UserDetailResponse,
             body_schema=UserUpdate, path_schema=UserPath, summary="Update User",
             errors=(404, 409)),
    Endpoint(method="POST", path=_USERS + "/{user_id}/role", handler=grant_role,
             access=Scope.ADMIN_USERS, tag=_TAG, response_schema=UserDetailResponse,
             body_schema=RoleChange, path_schema=UserPath, summary="Assign User Role",
             errors=(404, 409)),
    Endpoint(method="DELETE", path=_USERS + "/{user_id}/role", handler=revoke_role,
             access=Scope.ADMIN_USERS, tag=_TAG, response_schema=UserDetailResponse,
             query_schema=RoleQuery, path_schema=UserPath, summary="Revoke User Role",
             errors=(404, 409)),
)

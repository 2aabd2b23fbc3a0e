"""Groups and the roles they grant (tag ``admin-groups``, 4 endpoints).

Groups come from the identity provider's directory (or the demo data); here a group can be
given one role that every member inherits, or have it taken away. The same guard rails as
for users apply: reach, rank, and no changes to groups the administrator belongs to.
"""

from __future__ import annotations

from typing import Any

import attrs

from scaicontrol_core.access import Role, Scope
from scaicontrol_core.errors import NotFound, PermissionDenied
from scaicontrol_core.identity import check_role_change, set_group_role
from scaicontrol_core.identity_records import Group, UserStatus
from scaicontrol_core.ports import UnitOfWork

from ..api import Call, Endpoint, ResponseKind
from ..fields import field
from ._common import actor_of, principal_of, tenant_reach
from ._views import GroupMember, GroupResponse

__all__ = ["ENDPOINTS", "GroupPath", "GroupQuery", "GroupRole"]


@attrs.frozen(kw_only=True)
class GroupQuery:
    q: str | None = field(default=None, max_length=255, description="Filter by name.")
    tenant_id: str | None = field(default=None, max_length=36, description="Only this tenant.")
    has_role: bool | None = field(default=None,
                                  description="true: only groups with a role; false: without.")


@attrs.frozen(kw_only=True)
class GroupPath:
    group_id: str = field(max_length=36, description="Group id (grp_...).")


@attrs.frozen(kw_only=True)
class GroupRole:
    role: Role = field(description="The role members inherit.")  # noqa: RUF009


def _view(uow: UnitOfWork, group: Group, *, with_members: bool) -> GroupResponse:
    memberships = uow.group_memberships.find({"group_id": group.id}, order_by=["user_id"])
    members: list[GroupMember] | None = None
    if with_members:
        users = {u.id: u for u in uow.users.find({"id": [m.user_id for m in memberships]})}
        members = [GroupMember(user_id=m.user_id,
                               email=users[m.user_id].email if m.user_id in users else None,
                               display_name=users[m.user_id].display_name
                               if m.user_id in users else None)
                   for m in memberships]
    return GroupResponse(id=group.id, tenant_id=group.tenant_id, name=group.name,
                         description=group.description, role=group.role, status=group.status,
                         member_count=len(memberships), members=members,
                         synced_at=group.synced_at)


def _reachable_group(uow: UnitOfWork, call: Call[Any, Any, GroupPath]) -> Group:
    principal = principal_of(call)
    group = uow.groups.get(call.path.group_id)
    tenant = uow.tenants.get(group.tenant_id) if group is not None else None
    if group is None or tenant is None or not principal.can_reach_tenant(tenant.id,
                                                                         tenant.partner_id):
        raise NotFound("Group", call.path.group_id)
    return group


async def list_groups(call: Call[None, GroupQuery, None]) -> list[GroupResponse]:
    """Active groups within reach, by name, with member counts (not paginated)."""
    principal, query = principal_of(call), call.query

    def read() -> list[GroupResponse]:
        with call.storage.unit_of_work() as uow:
            reach = tenant_reach(uow, principal)
            where: dict[str, Any] = {"status": UserStatus.ACTIVE}
            if query.tenant_id is not None:
                where["tenant_id"] = query.tenant_id if reach is None or \
                    query.tenant_id in reach else []
            elif reach is not None:
                where["tenant_id"] = reach
            found = uow.groups.search((query.q or "").strip(), ["name"], where,
                                      order_by=["name", "id"])
            if query.has_role is not None:
                found = [g for g in found if (g.role is not None) == query.has_role]
            return [_view(uow, g, with_members=False) for g in found]

    return await call.run(read)


async def get_group(call: Call[None, None, GroupPath]) -> GroupResponse:
    """A group with all its members."""

    def read() -> GroupResponse:
        with call.storage.unit_of_work() as uow:
            return _view(uow, _reachable_group(uow, call), with_members=True)

    return await call.run(read)


async def assign_group_role(call: Call[GroupRole, None, GroupPath]) -> GroupResponse:
    """Give the group the role its members inherit (replacing any previous one)."""
    return await _set_role(call, call.body.role.value)


async def revoke_group_role(call: Call[None, None, GroupPath]) -> GroupResponse:
    """Take the group's role away (idempotent)."""
    return await _set_role(call, None)


async def _set_role(call: Call[Any, Any, GroupPath], role: str | None) -> GroupResponse:
    principal, actor, now = principal_of(call), actor_of(call), call.now()

    def write() -> GroupResponse:
        with call.storage.unit_of_work() as uow:
            group = _reachable_group(uow, call)
            tenant = uow.tenants.get(group.tenant_id)
            if uow.group_memberships.get(f"{group.id}:{principal.subject}") is not None:
                raise PermissionDenied("nobody may change the role of a group they belong to")
            for name in {role, group.role} - {None}:
                check_role_change(principal, tenant, "(group member)", str(name))
            saved = set_group_role(uow, group, role, now=now, ids=call.ids, actor=actor)
            uow.commit()
            return _view(uow, saved, with_members=False)

    return await call.run(write)


_TAG = "admin-groups"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/admin/groups", handler=list_groups,
             access=Scope.ADMIN_GROUPS, tag=_TAG, kind=ResponseKind.LIST,
             response_schema=GroupResponse, query_schema=GroupQuery, summary="List Groups"),
    Endpoint(method="GET", path="/admin/groups/{group_id}", handler=get_group,
             access=Scope.ADMIN_GROUPS, tag=_TAG, response_schema=GroupResponse,
             path_schema=GroupPath, summary="Get Group", errors=(404,)),
    Endpoint(method="POST", path="/admin/groups/{group_id}/role", handler=assign_group_role,
             access=Scope.ADMIN_GROUPS, tag=_TAG, response_schema=GroupResponse,
             body_schema=GroupRole, path_schema=GroupPath, summary="Assign Group Role",
             errors=(404, 409)),
    Endpoint(method="DELETE", path="/admin/groups/{group_id}/role", handler=revoke_group_role,
             access=Scope.ADMIN_GROUPS, tag=_TAG, response_schema=GroupResponse,
             path_schema=GroupPath, summary="Revoke Group Role", errors=(404, 409)),
)

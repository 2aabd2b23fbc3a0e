"""Reconciling users and groups with an external directory (``scaicontrol sync``).

Storage is made to match a :class:`DirectorySnapshot`: new users and groups are added,
changed ones updated, those that vanished from the directory soft-deleted, and those that
came back undeleted; group memberships follow the directory. Only records that came from
the directory are ever deleted, so local accounts (such as the first super admin) survive.
Running it twice with the same snapshot changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from .audit import Actor, record_change
from .errors import ValidationError
from .identity import membership_id, normalise_email
from .identity_provider import DirectoryGroup, DirectorySnapshot, DirectoryUser
from .identity_records import DirectorySource, Group, GroupMembership, User, UserStatus
from .ids import IdFactory
from .ports import Repository, UnitOfWork

__all__ = ["SyncCounts", "SyncReport", "reconcile_directory"]


@attrs.frozen(kw_only=True)
class SyncCounts:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    undeleted: int = 0
    unchanged: int = 0


@attrs.frozen(kw_only=True)
class SyncReport:
    users: SyncCounts
    groups: SyncCounts
    memberships_added: int
    memberships_removed: int

    @property
    def changed(self) -> bool:
        counts = (self.users, self.groups)
        return bool(self.memberships_added or self.memberships_removed or any(
            c.added or c.updated or c.deleted or c.undeleted for c in counts))


def _unique(items: Iterable[Any], kind: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValidationError(f"the directory lists {kind} '{item.id}' twice")
        seen.add(item.id)


def _fields_of_user(user: DirectoryUser) -> dict[str, Any]:
    return {"tenant_id": user.tenant_id, "email": normalise_email(user.email),
            "display_name": user.display_name}


def _fields_of_group(group: DirectoryGroup) -> dict[str, Any]:
    return {"tenant_id": group.tenant_id, "name": group.name, "description": group.description}


def _reconcile(
    repo: Repository[Any], listed: Sequence[Any], fields: Any, make: Any, now: datetime,
) -> SyncCounts:
    counts = dict.fromkeys(("added", "updated", "deleted", "undeleted", "unchanged"), 0)
    listed_ids = {item.id for item in listed}
    for item in listed:
        wanted = fields(item)
        current = repo.get(item.id)
        if current is None:
            repo.add(make(item, wanted))
            counts["added"] += 1
            continue
        revived = current.status is UserStatus.DELETED
        differs = any(getattr(current, k) != v for k, v in wanted.items())
        adopt = current.source is not DirectorySource.DIRECTORY
        if not (revived or differs or adopt):
            counts["unchanged"] += 1
            continue
        repo.update(attrs.evolve(
            current, **wanted, status=UserStatus.ACTIVE, deleted_at=None,
            source=DirectorySource.DIRECTORY, updated_at=now, synced_at=now,
        ))
        counts["undeleted" if revived else "updated"] += 1
    gone = repo.find({"source": DirectorySource.DIRECTORY, "status": UserStatus.ACTIVE})
    for current in gone:
        if current.id not in listed_ids:
            repo.update(attrs.evolve(
                current, status=UserStatus.DELETED, deleted_at=now, updated_at=now,
                synced_at=now,
            ))
            counts["deleted"] += 1
    return SyncCounts(**counts)


def _memberships(uow: UnitOfWork, groups: Sequence[DirectoryGroup],
                 now: datetime) -> tuple[int, int]:
    added = removed = 0
    for group in groups:
        wanted = set(group.member_ids)
        current = {m.user_id: m for m in uow.group_memberships.find({"group_id": group.id})}
        for user_id in sorted(wanted - set(current)):
            uow.group_memberships.add(GroupMembership(
                id=membership_id(group.id, user_id), group_id=group.id, user_id=user_id,
                created_at=now,
            ))
            added += 1
        for user_id in sorted(set(current) - wanted):
            uow.group_memberships.delete(current[user_id])
            removed += 1
    return added, removed


def reconcile_directory(
    uow: UnitOfWork, snapshot: DirectorySnapshot, *, now: datetime, ids: IdFactory,
    actor: Actor,
) -> SyncReport:
    """Make the stored users, groups and memberships match ``snapshot``; the caller commits.

    One audit entry summarises a sync that changed anything.
    """
    _unique(snapshot.users, "user")
    _unique(snapshot.groups, "group")

    def new_user(item: DirectoryUser, wanted: dict[str, Any]) -> User:
        return User(id=item.id, **wanted, source=DirectorySource.DIRECTORY,
                    created_at=now, updated_at=now, synced_at=now)

    def new_group(item: DirectoryGroup, wanted: dict[str, Any]) -> Group:
        return Group(id=item.id, **wanted, source=DirectorySource.DIRECTORY,
                     created_at=now, updated_at=now, synced_at=now)

    users = _reconcile(uow.users, snapshot.users, _fields_of_user, new_user, now)
    groups = _reconcile(uow.groups, snapshot.groups, _fields_of_group, new_group, now)
    added, removed = _memberships(uow, snapshot.groups, now)
    report = SyncReport(users=users, groups=groups, memberships_added=added,
                        memberships_removed=removed)
    if report.changed:
        summary = {"users": attrs.asdict(users), "groups": attrs.asdict(groups),
                   "memberships_added": added, "memberships_removed": removed}
        record_change(uow, actor=actor, action="directory.sync", resource_type="directory",
                      resource_id="directory", before=None, after=summary, now=now, ids=ids)
    return report

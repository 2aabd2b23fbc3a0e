"""The audit log of administrative changes (tag ``admin``): ``GET /api/v1/admin/audit-log``."""

from __future__ import annotations

from typing import Any

import attrs

from scaicontrol_core.access import Scope

from ..api import Call, Endpoint, Page, ResponseKind
from ..fields import field
from ._common import pick
from ._views import AuditEntryResponse

__all__ = ["ENDPOINTS", "AuditQuery"]


@attrs.frozen(kw_only=True)
class AuditQuery:
    actor_id: str | None = field(default=None, max_length=255, description="Who acted.")
    action: str | None = field(default=None, max_length=64,
                               description="e.g. billing_profile.upsert, user.grant_role.")
    resource_type: str | None = field(default=None, max_length=32,
                                      description="e.g. user, group, tenant, partner.")
    resource_id: str | None = field(default=None, max_length=255)
    tenant_id: str | None = field(default=None, max_length=36)
    partner_id: str | None = field(default=None, max_length=36)


async def list_audit_log(call: Call[None, AuditQuery, None]) -> Page[AuditEntryResponse]:
    """Administrative changes, newest first, with the record before and after each."""
    where = {k: v for k, v in attrs.asdict(call.query).items() if v is not None}

    def read() -> Page[AuditEntryResponse]:
        with call.storage.unit_of_work() as uow:
            found = uow.audit_log.find(where, order_by=["-occurred_at", "-id"],
                                       offset=call.page.offset, limit=call.page.limit)
            total = uow.audit_log.count(where)
        return Page(items=[_view(entry) for entry in found], total=total)

    return await call.run(read)


def _view(entry: Any) -> AuditEntryResponse:
    return pick(AuditEntryResponse, entry,
                before=dict(entry.before) if entry.before is not None else None,
                after=dict(entry.after) if entry.after is not None else None)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/admin/audit-log", handler=list_audit_log,
             access=Scope.ADMIN_PLATFORM, tag="admin", kind=ResponseKind.PAGE,
             response_schema=AuditEntryResponse, query_schema=AuditQuery,
             summary="List Audit Log"),
)

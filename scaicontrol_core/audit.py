"""The audit log: every administrative change, who made it, and the record before and after.

Entries are written in the same unit of work as the change, so a change and its entry are
committed (or rolled back) together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
import cattrs

from .identity_records import AuditEntry, Credential, RefreshToken, SigningKey
from .ids import IdFactory
from .ports import UnitOfWork
from .serialization import make_converter

__all__ = ["Actor", "record_change", "snapshot"]

_CONVERTER = make_converter()
#: Record types whose contents never enter the audit log (secrets and hashes).
_SECRET_TYPES = (Credential, RefreshToken, SigningKey)


@attrs.frozen(kw_only=True)
class Actor:
    """Who made a change: a principal's subject, or ``cli`` for the command line."""

    id: str
    request_id: str | None = None


def snapshot(record: Any, converter: cattrs.Converter | None = None) -> dict[str, Any] | None:
    """A JSON-ready copy of ``record`` for the log, without its version; secrets are
    reduced to their id."""
    if record is None:
        return None
    if isinstance(record, _SECRET_TYPES):
        return {"id": record.id}
    data: dict[str, Any] = (converter or _CONVERTER).unstructure(record)
    data.pop("version", None)
    return data


def record_change(
    uow: UnitOfWork,
    *,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str,
    before: Any,
    after: Any,
    now: datetime,
    ids: IdFactory,
    tenant_id: str | None = None,
    partner_id: str | None = None,
) -> AuditEntry | None:
    """Append an audit entry; nothing is written when ``before`` and ``after`` are equal."""
    old = before if isinstance(before, Mapping) or before is None else snapshot(before)
    new = after if isinstance(after, Mapping) or after is None else snapshot(after)
    if old == new and old is not None:
        return None
    entry = AuditEntry(
        id=ids.uuid(),
        occurred_at=now,
        actor_id=actor.id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        tenant_id=tenant_id,
        partner_id=partner_id,
        before=dict(old) if old is not None else None,
        after=dict(new) if new is not None else None,
        request_id=actor.request_id,
    )
    stored: AuditEntry = uow.audit_log.add(entry)
    return stored

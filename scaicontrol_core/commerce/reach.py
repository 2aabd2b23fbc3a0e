"""Whose subscriptions a caller may see and change.

A tenant acting for itself works in a unit of work confined to its tenant. Operators work
across tenants; a partner's operator reaches only its own partner's tenants, and anything
outside the reach reads as missing (404), never as forbidden, so ids do not leak.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..errors import NotFound
from ..ports import Storage, UnitOfWork

__all__ = ["EVERYTHING", "Reach"]


@attrs.frozen(kw_only=True)
class Reach:
    """``tenant_id``: one tenant, in a tenant-scoped unit of work. ``partner_id``: that
    partner's tenants. Neither: every tenant (platform operators, workers)."""

    tenant_id: str | None = None
    partner_id: str | None = None

    def open(self, storage: Storage) -> UnitOfWork:
        """A unit of work confined as this reach requires."""
        if self.tenant_id is not None:
            return storage.unit_of_work(tenant_id=self.tenant_id)
        return storage.unit_of_work(cross_tenant=True)

    def admits(self, record: Any) -> bool:
        """Whether a tenant-owned record (anything with ``tenant_id`` and ``partner_id``)
        is within reach."""
        if self.tenant_id is not None and record.tenant_id != self.tenant_id:
            return False
        return self.partner_id is None or record.partner_id == self.partner_id

    def check(self, record: Any, label: str) -> None:
        """Raise ``NotFound`` for a record outside the reach."""
        if not self.admits(record):
            raise NotFound(label, record.id)

    def where(self) -> dict[str, object]:
        """Equality filters that confine a listing to the reach."""
        found: dict[str, object] = {}
        if self.tenant_id is not None:
            found["tenant_id"] = self.tenant_id
        if self.partner_id is not None:
            found["partner_id"] = self.partner_id
        return found


#: The reach of platform operators and background jobs.
EVERYTHING = Reach()

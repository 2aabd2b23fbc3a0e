"""The in-memory repositories of subscriptions and pack subscriptions.

They extend the generic memory repository with the deadline query of
:class:`scaicontrol_core.commerce.store.LifecycleRepository`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scaicontrol_core.clock import ensure_utc
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.ports import Where

from .memory import SPECIALISED_REPOSITORIES, _Repository

__all__ = ["MemoryLifecycle"]


class MemoryLifecycle(_Repository):
    """Records with datetime deadlines the lifecycle jobs look up."""

    def find_due(
        self,
        field: str,
        before: datetime,
        where: Where | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Any]:
        if field not in self._fields:
            raise ValidationError(f"cannot filter on unknown field '{field}'", field=field)
        if offset < 0 or (limit is not None and limit < 0):
            raise ValidationError("offset and limit must not be negative")
        before = ensure_utc(before)
        found = [
            record
            for record in self.find(where, order_by=(field, "id"))
            if getattr(record, field) is not None and getattr(record, field) <= before
        ]
        return found[offset: None if limit is None else offset + limit]


SPECIALISED_REPOSITORIES["subscriptions"] = MemoryLifecycle
SPECIALISED_REPOSITORIES["pack_subscriptions"] = MemoryLifecycle

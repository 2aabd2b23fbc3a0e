"""Storage seam of the lifecycle jobs, beyond the generic repository.

The jobs look for subscriptions whose deadline (end of trial, of period, of a scheduled
cancellation, ...) has passed: a range on one datetime column, which the generic equality
``find`` cannot express. Every storage backend implements :class:`LifecycleRepository`
for ``subscriptions`` and ``pack_subscriptions``; the contract suite in
:mod:`scaicontrol_core.testing.catalog_storage_contract` pins its behaviour.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeVar

from ..ports import Repository, Where

__all__ = ["LifecycleRepository"]

R = TypeVar("R")


class LifecycleRepository(Repository[R], Protocol[R]):
    """Subscriptions or pack subscriptions, with the deadline query the jobs need."""

    def find_due(
        self,
        field: str,
        before: datetime,
        where: Where | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[R]:
        """Records matching ``where`` whose datetime ``field`` is set and at or before
        ``before``, earliest first (then by ``id``). Tenant scoping applies as in ``find``."""
        ...

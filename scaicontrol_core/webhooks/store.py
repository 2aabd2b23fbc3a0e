"""Storage seams of the webhook dispatcher, beyond the generic repository.

The dispatcher's hot path works in batches, and its listings filter on time ranges, which
the generic equality ``find`` cannot express. Every storage backend implements these
protocols for the ``webhook_deliveries`` and ``webhook_attempts`` record kinds; the contract
suite in :mod:`scaicontrol_core.testing.webhook_storage_contract` pins their behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from ..ports import Repository
from .model import PROGRESS_FIELDS, AttemptQuery, DeliveryAttempt, DeliveryQuery, WebhookDelivery

__all__ = ["PROGRESS_FIELDS", "AttemptRepository", "DeliveryRepository"]


class DeliveryRepository(Repository[WebhookDelivery], Protocol):
    """Deliveries, which double as the dispatcher's work queue."""

    def add_many(self, deliveries: Sequence[WebhookDelivery]) -> int:
        """Insert at version 1; deliveries whose id exists are skipped. Returns how many
        were inserted."""
        ...

    def claim_due(
        self, *, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[WebhookDelivery]:
        """Lease up to ``limit`` pending deliveries that are due (``next_attempt_at <= now``)
        and not leased (no lease, or an expired one), earliest first.

        The returned copies carry the new lease and version; concurrent claimers never get
        the same delivery while its lease holds.
        """
        ...

    def save_many(self, deliveries: Sequence[WebhookDelivery]) -> int:
        """Optimistic bulk update of the progress (:data:`PROGRESS_FIELDS`; the event a
        delivery carries never changes): each delivery is saved only if the stored version
        still equals its ``version``, which is then bumped by one. Returns how many were
        saved; the others changed meanwhile (for example, another worker reclaimed them)."""
        ...

    def find_matching(
        self, query: DeliveryQuery, *, offset: int = 0, limit: int | None = None
    ) -> list[WebhookDelivery]:
        """Deliveries matching every filter of ``query``, newest first (``created_at``,
        then ``id``, both descending)."""
        ...

    def count_matching(self, query: DeliveryQuery) -> int:
        """How many deliveries :meth:`find_matching` would return without paging."""
        ...


class AttemptRepository(Repository[DeliveryAttempt], Protocol):
    """The append-only history of delivery attempts."""

    def add_many(self, attempts: Sequence[DeliveryAttempt]) -> int:
        """Insert at version 1; attempts whose id exists are skipped. Returns how many
        were inserted."""
        ...

    def find_matching(
        self, query: AttemptQuery, *, offset: int = 0, limit: int | None = None
    ) -> list[DeliveryAttempt]:
        """Attempts matching every filter of ``query``, newest first (``attempted_at``, then
        ``attempt_number`` and ``id``, all descending)."""
        ...

    def count_matching(self, query: AttemptQuery) -> int:
        """How many attempts :meth:`find_matching` would return without paging."""
        ...

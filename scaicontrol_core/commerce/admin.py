"""Operator lifecycle operations on any subscription id: single-service or pack.

Operators act on what a tenant bought, whichever kind it is: an id naming a pack
subscription changes the pack and, with it, every child. An id naming a child of a pack is
refused (it follows its pack). Bulk operations apply one action to many ids, each in its
own unit of work, and report which succeeded and why the others failed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final

import attrs

from ..catalog_records import Subscription
from ..errors import NotFound, ScaiControlError, StorageError, ValidationError
from ..machines.subscription import SubscriptionStatus, SubscriptionTrigger
from .pack_service import PackService, PackSubscriptionView
from .reach import Reach
from .subscription_service import SubscriptionService

__all__ = [
    "MAX_BULK",
    "AdminLifecycle",
    "Bought",
    "BulkAction",
    "BulkFailure",
    "BulkResult",
]

#: Most ids one bulk request may name.
MAX_BULK: Final = 100

#: What an operator operation returns: a subscription, or a pack subscription with children.
Bought = Subscription | PackSubscriptionView


class BulkAction(enum.StrEnum):
    CANCEL = "cancel"  # at the end of the period (at once during a trial)
    CANCEL_IMMEDIATE = "cancel_immediate"
    SUSPEND = "suspend"
    RESUME = "resume"


@attrs.frozen(kw_only=True)
class BulkFailure:
    id: str
    error: ScaiControlError


@attrs.frozen(kw_only=True)
class BulkResult:
    succeeded: tuple[str, ...]
    failed: tuple[BulkFailure, ...]


class AdminLifecycle:
    """Cancel, resume, suspend and override subscriptions and pack subscriptions by id."""

    def __init__(self, subscriptions: SubscriptionService, packs: PackService) -> None:
        self.subscriptions = subscriptions
        self.packs = packs

    def _is_pack(self, reach: Reach, record_id: str) -> bool:
        with reach.open(self.subscriptions.storage) as uow:
            if uow.subscriptions.get(record_id) is not None:
                return False
            if uow.pack_subscriptions.get(record_id) is not None:
                return True
        raise NotFound("Subscription", record_id)

    def _either(self, reach: Reach, record_id: str, single: Callable[[], Subscription],
                pack: Callable[[], PackSubscriptionView]) -> Bought:
        return pack() if self._is_pack(reach, record_id) else single()

    def get(self, reach: Reach, record_id: str) -> Bought:
        return self._either(reach, record_id,
                            lambda: self.subscriptions.get(reach, record_id),
                            lambda: self.packs.get_subscription(reach, record_id))

    def cancel(self, reach: Reach, record_id: str, *, now: datetime, immediate: bool = False,
               reason: str | None = None) -> Bought:
        return self._either(
            reach, record_id,
            lambda: self.subscriptions.cancel(reach, record_id, now=now, immediate=immediate,
                                              reason=reason),
            lambda: self.packs.cancel(reach, record_id, now=now, immediate=immediate,
                                      reason=reason),
        )

    def resume(self, reach: Reach, record_id: str, *, now: datetime) -> Bought:
        return self._either(reach, record_id,
                            lambda: self.subscriptions.resume(reach, record_id, now=now),
                            lambda: self.packs.resume(reach, record_id, now=now))

    def suspend(self, reach: Reach, record_id: str, *, now: datetime) -> Bought:
        return self._either(
            reach, record_id,
            lambda: self.subscriptions.suspend(reach, record_id, now=now),
            lambda: self.packs.fire(reach, record_id, SubscriptionTrigger.SUSPEND, now=now),
        )

    def override(self, reach: Reach, record_id: str, *, now: datetime, plan: str | None = None,
                 status: SubscriptionStatus | None = None, quantity: int | None = None,
                 reason: str | None = None) -> Bought:
        """Plan, quantity and status of a subscription; only the status of a pack."""
        if self._is_pack(reach, record_id):
            if plan is not None or quantity is not None:
                raise ValidationError("a pack subscription's plans and quantities follow its "
                                      "pack; only its status can be overridden")
            if status is None:
                raise ValidationError("give a status to override", field="status")
            return self.packs.override_status(reach, record_id, status, now=now, reason=reason)
        return self.subscriptions.override(reach, record_id, now=now, plan=plan, status=status,
                                           quantity=quantity, reason=reason)

    def bulk(self, reach: Reach, action: BulkAction, record_ids: Sequence[str], *,
             now: datetime, reason: str | None = None) -> BulkResult:
        """Apply ``action`` to every id, best effort; duplicates are handled once."""
        if len(record_ids) > MAX_BULK:
            raise ValidationError(f"a bulk operation names at most {MAX_BULK} ids",
                                  field="subscription_ids")
        succeeded: list[str] = []
        failed: list[BulkFailure] = []
        for record_id in dict.fromkeys(record_ids):
            try:
                if action is BulkAction.CANCEL:
                    self.cancel(reach, record_id, now=now, reason=reason)
                elif action is BulkAction.CANCEL_IMMEDIATE:
                    self.cancel(reach, record_id, now=now, immediate=True, reason=reason)
                elif action is BulkAction.SUSPEND:
                    self.suspend(reach, record_id, now=now)
                else:
                    self.resume(reach, record_id, now=now)
            except StorageError:
                raise  # the storage is down: the request fails as a whole (503)
            except ScaiControlError as error:
                failed.append(BulkFailure(id=record_id, error=error))
            else:
                succeeded.append(record_id)
        return BulkResult(succeeded=tuple(succeeded), failed=tuple(failed))

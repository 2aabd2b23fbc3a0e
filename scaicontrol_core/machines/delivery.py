"""Lifecycle of one webhook delivery (one subscriber x one logical event).

The status values are the documented ``event_outbox`` delivery-row vocabulary: a row is
``pending`` until the subscriber acknowledges it (``dispatched``) or it is given up
(``dead``). A retry keeps the row ``pending`` and moves ``next_attempt_at`` forward; the
attempt count and the schedule live in :mod:`scaicontrol_core.webhooks`, not here.

The dispatcher only ever fires the four ``ATTEMPT_*`` triggers on a pending row, so
``dispatched`` and ``dead`` are final as far as automatic processing goes
(:data:`SETTLED_STATES`). The one way out of them is an operator's ``REDELIVER``, which puts
the row back to ``pending`` (the caller resets the attempt count and keeps ``event_id`` and
the idempotency key, so subscribers can deduplicate the repeat).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

from ._table import Machine

__all__ = [
    "AUTOMATIC_TRIGGERS",
    "DELIVERY",
    "SETTLED_STATES",
    "DeliveryStatus",
    "DeliveryTrigger",
]


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    DEAD = "dead"


class DeliveryTrigger(enum.StrEnum):
    ATTEMPT_SUCCEEDED = "attempt_succeeded"  # 2xx or 409
    ATTEMPT_FAILED_RETRYABLE = "attempt_failed_retryable"  # 5xx, timeout, network; attempts left
    ATTEMPT_FAILED_PERMANENT = "attempt_failed_permanent"  # 4xx other than 409
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"  # retryable failure of the last allowed attempt
    REDELIVER = "redeliver"  # operator re-queues a settled delivery


S, T = DeliveryStatus, DeliveryTrigger
TRANSITIONS: Final[Mapping[tuple[DeliveryStatus, DeliveryTrigger], DeliveryStatus]] = {
    (S.PENDING, T.ATTEMPT_SUCCEEDED): S.DISPATCHED,
    (S.PENDING, T.ATTEMPT_FAILED_RETRYABLE): S.PENDING,
    (S.PENDING, T.ATTEMPT_FAILED_PERMANENT): S.DEAD,
    (S.PENDING, T.ATTEMPTS_EXHAUSTED): S.DEAD,
    (S.DISPATCHED, T.REDELIVER): S.PENDING,
    (S.DEAD, T.REDELIVER): S.PENDING,
}

#: Triggers the dispatcher fires by itself; everything else is an operator action.
AUTOMATIC_TRIGGERS: Final = frozenset(
    {
        T.ATTEMPT_SUCCEEDED,
        T.ATTEMPT_FAILED_RETRYABLE,
        T.ATTEMPT_FAILED_PERMANENT,
        T.ATTEMPTS_EXHAUSTED,
    }
)

#: States no automatic trigger leaves: only ``REDELIVER`` moves a row out of them.
SETTLED_STATES: Final = frozenset({S.DISPATCHED, S.DEAD})

DELIVERY: Final = Machine(
    "webhook_delivery",
    TRANSITIONS,
    states=DeliveryStatus,
    triggers=DeliveryTrigger,
    initial=S.PENDING,
)

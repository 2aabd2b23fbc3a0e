"""What an attempt's result means for the delivery: done, retry later, or give up.

Response classes (the dispatcher's documented table, followed literally):

- any 2xx, and 409 (the subscriber already has the event) -> delivered;
- every other 4xx, 408 and 429 included -> dead at once, no retry;
- 5xx, a timeout or a network error (no response at all) -> retry;
- 1xx, 3xx and codes outside 100-599 are not in the table; they are retried (redirects
  are never followed).

Retries wait 1 min, 5 min, 30 min, 2 h, 12 h and 24 h after the 1st to 6th failed attempt;
a retryable failure of the 7th attempt makes the delivery dead.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Final, NamedTuple

from ..clock import ensure_utc
from ..errors import ValidationError
from ..machines.delivery import DELIVERY, DeliveryStatus, DeliveryTrigger

__all__ = [
    "BACKOFF_SCHEDULE",
    "MAX_ATTEMPTS",
    "REQUEST_TIMEOUT",
    "DeliveryOutcome",
    "NextAttempt",
    "backoff_delay",
    "classify_response",
    "next_attempt",
    "trigger_for",
]

#: Wait before attempt n + 2 after attempt n + 1 failed (index 0: before the 2nd attempt).
BACKOFF_SCHEDULE: Final[tuple[timedelta, ...]] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
    timedelta(hours=24),
)
#: The first attempt plus one per backoff step.
MAX_ATTEMPTS: Final = len(BACKOFF_SCHEDULE) + 1
#: Per-attempt limit for the whole request; exceeding it counts as a timeout.
REQUEST_TIMEOUT: Final = timedelta(seconds=10)


class DeliveryOutcome(enum.StrEnum):
    """How one attempt ended, as far as the delivery is concerned."""

    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


def classify_response(status_code: int | None) -> DeliveryOutcome:
    """Classify an attempt by its HTTP status; ``None`` means no response arrived (timeout,
    DNS failure, refused connection, TLS error, reset)."""
    if status_code is None:
        return DeliveryOutcome.RETRY
    if type(status_code) is not int:
        raise TypeError("status_code must be an int or None")
    if 200 <= status_code <= 299 or status_code == 409:
        return DeliveryOutcome.DELIVERED
    if 400 <= status_code <= 499:
        return DeliveryOutcome.DEAD
    return DeliveryOutcome.RETRY


def _check_attempt(attempt_number: int) -> None:
    if type(attempt_number) is not int or attempt_number < 1:
        raise ValidationError("attempt numbers start at 1", field="attempt_number")


def backoff_delay(attempt_number: int) -> timedelta | None:
    """The wait after failed attempt ``attempt_number`` (1-based), or ``None`` after the last."""
    _check_attempt(attempt_number)
    if attempt_number >= MAX_ATTEMPTS:
        return None
    return BACKOFF_SCHEDULE[attempt_number - 1]


def trigger_for(attempt_number: int, outcome: DeliveryOutcome) -> DeliveryTrigger:
    """The delivery-machine trigger that attempt ``attempt_number`` ending in ``outcome`` fires."""
    _check_attempt(attempt_number)
    outcome = DeliveryOutcome(outcome)
    if outcome is DeliveryOutcome.DELIVERED:
        return DeliveryTrigger.ATTEMPT_SUCCEEDED
    if outcome is DeliveryOutcome.DEAD:
        return DeliveryTrigger.ATTEMPT_FAILED_PERMANENT
    if attempt_number >= MAX_ATTEMPTS:
        return DeliveryTrigger.ATTEMPTS_EXHAUSTED
    return DeliveryTrigger.ATTEMPT_FAILED_RETRYABLE


class NextAttempt(NamedTuple):
    """The delivery's status after an attempt, and when to try again (pending only)."""

    status: DeliveryStatus
    next_attempt_at: datetime | None


def next_attempt(attempt_number: int, outcome: DeliveryOutcome, now: datetime) -> NextAttempt:
    """Where a pending delivery goes after attempt ``attempt_number`` ended at ``now``.

    ``attempt_number`` counts the attempt just made, starting at 1 (the stored
    ``attempt_count`` after incrementing it).
    """
    now = ensure_utc(now)
    trigger = trigger_for(attempt_number, outcome)
    status = DELIVERY.fire(DeliveryStatus.PENDING, trigger)
    if status is DeliveryStatus.PENDING:
        # Still pending means attempts are left, so the schedule has an entry.
        return NextAttempt(status, now + BACKOFF_SCHEDULE[attempt_number - 1])
    return NextAttempt(status, None)

"""Response classification and the retry schedule of webhook deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.errors import ValidationError
from scaicontrol_core.machines.delivery import DELIVERY, DeliveryStatus, DeliveryTrigger
from scaicontrol_core.webhooks import (
    BACKOFF_SCHEDULE,
    MAX_ATTEMPTS,
    REQUEST_TIMEOUT,
    DeliveryOutcome,
    backoff_delay,
    classify_response,
    next_attempt,
    trigger_for,
)

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
D, R, X = DeliveryOutcome.DELIVERED, DeliveryOutcome.RETRY, DeliveryOutcome.DEAD


def _expected(code: int) -> DeliveryOutcome:
    if code in range(200, 300) or code == 409:
        return D
    if code in range(400, 500):
        return X
    return R  # 1xx, 3xx, 5xx


@pytest.mark.parametrize("code", range(100, 600))
def test_every_status_code_is_classified(code: int) -> None:
    """2xx and 409 deliver, other 4xx kill, everything else retries."""
    assert classify_response(code) is _expected(code)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (200, D),
        (202, D),
        (204, D),
        (299, D),
        (409, D),
        (400, X),
        (401, X),
        (403, X),
        (404, X),
        (408, X),
        (410, X),
        (422, X),
        (429, X),
        (500, R),
        (502, R),
        (503, R),
        (504, R),
        (301, R),
        (302, R),
        (101, R),
        (600, R),
        (99, R),
        (None, R),
    ],
)
def test_documented_examples(code: int | None, outcome: DeliveryOutcome) -> None:
    """The spec's examples, plus no-response (timeout or network error), classify as listed."""
    assert classify_response(code) is outcome


def test_a_non_integer_status_is_a_programming_error() -> None:
    """Strings and booleans are not status codes."""
    for bad in ("200", True, 200.0):
        with pytest.raises(TypeError):
            classify_response(bad)  # type: ignore[arg-type]


def test_the_schedule_constants() -> None:
    """1 min, 5 min, 30 min, 2 h, 12 h, 24 h; seven attempts; ten-second timeout."""
    expected = (
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
        timedelta(hours=24),
    )
    assert expected == BACKOFF_SCHEDULE
    assert MAX_ATTEMPTS == 7
    assert timedelta(seconds=10) == REQUEST_TIMEOUT


def test_attempt_instants_when_every_attempt_fails() -> None:
    """Attempts 1..7 happen at the documented cumulative offsets, then the row is dead."""
    instants = [T0]
    attempt, now = 1, T0
    while True:
        status, when = next_attempt(attempt, DeliveryOutcome.RETRY, now)
        if status is not DeliveryStatus.PENDING:
            break
        assert when is not None
        instants.append(when)
        attempt, now = attempt + 1, when
    assert instants == [
        T0,
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=6),
        T0 + timedelta(minutes=36),
        T0 + timedelta(hours=2, minutes=36),
        T0 + timedelta(hours=14, minutes=36),
        T0 + timedelta(hours=38, minutes=36),
    ]
    assert (attempt, status, when) == (7, DeliveryStatus.DEAD, None)


@pytest.mark.parametrize(
    ("attempt", "delay"),
    [
        (1, timedelta(minutes=1)),
        (2, timedelta(minutes=5)),
        (3, timedelta(minutes=30)),
        (4, timedelta(hours=2)),
        (5, timedelta(hours=12)),
        (6, timedelta(hours=24)),
        (7, None),
        (8, None),
    ],
)
def test_backoff_delay_per_attempt(attempt: int, delay: timedelta | None) -> None:
    """The wait after failed attempt n, none after the seventh."""
    assert backoff_delay(attempt) == delay


@pytest.mark.parametrize("attempt", [1, 3, 7, 12])
def test_success_and_permanent_failure_end_the_delivery(attempt: int) -> None:
    """Delivered and dead outcomes never schedule another attempt."""
    assert next_attempt(attempt, D, T0) == (DeliveryStatus.DISPATCHED, None)
    assert next_attempt(attempt, X, T0) == (DeliveryStatus.DEAD, None)


@pytest.mark.parametrize("bad", [0, -1, True])
def test_attempt_numbers_start_at_one(bad: int) -> None:
    """Attempt zero, negatives and booleans are refused."""
    with pytest.raises(ValidationError):
        next_attempt(bad, R, T0)
    with pytest.raises(ValidationError):
        backoff_delay(bad)


def test_next_attempt_needs_an_aware_now() -> None:
    """A naive clock reading is refused."""
    with pytest.raises(ValidationError):
        next_attempt(1, R, datetime(2026, 3, 1))


@given(attempt=st.integers(1, 30), outcome=st.sampled_from(DeliveryOutcome))
def test_next_attempt_follows_the_delivery_machine(attempt: int, outcome: DeliveryOutcome) -> None:
    """The status after an attempt is the machine's target for the chosen trigger."""
    trigger = trigger_for(attempt, outcome)
    status, when = next_attempt(attempt, outcome, T0)
    assert status is DELIVERY.fire(DeliveryStatus.PENDING, trigger)
    assert (when is not None) == (trigger is DeliveryTrigger.ATTEMPT_FAILED_RETRYABLE)
    if outcome is R:
        exhausted = attempt >= MAX_ATTEMPTS
        assert (trigger is DeliveryTrigger.ATTEMPTS_EXHAUSTED) == exhausted

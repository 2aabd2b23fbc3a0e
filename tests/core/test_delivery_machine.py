"""The webhook delivery machine: an exhaustive table test and its business paths."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.errors import InvalidTransition
from scaicontrol_core.machines import ALL_MACHINES, DELIVERY
from scaicontrol_core.machines.delivery import (
    AUTOMATIC_TRIGGERS,
    SETTLED_STATES,
    TRANSITIONS,
    DeliveryStatus,
    DeliveryTrigger,
)

S, T = DeliveryStatus, DeliveryTrigger
PAIRS = list(itertools.product(DeliveryStatus, DeliveryTrigger))


@pytest.mark.parametrize(("state", "trigger"), PAIRS)
def test_every_pair_follows_the_table_or_raises(state: S, trigger: T) -> None:
    """Each (state, trigger) either moves per TRANSITIONS or raises InvalidTransition."""
    if (state, trigger) in TRANSITIONS:
        assert DELIVERY.fire(state, trigger) is TRANSITIONS[state, trigger]
    else:
        with pytest.raises(InvalidTransition) as caught:
            DELIVERY.fire(state, trigger)
        assert caught.value.machine == "webhook_delivery"
        assert (caught.value.state, caught.value.trigger) == (state.value, trigger.value)


@given(state=st.sampled_from(DeliveryStatus), trigger=st.sampled_from(DeliveryTrigger))
def test_can_fire_agrees_with_fire(state: S, trigger: T) -> None:
    """can_fire is true exactly for the pairs fire accepts."""
    assert DELIVERY.can_fire(state, trigger) is ((state, trigger) in TRANSITIONS)


def test_the_table_is_exactly_the_documented_rules() -> None:
    """Pending resolves by attempt outcome; settled rows only leave by redelivery."""
    assert dict(TRANSITIONS) == {
        (S.PENDING, T.ATTEMPT_SUCCEEDED): S.DISPATCHED,
        (S.PENDING, T.ATTEMPT_FAILED_RETRYABLE): S.PENDING,
        (S.PENDING, T.ATTEMPT_FAILED_PERMANENT): S.DEAD,
        (S.PENDING, T.ATTEMPTS_EXHAUSTED): S.DEAD,
        (S.DISPATCHED, T.REDELIVER): S.PENDING,
        (S.DEAD, T.REDELIVER): S.PENDING,
    }


def test_status_values_are_the_documented_vocabulary() -> None:
    """Stored statuses are pending, dispatched and dead."""
    assert [s.value for s in DeliveryStatus] == ["pending", "dispatched", "dead"]
    assert DELIVERY.initial is S.PENDING


@pytest.mark.parametrize("state", sorted(SETTLED_STATES))
def test_settled_states_take_no_automatic_trigger(state: S) -> None:
    """Dispatched and dead are terminal for the dispatcher; only REDELIVER leaves them."""
    assert DELIVERY.allowed_triggers(state) == [T.REDELIVER]
    for trigger in AUTOMATIC_TRIGGERS:
        assert not DELIVERY.can_fire(state, trigger)


def test_automatic_triggers_only_apply_to_pending() -> None:
    """Every automatic trigger starts from pending."""
    sources = {source for (source, trigger) in TRANSITIONS if trigger in AUTOMATIC_TRIGGERS}
    assert sources == {S.PENDING}
    assert DELIVERY.terminal_states == frozenset()
    assert DELIVERY.reachable() == frozenset(DeliveryStatus)


@pytest.mark.parametrize(
    ("path", "final"),
    [
        ([T.ATTEMPT_SUCCEEDED], S.DISPATCHED),
        ([T.ATTEMPT_FAILED_RETRYABLE] * 6 + [T.ATTEMPT_SUCCEEDED], S.DISPATCHED),
        ([T.ATTEMPT_FAILED_RETRYABLE] * 6 + [T.ATTEMPTS_EXHAUSTED], S.DEAD),
        ([T.ATTEMPT_FAILED_PERMANENT], S.DEAD),
        ([T.ATTEMPT_FAILED_PERMANENT, T.REDELIVER, T.ATTEMPT_SUCCEEDED], S.DISPATCHED),
        ([T.ATTEMPT_SUCCEEDED, T.REDELIVER], S.PENDING),
    ],
)
def test_business_paths(path: list[T], final: S) -> None:
    """Typical delivery histories end in the expected status."""
    state = DELIVERY.initial
    for trigger in path:
        state = DELIVERY.fire(state, trigger)
    assert state is final


def test_the_machine_is_registered() -> None:
    """ALL_MACHINES includes the delivery machine for docs and tests."""
    assert DELIVERY in ALL_MACHINES

"""The subscription lifecycle, through the services, on any storage backend.

Subclass :class:`LifecycleContract` with a ``storage`` fixture yielding a fresh, empty,
migrated backend (as for :class:`~.storage_contract.StorageContract`). It checks every
(state, trigger) pair of the subscription machine against an explicit table of outcomes
and events, and plays a year of one subscription's life through time travel.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pytest

from ..commerce import EVERYTHING, PaymentFailure, TransitionContext
from ..errors import InvalidTransition
from ..machines.subscription import SUBSCRIPTION, SubscriptionStatus, SubscriptionTrigger
from ..ports import Storage
from .commerce_world import CommerceWorld

__all__ = ["EXPECTED", "LifecycleContract", "put_in_state"]

S, T = SubscriptionStatus, SubscriptionTrigger
_IMMEDIATE = {"effective_immediately": True, "terminal_state": "cancelled"}

#: (state, trigger) -> (state reached, topic recorded, fields the event data must carry).
#: Written out from the contract's tables, not derived from the implementation.
EXPECTED: Final[dict[tuple[SubscriptionStatus, SubscriptionTrigger],
                     tuple[SubscriptionStatus, str, dict[str, Any]]]] = {
    (S.PENDING, T.ACTIVATE_TRIAL): (S.TRIALING, "subscription.activated",
                                    {"status": "trialing"}),
    (S.PENDING, T.ACTIVATE): (S.ACTIVE, "subscription.activated", {"status": "active"}),
    (S.PENDING, T.PROVISIONING_FAILED): (S.CANCELLED, "subscription.cancelled", _IMMEDIATE),
    (S.TRIALING, T.CONVERT): (S.ACTIVE, "subscription.changed", {
        "change_kind": "status_change", "previous_state": "trialing", "state": "active"}),
    (S.TRIALING, T.CANCEL): (S.CANCELLED, "subscription.cancelled", _IMMEDIATE),
    (S.ACTIVE, T.PAYMENT_FAILED): (S.PAST_DUE, "subscription.payment_failed",
                                   {"attempt": 1, "amount_cents": 2900}),
    (S.ACTIVE, T.SCHEDULE_CANCELLATION): (S.CANCELLING, "subscription.changed", {
        "change_kind": "scheduled_cancellation", "state": "cancelling"}),
    (S.ACTIVE, T.CANCEL): (S.CANCELLED, "subscription.cancelled", _IMMEDIATE),
    (S.ACTIVE, T.EXPIRE): (S.EXPIRED, "subscription.cancelled", {"terminal_state": "expired"}),
    (S.PAST_DUE, T.PAYMENT_RECOVERED): (S.ACTIVE, "subscription.changed", {
        "change_kind": "status_change", "previous_state": "past_due", "state": "active"}),
    (S.PAST_DUE, T.SUSPEND): (S.SUSPENDED, "subscription.suspended",
                              {"previous_state": "past_due"}),
    (S.PAST_DUE, T.CANCEL): (S.CANCELLED, "subscription.cancelled", _IMMEDIATE),
    (S.SUSPENDED, T.RESUME): (S.ACTIVE, "subscription.resumed", {"state": "active"}),
    (S.SUSPENDED, T.CANCEL): (S.CANCELLED, "subscription.cancelled", _IMMEDIATE),
    (S.CANCELLING, T.REAP): (S.CANCELLED, "subscription.cancelled", {
        "effective_immediately": False, "terminal_state": "cancelled"}),
    (S.CANCELLING, T.UNDO_CANCELLATION): (S.ACTIVE, "subscription.changed", {
        "change_kind": "scheduled_cancellation_undone", "pending_cancellation_at": None}),
}

_FAILURE = PaymentFailure(amount_cents=2900, currency="EUR", failure_reason="card_declined")
_CONTEXT = TransitionContext(payment=_FAILURE, reason="test")
#: How each state is reached from a fresh ``scaikey.trial`` subscription.
_PATHS: Final[dict[SubscriptionStatus, tuple[SubscriptionTrigger, ...]]] = {
    S.TRIALING: (),
    S.ACTIVE: (T.CONVERT,),
    S.PAST_DUE: (T.CONVERT, T.PAYMENT_FAILED),
    S.CANCELLING: (T.CONVERT, T.SCHEDULE_CANCELLATION),
    S.SUSPENDED: (T.CONVERT, T.PAYMENT_FAILED, T.SUSPEND),
    S.CANCELLED: (T.CANCEL,),
    S.EXPIRED: (T.CONVERT, T.EXPIRE),
}


def put_in_state(world: CommerceWorld, state: SubscriptionStatus) -> Any:
    """A subscription of Acme to ``scaikey.trial`` in ``state``, reached along the table."""
    if state is S.PENDING:
        return world.subscribe("scaikey.trial", activate=False)
    sub = world.subscribe("scaikey.trial")
    for trigger in _PATHS[state]:
        sub = world.subscriptions.fire(world.tenant(), sub.id, trigger, now=world.now,
                                       context=_CONTEXT)
    assert sub.status is state
    return sub


_PAIRS = list(itertools.product(S, T))


def _at(day: int, month: int = 1) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


class LifecycleContract:
    """Subscription lifecycle behaviour every storage backend must support."""

    @pytest.fixture
    def world(self, storage: Storage) -> CommerceWorld:
        """A commerce world built on the backend under test."""
        return CommerceWorld.build(storage)

    def test_the_table_is_the_documented_one(self) -> None:
        """8 states, 16 transitions, pending first, cancelled and expired terminal."""
        assert len(S) == 8 and len(SUBSCRIPTION.transitions) == 16
        assert {pair: target for pair, (target, _, _) in EXPECTED.items()} == dict(
            SUBSCRIPTION.transitions)
        assert SUBSCRIPTION.initial is S.PENDING
        assert SUBSCRIPTION.terminal_states == {S.CANCELLED, S.EXPIRED}

    @pytest.mark.parametrize(("state", "trigger"), _PAIRS, ids=[f"{s}-{t}" for s, t in _PAIRS])
    def test_every_state_and_trigger(self, world: CommerceWorld, state: SubscriptionStatus,
                                     trigger: SubscriptionTrigger) -> None:
        """A listed pair moves and records exactly its event; any other pair is refused
        with InvalidTransition and changes nothing."""
        sub = put_in_state(world, state)
        world.clock.advance(timedelta(hours=1))
        before = world.snapshot()
        events_before = len(world.events())
        if (state, trigger) not in EXPECTED:
            with pytest.raises(InvalidTransition) as refused:
                world.subscriptions.fire(world.tenant(), sub.id, trigger, now=world.now,
                                         context=_CONTEXT)
            assert (refused.value.state, refused.value.trigger) == (state.value, trigger.value)
            assert world.snapshot() == before
            return
        target, topic, fields = EXPECTED[(state, trigger)]
        after = world.subscriptions.fire(world.tenant(), sub.id, trigger, now=world.now,
                                         context=_CONTEXT)
        assert after.status is target
        assert world.subscriptions.get(world.tenant(), sub.id) == after
        new = world.events()[events_before:]
        assert [e.event_type.value for e in new] == [topic]
        data = new[0].data
        assert {name: _wire(getattr(data, name)) for name in fields} == fields
        assert new[0].idempotency_key.startswith(f"subscription:{sub.id}:{topic.split('.')[1]}:")
        assert new[0].occurred_at == world.now
        assert (after.cancelled_at is not None) == (target is S.CANCELLED)
        assert (after.pending_cancellation_at is not None) == (target is S.CANCELLING)

    def test_a_year_of_life_through_time_travel(self, world: CommerceWorld) -> None:
        """Trial, conversion, renewals, a failed payment, dunning, suspension, resume,
        scheduled cancellation, undo and reaping: the exact events, in order."""
        assert world.policy.dunning_delay == timedelta(days=14)
        sub = world.subscribe("scaikey.trial")
        admin = EVERYTHING
        world.travel(_at(1, 4))
        world.subscriptions.record_payment_failure(admin, sub.id, _FAILURE, now=world.now)
        world.travel(_at(1, 5))
        world.subscriptions.resume(admin, sub.id, now=world.now)
        world.travel(_at(1, 7))
        world.subscriptions.cancel(admin, sub.id, now=world.now)
        world.travel(_at(10, 7))
        world.subscriptions.resume(admin, sub.id, now=world.now)
        world.travel(_at(5, 9))
        world.subscriptions.cancel(admin, sub.id, now=world.now, reason="moving on")
        world.travel(_at(31, 12))
        got = [(e.event_type.value, _step(e), e.occurred_at) for e in world.events(sub.id)]
        assert got == [
            ("subscription.activated", "trialing", _at(1)),
            ("subscription.trial_ending", "7", _at(8)),
            ("subscription.trial_ending", "3", _at(12)),
            ("subscription.trial_ending", "1", _at(14)),
            ("subscription.changed", "status_change", _at(15)),
            ("subscription.changed", "renewal", _at(15, 2)),
            ("subscription.changed", "renewal", _at(15, 3)),
            ("subscription.payment_failed", "1", _at(1, 4)),
            ("subscription.suspended", "dunning", _at(15, 4)),
            ("subscription.resumed", "active", _at(1, 5)),
            ("subscription.changed", "renewal", _at(1, 6)),
            ("subscription.changed", "renewal", _at(1, 7)),
            ("subscription.changed", "scheduled_cancellation", _at(1, 7) + _TICK),
            ("subscription.changed", "scheduled_cancellation_undone", _at(10, 7)),
            ("subscription.changed", "renewal", _at(1, 8)),
            ("subscription.changed", "renewal", _at(1, 9)),
            ("subscription.changed", "scheduled_cancellation", _at(5, 9)),
            ("subscription.cancelled", "reaped", _at(1, 10)),
        ]
        keys = [e.idempotency_key for e in world.events(sub.id)]
        assert len(set(keys)) == len(keys)
        final = world.subscriptions.get(admin, sub.id)
        assert final.status is S.CANCELLED and final.cancelled_at == _at(1, 10)
        assert final.cancellation_reason == "moving on"
        assert world.travel(_at(31, 12) + timedelta(days=400)) == []


_TICK: Final = timedelta(microseconds=1)


def _wire(value: Any) -> Any:
    return getattr(value, "value", value)


def _step(event: Any) -> str:
    """A short label of an event's kind, for the year's expected sequence."""
    data = event.data
    name = event.event_type.value
    if name == "subscription.changed":
        return str(data.change_kind.value)
    if name == "subscription.trial_ending":
        return str(data.days_remaining)
    if name == "subscription.payment_failed":
        return str(data.attempt)
    if name == "subscription.suspended":
        return str(data.reason.value)
    if name == "subscription.cancelled":
        return "immediate" if data.effective_immediately else "reaped"
    return str(getattr(data, "status", getattr(data, "state", "")))

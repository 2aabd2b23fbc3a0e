"""Random commands and clock jumps against the services, with the lifecycle invariants
checked after every step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.commerce import EVERYTHING, PaymentFailure, TransitionContext
from scaicontrol_core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from scaicontrol_core.events import Envelope, event_key
from scaicontrol_core.machines.subscription import (
    TRANSITIONS,
    SubscriptionStatus,
    SubscriptionTrigger,
)
from scaicontrol_core.testing.commerce_world import ACME, GLOBEX, NOPROFILE, PLANS, CommerceWorld

S, T = SubscriptionStatus, SubscriptionTrigger
EDGES = {(source, target) for (source, _), target in TRANSITIONS.items()}
TERMINAL = {S.CANCELLED, S.EXPIRED}
REFUSALS = (InvalidTransition, ValidationError, Conflict, NotFound)
PLAN_KEYS = [f"{service}.{slug}" for service, slug, *_ in PLANS]
FAILURE = PaymentFailure(amount_cents=100, currency="EUR")


def replay(events: list[Envelope], status_now: S) -> list[tuple[S, S]]:
    """The (from, to) state pairs a subscription's events imply, checked on the way."""
    state = S.PENDING
    moves: list[tuple[S, S]] = []

    def move(to: S, source: S | None = None) -> None:
        nonlocal state
        assert source is None or source is state, (source, state)
        moves.append((state, to))
        state = to

    for event in events:
        data: Any = event.data
        topic = event.event_type.value
        if topic == "subscription.activated":
            move(data.status)
        elif topic == "subscription.changed":
            assert data.previous_state is state
            if data.state is not state:
                move(data.state)
            else:
                assert data.change_kind.value in ("renewal", "plan_change", "quantity_change")
        elif topic == "subscription.cancelled":
            move(S(data.terminal_state.value))
        elif topic == "subscription.suspended":
            move(S.SUSPENDED, data.previous_state)
        elif topic == "subscription.resumed":
            move(S.ACTIVE, S.SUSPENDED)
        elif topic == "subscription.payment_failed":
            if data.attempt == 1:
                move(S.PAST_DUE, S.ACTIVE)
            else:
                assert state is S.PAST_DUE
        else:
            assert topic == "subscription.trial_ending" and state is S.TRIALING
    assert state is status_now
    return moves


class SubscriptionLifecycle(RuleBasedStateMachine):
    """Subscribers, operators and time acting on a small world at random."""

    subscriptions = Bundle("subscriptions")
    packs = Bundle("packs")

    def __init__(self) -> None:
        super().__init__()
        self.world = CommerceWorld.build(MemoryStorage())
        self.ended: dict[str, tuple[S, int]] = {}

    def attempt(self, action: Callable[[], Any]) -> Any:
        """Run an operation; a refusal must leave everything exactly as it was."""
        before = self.world.snapshot()
        try:
            return action()
        except REFUSALS:
            assert self.world.snapshot() == before
            return None

    @rule(target=subscriptions, plan=st.sampled_from(PLAN_KEYS),
          tenant=st.sampled_from([ACME, GLOBEX, NOPROFILE]), activate=st.booleans())
    def subscribe(self, plan: str, tenant: str, activate: bool) -> Any:
        sub = self.attempt(lambda: self.world.subscribe(plan, tenant, activate=activate))
        return multiple() if sub is None else sub.id

    @rule(target=packs, pack=st.sampled_from(["bundle", "trial-bundle"]),
          tenant=st.sampled_from([ACME, GLOBEX]))
    def buy_pack(self, pack: str, tenant: str) -> Any:
        view = self.attempt(lambda: self.world.packs.subscribe(
            EVERYTHING, tenant_id=tenant, pack=pack, now=self.world.now))
        return multiple() if view is None else view.pack_subscription.id

    @rule(sub=subscriptions, trigger=st.sampled_from(T))
    def fire(self, sub: str, trigger: T) -> None:
        context = TransitionContext(payment=FAILURE)
        self.attempt(lambda: self.world.subscriptions.fire(
            EVERYTHING, sub, trigger, now=self.world.now, context=context))

    @rule(sub=subscriptions, operation=st.sampled_from([
        "cancel", "cancel_now", "undo", "resume", "suspend", "convert", "fail", "recover"]))
    def operate(self, sub: str, operation: str) -> None:
        service, now = self.world.subscriptions, self.world.now
        calls = {
            "cancel": lambda: service.cancel(EVERYTHING, sub, now=now),
            "cancel_now": lambda: service.cancel(EVERYTHING, sub, now=now, immediate=True),
            "undo": lambda: service.undo_cancellation(EVERYTHING, sub, now=now),
            "resume": lambda: service.resume(EVERYTHING, sub, now=now),
            "suspend": lambda: service.suspend(EVERYTHING, sub, now=now),
            "convert": lambda: service.convert(EVERYTHING, sub, now=now),
            "fail": lambda: service.record_payment_failure(EVERYTHING, sub, FAILURE, now=now),
            "recover": lambda: service.record_payment_success(EVERYTHING, sub, now=now),
        }
        self.attempt(calls[operation])

    @rule(sub=subscriptions, plan=st.none() | st.sampled_from(PLAN_KEYS),
          quantity=st.none() | st.integers(0, 5), status=st.none() | st.sampled_from(S))
    def override(self, sub: str, plan: str | None, quantity: int | None,
                 status: S | None) -> None:
        self.attempt(lambda: self.world.admin.override(
            EVERYTHING, sub, now=self.world.now, plan=plan, quantity=quantity, status=status))

    @rule(pack=packs, trigger=st.sampled_from(T))
    def fire_pack(self, pack: str, trigger: T) -> None:
        self.attempt(lambda: self.world.packs.fire(EVERYTHING, pack, trigger,
                                                   now=self.world.now))

    @rule(pack=packs)
    def pack_payment_fails(self, pack: str) -> None:
        self.attempt(lambda: self.world.packs.record_payment_failure(EVERYTHING, pack,
                                                                     now=self.world.now))

    @rule(days=st.integers(0, 45), hours=st.integers(0, 23))
    def travel(self, days: int, hours: int) -> None:
        self.world.travel(self.world.now + timedelta(days=days, hours=hours))

    @rule(days=st.integers(1, 20))
    def workers_down(self, days: int) -> None:
        self.world.clock.advance(timedelta(days=days))  # jobs catch up at the next travel

    @invariant()
    def lifecycle_invariants(self) -> None:
        events = self.world.events()
        by_resource: dict[str, list[Envelope]] = {}
        for event in events:
            assert event.idempotency_key == event_key(event.data)
            by_resource.setdefault(event.data.resource_id, []).append(event)
        with self.world.storage.unit_of_work(cross_tenant=True) as uow:
            subs = uow.subscriptions.find()
            packs = {p.id: p for p in uow.pack_subscriptions.find()}
        for sub in subs:
            assert sub.status in S
            mine = by_resource.get(sub.id, [])
            if sub.pack_subscription_id is not None:
                pack = packs[sub.pack_subscription_id]
                assert mine == [] and sub.status is pack.status
                continue
            assert set(replay(mine, sub.status)) <= EDGES
            assert len(mine) == sub.version - 1  # every change recorded exactly once
            self._field_rules(sub)
            if sub.id in self.ended:
                assert self.ended[sub.id] == (sub.status, sub.version)
            elif sub.status in TERMINAL:
                self.ended[sub.id] = (sub.status, sub.version)
        for pack in packs.values():
            moves = []
            state = S.PENDING
            for event in by_resource.get(pack.id, []):
                data: Any = event.data
                target = S.CANCELLED if event.event_type.value.endswith("cancelled") else (
                    data.status)
                moves.append((state, target))
                state = target
            assert state is pack.status and set(moves) <= EDGES

    @staticmethod
    def _field_rules(sub: Any) -> None:
        assert (sub.pending_cancellation_at is not None) == (sub.status is S.CANCELLING)
        assert (sub.cancelled_at is not None) == (sub.status is S.CANCELLED)
        if sub.status in (S.PAST_DUE, S.SUSPENDED):
            assert sub.past_due_since is not None and sub.payment_failures >= 1
        if sub.status in (S.PENDING, S.TRIALING, S.ACTIVE, S.CANCELLING):
            assert sub.past_due_since is None
        if sub.status is S.TRIALING:
            assert sub.trial_ends_at is not None
        if sub.status is S.ACTIVE and sub.current_period_end is not None:
            assert sub.current_period_start is not None
            assert sub.current_period_start < sub.current_period_end


SubscriptionLifecycle.TestCase.settings = settings(
    stateful_step_count=40, deadline=None, max_examples=settings().max_examples
)
TestSubscriptionLifecycle = SubscriptionLifecycle.TestCase
TestSubscriptionLifecycle.__doc__ = "Random lifecycles never break the documented invariants."

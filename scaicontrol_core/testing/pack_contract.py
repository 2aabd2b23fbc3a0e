"""Service packs and pack subscriptions, through the services, on any storage backend.

Subclass :class:`PackContract` with a ``storage`` fixture yielding a fresh, empty,
migrated backend. It checks that buying a pack creates its children, that every change of
the pack cascades to them in the same transaction, and that only the pack records events.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final

import pytest

from ..commerce import EVERYTHING, BulkAction, PackChanges, PackSubscriptionView
from ..errors import Conflict, InvalidTransition, ValidationError
from ..events import Envelope
from ..machines.pack_subscription import PACK_SUBSCRIPTION
from ..machines.subscription import SubscriptionStatus, SubscriptionTrigger
from ..ports import Storage
from .commerce_world import ACME, NOPROFILE, CommerceWorld

__all__ = ["PackContract"]

S, T = SubscriptionStatus, SubscriptionTrigger
#: How each reachable pack state is reached from the plain ``bundle`` pack.
_PATHS: Final = {
    S.ACTIVE: (),
    S.PAST_DUE: (T.PAYMENT_FAILED,),
    S.SUSPENDED: (T.PAYMENT_FAILED, T.SUSPEND),
    S.CANCELLING: (T.SCHEDULE_CANCELLATION,),
    S.CANCELLED: (T.CANCEL,),
}
_PAIRS = list(itertools.product(_PATHS, T))


def payload(event: Envelope) -> Any:
    """An event's data, with its topic's fields."""
    return event.data


def as_pack(result: object) -> Any:
    """The pack subscription of an operator operation's result."""
    assert isinstance(result, PackSubscriptionView)
    return result.pack_subscription


def buy(world: CommerceWorld, pack: str = "bundle", tenant_id: str = ACME) -> Any:
    return world.packs.subscribe(world.tenant(tenant_id), tenant_id=tenant_id, pack=pack,
                                 now=world.now)


class PackContract:
    """Pack behaviour every storage backend must support."""

    @pytest.fixture
    def world(self, storage: Storage) -> CommerceWorld:
        """A commerce world built on the backend under test."""
        return CommerceWorld.build(storage)

    def test_buying_creates_one_child_per_item_and_one_event(self, world: CommerceWorld) -> None:
        """Children mirror the pack; only pack_subscription.activated is recorded."""
        view = buy(world)
        pack = view.pack_subscription
        assert (pack.status, pack.price_cents, pack.currency) == (S.ACTIVE, 11638, "EUR")
        assert sorted(c.plan_key for c in view.children) == [
            "scaidrive.basic", "scaikey.pro", "scaivault.pro"]
        for child in view.children:
            assert child.pack_subscription_id == pack.id and child.status is S.ACTIVE
            assert child.current_period_end == pack.current_period_end
        [event] = world.events()
        data = payload(event)
        assert event.event_type.value == "pack_subscription.activated"
        assert event.idempotency_key == f"pack_subscription:{pack.id}:activated:initial"
        assert data.mrr_amount_cents == 11638 and data.status is S.ACTIVE
        assert [i.subscription_id for i in data.items] == sorted(
            c.id for c in view.children)
        assert world.packs.get_subscription(world.tenant(), pack.id) == view

    def test_a_pack_with_trial_days_starts_trialing(self, world: CommerceWorld) -> None:
        """trial_days on the pack put the pack and its children in a trial."""
        view = buy(world, "trial-bundle")
        assert view.pack_subscription.status is S.TRIALING
        assert view.pack_subscription.trial_ends_at == world.now + timedelta(days=10)
        assert {c.status for c in view.children} == {S.TRIALING}
        assert payload(world.events()[0]).trial_ends_at == world.now + timedelta(days=10)

    def test_refused_purchases_change_nothing(self, world: CommerceWorld) -> None:
        """A live subscription to a pack service, or no billing profile, stops the sale."""
        world.subscribe("scaivault.pro")
        before = world.snapshot()
        with pytest.raises(Conflict):
            buy(world)
        with pytest.raises(ValidationError, match="billing profile"):
            buy(world, tenant_id=NOPROFILE)
        assert world.snapshot() == before

    def test_scheduled_cancellation_cascades_and_is_reaped(self, world: CommerceWorld) -> None:
        """Pack and children become cancelling, then cancelled at the period end; the pack
        records changed then cancelled, the children nothing."""
        view = buy(world)
        pack_id = view.pack_subscription.id
        world.clock.advance(timedelta(days=3))
        cancelling = world.packs.cancel(world.tenant(), pack_id, now=world.now, reason="budget")
        assert {c.status for c in cancelling.children} == {S.CANCELLING}
        end = view.pack_subscription.current_period_end
        assert cancelling.pack_subscription.pending_cancellation_at == end
        world.travel(end + timedelta(hours=1))
        done = world.packs.get_subscription(world.tenant(), pack_id)
        assert done.pack_subscription.status is S.CANCELLED
        assert {(c.status, c.cancelled_at) for c in done.children} == {(S.CANCELLED, end)}
        topics = [e.event_type.value for e in world.events()]
        assert topics == ["pack_subscription.activated", "pack_subscription.changed",
                          "pack_subscription.cancelled"]
        assert payload(world.events()[-1]).cancellation_reason == "budget"

    def test_children_follow_their_pack_only(self, world: CommerceWorld) -> None:
        """Operations on a child are refused; an operator acts on the pack instead."""
        child = buy(world).children[0]
        before = world.snapshot()
        with pytest.raises(ValidationError, match="pack"):
            world.subscriptions.cancel(world.tenant(), child.id, now=world.now)
        with pytest.raises(ValidationError, match="pack"):
            world.admin.override(EVERYTHING, child.id, now=world.now, quantity=2)
        with pytest.raises(ValidationError, match="pack"):
            world.subscriptions.change(world.tenant(), child.id, now=world.now, quantity=2)
        assert world.snapshot() == before

    @pytest.mark.parametrize(("state", "trigger"), _PAIRS,
                             ids=[f"{s}-{t}" for s, t in _PAIRS])
    def test_every_pack_transition_cascades(self, world: CommerceWorld,
                                            state: SubscriptionStatus,
                                            trigger: SubscriptionTrigger) -> None:
        """Listed pairs move pack and children together with one pack event; others (and
        expiry, which packs do not have) are refused and change nothing."""
        pack_id = buy(world).pack_subscription.id
        for step in _PATHS[state]:
            world.packs.fire(EVERYTHING, pack_id, step, now=world.now)
        world.clock.advance(timedelta(hours=1))
        before, count = world.snapshot(), len(world.events())
        allowed = PACK_SUBSCRIPTION.can_fire(state, trigger) and trigger is not T.EXPIRE
        if not allowed:
            error = ValidationError if trigger is T.EXPIRE else InvalidTransition
            with pytest.raises(error):
                world.packs.fire(EVERYTHING, pack_id, trigger, now=world.now)
            assert world.snapshot() == before
            return
        view = world.packs.fire(EVERYTHING, pack_id, trigger, now=world.now)
        target = PACK_SUBSCRIPTION.fire(state, trigger)
        assert view.pack_subscription.status is target
        assert {c.status for c in view.children} == {target}
        [event] = world.events()[count:]
        expected = ("pack_subscription.cancelled" if target is S.CANCELLED
                    else "pack_subscription.changed")
        assert event.event_type.value == expected and event.occurred_at == world.now
        if expected == "pack_subscription.changed":
            assert (payload(event).previous_status, payload(event).status) == (
                state, target)

    def test_renewal_and_dunning_move_the_whole_pack(self, world: CommerceWorld) -> None:
        """Periods roll over for pack and children; dunning suspends them all."""
        view = buy(world)
        pack_id = view.pack_subscription.id
        first_end = view.pack_subscription.current_period_end
        world.travel(first_end + timedelta(days=1))
        renewed = world.packs.get_subscription(world.tenant(), pack_id)
        assert renewed.pack_subscription.current_period_start == first_end
        assert {c.current_period_start for c in renewed.children} == {first_end}
        assert len(world.events()) == 1  # packs record no renewal
        world.packs.record_payment_failure(EVERYTHING, pack_id, now=world.now)
        world.packs.record_payment_failure(EVERYTHING, pack_id, now=world.now)
        world.travel(world.now + timedelta(days=15))
        suspended = world.packs.get_subscription(world.tenant(), pack_id)
        assert suspended.pack_subscription.status is S.SUSPENDED
        assert suspended.pack_subscription.payment_failures == 2
        assert {c.status for c in suspended.children} == {S.SUSPENDED}
        statuses = [payload(e).status for e in world.events()[1:]]
        assert statuses == [S.PAST_DUE, S.SUSPENDED]

    def test_pack_prices_are_fixed_at_purchase(self, world: CommerceWorld) -> None:
        """Changing a pack later leaves existing pack subscriptions' price alone."""
        pack_id = buy(world).pack_subscription.id
        quote = world.packs.update_pack("bundle", PackChanges(
            discount_percentage=Decimal("50")), now=world.now)
        assert quote.price_cents == 6650 and quote.list_price_cents == 13300
        assert world.packs.get_subscription(
            world.tenant(), pack_id).pack_subscription.price_cents == 11638

    def test_only_unsold_packs_can_be_deleted(self, world: CommerceWorld) -> None:
        """A pack with subscriptions conflicts; one nobody bought is removed."""
        buy(world)
        with pytest.raises(Conflict):
            world.packs.delete_pack("bundle")
        world.packs.delete_pack("trial-bundle")
        assert [q.pack.slug for q in world.packs.list_packs()[0]] == ["bundle"]

    def test_operators_act_on_packs_by_id(self, world: CommerceWorld) -> None:
        """The operator operations accept a pack subscription id and cascade."""
        pack_id = buy(world).pack_subscription.id
        admin = world.admin
        assert as_pack(admin.cancel(EVERYTHING, pack_id, now=world.now)).status is S.CANCELLING
        assert as_pack(admin.resume(EVERYTHING, pack_id, now=world.now)).status is S.ACTIVE
        with pytest.raises(ValidationError, match="only its status"):
            admin.override(EVERYTHING, pack_id, now=world.now, plan="scaikey.yearly")
        world.packs.record_payment_failure(EVERYTHING, pack_id, now=world.now)
        view = admin.override(EVERYTHING, pack_id, now=world.now, status=S.SUSPENDED)
        assert isinstance(view, PackSubscriptionView)
        assert {c.status for c in view.children} == {S.SUSPENDED}
        result = admin.bulk(EVERYTHING, BulkAction.RESUME, [pack_id, "missing"], now=world.now)
        assert result.succeeded == (pack_id,) and [f.id for f in result.failed] == ["missing"]

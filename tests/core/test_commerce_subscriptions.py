"""The subscription service: buying, cancelling, payments, plan changes and overrides."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.commerce import EVERYTHING, PaymentFailure, Reach
from scaicontrol_core.commerce.subscription_service import subscribe_in
from scaicontrol_core.errors import (
    ConcurrencyConflict,
    Conflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from scaicontrol_core.events import ChangeKind, OwnerKind
from scaicontrol_core.machines.subscription import SubscriptionStatus as S
from scaicontrol_core.records import OrgStatus
from scaicontrol_core.testing.commerce_world import ACME, GLOBEX, NOPROFILE, CommerceWorld

FAILED = PaymentFailure(amount_cents=9900, currency="EUR", invoice_id="inv-1",
                        failure_reason="insufficient_funds")


@pytest.fixture
def world() -> CommerceWorld:
    """A commerce world on memory storage."""
    return CommerceWorld.build(MemoryStorage())


def test_a_trial_plan_starts_trialing_with_one_activated_event(world: CommerceWorld) -> None:
    """Trial plans start trialing for their trial days; the event carries the plan facts."""
    sub = world.subscribe("scaikey.trial", quantity=3)
    assert sub.status is S.TRIALING and sub.version == 2
    assert sub.trial_ends_at == world.now + timedelta(days=14) == sub.current_period_end
    [event] = world.events()
    data = event.data
    assert event.idempotency_key == f"subscription:{sub.id}:activated:initial"
    assert (data.owner_kind, data.tenant_id, data.scaicontrol_customer_id, data.partner_id) == (
        OwnerKind.TENANT, ACME, ACME, "prt_op")
    assert (data.plan_key, data.service_slug, data.quantity, data.mrr_amount_cents) == (
        "scaikey.trial", "scaikey", 3, 8700)
    assert data.trial_ends_at == sub.trial_ends_at and data.activated_at == world.now


def test_paid_plans_start_active_with_a_period(world: CommerceWorld) -> None:
    """Monthly and yearly plans get their first period; one-time plans get none."""
    monthly = world.subscribe("scaikey.pro")
    once = world.subscribe("scaivault.once")
    assert monthly.status is S.ACTIVE and monthly.trial_ends_at is None
    assert monthly.current_period_end == world.now.replace(month=2)
    assert once.status is S.ACTIVE and once.current_period_end is None
    assert world.events(monthly.id)[0].data.current_period_end == monthly.current_period_end


@pytest.mark.parametrize(("tenant", "plan", "error"), [
    (NOPROFILE, "scaikey.pro", ValidationError),
    (ACME, "scaikey.missing", NotFound),
    (ACME, "00000000-0000-4000-8000-00000000ffff", NotFound),
    ("tnt_nobody", "scaikey.pro", NotFound),
])
def test_purchases_that_break_a_rule_change_nothing(world: CommerceWorld, tenant: str,
                                                    plan: str, error: type[Exception]) -> None:
    """No billing profile, unknown plan or tenant: refused, nothing stored or recorded."""
    before = world.snapshot()
    with pytest.raises(error):
        world.subscriptions.subscribe(EVERYTHING, tenant_id=tenant, plan=plan, now=world.now)
    assert world.snapshot() == before


def test_billing_profile_message_names_the_prerequisite(world: CommerceWorld) -> None:
    """The refusal tells the caller what to do."""
    with pytest.raises(ValidationError, match="no billing profile"):
        world.subscribe("scaikey.pro", tenant_id=NOPROFILE)


def test_suspended_tenants_and_retired_plans_cannot_buy(world: CommerceWorld) -> None:
    """An inactive tenant or a plan no longer for sale is a validation error."""
    from scaicontrol_core.commerce import PlanChanges

    world.catalog.update_plan("scaikey.pro", PlanChanges(is_active=False), now=world.now)
    with pytest.raises(ValidationError, match="not for sale"):
        world.subscribe("scaikey.pro")
    with world.storage.unit_of_work() as uow:
        tenant = uow.tenants.require(GLOBEX)
        uow.tenants.update(attrs.evolve(tenant, status=OrgStatus.SUSPENDED))
        uow.commit()
    with pytest.raises(ValidationError, match="suspended"):
        world.subscribe("scaikey.yearly", tenant_id=GLOBEX)


def test_one_live_subscription_per_service(world: CommerceWorld) -> None:
    """A second live subscription to the same service conflicts; after the end it is fine."""
    first = world.subscribe("scaikey.pro")
    with pytest.raises(Conflict):
        world.subscribe("scaikey.yearly")
    world.subscriptions.cancel(world.tenant(), first.id, now=world.now, immediate=True)
    assert world.subscribe("scaikey.yearly").status is S.ACTIVE


def test_concurrent_purchases_for_one_tenant_cannot_both_commit(world: CommerceWorld) -> None:
    """Two units of work buying for the same tenant: the later commit is refused."""
    with world.storage.unit_of_work(tenant_id=ACME) as one, \
            world.storage.unit_of_work(tenant_id=ACME) as two:
        subscribe_in(one, world.ids, world.tenant(), tenant_id=ACME, plan="scaikey.pro",
                     now=world.now)
        subscribe_in(two, world.ids, world.tenant(), tenant_id=ACME, plan="scaikey.yearly",
                     now=world.now)
        one.commit()
        with pytest.raises(ConcurrencyConflict):
            two.commit()
    assert world.subscriptions.list(world.tenant())[1] == 1


def test_reach_hides_other_tenants_and_partners(world: CommerceWorld) -> None:
    """A tenant sees only its own; a partner only its tenants'; outside reads as missing."""
    acme = world.subscribe("scaikey.pro")
    globex = world.subscribe("scaikey.pro", tenant_id=GLOBEX)
    with pytest.raises(NotFound):
        world.subscriptions.get(Reach(tenant_id=GLOBEX), acme.id)
    with pytest.raises(NotFound):
        world.subscriptions.cancel(Reach(partner_id="prt_res"), acme.id, now=world.now)
    assert [s.id for s in world.subscriptions.list(Reach(partner_id="prt_res"))[0]] == [
        globex.id]
    assert world.subscriptions.list(Reach(tenant_id=ACME), tenant_id=GLOBEX) == ([], 0)
    assert world.subscriptions.list(EVERYTHING, plan_key="scaikey.pro")[1] == 2
    with pytest.raises(NotFound):
        world.subscriptions.subscribe(Reach(partner_id="prt_res"), tenant_id=ACME,
                                      plan="scaidrive.basic", now=world.now)


def test_provisioning_reports_move_pending_subscriptions(world: CommerceWorld) -> None:
    """A pending subscription is activated when provisioning succeeds, cancelled if not."""
    pending = world.subscribe("scaikey.trial", activate=False)
    assert pending.status is S.PENDING and world.events() == []
    assert world.subscriptions.activate(world.tenant(), pending.id,
                                        now=world.now).status is S.TRIALING
    other = world.subscribe("scaidrive.basic", activate=False)
    failed = world.subscriptions.fail_provisioning(world.tenant(), other.id, now=world.now,
                                                   reason="backend down")
    assert failed.status is S.CANCELLED and failed.cancellation_reason == "backend down"
    assert world.events(other.id)[0].data.effective_immediately is True


def test_cancelling_a_trial_is_immediate_and_a_paid_one_waits(world: CommerceWorld) -> None:
    """Trials end at once; active subscriptions end with their period."""
    trial = world.subscribe("scaikey.trial")
    paid = world.subscribe("scaidrive.basic")
    world.clock.advance(timedelta(hours=1))
    ended = world.subscriptions.cancel(world.tenant(), trial.id, now=world.now)
    waiting = world.subscriptions.cancel(world.tenant(), paid.id, now=world.now, reason="cost")
    assert ended.status is S.CANCELLED and ended.cancelled_at == world.now
    assert waiting.status is S.CANCELLING
    assert waiting.pending_cancellation_at == paid.current_period_end
    [_, scheduled] = world.events(paid.id)
    assert scheduled.data.change_kind is ChangeKind.SCHEDULED_CANCELLATION
    assert scheduled.data.pending_cancellation_at == paid.current_period_end
    with pytest.raises(ValidationError):
        world.subscriptions.cancel(world.tenant(), paid.id, now=world.now, reason="x" * 501)


def test_tenants_undo_cancellations_but_only_operators_lift_suspensions(
    world: CommerceWorld,
) -> None:
    """undo_cancellation never resumes a suspension; resume picks the right transition."""
    sub = world.subscribe("scaikey.pro")
    world.subscriptions.record_payment_failure(EVERYTHING, sub.id, FAILED, now=world.now)
    world.subscriptions.suspend(EVERYTHING, sub.id, now=world.now)
    with pytest.raises(InvalidTransition):
        world.subscriptions.undo_cancellation(world.tenant(), sub.id, now=world.now)
    resumed = world.subscriptions.resume(EVERYTHING, sub.id, now=world.now)
    assert resumed.status is S.ACTIVE and resumed.past_due_since is None
    with pytest.raises(InvalidTransition):
        world.subscriptions.suspend(EVERYTHING, sub.id, now=world.now)  # no active -> suspended


def test_repeated_payment_failures_count_attempts(world: CommerceWorld) -> None:
    """Each failure records payment_failed with the next attempt; success clears it."""
    sub = world.subscribe("scaikey.pro")
    first = world.subscriptions.record_payment_failure(EVERYTHING, sub.id, FAILED,
                                                       now=world.now)
    world.clock.advance(timedelta(days=3))
    second = world.subscriptions.record_payment_failure(EVERYTHING, sub.id, FAILED,
                                                        now=world.now)
    assert (second.status, second.payment_failures) == (S.PAST_DUE, 2)
    assert second.past_due_since == first.past_due_since
    attempts = [e.data.attempt for e in world.events(sub.id)[1:]]
    assert attempts == [1, 2]
    recovered = world.subscriptions.record_payment_success(EVERYTHING, sub.id, now=world.now)
    assert (recovered.status, recovered.payment_failures) == (S.ACTIVE, 0)
    assert world.events(sub.id)[-1].data.change_kind is ChangeKind.STATUS_CHANGE
    before = world.snapshot()
    assert world.subscriptions.record_payment_success(EVERYTHING, sub.id,
                                                      now=world.now) == recovered
    assert world.snapshot() == before  # a routine payment on an active subscription


def test_plan_and_quantity_changes_record_one_event_each(world: CommerceWorld) -> None:
    """Changing both at one instant gives two events with distinct keys and instants."""
    sub = world.subscribe("scaikey.pro")
    changed = world.subscriptions.change(world.tenant(), sub.id, now=world.now,
                                         plan="scaikey.yearly", quantity=4)
    assert (changed.plan_key, changed.quantity) == ("scaikey.yearly", 4)
    plan_event, quantity_event = world.events(sub.id)[1:]
    assert plan_event.data.change_kind is ChangeKind.PLAN_CHANGE
    assert plan_event.data.previous_plan_key == "scaikey.pro"
    assert quantity_event.data.previous_quantity == 1
    assert quantity_event.data.mrr_amount_cents == 4 * 8250
    assert quantity_event.occurred_at > plan_event.occurred_at
    assert plan_event.idempotency_key != quantity_event.idempotency_key


@pytest.mark.parametrize(("start", "plan", "quantity", "message"), [
    ("scaikey.pro", "scaidrive.basic", None, "another service"),
    ("scaivault.pro", "scaivault.once", None, "one-time and recurring"),
    ("scaikey.pro", "scaikey.pro", None, "already on plan"),
    ("scaikey.pro", None, 1, "already 1"),
    ("scaikey.pro", None, 0, "quantity"),
])
def test_bad_changes_are_refused(world: CommerceWorld, start: str, plan: str | None,
                                 quantity: int | None, message: str) -> None:
    """Other services' plans, period kinds that do not mix, no-op changes and bad
    quantities change nothing."""
    sub = world.subscribe(start)
    before = world.snapshot()
    with pytest.raises(ValidationError, match=message):
        world.subscriptions.change(world.tenant(), sub.id, now=world.now, plan=plan,
                                   quantity=quantity)
    assert world.snapshot() == before


def test_tenants_change_only_trialing_or_active_subscriptions(world: CommerceWorld) -> None:
    """A past_due subscription keeps its plan until it recovers."""
    sub = world.subscribe("scaikey.pro")
    world.subscriptions.record_payment_failure(EVERYTHING, sub.id, FAILED, now=world.now)
    with pytest.raises(ValidationError, match="past_due"):
        world.subscriptions.change(world.tenant(), sub.id, now=world.now, quantity=2)


def test_override_applies_each_change_or_none(world: CommerceWorld) -> None:
    """An override with an undocumented status rolls back its plan change too."""
    sub = world.subscribe("scaikey.pro")
    before = world.snapshot()
    with pytest.raises(InvalidTransition):
        world.subscriptions.override(EVERYTHING, sub.id, now=world.now, plan="scaikey.yearly",
                                     status=S.SUSPENDED)
    assert world.snapshot() == before
    with pytest.raises(ValidationError):
        world.subscriptions.override(EVERYTHING, sub.id, now=world.now, status=S.ACTIVE)
    done = world.subscriptions.override(EVERYTHING, sub.id, now=world.now,
                                        plan="scaikey.yearly", status=S.PAST_DUE)
    assert (done.plan_key, done.status) == ("scaikey.yearly", S.PAST_DUE)
    kinds = [e.data.change_kind for e in world.events(sub.id)[1:]]
    assert kinds == [ChangeKind.PLAN_CHANGE, ChangeKind.STATUS_CHANGE]


def test_a_terminal_subscription_accepts_nothing(world: CommerceWorld) -> None:
    """Cancelled is final: every further operation is refused."""
    sub = world.subscribe("scaikey.pro")
    world.subscriptions.cancel(EVERYTHING, sub.id, now=world.now, immediate=True)
    for operation in (world.subscriptions.resume, world.subscriptions.convert,
                      world.subscriptions.suspend, world.subscriptions.undo_cancellation):
        with pytest.raises(InvalidTransition):
            operation(EVERYTHING, sub.id, now=world.now)
    with pytest.raises(ValidationError):
        world.subscriptions.override(EVERYTHING, sub.id, now=world.now, quantity=3)


def test_the_fixed_term_follows_the_plan(world: CommerceWorld) -> None:
    """Leaving a fixed-term plan ends the term; joining one starts it at the current period."""
    committed = world.subscribe("scaikey.commit")
    assert committed.ends_at == committed.current_period_start.replace(month=4)
    free = world.subscriptions.change(world.tenant(), committed.id, now=world.now,
                                      plan="scaikey.pro")
    assert free.ends_at is None
    again = world.subscriptions.change(world.tenant(), committed.id, now=world.now,
                                       plan="scaikey.commit")
    assert again.ends_at == committed.ends_at

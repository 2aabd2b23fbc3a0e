"""Pure lifecycle operations on a subscription: ``(record, command, now) -> Change``.

A :class:`Change` is the new record, the instant the change is stamped with, and the event
payloads it records (none for children of a pack: the pack speaks for them). The state
moves only through the subscription machine; the fields each entered state sets are in
:func:`enter`, which pack subscriptions share.

The changes of one subscription are stamped strictly after each other
(:func:`stamp_after`): two changes within the same microsecond get instants one
microsecond apart, so each keeps its own idempotency key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import attrs

from ..catalog_records import Plan, Subscription
from ..errors import ValidationError
from ..events import ChangeKind, EventPayload, SuspensionReason, TerminalState
from ..machines.subscription import SUBSCRIPTION, SubscriptionStatus, SubscriptionTrigger
from . import payloads
from .periods import add_periods, is_recurring, next_period_end

__all__ = [
    "PLAIN",
    "Change",
    "PaymentFailure",
    "TransitionContext",
    "enter",
    "fire",
    "new_subscription",
    "next_period",
    "record_repeat_failure",
    "renew",
    "renewal_due",
    "stamp_after",
]

S, T = SubscriptionStatus, SubscriptionTrigger
R = TypeVar("R")
_TICK: Final = timedelta(microseconds=1)


@attrs.frozen(kw_only=True)
class Change:
    """The outcome of one lifecycle operation."""

    record: Subscription
    at: datetime
    events: tuple[EventPayload, ...] = ()


@attrs.frozen(kw_only=True)
class PaymentFailure:
    """What billing reports about a failed scheduled payment."""

    amount_cents: int
    currency: str
    invoice_id: str | None = None
    failure_reason: str | None = None
    next_retry_at: datetime | None = None


@attrs.frozen(kw_only=True)
class TransitionContext:
    """Details a trigger may need: a reason, who suspended it, a failed payment, and
    whether an operator forced the state through the override endpoint."""

    reason: str | None = None
    suspension_reason: SuspensionReason = SuspensionReason.ADMIN
    payment: PaymentFailure | None = None
    override: bool = False


#: The context of a trigger that needs no details.
PLAIN = TransitionContext()


def stamp_after(last: datetime, desired: datetime) -> datetime:
    """``desired``, or one microsecond after ``last`` if it would not come after it."""
    return desired if desired > last else last + _TICK


def new_subscription(
    *,
    subscription_id: str,
    tenant_id: str,
    partner_id: str,
    plan: Plan,
    quantity: int,
    now: datetime,
    pack_subscription_id: str | None = None,
) -> Subscription:
    """A ``pending`` subscription to ``plan`` (quantity 1 or more)."""
    if type(quantity) is not int or not 1 <= quantity <= 1_000_000:
        raise ValidationError("quantity must be 1 to 1000000", field="quantity")
    return Subscription(
        id=subscription_id,
        tenant_id=tenant_id,
        partner_id=partner_id,
        service_id=plan.service_id,
        plan_id=plan.id,
        plan_key=plan.plan_key,
        status=S.PENDING,
        quantity=quantity,
        pack_subscription_id=pack_subscription_id,
        created_at=now,
        updated_at=now,
    )


def _period(record: Any, start: datetime, plan_period: Any, *, first: bool,
            term: int | None) -> dict[str, Any]:
    """Fields of a paid period starting at ``start``; the first one also fixes the term."""
    fields: dict[str, Any] = {"billing_anchor": start, "current_period_start": start}
    ends_at = getattr(record, "ends_at", None)
    if first and term is not None and hasattr(record, "ends_at"):
        ends_at = add_periods(start, plan_period, term)
        fields["ends_at"] = ends_at
    end = add_periods(start, plan_period) if is_recurring(plan_period) else None
    if end is not None and ends_at is not None and start < ends_at < end:
        end = ends_at
    fields["current_period_end"] = end
    return fields


def _fresh_period_if_ended(record: Any, at: datetime, plan_period: Any) -> dict[str, Any]:
    end = record.current_period_end
    if end is not None and end <= at:
        return _period(record, at, plan_period, first=False, term=None)
    return {}


def enter(record: R, trigger: SubscriptionTrigger, at: datetime, *, billing_period: Any,
          trial_days: int, term: int | None, reason: str | None) -> R:
    """``record`` after ``trigger`` at ``at``: the new status and the fields it sets.

    Works for subscriptions and pack subscriptions alike (pack subscriptions have no
    fixed term). Raises ``InvalidTransition`` for a pair the machine does not list.
    """
    current: Any = record
    target = SUBSCRIPTION.fire(current.status, trigger)
    changes: dict[str, Any] = {"status": target, "updated_at": at}
    if trigger is T.ACTIVATE_TRIAL:
        trial_end = at + timedelta(days=trial_days)
        changes.update(activated_at=at, trial_ends_at=trial_end, current_period_start=at,
                       current_period_end=trial_end)
    elif trigger is T.ACTIVATE:
        changes.update(activated_at=at, **_period(current, at, billing_period, first=True,
                                                   term=term))
    elif trigger is T.CONVERT:
        changes.update(_period(current, at, billing_period, first=True, term=term))
    elif target is S.CANCELLED:
        changes.update(cancelled_at=at, pending_cancellation_at=None,
                       cancellation_reason=reason or current.cancellation_reason)
    elif trigger is T.PAYMENT_FAILED:
        changes.update(past_due_since=at, payment_failures=1)
    elif trigger is T.SCHEDULE_CANCELLATION:
        end = current.current_period_end
        changes.update(pending_cancellation_at=end if end is not None and end > at else at,
                       cancellation_reason=reason)
    elif trigger is T.SUSPEND:
        changes.update(suspended_at=at)
    elif trigger in (T.PAYMENT_RECOVERED, T.RESUME):
        changes.update(past_due_since=None, payment_failures=0, suspended_at=None,
                       **_fresh_period_if_ended(current, at, billing_period))
    elif trigger is T.UNDO_CANCELLATION:
        changes.update(pending_cancellation_at=None, cancellation_reason=None)
    result: R = attrs.evolve(current, **changes)
    return result


def _events(before: Subscription, after: Subscription, trigger: SubscriptionTrigger,
            plan: Plan, at: datetime, context: TransitionContext) -> tuple[EventPayload, ...]:
    """The one event each transition records (children of packs record none)."""
    if after.pack_subscription_id is not None:
        return ()
    previous = before.status
    if trigger in (T.ACTIVATE, T.ACTIVATE_TRIAL):
        return (payloads.activated(after, plan, at),)
    if after.status is S.CANCELLED:
        immediate = trigger is not T.REAP
        return (payloads.cancelled(after, at, effective_immediately=immediate,
                                   terminal_state=TerminalState.CANCELLED),)
    if after.status is S.EXPIRED:
        return (payloads.cancelled(after, at, effective_immediately=context.override,
                                   terminal_state=TerminalState.EXPIRED),)
    if trigger is T.PAYMENT_FAILED and context.payment is not None:
        payment = context.payment
        return (payloads.payment_failed(
            after, amount_cents=payment.amount_cents, currency=payment.currency,
            invoice_id=payment.invoice_id, failure_reason=payment.failure_reason,
            next_retry_at=payment.next_retry_at,
        ),)
    if trigger is T.SCHEDULE_CANCELLATION:
        kind = ChangeKind.SCHEDULED_CANCELLATION
    elif trigger is T.UNDO_CANCELLATION:
        kind = ChangeKind.SCHEDULED_CANCELLATION_UNDONE
    elif trigger is T.SUSPEND:
        return (payloads.suspended(after, at, reason=context.suspension_reason,
                                   previous_state=previous),)
    elif trigger is T.RESUME:
        return (payloads.resumed(after, at),)
    else:  # convert, payment recovered, an override into past_due: no topic of their own
        kind = ChangeKind.STATUS_CHANGE
    return (payloads.changed(after, plan, kind, at, previous_state=previous),)


def fire(sub: Subscription, trigger: SubscriptionTrigger, *, plan: Plan, now: datetime,
         context: TransitionContext = PLAIN) -> Change:
    """Apply ``trigger`` at ``now`` (stamped after the previous change)."""
    if trigger is T.PAYMENT_FAILED and context.payment is None and not context.override:
        raise ValidationError("a payment failure needs the failed payment", field="payment")
    if trigger is T.ACTIVATE_TRIAL and plan.trial_days < 1:
        raise ValidationError(f"plan '{plan.plan_key}' has no trial", field="status")
    # a pending subscription has recorded nothing yet: its first change needs no spacing
    first = sub.status is S.PENDING
    at = max(now, sub.updated_at) if first else stamp_after(sub.updated_at, now)
    after = enter(sub, trigger, at, billing_period=plan.billing_period,
                  trial_days=plan.trial_days, term=plan.fixed_term_periods,
                  reason=context.reason)
    return Change(record=after, at=at, events=_events(sub, after, trigger, plan, at, context))


def record_repeat_failure(sub: Subscription, *, plan: Plan, payment: PaymentFailure,
                          now: datetime) -> Change:
    """A further failed retry while ``past_due``: no transition, the attempt count grows
    and ``subscription.payment_failed`` is recorded again."""
    if sub.status is not S.PAST_DUE:
        raise ValidationError("only a past_due subscription can fail a payment retry")
    at = stamp_after(sub.updated_at, now)
    after = attrs.evolve(sub, payment_failures=sub.payment_failures + 1, updated_at=at)
    events: tuple[EventPayload, ...] = ()
    if after.pack_subscription_id is None:
        events = (payloads.payment_failed(
            after, amount_cents=payment.amount_cents, currency=payment.currency,
            invoice_id=payment.invoice_id, failure_reason=payment.failure_reason,
            next_retry_at=payment.next_retry_at,
        ),)
    return Change(record=after, at=at, events=events)


def renewal_due(record: Any) -> datetime | None:
    """When an active record's period rolls over, unless it ends there for good."""
    end = record.current_period_end
    if record.status is not S.ACTIVE or end is None or record.billing_anchor is None:
        return None
    ends_at = getattr(record, "ends_at", None)
    if ends_at is not None and end >= ends_at:
        return None
    return end  # type: ignore[no-any-return]


def next_period(record: R, billing_period: Any, at: datetime) -> R:
    """``record`` with its period rolled over to the next one (capped at a fixed term)."""
    current: Any = record
    start = current.current_period_end
    end = next_period_end(current.billing_anchor, billing_period, start)
    ends_at = getattr(current, "ends_at", None)
    if ends_at is not None and end > ends_at:
        end = ends_at
    result: R = attrs.evolve(current, current_period_start=start, current_period_end=end,
                             updated_at=at)
    return result


def renew(sub: Subscription, *, plan: Plan) -> Change:
    """Roll the period over at its boundary; records ``changed`` with ``renewal``."""
    boundary = renewal_due(sub)
    if boundary is None:
        raise ValidationError("the subscription has no period to renew")
    at = stamp_after(sub.updated_at, boundary)
    after = next_period(sub, plan.billing_period, at)
    events: tuple[EventPayload, ...] = ()
    if after.pack_subscription_id is None:
        events = (payloads.changed(after, plan, ChangeKind.RENEWAL, at,
                                   previous_state=sub.status),)
    return Change(record=after, at=at, events=events)

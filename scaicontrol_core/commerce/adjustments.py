"""Changes that are not state transitions: plan, quantity, and trial-ending notices.

A plan or quantity change takes effect at once for quotas and MRR; the running period is
kept and the next one follows the new plan's billing period (there is no proration). A
subscription never moves between a one-time and a recurring plan. The fixed term follows
the plan: a plan without one clears it, a running term is kept, and a move onto a
fixed-term plan starts the term at the current paid period.
Trial notices go out when 7, 3 and 1 days of a trial remain, each at most once, and only
for thresholds the trial was long enough to reach.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from datetime import datetime, timedelta
from typing import Final

import attrs

from ..catalog_records import Plan, Subscription
from ..errors import ValidationError
from ..events import ChangeKind
from ..machines.subscription import SubscriptionStatus
from . import payloads
from .lifecycle import Change, stamp_after
from .periods import add_periods, is_recurring

__all__ = [
    "ADJUSTABLE_STATES",
    "TRIAL_NOTICE_DAYS",
    "change_plan_of",
    "change_quantity_of",
    "trial_notice",
    "trial_notice_due",
]

#: States in which plan and quantity may change.
ADJUSTABLE_STATES: Final = frozenset({SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE})
#: Days before the end of a trial at which ``subscription.trial_ending`` is recorded.
TRIAL_NOTICE_DAYS: Final = (7, 3, 1)


def _adjustable(sub: Subscription, what: str, allowed: Set[SubscriptionStatus]) -> None:
    if sub.pack_subscription_id is not None:
        raise ValidationError(
            f"subscription '{sub.id}' belongs to pack subscription "
            f"'{sub.pack_subscription_id}'; its {what} follows the pack"
        )
    if sub.status not in allowed:
        raise ValidationError(f"cannot change the {what} of a {sub.status.value} subscription")


def change_plan_of(sub: Subscription, *, current: Plan, target: Plan, now: datetime,
                   allowed: Set[SubscriptionStatus] = ADJUSTABLE_STATES,
                   require_active: bool = True) -> Change:
    """Move ``sub`` to another plan of the same service (one for sale, unless an operator
    overrides it)."""
    _adjustable(sub, "plan", allowed)
    if target.id == sub.plan_id:
        raise ValidationError(f"the subscription is already on plan '{target.plan_key}'",
                              field="plan_id")
    if target.service_id != sub.service_id:
        raise ValidationError(f"plan '{target.plan_key}' belongs to another service",
                              field="plan_id")
    if is_recurring(target.billing_period) != is_recurring(current.billing_period):
        raise ValidationError("a subscription cannot move between one-time and recurring "
                              "plans; cancel it and buy the other plan", field="plan_id")
    if require_active and not target.is_active:
        raise ValidationError(f"plan '{target.plan_key}' is not for sale", field="plan_id")
    at = stamp_after(sub.updated_at, now)
    after = attrs.evolve(sub, plan_id=target.id, plan_key=target.plan_key, updated_at=at,
                         ends_at=_term_end(sub, target))
    event = payloads.changed(after, target, ChangeKind.PLAN_CHANGE, at,
                             previous_state=sub.status, previous_plan_key=current.plan_key)
    return Change(record=after, at=at, events=(event,))


def _term_end(sub: Subscription, target: Plan) -> datetime | None:
    """The end of term after moving to ``target``: none on a plan without a term; a term
    already running is kept; otherwise the term counts from the current paid period."""
    if target.fixed_term_periods is None:
        return None
    if sub.ends_at is not None or sub.billing_anchor is None or sub.current_period_start is None:
        return sub.ends_at  # trials get their term when they convert
    return add_periods(sub.current_period_start, target.billing_period,
                       target.fixed_term_periods)


def change_quantity_of(sub: Subscription, *, plan: Plan, quantity: int, now: datetime,
                       allowed: Set[SubscriptionStatus] = ADJUSTABLE_STATES) -> Change:
    """Set the number of units (seats)."""
    _adjustable(sub, "quantity", allowed)
    if type(quantity) is not int or not 1 <= quantity <= 1_000_000:
        raise ValidationError("quantity must be 1 to 1000000", field="quantity")
    if quantity == sub.quantity:
        raise ValidationError(f"the quantity is already {quantity}", field="quantity")
    at = stamp_after(sub.updated_at, now)
    after = attrs.evolve(sub, quantity=quantity, updated_at=at)
    event = payloads.changed(after, plan, ChangeKind.QUANTITY_CHANGE, at,
                             previous_state=sub.status, previous_quantity=sub.quantity)
    return Change(record=after, at=at, events=(event,))


def _open_thresholds(sub: Subscription, days: Sequence[int]) -> list[int]:
    """Thresholds not yet announced that the trial was long enough to reach."""
    if (sub.status is not SubscriptionStatus.TRIALING or sub.trial_ends_at is None
            or sub.activated_at is None or sub.pack_subscription_id is not None):
        return []
    sent = sub.trial_notice_days
    return [d for d in days if (sent is None or d < sent)
            and sub.trial_ends_at - timedelta(days=d) > sub.activated_at]


def trial_notice_due(sub: Subscription,
                     days: Sequence[int] = TRIAL_NOTICE_DAYS) -> datetime | None:
    """When the next trial-ending notice of ``sub`` is due, if any."""
    thresholds = _open_thresholds(sub, days)
    if not thresholds or sub.trial_ends_at is None:
        return None
    return sub.trial_ends_at - timedelta(days=max(thresholds))


def trial_notice(sub: Subscription, *, now: datetime,
                 days: Sequence[int] = TRIAL_NOTICE_DAYS) -> Change | None:
    """The notice due at ``now``: the smallest threshold reached (larger ones that were
    missed are skipped rather than sent late), stamped at its threshold instant."""
    reached = [d for d in _open_thresholds(sub, days)
               if sub.trial_ends_at is not None and sub.trial_ends_at - timedelta(days=d) <= now]
    if not reached or sub.trial_ends_at is None:
        return None
    chosen = min(reached)
    at = sub.trial_ends_at - timedelta(days=chosen)
    after = attrs.evolve(sub, trial_notice_days=chosen)
    event = payloads.trial_ending(after, sub.trial_ends_at, chosen)
    return Change(record=after, at=at, events=(event,))

"""Event payloads built from subscription and pack subscription records.

Every subscription here is owned by its tenant, so ``owner_kind`` is ``tenant`` and the
billable party (``scaicontrol_customer_id``) is the tenant. Amounts are the plan price
times the quantity (or the pack price), normalised to a month.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..catalog_records import PackSubscription, Plan, Subscription
from ..events import (
    ChangeKind,
    OwnerKind,
    PackItem,
    PackSubscriptionActivated,
    PackSubscriptionCancelled,
    PackSubscriptionChanged,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionChanged,
    SubscriptionPaymentFailed,
    SubscriptionResumed,
    SubscriptionStatus,
    SubscriptionSuspended,
    SubscriptionTrialEnding,
    SuspensionReason,
    TerminalState,
    monthly_recurring_cents,
)
from .catalog import plan_mrr_cents

__all__ = [
    "activated",
    "cancelled",
    "changed",
    "pack_activated",
    "pack_cancelled",
    "pack_changed",
    "pack_items",
    "payment_failed",
    "resumed",
    "suspended",
    "trial_ending",
]


def activated(sub: Subscription, plan: Plan, at: datetime) -> SubscriptionActivated:
    trialing = sub.status is SubscriptionStatus.TRIALING
    return SubscriptionActivated(
        subscription_id=sub.id,
        owner_kind=OwnerKind.TENANT,
        tenant_id=sub.tenant_id,
        partner_id=sub.partner_id,
        scaicontrol_customer_id=sub.tenant_id,
        service_id=sub.service_id,
        service_slug=sub.plan_key.split(".", 1)[0],
        plan_id=plan.id,
        plan_key=sub.plan_key,
        plan_tier=plan.tier,
        status=sub.status,
        billing_period=plan.billing_period,
        currency=plan.currency,
        mrr_amount_cents=plan_mrr_cents(plan, sub.quantity),
        quantity=sub.quantity,
        trial_ends_at=sub.trial_ends_at if trialing else None,
        current_period_start=sub.current_period_start,
        current_period_end=sub.current_period_end,
        activated_at=at,
    )


def changed(
    sub: Subscription,
    plan: Plan,
    kind: ChangeKind,
    at: datetime,
    *,
    previous_state: SubscriptionStatus,
    previous_plan_key: str | None = None,
    previous_quantity: int | None = None,
) -> SubscriptionChanged:
    return SubscriptionChanged(
        change_kind=kind,
        subscription_id=sub.id,
        owner_kind=OwnerKind.TENANT,
        tenant_id=sub.tenant_id,
        partner_id=sub.partner_id,
        scaicontrol_customer_id=sub.tenant_id,
        state=sub.status,
        previous_state=previous_state,
        plan_key=sub.plan_key,
        previous_plan_key=previous_plan_key,
        quantity=sub.quantity,
        previous_quantity=previous_quantity,
        mrr_amount_cents=plan_mrr_cents(plan, sub.quantity),
        currency=plan.currency,
        pending_cancellation_at=sub.pending_cancellation_at,
        current_period_end=sub.current_period_end,
        changed_at=at,
    )


def cancelled(
    sub: Subscription, at: datetime, *, effective_immediately: bool, terminal_state: TerminalState
) -> SubscriptionCancelled:
    return SubscriptionCancelled(
        subscription_id=sub.id,
        tenant_id=sub.tenant_id,
        partner_id=sub.partner_id,
        plan_key=sub.plan_key,
        cancelled_at=at,
        effective_immediately=effective_immediately,
        terminal_state=terminal_state,
        cancellation_reason=sub.cancellation_reason,
    )


def suspended(
    sub: Subscription, at: datetime, *, reason: SuspensionReason, previous_state: SubscriptionStatus
) -> SubscriptionSuspended:
    return SubscriptionSuspended(
        subscription_id=sub.id,
        tenant_id=sub.tenant_id,
        partner_id=sub.partner_id,
        plan_key=sub.plan_key,
        suspended_at=at,
        reason=reason,
        previous_state=previous_state,
    )


def resumed(sub: Subscription, at: datetime) -> SubscriptionResumed:
    return SubscriptionResumed(
        subscription_id=sub.id,
        tenant_id=sub.tenant_id,
        partner_id=sub.partner_id,
        plan_key=sub.plan_key,
        resumed_at=at,
    )


def trial_ending(sub: Subscription, trial_ends_at: datetime, days: int) -> SubscriptionTrialEnding:
    return SubscriptionTrialEnding(
        subscription_id=sub.id,
        tenant_id=sub.tenant_id,
        partner_id=sub.partner_id,
        plan_key=sub.plan_key,
        trial_ends_at=trial_ends_at,
        days_remaining=days,
    )


def payment_failed(
    sub: Subscription,
    *,
    amount_cents: int,
    currency: str,
    invoice_id: str | None,
    failure_reason: str | None,
    next_retry_at: datetime | None,
) -> SubscriptionPaymentFailed:
    assert sub.past_due_since is not None  # entered past_due before this is built
    return SubscriptionPaymentFailed(
        subscription_id=sub.id,
        tenant_id=sub.tenant_id,
        partner_id=sub.partner_id,
        invoice_id=invoice_id,
        amount_cents=amount_cents,
        currency=currency,
        failure_reason=failure_reason,
        past_due_since=sub.past_due_since,
        attempt=sub.payment_failures,
        next_retry_at=next_retry_at,
    )


# -- packs ----------------------------------------------------------------------------------


def pack_items(children: Sequence[Subscription]) -> tuple[PackItem, ...]:
    """The ``items`` of a pack event: child subscription ids and plan keys, in id order."""
    ordered = sorted(children, key=lambda child: child.id)
    return tuple(PackItem(subscription_id=c.id, plan_key=c.plan_key) for c in ordered)


def _mrr(pack: PackSubscription) -> int:
    return monthly_recurring_cents(pack.price_cents, pack.billing_period)


def pack_activated(
    pack: PackSubscription, children: Sequence[Subscription], at: datetime
) -> PackSubscriptionActivated:
    trialing = pack.status is SubscriptionStatus.TRIALING
    return PackSubscriptionActivated(
        pack_subscription_id=pack.id,
        tenant_id=pack.tenant_id,
        partner_id=pack.partner_id,
        pack_id=pack.pack_id,
        pack_slug=pack.pack_slug,
        status=pack.status,
        billing_period=pack.billing_period,
        currency=pack.currency,
        mrr_amount_cents=_mrr(pack),
        items=pack_items(children),
        trial_ends_at=pack.trial_ends_at if trialing else None,
        activated_at=at,
    )


def pack_changed(
    pack: PackSubscription,
    children: Sequence[Subscription],
    at: datetime,
    *,
    previous_status: SubscriptionStatus,
) -> PackSubscriptionChanged:
    return PackSubscriptionChanged(
        pack_subscription_id=pack.id,
        tenant_id=pack.tenant_id,
        partner_id=pack.partner_id,
        pack_id=pack.pack_id,
        pack_slug=pack.pack_slug,
        status=pack.status,
        previous_status=previous_status,
        currency=pack.currency,
        mrr_amount_cents=_mrr(pack),
        items=pack_items(children),
        changed_at=at,
    )


def pack_cancelled(
    pack: PackSubscription, children: Sequence[Subscription], at: datetime
) -> PackSubscriptionCancelled:
    return PackSubscriptionCancelled(
        pack_subscription_id=pack.id,
        tenant_id=pack.tenant_id,
        partner_id=pack.partner_id,
        pack_id=pack.pack_id,
        pack_slug=pack.pack_slug,
        currency=pack.currency,
        mrr_amount_cents=_mrr(pack),
        items=pack_items(children),
        cancelled_at=at,
        cancellation_reason=pack.cancellation_reason,
    )

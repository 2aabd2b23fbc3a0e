"""Payloads of the seven single-service ``subscription.*`` topics."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from ..errors import ValidationError
from ._model import doc, utc, utc_or_none
from .common import (
    CURRENCY_PATTERN,
    CUSTOMER_ID_PATTERN,
    ENTITY_ID_PATTERN,
    PARTNER_ID_PATTERN,
    PLAN_KEY_PATTERN,
    SLUG_PATTERN,
    TENANT_ID_PATTERN,
    TENANT_OWNER_RULE,
    BillingPeriod,
    ChangeKind,
    EventPayload,
    OwnerKind,
    SubscriptionStatus,
    SuspensionReason,
    TerminalState,
    check_customer,
)
from .keys import INITIAL, TERMINAL, stamp
from .topics import Topic

__all__ = [
    "SubscriptionActivated",
    "SubscriptionCancelled",
    "SubscriptionChanged",
    "SubscriptionPaymentFailed",
    "SubscriptionResumed",
    "SubscriptionSuspended",
    "SubscriptionTrialEnding",
]

_SUBSCRIPTION = doc("Subscription id (a UUID string).", pattern=ENTITY_ID_PATTERN)
_OWNER = doc("Who owns and pays for the subscription.")
_TENANT = doc("Tenant id; null when a partner owns the subscription.", pattern=TENANT_ID_PATTERN)
_PARTNER = doc("Partner id (prt_...).", pattern=PARTNER_ID_PATTERN)
_CUSTOMER = doc("Billable party: tenant_id or partner_id.", pattern=CUSTOMER_ID_PATTERN)
_PLAN_KEY = doc("Stable plan key <service_slug>.<plan_slug>.", pattern=PLAN_KEY_PATTERN)
_CURRENCY = doc("ISO 4217 currency of the amounts.", pattern=CURRENCY_PATTERN)
_MRR = doc("Monthly-normalised price in integer minor units (cents).", minimum=0)
_QUANTITY = doc("Number of units (seats); null when the plan has no quantity.", minimum=1)


class _Subscription(EventPayload):
    """Shared behaviour: keyed by ``subscription_id``."""

    __slots__ = ()
    subscription_id: str

    @property
    def resource_id(self) -> str:
        return self.subscription_id


@attrs.frozen(kw_only=True)
class SubscriptionActivated(_Subscription):
    """A single-service subscription entered ``active`` or ``trialing`` for the first time."""

    TOPIC: ClassVar[Topic] = Topic.SUBSCRIPTION_ACTIVATED
    SCHEMA_RULES: ClassVar[tuple[Mapping[str, Any], ...]] = (
        TENANT_OWNER_RULE,
        {
            "if": {"properties": {"status": {"const": "trialing"}}},
            "then": {"properties": {"trial_ends_at": {"type": "string"}}},
            "else": {"properties": {"trial_ends_at": {"type": "null"}}},
        },
    )

    subscription_id: str = attrs.field(metadata=_SUBSCRIPTION)
    owner_kind: OwnerKind = attrs.field(metadata=_OWNER)
    tenant_id: str | None = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    scaicontrol_customer_id: str = attrs.field(metadata=_CUSTOMER)
    service_id: str = attrs.field(metadata=doc("Service id.", pattern=ENTITY_ID_PATTERN))
    service_slug: str = attrs.field(metadata=doc("Service slug.", pattern=SLUG_PATTERN))
    plan_id: str = attrs.field(
        metadata=doc("Plan id; changes on re-seed, prefer plan_key.", pattern=ENTITY_ID_PATTERN)
    )
    plan_key: str = attrs.field(metadata=_PLAN_KEY)
    plan_tier: str | None = attrs.field(
        metadata=doc("Tier label such as trial, starter, pro, enterprise.", minLength=1)
    )
    status: SubscriptionStatus = attrs.field(
        metadata=doc("State entered: active or trialing.", enum=["trialing", "active"])
    )
    billing_period: BillingPeriod = attrs.field(metadata=doc("Billing cadence of the plan."))
    currency: str = attrs.field(metadata=_CURRENCY)
    mrr_amount_cents: int = attrs.field(metadata=_MRR)
    quantity: int | None = attrs.field(metadata=_QUANTITY)
    trial_ends_at: datetime | None = attrs.field(
        converter=utc_or_none, metadata=doc("End of the trial; null unless trialing.")
    )
    current_period_start: datetime | None = attrs.field(
        converter=utc_or_none, metadata=doc("Start of the current billing period.")
    )
    current_period_end: datetime | None = attrs.field(
        converter=utc_or_none, metadata=doc("End of the current billing period.")
    )
    activated_at: datetime = attrs.field(
        converter=utc, metadata=doc("When the subscription became active or trialing.")
    )

    def check_rules(self) -> None:
        super().check_rules()
        check_customer(
            self.owner_kind, self.tenant_id, self.partner_id, self.scaicontrol_customer_id
        )
        if (self.status is SubscriptionStatus.TRIALING) != (self.trial_ends_at is not None):
            raise ValidationError(
                "trial_ends_at is set exactly when the status is trialing", field="trial_ends_at"
            )

    @property
    def lifecycle_step(self) -> str:
        return INITIAL


@attrs.frozen(kw_only=True)
class SubscriptionChanged(_Subscription):
    """Plan, quantity or status changed, a cancellation was scheduled or undone, or it renewed."""

    TOPIC: ClassVar[Topic] = Topic.SUBSCRIPTION_CHANGED
    SCHEMA_RULES: ClassVar[tuple[Mapping[str, Any], ...]] = (
        TENANT_OWNER_RULE,
        {
            "if": {"properties": {"change_kind": {"const": "scheduled_cancellation"}}},
            "then": {
                "properties": {
                    "state": {"const": "cancelling"},
                    "pending_cancellation_at": {"type": "string"},
                }
            },
        },
        {
            "if": {"properties": {"change_kind": {"const": "scheduled_cancellation_undone"}}},
            "then": {"properties": {"pending_cancellation_at": {"type": "null"}}},
        },
        {
            "if": {"properties": {"change_kind": {"const": "plan_change"}}},
            "then": {"properties": {"previous_plan_key": {"type": "string"}}},
        },
        {
            "if": {"properties": {"change_kind": {"const": "quantity_change"}}},
            "then": {"properties": {"previous_quantity": {"type": "integer"}}},
        },
    )

    change_kind: ChangeKind = attrs.field(metadata=doc("What kind of change this is."))
    subscription_id: str = attrs.field(metadata=_SUBSCRIPTION)
    owner_kind: OwnerKind = attrs.field(metadata=_OWNER)
    tenant_id: str | None = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    scaicontrol_customer_id: str = attrs.field(metadata=_CUSTOMER)
    state: SubscriptionStatus = attrs.field(metadata=doc("State after the change."))
    previous_state: SubscriptionStatus = attrs.field(metadata=doc("State before the change."))
    plan_key: str = attrs.field(metadata=_PLAN_KEY)
    previous_plan_key: str | None = attrs.field(
        metadata=doc("Plan key before a plan_change; otherwise null.", pattern=PLAN_KEY_PATTERN)
    )
    quantity: int | None = attrs.field(metadata=_QUANTITY)
    previous_quantity: int | None = attrs.field(
        metadata=doc("Quantity before a quantity_change; otherwise null.", minimum=1)
    )
    mrr_amount_cents: int = attrs.field(metadata=_MRR)
    currency: str = attrs.field(metadata=_CURRENCY)
    pending_cancellation_at: datetime | None = attrs.field(
        converter=utc_or_none,
        metadata=doc("When a scheduled cancellation takes effect; null when none is pending."),
    )
    current_period_end: datetime | None = attrs.field(
        converter=utc_or_none, metadata=doc("End of the current billing period.")
    )
    changed_at: datetime = attrs.field(converter=utc, metadata=doc("When the change happened."))

    def check_rules(self) -> None:
        super().check_rules()
        check_customer(
            self.owner_kind, self.tenant_id, self.partner_id, self.scaicontrol_customer_id
        )
        kind = self.change_kind
        if kind is ChangeKind.SCHEDULED_CANCELLATION and (
            self.state is not SubscriptionStatus.CANCELLING or self.pending_cancellation_at is None
        ):
            raise ValidationError(
                "a scheduled cancellation is in state cancelling with pending_cancellation_at",
                field="pending_cancellation_at",
            )
        if (
            kind is ChangeKind.SCHEDULED_CANCELLATION_UNDONE
            and self.pending_cancellation_at is not None
        ):
            raise ValidationError(
                "an undone cancellation has no pending_cancellation_at",
                field="pending_cancellation_at",
            )
        if kind is ChangeKind.PLAN_CHANGE and self.previous_plan_key is None:
            raise ValidationError(
                "a plan change names the previous plan", field="previous_plan_key"
            )
        if kind is ChangeKind.QUANTITY_CHANGE and self.previous_quantity is None:
            raise ValidationError(
                "a quantity change names the previous quantity", field="previous_quantity"
            )

    @property
    def lifecycle_step(self) -> str:
        return f"{self.change_kind.value}:{stamp(self.changed_at)}"


@attrs.frozen(kw_only=True)
class SubscriptionCancelled(_Subscription):
    """The subscription reached a terminal state: cancelled, or expired at the end of a term."""

    TOPIC: ClassVar[Topic] = Topic.SUBSCRIPTION_CANCELLED

    subscription_id: str = attrs.field(metadata=_SUBSCRIPTION)
    tenant_id: str | None = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    plan_key: str = attrs.field(metadata=_PLAN_KEY)
    cancelled_at: datetime = attrs.field(converter=utc, metadata=doc("When it ended."))
    effective_immediately: bool = attrs.field(
        metadata=doc("True for an immediate cancel; false when it ended at period end.")
    )
    terminal_state: TerminalState = attrs.field(metadata=doc("cancelled or expired."))
    cancellation_reason: str | None = attrs.field(metadata=doc("Free-text reason, if given."))

    @property
    def lifecycle_step(self) -> str:
        return TERMINAL


@attrs.frozen(kw_only=True)
class SubscriptionSuspended(_Subscription):
    """The subscription was paused by an operator or by dunning; the service refuses work."""

    TOPIC: ClassVar[Topic] = Topic.SUBSCRIPTION_SUSPENDED

    subscription_id: str = attrs.field(metadata=_SUBSCRIPTION)
    tenant_id: str | None = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    plan_key: str = attrs.field(metadata=_PLAN_KEY)
    suspended_at: datetime = attrs.field(converter=utc, metadata=doc("When it was suspended."))
    reason: SuspensionReason = attrs.field(metadata=doc("admin or dunning."))
    previous_state: SubscriptionStatus = attrs.field(metadata=doc("State before suspension."))

    @property
    def lifecycle_step(self) -> str:
        return stamp(self.suspended_at)


@attrs.frozen(kw_only=True)
class SubscriptionResumed(_Subscription):
    """A suspended subscription is active again."""

    TOPIC: ClassVar[Topic] = Topic.SUBSCRIPTION_RESUMED

    subscription_id: str = attrs.field(metadata=_SUBSCRIPTION)
    tenant_id: str | None = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    plan_key: str = attrs.field(metadata=_PLAN_KEY)
    resumed_at: datetime = attrs.field(converter=utc, metadata=doc("When it was resumed."))
    state: SubscriptionStatus = attrs.field(
        default=SubscriptionStatus.ACTIVE, metadata=doc("Always active.", const="active")
    )

    @property
    def lifecycle_step(self) -> str:
        return stamp(self.resumed_at)


@attrs.frozen(kw_only=True)
class SubscriptionTrialEnding(_Subscription):
    """A trial ends in 7, 3 or 1 days (one event per threshold)."""

    TOPIC: ClassVar[Topic] = Topic.SUBSCRIPTION_TRIAL_ENDING

    subscription_id: str = attrs.field(metadata=_SUBSCRIPTION)
    tenant_id: str | None = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    plan_key: str = attrs.field(metadata=_PLAN_KEY)
    trial_ends_at: datetime = attrs.field(converter=utc, metadata=doc("When the trial ends."))
    days_remaining: int = attrs.field(
        metadata=doc("Threshold reached: 7, 3 or 1 days left.", enum=[7, 3, 1])
    )

    @property
    def lifecycle_step(self) -> str:
        return f"{self.days_remaining}d"


@attrs.frozen(kw_only=True)
class SubscriptionPaymentFailed(_Subscription):
    """A scheduled payment failed; the subscription is (or stays) past due."""

    TOPIC: ClassVar[Topic] = Topic.SUBSCRIPTION_PAYMENT_FAILED

    subscription_id: str = attrs.field(metadata=_SUBSCRIPTION)
    tenant_id: str | None = attrs.field(metadata=_TENANT)
    partner_id: str = attrs.field(metadata=_PARTNER)
    invoice_id: str | None = attrs.field(
        metadata=doc("Invoice the payment was for, if any.", pattern=ENTITY_ID_PATTERN)
    )
    amount_cents: int = attrs.field(
        metadata=doc("Amount that failed, in integer minor units (cents).", minimum=0)
    )
    currency: str = attrs.field(metadata=_CURRENCY)
    failure_reason: str | None = attrs.field(metadata=doc("Provider's failure reason, if any."))
    past_due_since: datetime = attrs.field(
        converter=utc, metadata=doc("When the subscription became past due.")
    )
    attempt: int = attrs.field(
        metadata=doc("Number of the failed payment attempt, from 1.", minimum=1)
    )
    next_retry_at: datetime | None = attrs.field(
        converter=utc_or_none, metadata=doc("When the payment is retried; null if it is not.")
    )

    @property
    def lifecycle_step(self) -> str:
        return f"{stamp(self.past_due_since)}:{self.attempt}"

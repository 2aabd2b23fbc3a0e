"""Sample events for "send a test event": a valid payload of any topic, clearly fake.

The sample uses the demo organisations and fixed resource ids, and its idempotency key ends
in a ``test.<event id>`` lifecycle step, so a subscriber can tell a test from a real event
and two tests never collide. The body validates against the topic's published schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Final

from ..events import (
    BillingPeriod,
    ChangeKind,
    Envelope,
    EventPayload,
    OwnerKind,
    PackItem,
    PackSubscriptionActivated,
    PackSubscriptionCancelled,
    PackSubscriptionChanged,
    PartnerBillingLinked,
    PartnerBillingUpdated,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionChanged,
    SubscriptionPaymentFailed,
    SubscriptionResumed,
    SubscriptionStatus,
    SubscriptionSuspended,
    SubscriptionTrialEnding,
    SuspensionReason,
    TenantBillingLinked,
    TenantBillingUpdated,
    TerminalState,
    Topic,
    idempotency_key,
)
from ..ids import IdFactory

__all__ = ["SAMPLE_PARTNER", "SAMPLE_TENANT", "sample_event", "sample_payload"]

SAMPLE_TENANT: Final = "tnt_demo_acme"
SAMPLE_PARTNER: Final = "prt_demo_operator"
_SUBSCRIPTION: Final = "00000000-0000-4000-8000-00000000c0de"
_PACK_SUBSCRIPTION: Final = "00000000-0000-4000-8000-00000000beef"
_PLAN: Final = "scaikey.starter"
_ITEMS: Final = (PackItem(subscription_id=_SUBSCRIPTION, plan_key=_PLAN),)

_T = SAMPLE_TENANT
_P = SAMPLE_PARTNER


def _activated(now: datetime) -> EventPayload:
    return SubscriptionActivated(
        subscription_id=_SUBSCRIPTION, owner_kind=OwnerKind.TENANT, tenant_id=_T,
        partner_id=_P, scaicontrol_customer_id=_T, service_id="scaikey", service_slug="scaikey",
        plan_id="00000000-0000-4000-8000-0000000000a1", plan_key=_PLAN, plan_tier="starter",
        status=SubscriptionStatus.ACTIVE, billing_period=BillingPeriod.MONTHLY, currency="EUR",
        mrr_amount_cents=1900, quantity=1, trial_ends_at=None, current_period_start=now,
        current_period_end=now + timedelta(days=30), activated_at=now,
    )


def _changed(now: datetime) -> EventPayload:
    return SubscriptionChanged(
        change_kind=ChangeKind.QUANTITY_CHANGE, subscription_id=_SUBSCRIPTION,
        owner_kind=OwnerKind.TENANT, tenant_id=_T, partner_id=_P, scaicontrol_customer_id=_T,
        state=SubscriptionStatus.ACTIVE, previous_state=SubscriptionStatus.ACTIVE,
        plan_key=_PLAN, previous_plan_key=None, quantity=5, previous_quantity=3,
        mrr_amount_cents=9500, currency="EUR", pending_cancellation_at=None,
        current_period_end=now + timedelta(days=30), changed_at=now,
    )


_BUILDERS: Final[Mapping[Topic, Callable[[datetime], EventPayload]]] = {
    Topic.TENANT_BILLING_LINKED: lambda now: TenantBillingLinked(
        tenant_id=_T, partner_id=_P, scaicontrol_customer_id=_T, linked_at=now,
        company_name="Acme Analytics GmbH", country_code="DE", vat_number=None,
    ),
    Topic.TENANT_BILLING_UPDATED: lambda now: TenantBillingUpdated(
        tenant_id=_T, partner_id=_P, scaicontrol_customer_id=_T, updated_at=now,
        changed_fields=("contact_email",), company_name="Acme Analytics GmbH",
        country_code="DE", vat_number=None, contact_email="billing@acme.example",
    ),
    Topic.PARTNER_BILLING_LINKED: lambda now: PartnerBillingLinked(
        partner_id=_P, scaicontrol_customer_id=_P, linked_at=now,
        legal_name="ScaiLabs Platform B.V.", country_code="NL", vat_number=None,
    ),
    Topic.PARTNER_BILLING_UPDATED: lambda now: PartnerBillingUpdated(
        partner_id=_P, scaicontrol_customer_id=_P, updated_at=now, changed_fields=("legal_name",),
        legal_name="ScaiLabs Platform B.V.", country_code="NL", vat_number=None,
    ),
    Topic.SUBSCRIPTION_ACTIVATED: _activated,
    Topic.SUBSCRIPTION_CHANGED: _changed,
    Topic.SUBSCRIPTION_CANCELLED: lambda now: SubscriptionCancelled(
        subscription_id=_SUBSCRIPTION, tenant_id=_T, partner_id=_P, plan_key=_PLAN,
        cancelled_at=now, effective_immediately=True, terminal_state=TerminalState.CANCELLED,
        cancellation_reason="test event",
    ),
    Topic.SUBSCRIPTION_SUSPENDED: lambda now: SubscriptionSuspended(
        subscription_id=_SUBSCRIPTION, tenant_id=_T, partner_id=_P, plan_key=_PLAN,
        suspended_at=now, reason=SuspensionReason.ADMIN,
        previous_state=SubscriptionStatus.ACTIVE,
    ),
    Topic.SUBSCRIPTION_RESUMED: lambda now: SubscriptionResumed(
        subscription_id=_SUBSCRIPTION, tenant_id=_T, partner_id=_P, plan_key=_PLAN,
        resumed_at=now,
    ),
    Topic.SUBSCRIPTION_TRIAL_ENDING: lambda now: SubscriptionTrialEnding(
        subscription_id=_SUBSCRIPTION, tenant_id=_T, partner_id=_P, plan_key=_PLAN,
        trial_ends_at=now + timedelta(days=3), days_remaining=3,
    ),
    Topic.SUBSCRIPTION_PAYMENT_FAILED: lambda now: SubscriptionPaymentFailed(
        subscription_id=_SUBSCRIPTION, tenant_id=_T, partner_id=_P, invoice_id=None,
        amount_cents=1900, currency="EUR", failure_reason="card_declined",
        past_due_since=now, attempt=1, next_retry_at=now + timedelta(days=3),
    ),
    Topic.PACK_SUBSCRIPTION_ACTIVATED: lambda now: PackSubscriptionActivated(
        pack_subscription_id=_PACK_SUBSCRIPTION, tenant_id=_T, partner_id=_P,
        pack_id="00000000-0000-4000-8000-0000000000b1", pack_slug="starter-bundle",
        status=SubscriptionStatus.ACTIVE, billing_period=BillingPeriod.MONTHLY,
        currency="EUR", mrr_amount_cents=4900, items=_ITEMS, trial_ends_at=None,
        activated_at=now,
    ),
    Topic.PACK_SUBSCRIPTION_CHANGED: lambda now: PackSubscriptionChanged(
        pack_subscription_id=_PACK_SUBSCRIPTION, tenant_id=_T, partner_id=_P,
        pack_id="00000000-0000-4000-8000-0000000000b1", pack_slug="starter-bundle",
        status=SubscriptionStatus.PAST_DUE, previous_status=SubscriptionStatus.ACTIVE,
        currency="EUR", mrr_amount_cents=4900, items=_ITEMS, changed_at=now,
    ),
    Topic.PACK_SUBSCRIPTION_CANCELLED: lambda now: PackSubscriptionCancelled(
        pack_subscription_id=_PACK_SUBSCRIPTION, tenant_id=_T, partner_id=_P,
        pack_id="00000000-0000-4000-8000-0000000000b1", pack_slug="starter-bundle",
        currency="EUR", mrr_amount_cents=4900, items=_ITEMS, cancelled_at=now,
        cancellation_reason="test event",
    ),
}


def sample_payload(topic: Topic | str, now: datetime) -> EventPayload:
    """A valid ``data`` object of ``topic`` about the demo tenant, timed at ``now``."""
    return _BUILDERS[Topic(topic)](now)


def sample_event(topic: Topic | str, *, now: datetime, ids: IdFactory) -> Envelope:
    """A complete test envelope of ``topic``: fresh event id, ``test.<event id>`` step."""
    payload = sample_payload(topic, now)
    event_id = ids.uuid()
    kind = payload.TOPIC
    key = idempotency_key(kind.resource.value, payload.resource_id, kind.event, f"test.{event_id}")
    return Envelope(
        event_id=event_id, event_type=kind, occurred_at=now, idempotency_key=key, data=payload
    )

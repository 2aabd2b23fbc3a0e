"""Turning an event that concerns a tenant into a broadcast notification for its users.

The text is built from the stored envelope's ``data`` (the same JSON every subscriber gets),
so it needs no other record. Each event makes at most one notification, whose id is derived
from the event's idempotency key: fanning an event out twice cannot notify twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from ..currencies import is_currency, minor_units
from ..events import Topic
from ..webhooks.model import derived_id
from .model import Notification

__all__ = ["CATEGORIES", "notification_for_event"]

#: Notification category of each event family.
CATEGORIES: Final[Mapping[str, str]] = {
    "tenant": "billing",
    "subscription": "subscriptions",
    "pack_subscription": "service_packs",
}

Text = tuple[str, str, str | None]  # title, message, link


def _day(value: Any) -> str:
    if isinstance(value, str) and len(value) >= 10:
        return value[:10]
    return "an unknown date"


def _amount(cents: Any, currency: Any) -> str:
    if type(cents) is not int or not isinstance(currency, str) or not is_currency(currency):
        return "an amount"
    digits = minor_units(currency)
    return f"{Decimal(cents).scaleb(-digits):.{digits}f} {currency}"


def _plan(data: Mapping[str, Any]) -> str:
    return str(data.get("plan_key") or "your plan")


def _subscription_link(data: Mapping[str, Any]) -> str:
    return f"/subscriptions/{data.get('subscription_id')}"


def _pack_link(data: Mapping[str, Any]) -> str:
    return f"/service-packs/{data.get('pack_subscription_id')}"


_PROFILE_LINK: Final = "/settings/billing-profile"


def _billing_linked(data: Mapping[str, Any]) -> Text:
    return ("Billing profile created",
            "Your organisation's billing profile is set up; services can now be subscribed "
            "and invoiced.", _PROFILE_LINK)


def _billing_updated(data: Mapping[str, Any]) -> Text:
    fields = data.get("changed_fields") or []
    changed = ", ".join(str(name) for name in fields) or "details"
    return "Billing profile updated", f"Changed: {changed}.", _PROFILE_LINK


def _activated(data: Mapping[str, Any]) -> Text:
    if data.get("status") == "trialing":
        message = f"Your trial of {_plan(data)} has started; it ends on " \
                  f"{_day(data.get('trial_ends_at'))}."
    else:
        message = f"Your subscription to {_plan(data)} is now active."
    return "Subscription activated", message, _subscription_link(data)


_CHANGE_MESSAGES: Final[Mapping[str, Callable[[Mapping[str, Any], str], str]]] = {
    "plan_change": lambda d, plan: f"Your plan changed from {d.get('previous_plan_key')} to "
                                   f"{plan}.",
    "quantity_change": lambda d, plan: f"The quantity of {plan} changed from "
                                       f"{d.get('previous_quantity')} to {d.get('quantity')}.",
    "renewal": lambda d, plan: f"{plan} renewed; the current period ends on "
                               f"{_day(d.get('current_period_end'))}.",
    "scheduled_cancellation": lambda d, plan: f"{plan} will be cancelled on "
                                              f"{_day(d.get('pending_cancellation_at'))}.",
    "scheduled_cancellation_undone": lambda d, plan: f"The scheduled cancellation of {plan} "
                                                     "was withdrawn.",
    "status_change": lambda d, plan: f"{plan} changed from {d.get('previous_state')} to "
                                     f"{d.get('state')}.",
}


def _changed(data: Mapping[str, Any]) -> Text:
    plan = _plan(data)
    render = _CHANGE_MESSAGES.get(str(data.get("change_kind")))
    message = f"{plan} changed." if render is None else render(data, plan)
    return "Subscription changed", message, _subscription_link(data)


def _cancelled(data: Mapping[str, Any]) -> Text:
    ended = "expired" if data.get("terminal_state") == "expired" else "been cancelled"
    return ("Subscription ended", f"Your subscription to {_plan(data)} has {ended}.",
            _subscription_link(data))


def _suspended(data: Mapping[str, Any]) -> Text:
    why = " because of unpaid invoices" if data.get("reason") == "dunning" else ""
    return ("Subscription suspended", f"Your subscription to {_plan(data)} is suspended{why}.",
            _subscription_link(data))


def _resumed(data: Mapping[str, Any]) -> Text:
    return ("Subscription resumed", f"Your subscription to {_plan(data)} is active again.",
            _subscription_link(data))


def _trial_ending(data: Mapping[str, Any]) -> Text:
    days = data.get("days_remaining")
    unit = "day" if days == 1 else "days"
    return ("Trial ending soon", f"Your trial of {_plan(data)} ends in {days} {unit}, on "
            f"{_day(data.get('trial_ends_at'))}.", _subscription_link(data))


def _payment_failed(data: Mapping[str, Any]) -> Text:
    amount = _amount(data.get("amount_cents"), data.get("currency"))
    invoice = data.get("invoice_id")
    link = f"/billing/invoices/{invoice}" if invoice else _subscription_link(data)
    return ("Payment failed", f"A payment of {amount} for {_plan(data)} failed; please check "
            "your payment method.", link)


def _pack_activated(data: Mapping[str, Any]) -> Text:
    return ("Service pack activated", f"The service pack {data.get('pack_slug')} is active.",
            _pack_link(data))


def _pack_changed(data: Mapping[str, Any]) -> Text:
    return ("Service pack changed", f"The service pack {data.get('pack_slug')} changed from "
            f"{data.get('previous_status')} to {data.get('status')}.", _pack_link(data))


def _pack_cancelled(data: Mapping[str, Any]) -> Text:
    return ("Service pack cancelled", f"The service pack {data.get('pack_slug')} was "
            "cancelled.", _pack_link(data))


_TEXTS: Final[Mapping[Topic, Callable[[Mapping[str, Any]], Text]]] = {
    Topic.TENANT_BILLING_LINKED: _billing_linked,
    Topic.TENANT_BILLING_UPDATED: _billing_updated,
    Topic.SUBSCRIPTION_ACTIVATED: _activated,
    Topic.SUBSCRIPTION_CHANGED: _changed,
    Topic.SUBSCRIPTION_CANCELLED: _cancelled,
    Topic.SUBSCRIPTION_SUSPENDED: _suspended,
    Topic.SUBSCRIPTION_RESUMED: _resumed,
    Topic.SUBSCRIPTION_TRIAL_ENDING: _trial_ending,
    Topic.SUBSCRIPTION_PAYMENT_FAILED: _payment_failed,
    Topic.PACK_SUBSCRIPTION_ACTIVATED: _pack_activated,
    Topic.PACK_SUBSCRIPTION_CHANGED: _pack_changed,
    Topic.PACK_SUBSCRIPTION_CANCELLED: _pack_cancelled,
}


def notification_for_event(
    envelope: Mapping[str, Any], tenant_id: str | None, *, created_at: datetime
) -> Notification | None:
    """The broadcast notification for a stored event envelope, or None when the event
    concerns no tenant (partner billing events) or its topic makes none."""
    if not tenant_id:
        return None
    try:
        topic = Topic(str(envelope.get("event_type")))
    except ValueError:
        return None
    text = _TEXTS.get(topic)
    data = envelope.get("data")
    key = envelope.get("idempotency_key")
    if text is None or not isinstance(data, Mapping) or not isinstance(key, str):
        return None
    title, message, link = text(data)
    return Notification(
        id=derived_id("notification", key),
        tenant_id=tenant_id,
        category=CATEGORIES[topic.resource.value],
        title=title,
        message=message,
        link=link,
        source_key=key,
        created_at=created_at,
    )

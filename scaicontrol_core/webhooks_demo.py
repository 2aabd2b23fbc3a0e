"""The webhook and notification part of the demo data set (idempotent).

One webhook subscription pointing at the local example receiver
(``examples/webhook_receiver.py``), *inactive* so nothing is sent until an operator turns
it on, and a few notifications: a welcome broadcast for every demo tenant and one
notification addressed to Acme's admin. The subscription's secret is public (it is in
the docs): never reuse it.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Final

from .notifications.model import Notification
from .ports import UnitOfWork
from .webhooks.model import WebhookSubscription, derived_id

__all__ = [
    "DEMO_WEBHOOK_ID",
    "DEMO_WEBHOOK_SECRET",
    "DEMO_WEBHOOK_URL",
    "load_webhooks_demo",
]

DEMO_WEBHOOK_ID: Final = derived_id("demo", "webhook-subscription")
DEMO_WEBHOOK_URL: Final = "http://127.0.0.1:8099/webhooks"
_DEMO_KEY: Final = b"scaicontrol demo secret 32 bytes"
DEMO_WEBHOOK_SECRET: Final = "whsec_" + base64.b64encode(_DEMO_KEY).decode("ascii")
_TENANTS: Final = ("tnt_demo_acme", "tnt_demo_globex", "tnt_demo_initech")


def _notifications(now: datetime) -> list[Notification]:
    items = [
        Notification(
            id=derived_id("demo", "notification", "welcome", tenant_id), tenant_id=tenant_id,
            category="general", title="Welcome to ScaiControl",
            message="Notifications about your subscriptions and billing appear here.",
            link=None, created_at=now,
        )
        for tenant_id in _TENANTS
    ]
    items.append(Notification(
        id=derived_id("demo", "notification", "acme-admin"), tenant_id="tnt_demo_acme",
        user_id="usr_demo_acme_admin", category="billing", title="Check your billing contact",
        message="Invoices go to billing@acme.example; change it in the billing profile.",
        link="/settings/billing-profile", created_at=now,
    ))
    return items


def load_webhooks_demo(uow: UnitOfWork, *, now: datetime) -> tuple[int, int]:
    """Add the missing webhook and notification demo records; returns (created, unchanged).

    The unit of work must be opened with ``cross_tenant=True``.
    """
    created = unchanged = 0
    if uow.webhook_subscriptions.get(DEMO_WEBHOOK_ID) is None:
        uow.webhook_subscriptions.add(WebhookSubscription(
            id=DEMO_WEBHOOK_ID, name="Local example receiver",
            target_url=DEMO_WEBHOOK_URL,
            topics=("subscription.*", "pack_subscription.*", "tenant.*", "partner.*"),
            secret=DEMO_WEBHOOK_SECRET, is_active=False,
            description="Run examples/webhook_receiver.py, allow http for 127.0.0.1 "
                        "(docs/webhooks.md), then activate this subscription.",
            created_at=now, updated_at=now,
        ))
        created += 1
    else:
        unchanged += 1
    notifications = _notifications(now)
    added = uow.notifications.add_many(notifications)
    return created + added, unchanged + len(notifications) - added

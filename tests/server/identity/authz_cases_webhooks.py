"""Authorization-matrix cases of the webhook admin and notification endpoints.

Only ``admin:billing`` (here: the super admin) reaches the webhook handlers. They work on
the demo webhook subscription; records no demo has (a delivery, a subscription to delete)
use an unknown id and expect 404. Notifications: the Acme welcome broadcast is visible to
the Acme users only; the partner and super admins belong to other tenants, so for them it
reads as missing.
"""

from __future__ import annotations

from scaicontrol_core.webhooks.model import derived_id
from scaicontrol_core.webhooks_demo import DEMO_WEBHOOK_ID

from .authz import Case

__all__ = ["CASES"]

P = "/api/v1/admin/webhook-subscriptions"
DEMO = {"subscription_id": DEMO_WEBHOOK_ID}
UNKNOWN = "00000000-0000-4000-8000-00000000dead"
MISSING = {"super_admin": 404}
ACME_WELCOME = {"notification_id": derived_id("demo", "notification", "welcome",
                                              "tnt_demo_acme")}

CASES: dict[tuple[str, str], Case] = {
    ("POST", P): Case(body={"name": "Matrix", "target_url": "https://hooks.example.com/in",
                            "topics": ["subscription.*"]}),
    ("GET", f"{P}/{{subscription_id}}"): Case(path=DEMO),
    ("PATCH", f"{P}/{{subscription_id}}"): Case(path=DEMO, body={"description": "matrix"}),
    ("DELETE", f"{P}/{{subscription_id}}"): Case(path={"subscription_id": UNKNOWN},
                                                 expect=MISSING),
    ("POST", f"{P}/{{subscription_id}}/rotate-secret"): Case(path=DEMO, body={}),
    ("POST", f"{P}/{{subscription_id}}/replay"): Case(path=DEMO),
    ("POST", f"{P}/{{subscription_id}}/test"): Case(path=DEMO),
    ("GET", "/api/v1/admin/webhook-deliveries/{delivery_id}"): Case(
        path={"delivery_id": UNKNOWN}, expect=MISSING),
    ("POST", "/api/v1/admin/webhook-deliveries/{delivery_id}/redeliver"): Case(
        path={"delivery_id": UNKNOWN}, expect=MISSING),
    ("POST", "/api/v1/notifications/{notification_id}/read"): Case(
        path=ACME_WELCOME, expect={"partner_admin": 404, "super_admin": 404}),
}

"""Authorization-matrix cases of the catalog, subscription and service pack endpoints.

The matrix calls each endpoint as every role, in turn, on one app loaded with the demo
data, endpoints in route-table order. Cases pick demo records no other case changes.
Where a role passes the access check but its handler answers otherwise, the override says
why: the super admin's own tenant (a staff tenant) reaches no demo subscription, and a
lifecycle step done by the partner admin cannot be repeated by the next caller. The staff
tenant may buy because the identity cases (earlier in the table) gave it a billing profile.
"""

from __future__ import annotations

from scaicontrol_core.catalog_demo import demo_id

from .authz import Case

__all__ = ["CASES"]

P = "/api/v1"
ACME_PRO = {"subscription_id": demo_id("subscription:acme-scaikey")}
ACME_TRIAL = {"subscription_id": demo_id("subscription:acme-scaidrive")}
GLOBEX_CANCELLING = {"subscription_id": demo_id("subscription:globex-scaidrive")}
GLOBEX_PACK = {"subscription_id": demo_id("subscription:globex-security")}
INITECH_PAST_DUE = {"subscription_id": demo_id("subscription:initech-scaikey")}
INITECH_SUSPENDED = demo_id("subscription:initech-scaivault")
NOT_MINE = {"tenant_admin": 404, "super_admin": 404}  # outside the caller's tenant
DONE_ALREADY = {"super_admin": 400}  # the partner admin already took this step

CASES: dict[tuple[str, str], Case] = {
    # catalog
    ("GET", f"{P}/catalog/services/{{service}}"): Case(path={"service": "scaikey"}),
    ("GET", f"{P}/catalog/services/{{service}}/plans"): Case(path={"service": "scaikey"}),
    ("GET", f"{P}/catalog/plans/{{plan}}"): Case(path={"plan": "scaikey.starter"}),
    # tenant subscriptions
    ("GET", f"{P}/subscriptions/{{subscription_id}}"): Case(
        path=ACME_PRO, expect={"super_admin": 404}),
    ("POST", f"{P}/subscriptions"): Case(
        body={"plan_key": "scaivault.pro"}),
    ("POST", f"{P}/subscriptions/{{subscription_id}}/cancel"): Case(
        path=ACME_TRIAL, body={}, expect={"super_admin": 404}),
    ("POST", f"{P}/subscriptions/{{subscription_id}}/resume"): Case(
        path=ACME_PRO, expect={"tenant_admin": 400, "super_admin": 404}),  # not cancelling
    ("POST", f"{P}/subscriptions/{{subscription_id}}/change"): Case(
        path=ACME_PRO, body={"quantity": 3}, expect={"super_admin": 404}),
    # operator subscriptions
    ("GET", f"{P}/admin/subscriptions/{{subscription_id}}"): Case(path=GLOBEX_CANCELLING),
    ("POST", f"{P}/admin/subscriptions"): Case(
        body={"tenant_id": "tnt_demo_initech", "plan_key": "scaidrive.team"},
        expect={"super_admin": 409}),  # the partner admin's call bought it already
    ("POST", f"{P}/admin/subscriptions/bulk"): Case(
        body={"action": "resume", "subscription_ids": [INITECH_SUSPENDED]}),
    ("POST", f"{P}/admin/subscriptions/{{subscription_id}}/override"): Case(
        path=INITECH_PAST_DUE,
        body=lambda role: {"quantity": 2 if role == "partner_admin" else 3}),
    ("POST", f"{P}/admin/subscriptions/{{subscription_id}}/cancel"): Case(
        path=GLOBEX_PACK, body={}, expect=DONE_ALREADY),
    ("POST", f"{P}/admin/subscriptions/{{subscription_id}}/resume"): Case(
        path=GLOBEX_CANCELLING, expect=DONE_ALREADY),
    ("POST", f"{P}/admin/subscriptions/{{subscription_id}}/suspend"): Case(
        path=INITECH_PAST_DUE, expect=DONE_ALREADY),
    # service packs
    ("GET", f"{P}/service-packs/{{pack}}"): Case(path={"pack": "security-bundle"}),
    ("POST", f"{P}/service-packs/{{pack}}/subscribe"): Case(
        path={"pack": "security-bundle"},
        expect={"tenant_admin": 409, "super_admin": 409}),  # both hold a pack service
    ("POST", f"{P}/service-packs/subscriptions/{{pack_subscription_id}}/cancel"): Case(
        path={"pack_subscription_id": GLOBEX_PACK["subscription_id"]}, body={},
        expect=NOT_MINE),
    # catalog administration
    ("POST", f"{P}/admin/catalog/services"): Case(body={"slug": "matrix", "name": "Matrix"}),
    ("PATCH", f"{P}/admin/catalog/services/{{service}}"): Case(
        path={"service": "scaidrive"}, body={"sort_order": 2}),
    ("GET", f"{P}/admin/catalog/plans/{{plan}}"): Case(path={"plan": "scaikey.pro"}),
    ("POST", f"{P}/admin/catalog/plans"): Case(body={
        "service": "scaivault", "slug": "matrix", "name": "Matrix", "billing_period": "monthly",
        "base_price_cents": 100, "currency": "EUR"}),
    ("PATCH", f"{P}/admin/catalog/plans/{{plan}}"): Case(
        path={"plan": "scaikey.enterprise"}, body={"sort_order": 5}),
    # pack administration
    ("POST", f"{P}/admin/service-packs"): Case(body={
        "slug": "matrix-pack", "name": "Matrix pack", "billing_period": "monthly",
        "base_price_cents": 1000, "currency": "EUR", "discount_type": "fixed_price",
        "items": [{"service_id": demo_id("service:scaivault"),
                   "plan_id": demo_id("plan:scaivault.pro")}]}),
    ("GET", f"{P}/admin/service-packs/{{pack}}"): Case(path={"pack": "security-bundle"}),
    ("PATCH", f"{P}/admin/service-packs/{{pack}}"): Case(
        path={"pack": "security-bundle"}, body={"sort_order": 3}),
    ("DELETE", f"{P}/admin/service-packs/{{pack}}"): Case(path={"pack": "team-suite"}),
}

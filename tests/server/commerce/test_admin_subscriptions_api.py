"""Operators running subscription lifecycles over HTTP, within their reach."""

from __future__ import annotations

from scaicontrol_core.commerce import EVERYTHING, PaymentFailure
from scaicontrol_core.testing.commerce_world import ACME, GLOBEX

from .conftest import Shop

FAILED = PaymentFailure(amount_cents=100, currency="EUR")


def create(shop: Shop, tenant: str, plan: str, who: str = "root", **extra: object) -> dict:
    body = {"tenant_id": tenant, "plan_key": plan, **extra}
    return shop.data(shop.post("/admin/subscriptions", who, json=body), 201)  # type: ignore[no-any-return]


def test_operators_create_and_steer_subscriptions(any_shop: Shop) -> None:
    """Create pending, then a failed payment, suspension and resume, each recorded."""
    shop = any_shop
    sub = create(shop, GLOBEX, "scaikey.pro", "reseller", activate=False)
    assert sub["status"] == "pending"
    sid = sub["id"]
    shop.world.subscriptions.activate(EVERYTHING, sid, now=shop.world.now)
    shop.world.subscriptions.record_payment_failure(EVERYTHING, sid, FAILED, now=shop.world.now)
    suspended = shop.data(shop.post(f"/admin/subscriptions/{sid}/suspend", "reseller"))
    assert suspended["status"] == "suspended"
    resumed = shop.data(shop.post(f"/admin/subscriptions/{sid}/resume", "reseller"))
    assert resumed["status"] == "active" and resumed["past_due_since"] is None
    assert [e.event_type.value for e in shop.world.events(sid)] == [
        "subscription.activated", "subscription.payment_failed", "subscription.suspended",
        "subscription.resumed"]


def test_suspending_an_active_subscription_is_refused(shop: Shop) -> None:
    """The machine has no active -> suspended edge: 400, nothing changes."""
    sub = create(shop, ACME, "scaikey.pro")
    before = shop.world.snapshot()
    reply = shop.post(f"/admin/subscriptions/{sub['id']}/suspend")
    assert reply.status == 400 and reply.json()["error"]["code"] == "bad_request"
    assert shop.world.snapshot() == before


def test_cancel_at_period_end_or_immediately(shop: Shop) -> None:
    """Default cancel schedules; immediate ends it; a scheduled one cannot end at once."""
    scheduled = create(shop, ACME, "scaikey.pro")
    now_gone = create(shop, ACME, "scaidrive.basic")
    path = "/admin/subscriptions/{}/cancel"
    assert shop.data(shop.post(path.format(scheduled["id"]), json={}))["status"] == "cancelling"
    ended = shop.data(shop.post(path.format(now_gone["id"]), json={"immediate": True,
                                                                   "reason": "fraud"}))
    assert ended["status"] == "cancelled" and ended["cancellation_reason"] == "fraud"
    last = shop.world.events(now_gone["id"])[-1].data
    assert last.effective_immediately is True
    refused = shop.post(path.format(scheduled["id"]), json={"immediate": True})
    assert refused.status == 400


def test_override_plan_quantity_and_status(any_shop: Shop) -> None:
    """One override, three changes, three events; an undocumented status is 400."""
    shop = any_shop
    sub = create(shop, ACME, "scaikey.pro")
    path = f"/admin/subscriptions/{sub['id']}/override"
    assert shop.post(path, json={"status": "suspended"}).status == 400
    assert shop.post(path, json={}).status == 400
    done = shop.data(shop.post(path, json={"plan_key": "scaikey.yearly", "quantity": 3,
                                           "status": "cancelling", "reason": "migration"}))
    assert (done["plan_key"], done["quantity"], done["status"]) == (
        "scaikey.yearly", 3, "cancelling")
    kinds = [e.data.change_kind.value for e in shop.world.events(sub["id"])[1:]]
    assert kinds == ["plan_change", "quantity_change", "scheduled_cancellation"]
    assert shop.post(path, json={"status": "paused"}).status == 422


def test_partner_operators_reach_only_their_tenants(shop: Shop) -> None:
    """A partner admin cannot see, create for, or change another partner's tenants."""
    acme = create(shop, ACME, "scaikey.pro")
    globex = create(shop, GLOBEX, "scaikey.pro")
    assert shop.get(f"/admin/subscriptions/{acme['id']}", "reseller").status == 404
    assert shop.post(f"/admin/subscriptions/{acme['id']}/cancel", "reseller",
                     json={}).status == 404
    assert shop.post("/admin/subscriptions", "reseller",
                     json={"tenant_id": ACME, "plan_key": "scaidrive.basic"}).status == 404
    listed = shop.get("/admin/subscriptions", "reseller").json()["data"]
    assert [s["id"] for s in listed] == [globex["id"]]
    everything = shop.get(f"/admin/subscriptions?tenant_id={ACME}").json()["data"]
    assert [s["id"] for s in everything] == [acme["id"]]
    assert shop.get("/admin/subscriptions", "acme_admin").status == 403


def test_bulk_reports_each_outcome(any_shop: Shop) -> None:
    """Best effort: successes and failures (with their error code) side by side."""
    shop = any_shop
    first = create(shop, ACME, "scaikey.pro")
    second = create(shop, GLOBEX, "scaikey.trial")
    ids = [first["id"], second["id"], "missing", first["id"]]
    result = shop.data(shop.post("/admin/subscriptions/bulk",
                                 json={"action": "cancel_immediate", "subscription_ids": ids}))
    assert result["succeeded"] == [first["id"], second["id"]]
    assert result["failed"] == [{"id": "missing", "error": "Subscription 'missing' not found",
                                 "code": "not_found"}]
    again = shop.data(shop.post("/admin/subscriptions/bulk",
                                json={"action": "resume", "subscription_ids": [first["id"]]}))
    assert again["succeeded"] == [] and again["failed"][0]["code"] == "bad_request"
    too_many = shop.post("/admin/subscriptions/bulk", json={
        "action": "cancel", "subscription_ids": [str(n) for n in range(101)]})
    assert too_many.status == 422


def test_pack_subscription_ids_work_on_the_operator_endpoints(shop: Shop) -> None:
    """A pack subscription id answers as a pack; a child id is refused."""
    view = shop.world.packs.subscribe(EVERYTHING, tenant_id=GLOBEX, pack="bundle",
                                      now=shop.world.now)
    pack_id = view.pack_subscription.id
    got = shop.data(shop.get(f"/admin/subscriptions/{pack_id}", "reseller"))
    assert got["kind"] == "pack_subscription" and len(got["subscriptions"]) == 3
    cancelled = shop.data(shop.post(f"/admin/subscriptions/{pack_id}/cancel", "reseller",
                                    json={"immediate": True}))
    assert {c["status"] for c in cancelled["subscriptions"]} == {"cancelled"}
    child = view.children[0].id
    refused = shop.post(f"/admin/subscriptions/{child}/override", json={"quantity": 2})
    assert refused.status == 400 and "pack" in refused.json()["error"]["message"]


def test_a_change_notifies_the_tenant_at_once(any_shop: Shop) -> None:
    """The notification of a subscription change is committed with it: the tenant's users
    see it straight away, with no worker running; other tenants see nothing."""
    shop = any_shop
    create(shop, ACME, "scaikey.pro")
    seen = shop.data(shop.get("/notifications", "acme_user"))
    assert [n["title"] for n in seen] == ["Subscription activated"]
    assert seen[0]["link"].startswith("/subscriptions/") and not seen[0]["is_read"]
    assert shop.data(shop.get("/notifications", "globex_admin")) == []

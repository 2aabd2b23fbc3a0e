"""Service packs over HTTP: browsing, buying and cancelling, and pack administration."""

from __future__ import annotations

from typing import Any

from .conftest import Shop


def pack_body(shop: Shop, **changes: Any) -> dict[str, Any]:
    plans = [shop.world.plan(key) for key in ("scaikey.yearly", "scaidrive.basic")]
    body = {"slug": "duo", "name": "Duo", "billing_period": "monthly",
            "base_price_cents": 5000, "currency": "EUR", "discount_type": "fixed_price",
            "items": [{"service_id": p.service_id, "plan_id": p.id} for p in plans[1:]]}
    return {**body, **changes}


def test_tenants_browse_buy_and_cancel_packs(any_shop: Shop) -> None:
    """The pack shows its prices; buying creates the children; cancel cascades."""
    shop = any_shop
    packs = shop.get("/service-packs", "acme_user").json()["data"]
    bundle = next(p for p in packs if p["slug"] == "bundle")
    assert (bundle["price_cents"], bundle["list_price_cents"], bundle["mrr_cents"]) == (
        11638, 13300, 11638)
    assert [i["plan_key"] for i in bundle["items"]] == [
        "scaikey.pro", "scaidrive.basic", "scaivault.pro"]
    assert shop.data(shop.get("/service-packs/bundle", "acme_user")) == bundle
    bought = shop.data(shop.post("/service-packs/bundle/subscribe", "acme_admin"), 201)
    assert bought["status"] == "active" and bought["kind"] == "pack_subscription"
    assert {c["pack_subscription_id"] for c in bought["subscriptions"]} == {bought["id"]}
    assert shop.post("/service-packs/bundle/subscribe", "acme_admin").status == 409
    mine = shop.get("/service-packs/subscriptions", "acme_user").json()["data"]
    assert [p["id"] for p in mine] == [bought["id"]]
    cancelling = shop.data(shop.post(
        f"/service-packs/subscriptions/{bought['id']}/cancel", "acme_admin", json={}))
    assert {c["status"] for c in cancelling["subscriptions"]} == {"cancelling"}
    assert [e.event_type.value for e in shop.world.events(bought["id"])] == [
        "pack_subscription.activated", "pack_subscription.changed"]


def test_pack_subscriptions_stay_within_their_tenant(shop: Shop) -> None:
    """Another tenant's pack subscription is 404; buying needs billing:manage."""
    bought = shop.data(shop.post("/service-packs/trial-bundle/subscribe", "acme_admin"), 201)
    assert bought["status"] == "trialing"
    assert shop.post(f"/service-packs/subscriptions/{bought['id']}/cancel", "globex_admin",
                     json={}).status == 404
    assert shop.get("/service-packs/subscriptions", "globex_admin").json()["data"] == []
    assert shop.post("/service-packs/bundle/subscribe", "acme_user").status == 403
    assert shop.post("/service-packs/nope/subscribe", "acme_admin").status == 404


def test_operators_manage_packs(any_shop: Shop) -> None:
    """Create, read, change and delete a pack; rule breaks are 400; scope is admin:billing."""
    shop = any_shop
    created = shop.data(shop.post("/admin/service-packs", json=pack_body(shop)), 201)
    assert (created["price_cents"], created["list_price_cents"]) == (5000, 1500)
    assert shop.post("/admin/service-packs", json=pack_body(shop)).status == 409
    assert shop.post("/admin/service-packs", "reseller", json=pack_body(shop)).status == 403
    patched = shop.data(shop.call("PATCH", "/admin/service-packs/duo", json={
        "discount_type": "percentage", "discount_percentage": "10", "description": "Two"}))
    assert (patched["price_cents"], patched["discount_percentage"]) == (1350, "10")
    cleared = shop.data(shop.call("PATCH", "/admin/service-packs/duo",
                                  json={"description": None}))
    assert cleared["description"] is None and cleared["discount_percentage"] == "10"
    assert shop.call("DELETE", "/admin/service-packs/duo").status == 204
    assert shop.get("/admin/service-packs/duo").status == 404
    shop.data(shop.post("/service-packs/bundle/subscribe", "acme_admin"), 201)
    sold = shop.call("DELETE", "/admin/service-packs/bundle")
    assert sold.status == 409 and "is_active" in sold.json()["error"]["message"]


def test_pack_rules_are_enforced(shop: Shop) -> None:
    """Mismatched billing period, a reserved slug or a missing percentage are 400."""
    yearly = shop.world.plan("scaikey.yearly")
    wrong_period = pack_body(shop, items=[{"service_id": yearly.service_id,
                                           "plan_id": yearly.id}])
    for body in (wrong_period, pack_body(shop, slug="subscriptions"),
                 pack_body(shop, discount_type="percentage")):
        reply = shop.post("/admin/service-packs", json=body)
        assert reply.status == 400, reply.body
    assert shop.post("/admin/service-packs", json=pack_body(shop, items=[])).status == 422
    assert shop.world.packs.list_packs()[1] == 2

"""A tenant's own subscriptions over HTTP, including the transitions it may not make."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Shop


def topics(shop: Shop, resource: str) -> list[str]:
    return [e.event_type.value for e in shop.world.events(resource)]


def test_a_tenant_buys_cancels_and_undoes(any_shop: Shop) -> None:
    """Subscribe, schedule a cancellation, withdraw it: each step answers the new state
    and records its event."""
    shop = any_shop
    sub = shop.data(shop.post("/subscriptions", "acme_admin",
                              json={"plan_key": "scaikey.pro", "quantity": 2}), 201)
    assert (sub["status"], sub["quantity"], sub["service_slug"], sub["kind"]) == (
        "active", 2, "scaikey", "subscription")
    assert sub["current_period_end"] == "2026-02-01T00:00:00+00:00"
    path = f"/subscriptions/{sub['id']}"
    cancelling = shop.data(shop.post(f"{path}/cancel", "acme_admin", json={"reason": "tight"}))
    assert cancelling["status"] == "cancelling"
    assert cancelling["pending_cancellation_at"] == sub["current_period_end"]
    active = shop.data(shop.post(f"{path}/resume", "acme_admin"))
    assert active["status"] == "active" and active["pending_cancellation_at"] is None
    assert shop.data(shop.get(path, "acme_user")) == active
    listed = shop.get("/subscriptions", "acme_user").json()
    assert [s["id"] for s in listed["data"]] == [sub["id"]] and listed["pagination"]["total"] == 1
    assert topics(shop, sub["id"]) == ["subscription.activated", "subscription.changed",
                                       "subscription.changed"]


def test_invalid_transitions_are_400_and_change_nothing(any_shop: Shop) -> None:
    """Resuming an active subscription or cancelling twice is bad_request; nothing moves."""
    shop = any_shop
    sub = shop.data(shop.post("/subscriptions", "acme_admin", json={"plan_key": "scaikey.pro"}),
                    201)
    path = f"/subscriptions/{sub['id']}"
    refused = shop.post(f"{path}/resume", "acme_admin")
    assert refused.status == 400 and refused.json()["error"]["code"] == "bad_request"
    assert "undo_cancellation" in refused.json()["error"]["message"]
    shop.data(shop.post(f"{path}/cancel", "acme_admin", json={}))
    before = shop.world.snapshot()
    again = shop.post(f"{path}/cancel", "acme_admin", json={})
    assert again.status == 400 and again.json()["error"]["code"] == "bad_request"
    assert shop.post(f"{path}/change", "acme_admin", json={"quantity": 4}).status == 400
    assert shop.world.snapshot() == before


def test_a_trial_cancel_ends_it_at_once(shop: Shop) -> None:
    """A trialing subscription is cancelled immediately (no paid period to run out)."""
    sub = shop.data(shop.post("/subscriptions", "acme_admin",
                              json={"plan_key": "scaikey.trial"}), 201)
    assert sub["status"] == "trialing" and sub["trial_ends_at"] == "2026-01-15T00:00:00+00:00"
    ended = shop.data(shop.post(f"/subscriptions/{sub['id']}/cancel", "acme_admin", json={}))
    assert ended["status"] == "cancelled"
    assert topics(shop, sub["id"])[-1] == "subscription.cancelled"


def test_plan_and_quantity_changes(shop: Shop) -> None:
    """Same-service plan changes and quantity changes succeed; another service's plan
    is refused."""
    sub = shop.data(shop.post("/subscriptions", "acme_admin", json={"plan_key": "scaikey.pro"}),
                    201)
    yearly = shop.world.plan("scaikey.yearly")
    changed = shop.data(shop.post(f"/subscriptions/{sub['id']}/change", "acme_admin",
                                  json={"plan_id": yearly.id, "quantity": 5}))
    assert (changed["plan_key"], changed["quantity"]) == ("scaikey.yearly", 5)
    refused = shop.post(f"/subscriptions/{sub['id']}/change", "acme_admin",
                        json={"plan_key": "scaidrive.basic"})
    assert refused.status == 400 and "another service" in refused.json()["error"]["message"]


@pytest.mark.parametrize(("body", "where"), [
    ({}, ["plan_id"]),
    ({"plan_id": "x", "plan_key": "scaikey.pro"}, ["plan_key"]),
    ({"plan_key": "scaikey.pro", "quantity": 0}, ["quantity"]),
    ({"plan_key": 7, "quantity": "2"}, ["plan_key", "quantity"]),
])
def test_malformed_purchases_are_422(shop: Shop, body: dict[str, Any],
                                     where: list[str]) -> None:
    """Missing, doubled or mistyped plan and quantity fields are 422 listing each one."""
    reply = shop.post("/subscriptions", "acme_admin", json=body)
    assert reply.status == 422
    assert sorted(d["loc"][-1] for d in reply.json()["detail"]) == where
    assert shop.world.snapshot()[0] == ()


def test_purchase_rules_answer_with_the_error_envelope(shop: Shop) -> None:
    """No billing profile is 400; a second live subscription to a service is 409."""
    reply = shop.post("/subscriptions", "noprofile_admin", json={"plan_key": "scaikey.pro"})
    assert reply.status == 400 and "billing profile" in reply.json()["error"]["message"]
    shop.data(shop.post("/subscriptions", "acme_admin", json={"plan_key": "scaikey.pro"}), 201)
    again = shop.post("/subscriptions", "acme_admin", json={"plan_key": "scaikey.trial"})
    assert again.status == 409 and again.json()["error"]["code"] == "conflict"
    missing = shop.post("/subscriptions", "acme_admin", json={"plan_key": "scaikey.nope"})
    assert missing.status == 404


def test_callers_see_only_their_own_tenant(shop: Shop) -> None:
    """Other tenants' subscriptions are 404; reading needs a scope, buying billing:manage."""
    sub = shop.data(shop.post("/subscriptions", "acme_admin", json={"plan_key": "scaikey.pro"}),
                    201)
    assert shop.get(f"/subscriptions/{sub['id']}", "globex_admin").status == 404
    assert shop.post(f"/subscriptions/{sub['id']}/cancel", "globex_admin",
                     json={}).status == 404
    assert shop.get("/subscriptions", "globex_admin").json()["data"] == []
    assert shop.post("/subscriptions", "acme_user", json={"plan_key": "scaikey.pro"}
                     ).status == 403
    assert shop.get("/subscriptions", "anonymous").status == 401
    assert shop.get("/subscriptions", "reseller").status == 403  # no subscriptions:read


def test_listing_filters_by_status(shop: Shop) -> None:
    """?status= narrows the list; an unknown status is 422."""
    shop.data(shop.post("/subscriptions", "acme_admin", json={"plan_key": "scaikey.pro"}), 201)
    trial = shop.data(shop.post("/subscriptions", "acme_admin",
                                json={"plan_key": "scaidrive.team"}), 201)
    found = shop.get("/subscriptions?status=trialing", "acme_user").json()["data"]
    assert [s["id"] for s in found] == [trial["id"]]
    assert shop.get("/subscriptions?status=paused", "acme_user").status == 422

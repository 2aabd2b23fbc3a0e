"""The catalog over HTTP: the public shop window and catalog administration."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Shop


def test_the_service_list_is_public_and_shows_what_is_for_sale(any_shop: Shop) -> None:
    """Anyone may list services; each comes with its plans, prices and MRR."""
    page = any_shop.get("/catalog/services", "anonymous")
    assert page.status == 200
    body = page.json()
    assert [s["slug"] for s in body["data"]] == ["scaidrive", "scaikey", "scaivault"]
    assert body["pagination"] == {"page": 1, "page_size": 20, "total": 3, "total_pages": 1}
    scaikey = body["data"][1]
    yearly = next(p for p in scaikey["plans"] if p["plan_key"] == "scaikey.yearly")
    assert (yearly["base_price_cents"], yearly["mrr_cents"], yearly["billing_period"]) == (
        99000, 8250, "yearly")
    assert "cost_multiplier" not in yearly and "is_public" not in yearly


def test_service_detail_needs_the_browse_scope(shop: Shop) -> None:
    """Other catalog endpoints need credentials with services:read."""
    assert shop.get("/catalog/services/scaikey", "anonymous").status == 401
    detail = shop.data(shop.get("/catalog/services/scaikey", "acme_user"))
    assert sorted(p["slug"] for p in detail["plans"]) == ["commit", "pro", "trial", "yearly"]
    plans = shop.data(shop.get("/catalog/services/scaidrive/plans", "acme_user"))
    assert [p["plan_key"] for p in plans] == ["scaidrive.basic", "scaidrive.team"]
    plan = shop.data(shop.get("/catalog/plans/scaikey.trial", "acme_user"))
    assert (plan["trial_days"], plan["tier"]) == (14, "trial")
    assert shop.data(shop.get(f"/catalog/plans/{plan['id']}", "acme_user")) == plan


def test_missing_and_hidden_entries_are_not_found(shop: Shop) -> None:
    """Unknown or retired plans are 404 in the shop (with the error envelope)."""
    assert shop.call("PATCH", "/admin/catalog/plans/scaikey.pro",
                     json={"is_active": False}).status == 200
    for path in ("/catalog/plans/scaikey.pro", "/catalog/services/nope",
                 "/catalog/services/nope/plans"):
        reply = shop.get(path, "acme_user")
        assert reply.status == 404 and reply.json()["error"]["code"] == "not_found"
    assert shop.get("/catalog/plans/" + "x" * 200, "acme_user").status == 422


def test_operators_add_services_and_plans(shop: Shop) -> None:
    """Creating a service and a plan; slugs are unique; scopes are enforced."""
    service = shop.data(shop.post("/admin/catalog/services",
                                  json={"slug": "scaiflow", "name": "ScaiFlow"}), 201)
    assert shop.post("/admin/catalog/services", json={"slug": "scaiflow", "name": "Again"}
                     ).status == 409
    assert shop.post("/admin/catalog/services", "reseller",
                     json={"slug": "x", "name": "X"}).status == 403
    plan = shop.data(shop.post("/admin/catalog/plans", json={
        "service": service["id"], "slug": "runs", "name": "Runs",
        "billing_period": "quarterly", "base_price_cents": 3000, "currency": "USD",
        "quotas": {"monthly_runs": 250000}, "cost_multiplier": "1.10",
        "usage_pricing": [{"metric_slug": "monthly_runs", "tier_start": 0,
                           "unit_price_cents": 1, "unit_label": "1000 runs",
                           "unit_divisor": 1000}],
        "metadata": {"owner": "flow-team"}}), 201)
    assert (plan["plan_key"], plan["mrr_cents"], plan["cost_multiplier"]) == (
        "scaiflow.runs", 1000, "1.10")
    assert plan["usage_pricing"][0]["tier_end"] is None
    listed = shop.data(shop.get("/admin/catalog/plans?service=scaiflow"))
    assert [p["id"] for p in listed] == [plan["id"]]


BAD_BODIES: list[tuple[dict[str, Any], list[str]]] = [
    ({}, ["service", "slug", "name", "billing_period", "base_price_cents", "currency"]),
    ({"service": "scaikey", "slug": "Bad Slug", "name": "x", "billing_period": "weekly",
      "base_price_cents": "10", "currency": "eur"}, ["slug", "base_price_cents", "currency"]),
    ({"service": "scaikey", "slug": "ok", "name": "x", "billing_period": "hourly",
      "base_price_cents": -1, "currency": "EUR", "trial_days": 999},
     ["billing_period", "base_price_cents", "trial_days"]),
]


@pytest.mark.parametrize(("body", "fields"), BAD_BODIES)
def test_malformed_plans_are_422_listing_every_field(shop: Shop, body: dict[str, Any],
                                                     fields: list[str]) -> None:
    """Every malformed field is listed at once and nothing is created."""
    reply = shop.post("/admin/catalog/plans", json=body)
    assert reply.status == 422
    assert sorted(d["loc"][1] for d in reply.json()["detail"]) == sorted(fields)
    assert shop.world.catalog.list_plans()[1] == 8


def test_rule_breaking_plans_are_400_and_unknown_services_404(shop: Shop) -> None:
    """Well-formed input that breaks a catalog rule gets the error envelope."""
    base = {"service": "scaikey", "slug": "gap", "name": "Gap", "billing_period": "monthly",
            "base_price_cents": 100, "currency": "EUR"}
    gap = {**base, "usage_pricing": [{"metric_slug": "mau", "tier_start": 5,
                                      "unit_price_cents": 1, "unit_label": "u"}]}
    reply = shop.post("/admin/catalog/plans", json=gap)
    assert reply.status == 400 and "start at 0" in reply.json()["error"]["message"]
    assert shop.post("/admin/catalog/plans", json={**base, "service": "nope"}).status == 404


def test_partial_updates_keep_absent_fields_and_clear_nulls(shop: Shop) -> None:
    """PATCH leaves out what is absent; null clears a nullable field; slugs stay."""
    shop.data(shop.call("PATCH", "/admin/catalog/plans/scaikey.pro",
                        json={"description": "Teams", "fixed_term_periods": 6}))
    patched = shop.data(shop.call("PATCH", "/admin/catalog/plans/scaikey.pro",
                                  json={"description": None, "base_price_cents": 10000,
                                        "name": None}))
    assert (patched["description"], patched["base_price_cents"], patched["name"]) == (
        None, 10000, "scaikey pro")
    assert patched["fixed_term_periods"] == 6 and patched["plan_key"] == "scaikey.pro"
    service = shop.data(shop.call("PATCH", "/admin/catalog/services/scaikey",
                                  json={"is_public": False}))
    assert service["is_public"] is False and service["slug"] == "scaikey"
    assert shop.get("/catalog/services/scaikey", "acme_user").status == 404

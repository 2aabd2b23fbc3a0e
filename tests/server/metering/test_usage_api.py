"""Quotas, a tenant's own usage and the admin usage endpoints, with tenant isolation."""

from __future__ import annotations

from typing import Any

from .conftest import ACME_USER, GLOBEX_ADMIN, NORTHWIND, NOW, SERVICE, SUPER, MeteringClient

Q = "/api/v1/internal/quotas"


def mau(key: str, user: str, tenant: str = "tnt_demo_acme") -> dict[str, Any]:
    return {"tenant_id": tenant, "service_slug": "scaikey",
            "metric_slug": "monthly_active_users", "quantity": 1,
            "occurred_at": NOW.isoformat(), "idempotency_key": key,
            "properties": {"user_id": user}}


def test_quota_reports_limit_used_and_remaining(metering: MeteringClient) -> None:
    """Acme's ScaiKey Pro plan limits monthly active users; use counts distinct users."""
    before = metering.get(f"{Q}/tnt_demo_acme/scaikey/monthly_active_users", headers=SERVICE)
    assert before.status == 200, before.body
    data = before.json()["data"]
    assert data["limit"] == 10_000 and data["plan_key"] == "scaikey.pro"
    assert metering.ingest([mau("q1", "new-a"), mau("q2", "new-b"), mau("q3", "new-a")]
                           ).status == 202
    after = metering.get(f"{Q}/tnt_demo_acme/scaikey/monthly_active_users",
                         headers=SERVICE).json()["data"]
    assert after["used"] == data["used"] + 2
    assert after["remaining"] == 10_000 - after["used"] and after["exceeded"] is False
    assert after["period_start"].startswith("2026-03-01")


def test_quota_without_limit_or_plan_is_unlimited(metering: MeteringClient) -> None:
    """A metric missing from the plan's quotas (or no plan at all) has no limit."""
    data = metering.get(f"{Q}/tnt_demo_acme/scaikey/logins", headers=SERVICE).json()["data"]
    assert data["limit"] is None and data["remaining"] is None and data["exceeded"] is False
    none = metering.get(f"{Q}/tnt_demo_acme/scaivault/secrets", headers=SERVICE).json()["data"]
    assert none["plan_id"] is None and none["limit"] is None


def test_quota_of_unknown_things_is_404(metering: MeteringClient) -> None:
    """Unknown tenants, services and metrics answer 404; tenant users may not ask (403)."""
    for path in ("tnt_nobody/scaikey/logins", "tnt_demo_acme/nope/logins",
                 "tnt_demo_acme/scaikey/nope"):
        assert metering.get(f"{Q}/{path}", headers=SERVICE).status == 404
    assert metering.get(f"{Q}/tnt_demo_acme/scaikey/logins", headers=ACME_USER).status == 403


def test_tenant_sees_only_its_own_usage(metering: MeteringClient) -> None:
    """Globex's summary never shows Acme's usage, and Acme's shows its own."""
    metering.ingest([mau("iso-1", "acme-only")])
    acme = metering.get("/api/v1/usage/summary", headers=ACME_USER).json()["data"]
    assert acme["tenant_id"] == "tnt_demo_acme"
    assert {s["service_slug"] for s in acme["services"]} >= {"scaikey", "scaidrive"}
    globex = metering.get("/api/v1/usage/summary", headers=GLOBEX_ADMIN).json()["data"]
    assert globex["tenant_id"] == "tnt_demo_globex" and globex["services"] == []
    history = metering.get("/api/v1/usage/history?period_type=daily",
                           headers=GLOBEX_ADMIN).json()["data"]
    assert history == []
    quotas = metering.get("/api/v1/usage/quotas", headers=ACME_USER).json()["data"]
    assert {q["tenant_id"] for q in quotas} == {"tnt_demo_acme"}
    assert metering.get("/api/v1/usage/summary", headers=SERVICE).status == 403


def test_history_lists_days(metering: MeteringClient) -> None:
    """Daily history has one point per day and metric with usage."""
    reply = metering.get("/api/v1/usage/history?period_type=daily&service_slug=scaidrive",
                         headers=ACME_USER)
    points = reply.json()["data"]
    assert {p["metric_slug"] for p in points} == {"storage_gb", "egress_mb"}
    storage = [p for p in points if p["metric_slug"] == "storage_gb"]
    assert storage[-1]["value"] == 41  # the latest demo reading, one hour before NOW


def test_admin_usage_respects_partner_reach(metering: MeteringClient) -> None:
    """A partner admin's aggregate counts only its tenants; other tenants read as 404."""
    everything = metering.get("/api/v1/admin/usage/aggregate", headers=SUPER).json()["data"]
    scaikey = next(s for s in everything["services"] if s["service_slug"] == "scaikey")
    assert scaikey["active_tenants"] == 2  # Acme and Initech
    partner = metering.get("/api/v1/admin/usage/aggregate", headers=NORTHWIND).json()["data"]
    partner_key = next(s for s in partner["services"] if s["service_slug"] == "scaikey")
    assert partner_key["active_tenants"] == 1  # Initech only
    assert metering.get("/api/v1/admin/usage/tenant/tnt_demo_acme",
                        headers=NORTHWIND).status == 404
    initech = metering.get("/api/v1/admin/usage/tenant/tnt_demo_initech", headers=NORTHWIND)
    assert initech.status == 200 and initech.json()["data"]["tenant_id"] == "tnt_demo_initech"
    assert metering.get("/api/v1/admin/usage/aggregate", headers=ACME_USER).status == 403

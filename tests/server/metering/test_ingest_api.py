"""Usage ingestion over HTTP: authentication, deduplication, all-or-nothing validation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scaicontrol_core.metering_demo import DEMO_SERVICE_KEY

from .conftest import ACME_USER, NOW, SUPER, MeteringClient


def ev(key: str, quantity: int = 1, **changes: Any) -> dict[str, Any]:
    event = {"tenant_id": "tnt_demo_acme", "service_slug": "scaikey", "metric_slug": "logins",
             "quantity": quantity, "occurred_at": NOW.isoformat(), "idempotency_key": key,
             "properties": {"user_id": "u1"}}
    event.update(changes)
    return event


def logins(client: MeteringClient) -> int:
    reply = client.get("/api/v1/usage/by-service/scaikey", headers=ACME_USER)
    assert reply.status == 200, reply.body
    (metric,) = [m for m in reply.json()["data"]["metrics"] if m["metric_slug"] == "logins"]
    return int(metric["value"])


def test_batch_is_accepted_and_duplicates_reported(metering: MeteringClient) -> None:
    """A batch answers 202 with accepted and duplicate counts; repeats are not counted."""
    before = logins(metering)
    reply = metering.ingest([ev("a"), ev("b"), ev("a")])
    assert reply.status == 202, reply.body
    assert reply.json()["data"] == {"received": 3, "accepted": 2, "duplicates": 1}
    again = metering.ingest([ev("b"), ev("c")])
    assert again.json()["data"] == {"received": 2, "accepted": 1, "duplicates": 1}
    assert logins(metering) == before + 3


def test_invalid_event_rejects_the_whole_batch(metering: MeteringClient) -> None:
    """A bad field answers 422 naming index and field, and nothing of the batch is kept."""
    before = logins(metering)
    reply = metering.ingest([ev("ok-1"), ev("ok-2"), ev("ok-3"), ev("bad", quantity=-1)])
    assert reply.status == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "events", 3, "quantity"]
    assert logins(metering) == before


def test_unknown_tenant_service_and_metric_are_named(metering: MeteringClient) -> None:
    """Unknown tenants, services and metrics answer 422 at their index; nothing is stored."""
    before = logins(metering)
    reply = metering.ingest([ev("x1"), ev("x2", tenant_id="tnt_nobody"),
                             ev("x3", service_slug="nope"), ev("x4", metric_slug="nope")])
    assert reply.status == 422
    locs = [d["loc"] for d in reply.json()["detail"]]
    assert locs == [["body", "events", 1, "tenant_id"], ["body", "events", 2, "service_slug"],
                    ["body", "events", 3, "metric_slug"]]
    assert logins(metering) == before


def test_late_and_future_events_are_refused(metering: MeteringClient) -> None:
    """Events older than the late-arrival window, or from the future, are refused."""
    old = (NOW - timedelta(days=8)).isoformat()
    future = (NOW + timedelta(hours=1)).isoformat()
    reply = metering.ingest([ev("late", occurred_at=old), ev("soon", occurred_at=future)])
    assert reply.status == 422
    detail = reply.json()["detail"]
    assert [d["loc"][2:] for d in detail] == [[0, "occurred_at"], [1, "occurred_at"]]
    assert "late-arrival window" in detail[0]["msg"]
    fine = metering.ingest([ev("six-days", occurred_at=(NOW - timedelta(days=6)).isoformat())])
    assert fine.status == 202


def test_unique_count_metric_needs_its_property(metering: MeteringClient) -> None:
    """A unique-count event without the counted property is refused at that property."""
    reply = metering.ingest([ev("m1", metric_slug="monthly_active_users", properties={})])
    assert reply.status == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "events", 0, "properties", "user_id"]


def test_callers_who_may_not_report(metering: MeteringClient) -> None:
    """Anonymous callers get 401, a tenant user 403; a super admin may report."""
    assert metering.ingest([ev("n1")], headers={}).status == 401
    assert metering.ingest([ev("n2")], headers=ACME_USER).status == 403
    assert metering.ingest([ev("n3")], headers=SUPER).status == 202


def test_api_key_reports_for_its_own_service(metering: MeteringClient) -> None:
    """The demo ScaiKey key may leave the service out, but not report for another service."""
    key = {"X-ScaiControl-Key": DEMO_SERVICE_KEY}
    mine = metering.ingest([ev("k1", service_slug=None)], headers=key)
    assert mine.status == 202, mine.body
    other = metering.ingest([ev("k2", service_slug="scaidrive", metric_slug="egress_mb")],
                            headers=key)
    assert other.status == 422
    assert other.json()["detail"][0]["loc"][3] == "service_slug"
    wrong = {"X-ScaiControl-Key": DEMO_SERVICE_KEY[:-3] + "xyz"}
    assert metering.ingest([ev("k3")], headers=wrong).status == 401


def test_created_key_works_until_revoked(metering: MeteringClient) -> None:
    """An admin-made key is shown once, authenticates, and stops working when revoked."""
    made = metering.post("/api/v1/admin/service-keys", headers=SUPER,
                         json={"service_slug": "scaikey", "name": "ci"})
    assert made.status == 201, made.body
    token, key_id = made.json()["data"]["key"], made.json()["data"]["id"]
    listed = metering.get("/api/v1/admin/service-keys", headers=SUPER).json()["data"]
    assert all("key" not in k and "secret_hash" not in k for k in listed)
    header = {"X-ScaiControl-Key": token}
    assert metering.ingest([ev("r1")], headers=header).status == 202
    revoked = metering.request("DELETE", f"/api/v1/admin/service-keys/{key_id}", headers=SUPER)
    assert revoked.json()["data"]["revoked_at"] is not None
    assert metering.ingest([ev("r2")], headers=header).status == 401


def test_overlapping_concurrent_batches_count_once(metering: MeteringClient) -> None:
    """Two clients posting overlapping batches at once: exact totals, duplicates reported."""
    before = logins(metering)
    first = [ev(f"c{i:03d}") for i in range(0, 300)]
    second = [ev(f"c{i:03d}") for i in range(150, 450)]
    replies = metering.concurrently([first, second, first[:50] + second[-50:]])
    assert all(r.status == 202 for r in replies), [r.body for r in replies]
    counts = [r.json()["data"] for r in replies]
    assert sum(c["accepted"] for c in counts) == 450
    assert sum(c["duplicates"] for c in counts) == 700 - 450
    assert logins(metering) == before + 450

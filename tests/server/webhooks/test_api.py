"""The webhook admin API over HTTP, on the memory backend and the SQL database under test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scaicontrol_core.clock import ManualClock
from scaicontrol_core.events import Topic, outbox_message
from scaicontrol_core.ids import RandomIds
from scaicontrol_core.machines.delivery import DeliveryStatus
from scaicontrol_core.webhooks import verify
from scaicontrol_core.webhooks.dispatch import AttemptResult, fan_out, settle
from scaicontrol_core.webhooks.samples import sample_event
from scaicontrol_server import create_app
from scaicontrol_server.keys import STORAGE
from scaicontrol_server.testing import HeaderAuthorizer, principal_header

from ..conftest import Client, served
from .conftest import Backend, Receiver

BASE = "/api/v1/admin/webhook-subscriptions"
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
OPS = principal_header("usr_ops", tenant_id="tnt_ops", permissions=("admin:billing",))
VIEWER = principal_header("usr_view", tenant_id="tnt_ops", roles=("tenant_admin",))


@pytest.fixture
def api(backend: Backend) -> Iterator[Client]:
    """The app (both backends) with the test authorizer and a manual clock at NOW."""
    make_settings, plugins = backend
    app = create_app(make_settings(), plugins=plugins, authorizer=HeaderAuthorizer(),
                     clock=ManualClock(NOW))
    with served(app) as client:
        yield client


def new(api: Client, url: str = "https://hooks.example.com/in", **fields: Any) -> Any:
    body = {"name": "CRM", "target_url": url, "topics": ["subscription.*"], **fields}
    reply = api.post(BASE, json=body, headers=OPS)
    assert reply.status == 201, reply.body
    return reply.json()["data"]


def test_create_shows_the_secret_once(api: Client) -> None:
    """Creating answers 201 with the secret; reading and listing never show it."""
    made = new(api, description="CRM sync")
    assert made["secret"].startswith("whsec_") and made["topics"] == ["subscription.*"]
    one = api.get(f"{BASE}/{made['id']}", headers=OPS).json()["data"]
    listed = api.get(BASE, headers=OPS).json()
    assert "secret" not in one and all("secret" not in s for s in listed["data"])
    assert one == {k: v for k, v in made.items() if k != "secret"}
    assert listed["pagination"] == {"page": 1, "page_size": 20, "total": 1, "total_pages": 1}


@pytest.mark.parametrize(("body", "loc"), [
    ({"name": "x", "target_url": "https://a.example.com"}, ["body", "topics"]),
    ({"name": "x", "target_url": "https://a.example.com", "topics": "subscription.*"},
     ["body", "topics"]),
    ({"name": "", "target_url": "https://a.example.com", "topics": ["*"]}, ["body", "name"]),
    ({"name": "x", "target_url": "https://a.example.com", "topics": ["*"], "secret": "short"},
     ["body", "secret"]),
    ({"name": "x", "target_url": "https://a.example.com", "topics": ["*"], "is_active": 1},
     ["body", "is_active"]),
])
def test_malformed_bodies_are_422_and_store_nothing(
    api: Client, body: dict[str, Any], loc: list[str]
) -> None:
    """Shape errors answer 422 with a detail item for the field; nothing is created."""
    reply = api.post(BASE, json=body, headers=OPS)
    assert reply.status == 422 and loc in [d["loc"] for d in reply.json()["detail"]]
    assert api.get(BASE, headers=OPS).json()["pagination"]["total"] == 0


@pytest.mark.parametrize(("fields", "words"), [
    ({"target_url": "ftp://hooks.example.com/in"}, "scheme"),
    ({"target_url": "https://10.0.0.1/in"}, "private"),
    ({"target_url": "https://169.254.169.254/x"}, "link_local"),
    ({"topics": ["invoice.*"]}, "matches no known topic"),
])
def test_domain_rules_are_400_and_store_nothing(
    api: Client, fields: dict[str, Any], words: str
) -> None:
    """An unsafe target or a pattern no topic matches answers 400 with the reason."""
    body = {"name": "x", "target_url": "https://a.example.com", "topics": ["*"], **fields}
    reply = api.post(BASE, json=body, headers=OPS)
    assert reply.status == 400 and words in reply.json()["error"]["message"]
    assert api.get(BASE, headers=OPS).json()["pagination"]["total"] == 0


def test_update_rotate_and_delete(api: Client) -> None:
    """PATCH changes given fields; rotating shows a new secret once; DELETE answers 204 and
    the subscription is gone (404)."""
    made = new(api)
    path = f"{BASE}/{made['id']}"
    changed = api.request("PATCH", path, json={"is_active": False, "topics": ["*"]},
                          headers=OPS).json()["data"]
    assert changed["is_active"] is False and changed["topics"] == ["*"]
    assert changed["name"] == "CRM"
    rotated = api.post(f"{path}/rotate-secret", json={}, headers=OPS).json()["data"]
    assert rotated["secret"] != made["secret"]
    given = "whsec_" + "B" * 43 + "="
    assert api.post(f"{path}/rotate-secret", json={"secret": given},
                    headers=OPS).json()["data"]["secret"] == given
    assert api.request("DELETE", path, headers=OPS).status == 204
    assert api.get(path, headers=OPS).status == 404
    assert api.request("DELETE", path, headers=OPS).status == 404


def test_access_needs_admin_billing(api: Client) -> None:
    """Anonymous callers get 401, callers without admin:billing 403."""
    assert api.get(BASE).status == 401
    assert api.get(BASE, headers=VIEWER).status == 403
    assert api.get("/api/v1/admin/webhook-deliveries", headers=VIEWER).status == 403


def test_the_test_event_reaches_the_subscriber(api: Client, receiver: Receiver) -> None:
    """A test event is POSTed at once, signed, and recorded as a dispatched test delivery
    with its attempt."""
    made = new(api, url=receiver.url + "/hook", topics=["pack_subscription.*"])
    reply = api.post(f"{BASE}/{made['id']}/test", headers=OPS)
    assert reply.status == 200, reply.body
    data = reply.json()["data"]
    [hit] = receiver.hits
    assert hit.headers["X-ScaiControl-Event-Type"] == "pack_subscription.activated"
    assert verify(made["secret"], hit.body, hit.headers["X-ScaiControl-Signature"],
                  hit.headers["X-ScaiControl-Timestamp"], NOW)
    assert data["delivery"]["is_test"] and data["delivery"]["status"] == "dispatched"
    assert data["attempt"]["status_code"] == 204 and data["attempt"]["outcome"] == "delivered"
    chosen = api.post(f"{BASE}/{made['id']}/test?event_type=tenant.billing_updated",
                      headers=OPS)
    assert chosen.json()["data"]["delivery"]["event_type"] == "tenant.billing_updated"
    assert api.post(f"{BASE}/{made['id']}/test?event_type=nope", headers=OPS).status == 422


def test_a_failing_test_event_is_dead_at_once(api: Client, receiver: Receiver) -> None:
    """A 500 answer to a test is recorded as a dead test delivery, never retried."""
    made = new(api, url=receiver.url + "/hook")
    receiver.respond(500)
    data = api.post(f"{BASE}/{made['id']}/test", headers=OPS).json()["data"]
    assert data["delivery"]["status"] == "dead" and data["attempt"]["outcome"] == "retry"
    assert data["delivery"]["next_attempt_at"] is None


def _seed(api: Client, sub_id: str, statuses: list[int]) -> list[str]:
    """Fan out one event per status and settle each with it (as the dispatcher would)."""
    storage = api.app[STORAGE]
    ids = RandomIds()
    topics = [Topic.SUBSCRIPTION_ACTIVATED, Topic.SUBSCRIPTION_CHANGED]
    with storage.unit_of_work() as uow:
        for n in range(len(statuses)):
            uow.outbox.append(outbox_message(sample_event(
                topics[n % 2], now=NOW + timedelta(minutes=n), ids=ids)))
        uow.commit()
    delivered = []
    for n, status in enumerate(statuses):
        at = NOW + timedelta(minutes=n)
        with storage.unit_of_work(cross_tenant=True) as uow:
            jobs = fan_out(uow, owner="w", now=at, lease=timedelta(minutes=1), limit=1).jobs
            report = settle(uow, [AttemptResult(delivery=job.delivery, attempted_at=at,
                                                duration_ms=3, status_code=status,
                                                message_seq=job.message_seq) for job in jobs],
                            owner="w", now=at)
            assert report.stale == 0
            uow.commit()
        delivered += [job.delivery.id for job in jobs if job.subscription.id == sub_id]
    return delivered


def test_deliveries_list_with_filters_and_pages(api: Client) -> None:
    """Deliveries filter by subscription, status, event type and creation time, newest
    first, paginated; a bad filter value is 422."""
    first, second = new(api), new(api, name="Other", topics=["*"])
    ids = _seed(api, first["id"], [200, 410, 503])
    path = "/api/v1/admin/webhook-deliveries"
    everything = api.get(path, headers=OPS).json()
    assert everything["pagination"]["total"] == 6  # both subscriptions match every event
    mine = api.get(f"{path}?subscription_id={first['id']}", headers=OPS).json()["data"]
    assert [d["id"] for d in mine] == ids[::-1]
    dead = api.get(f"{path}?subscription_id={first['id']}&status=dead", headers=OPS).json()
    assert [d["id"] for d in dead["data"]] == [ids[1]]
    typed = api.get(f"{path}?event_type=subscription.changed", headers=OPS).json()
    assert {d["event_type"] for d in typed["data"]} == {"subscription.changed"}
    window = (f"{path}?subscription_id={first['id']}&created_from=2026-07-01T12:01:00Z"
              f"&created_to=2026-07-01T12:02:00Z")
    assert [d["id"] for d in api.get(window, headers=OPS).json()["data"]] == [ids[1]]
    paged = api.get(f"{path}?page=2&page_size=4", headers=OPS).json()
    assert len(paged["data"]) == 2 and paged["pagination"]["total_pages"] == 2
    assert "payload" not in mine[0]
    detail = api.get(f"{path}/{ids[0]}", headers=OPS).json()["data"]
    assert detail["payload"]["event_type"] == "subscription.activated"
    for bad in ("status=lost", "created_from=yesterday", "created_from=2026-07-01T12:00:00"):
        assert api.get(f"{path}?{bad}", headers=OPS).status == 422, bad
    assert second["id"]


def test_attempts_list_with_filters(api: Client) -> None:
    """Attempts filter by delivery, subscription, outcome and time."""
    sub = new(api)
    ids = _seed(api, sub["id"], [200, 404])
    path = "/api/v1/admin/webhook-attempts"
    of_first = api.get(f"{path}?delivery_id={ids[0]}", headers=OPS).json()["data"]
    assert [(a["status_code"], a["outcome"], a["attempt_number"]) for a in of_first] == [
        (200, "delivered", 1)
    ]
    dead = api.get(f"{path}?outcome=dead&subscription_id={sub['id']}", headers=OPS).json()
    assert [a["delivery_id"] for a in dead["data"]] == [ids[1]]
    late = api.get(f"{path}?attempted_from=2026-07-01T12:00:30Z", headers=OPS).json()
    assert [a["delivery_id"] for a in late["data"]] == [ids[1]]


def test_redeliver_and_replay(api: Client) -> None:
    """Redelivering a dead delivery requeues it (a pending one is 400); replay requeues
    every dead delivery of the subscription."""
    sub = new(api)
    ok, gone, retrying, refused = _seed(api, sub["id"], [200, 410, 503, 401])
    path = "/api/v1/admin/webhook-deliveries"
    again = api.post(f"{path}/{gone}/redeliver", headers=OPS)
    assert again.status == 200 and again.json()["data"]["status"] == "pending"
    assert again.json()["data"]["attempt_count"] == 0
    assert api.post(f"{path}/{retrying}/redeliver", headers=OPS).status == 400
    assert api.post(f"{path}/{ok}/redeliver", headers=OPS).status == 200
    assert api.post(f"{path}/missing/redeliver", headers=OPS).status == 404
    replayed = api.post(f"{BASE}/{sub['id']}/replay", headers=OPS).json()["data"]
    assert replayed == {"replayed": 1}
    with api.app[STORAGE].unit_of_work() as uow:
        assert uow.webhook_deliveries.require(refused).status is DeliveryStatus.PENDING
    assert api.post(f"{BASE}/missing/replay", headers=OPS).status == 404


def test_the_openapi_document_lists_the_webhook_operations(api: Client) -> None:
    """Every webhook admin path is documented under its tag with the admin:billing scope."""
    document = api.get("/openapi.json").json()
    operations = [
        op for path, item in document["paths"].items() if "/webhook-" in path
        for op in item.values()
    ]
    assert len(operations) == 12
    assert all(op["tags"] == ["admin-webhook-subscriptions"] for op in operations)
    assert all(op["x-scaicontrol-access"] == "admin:billing" for op in operations)

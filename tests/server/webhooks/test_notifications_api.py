"""The notifications API over HTTP: what each user sees, read state, tenant isolation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scaicontrol_core.clock import ManualClock
from scaicontrol_core.notifications import Notification
from scaicontrol_server import create_app
from scaicontrol_server.keys import STORAGE
from scaicontrol_server.testing import HeaderAuthorizer, principal_header

from ..conftest import Client, served
from .conftest import Backend

PATH = "/api/v1/notifications"
NOW = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
ANNA = principal_header("usr_anna", tenant_id="tnt_a", roles=("tenant_user",))
BERT = principal_header("usr_bert", tenant_id="tnt_a", roles=("tenant_admin",))
CARA = principal_header("usr_cara", tenant_id="tnt_b", roles=("tenant_admin",))
SERVICE = principal_header("svc_meter", service=True, permissions=("registry:manage",))


@pytest.fixture
def api(backend: Backend) -> Iterator[Client]:
    """The app on both backends with notifications for two tenants seeded."""
    make_settings, plugins = backend
    app = create_app(make_settings(), plugins=plugins, authorizer=HeaderAuthorizer(),
                     clock=ManualClock(NOW))
    with served(app) as client:
        items = [
            Notification(id=f"n{n}", tenant_id="tnt_a", category="billing" if n % 2 else
                         "subscriptions", title=f"Broadcast {n}", message="For all.",
                         created_at=NOW - timedelta(minutes=n))
            for n in range(1, 26)
        ] + [
            Notification(id="n-anna", tenant_id="tnt_a", user_id="usr_anna",
                         category="general", title="For Anna", message="Just you.",
                         created_at=NOW),
            Notification(id="n-cara", tenant_id="tnt_b", category="general",
                         title="Other tenant", message="Not yours.", created_at=NOW),
        ]
        with client.app[STORAGE].unit_of_work(cross_tenant=True) as uow:
            uow.notifications.add_many(items)
            uow.commit()
        yield client


def test_list_is_paginated_newest_first(api: Client) -> None:
    """A user sees their own and their tenant's broadcasts, newest first, 20 per page."""
    first = api.get(PATH, headers=ANNA).json()
    assert first["pagination"] == {"page": 1, "page_size": 20, "total": 26, "total_pages": 2}
    assert [n["id"] for n in first["data"][:3]] == ["n-anna", "n1", "n2"]
    second = api.get(f"{PATH}?page=2", headers=ANNA).json()["data"]
    assert [n["id"] for n in second][-1] == "n25"
    bert = api.get(PATH, headers=BERT).json()
    assert bert["pagination"]["total"] == 25
    assert api.get(f"{PATH}?category=billing", headers=ANNA).json()["pagination"]["total"] == 13
    keys = set(first["data"][0])
    assert keys == {"id", "tenant_id", "user_id", "category", "title", "message", "link",
                    "is_read", "read_at", "created_at"}


def test_reading_is_per_user_and_idempotent(api: Client) -> None:
    """Anna reading a broadcast leaves it unread for Bert; reading again changes nothing."""
    read = api.post(f"{PATH}/n1/read", headers=ANNA)
    assert read.status == 200 and read.json()["data"]["is_read"] is True
    first_at = read.json()["data"]["read_at"]
    assert api.post(f"{PATH}/n1/read", headers=ANNA).json()["data"]["read_at"] == first_at
    anna = api.get(f"{PATH}?unread_only=true", headers=ANNA).json()["pagination"]["total"]
    bert = api.get(f"{PATH}?unread_only=true", headers=BERT).json()["pagination"]["total"]
    assert (anna, bert) == (25, 25)


def test_read_all_marks_everything_once(api: Client) -> None:
    """read-all marks the caller's unread notifications and reports how many."""
    api.post(f"{PATH}/n3/read", headers=ANNA)
    assert api.post(f"{PATH}/read-all", headers=ANNA).json()["data"] == {"marked_read": 25}
    assert api.post(f"{PATH}/read-all", headers=ANNA).json()["data"] == {"marked_read": 0}
    assert api.get(f"{PATH}?unread_only=true", headers=ANNA).json()["pagination"]["total"] == 0
    assert api.get(f"{PATH}?unread_only=true", headers=BERT).json()["pagination"]["total"] == 25


def test_other_peoples_notifications_are_not_found(api: Client) -> None:
    """Another tenant's id and another user's id answer 404 and change nothing."""
    assert api.post(f"{PATH}/n-cara/read", headers=ANNA).status == 404
    assert api.post(f"{PATH}/n-anna/read", headers=BERT).status == 404
    assert api.post(f"{PATH}/no-such/read", headers=ANNA).status == 404
    cara = api.get(PATH, headers=CARA).json()
    assert [n["id"] for n in cara["data"]] == ["n-cara"] and not cara["data"][0]["is_read"]


def test_callers_need_a_tenant(api: Client) -> None:
    """Anonymous callers get 401; a service principal without a tenant gets 403; bad query
    values get 422."""
    assert api.get(PATH).status == 401
    assert api.get(PATH, headers=SERVICE).status == 403
    assert api.get(f"{PATH}?unread_only=maybe", headers=ANNA).status == 422
    assert api.get(f"{PATH}?page_size=101", headers=ANNA).status == 422

"""The real ``scaicontrol serve`` selling the demo catalog: browse, log in, manage."""

from __future__ import annotations

from pathlib import Path

import httpx

from scaicontrol_core.catalog_demo import demo_id
from scaicontrol_core.identity_demo import DEMO_PASSWORD

from .helpers import run_cli, serving


def login(base: str, email: str) -> dict[str, str]:
    reply = httpx.post(f"{base}/api/v1/auth/token", json={
        "grant_type": "password", "username": email, "password": DEMO_PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def test_the_demo_shop_end_to_end(tmp_path: Path) -> None:
    """Public catalog, a tenant's subscriptions, a refused transition, a partner's reach."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}",
           "SCAICONTROL_LOG_LEVEL": "WARNING"}
    assert run_cli("migrate", "upgrade", env=env, cwd=tmp_path).returncode == 0
    assert run_cli("demo", env=env, cwd=tmp_path).returncode == 0
    with serving(env=env, cwd=tmp_path) as base:
        api = f"{base}/api/v1"
        shop = httpx.get(f"{api}/catalog/services").json()["data"]
        assert [s["slug"] for s in shop] == ["scaikey", "scaidrive", "scaivault"]

        acme = login(base, "admin@acme.example")
        mine = httpx.get(f"{api}/subscriptions", headers=acme).json()["data"]
        assert sorted((s["plan_key"], s["status"]) for s in mine) == [
            ("scaidrive.team", "trialing"), ("scaikey.pro", "active")]
        trial = demo_id("subscription:acme-scaidrive")
        ended = httpx.post(f"{api}/subscriptions/{trial}/cancel", headers=acme, json={})
        assert ended.status_code == 200 and ended.json()["data"]["status"] == "cancelled"
        active = demo_id("subscription:acme-scaikey")
        refused = httpx.post(f"{api}/subscriptions/{active}/resume", headers=acme)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad_request"

        northwind = login(base, "partner@northwind.example")
        theirs = httpx.get(f"{api}/admin/subscriptions", headers=northwind,
                           params={"page_size": 100}).json()["data"]
        assert {s["tenant_id"] for s in theirs} == {"tnt_demo_globex", "tnt_demo_initech"}
        assert httpx.get(f"{api}/admin/subscriptions/{active}",
                         headers=northwind).status_code == 404

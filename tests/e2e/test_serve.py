"""``scaicontrol serve`` as a real process on a free port, spoken to over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from .helpers import run_cli, serving


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    """Settings for the subprocess: the database under test, workers on."""
    return {"DATABASE_URL": database_url, "SCAICONTROL_LOG_LEVEL": "WARNING"}


def test_served_api_end_to_end(env: dict[str, str], tmp_path: Path) -> None:
    """A migrated server is ready, serves OpenAPI, the envelope, pagination and 422s."""
    assert run_cli("migrate", "upgrade", env=env, cwd=tmp_path).returncode == 0
    assert run_cli("demo", env=env, cwd=tmp_path).returncode == 0
    with serving(env=env, cwd=tmp_path) as base:
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"

        spec = httpx.get(f"{base}/openapi.json").json()
        assert spec["openapi"].startswith("3.1")
        assert "/api/v1/lookups/currencies" in spec["paths"]

        page = httpx.get(f"{base}/api/v1/lookups/currencies", params={"q": "euro"})
        assert page.status_code == 200
        body = page.json()
        assert [c["code"] for c in body["data"]] == ["EUR"]
        assert body["pagination"] == {"page": 1, "page_size": 20, "total": 1, "total_pages": 1}
        assert body["meta"]["request_id"] == page.headers["X-Request-Id"]

        missing = httpx.get(f"{base}/api/v1/lookups/currencies/XYZ",
                            headers={"X-Request-Id": "trace-42"})
        assert missing.status_code == 404
        assert missing.json() == {"error": {"code": "not_found",
                                            "message": "Currency 'XYZ' not found",
                                            "request_id": "trace-42"}}
        assert missing.headers["X-Request-Id"] == "trace-42"

        invalid = httpx.get(f"{base}/api/v1/lookups/currencies", params={"page_size": "500"})
        assert invalid.status_code == 422
        [detail] = invalid.json()["detail"]
        assert detail["loc"] == ["query", "page_size"] and detail["type"] and detail["msg"]

        unknown = httpx.post(f"{base}/api/v1/nothing-here", json={})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_server_reports_not_ready_before_migrations(tmp_path: Path) -> None:
    """Against an empty database /readyz answers 503 and says why, while /healthz is 200."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "SCAICONTROL_WORKERS": "false"}
    with serving(env=env, cwd=tmp_path) as base:
        assert httpx.get(f"{base}/healthz").status_code == 200
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "not_ready"


def test_serve_can_migrate_and_load_demo_in_memory(tmp_path: Path) -> None:
    """`serve --demo` on memory:// needs no database and answers at once."""
    env = {"DATABASE_URL": "memory://"}
    with serving("--demo", "--no-workers", env=env, cwd=tmp_path) as base:
        assert httpx.get(f"{base}/readyz").status_code == 200

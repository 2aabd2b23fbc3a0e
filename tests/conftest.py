"""Shared fixtures: Hypothesis profiles, a fixed instant, and the database under test.

``SCAICONTROL_TEST_DATABASE_URL`` selects the database for every SQL-backed test; unset, a
fresh SQLite file in a temporary folder is used. tox sets it for the PostgreSQL and MariaDB
runs.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

TEST_DATABASE_ENV = "SCAICONTROL_TEST_DATABASE_URL"


@pytest.fixture
def now() -> datetime:
    """A fixed, timezone-aware instant."""
    return datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of the database SQL tests run against (SQLite in a temp folder by default)."""
    url = os.environ.get(TEST_DATABASE_ENV)
    if url:
        return url
    folder: Path = tmp_path_factory.mktemp("db")
    return f"sqlite:///{folder / 'scaicontrol-test.db'}"


@pytest.fixture(scope="session")
def database_kind(database_url: str) -> str:
    """'sqlite', 'postgresql' or 'mysql'."""
    scheme = database_url.split(":", 1)[0].split("+", 1)[0]
    return {"mariadb": "mysql", "postgres": "postgresql"}.get(scheme, scheme)

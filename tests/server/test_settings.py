"""Settings: defaults, the .env file, the environment winning, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaicontrol_core.errors import ConfigurationError
from scaicontrol_server.settings import (
    DEFAULT_DATABASE_URL,
    load_settings,
    normalise_database_url,
)


def test_defaults_use_sqlite_and_port_8000(tmp_path: Path) -> None:
    """With nothing set, the server uses the SQLite file and port 8000."""
    settings = load_settings({}, env_file=tmp_path / "absent.env")
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 8000 and settings.workers_enabled
    assert settings.storage_name == "sqlalchemy"


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    """Values come from .env unless the real environment sets them too."""
    env_file = tmp_path / ".env"
    env_file.write_text("SCAICONTROL_PORT=9001\nSCAICONTROL_WORKERS=false\n"
                        "DATABASE_URL=memory://\n")
    settings = load_settings({"SCAICONTROL_PORT": "9100"}, env_file=env_file)
    assert settings.port == 9100
    assert settings.workers_enabled is False
    assert settings.storage_name == "memory"


def test_env_file_named_by_variable(tmp_path: Path) -> None:
    """SCAICONTROL_ENV_FILE points at another file."""
    other = tmp_path / "prod.env"
    other.write_text("SCAICONTROL_DISABLED_PLUGINS= stripe , mollie\n")
    settings = load_settings({"SCAICONTROL_ENV_FILE": str(other)})
    assert settings.disabled_plugins == ("stripe", "mollie")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql+asyncmy://u:p@db/scai", "mysql+pymysql://u:p@db/scai"),
        ("mariadb://root@127.0.0.1/test", "mysql+pymysql://root@127.0.0.1/test"),
        ("postgresql+asyncpg://db/x", "postgresql+psycopg://db/x"),
        ("postgresql://db/x", "postgresql+psycopg://db/x"),
        ("sqlite:///./x.db", "sqlite:///./x.db"),
        ("postgresql+psycopg://db/x", "postgresql+psycopg://db/x"),
    ],
)
def test_database_urls_are_normalised_to_sync_drivers(url: str, expected: str) -> None:
    """Async and bare driver names map onto the drivers scaicontrol ships with."""
    assert normalise_database_url(url) == expected
    assert load_settings({"DATABASE_URL": url}, env_file="/nonexistent").database_url == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [("SCAICONTROL_PORT", "eighty"), ("SCAICONTROL_PORT", "70000"),
     ("SCAICONTROL_WORKERS", "perhaps"), ("DATABASE_URL", "not a url"),
     ("SCAICONTROL_LOG_LEVEL", "chatty")],
)
def test_bad_values_name_the_setting(name: str, value: str) -> None:
    """A malformed value raises ConfigurationError naming the variable."""
    with pytest.raises(ConfigurationError) as info:
        load_settings({name: value}, env_file="/nonexistent")
    assert info.value.setting == name

"""Settings from environment variables and an optional ``.env`` file.

The real environment always wins over the file. Every setting is listed in
``docs/configuration.md``; a test checks that the two agree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from scaicontrol_core.errors import ConfigurationError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "Settings",
    "load_settings",
    "normalise_database_url",
    "settings_table",
]

DEFAULT_DATABASE_URL = "sqlite:///./scaicontrol.db"

# Async driver names from the original deployment's URLs, mapped to the sync drivers we use.
_DRIVER_SWAPS = {
    "mysql+asyncmy": "mysql+pymysql",
    "mysql+aiomysql": "mysql+pymysql",
    "mariadb+asyncmy": "mysql+pymysql",
    "mariadb+aiomysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mysql": "mysql+pymysql",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "sqlite+aiosqlite": "sqlite",
}


def normalise_database_url(url: str) -> str:
    """Swap async or bare driver names for the synchronous drivers scaicontrol uses."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigurationError(f"DATABASE_URL '{url}' is not a URL", setting="DATABASE_URL")
    return f"{_DRIVER_SWAPS.get(scheme, scheme)}://{rest}"


def _env(name: str, default: Any, doc: str) -> Any:
    return attrs.field(default=default, metadata={"env": name, "doc": doc})


@attrs.frozen(kw_only=True)
class Settings:
    """Everything the server, the workers and the CLI can be configured with."""

    database_url: str = _env(
        "DATABASE_URL", DEFAULT_DATABASE_URL,
        "Database URL. sqlite:///path, postgresql://..., mysql://... or mariadb://... "
        "(async driver names such as mysql+asyncmy are accepted and swapped), "
        "or memory:// for throw-away in-process storage.",
    )
    storage_backend: str = _env(
        "SCAICONTROL_STORAGE", "",
        "Storage plugin name. Empty picks 'memory' for memory:// URLs, else 'sqlalchemy'.",
    )
    host: str = _env("SCAICONTROL_HOST", "127.0.0.1", "Address `scaicontrol serve` listens on.")
    port: int = _env("SCAICONTROL_PORT", 8000, "Port `scaicontrol serve` listens on.")
    public_url: str = _env(
        "SCAICONTROL_PUBLIC_URL", "http://localhost:8000",
        "Public base URL of this deployment, used in links and the OpenAPI servers list.",
    )
    workers_enabled: bool = _env(
        "SCAICONTROL_WORKERS", True,
        "Run the background workers inside `serve` (false: run `scaicontrol worker` apart).",
    )
    outbox_retention_days: int = _env(
        "SCAICONTROL_OUTBOX_RETENTION_DAYS", 30,
        "Finished outbox messages older than this are purged by the housekeeping job.",
    )
    auto_migrate: bool = _env(
        "SCAICONTROL_AUTO_MIGRATE", False,
        "Upgrade the database schema to the newest migration when the server starts.",
    )
    disabled_plugins: tuple[str, ...] = _env(
        "SCAICONTROL_DISABLED_PLUGINS", (),
        "Comma-separated plugin names (entry-point names) that must not be loaded.",
    )
    log_level: str = _env(
        "SCAICONTROL_LOG_LEVEL", "INFO", "Python logging level: DEBUG, INFO, WARNING or ERROR."
    )

    @property
    def storage_name(self) -> str:
        """The storage plugin to open: the explicit setting, else chosen by URL."""
        if self.storage_backend:
            return self.storage_backend
        return "memory" if self.database_url.startswith("memory:") else "sqlalchemy"


def _parse(field: attrs.Attribute[Any], raw: str) -> Any:
    name = field.metadata["env"]
    kind = field.type
    try:
        if kind in (bool, "bool"):
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if kind in (tuple[str, ...], "tuple[str, ...]"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a valid {kind}", setting=name) from None
    return raw


def _read_env_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: str | Path | None = None
) -> Settings:
    """Read settings: defaults, then the ``.env`` file, then the real environment.

    The file is ``env_file``, else ``SCAICONTROL_ENV_FILE``, else ``./.env``.
    """
    env = dict(os.environ if environ is None else environ)
    path = Path(env_file or env.get("SCAICONTROL_ENV_FILE") or ".env")
    merged = {**_read_env_file(path), **env}
    values: dict[str, Any] = {}
    for field in attrs.fields(Settings):
        raw = merged.get(field.metadata["env"])
        if raw is not None and raw != "":
            values[field.name] = _parse(field, raw)
    settings = Settings(**values)
    if settings.port < 0 or settings.port > 65535:
        raise ConfigurationError("SCAICONTROL_PORT must be 0-65535", setting="SCAICONTROL_PORT")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigurationError(
            "SCAICONTROL_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL",
            setting="SCAICONTROL_LOG_LEVEL",
        )
    if settings.storage_name != "memory":
        return attrs.evolve(settings, database_url=normalise_database_url(settings.database_url))
    return settings


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting, for the docs."""
    rows = []
    for field in attrs.fields(Settings):
        default = field.default
        shown = ",".join(default) if isinstance(default, tuple) else str(default)
        rows.append((field.metadata["env"], shown, field.metadata["doc"]))
    return rows

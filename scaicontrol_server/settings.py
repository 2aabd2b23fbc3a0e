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

    # --- subscriptions ---------------------------------------------------------------
    dunning_delay_days: int = _env(
        "SCAICONTROL_DUNNING_DELAY_DAYS", 14,
        "Days a subscription may stay past_due before the dunning job suspends it (0 or more).",
    )
    subscription_jobs_interval: float = _env(
        "SCAICONTROL_SUBSCRIPTION_JOBS_INTERVAL", 300.0,
        "Seconds between runs of the subscription lifecycle jobs (reaper, dunning, trial "
        "conversion and notices, renewal, expiry) when they find nothing to do.",
    )

    # --- webhooks --------------------------------------------------------------------
    webhook_allow_http: bool = _env(
        "SCAICONTROL_WEBHOOK_ALLOW_HTTP", False,
        "Accept plain http:// webhook target URLs (development only; https always works).",
    )
    webhook_allowlist: tuple[str, ...] = _env(
        "SCAICONTROL_WEBHOOK_ALLOWLIST", (),
        "Comma-separated host names, IP addresses or CIDR ranges webhook targets may use "
        "although they are loopback, private, link-local or otherwise internal.",
    )
    webhook_tick_seconds: float = _env(
        "SCAICONTROL_WEBHOOK_TICK_SECONDS", 30.0,
        "Safety-net interval of the webhook jobs; commits wake them at once anyway.",
    )
    webhook_concurrency: int = _env(
        "SCAICONTROL_WEBHOOK_CONCURRENCY", 64,
        "Most webhook POSTs in flight at once in one worker process.",
    )
    webhook_sender_process: bool = _env(
        "SCAICONTROL_WEBHOOK_SENDER_PROCESS", True,
        "Make a worker's webhook POSTs in a child process of its own, so that sending and "
        "the database work around it run on two cores; false sends from the worker itself.",
    )
    webhook_batch_size: int = _env(
        "SCAICONTROL_WEBHOOK_BATCH_SIZE", 200, "Due deliveries claimed per batch."
    )
    webhook_fanout_batch_size: int = _env(
        "SCAICONTROL_WEBHOOK_FANOUT_BATCH_SIZE", 200, "Events fanned out per batch."
    )
    webhook_lease_seconds: float = _env(
        "SCAICONTROL_WEBHOOK_LEASE_SECONDS", 120.0,
        "How long a worker holds claimed events and deliveries; after a crash another "
        "worker takes them over once this has passed. At least 20.",
    )

    # --- metering --------------------------------------------------------------------
    metering_late_arrival_seconds: int = _env(
        "SCAICONTROL_METERING_LATE_ARRIVAL", 7 * 24 * 3600,
        "Usage events older than this many seconds are refused (422); below 60 counts as 60.",
    )

    # --- identity --------------------------------------------------------------------
    identity_provider: str = _env(
        "SCAICONTROL_IDENTITY", "local",
        "Identity provider plugin: 'local' (users and passwords kept here) or 'oidc'.",
    )
    access_token_ttl: int = _env(
        "SCAICONTROL_ACCESS_TOKEN_TTL", 900,
        "Lifetime in seconds of access tokens the local identity provider issues.",
    )
    refresh_token_ttl: int = _env(
        "SCAICONTROL_REFRESH_TOKEN_TTL", 1209600,
        "Lifetime in seconds of each refresh token the local provider issues (14 days).",
    )
    oidc_issuer: str = _env(
        "SCAIKEY_ISSUER", "",
        "OIDC issuer URL (e.g. https://scaikey.scailabs.ai); required for 'oidc'.",
    )
    oidc_client_id: str = _env(
        "SCAIKEY_CLIENT_ID", "", "OAuth client id of this deployment at the OIDC issuer."
    )
    oidc_client_secret: str = _env(
        "SCAIKEY_CLIENT_SECRET", "", "OAuth client secret of this deployment at the issuer."
    )
    oidc_audience: str = _env(
        "SCAICONTROL_OIDC_AUDIENCE", "",
        "Expected 'aud' of OIDC access tokens; empty leaves the audience unchecked.",
    )
    oidc_jwks_url: str = _env(
        "SCAICONTROL_OIDC_JWKS_URL", "",
        "JWKS URL; empty means <issuer>/api/v1/platform/.well-known/jwks.json.",
    )
    oidc_jwks_cache_ttl: int = _env(
        "SCAICONTROL_OIDC_JWKS_CACHE_TTL", 3600,
        "Seconds the issuer's key set is cached (an unknown kid fetches it sooner).",
    )
    oidc_directory_url: str = _env(
        "SCAICONTROL_OIDC_DIRECTORY_URL", "",
        "Base URL of the issuer's user directory read by `scaicontrol sync`.",
    )

    @property
    def identity_options(self) -> dict[str, str]:
        """The provider options an identity plugin receives, by short name."""
        return {
            "access_token_ttl": str(self.access_token_ttl),
            "refresh_token_ttl": str(self.refresh_token_ttl),
            "issuer": self.oidc_issuer,
            "client_id": self.oidc_client_id,
            "client_secret": self.oidc_client_secret,
            "audience": self.oidc_audience,
            "jwks_url": self.oidc_jwks_url,
            "jwks_cache_ttl": str(self.oidc_jwks_cache_ttl),
            "directory_url": self.oidc_directory_url,
        }

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

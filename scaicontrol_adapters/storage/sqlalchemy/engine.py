"""Engines tuned per database: SQLite (WAL, write lock at BEGIN), PostgreSQL, MariaDB."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.pool import StaticPool

from scaicontrol_core.errors import ConfigurationError, MissingDependency

from .json_codec import dump_json, load_json
from .types import MYSQL_DIALECTS

__all__ = [
    "PING_AFTER",
    "SQLITE_BEGIN_OPTION",
    "EngineOptions",
    "create_storage_engine",
    "is_sqlite_memory",
]

#: Connection execution option naming how SQLite begins a transaction
#: ("IMMEDIATE" by default, "DEFERRED" for read-only work such as health checks).
SQLITE_BEGIN_OPTION: Final = "scaicontrol_sqlite_begin"
_SQLITE_BEGIN_MODES: Final = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})

#: Seconds a pooled connection may have been idle and still be used without a ping.
PING_AFTER: Final = 1.0
_USED_AT: Final = "scaicontrol_used_at"

#: Python modules of the drivers, and the extra that installs each.
_DRIVER_EXTRAS: Final = {"psycopg": "postgres", "psycopg2": "postgres", "pymysql": "mariadb"}


class EngineOptions:
    """The storage options this backend understands, parsed from ``StorageConfig.options``."""

    KNOWN: Final = ("busy_timeout", "echo", "max_overflow", "pool_recycle", "pool_size")

    def __init__(self, options: Mapping[str, str]) -> None:
        unknown = sorted(set(options) - set(self.KNOWN))
        if unknown:
            raise ConfigurationError(
                f"unknown SQLAlchemy storage options: {', '.join(unknown)}",
                setting=unknown[0],
            )
        self.busy_timeout = _number(options, "busy_timeout", 30.0)
        self.echo = options.get("echo", "false").strip().lower() in ("1", "true", "yes", "on")
        self.pool: dict[str, int] = {
            name: int(_number(options, name, 0))
            for name in ("pool_size", "max_overflow", "pool_recycle")
            if name in options
        }


def _number(options: Mapping[str, str], name: str, default: float) -> float:
    raw = options.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"storage option {name} must be a number", setting=name) from None
    if value < 0:
        raise ConfigurationError(f"storage option {name} must not be negative", setting=name)
    return value


def is_sqlite_memory(url: URL) -> bool:
    """Whether ``url`` names a private in-memory SQLite database."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_storage_engine(url: str | URL, options: EngineOptions) -> Engine:
    """An engine for ``url`` configured for safe concurrent use; tables are not created."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"bad database URL: {exc}", setting="url") from None
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {
        "echo": options.echo, "json_deserializer": load_json, "json_serializer": dump_json,
    }
    if backend == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": options.busy_timeout}
        if is_sqlite_memory(parsed):
            kwargs["poolclass"] = StaticPool  # one connection holds the whole database
        else:
            kwargs.update(options.pool)
    else:
        kwargs.update(options.pool)
        if backend in MYSQL_DIALECTS:
            if "charset" not in parsed.query:
                parsed = parsed.update_query_dict({"charset": "utf8mb4"})
            # no gap locks: claimers and appenders do not block each other
            kwargs["isolation_level"] = "READ COMMITTED"
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:
        extra = _DRIVER_EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        raise MissingDependency(f"SQLAlchemy storage on {backend}", extra) from exc
    if backend == "sqlite":
        _configure_sqlite(engine, wal=not is_sqlite_memory(parsed), options=options)
    else:
        _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use if it has been idle for :data:`PING_AFTER`.

    A server restart or an idle timeout kills idle connections; pinging on every checkout
    (``pool_pre_ping``) would cost a round trip per transaction instead. A connection used
    within the last second is taken as alive: if it died just then, its transaction fails
    once, and the pool drops every connection older than the failure.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_USED_AT] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_USED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        used_at = record.info.get(_USED_AT)
        if used_at is not None and time.monotonic() - used_at < PING_AFTER:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # the pool discards this connection and checks out another one
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc


def _configure_sqlite(engine: Engine, *, wal: bool, options: EngineOptions) -> None:
    busy_ms = int(options.busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # sqlite3 must not issue BEGIN itself: the "begin" listener below does
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock now, so concurrent writers queue on busy_timeout
        # instead of failing when a read transaction tries to become a write one
        mode = str(connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE"))
        if mode not in _SQLITE_BEGIN_MODES:
            raise ConfigurationError(f"unknown SQLite BEGIN mode {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")

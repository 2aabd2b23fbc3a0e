"""The SQLAlchemy storage backend: SQLite, PostgreSQL and MariaDB through one code path."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import cattrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from scaicontrol_core.errors import StorageError
from scaicontrol_core.ports import CommitListener, StorageConfig, StorageStatus
from scaicontrol_core.serialization import make_converter

from ..listeners import CommitListeners
from .commits import CommitHooks, PostgresRelay
from .dialects import translated_errors
from .engine import SQLITE_BEGIN_OPTION, EngineOptions, create_storage_engine, is_sqlite_memory
from .migrator import SqlMigrator, current_revision
from .uow import SqlUnitOfWork

__all__ = ["SqlAlchemyStorage"]


class SqlAlchemyStorage:
    """Hands out units of work on one engine; Alembic owns the schema (see :attr:`migrator`)."""

    name: str = "sqlalchemy"

    def __init__(self, engine: Engine, *, converter: cattrs.Converter | None = None) -> None:
        self._engine = engine
        self._converter = converter or make_converter()
        self._sqlite = engine.dialect.name == "sqlite"
        # an in-memory SQLite database is one shared connection: one user at a time
        self._gate = _Gate() if is_sqlite_memory(engine.url) else None
        # a file database has one writer at a time: writers of this process queue here and
        # are woken at once, instead of polling in SQLite's busy handler (sleeps of 10-100 ms)
        self._writer = threading.RLock() if self._sqlite and self._gate is None else None
        self._closed = False
        self._listeners = CommitListeners()
        relay = PostgresRelay(engine, self._listeners) if engine.dialect.name == "postgresql" \
            else None
        self._hooks = CommitHooks(self._listeners, relay)
        self._migrator = SqlMigrator(self.connection)

    @classmethod
    def from_config(
        cls, config: StorageConfig, *, converter: cattrs.Converter | None = None
    ) -> SqlAlchemyStorage:
        """Open ``config.url``; options: busy_timeout, echo, pool_size, max_overflow, ..."""
        engine = create_storage_engine(config.url, EngineOptions(config.options))
        return cls(engine, converter=converter)

    @property
    def engine(self) -> Engine:
        return self._engine

    def unit_of_work(
        self, *, tenant_id: str | None = None, cross_tenant: bool = False, quiet: bool = False
    ) -> SqlUnitOfWork:
        self._ensure_open()
        return SqlUnitOfWork(
            self.connection, self._converter, tenant_id=tenant_id, cross_tenant=cross_tenant,
            hooks=None if quiet else self._hooks,
        )

    def add_commit_listener(self, listener: CommitListener) -> None:
        """See the port; on PostgreSQL this also starts relaying other processes' commits."""
        self._listeners.add(listener)
        if self._hooks.relay is not None:
            self._hooks.relay.start()

    def remove_commit_listener(self, listener: CommitListener) -> None:
        self._listeners.remove(listener)

    @contextmanager
    def connection(self, *, write: bool = True) -> Iterator[Connection]:
        """A pooled connection; ``write=False`` lets SQLite begin without the write lock."""
        self._ensure_open()
        if self._gate is not None:
            turn: AbstractContextManager[object] = self._gate.hold()
        elif write and self._writer is not None:
            turn = self._writer
        else:
            turn = nullcontext()
        with turn:
            with translated_errors():
                connection = self._engine.connect()
            try:
                if self._sqlite and not write:
                    connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
                yield connection
            finally:
                connection.close()

    def check(self) -> StorageStatus:
        """Whether the database answers and its schema is at the head revision; never raises."""
        try:
            head = self._migrator.head()
            with self.connection(write=False) as connection:
                connection.execute(sa.select(sa.literal(1))).scalar_one()
                current = current_revision(connection)
        except (SQLAlchemyError, StorageError) as exc:
            return StorageStatus(reachable=False, schema_current=False, detail=str(exc))
        except Exception as exc:  # a health check reports, it does not raise
            detail = f"{type(exc).__name__}: {exc}"
            return StorageStatus(reachable=False, schema_current=False, detail=detail)
        return StorageStatus(
            reachable=True,
            schema_current=current == head,
            detail=f"schema at {current or 'none'}, head {head}",
        )

    @property
    def migrator(self) -> SqlMigrator:
        return self._migrator

    def close(self) -> None:
        """Close every pooled connection; the storage cannot be used afterwards."""
        self._closed = True
        if self._hooks.relay is not None:
            self._hooks.relay.stop()
        self._engine.dispose()

    def _ensure_open(self) -> None:
        if self._closed:
            raise StorageError("storage is closed")


class _Gate:
    """Serialises access to a single shared connection across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._holder == me:
            raise StorageError(
                "an in-memory SQLite database serves one unit of work at a time"
            )
        with self._lock:
            self._holder = me
            try:
                yield
            finally:
                self._holder = None

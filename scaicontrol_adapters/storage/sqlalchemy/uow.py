"""A unit of work: one connection and one transaction per ``with`` block."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, ExitStack
from types import TracebackType
from typing import Any, Self, TypeVar

import cattrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable

from scaicontrol_core.errors import StorageError
from scaicontrol_core.ports import Outbox, Repository
from scaicontrol_core.records import Partner, Tenant
from scaicontrol_core.schema import RECORD_KINDS

from .dialects import insert_unless_exists, locks_rows, translate_error, translated_errors
from .outbox import SqlOutbox
from .repositories import SqlRepository
from .tables import outbox as outbox_table
from .tables import table_for

__all__ = ["SqlUnitOfWork"]

T = TypeVar("T")

#: Opens a connection for the unit of work (see ``SqlAlchemyStorage.connection``).
ConnectionOpener = Callable[[], AbstractContextManager[Connection]]


class SqlUnitOfWork:
    """Repositories and the outbox over one transaction; rolls back unless committed."""

    tenant_id: str | None
    partners: Repository[Partner]
    tenants: Repository[Tenant]
    outbox: Outbox

    def __init__(
        self,
        connect: ConnectionOpener,
        converter: cattrs.Converter,
        *,
        tenant_id: str | None,
        cross_tenant: bool,
    ) -> None:
        self._connect = connect
        self.converter = converter
        self.tenant_id = tenant_id
        self.cross_tenant = cross_tenant
        self._connection: Connection | None = None
        self._exit_stack = ExitStack()
        for kind in RECORD_KINDS:
            setattr(self, kind.name, SqlRepository[Any](self, kind, table_for(kind)))
        self.outbox = SqlOutbox(self, outbox_table)

    # --- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise StorageError("unit of work is already open")
        with ExitStack() as stack:
            connection = stack.enter_context(self._connect())
            with translated_errors():
                connection.begin()  # on SQLite this takes the write lock (BEGIN IMMEDIATE)
            self._exit_stack = stack.pop_all()
        self._connection = connection
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None and connection.in_transaction():
                connection.rollback()
        except SQLAlchemyError as error:
            if exc is None:  # do not hide the exception that ended the block
                raise translate_error(error) from error
        finally:
            self._exit_stack.close()

    def commit(self) -> None:
        """Commit; later work in the same block runs in a new transaction."""
        connection = self.connection
        with translated_errors():
            connection.commit()

    def rollback(self) -> None:
        """Discard the work since the block began or since the last commit."""
        if self._connection is not None:
            with translated_errors():
                self._connection.rollback()

    # --- used by the repositories and the outbox -----------------------------------------

    @property
    def connection(self) -> Connection:
        """The open connection; using the unit of work outside its block is an error."""
        if self._connection is None:
            raise StorageError("unit of work used outside its 'with' block")
        return self._connection

    def ensure_open(self) -> None:
        self.connection  # noqa: B018 - raises when closed

    @property
    def locks_rows(self) -> bool:
        return locks_rows(self.connection)

    def execute(self, statement: Executable) -> CursorResult[Any]:
        connection = self.connection
        with translated_errors():
            return connection.execute(statement)

    def insert_unless_exists(
        self, table: sa.Table, values: Mapping[str, Any], unique_column: str
    ) -> bool:
        connection = self.connection
        with translated_errors():
            return insert_unless_exists(connection, table, values, unique_column)

    def structure(self, row: Mapping[Any, Any], record_type: type[T]) -> T:
        """Build a record from a row through the converter; bad stored data is an error."""
        try:
            return self.converter.structure(dict(row), record_type)
        except Exception as exc:
            raise StorageError(
                f"a stored {record_type.__name__} cannot be read: {exc}"
            ) from exc

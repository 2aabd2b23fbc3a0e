"""Dialect-specific statements and the mapping of driver errors to scaicontrol errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from scaicontrol_core.errors import ConcurrencyConflict, ScaiControlError, StorageError

from .types import MYSQL_DIALECTS

__all__ = [
    "in_list",
    "insert_unless_exists",
    "locks_rows",
    "scan_queue_in_index_order",
    "translate_error",
    "translated_errors",
]

#: SQLSTATEs that mean "another transaction got in the way; try again".
_RETRYABLE_SQLSTATES: Final = frozenset({"40001", "40P01"})
#: MySQL / MariaDB error numbers with the same meaning (deadlock found).
_RETRYABLE_MYSQL_ERRORS: Final = frozenset({1213})
_MYSQL_DUPLICATE_ENTRY: Final = 1062


def locks_rows(connection: Connection) -> bool:
    """Whether the database supports ``SELECT ... FOR UPDATE SKIP LOCKED``.

    SQLite has no row locks; its write lock is taken when the transaction begins.
    """
    return connection.dialect.name != "sqlite"


def in_list(column: sa.ColumnElement[Any], name: str, *, arrays: bool
              ) -> sa.ColumnElement[bool]:
    """``column`` is one of the list bound as ``name``.

    With ``arrays`` (PostgreSQL) the list is one array parameter (``= ANY(...)``): the
    statement text stays the same for any length, so the driver parses and prepares it
    once, instead of ``IN`` with one placeholder per value in a text that changes with
    the length (and, beyond a few KiB, is parsed again on every execution).
    """
    if arrays:
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


def scan_queue_in_index_order(connection: Connection) -> None:
    """Keep PostgreSQL from bitmap scans for the rest of the transaction.

    A claim must walk its queue index in order and stop after ``limit`` rows. With stale
    statistics (a burst of new rows that autovacuum has not analysed yet) the planner
    guesses a handful of rows and picks a bitmap scan instead, which reads every pending
    row and sorts them, so each claim costs as much as the whole backlog.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")


def insert_unless_exists(
    connection: Connection, table: sa.Table, values: Mapping[str, Any], unique_column: str
) -> bool:
    """Insert one row; False (and nothing stored) if ``unique_column`` collides.

    A collision never aborts the surrounding transaction: PostgreSQL and SQLite use
    ``ON CONFLICT DO NOTHING``; other databases insert inside a savepoint.
    """
    name = connection.dialect.name
    if name in ("postgresql", "sqlite"):
        dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
        statement = (
            dialect_insert(table)
            .values(dict(values))
            .on_conflict_do_nothing(index_elements=[table.c[unique_column]])
            .execution_options(preserve_rowcount=True)  # INSERT rowcount is not kept otherwise
        )
        return connection.execute(statement).rowcount == 1
    try:
        with connection.begin_nested():
            connection.execute(table.insert().values(dict(values)))
    except IntegrityError as exc:
        if not _is_duplicate(exc, connection, table, unique_column, values[unique_column]):
            raise
        return False
    return True


def _is_duplicate(
    exc: IntegrityError, connection: Connection, table: sa.Table, column: str, value: Any
) -> bool:
    if connection.dialect.name in MYSQL_DIALECTS:
        code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
        if code != _MYSQL_DUPLICATE_ENTRY:
            return False
    found = connection.execute(sa.select(sa.literal(1)).where(table.c[column] == value)).first()
    return found is not None


def translate_error(exc: SQLAlchemyError) -> ScaiControlError:
    """The scaicontrol error for a SQLAlchemy one.

    Our own errors raised while binding parameters come back unwrapped; deadlocks and
    serialization failures become :class:`ConcurrencyConflict` (the caller may retry);
    anything else is a :class:`StorageError` carrying the driver's message.
    """
    if isinstance(exc, StatementError) and isinstance(exc.orig, ScaiControlError):
        return exc.orig
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        code = _error_code(exc.orig)
        if code in _RETRYABLE_SQLSTATES or code in _RETRYABLE_MYSQL_ERRORS:
            return ConcurrencyConflict("Transaction", str(code), 0)
        return StorageError(f"database error: {_first_line(exc.orig)}")
    return StorageError(f"database error: {_first_line(exc)}")


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise SQLAlchemy errors inside the block as scaicontrol errors."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise translate_error(exc) from exc


def _error_code(error: BaseException) -> object:
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if sqlstate:
        return sqlstate
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

"""The duplicate-safe bulk insert of the metering hot path: one statement per table and batch
that stores the rows whose key is new and says which ones they were.

* PostgreSQL: ``INSERT ... SELECT ... FROM json_to_recordset(<the rows as one JSON text>)
  ON CONFLICT DO NOTHING RETURNING <key>``. The statement has one parameter whatever the
  batch size, so the driver prepares it once instead of re-reading thousands of
  placeholders on every request, and the rows are encoded by the C JSON encoder. Strings
  are read as ``text`` (the assignment into a ``VARCHAR(n)`` column still refuses values
  that are too long), dates and times as ISO text in UTC.
* SQLite: one multi-row ``VALUES`` list with the same ``ON CONFLICT DO NOTHING RETURNING``.
* MariaDB (no ``RETURNING`` on conflicts): the keys that already exist are read inside the
  transaction and the rest inserted in a savepoint; a key committed meanwhile by another
  transaction fails that insert, which becomes ``ConcurrencyConflict`` (retry the batch).
  ``INSERT IGNORE`` is not used: it would also hide truncation and other errors.

Values go through each column's own bind processor (UTC datetimes, JSON), so rows are
stored exactly as SQLAlchemy stores them elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import IntegrityError

from scaicontrol_core.errors import ConcurrencyConflict

from .bulk import recordset
from .dialects import translated_errors

__all__ = ["insert_new"]

Processor = Callable[[Any], Any] | None
#: Rows per SQLite statement (SQLite allows at most 32766 parameters per statement).
_SQLITE_ROWS: Final = 1000
_SQLITE_PARAMETERS: Final = 30000


def insert_new(connection: Connection, table: sa.Table, names: Sequence[str], key: int,
               rows: Sequence[Sequence[Any]]) -> set[int]:
    """Insert those of ``rows`` (values of the columns ``names``, in that order) whose first
    ``key`` values are not stored yet; returns the indices of the rows inserted.

    ``rows`` must not repeat a key. A key stored before is skipped, never an error.
    """
    if not rows:
        return set()
    dialect = connection.dialect
    with translated_errors():
        if dialect.name == "postgresql":
            return _postgres(connection, table, tuple(names), key, rows)
        if dialect.name == "sqlite":
            return _sqlite(connection, table, tuple(names), key, rows)
        return _pre_read(connection, table, tuple(names), key, rows)


def _processors(dialect: Dialect, table: sa.Table, names: tuple[str, ...]) -> list[Processor]:
    return [table.c[name].type._cached_bind_processor(dialect) for name in names]


def _bound(rows: Sequence[Sequence[Any]], processors: Sequence[Processor]) -> list[list[Any]]:
    """The rows as columns, each value converted for the driver."""
    columns: list[list[Any]] = []
    for index, processor in enumerate(processors):
        values = [row[index] for row in rows]
        columns.append(values if processor is None else [processor(v) for v in values])
    return columns


def _matches(found: Sequence[Sequence[Any]], keys: Sequence[tuple[Any, ...]]) -> set[int]:
    position = {k: i for i, k in enumerate(keys)}
    return {position[tuple(row)] for row in found}


# --- PostgreSQL ----------------------------------------------------------------------------


@cache
def _postgres_statement(dialect: Dialect, table: sa.Table, names: tuple[str, ...],
                        key: int) -> tuple[str, tuple[Processor, ...]]:
    quote = dialect.identifier_preparer
    processors: list[Processor] = []
    for name in names:
        column_type = table.c[name].type
        # strings (their column's length check still applies) and JSON go in as they are
        plain = isinstance(column_type, sa.String | sa.JSON)
        processors.append(None if plain else
                          _as_text(column_type._cached_bind_processor(dialect)))
    columns = ", ".join(quote.quote(name) for name in names)
    keys = ", ".join(quote.quote(name) for name in names[:key])
    sql = (f"INSERT INTO {quote.format_table(table)} ({columns}) "
           f"SELECT {columns} FROM {recordset(dialect, table, names)} "
           f"ON CONFLICT ({keys}) DO NOTHING RETURNING {keys}")
    return sql, tuple(processors)


def _as_text(processor: Processor) -> Processor:
    """Dates and times as ISO text (what PostgreSQL reads back into the column type)."""

    def convert(value: Any) -> Any:
        value = value if processor is None else processor(value)
        return value.isoformat() if isinstance(value, date | datetime) else value

    return convert


def _postgres(connection: Connection, table: sa.Table, names: tuple[str, ...], key: int,
              rows: Sequence[Sequence[Any]]) -> set[int]:
    sql, processors = _postgres_statement(connection.dialect, table, names, key)
    converting = [(index, p) for index, p in enumerate(processors) if p is not None]
    records = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        for index, processor in converting:
            record[names[index]] = processor(row[index])
        records.append(record)
    found = connection.exec_driver_sql(sql, (json.dumps(records),)).all()
    return _matches(found, [tuple(row[:key]) for row in rows])


# --- SQLite --------------------------------------------------------------------------------


@cache
def _sqlite_statement(dialect: Dialect, table: sa.Table, names: tuple[str, ...], key: int,
                      count: int) -> str:
    quote = dialect.identifier_preparer
    row = "(" + ", ".join("?" * len(names)) + ")"
    keys = ", ".join(quote.quote(name) for name in names[:key])
    return (f"INSERT INTO {quote.format_table(table)} "
            f"({', '.join(quote.quote(name) for name in names)}) "
            f"VALUES {', '.join([row] * count)} "
            f"ON CONFLICT ({keys}) DO NOTHING RETURNING {keys}")


def _sqlite(connection: Connection, table: sa.Table, names: tuple[str, ...], key: int,
            rows: Sequence[Sequence[Any]]) -> set[int]:
    dialect = connection.dialect
    processors = _processors(dialect, table, names)
    columns = _bound(rows, processors)
    bound_rows = list(zip(*columns, strict=True))
    size = max(1, min(_SQLITE_ROWS, _SQLITE_PARAMETERS // len(names)))
    found: list[Any] = []
    for start in range(0, len(bound_rows), size):
        chunk = bound_rows[start:start + size]
        flat = tuple(value for row in chunk for value in row)
        sql = _sqlite_statement(dialect, table, names, key, len(chunk))
        found += connection.exec_driver_sql(sql, flat).all()
    return _matches(found, [row[:key] for row in bound_rows])


# --- MariaDB -------------------------------------------------------------------------------


def _pre_read(connection: Connection, table: sa.Table, names: tuple[str, ...], key: int,
              rows: Sequence[Sequence[Any]]) -> set[int]:
    columns = [table.c[name] for name in names[:key]]
    keys = [tuple(row[:key]) for row in rows]
    existing = {tuple(found) for found in connection.execute(
        sa.select(*columns).where(sa.tuple_(*columns).in_(keys)))}
    fresh = [i for i, k in enumerate(keys) if k not in existing]
    if fresh:
        try:
            with connection.begin_nested():
                connection.execute(table.insert(),
                                   [dict(zip(names, rows[i], strict=True)) for i in fresh])
        except IntegrityError as exc:
            raise ConcurrencyConflict(table.name, "batch", 0) from exc
    return set(fresh)

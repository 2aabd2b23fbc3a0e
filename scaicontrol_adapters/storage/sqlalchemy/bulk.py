"""Batch inserts and optimistic batch updates of trusted records, for the webhook hot path.

Records become driver rows through one :func:`operator.attrgetter` per record type and a
converter only where a column needs one (enums, booleans, JSON, datetimes), with a fast
path for UTC datetimes that stores exactly what :class:`~.types.UtcDateTime` stores.

* PostgreSQL: one statement per batch whatever its size. The rows travel as one JSON array
  of objects (encoded by orjson) and are unpacked by ``json_to_recordset``
  in one pass, so the driver adapts a single parameter instead of every value of every
  row. Strings are read as ``text`` (assigning to a ``VARCHAR(n)`` column still refuses
  values that are too long), datetimes as ISO text in UTC, JSON columns as they are.
* Other databases: one prepared statement run by the driver's ``executemany``.

Inserts skip rows whose key exists (PostgreSQL and SQLite; elsewhere the caller checks
first). Updates apply only where the stored ``version`` still matches, and bump it.
"""

from __future__ import annotations

import enum
import json
import operator
import typing
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from .prepared import insert_batch, update_batch
from .types import UtcDateTime

__all__ = ["encoder", "insert_records", "recordset", "update_records"]

Converter = Callable[[Any], Any]
Encoder = Callable[[Sequence[Any]], list[list[Any]]]


def _enum_fields(record_type: type[Any]) -> frozenset[str]:
    """Names of the fields declared as an enum (optional or not)."""
    names = set()
    for name, hint in typing.get_type_hints(record_type).items():
        options = typing.get_args(hint) or (hint,)
        if any(isinstance(option, type) and issubclass(option, enum.Enum)
               for option in options):
            names.add(name)
    return frozenset(names)


def _utc_datetime(dialect: Dialect, column: sa.Column[Any], as_text: bool) -> Converter:
    """UTC datetimes as the column stores them; anything else takes the generic path."""
    generic = column.type._cached_bind_processor(dialect)
    sqlite = dialect.name == "sqlite"

    def convert(value: Any) -> Any:
        if type(value) is not datetime or value.tzinfo is not UTC:
            value = generic(value) if generic is not None else value
            return value.isoformat() if as_text and isinstance(value, datetime) else value
        naive = value.replace(tzinfo=None)
        if sqlite:
            return naive.isoformat(" ", "microseconds")
        return naive.isoformat() if as_text else naive

    return convert


def _converter(dialect: Dialect, column: sa.Column[Any], is_enum: bool,
               as_json: bool) -> Converter | None:
    if isinstance(column.type, UtcDateTime):
        convert: Converter | None = _utc_datetime(dialect, column, as_json)
    elif as_json and isinstance(column.type, sa.JSON):
        convert = None  # embedded as it is in the JSON text of the rows
    else:
        convert = column.type._cached_bind_processor(dialect)
    if not is_enum:
        return convert
    inner = convert

    def enum_value(value: Any) -> Any:
        value = value.value if isinstance(value, enum.Enum) else value
        return value if inner is None else inner(value)

    return enum_value


_ENCODERS: dict[tuple[Dialect, sa.Table, type[Any], tuple[str, ...], bool], Encoder] = {}


def encoder(dialect: Dialect, table: sa.Table, record_type: type[Any],
            names: tuple[str, ...], as_json: bool = False) -> Encoder:
    """Rows of the values of ``names`` of each record, converted for ``table``'s columns
    (with ``as_json``, for a JSON text instead of driver parameters); built once."""
    key = (dialect, table, record_type, names, as_json)
    found = _ENCODERS.get(key)
    if found is None:
        found = _ENCODERS[key] = _build_encoder(dialect, table, record_type, names, as_json)
    return found


def _build_encoder(dialect: Dialect, table: sa.Table, record_type: type[Any],
                   names: tuple[str, ...], as_json: bool) -> Encoder:
    enums = _enum_fields(record_type)
    many = operator.attrgetter(*names)
    get = many if len(names) > 1 else lambda record: (many(record),)
    converting, moments = [], []
    for index, name in enumerate(names):
        convert = _converter(dialect, table.c[name], name in enums, as_json)
        if convert is None:
            continue
        if isinstance(table.c[name].type, UtcDateTime):
            moments.append((index, convert))
        else:
            converting.append((index, convert))

    def encode(records: Sequence[Any]) -> list[list[Any]]:
        # a batch shares a few instants (its "now", the times of its events): each is
        # converted once; equal instants compare equal whatever their timezone
        done: dict[datetime, Any] = {}
        rows = []
        for record in records:
            row = list(get(record))
            for index, convert in converting:
                row[index] = convert(row[index])
            for index, convert in moments:
                value = row[index]
                if type(value) is datetime and value.tzinfo is not None:
                    found = done.get(value)
                    if found is None:
                        found = done[value] = convert(value)
                    row[index] = found
                elif value is not None:
                    row[index] = convert(value)  # refused, with the generic error
            rows.append(row)
        return rows

    return encode


def _field(dialect: Dialect, column: sa.Column[Any]) -> str:
    """The column's field definition in a ``json_to_recordset`` row type."""
    if isinstance(column.type, sa.String):
        kind = "text"
    elif isinstance(column.type, sa.JSON):
        kind = "json"
    else:
        kind = column.type.compile(dialect=dialect)
    return f"{dialect.identifier_preparer.quote(column.name)} {kind}"


def recordset(dialect: Dialect, table: sa.Table, names: Sequence[str]) -> str:
    """``json_to_recordset(%s::json) AS r(...)`` with one field per column of ``names``."""
    fields = ", ".join(_field(dialect, table.c[name]) for name in names)
    return f"json_to_recordset(%s::json) AS r({fields})"


@cache
def _postgres_insert(dialect: Dialect, table: sa.Table, names: tuple[str, ...],
                     key: str) -> str:
    quote = dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    return (f"INSERT INTO {quote.format_table(table)} ({columns}) "
            f"SELECT {columns} FROM {recordset(dialect, table, names)} "
            f"ON CONFLICT ({quote.quote(key)}) DO NOTHING")


@cache
def _postgres_update(dialect: Dialect, table: sa.Table, names: tuple[str, ...],
                     keys: tuple[str, ...]) -> str:
    quote = dialect.identifier_preparer
    target = quote.format_table(table)
    assignments = [f"{quote.quote(name)} = r.{quote.quote(name)}" for name in names]
    version = quote.quote("version")
    assignments.append(f"{version} = {target}.{version} + 1")
    conditions = " AND ".join(
        f"{target}.{quote.quote(key)} = r.{quote.quote(key)}" for key in keys
    )
    # the keys carry the expected values: r.version is the version the record was read at
    return (f"UPDATE {target} SET {', '.join(assignments)} "
            f"FROM {recordset(dialect, table, (*names, *keys))} WHERE {conditions}")


def _objects(names: Sequence[str], rows: list[list[Any]]) -> str:
    objects = [dict(zip(names, row, strict=True)) for row in rows]
    try:
        return orjson.dumps(objects).decode()
    except TypeError:  # what orjson refuses (an integer beyond 64 bits, say) json takes
        return json.dumps(objects)


def insert_records(connection: Connection, table: sa.Table, records: Sequence[Any],
                   names: tuple[str, ...], *, skip_conflicts_on: str | None) -> int:
    """Insert ``records`` (at version 1 when ``names`` has a version); returns how many
    rows were stored. ``skip_conflicts_on`` only on PostgreSQL and SQLite."""
    dialect = connection.dialect
    as_json = dialect.name == "postgresql" and skip_conflicts_on is not None
    rows = encoder(dialect, table, type(records[0]), names, as_json)(records)
    if "version" in names:
        at = names.index("version")
        for row in rows:
            row[at] = 1
    if as_json:
        sql = _postgres_insert(dialect, table, names, skip_conflicts_on)
        return int(connection.exec_driver_sql(sql, (_objects(names, rows),)).rowcount)
    sql = insert_batch(dialect, table, names, skip_conflicts_on)
    return int(connection.exec_driver_sql(sql, [tuple(row) for row in rows]).rowcount)


def update_records(connection: Connection, table: sa.Table, records: Sequence[Any],
                   names: tuple[str, ...], keys: tuple[str, ...]) -> int:
    """Set ``names`` of every stored row whose ``keys`` (the last being its expected
    version) match a record, bumping its version; returns how many rows changed."""
    dialect = connection.dialect
    postgres = dialect.name == "postgresql"
    rows = encoder(dialect, table, type(records[0]), (*names, *keys),
                   postgres)(records)
    if postgres:
        sql = _postgres_update(dialect, table, names, keys)
        return int(connection.exec_driver_sql(sql, (_objects((*names, *keys), rows),)).rowcount)
    sql = update_batch(dialect, table, names, keys)
    return int(connection.exec_driver_sql(sql, [tuple(row) for row in rows]).rowcount)

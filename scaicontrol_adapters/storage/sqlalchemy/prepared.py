"""Statements the driver runs once per row (``executemany``), for the hot batch paths.

Each statement is rendered once per dialect, and every value goes through its column's own
bind processor (the same conversion SQLAlchemy applies: UTC datetimes, JSON, booleans), so
rows are stored exactly as the generic repositories store them, at a fraction of the
per-row cost of building and compiling statement parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["SKIPS_CONFLICTS", "PreparedBatch", "insert_batch", "update_batch"]

Processor = Callable[[Any], Any] | None


@attrs.frozen
class PreparedBatch:
    """SQL with positional placeholders, and one bind processor per placeholder."""

    sql: str
    processors: tuple[Processor, ...]

    def rows(self, values: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Driver-ready parameter rows from plain Python values, in placeholder order."""
        processors = self.processors
        return [
            tuple(v if p is None else p(v) for p, v in zip(processors, row, strict=True))
            for row in values
        ]


def _placeholder(dialect: Dialect) -> str:
    return "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"


def _processors(dialect: Dialect, columns: Sequence[sa.Column[Any]]) -> tuple[Processor, ...]:
    return tuple(column.type._cached_bind_processor(dialect) for column in columns)


#: Dialects that can skip a row whose unique key exists (``ON CONFLICT ... DO NOTHING``).
SKIPS_CONFLICTS = frozenset({"postgresql", "sqlite"})


@cache
def _insert(
    dialect: Dialect, table: sa.Table, names: tuple[str, ...], skip_conflicts_on: str | None
) -> PreparedBatch:
    quote = dialect.identifier_preparer
    marks = ", ".join([_placeholder(dialect)] * len(names))
    sql = (f"INSERT INTO {quote.format_table(table)} "
           f"({', '.join(quote.quote(name) for name in names)}) VALUES ({marks})")
    if skip_conflicts_on is not None:
        sql += f" ON CONFLICT ({quote.quote(skip_conflicts_on)}) DO NOTHING"
    return PreparedBatch(sql, _processors(dialect, [table.c[name] for name in names]))


def insert_batch(
    dialect: Dialect, table: sa.Table, names: Sequence[str], skip_conflicts_on: str | None = None
) -> PreparedBatch:
    """``INSERT INTO table (names...) VALUES (...)``; with ``skip_conflicts_on`` (only where
    :data:`SKIPS_CONFLICTS`), rows whose value of that unique column exists are skipped."""
    if skip_conflicts_on is not None and dialect.name not in SKIPS_CONFLICTS:
        raise ValueError(f"{dialect.name} cannot skip conflicting rows")
    return _insert(dialect, table, tuple(names), skip_conflicts_on)


@cache
def _update(
    dialect: Dialect, table: sa.Table, names: tuple[str, ...], keys: tuple[str, ...]
) -> PreparedBatch:
    quote = dialect.identifier_preparer
    mark = _placeholder(dialect)
    version = quote.quote("version")
    assignments = [f"{quote.quote(name)} = {mark}" for name in names]
    assignments.append(f"{version} = {version} + 1")
    conditions = " AND ".join(f"{quote.quote(key)} = {mark}" for key in keys)
    sql = f"UPDATE {quote.format_table(table)} SET {', '.join(assignments)} WHERE {conditions}"
    columns = [table.c[name] for name in (*names, *keys)]
    return PreparedBatch(sql, _processors(dialect, columns))


def update_batch(
    dialect: Dialect, table: sa.Table, names: Sequence[str], keys: Sequence[str]
) -> PreparedBatch:
    """``UPDATE table SET names... , version = version + 1 WHERE keys...`` (values in that
    order: the new values, then the keys)."""
    return _update(dialect, table, tuple(names), tuple(keys))

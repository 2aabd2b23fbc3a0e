"""SQL the driver runs once per row (``executemany``), for the hot batch paths.

Each statement is rendered once per dialect, with positional placeholders; the values are
converted for the columns by :mod:`.bulk`, exactly as SQLAlchemy would convert them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = ["SKIPS_CONFLICTS", "insert_batch", "update_batch"]

#: Dialects that can skip a row whose unique key exists (``ON CONFLICT ... DO NOTHING``).
SKIPS_CONFLICTS = frozenset({"postgresql", "sqlite"})


def _placeholder(dialect: Dialect) -> str:
    return "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"


@cache
def _insert(
    dialect: Dialect, table: sa.Table, names: tuple[str, ...], skip_conflicts_on: str | None
) -> str:
    quote = dialect.identifier_preparer
    marks = ", ".join([_placeholder(dialect)] * len(names))
    sql = (f"INSERT INTO {quote.format_table(table)} "
           f"({', '.join(quote.quote(name) for name in names)}) VALUES ({marks})")
    if skip_conflicts_on is not None:
        sql += f" ON CONFLICT ({quote.quote(skip_conflicts_on)}) DO NOTHING"
    return sql


def insert_batch(
    dialect: Dialect, table: sa.Table, names: Sequence[str], skip_conflicts_on: str | None = None
) -> str:
    """``INSERT INTO table (names...) VALUES (...)``; with ``skip_conflicts_on`` (only where
    :data:`SKIPS_CONFLICTS`), rows whose value of that unique column exists are skipped."""
    if skip_conflicts_on is not None and dialect.name not in SKIPS_CONFLICTS:
        raise ValueError(f"{dialect.name} cannot skip conflicting rows")
    return _insert(dialect, table, tuple(names), skip_conflicts_on)


@cache
def _update(
    dialect: Dialect, table: sa.Table, names: tuple[str, ...], keys: tuple[str, ...]
) -> str:
    quote = dialect.identifier_preparer
    mark = _placeholder(dialect)
    version = quote.quote("version")
    assignments = [f"{quote.quote(name)} = {mark}" for name in names]
    assignments.append(f"{version} = {version} + 1")
    conditions = " AND ".join(f"{quote.quote(key)} = {mark}" for key in keys)
    return f"UPDATE {quote.format_table(table)} SET {', '.join(assignments)} WHERE {conditions}"


def update_batch(
    dialect: Dialect, table: sa.Table, names: Sequence[str], keys: Sequence[str]
) -> str:
    """``UPDATE table SET names... , version = version + 1 WHERE keys...`` (values in that
    order: the new values, then the keys)."""
    return _update(dialect, table, tuple(names), tuple(keys))

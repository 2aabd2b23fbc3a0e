"""Record repositories over Core tables, one generic class for every record kind."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from scaicontrol_core.clock import ensure_utc
from scaicontrol_core.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    DuplicateRecord,
    NotFound,
    TenantScopeRequired,
    ValidationError,
)
from scaicontrol_core.ports import Where
from scaicontrol_core.querying import is_multi, parse_order
from scaicontrol_core.schema import RecordKind

if TYPE_CHECKING:
    from .uow import SqlUnitOfWork

__all__ = ["SqlRepository", "column_values", "where_clause"]

R = TypeVar("R")


@cache
def _layout(
    kind: RecordKind, table: sa.Table
) -> tuple[tuple[str, ...], tuple[sa.Column[Any], ...]]:
    """A kind's field names and their columns, checked once per table."""
    fields = tuple(field.name for field in attrs.fields(kind.record_type))
    missing = [name for name in fields if name not in table.c]
    if missing or (kind.tenant_scoped and "tenant_id" not in table.c):
        raise ConfigurationError(
            f"table '{table.name}' lacks columns for {kind.label}: {', '.join(missing)}"
        )
    return fields, tuple(table.c[name] for name in fields)


class SqlRepository(Generic[R]):
    """Records of one kind in one table whose columns are named after the record's fields.

    In a tenant-scoped unit of work, a tenant-scoped kind only sees its tenant's rows.
    """

    def __init__(self, uow: SqlUnitOfWork, kind: RecordKind, table: sa.Table) -> None:
        self._uow = uow
        self._kind = kind
        self._table = table
        self._fields, self._columns = _layout(kind, table)

    # --- scoping ---------------------------------------------------------------------

    def _scope(self) -> list[sa.ColumnElement[bool]]:
        """Conditions confining reads and writes to the unit of work's tenant."""
        self._uow.ensure_open()
        if not self._kind.tenant_scoped:
            return []
        tenant_id = self._uow.tenant_id
        if tenant_id is None:
            if not self._uow.cross_tenant:
                raise TenantScopeRequired(f"{self._kind.name} needs a tenant-scoped unit of work")
            return []
        return [self._table.c.tenant_id == tenant_id]

    def _check_scope(self, record: Any) -> None:
        tenant_id = self._uow.tenant_id
        if self._kind.tenant_scoped and tenant_id is not None and record.tenant_id != tenant_id:
            raise ValidationError("record belongs to another tenant", field="tenant_id")

    # --- conversion ------------------------------------------------------------------

    def _record(self, row: RowMapping) -> R:
        record: R = self._uow.structure(row, self._kind.record_type)
        return record

    def _values(self, record: Any) -> dict[str, Any]:
        return column_values(self._table, {name: getattr(record, name) for name in self._fields})

    # --- reads -----------------------------------------------------------------------

    def get(self, record_id: str) -> R | None:
        scope = self._scope()
        statement = sa.select(*self._columns).where(self._table.c.id == record_id, *scope)
        row = self._uow.execute(statement).mappings().first()
        return None if row is None else self._record(row)

    def require(self, record_id: str) -> R:
        record = self.get(record_id)
        if record is None:
            raise NotFound(self._kind.label, record_id)
        return record

    def find(
        self,
        where: Where | None = None,
        *,
        order_by: Sequence[str] = ("id",),
        offset: int = 0,
        limit: int | None = None,
        _extra: Sequence[sa.ColumnElement[bool]] = (),
    ) -> list[R]:
        conditions = [*self._scope(), *where_clause(self._table, self._fields, where), *_extra]
        order = parse_order(order_by, self._fields)
        if offset < 0 or (limit is not None and limit < 0):
            raise ValidationError("offset and limit must not be negative")
        if "id" not in {name for name, _ in order}:
            order.append(("id", False))  # a total order, so pages never overlap
        statement = sa.select(*self._columns).where(*conditions)
        for name, descending in order:
            statement = statement.order_by(*_sort_keys(self._table.c[name], descending))
        if offset:
            statement = statement.offset(offset)
        if limit is not None:
            statement = statement.limit(limit)
        rows = self._uow.execute(statement).mappings().all()
        return [self._record(row) for row in rows]

    def count(self, where: Where | None = None) -> int:
        conditions = [*self._scope(), *where_clause(self._table, self._fields, where)]
        statement = sa.select(sa.func.count()).select_from(self._table).where(*conditions)
        return int(self._uow.execute(statement).scalar_one())

    def search(
        self,
        text: str,
        fields: Sequence[str],
        where: Where | None = None,
        *,
        order_by: Sequence[str] = ("id",),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[R]:
        conditions = [*where_clause(self._table, self._fields, where),
                      *self._contains(text, fields)]
        return self.find(None, order_by=order_by, offset=offset, limit=limit,
                         _extra=conditions)

    def count_search(self, text: str, fields: Sequence[str], where: Where | None = None) -> int:
        conditions = [*self._scope(), *where_clause(self._table, self._fields, where),
                      *self._contains(text, fields)]
        statement = sa.select(sa.func.count()).select_from(self._table).where(*conditions)
        return int(self._uow.execute(statement).scalar_one())

    def _contains(self, text: str, fields: Sequence[str]) -> list[sa.ColumnElement[bool]]:
        """Case-insensitive substring match on any of ``fields`` (LIKE wildcards escaped)."""
        for name in fields:
            if name not in self._fields:
                raise ValidationError(f"cannot search unknown field '{name}'", field=name)
        if not text:
            return []
        needle = text.lower()
        return [sa.or_(*(
            sa.func.lower(self._table.c[name]).contains(needle, autoescape=True)
            for name in fields
        ))]

    # --- writes ----------------------------------------------------------------------

    def add(self, record: R) -> R:
        self._scope()
        self._check_scope(record)
        stored: Any = attrs.evolve(record, version=1)  # type: ignore[misc]
        if not self._uow.insert_unless_exists(self._table, self._values(stored), "id"):
            raise DuplicateRecord(self._kind.label, stored.id)
        result: R = stored
        return result

    def update(self, record: R) -> R:
        scope = self._scope()
        self._check_scope(record)
        current: Any = record
        saved = attrs.evolve(record, version=current.version + 1)  # type: ignore[misc]
        values = self._values(saved)
        del values["id"]
        statement = (
            sa.update(self._table)
            .where(*self._same_version(current), *scope)
            .values(values)
        )
        if self._uow.execute(statement).rowcount != 1:
            self._raise_missing_or_stale(current, scope)
        return saved

    def delete(self, record: R) -> None:
        scope = self._scope()
        self._check_scope(record)
        current: Any = record
        statement = sa.delete(self._table).where(*self._same_version(current), *scope)
        if self._uow.execute(statement).rowcount != 1:
            self._raise_missing_or_stale(current, scope)

    def _same_version(self, record: Any) -> list[sa.ColumnElement[bool]]:
        return [self._table.c.id == record.id, self._table.c.version == record.version]

    def _raise_missing_or_stale(self, record: Any, scope: list[sa.ColumnElement[bool]]) -> None:
        statement = sa.select(sa.literal(1)).where(self._table.c.id == record.id, *scope)
        if self._uow.execute(statement).first() is None:
            raise NotFound(self._kind.label, record.id)
        raise ConcurrencyConflict(self._kind.label, record.id, record.version)


def where_clause(
    table: sa.Table, fields: Sequence[str], where: Where | None
) -> list[sa.ColumnElement[bool]]:
    """Equality filters; ``None`` means IS NULL and a list, tuple or set means "one of"."""
    conditions: list[sa.ColumnElement[bool]] = []
    for name, wanted in (where or {}).items():
        if name not in fields:
            raise ValidationError(f"cannot filter on unknown field '{name}'", field=name)
        column = table.c[name]
        if is_multi(wanted):
            options = [_plain(value) for value in wanted]  # type: ignore[attr-defined]
            present = [value for value in options if value is not None]
            either = [column.in_(present)] if present else []
            if len(present) != len(options):
                either.append(column.is_(None))
            conditions.append(sa.or_(*either) if either else sa.false())
        elif wanted is None:
            conditions.append(column.is_(None))
        else:
            conditions.append(column == _plain(wanted))
    return conditions


def _sort_keys(column: sa.Column[Any], descending: bool) -> list[sa.ColumnElement[Any]]:
    """ORDER BY terms where None sorts as the smallest value on every database."""
    keys: list[sa.ColumnElement[Any]] = []
    if column.nullable:
        # 0 for NULL, 1 otherwise: emulates NULLS FIRST / LAST, which MariaDB lacks
        present = sa.case((column.is_(None), 0), else_=1)
        keys.append(present.desc() if descending else present.asc())
    keys.append(column.desc() if descending else column.asc())
    return keys


def column_values(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """Plain column values: enums by value, datetimes checked, string lengths checked."""
    plain: dict[str, Any] = {}
    for name, value in values.items():
        value = _plain(value)
        if isinstance(value, datetime):
            try:
                value = ensure_utc(value)
            except ValidationError:
                raise ValidationError(
                    f"{name}: datetimes must carry a timezone", field=name
                ) from None
        elif isinstance(value, str):
            length = getattr(table.c[name].type, "length", None)
            if length is not None and len(value) > length:
                raise ValidationError(f"{name} is longer than {length} characters", field=name)
        plain[name] = value
    return plain


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value

"""SQL repositories of the catalog record kinds.

Catalog records hold nested values (features, usage pricing tiers, pack items) and exact
decimals; they are written through the converter (nested attrs values become JSON objects,
decimals their text) and read back through it. Subscriptions and pack subscriptions add
the deadline query of :class:`scaicontrol_core.commerce.store.LifecycleRepository`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa

from scaicontrol_core.clock import ensure_utc
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.ports import Where

from .repositories import SqlRepository, column_values
from .uow import SPECIALISED_REPOSITORIES

__all__ = ["SqlCatalogRepository", "SqlLifecycleRepository"]

R = TypeVar("R")


class SqlCatalogRepository(SqlRepository[R]):
    """Writes nested values of JSON columns and decimals in their stored form."""

    def _values(self, record: Any) -> dict[str, Any]:
        converter = self._uow.converter
        values: dict[str, Any] = {}
        for name in self._fields:
            value = getattr(record, name)
            if isinstance(self._table.c[name].type, sa.JSON):
                value = converter.unstructure(value)
            elif isinstance(value, Decimal):
                value = str(value)
            values[name] = value
        return column_values(self._table, values)


class SqlLifecycleRepository(SqlCatalogRepository[R]):
    """Subscriptions and pack subscriptions, with the lifecycle jobs' deadline query."""

    def find_due(
        self,
        field: str,
        before: datetime,
        where: Where | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[R]:
        if field not in self._fields:
            raise ValidationError(f"cannot filter on unknown field '{field}'", field=field)
        column = self._table.c[field]
        due = [column.is_not(None), column <= ensure_utc(before)]
        return self.find(where, order_by=(field, "id"), offset=offset, limit=limit, _extra=due)


SPECIALISED_REPOSITORIES["services"] = SqlCatalogRepository
SPECIALISED_REPOSITORIES["plans"] = SqlCatalogRepository
SPECIALISED_REPOSITORIES["service_packs"] = SqlCatalogRepository
SPECIALISED_REPOSITORIES["subscriptions"] = SqlLifecycleRepository
SPECIALISED_REPOSITORIES["pack_subscriptions"] = SqlLifecycleRepository

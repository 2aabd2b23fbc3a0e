"""Column types shared by the tables and the migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect

from scaicontrol_core.clock import ensure_utc

__all__ = ["MYSQL_DIALECTS", "UtcDateTime"]

#: Dialect names SQLAlchemy uses for MySQL and MariaDB servers.
MYSQL_DIALECTS = ("mysql", "mariadb")


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Stores naive UTC (microsecond precision) and reads back timezone-aware UTC.

    Naive datetimes are refused on write: the core never guesses a timezone.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in MYSQL_DIALECTS:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        return ensure_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"the database returned {type(value).__name__} for a datetime")
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return value.replace(tzinfo=UTC)

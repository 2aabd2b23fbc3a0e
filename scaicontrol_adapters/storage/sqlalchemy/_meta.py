"""The shared MetaData and table conventions every table module uses."""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa

__all__ = ["ID_LENGTH", "NAMING_CONVENTION", "TABLE_OPTIONS", "metadata"]

#: Constraint and index names, so every database and every migration agree on them.
NAMING_CONVENTION: Final = {
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}

#: MariaDB: InnoDB for transactions and row locks; a binary collation so ids and keys
#: compare exactly (as on SQLite and PostgreSQL) and text sorts by code point.
TABLE_OPTIONS: Final[dict[str, Any]] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

ID_LENGTH: Final = 36

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

"""Storage backends: ``memory`` (no dependencies), ``sqlalchemy`` (SQLite, PostgreSQL, MariaDB)."""

__all__: list[str] = []

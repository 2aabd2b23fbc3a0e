"""Storage backends: ``memory`` (no dependencies) and ``sqlalchemy`` (SQLite, PostgreSQL, MariaDB)."""

__all__: list[str] = []

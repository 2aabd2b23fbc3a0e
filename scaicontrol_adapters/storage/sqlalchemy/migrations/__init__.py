"""Alembic migrations of the SQLAlchemy storage backend (run them through ``SqlMigrator``)."""

__all__: list[str] = []

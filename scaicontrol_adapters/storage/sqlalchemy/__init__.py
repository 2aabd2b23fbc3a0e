"""SQLAlchemy storage backend: Core tables, Alembic migrations, SQLite/PostgreSQL/MariaDB.

The entry point is :mod:`.plugin`; it imports nothing from SQLAlchemy until the factory
runs. :class:`.storage.SqlAlchemyStorage` is the backend itself.
"""

__all__: list[str] = []

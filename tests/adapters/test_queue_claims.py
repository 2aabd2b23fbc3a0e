"""Hot-path storage details: claims on PostgreSQL read only the rows they take, however
stale the statistics, and batch inserts take any JSON payload.

A fresh database has no statistics: the planner guesses a few pending rows and, left to
itself, answers an outbox claim with a bitmap scan of every pending row and a sort (the
delivery claim's plan was ordered even so; its test guards that it stays so). These tests
fill a new database with a backlog (never analysed) and count, within the claiming
transaction, how many rows the claim read. The outbox's storage parameters are checked
here too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from scaicontrol_core.records import NewOutboxMessage
from scaicontrol_core.testing.webhook_storage_contract import delivery

if TYPE_CHECKING:
    from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
    from scaicontrol_adapters.storage.sqlalchemy.uow import SqlUnitOfWork

    from .conftest import OpenStorage

BACKLOG = 3000
TAKEN = 10
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def fresh_storage(
    database_kind: str, scratch_database_url: str, open_sql_storage: OpenStorage
) -> SqlAlchemyStorage:
    """A newly migrated PostgreSQL database (no statistics gathered yet)."""
    if database_kind != "postgresql":
        pytest.skip("the planner's choice is PostgreSQL's")
    storage = open_sql_storage(scratch_database_url)
    storage.migrator.upgrade()
    return storage


def rows_read(uow: SqlUnitOfWork, table: str) -> int:
    """Rows of ``table`` read so far in this transaction, by any kind of scan."""
    import sqlalchemy as sa

    statement = sa.text(
        "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
        "FROM pg_stat_xact_user_tables WHERE relname = :table"
    )
    return int(uow.connection.execute(statement, {"table": table}).scalar_one())


def test_an_outbox_claim_reads_only_what_it_takes(fresh_storage: SqlAlchemyStorage) -> None:
    with fresh_storage.unit_of_work(cross_tenant=True) as uow:
        for n in range(BACKLOG):
            uow.outbox.append(NewOutboxMessage(kind="event", topic="t", key=f"k{n:05d}",
                                               payload={"n": n}, created_at=T0))
        uow.commit()
    with fresh_storage.unit_of_work(cross_tenant=True) as uow:
        claimed = uow.outbox.claim(owner="w", now=T0 + timedelta(seconds=1),
                                   lease=timedelta(seconds=60), limit=TAKEN, kinds=["event"])
        read = rows_read(uow, "outbox")  # type: ignore[arg-type]
        uow.commit()
    assert [m.key for m in claimed] == [f"k{n:05d}" for n in range(TAKEN)]
    assert read < 5 * TAKEN, f"the claim read {read} rows to take {TAKEN}"


def test_a_delivery_claim_reads_only_what_it_takes(fresh_storage: SqlAlchemyStorage) -> None:
    due = [delivery(n, next_attempt_at=T0) for n in range(BACKLOG)]
    with fresh_storage.unit_of_work(cross_tenant=True) as uow:
        uow.webhook_deliveries.add_many(due)
        uow.commit()
    with fresh_storage.unit_of_work(cross_tenant=True) as uow:
        claimed = uow.webhook_deliveries.claim_due(
            owner="w", now=T0 + timedelta(seconds=1), lease=timedelta(seconds=60), limit=TAKEN
        )
        read = rows_read(uow, "webhook_deliveries")  # type: ignore[arg-type]
        uow.commit()
    assert [d.id for d in claimed] == [d.id for d in due[:TAKEN]]
    assert read < 5 * TAKEN, f"the claim read {read} rows to take {TAKEN}"


def test_a_generic_delivery_claim_plan_passes_over_settled_history(
    fresh_storage: SqlAlchemyStorage,
) -> None:
    """Among many dispatched deliveries, a claim reads only the pending rows it takes, even
    with the generic plan PostgreSQL may switch a prepared statement to (whose parameters
    are unknown when it is planned: a partial index serves it only if the statement states
    the predicate itself)."""
    import sqlalchemy as sa

    from scaicontrol_core.machines.delivery import DeliveryStatus

    history = [delivery(n, status=DeliveryStatus.DISPATCHED, next_attempt_at=None)
               for n in range(BACKLOG)]
    due = [delivery(BACKLOG + n, next_attempt_at=T0) for n in range(TAKEN)]
    with fresh_storage.unit_of_work(cross_tenant=True) as uow:
        uow.webhook_deliveries.add_many(history + due)
        uow.commit()
    with fresh_storage.unit_of_work(cross_tenant=True) as uow:
        uow.connection.execute(sa.text("SET LOCAL plan_cache_mode = force_generic_plan"))
        uow.connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
        claimed = uow.webhook_deliveries.claim_due(
            owner="w", now=T0 + timedelta(seconds=1), lease=timedelta(seconds=60), limit=TAKEN
        )
        read = rows_read(uow, "webhook_deliveries")  # type: ignore[arg-type]
        uow.commit()
    assert [d.id for d in claimed] == [d.id for d in due]
    assert read < 5 * TAKEN, f"the claim read {read} rows to take {TAKEN}"


def test_the_claim_index_holds_pending_deliveries_only(
    database_kind: str, sql_storage: SqlAlchemyStorage
) -> None:
    """Where partial indexes exist (PostgreSQL, SQLite) the claim index is partial, and the
    claim's statement states its predicate so that the planner can use it (SQLite's never
    would for a bound parameter); MariaDB keeps the full index."""
    import sqlalchemy as sa

    name = "ix_webhook_deliveries_status_next_attempt_at_id"
    with sql_storage.connection() as connection:
        if database_kind == "postgresql":
            definition = connection.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                {"name": name}).scalar_one()
            assert definition.endswith("WHERE ((status)::text = 'pending'::text)")
        elif database_kind == "sqlite":
            definition = connection.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE name = :name"),
                {"name": name}).scalar_one()
            assert definition.endswith("WHERE status = 'pending'")
        else:
            columns = connection.execute(sa.text(
                "SELECT column_name FROM information_schema.statistics "
                "WHERE table_schema = DATABASE() AND index_name = :name ORDER BY seq_in_index"
            ), {"name": name}).scalars().all()
            assert columns == ["status", "next_attempt_at", "id"]
    if database_kind != "sqlite":
        return
    statements: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    sa.event.listen(sql_storage.engine, "before_cursor_execute", remember)
    try:
        with sql_storage.unit_of_work(cross_tenant=True) as uow:
            uow.webhook_deliveries.claim_due(owner="w", now=T0, lease=timedelta(seconds=60),
                                             limit=TAKEN)
    finally:
        sa.event.remove(sql_storage.engine, "before_cursor_execute", remember)
    [(claim, parameters)] = statements
    with sql_storage.connection() as connection:
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + claim, parameters).all()
    assert any(f"USING INDEX {name}" in str(step) for step in plan), plan


def test_outbox_pages_keep_room_for_leased_rows(fresh_storage: SqlAlchemyStorage) -> None:
    import sqlalchemy as sa

    from scaicontrol_adapters.storage.sqlalchemy.tables import OUTBOX_FILLFACTOR

    with fresh_storage.connection() as connection:
        options = connection.execute(
            sa.text("SELECT reloptions FROM pg_class WHERE relname = 'outbox'")
        ).scalar_one()
    assert options == [f"fillfactor={OUTBOX_FILLFACTOR}"]


def test_payloads_beyond_what_orjson_encodes_are_stored_too(
    database_kind: str, sql_storage: SqlAlchemyStorage
) -> None:
    """A batch that orjson refuses (an integer over 64 bits) is encoded by ``json``."""
    payload = {"event_id": "e", "data": {"huge": 2**70, "small": 1}}
    with sql_storage.unit_of_work(cross_tenant=True) as uow:
        assert uow.webhook_deliveries.add_many([delivery(1, payload=payload)]) == 1
        uow.commit()
    with sql_storage.unit_of_work(cross_tenant=True) as uow:
        stored = uow.webhook_deliveries.get(delivery(1).id)
    assert stored is not None and stored.payload == payload

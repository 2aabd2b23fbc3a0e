"""The SQLAlchemy backend passes the storage contract, plus behaviour only SQL has."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("sqlalchemy")

import sqlalchemy as sa

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_adapters.storage.sqlalchemy import plugin
from scaicontrol_adapters.storage.sqlalchemy.repositories import SqlRepository
from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
from scaicontrol_core.errors import (
    ConcurrencyConflict,
    ConfigurationError,
    DuplicateRecord,
    StorageError,
    TenantScopeRequired,
    ValidationError,
)
from scaicontrol_core.plugins import Plugins, make_plugin_manager
from scaicontrol_core.ports import StorageConfig
from scaicontrol_core.records import NewOutboxMessage, Partner, Tenant
from scaicontrol_core.schema import RecordKind
from scaicontrol_core.testing.storage_contract import StorageContract

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
LEASE = timedelta(seconds=30)
OpenStorage = Callable[..., SqlAlchemyStorage]


class TestSqlAlchemyStorage(StorageContract):
    """The contract on the database under test (SQLite file, PostgreSQL or MariaDB)."""

    @pytest.fixture
    def storage(self, sql_storage: SqlAlchemyStorage) -> Iterator[SqlAlchemyStorage]:
        """The shared migrated database, emptied."""
        yield sql_storage


class TestSqlAlchemyInMemorySqlite(StorageContract):
    """The contract on ``sqlite:///:memory:``, the quick embedded set-up."""

    @pytest.fixture
    def storage(self, open_sql_storage: OpenStorage) -> Iterator[SqlAlchemyStorage]:
        """A new in-memory database migrated to head."""
        storage = open_sql_storage("sqlite:///:memory:")
        storage.migrator.upgrade()
        yield storage


def partner(pid: str = "prt_a", **changes: Any) -> Partner:
    return attrs.evolve(Partner(id=pid, name=f"P {pid}", created_at=T0, updated_at=T0), **changes)


def tenant(tid: str, **changes: Any) -> Tenant:
    base = Tenant(id=tid, partner_id="prt_a", name=f"T {tid}", created_at=T0, updated_at=T0)
    return attrs.evolve(base, **changes)


def message(key: str, **changes: Any) -> NewOutboxMessage:
    base = NewOutboxMessage(kind="event", topic="t", key=key, payload={}, created_at=T0)
    return attrs.evolve(base, **changes)


# --- plugin --------------------------------------------------------------------------------


def test_plugin_opens_the_backend(migrated_database_url: str) -> None:
    """The registered factory opens a ready storage named "sqlalchemy"."""
    plugins = Plugins(make_plugin_manager(entry_points=False, extra=[plugin]))
    storage = plugins.open_storage("sqlalchemy", StorageConfig(url=migrated_database_url))
    try:
        assert storage.name == "sqlalchemy"
        assert storage.check().ready
    finally:
        storage.close()


def test_plugin_imports_without_sqlalchemy() -> None:
    """The entry point imports with SQLAlchemy absent; only the factory reports it missing."""
    script = textwrap.dedent(
        """
        import sys

        blocked = ("sqlalchemy", "alembic")

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in blocked:
                    raise ImportError(f"blocked: {name}", name=name)
                return None

        sys.meta_path.insert(0, Block())
        for name in list(sys.modules):
            if name.split(".")[0] in blocked:
                del sys.modules[name]

        from scaicontrol_adapters.storage.sqlalchemy import plugin
        from scaicontrol_core.errors import MissingDependency
        from scaicontrol_core.ports import StorageConfig

        found = {}
        plugin.scaicontrol_register_storage_backends(register=found.__setitem__)
        assert list(found) == ["sqlalchemy"], found
        try:
            found["sqlalchemy"](StorageConfig(url="sqlite:///:memory:"))
        except MissingDependency as exc:
            print("missing extra:", exc.extra)
        assert not [m for m in sys.modules if m.split(".")[0] in blocked]
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "missing extra: sqlalchemy"


def test_unknown_option_is_a_configuration_error() -> None:
    """A misspelt storage option is reported instead of ignored."""
    with pytest.raises(ConfigurationError, match="pool_sise"):
        SqlAlchemyStorage.from_config(
            StorageConfig(url="sqlite:///:memory:", options={"pool_sise": "5"})
        )


# --- records -------------------------------------------------------------------------------


def test_naive_datetimes_are_refused(sql_storage: SqlAlchemyStorage) -> None:
    """A datetime without a timezone is a ValidationError, not a guess."""
    naive = datetime(2026, 1, 1, 12, 0)
    with sql_storage.unit_of_work() as uow:
        with pytest.raises(ValidationError) as caught:
            uow.partners.add(partner(created_at=naive))
        assert caught.value.field == "created_at"
        with pytest.raises(ValidationError):
            uow.partners.find({"updated_at": naive})
        with pytest.raises(ValidationError):
            uow.outbox.claim(owner="w", now=naive, lease=LEASE, limit=1)


def test_text_longer_than_its_column_is_refused(sql_storage: SqlAlchemyStorage) -> None:
    """Every database refuses an over-long value the same way, before it is sent."""
    with sql_storage.unit_of_work() as uow, pytest.raises(ValidationError) as caught:
        uow.partners.add(partner(name="x" * 256))
    assert caught.value.field == "name"


def test_duplicate_leaves_the_transaction_usable(sql_storage: SqlAlchemyStorage) -> None:
    """After a refused duplicate id or outbox key, the same unit of work still commits."""
    with sql_storage.unit_of_work() as uow:
        uow.partners.add(partner())
        uow.outbox.append(message("k"))
        uow.commit()
    with sql_storage.unit_of_work() as uow:
        with pytest.raises(DuplicateRecord):
            uow.partners.add(partner())
        assert not uow.outbox.append(message("k"))
        uow.partners.add(partner("prt_b"))
        assert uow.outbox.append(message("k2"))
        uow.commit()
    with sql_storage.unit_of_work() as uow:
        assert [p.id for p in uow.partners.find()] == ["prt_a", "prt_b"]
        assert [m.key for m in uow.outbox.find()] == ["k", "k2"]


def test_work_after_commit_runs_in_a_new_transaction(sql_storage: SqlAlchemyStorage) -> None:
    """A unit of work stays usable after commit, and later work rolls back on its own."""
    with sql_storage.unit_of_work() as uow:
        uow.partners.add(partner())
        uow.commit()
        uow.partners.add(partner("prt_b"))
    with sql_storage.unit_of_work() as uow:
        assert [p.id for p in uow.partners.find()] == ["prt_a"]


def test_none_sorts_as_smallest_like_memory(sql_storage: SqlAlchemyStorage) -> None:
    """Ordering by a nullable field puts None first ascending and last descending, as memory."""
    memory = MemoryStorage()
    emails = ["b@x.org", None, "a@x.org", None, "c@x.org"]
    storages: tuple[Any, ...] = (sql_storage, memory)
    for storage in storages:
        with storage.unit_of_work() as uow:
            for i, email in enumerate(emails):
                uow.tenants.add(tenant(f"tnt_{i}", email=email))
            uow.commit()

    def ids(storage: Any, order: list[str]) -> list[str]:
        with storage.unit_of_work() as uow:
            return [t.id for t in uow.tenants.find(order_by=order)]

    for order in (["email", "id"], ["-email", "id"], ["-email", "-id"], ["email", "-id"]):
        assert ids(sql_storage, order) == ids(memory, order), order
    assert ids(sql_storage, ["email"])[:2] == ["tnt_1", "tnt_3"]
    assert ids(sql_storage, ["-email"])[-2:] == ["tnt_1", "tnt_3"]


def test_one_of_filter_may_include_none(sql_storage: SqlAlchemyStorage) -> None:
    """A list filter containing None also matches NULL, as it does in memory."""
    with sql_storage.unit_of_work() as uow:
        uow.tenants.add(tenant("tnt_1", email="a@x.org"))
        uow.tenants.add(tenant("tnt_2"))
        uow.tenants.add(tenant("tnt_3", email="b@x.org"))
        uow.commit()
    with sql_storage.unit_of_work() as uow:
        picked = uow.tenants.find({"email": [None, "b@x.org"]})
        assert [t.id for t in picked] == ["tnt_2", "tnt_3"]
        assert uow.tenants.count({"email": [None]}) == 1
        assert uow.tenants.count({"status": ["active", "deleted"], "email": None}) == 1


def test_concurrent_updates_lose_nothing(sql_storage: SqlAlchemyStorage) -> None:
    """Threads bumping one record with retry-on-conflict end at exactly the sum of bumps."""
    threads, rounds = 4, 8
    with sql_storage.unit_of_work() as uow:
        uow.partners.add(partner(name="0"))
        uow.commit()
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(rounds):
                while True:
                    try:
                        with sql_storage.unit_of_work() as uow:
                            current = uow.partners.require("prt_a")
                            uow.partners.update(
                                attrs.evolve(current, name=str(int(current.name) + 1))
                            )
                            uow.commit()
                        break
                    except ConcurrencyConflict:
                        continue
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=bump) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    with sql_storage.unit_of_work() as uow:
        final = uow.partners.require("prt_a")
    assert (final.name, final.version) == (str(threads * rounds), 1 + threads * rounds)


def test_closed_storage_refuses_work(open_sql_storage: OpenStorage) -> None:
    """After close(), opening a unit of work is a StorageError."""
    storage = open_sql_storage("sqlite:///:memory:")
    storage.close()
    with pytest.raises(StorageError):
        storage.unit_of_work()


def test_in_memory_sqlite_refuses_nested_units(open_sql_storage: OpenStorage) -> None:
    """The single in-memory connection cannot serve two units of work in one thread."""
    storage = open_sql_storage("sqlite:///:memory:")
    storage.migrator.upgrade()
    with storage.unit_of_work(), pytest.raises(StorageError, match="one unit of work"):
        storage.unit_of_work().__enter__()


# --- outbox --------------------------------------------------------------------------------


def test_outbox_payload_round_trips(sql_storage: SqlAlchemyStorage) -> None:
    """Nested, non-ASCII payloads come back equal; datetimes are stored in their wire form."""
    payload = {"name": "Zoë 🚀", "nested": {"list": [1, 2.5, None, True]}, "at": T0}
    with sql_storage.unit_of_work() as uow:
        uow.outbox.append(message("k", payload=payload))
        uow.commit()
    with sql_storage.unit_of_work() as uow:
        [row] = uow.outbox.find()
    assert row.payload == {**payload, "at": "2026-01-01T12:00:00.123456+00:00"}


def test_outbox_transitions_follow_the_machine(sql_storage: SqlAlchemyStorage) -> None:
    """Moves the outbox machine lacks, or by a non-holder, change nothing and answer False."""
    with sql_storage.unit_of_work() as uow:
        uow.outbox.append(message("job"))
        uow.commit()
    with sql_storage.unit_of_work() as uow:
        [m] = uow.outbox.claim(owner="w", now=T0, lease=LEASE, limit=1)
        assert not uow.outbox.revive(m.seq, now=T0)
        assert not uow.outbox.retry(m.seq, owner="other", available_at=T0, error="x")
        assert uow.outbox.complete(m.seq, owner="w", now=T0)
        assert not uow.outbox.complete(m.seq, owner="w", now=T0)
        assert not uow.outbox.give_up(m.seq, owner="w", now=T0, error="x")
        assert not uow.outbox.complete(m.seq + 1000, owner="w", now=T0)
        uow.commit()
    with sql_storage.unit_of_work() as uow:
        done = uow.outbox.get(m.seq)
    assert done is not None and done.status == "done" and done.last_error is None


def test_outbox_never_reuses_a_seq(sql_storage: SqlAlchemyStorage) -> None:
    """After the newest row is purged, the next append still gets a larger seq."""
    with sql_storage.unit_of_work() as uow:
        uow.outbox.append(message("a"))
        uow.commit()
    with sql_storage.unit_of_work() as uow:
        [first] = uow.outbox.claim(owner="w", now=T0, lease=LEASE, limit=1)
        uow.outbox.complete(first.seq, owner="w", now=T0)
        assert uow.outbox.purge(finished_before=T0 + LEASE) == 1
        uow.commit()
    with sql_storage.unit_of_work() as uow:
        uow.outbox.append(message("b"))
        uow.commit()
    with sql_storage.unit_of_work() as uow:
        [second] = uow.outbox.find()
    assert second.seq > first.seq


def test_claim_with_no_kinds_or_no_limit_takes_nothing(sql_storage: SqlAlchemyStorage) -> None:
    """An empty kinds list or a zero limit claims nothing and bumps no attempts."""
    with sql_storage.unit_of_work() as uow:
        uow.outbox.append(message("job"))
        assert uow.outbox.claim(owner="w", now=T0, lease=LEASE, limit=5, kinds=[]) == []
        assert uow.outbox.claim(owner="w", now=T0, lease=LEASE, limit=0) == []
        assert [m.attempts for m in uow.outbox.find()] == [0]


# --- tenant scoping ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Note:
    """A tenant-scoped record kind used only to exercise the scoping mechanism."""

    id: str
    tenant_id: str
    text: str
    version: int = 1


NOTES = RecordKind(name="notes", label="Note", record_type=Note, tenant_scoped=True)


@pytest.fixture
def notes_storage(
    scratch_database_url: str, open_sql_storage: OpenStorage
) -> Iterator[tuple[SqlAlchemyStorage, sa.Table]]:
    """A migrated scratch database with an extra tenant-scoped ``notes`` table."""
    storage = open_sql_storage(scratch_database_url)
    storage.migrator.upgrade()
    table = sa.Table(
        "notes",
        sa.MetaData(),
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("text", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    with storage.connection() as connection, connection.begin():
        table.create(connection)
    yield storage, table


def test_tenant_scoping(notes_storage: tuple[SqlAlchemyStorage, sa.Table]) -> None:
    """A tenant-scoped kind needs a scope, hides other tenants and refuses their records."""
    storage, table = notes_storage

    def notes(uow: Any) -> SqlRepository[Note]:
        return SqlRepository[Note](uow, NOTES, table)

    with storage.unit_of_work() as uow, pytest.raises(TenantScopeRequired):
        notes(uow).find()
    with storage.unit_of_work(cross_tenant=True) as uow:
        notes(uow).add(Note(id="n1", tenant_id="t1", text="mine"))
        notes(uow).add(Note(id="n2", tenant_id="t2", text="theirs"))
        uow.commit()
    with storage.unit_of_work(tenant_id="t1") as uow:
        repo = notes(uow)
        assert [n.id for n in repo.find()] == ["n1"] and repo.count() == 1
        assert repo.get("n2") is None
        with pytest.raises(ValidationError):
            repo.add(Note(id="n3", tenant_id="t2", text="sneaky"))
        with pytest.raises(ValidationError):
            repo.update(Note(id="n2", tenant_id="t2", text="changed"))
        with pytest.raises(DuplicateRecord):
            repo.add(Note(id="n2", tenant_id="t1", text="same id"))
        repo.update(attrs.evolve(repo.require("n1"), text="edited"))
        uow.commit()
    with storage.unit_of_work(cross_tenant=True) as uow:
        assert sorted((n.id, n.text) for n in notes(uow).find()) == [
            ("n1", "edited"),
            ("n2", "theirs"),
        ]


# --- SQLite specifics ----------------------------------------------------------------------


def test_sqlite_file_runs_in_wal_mode(tmp_path: Path, open_sql_storage: OpenStorage) -> None:
    """A SQLite file is opened in WAL mode with a busy timeout and foreign keys on."""
    storage = open_sql_storage(f"sqlite:///{tmp_path / 'wal.db'}", busy_timeout="12.5")
    with storage.connection(write=False) as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
    assert pragma == {"journal_mode": "wal", "busy_timeout": 12500, "foreign_keys": 1}

"""The storage contract every backend must pass.

Subclass :class:`StorageContract` in a test module and provide a ``storage`` fixture that
yields a fresh, empty, migrated backend::

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def storage(self):
            yield MyStorage(...)
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from ..errors import (
    ConcurrencyConflict,
    DuplicateRecord,
    NotFound,
    StorageError,
    ValidationError,
)
from ..machines.outbox import OutboxStatus
from ..ports import CommitInfo, Storage
from ..records import NewOutboxMessage, OrgStatus, Partner, Tenant

__all__ = ["StorageContract"]

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def partner(pid: str = "prt_a", **changes: Any) -> Partner:
    base = Partner(id=pid, name=f"Partner {pid}", created_at=T0, updated_at=T0)
    return attrs.evolve(base, **changes)


def tenant(tid: str, partner_id: str = "prt_a", **changes: Any) -> Tenant:
    base = Tenant(id=tid, partner_id=partner_id, name=f"Tenant {tid}", created_at=T0, updated_at=T0)
    return attrs.evolve(base, **changes)


def message(
    key: str, *, kind: str = "event", at: datetime = T0, **changes: Any
) -> NewOutboxMessage:
    base = NewOutboxMessage(
        kind=kind, topic="test.topic", key=key, payload={"key": key, "n": [1, 2]}, created_at=at
    )
    return attrs.evolve(base, **changes)


def append_all(storage: Storage, *keys: str, **changes: Any) -> None:
    with storage.unit_of_work(cross_tenant=True) as uow:
        for key in keys:
            uow.outbox.append(message(key, **changes))
        uow.commit()


class StorageContract:
    """Behaviour shared by every storage backend."""

    # --- records -------------------------------------------------------------------------

    def test_round_trip_keeps_every_field(self, storage: Storage) -> None:
        """A record read back equals the one written, timezone and microseconds included."""
        original = partner(is_operator=True, status=OrgStatus.SUSPENDED)
        with storage.unit_of_work() as uow:
            stored = uow.partners.add(original)
            uow.tenants.add(tenant("tnt_1", email="billing@example.com"))
            uow.commit()
        assert stored == original
        with storage.unit_of_work() as uow:
            assert uow.partners.get("prt_a") == original
            loaded = uow.tenants.require("tnt_1")
        assert loaded.email == "billing@example.com"
        assert loaded.created_at == T0 and loaded.created_at.tzinfo is not None

    def test_add_sets_version_one_and_update_bumps_it(self, storage: Storage) -> None:
        """Versions start at 1 and grow by one per update."""
        with storage.unit_of_work() as uow:
            first = uow.partners.add(partner(version=7))
            second = uow.partners.update(attrs.evolve(first, name="Renamed"))
            uow.commit()
        assert (first.version, second.version) == (1, 2)
        with storage.unit_of_work() as uow:
            assert uow.partners.require("prt_a").name == "Renamed"

    def test_missing_record_is_none_or_not_found(self, storage: Storage) -> None:
        """get answers None; require raises NotFound naming the kind and id."""
        with storage.unit_of_work() as uow:
            assert uow.tenants.get("tnt_missing") is None
            with pytest.raises(NotFound, match="Tenant 'tnt_missing' not found"):
                uow.tenants.require("tnt_missing")

    def test_duplicate_id_is_refused(self, storage: Storage) -> None:
        """Adding an id that exists raises DuplicateRecord."""
        with storage.unit_of_work() as uow:
            uow.partners.add(partner())
            uow.commit()
        with storage.unit_of_work() as uow, pytest.raises(DuplicateRecord):
            uow.partners.add(partner())
            uow.commit()

    def test_stale_version_is_a_conflict(self, storage: Storage) -> None:
        """Saving a record read before someone else's update raises ConcurrencyConflict."""
        with storage.unit_of_work() as uow:
            uow.partners.add(partner())
            uow.commit()
        with storage.unit_of_work() as uow:
            stale = uow.partners.require("prt_a")
        with storage.unit_of_work() as uow:
            uow.partners.update(attrs.evolve(stale, name="First"))
            uow.commit()
        with storage.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
            uow.partners.update(attrs.evolve(stale, name="Second"))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.partners.require("prt_a").name == "First"

    def test_interleaved_units_of_work_conflict(self, storage: Storage) -> None:
        """Two open units of work updating one record: the second to save loses."""
        with storage.unit_of_work() as uow:
            uow.partners.add(partner())
            uow.commit()
        with storage.unit_of_work() as reader:
            seen = reader.partners.require("prt_a")
            reader.commit()
        with storage.unit_of_work() as one:
            one.partners.update(attrs.evolve(seen, name="One"))
            one.commit()
        with pytest.raises(ConcurrencyConflict), storage.unit_of_work() as two:
            two.partners.update(attrs.evolve(seen, name="Two"))
            two.commit()

    def test_update_or_delete_of_missing_record_is_not_found(self, storage: Storage) -> None:
        """Saving a record that does not exist raises NotFound."""
        with storage.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.partners.update(partner("prt_ghost"))
            with pytest.raises(NotFound):
                uow.partners.delete(partner("prt_ghost"))

    def test_delete_checks_version(self, storage: Storage) -> None:
        """Deleting with a stale version is refused; with the current one it removes."""
        with storage.unit_of_work() as uow:
            stored = uow.partners.add(partner())
            uow.partners.update(attrs.evolve(stored, name="v2"))
            uow.commit()
        with storage.unit_of_work() as uow:
            with pytest.raises(ConcurrencyConflict):
                uow.partners.delete(stored)
            uow.partners.delete(uow.partners.require("prt_a"))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.partners.get("prt_a") is None

    def test_rollback_discards_records(self, storage: Storage) -> None:
        """Leaving a unit of work without commit keeps nothing."""
        with storage.unit_of_work() as uow:
            uow.partners.add(partner())
        with storage.unit_of_work() as uow:
            uow.partners.add(partner("prt_b"))
            uow.rollback()
        with storage.unit_of_work() as uow:
            assert uow.partners.count() == 0

    def test_exception_rolls_back(self, storage: Storage) -> None:
        """An exception inside the block discards its writes."""
        with pytest.raises(RuntimeError), storage.unit_of_work() as uow:
            uow.partners.add(partner())
            raise RuntimeError("boom")
        with storage.unit_of_work() as uow:
            assert uow.partners.get("prt_a") is None

    def test_use_outside_block_is_an_error(self, storage: Storage) -> None:
        """A unit of work cannot be used after its block ends."""
        with storage.unit_of_work() as uow:
            pass
        with pytest.raises(StorageError):
            uow.partners.get("prt_a")

    def test_find_filters_orders_and_pages(self, storage: Storage) -> None:
        """find applies equality and one-of filters, ordering and offset/limit; count agrees."""
        with storage.unit_of_work() as uow:
            uow.partners.add(partner())
            uow.partners.add(partner("prt_b"))
            for i in range(7):
                uow.tenants.add(
                    tenant(
                        f"tnt_{i}",
                        partner_id="prt_a" if i % 2 else "prt_b",
                        name=f"n{6 - i}",
                        email=None if i == 3 else f"t{i}@example.com",
                        created_at=T0 + timedelta(minutes=i),
                    )
                )
            uow.commit()
        with storage.unit_of_work() as uow:
            odd = uow.tenants.find({"partner_id": "prt_a"})
            assert [t.id for t in odd] == ["tnt_1", "tnt_3", "tnt_5"]
            assert uow.tenants.count({"partner_id": "prt_a"}) == 3
            assert [t.id for t in uow.tenants.find({"email": None})] == ["tnt_3"]
            picked = uow.tenants.find({"id": ["tnt_0", "tnt_6", "tnt_x"]})
            assert [t.id for t in picked] == ["tnt_0", "tnt_6"]
            by_name = uow.tenants.find(order_by=["name"], offset=2, limit=3)
            assert [t.name for t in by_name] == ["n2", "n3", "n4"]
            newest = uow.tenants.find(order_by=["-created_at"], limit=2)
            assert [t.id for t in newest] == ["tnt_6", "tnt_5"]
            assert uow.tenants.find({"partner_id": []}) == []
            assert uow.tenants.count() == 7

    def test_unknown_filter_or_order_field_is_refused(self, storage: Storage) -> None:
        """Filtering or ordering by a field the record lacks is a ValidationError."""
        with storage.unit_of_work() as uow:
            with pytest.raises(ValidationError):
                uow.tenants.find({"colour": "blue"})
            with pytest.raises(ValidationError):
                uow.tenants.find(order_by=["-colour"])

    # --- outbox --------------------------------------------------------------------------

    def test_outbox_rows_commit_with_the_change(self, storage: Storage) -> None:
        """A committed append is visible with all its fields; seq and status are assigned."""
        with storage.unit_of_work() as uow:
            uow.partners.add(partner())
            assert uow.outbox.append(message("k1", tenant_id="tnt_1"))
            uow.commit()
        with storage.unit_of_work() as uow:
            [row] = uow.outbox.find()
        assert row.key == "k1" and row.kind == "event" and row.topic == "test.topic"
        assert row.payload == {"key": "k1", "n": [1, 2]}
        assert row.tenant_id == "tnt_1"
        assert row.status is OutboxStatus.PENDING and row.attempts == 0
        assert row.created_at == T0 and row.available_at == T0
        assert row.seq >= 1 and row.lease_owner is None and row.finished_at is None

    def test_rollback_discards_outbox_rows(self, storage: Storage) -> None:
        """Outbox rows appended in a rolled-back unit of work are gone with it."""
        with storage.unit_of_work() as uow:
            uow.partners.add(partner())
            uow.outbox.append(message("lost"))
        with pytest.raises(RuntimeError), storage.unit_of_work() as uow:
            uow.outbox.append(message("lost-too"))
            raise RuntimeError("boom")
        with storage.unit_of_work() as uow:
            assert uow.outbox.find() == []
            assert uow.partners.get("prt_a") is None

    def test_duplicate_key_is_recorded_once(self, storage: Storage) -> None:
        """Appending a key again, in the same or a later unit of work, stores nothing."""
        with storage.unit_of_work() as uow:
            assert uow.outbox.append(message("same"))
            assert not uow.outbox.append(message("same"))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert not uow.outbox.append(message("same"))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert len(uow.outbox.find()) == 1

    def test_outbox_keeps_append_order(self, storage: Storage) -> None:
        """seq grows with each append, across units of work."""
        keys = [f"k{i:02d}" for i in range(12)]
        for chunk in (keys[:5], keys[5:9], keys[9:]):
            append_all(storage, *chunk)
        with storage.unit_of_work() as uow:
            rows = uow.outbox.find(limit=100)
        assert [r.key for r in rows] == keys
        assert [r.seq for r in rows] == sorted(r.seq for r in rows)
        with storage.unit_of_work() as uow:
            later = uow.outbox.find(after_seq=rows[3].seq, limit=2)
        assert [r.key for r in later] == keys[4:6]

    def test_claim_leases_due_rows_in_order(self, storage: Storage) -> None:
        """claim takes due pending rows oldest first, up to the limit, and bumps attempts."""
        append_all(storage, "a", "b", "c")
        append_all(storage, "later", at=T0 + timedelta(hours=1))
        with storage.unit_of_work() as uow:
            got = uow.outbox.claim(owner="w1", now=T0, lease=LEASE, limit=2)
            uow.commit()
        assert [m.key for m in got] == ["a", "b"]
        assert all(m.lease_owner == "w1" and m.attempts == 1 for m in got)
        assert all(m.lease_expires_at == T0 + LEASE for m in got)
        with storage.unit_of_work() as uow:
            rest = uow.outbox.claim(owner="w2", now=T0, lease=LEASE, limit=10)
            uow.commit()
        assert [m.key for m in rest] == ["c"]

    def test_claim_filters_by_kind(self, storage: Storage) -> None:
        """Only the requested kinds are claimed."""
        append_all(storage, "e1")
        append_all(storage, "x1", kind="effect")
        with storage.unit_of_work() as uow:
            got = uow.outbox.claim(owner="w", now=T0, lease=LEASE, limit=10, kinds=["effect"])
            uow.commit()
        assert [m.key for m in got] == ["x1"]

    def test_held_lease_blocks_and_expired_lease_is_reclaimed(self, storage: Storage) -> None:
        """A leased row is invisible to others until its lease expires, then reclaimable."""
        append_all(storage, "job")
        with storage.unit_of_work() as uow:
            [first] = uow.outbox.claim(owner="w1", now=T0, lease=LEASE, limit=1)
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.outbox.claim(owner="w2", now=T0 + LEASE / 2, lease=LEASE, limit=1) == []
            [again] = uow.outbox.claim(owner="w2", now=T0 + LEASE, lease=LEASE, limit=1)
            uow.commit()
        assert again.seq == first.seq and again.attempts == 2 and again.lease_owner == "w2"
        with storage.unit_of_work() as uow:
            assert not uow.outbox.complete(first.seq, owner="w1", now=T0 + LEASE)
            assert uow.outbox.complete(first.seq, owner="w2", now=T0 + LEASE)
            uow.commit()
        with storage.unit_of_work() as uow:
            done = uow.outbox.get(first.seq)
        assert done is not None and done.status is OutboxStatus.DONE
        assert done.finished_at == T0 + LEASE and done.lease_owner is None

    def test_retry_give_up_and_revive(self, storage: Storage) -> None:
        """retry makes a row due later; give_up kills it; revive makes it pending again."""
        append_all(storage, "job")
        later = T0 + timedelta(minutes=5)
        with storage.unit_of_work() as uow:
            [m] = uow.outbox.claim(owner="w", now=T0, lease=LEASE, limit=1)
            assert uow.outbox.retry(m.seq, owner="w", available_at=later, error="HTTP 503")
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.outbox.claim(owner="w", now=later - timedelta(seconds=1), lease=LEASE,
                                    limit=1) == []
            [m] = uow.outbox.claim(owner="w", now=later, lease=LEASE, limit=1)
            assert m.last_error == "HTTP 503" and m.attempts == 2
            assert uow.outbox.give_up(m.seq, owner="w", now=later, error="gone")
            uow.commit()
        with storage.unit_of_work() as uow:
            dead = uow.outbox.get(m.seq)
            assert dead is not None and dead.status is OutboxStatus.DEAD
            assert [r.key for r in uow.outbox.find(status=OutboxStatus.DEAD)] == ["job"]
            assert uow.outbox.claim(owner="w", now=later, lease=LEASE, limit=1) == []
            assert not uow.outbox.complete(m.seq, owner="w", now=later)
            assert uow.outbox.revive(m.seq, now=later)
            uow.commit()
        with storage.unit_of_work() as uow:
            [back] = uow.outbox.claim(owner="w", now=later, lease=LEASE, limit=1)
            uow.commit()
        assert back.key == "job" and back.status is OutboxStatus.PENDING

    def test_rolled_back_claim_releases_rows(self, storage: Storage) -> None:
        """A claim that is not committed leaves the rows claimable."""
        append_all(storage, "job")
        with storage.unit_of_work() as uow:
            assert len(uow.outbox.claim(owner="w1", now=T0, lease=LEASE, limit=1)) == 1
        with storage.unit_of_work() as uow:
            assert len(uow.outbox.claim(owner="w2", now=T0, lease=LEASE, limit=1)) == 1
            uow.commit()

    def test_purge_removes_only_old_done_rows(self, storage: Storage) -> None:
        """purge deletes done rows finished before the cut-off and nothing else."""
        append_all(storage, "old", "new", "open")
        with storage.unit_of_work() as uow:
            old, new, _ = uow.outbox.claim(owner="w", now=T0, lease=LEASE, limit=3)
            uow.outbox.complete(old.seq, owner="w", now=T0)
            uow.outbox.complete(new.seq, owner="w", now=T0 + timedelta(days=2))
            uow.commit()
        with storage.unit_of_work() as uow:
            assert uow.outbox.purge(finished_before=T0 + timedelta(days=1)) == 1
            uow.commit()
        with storage.unit_of_work() as uow:
            assert sorted(m.key for m in uow.outbox.find()) == ["new", "open"]

    def test_complete_many_finishes_only_held_rows(self, storage: Storage) -> None:
        """complete_many marks done the rows the owner holds, in one call, and names them."""
        append_all(storage, "a", "b", "c")
        with storage.unit_of_work() as uow:
            a, b = uow.outbox.claim(owner="w1", now=T0, lease=LEASE, limit=2)
            [c] = uow.outbox.claim(owner="w2", now=T0, lease=LEASE, limit=1)
            done = uow.outbox.complete_many([c.seq, b.seq, a.seq, b.seq], owner="w1", now=T0)
            assert done == [a.seq, b.seq]
            assert uow.outbox.complete_many([], owner="w1", now=T0) == []
            uow.commit()
        with storage.unit_of_work() as uow:
            statuses = {m.key: m.status for m in uow.outbox.find()}
        assert statuses == {"a": OutboxStatus.DONE, "b": OutboxStatus.DONE,
                            "c": OutboxStatus.PENDING}

    # --- commit listeners ----------------------------------------------------------------

    def test_commit_listener_hears_what_each_commit_changed(self, storage: Storage) -> None:
        """Listeners hear appended outbox kinds and written record kinds, and nothing from
        rolled-back, empty or duplicate-only commits; a removed listener hears no more."""
        heard: list[CommitInfo] = []
        storage.add_commit_listener(heard.append)
        try:
            with storage.unit_of_work() as uow:
                uow.partners.add(partner())
                uow.outbox.append(message("k1", kind="event"))
                uow.commit()
            with storage.unit_of_work() as uow:
                uow.outbox.append(message("k1", kind="event"))  # a duplicate stores nothing
                uow.outbox.claim(owner="w", now=T0 - LEASE, lease=LEASE, limit=5)  # none due
                uow.commit()
            with storage.unit_of_work() as uow:
                uow.tenants.add(tenant("tnt_rolled_back"))
            with storage.unit_of_work() as uow:
                uow.tenants.add(tenant("tnt_1"))
                uow.outbox.append(message("k2", kind="effect"))
                uow.commit()
        finally:
            storage.remove_commit_listener(heard.append)
        with storage.unit_of_work() as uow:
            uow.partners.add(partner("prt_after"))
            uow.commit()
        assert heard == [
            CommitInfo(outbox_kinds=frozenset({"event"}), record_kinds=frozenset({"partners"})),
            CommitInfo(outbox_kinds=frozenset({"effect"}), record_kinds=frozenset({"tenants"})),
        ]

    def test_quiet_unit_of_work_commits_unheard(self, storage: Storage) -> None:
        """A quiet unit of work commits like any other, but no listener hears of it."""
        heard: list[CommitInfo] = []
        storage.add_commit_listener(heard.append)
        try:
            with storage.unit_of_work(quiet=True) as uow:
                uow.partners.add(partner())
                uow.outbox.append(message("k1", kind="event"))
                uow.commit()
            with storage.unit_of_work() as uow:
                uow.tenants.add(tenant("tnt_1"))
                uow.commit()
        finally:
            storage.remove_commit_listener(heard.append)
        with storage.unit_of_work() as uow:
            assert uow.partners.get("prt_a") is not None
            assert [m.key for m in uow.outbox.find()] == ["k1"]
        assert heard == [CommitInfo(record_kinds=frozenset({"tenants"}))]

    def test_failing_listener_does_not_undo_the_commit(self, storage: Storage) -> None:
        """A listener that raises is contained: the commit stands and others still hear it."""
        heard: list[CommitInfo] = []

        def broken(info: CommitInfo) -> None:
            raise RuntimeError("listener bug")

        storage.add_commit_listener(broken)
        storage.add_commit_listener(heard.append)
        try:
            with storage.unit_of_work() as uow:
                uow.partners.add(partner())
                uow.commit()
        finally:
            storage.remove_commit_listener(broken)
            storage.remove_commit_listener(heard.append)
        with storage.unit_of_work() as uow:
            assert uow.partners.get("prt_a") is not None
        assert [info.record_kinds for info in heard] == [frozenset({"partners"})]

    def test_concurrent_claimers_never_share_a_row(self, storage: Storage) -> None:
        """Four threads draining the outbox together claim every row exactly once."""
        total = 120
        for start in range(0, total, 40):
            append_all(storage, *(f"m{i:04d}" for i in range(start, start + 40)))
        claimed: dict[str, list[str]] = {}
        errors: list[BaseException] = []
        lock = threading.Lock()

        def drain(owner: str) -> None:
            idle = 0
            while idle < 3:
                try:
                    with storage.unit_of_work(cross_tenant=True) as uow:
                        got = uow.outbox.claim(owner=owner, now=T0, lease=timedelta(hours=1),
                                               limit=7)
                        uow.commit()
                except ConcurrencyConflict:
                    continue
                except BaseException as exc:  # reported below
                    errors.append(exc)
                    return
                idle = idle + 1 if not got else 0
                with lock:
                    for m in got:
                        claimed.setdefault(m.key, []).append(owner)

        threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        assert len(claimed) == total
        assert all(len(owners) == 1 for owners in claimed.values()), claimed

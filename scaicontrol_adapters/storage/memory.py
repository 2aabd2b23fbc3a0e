"""In-memory storage: dictionaries of frozen records, optimistic checks at commit.

A unit of work works on a private copy and, on commit, re-checks under a lock that every
record and outbox row it changed is still the one it read; otherwise the whole commit is
refused with ``ConcurrencyConflict``. No third-party dependency, so it runs with the core alone.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import attrs

from scaicontrol_core.errors import (
    ConcurrencyConflict,
    DuplicateRecord,
    NotFound,
    StorageError,
    TenantScopeRequired,
    ValidationError,
)
from scaicontrol_core.hookspecs import RegisterStorage, hookimpl
from scaicontrol_core.ports import (
    CommitInfo,
    CommitListener,
    Migrator,
    StorageConfig,
    StorageStatus,
    Where,
)
from scaicontrol_core.querying import matches, parse_order, sort_records
from scaicontrol_core.records import NewOutboxMessage, OutboxMessage
from scaicontrol_core.schema import RECORD_KINDS, RecordKind

from .listeners import CommitListeners
from .memory_outbox import MemoryOutbox, stored_message

if TYPE_CHECKING:
    from .memory_catalog import MemoryLifecycle
    from .memory_metering import MemoryMetering
    from .memory_webhooks import (
        MemoryAttempts,
        MemoryDeliveries,
        MemoryNotifications,
    )

__all__ = ["SPECIALISED_REPOSITORIES", "MemoryStorage", "scaicontrol_register_storage_backends"]


class _State:
    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {kind.name: {} for kind in RECORD_KINDS}
        self.outbox: dict[int, OutboxMessage] = {}
        self.keys: dict[str, int] = {}
        self.next_seq = 1


class _Repository:
    def __init__(self, uow: _UnitOfWork, kind: RecordKind) -> None:
        self._uow = uow
        self._kind = kind
        self._fields = [f.name for f in attrs.fields(kind.record_type)]

    @property
    def _rows(self) -> dict[str, Any]:
        self._uow.ensure_open()
        if self._kind.tenant_scoped and self._uow.tenant_id is None and not self._uow.cross_tenant:
            raise TenantScopeRequired(f"{self._kind.name} needs a tenant-scoped unit of work")
        return self._uow.work.records[self._kind.name]

    def _visible(self, record: Any) -> bool:
        scope = self._uow.tenant_id
        return not (self._kind.tenant_scoped and scope is not None and record.tenant_id != scope)

    def _check_scope(self, record: Any) -> None:
        if not self._visible(record):
            raise ValidationError("record belongs to another tenant", field="tenant_id")

    def get(self, record_id: str) -> Any:
        record = self._rows.get(record_id)
        return record if record is not None and self._visible(record) else None

    def require(self, record_id: str) -> Any:
        record = self.get(record_id)
        if record is None:
            raise NotFound(self._kind.label, record_id)
        return record

    def add(self, record: Any) -> Any:
        rows = self._rows
        self._check_scope(record)
        if record.id in rows:
            raise DuplicateRecord(self._kind.label, record.id)
        stored = attrs.evolve(record, version=1)
        rows[record.id] = stored
        self._uow.touch(self._kind.name, record.id)
        return stored

    def _current(self, record: Any) -> Any:
        rows = self._rows
        self._check_scope(record)
        current = rows.get(record.id)
        if current is None or not self._visible(current):
            raise NotFound(self._kind.label, record.id)
        if current.version != record.version:
            raise ConcurrencyConflict(self._kind.label, record.id, record.version)
        return current

    def update(self, record: Any) -> Any:
        self._current(record)
        stored = attrs.evolve(record, version=record.version + 1)
        self._rows[record.id] = stored
        self._uow.touch(self._kind.name, record.id)
        return stored

    def delete(self, record: Any) -> None:
        self._current(record)
        del self._rows[record.id]
        self._uow.touch(self._kind.name, record.id)

    def find(
        self,
        where: Where | None = None,
        *,
        order_by: Sequence[str] = ("id",),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Any]:
        for name in where or {}:
            if name not in self._fields:
                raise ValidationError(f"cannot filter on unknown field '{name}'", field=name)
        order = parse_order(order_by, self._fields)
        found = [r for r in self._rows.values() if self._visible(r) and matches(r, where)]
        ordered = sort_records(found, order)
        end = None if limit is None else offset + limit
        return ordered[offset:end]

    def count(self, where: Where | None = None) -> int:
        return len(self.find(where))

    def search(
        self,
        text: str,
        fields: Sequence[str],
        where: Where | None = None,
        *,
        order_by: Sequence[str] = ("id",),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Any]:
        for name in fields:
            if name not in self._fields:
                raise ValidationError(f"cannot search unknown field '{name}'", field=name)
        needle = text.lower()
        found = [
            r for r in self.find(where, order_by=order_by)
            if not needle or any(needle in str(getattr(r, n) or "").lower() for n in fields)
        ]
        end = None if limit is None else offset + limit
        return found[offset:end]

    def count_search(self, text: str, fields: Sequence[str], where: Where | None = None) -> int:
        return len(self.search(text, fields, where))


#: Repository classes with extra queries, by record kind (filled by ``memory_webhooks``).
SPECIALISED_REPOSITORIES: dict[str, type[_Repository]] = {}


class _UnitOfWork:
    partners: _Repository
    tenants: _Repository
    users: _Repository
    credentials: _Repository
    groups: _Repository
    group_memberships: _Repository
    refresh_tokens: _Repository
    signing_keys: _Repository
    tenant_billing_profiles: _Repository
    partner_configurations: _Repository
    audit_log: _Repository
    webhook_subscriptions: _Repository
    webhook_deliveries: MemoryDeliveries
    webhook_attempts: MemoryAttempts
    notifications: MemoryNotifications
    notification_reads: _Repository
    services: _Repository
    plans: _Repository
    service_packs: _Repository
    subscriptions: MemoryLifecycle
    pack_subscriptions: MemoryLifecycle
    metric_definitions: _Repository
    service_api_keys: _Repository
    metering: MemoryMetering
    outbox: MemoryOutbox

    def __init__(
        self, storage: MemoryStorage, tenant_id: str | None, cross_tenant: bool, *,
        quiet: bool = False,
    ) -> None:
        self._storage = storage
        self._quiet = quiet
        self.tenant_id = tenant_id
        self.cross_tenant = cross_tenant
        self._open = False
        self.work = _State()
        self._base = _State()
        self._dirty: set[tuple[str, str]] = set()
        self._dirty_outbox: set[int] = set()
        for kind in RECORD_KINDS:
            repository_type = SPECIALISED_REPOSITORIES.get(kind.name, _Repository)
            setattr(self, kind.name, repository_type(self, kind))
        self.outbox = MemoryOutbox(self)
        self.metering = _memory_metering.MemoryMetering(self, storage.metering_data)

    def ensure_open(self) -> None:
        if not self._open:
            raise StorageError("unit of work used outside its 'with' block")

    def touch(self, kind: str, record_id: str) -> None:
        self._dirty.add((kind, record_id))

    def touch_outbox(self, seq: int) -> None:
        self._dirty_outbox.add(seq)

    def __enter__(self) -> Self:
        self._base = self._storage.snapshot()
        self.work = _State()
        self.work.records = {name: dict(rows) for name, rows in self._base.records.items()}
        self.work.outbox = dict(self._base.outbox)
        self.work.keys = dict(self._base.keys)
        self._open = True
        return self

    def commit(self) -> None:
        self.ensure_open()
        info = self._storage.apply(self)
        self._reset()
        if not self._quiet:
            self._storage.listeners.notify(info)

    def rollback(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._dirty.clear()
        self._dirty_outbox.clear()
        self.outbox.appended.clear()
        self.metering.discard()
        base = self._storage.snapshot()
        self._base = base
        self.work.records = {name: dict(rows) for name, rows in base.records.items()}
        self.work.outbox = dict(base.outbox)
        self.work.keys = dict(base.keys)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._dirty.clear()
        self._dirty_outbox.clear()
        self.outbox.appended.clear()
        self.metering.discard()
        self._open = False

    # commit helpers, called by the storage under its lock
    def changes(
        self,
    ) -> tuple[set[tuple[str, str]], set[int], list[NewOutboxMessage], _State, _State]:
        return self._dirty, self._dirty_outbox, self.outbox.appended, self._base, self.work


class MemoryStorage:
    """Storage in process memory; data lives as long as the object."""

    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State()
        self.listeners = CommitListeners()
        self.metering_data = _memory_metering.MeteringData()

    def unit_of_work(
        self, *, tenant_id: str | None = None, cross_tenant: bool = False, quiet: bool = False
    ) -> _UnitOfWork:
        return _UnitOfWork(self, tenant_id, cross_tenant, quiet=quiet)

    def snapshot(self) -> _State:
        with self._lock:
            copy = _State()
            copy.records = {name: dict(rows) for name, rows in self._state.records.items()}
            copy.outbox = dict(self._state.outbox)
            copy.keys = dict(self._state.keys)
            copy.next_seq = self._state.next_seq
            return copy

    def apply(self, uow: _UnitOfWork) -> CommitInfo:
        dirty, dirty_outbox, appended, base, work = uow.changes()
        outbox_kinds: set[str] = set()
        with self._lock:
            state = self._state
            for kind, record_id in dirty:
                if state.records[kind].get(record_id) is not base.records[kind].get(record_id):
                    label = next(k.label for k in RECORD_KINDS if k.name == kind)
                    version = getattr(base.records[kind].get(record_id), "version", 0)
                    raise ConcurrencyConflict(label, record_id, version)
            for seq in dirty_outbox:
                if state.outbox.get(seq) is not base.outbox.get(seq):
                    raise ConcurrencyConflict("OutboxMessage", str(seq), 0)
            uow.metering.commit_locked()  # checks, then stores: nothing is applied yet
            for kind, record_id in dirty:
                if record_id in work.records[kind]:
                    state.records[kind][record_id] = work.records[kind][record_id]
                else:
                    state.records[kind].pop(record_id, None)
            for seq in dirty_outbox:
                if seq in work.outbox:
                    state.outbox[seq] = work.outbox[seq]
                else:
                    message = state.outbox.pop(seq)
                    state.keys.pop(message.key, None)
            for new in appended:
                if new.key in state.keys:
                    continue
                seq = state.next_seq
                state.next_seq += 1
                state.keys[new.key] = seq
                state.outbox[seq] = stored_message(seq, new)
                outbox_kinds.add(new.kind)
        return CommitInfo(
            outbox_kinds=frozenset(outbox_kinds), record_kinds=frozenset(k for k, _ in dirty)
        )

    def add_commit_listener(self, listener: CommitListener) -> None:
        self.listeners.add(listener)

    def remove_commit_listener(self, listener: CommitListener) -> None:
        self.listeners.remove(listener)

    def check(self) -> StorageStatus:
        return StorageStatus(reachable=True, schema_current=True, detail="in memory")

    @property
    def migrator(self) -> Migrator | None:
        return None

    def close(self) -> None:
        pass


def _memory_factory(config: StorageConfig) -> MemoryStorage:
    return MemoryStorage()


@hookimpl
def scaicontrol_register_storage_backends(register: RegisterStorage) -> None:
    register("memory", _memory_factory)


# registers the repositories of the webhook record kinds (imports this module back)
from . import memory_catalog as _memory_catalog  # noqa: E402, F401  (subscriptions, packs)
from . import memory_metering as _memory_metering  # noqa: E402  (usage, rollups)
from . import memory_webhooks as _memory_webhooks  # noqa: E402, F401

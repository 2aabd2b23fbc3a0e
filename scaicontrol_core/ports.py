"""The seams between the core and its adapters, as ``typing.Protocol`` classes.

Storage adapters implement :class:`Storage`; everything the core does to persistent state
goes through one :class:`UnitOfWork`, which rolls back unless :meth:`UnitOfWork.commit` is
called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, TypeVar

import attrs

from .identity_records import (
    AuditEntry,
    Credential,
    Group,
    GroupMembership,
    PartnerConfiguration,
    RefreshToken,
    SigningKey,
    TenantBillingProfile,
    User,
)
from .machines.outbox import OutboxStatus
from .records import NewOutboxMessage, OutboxMessage, Partner, Tenant

if TYPE_CHECKING:  # these protocols extend Repository, defined below
    from .catalog_records import PackSubscription, Plan, Service, ServicePack, Subscription
    from .commerce.store import LifecycleRepository
    from .metering.model import MetricDefinition, ServiceApiKey
    from .metering.store import MeteringStore
    from .notifications.model import NotificationRead, NotificationRepository
    from .webhooks.model import WebhookSubscription
    from .webhooks.store import AttemptRepository, DeliveryRepository

__all__ = [
    "CommitInfo",
    "CommitListener",
    "Migrator",
    "Outbox",
    "Repository",
    "Storage",
    "StorageConfig",
    "StorageFactory",
    "StorageStatus",
    "UnitOfWork",
    "Where",
]

R = TypeVar("R")

#: Equality filters by field name; a list, tuple or set value means "one of".
Where = Mapping[str, object]


class Repository(Protocol[R]):
    """Records of one kind. In a tenant-scoped unit of work, reads and writes of a
    tenant-scoped kind are confined to that tenant; a foreign id reads as missing."""

    def get(self, record_id: str) -> R | None: ...

    def require(self, record_id: str) -> R:
        """Like :meth:`get` but raises :class:`~scaicontrol_core.errors.NotFound`."""
        ...

    def add(self, record: R) -> R:
        """Insert; the stored copy (version 1) is returned. Raises ``DuplicateRecord``."""
        ...

    def update(self, record: R) -> R:
        """Save a changed record read at ``record.version``; returns it with the version bumped.

        Raises ``ConcurrencyConflict`` if the stored version differs, ``NotFound`` if gone.
        """
        ...

    def delete(self, record: R) -> None:
        """Remove a record read at ``record.version`` (same checks as :meth:`update`)."""
        ...

    def find(
        self,
        where: Where | None = None,
        *,
        order_by: Sequence[str] = ("id",),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[R]:
        """Records matching every filter; order names may start with ``-`` for descending."""
        ...

    def count(self, where: Where | None = None) -> int: ...

    def search(
        self,
        text: str,
        fields: Sequence[str],
        where: Where | None = None,
        *,
        order_by: Sequence[str] = ("id",),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[R]:
        """Like :meth:`find`, keeping only records where at least one of the string
        ``fields`` contains ``text``, ignoring case (an empty ``text`` keeps all)."""
        ...

    def count_search(self, text: str, fields: Sequence[str], where: Where | None = None) -> int:
        """How many records :meth:`search` would return without ``offset`` and ``limit``."""
        ...


class Outbox(Protocol):
    """Events and effects recorded with the change that caused them, leased by workers."""

    def append(self, message: NewOutboxMessage) -> bool:
        """Record ``message``; returns False (and stores nothing) if its key exists."""
        ...

    def claim(
        self,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        kinds: Sequence[str] | None = None,
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` due pending messages in ``seq`` order.

        A message is due when ``available_at <= now`` and it has no lease or its lease
        expired. Claiming bumps ``attempts``. Concurrent claimers never get the same row.
        """
        ...

    def complete(self, seq: int, *, owner: str, now: datetime) -> bool:
        """Mark done; False if ``owner`` no longer holds the lease."""
        ...

    def complete_many(self, seqs: Sequence[int], *, owner: str, now: datetime) -> list[int]:
        """Mark done every message in ``seqs`` that ``owner`` still holds; returns their
        seqs, in ascending order."""
        ...

    def retry(self, seq: int, *, owner: str, available_at: datetime, error: str) -> bool:
        """Release the lease and make the message due again at ``available_at``."""
        ...

    def give_up(self, seq: int, *, owner: str, now: datetime, error: str) -> bool:
        """Mark dead; kept for inspection and :meth:`revive`."""
        ...

    def revive(self, seq: int, *, now: datetime) -> bool:
        """Make a dead message pending again, due at ``now``."""
        ...

    def get(self, seq: int) -> OutboxMessage | None: ...

    def find(
        self,
        *,
        status: OutboxStatus | None = None,
        kinds: Sequence[str] | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[OutboxMessage]: ...

    def purge(self, *, finished_before: datetime) -> int:
        """Delete done messages finished before the given instant; returns how many."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the ``with`` block without :meth:`commit` rolls back."""

    @property
    def tenant_id(self) -> str | None:
        """The tenant this unit of work is confined to, if any."""
        ...

    @property
    def partners(self) -> Repository[Partner]: ...

    @property
    def tenants(self) -> Repository[Tenant]: ...

    @property
    def users(self) -> Repository[User]: ...

    @property
    def credentials(self) -> Repository[Credential]: ...

    @property
    def groups(self) -> Repository[Group]: ...

    @property
    def group_memberships(self) -> Repository[GroupMembership]: ...

    @property
    def refresh_tokens(self) -> Repository[RefreshToken]: ...

    @property
    def signing_keys(self) -> Repository[SigningKey]: ...

    @property
    def tenant_billing_profiles(self) -> Repository[TenantBillingProfile]:
        """Tenant-scoped: needs a unit of work opened for a tenant, or ``cross_tenant``."""
        ...

    @property
    def partner_configurations(self) -> Repository[PartnerConfiguration]: ...

    @property
    def audit_log(self) -> Repository[AuditEntry]: ...

    @property
    def webhook_subscriptions(self) -> Repository[WebhookSubscription]: ...

    @property
    def webhook_deliveries(self) -> DeliveryRepository: ...

    @property
    def webhook_attempts(self) -> AttemptRepository: ...

    @property
    def notifications(self) -> NotificationRepository:
        """Tenant-scoped: needs a unit of work opened for a tenant, or ``cross_tenant``."""
        ...

    @property
    def notification_reads(self) -> Repository[NotificationRead]:
        """Tenant-scoped: needs a unit of work opened for a tenant, or ``cross_tenant``."""
        ...

    @property
    def services(self) -> Repository[Service]: ...

    @property
    def plans(self) -> Repository[Plan]: ...

    @property
    def service_packs(self) -> Repository[ServicePack]: ...

    @property
    def subscriptions(self) -> LifecycleRepository[Subscription]:
        """Tenant-scoped: needs a unit of work opened for a tenant, or ``cross_tenant``."""
        ...

    @property
    def pack_subscriptions(self) -> LifecycleRepository[PackSubscription]:
        """Tenant-scoped: needs a unit of work opened for a tenant, or ``cross_tenant``."""
        ...

    @property
    def metric_definitions(self) -> Repository[MetricDefinition]: ...

    @property
    def service_api_keys(self) -> Repository[ServiceApiKey]: ...

    @property
    def metering(self) -> MeteringStore:
        """Usage events and rollups; tenant-scoped like the tenant-scoped kinds."""
        ...

    @property
    def outbox(self) -> Outbox: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@attrs.frozen(kw_only=True)
class StorageStatus:
    """Readiness of a storage backend."""

    reachable: bool
    schema_current: bool
    detail: str = ""

    @property
    def ready(self) -> bool:
        return self.reachable and self.schema_current


class Migrator(Protocol):
    """Schema migrations of a backend that has a schema."""

    def current(self) -> str | None: ...

    def head(self) -> str: ...

    def upgrade(self, target: str = "head") -> None: ...

    def downgrade(self, target: str) -> None: ...


@attrs.frozen(kw_only=True)
class CommitInfo:
    """What a committed unit of work changed: kinds of the outbox messages it appended and
    names of the record kinds it wrote (see :data:`~scaicontrol_core.schema.RECORD_KINDS`)."""

    outbox_kinds: frozenset[str] = frozenset()
    record_kinds: frozenset[str] = frozenset()


#: Called after a commit that changed something; must be quick and must not raise.
CommitListener = Callable[[CommitInfo], None]


class Storage(Protocol):
    """A storage backend: hands out units of work and reports its readiness."""

    name: str

    def unit_of_work(
        self, *, tenant_id: str | None = None, cross_tenant: bool = False, quiet: bool = False
    ) -> UnitOfWork:
        """Open a unit of work.

        With ``tenant_id``, tenant-scoped kinds are confined to that tenant. Without it,
        using a tenant-scoped kind raises ``TenantScopeRequired`` unless ``cross_tenant``
        says the caller (an admin handler that checked access, or a worker) may see all.
        A ``quiet`` unit of work tells no commit listener of its commits, in this process
        or another: for a worker's own bookkeeping, which would only wake the worker itself.
        """
        ...

    def check(self) -> StorageStatus: ...

    @property
    def migrator(self) -> Migrator | None: ...

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Call ``listener`` after every commit that appended outbox messages or wrote
        records (in any thread; on PostgreSQL also for commits of other processes).
        Workers use it to start on new work without waiting for their next tick."""
        ...

    def remove_commit_listener(self, listener: CommitListener) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        ...

    def close(self) -> None: ...


@attrs.frozen(kw_only=True)
class StorageConfig:
    """What a storage factory is given: the database URL and free-form options."""

    url: str
    options: Mapping[str, str] = attrs.field(factory=dict)


StorageFactory = Callable[[StorageConfig], Storage]

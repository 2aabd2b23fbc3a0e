"""A unit of work: one connection and one transaction per ``with`` block."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from types import TracebackType
from typing import Any, Self, TypeVar

import cattrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable

from scaicontrol_core.catalog_records import (
    PackSubscription,
    Plan,
    Service,
    ServicePack,
    Subscription,
)
from scaicontrol_core.commerce.store import LifecycleRepository
from scaicontrol_core.errors import StorageError
from scaicontrol_core.identity_records import (
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
from scaicontrol_core.metering.model import MetricDefinition, ServiceApiKey
from scaicontrol_core.notifications.model import NotificationRead, NotificationRepository
from scaicontrol_core.ports import Outbox, Repository
from scaicontrol_core.records import Partner, Tenant
from scaicontrol_core.schema import RECORD_KINDS, RecordKind
from scaicontrol_core.webhooks.model import WebhookSubscription
from scaicontrol_core.webhooks.store import AttemptRepository, DeliveryRepository

from .commits import ChangeTracker, CommitHooks
from .dialects import insert_unless_exists, locks_rows, translate_error, translated_errors
from .metering import SqlMetering
from .outbox import SqlOutbox
from .repositories import SqlRepository
from .tables import outbox as outbox_table
from .tables import table_for

__all__ = ["SPECIALISED_REPOSITORIES", "SqlUnitOfWork"]

T = TypeVar("T")

#: Opens a connection for the unit of work (see ``SqlAlchemyStorage.connection``).
ConnectionOpener = Callable[[], AbstractContextManager[Connection]]

#: Repository classes with extra queries, by record kind (filled by the capability modules
#: imported at the end of this module).
SPECIALISED_REPOSITORIES: dict[str, type[SqlRepository[Any]]] = {}


class SqlUnitOfWork:
    """Repositories and the outbox over one transaction; rolls back unless committed."""

    tenant_id: str | None
    partners: Repository[Partner]
    tenants: Repository[Tenant]
    users: Repository[User]
    credentials: Repository[Credential]
    groups: Repository[Group]
    group_memberships: Repository[GroupMembership]
    refresh_tokens: Repository[RefreshToken]
    signing_keys: Repository[SigningKey]
    tenant_billing_profiles: Repository[TenantBillingProfile]
    partner_configurations: Repository[PartnerConfiguration]
    audit_log: Repository[AuditEntry]
    services: Repository[Service]
    plans: Repository[Plan]
    service_packs: Repository[ServicePack]
    subscriptions: LifecycleRepository[Subscription]
    pack_subscriptions: LifecycleRepository[PackSubscription]
    webhook_subscriptions: Repository[WebhookSubscription]
    webhook_deliveries: DeliveryRepository
    webhook_attempts: AttemptRepository
    notifications: NotificationRepository
    notification_reads: Repository[NotificationRead]
    metric_definitions: Repository[MetricDefinition]
    service_api_keys: Repository[ServiceApiKey]
    metering: SqlMetering
    outbox: Outbox

    def __init__(
        self,
        connect: ConnectionOpener,
        converter: cattrs.Converter,
        *,
        tenant_id: str | None,
        cross_tenant: bool,
        hooks: CommitHooks | None = None,
    ) -> None:
        self._connect = connect
        self._hooks = hooks
        self._changes = ChangeTracker()
        self.converter = converter
        self.tenant_id = tenant_id
        self.cross_tenant = cross_tenant
        self._connection: Connection | None = None
        self._exit_stack = ExitStack()
        self.outbox = SqlOutbox(self, outbox_table)
        self.metering = SqlMetering(self)

    # --- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise StorageError("unit of work is already open")
        with ExitStack() as stack:
            connection = stack.enter_context(self._connect())
            with translated_errors():
                connection.begin()  # on SQLite this takes the write lock (BEGIN IMMEDIATE)
            self._changes.clear()
            self._exit_stack = stack.pop_all()
        self._connection = connection
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None and connection.in_transaction():
                connection.rollback()
        except SQLAlchemyError as error:
            if exc is None:  # do not hide the exception that ended the block
                raise translate_error(error) from error
        finally:
            self._exit_stack.close()

    def commit(self) -> None:
        """Commit; later work in the same block runs in a new transaction."""
        connection = self.connection
        info = self._changes.take()
        with translated_errors():
            if self._hooks is not None:
                self._hooks.before_commit(connection, info)
            connection.commit()
        if self._hooks is not None:
            self._hooks.after_commit(info)

    def rollback(self) -> None:
        """Discard the work since the block began or since the last commit."""
        self._changes.clear()
        if self._connection is not None:
            with translated_errors():
                self._connection.rollback()

    # --- used by the repositories and the outbox -----------------------------------------

    @property
    def connection(self) -> Connection:
        """The open connection; using the unit of work outside its block is an error."""
        if self._connection is None:
            raise StorageError("unit of work used outside its 'with' block")
        return self._connection

    def ensure_open(self) -> None:
        self.connection  # noqa: B018 - raises when closed

    @property
    def locks_rows(self) -> bool:
        return locks_rows(self.connection)

    def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> CursorResult[Any]:
        """Run one statement (with bound values), or one per parameter set
        (``executemany``)."""
        connection = self.connection
        self._changes.note_statement(statement)
        with translated_errors():
            return connection.execute(statement, parameters)

    def note_write(self, table: sa.Table) -> None:
        """Record that ``table`` is written by a statement run on the connection directly."""
        self._changes.note_table(table.name)

    def insert_unless_exists(
        self, table: sa.Table, values: Mapping[str, Any], unique_column: str
    ) -> bool:
        connection = self.connection
        with translated_errors():
            inserted = insert_unless_exists(connection, table, values, unique_column)
        if inserted:
            self._changes.note_insert(table, values, outbox_table)
        return inserted

    def structure(self, row: Mapping[Any, Any], record_type: type[T]) -> T:
        """Build a record from a row through the converter; bad stored data is an error."""
        try:
            return self.converter.structure(dict(row), record_type)
        except Exception as exc:
            raise StorageError(
                f"a stored {record_type.__name__} cannot be read: {exc}"
            ) from exc


class _LazyRepository:
    """Builds a kind's repository on first use in a unit of work (most use only a few)."""

    def __init__(self, kind: RecordKind) -> None:
        self._kind = kind

    def __get__(self, uow: SqlUnitOfWork | None, owner: type[Any]) -> Any:
        if uow is None:
            return self
        kind = self._kind
        repository_type = SPECIALISED_REPOSITORIES.get(kind.name, SqlRepository)
        repository = repository_type(uow, kind, table_for(kind))
        uow.__dict__[kind.name] = repository  # later lookups skip the descriptor
        return repository


for _kind in RECORD_KINDS:
    setattr(SqlUnitOfWork, _kind.name, _LazyRepository(_kind))


# registers the repositories of the catalog record kinds (imports this module back)
from . import repositories_catalog as _repositories_catalog  # noqa: E402, F401
from . import repositories_webhooks as _repositories_webhooks  # noqa: E402, F401

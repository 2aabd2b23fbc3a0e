"""Building and running the application: plugins, storage lifecycle, probes and workers."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import attrs
import pytest
from aiohttp import web

from scaicontrol_core.errors import UnknownPlugin
from scaicontrol_core.hookspecs import RegisterStorage, hookimpl
from scaicontrol_core.ports import StorageConfig, StorageStatus
from scaicontrol_server import build_app, create_app
from scaicontrol_server.api import PUBLIC, Endpoint, ResponseKind
from scaicontrol_server.keys import STORAGE
from scaicontrol_server.settings import Settings
from scaicontrol_server.workers import workers_context

Serving = Callable[[web.Application], AbstractContextManager[Any]]


class FakeMigrator:
    """Records upgrades and the thread they ran on."""

    def __init__(self) -> None:
        self.upgrades: list[str] = []
        self.threads: list[int] = []

    def current(self) -> str | None:
        return None

    def head(self) -> str:
        return "002"

    def upgrade(self, target: str = "head") -> None:
        self.upgrades.append(target)
        self.threads.append(threading.get_ident())

    def downgrade(self, target: str) -> None:
        raise NotImplementedError


class FakeStorage:
    """A storage whose readiness is set by the test; it records being closed."""

    name = "fake"

    def __init__(self, status: StorageStatus | Exception) -> None:
        self.status = status
        self.closed = False
        self.fake_migrator = FakeMigrator()

    def unit_of_work(
        self, *, tenant_id: str | None = None, cross_tenant: bool = False, quiet: bool = False
    ) -> Any:
        raise NotImplementedError

    def check(self) -> StorageStatus:
        if isinstance(self.status, Exception):
            raise self.status
        return self.status

    @property
    def migrator(self) -> FakeMigrator:
        return self.fake_migrator

    def close(self) -> None:
        self.closed = True


@attrs.define
class FakeStoragePlugin:
    """Registers the 'fake' backend, handing out one prepared FakeStorage."""

    storage: FakeStorage
    configs: list[StorageConfig] = attrs.field(factory=list)

    @hookimpl
    def scaicontrol_register_storage_backends(self, register: RegisterStorage) -> None:
        def factory(config: StorageConfig) -> FakeStorage:
            self.configs.append(config)
            return self.storage

        register("fake", factory)


READY = StorageStatus(reachable=True, schema_current=True, detail="all good")
FAKE = Settings(database_url="fake://db", storage_backend="fake", workers_enabled=False)


def test_nothing_is_opened_before_start(settings: Settings, plugins: list[object]) -> None:
    """create_app builds routes and services but opens no storage until the app starts."""
    app = create_app(settings, plugins=plugins)
    assert STORAGE not in app
    assert len(app.cleanup_ctx) == 2  # storage, then the identity provider


def test_storage_is_opened_on_start_and_closed_on_cleanup(serving: Serving) -> None:
    """The storage factory gets the database URL; close() runs when the app stops."""
    fake = FakeStorage(READY)
    plugin = FakeStoragePlugin(fake)
    with serving(create_app(FAKE, plugins=[plugin])) as running:
        assert running.app[STORAGE] is fake
        assert not fake.closed
    assert fake.closed
    assert plugin.configs == [StorageConfig(url="fake://db")]


@pytest.mark.parametrize("auto_migrate", [True, False])
def test_auto_migrate_upgrades_in_a_thread(serving: Serving, auto_migrate: bool) -> None:
    """With auto_migrate the schema is upgraded to head off the event loop; else not at all."""
    fake = FakeStorage(READY)
    settings = attrs.evolve(FAKE, auto_migrate=auto_migrate)
    with serving(create_app(settings, plugins=[FakeStoragePlugin(fake)])):
        pass
    assert fake.fake_migrator.upgrades == (["head"] if auto_migrate else [])
    assert threading.get_ident() not in fake.fake_migrator.threads


def test_unknown_storage_backend_fails_start_up(serving: Serving, plugins: list[object]) -> None:
    """Settings naming a backend nobody registered stop the app from starting."""
    settings = Settings(database_url="x://", storage_backend="nope", workers_enabled=False)
    with pytest.raises(UnknownPlugin, match="available: memory"), serving(
        create_app(settings, plugins=plugins)
    ):
        pass


def test_entry_points_are_loaded_when_no_plugins_are_given(serving: Serving) -> None:
    """plugins=None loads the installed entry points, minus the disabled ones."""
    settings = Settings(database_url="memory://", workers_enabled=False,
                        disabled_plugins=("sqlalchemy",))
    app = create_app(settings)
    with serving(app) as running:
        assert running.get("/readyz").json()["checks"]["storage"]["detail"] == "in memory"
    from scaicontrol_server.keys import PLUGINS

    assert "sqlalchemy" not in app[PLUGINS].names()
    assert "memory" in app[PLUGINS].names()


def test_workers_context_follows_the_setting(settings: Settings, plugins: list[object]) -> None:
    """The workers cleanup context is attached only when workers are enabled."""
    on = create_app(attrs.evolve(settings, workers_enabled=True), plugins=plugins)
    off = create_app(settings, plugins=plugins)
    assert list(on.cleanup_ctx)[-1] is workers_context
    assert workers_context not in list(off.cleanup_ctx)


def test_app_with_workers_starts_and_stops(
    settings: Settings, plugins: list[object], serving: Serving
) -> None:
    """With workers on, storage is open before they start and the app stops cleanly."""
    app = create_app(attrs.evolve(settings, workers_enabled=True), plugins=plugins)
    with serving(app) as running:
        assert running.get("/healthz").status == 200


def test_healthz_is_always_ok(client: Any) -> None:
    """/healthz answers 200 {"status": "ok"}."""
    reply = client.get("/healthz")
    assert (reply.status, reply.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_with_memory_storage(client: Any) -> None:
    """/readyz reports ready with the storage check's outcome."""
    reply = client.get("/readyz")
    assert reply.status == 200
    assert reply.json() == {
        "status": "ready",
        "checks": {"storage": {"ready": True, "reachable": True, "schema_current": True,
                               "detail": "in memory"}},
    }


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (StorageStatus(reachable=True, schema_current=False, detail="at 001, head 002"),
         "at 001, head 002"),
        (StorageStatus(reachable=False, schema_current=False, detail="refused"), "refused"),
        (RuntimeError("boom"), "check failed: RuntimeError"),
    ],
)
def test_readyz_is_503_when_storage_is_not_ready(
    serving: Serving, status: StorageStatus | Exception, detail: str
) -> None:
    """An unready or failing storage check makes /readyz answer 503 not_ready with why."""
    with serving(create_app(FAKE, plugins=[FakeStoragePlugin(FakeStorage(status))])) as running:
        reply = running.get("/readyz")
    assert reply.status == 503
    body = reply.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["storage"]["ready"] is False
    assert body["checks"]["storage"]["detail"] == detail


def test_importing_the_package_loads_no_web_framework() -> None:
    """`import scaicontrol_server` stays light: aiohttp loads only when create_app is used."""
    script = "import sys, scaicontrol_server; print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


async def _nothing(call: Any) -> None:
    return None


def test_duplicate_routes_and_operation_ids_are_refused(
    settings: Settings, plugins: list[object]
) -> None:
    """Two endpoints on one method and path, or sharing an operation id, fail the build."""
    one = Endpoint(method="POST", path="/x", handler=_nothing, access=PUBLIC,
                   kind=ResponseKind.EMPTY)
    same_id = Endpoint(method="POST", path="/y", handler=_nothing, access=PUBLIC,
                       kind=ResponseKind.EMPTY, operation_id=one.operation_id)
    with pytest.raises(ValueError, match="declared twice"):
        build_app(settings, endpoints=[one, one], plugins=plugins)
    with pytest.raises(ValueError, match="used twice"):
        build_app(settings, endpoints=[one, same_id], plugins=plugins)


@attrs.frozen
class Unsupported:
    value: str | int


def test_schemas_the_converter_cannot_handle_fail_the_build(
    settings: Settings, plugins: list[object]
) -> None:
    """A body schema cattrs cannot structure is refused at build time, not at request time."""
    endpoint = Endpoint(method="POST", path="/x", handler=_nothing, access=PUBLIC,
                        body_schema=Unsupported, kind=ResponseKind.EMPTY)
    with pytest.raises(Exception, match="Unsupported type"):
        build_app(settings, endpoints=[endpoint], plugins=plugins)

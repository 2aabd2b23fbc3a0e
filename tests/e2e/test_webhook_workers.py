"""Real ``scaicontrol worker`` processes delivering webhooks: a SIGKILL mid-batch loses
nothing, and several workers on one PostgreSQL database share the work.

The receiver runs in this test process; events are recorded straight into the database;
the workers are subprocesses started exactly as an operator would start them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy")

from aiohttp import web

from scaicontrol_adapters.storage.sqlalchemy.storage import SqlAlchemyStorage
from scaicontrol_adapters.storage.sqlalchemy.tables import metadata
from scaicontrol_core.events import Topic, outbox_message
from scaicontrol_core.ids import RandomIds
from scaicontrol_core.machines.delivery import DeliveryStatus
from scaicontrol_core.machines.outbox import OutboxStatus
from scaicontrol_core.ports import StorageConfig
from scaicontrol_core.webhooks import UrlPolicy
from scaicontrol_core.webhooks.admin import NewSubscription, create_subscription
from scaicontrol_core.webhooks.samples import sample_event

from .helpers import cli

LOCAL = UrlPolicy(allow_http=True, allowlist=("127.0.0.1",))


class CountingReceiver:
    """Counts deliveries per event id; each answer takes ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.arrivals: list[tuple[str, float]] = []
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        event_id = request.headers.get("X-ScaiControl-Event-Id")
        if event_id is None:
            return web.Response(status=404)  # a stray request, not a delivery
        self.arrivals.append((event_id, time.monotonic()))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=204)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> CountingReceiver:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def counts(self) -> Counter[str]:
        return Counter(event_id for event_id, _ in list(self.arrivals))

    def wait_until(self, event_ids: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not event_ids <= set(self.counts()):
            missing = len(event_ids - set(self.counts()))
            assert time.monotonic() < deadline, f"{missing} events never arrived"
            time.sleep(0.05)


@pytest.fixture
def storage(database_url: str) -> Iterator[SqlAlchemyStorage]:
    """The database under test, migrated and emptied."""
    storage = SqlAlchemyStorage.from_config(StorageConfig(url=database_url))
    storage.migrator.upgrade()
    with storage.connection() as connection, connection.begin():
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    yield storage
    storage.close()


def seed(storage: SqlAlchemyStorage, port: int, count: int) -> set[str]:
    """One subscription for every topic at the receiver, and ``count`` events."""
    now, ids = datetime.now(UTC), RandomIds()
    with storage.unit_of_work() as uow:
        create_subscription(uow, NewSubscription(name="e2e", target_url=f"http://127.0.0.1:"
                                                 f"{port}/hook", topics=["*"]),
                            policy=LOCAL, now=now, ids=ids, random_bytes=os.urandom(32))
        uow.commit()
    event_ids: set[str] = set()
    for start in range(0, count, 500):
        with storage.unit_of_work() as uow:
            for _ in range(start, min(count, start + 500)):
                envelope = sample_event(Topic.SUBSCRIPTION_CHANGED, now=now, ids=ids)
                uow.outbox.append(outbox_message(envelope))
                event_ids.add(envelope.event_id)
            uow.commit()
    return event_ids


def start_worker(database_url: str, cwd: Path, **settings: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAICONTROL_", "DATABASE"))}
    env.update({
        "DATABASE_URL": database_url,
        "SCAICONTROL_WEBHOOK_ALLOW_HTTP": "true",
        "SCAICONTROL_WEBHOOK_ALLOWLIST": "127.0.0.1",
        "SCAICONTROL_LOG_LEVEL": "WARNING",
        **{f"SCAICONTROL_{k.upper()}": v for k, v in settings.items()},
    })
    process = subprocess.Popen([*cli(), "worker"], env=env, cwd=cwd, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "worker running" in line, line + process.stdout.read()
    return process


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def delivery_counts(storage: SqlAlchemyStorage) -> Mapping[str, int]:
    with storage.unit_of_work() as uow:
        return {
            "dispatched": uow.webhook_deliveries.count({"status": DeliveryStatus.DISPATCHED}),
            "deliveries": uow.webhook_deliveries.count(),
            "attempts": uow.webhook_attempts.count(),
        }


def test_a_worker_killed_mid_batch_loses_nothing(
    storage: SqlAlchemyStorage, database_url: str, tmp_path: Path
) -> None:
    """SIGKILL while POSTs are in flight; after a restart every event arrives, and only
    those the killed worker had sent but not recorded arrive twice."""
    with CountingReceiver(delay=0.2) as receiver:
        event_ids = seed(storage, receiver.port, 150)
        first = start_worker(database_url, tmp_path, webhook_concurrency="8",
                             webhook_lease_seconds="20", webhook_tick_seconds="1")
        deadline = time.monotonic() + 60
        while len(receiver.arrivals) < 30:
            assert first.poll() is None and time.monotonic() < deadline, stop(first)
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        stop(first)  # reaps the killed process and closes its pipe
        killed_at = time.monotonic()
        sent_before = {e for e, at in list(receiver.arrivals) if at <= killed_at}
        with storage.unit_of_work() as uow:
            in_flight = uow.outbox.find(status=OutboxStatus.PENDING, limit=1000)
        assert in_flight  # the kill really happened mid-batch: events are still leased
        second = start_worker(database_url, tmp_path, webhook_concurrency="8",
                              webhook_lease_seconds="20", webhook_tick_seconds="1")
        try:
            receiver.wait_until(event_ids, timeout=90)
            deadline = time.monotonic() + 30
            while delivery_counts(storage)["dispatched"] < len(event_ids):
                assert time.monotonic() < deadline, delivery_counts(storage)
                time.sleep(0.1)
        finally:
            stop(second)
        counts = receiver.counts()
    twice = {event_id for event_id, n in counts.items() if n > 1}
    print(f"\ncrash test: {len(event_ids)} events, {sum(counts.values())} POSTs received, "
          f"{len(twice)} delivered twice (in flight at the kill), {delivery_counts(storage)}")
    assert set(counts) == event_ids
    assert twice <= sent_before and max(counts.values()) <= 2
    assert delivery_counts(storage)["deliveries"] == len(event_ids)


@pytest.mark.skipif(
    not os.environ.get("SCAICONTROL_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="several worker processes on one database: run on PostgreSQL",
)
def test_three_workers_share_five_thousand_events(
    storage: SqlAlchemyStorage, database_url: str, tmp_path: Path
) -> None:
    """Three workers deliver 5,000 events: each at least once, none twice (no lease expires
    here), and the work is spread over the workers."""
    with CountingReceiver(delay=0.0) as receiver:
        workers = [start_worker(database_url, tmp_path, webhook_concurrency="32")
                   for _ in range(3)]
        try:
            started = time.monotonic()
            event_ids = seed(storage, receiver.port, 5000)
            receiver.wait_until(event_ids, timeout=300)
            elapsed = time.monotonic() - started
            deadline = time.monotonic() + 60
            while delivery_counts(storage)["dispatched"] < len(event_ids):
                assert time.monotonic() < deadline, delivery_counts(storage)
                time.sleep(0.1)
        finally:
            outputs = [stop(worker) for worker in workers]
        counts = receiver.counts()
    with storage.unit_of_work() as uow:
        per_worker = Counter(a.worker for a in uow.webhook_attempts.find())
    twice = sum(1 for n in counts.values() if n > 1)
    print(f"\nthree workers: {len(event_ids)} events in {elapsed:.1f} s, "
          f"{sum(counts.values())} POSTs, {twice} duplicates, attempts per worker "
          f"{sorted(per_worker.values())}")
    assert set(counts) == event_ids, outputs
    assert twice == 0 and sum(per_worker.values()) == len(event_ids)
    assert len(per_worker) == 3


def test_worker_once_delivers_and_exits(
    storage: SqlAlchemyStorage, database_url: str, tmp_path: Path
) -> None:
    """``scaicontrol worker --once`` (cron mode) fans out, delivers and records every event
    before it exits."""
    with CountingReceiver(delay=0.0) as receiver:
        event_ids = seed(storage, receiver.port, 12)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SCAICONTROL_", "DATABASE"))}
        env.update({"DATABASE_URL": database_url, "SCAICONTROL_WEBHOOK_ALLOW_HTTP": "true",
                    "SCAICONTROL_WEBHOOK_ALLOWLIST": "127.0.0.1"})
        done = subprocess.run([*cli(), "worker", "--once"], env=env, cwd=tmp_path, text=True,
                              capture_output=True, timeout=120)
        counts = receiver.counts()
    assert done.returncode == 0, done.stderr
    assert "webhook-fanout: 12" in done.stdout
    assert set(counts) == event_ids and set(counts.values()) == {1}
    assert delivery_counts(storage)["dispatched"] == 12

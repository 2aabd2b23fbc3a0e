"""The worker runner: draining, waking, surviving failures, and starting with the app."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from scaicontrol_adapters.storage import memory
from scaicontrol_core.clock import ManualClock
from scaicontrol_core.records import NewOutboxMessage
from scaicontrol_server import create_app
from scaicontrol_server.keys import STORAGE
from scaicontrol_server.settings import Settings
from scaicontrol_server.workers import RUNNER, Job, WorkerRunner

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def _until(condition: object, timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout)


def test_a_job_with_work_runs_again_at_once() -> None:
    """A job that reports work is re-run without waiting for its (long) interval."""
    batches = [3, 2, 1, 0]
    seen: list[datetime] = []

    def run(now: datetime) -> int:
        seen.append(now)
        return batches.pop(0) if batches else 0

    async def scenario() -> None:
        runner = WorkerRunner([Job(name="drain", interval=3600, run=run)], ManualClock(NOW))
        runner.start()
        await _until(lambda: len(seen) >= 4)
        await runner.stop()

    asyncio.run(scenario())
    assert batches == [] and seen[0] == NOW


def test_open_readies_jobs_before_their_first_batch() -> None:
    """``WorkerRunner.open`` awaits each job's ``open`` hook, before any batch runs."""
    events: list[str] = []

    async def ready() -> None:
        await asyncio.sleep(0.01)
        events.append("open")

    def run(now: datetime) -> int:
        events.append("run")
        return 0

    async def scenario() -> None:
        runner = WorkerRunner([Job(name="readied", interval=3600, run=run, open=ready),
                               Job(name="plain", interval=3600, run=lambda now: 0)],
                              ManualClock(NOW))
        await runner.open()
        assert events == ["open"]
        runner.start()
        await _until(lambda: "run" in events)
        await runner.stop()

    asyncio.run(scenario())
    assert events == ["open", "run"]


def test_wake_runs_an_idle_job_immediately() -> None:
    """wake() cuts an idle job's sleep short."""
    calls: list[int] = []

    def idle(now: datetime) -> int:
        calls.append(1)
        return 0

    async def scenario() -> None:
        runner = WorkerRunner([Job(name="idle", interval=3600, run=idle)], ManualClock(NOW))
        runner.start()
        await _until(lambda: len(calls) == 1)
        runner.wake("idle")
        await _until(lambda: len(calls) == 2)
        runner.wake("nonexistent")  # ignored
        await runner.stop()

    asyncio.run(scenario())
    assert len(calls) == 2


def test_a_failing_job_is_retried_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    """An exception is logged, counted, and the job runs again after the pause."""
    attempts: list[int] = []

    def flaky(now: datetime) -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("database went away")
        return 0

    async def scenario() -> WorkerRunner:
        runner = WorkerRunner([Job(name="flaky", interval=3600, run=flaky)], ManualClock(NOW),
                              error_pause=0.01)
        runner.start()
        await _until(lambda: len(attempts) >= 3)
        await runner.stop()
        return runner

    runner = asyncio.run(scenario())
    assert runner.failures["flaky"] == 2 and runner.runs["flaky"] == 1
    assert "job flaky failed" in caplog.text


def test_stop_waits_for_a_running_batch() -> None:
    """stop() lets a batch in progress finish instead of abandoning it."""
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow(now: datetime) -> int:
        started.set()
        release.wait(5)
        finished.set()
        return 0

    async def scenario() -> None:
        runner = WorkerRunner([Job(name="slow", interval=3600, run=slow)], ManualClock(NOW))
        runner.start()
        await asyncio.to_thread(started.wait, 5)
        stopping = asyncio.create_task(runner.stop())
        await asyncio.sleep(0.05)
        assert not stopping.done()
        release.set()
        await stopping

    asyncio.run(scenario())
    assert finished.is_set()


def test_job_names_must_be_unique() -> None:
    """Two jobs with one name are refused."""
    job = Job(name="same", interval=1, run=lambda now: 0)
    with pytest.raises(ValueError):
        WorkerRunner([job, job], ManualClock(NOW))


def test_workers_start_with_the_app_and_purge_old_messages() -> None:
    """With workers enabled, the housekeeping job runs at start-up against the app's storage."""
    from aiohttp.test_utils import TestClient, TestServer

    settings = Settings(database_url="memory://", outbox_retention_days=1)
    clock = ManualClock(NOW)
    app = create_app(settings, plugins=[memory], clock=clock)

    async def scenario() -> list[str]:
        async with TestClient(TestServer(app)):
            storage = app[STORAGE]
            with storage.unit_of_work() as uow:
                uow.outbox.append(NewOutboxMessage(kind="event", topic="t", key="old", payload={},
                                                   created_at=NOW - timedelta(days=5)))
                uow.commit()
            with storage.unit_of_work() as uow:
                [m] = uow.outbox.claim(owner="t", now=NOW, lease=timedelta(seconds=5), limit=1)
                uow.outbox.complete(m.seq, owner="t", now=NOW - timedelta(days=3))
                uow.commit()
            runner = app[RUNNER]
            before = runner.runs["outbox-housekeeping"]
            runner.wake("outbox-housekeeping")
            await _until(lambda: runner.runs["outbox-housekeeping"] > before)
            with storage.unit_of_work() as uow:
                return [m.key for m in uow.outbox.find()]

    assert asyncio.run(scenario()) == []

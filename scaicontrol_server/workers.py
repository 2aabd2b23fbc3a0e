"""Background workers: each job is a sync function of ``now`` run in a thread on a loop.

A job sleeps for its interval (the safety net) but can be woken at once with
:meth:`WorkerRunner.wake`, for example right after a commit that queued work for it. A job
that reports work done runs again immediately, so a backlog drains without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta

import attrs
from aiohttp import web

from scaicontrol_core.clock import Clock
from scaicontrol_core.housekeeping import purge_finished_outbox
from scaicontrol_core.ports import Storage

from .keys import CLOCK, SETTINGS, STORAGE
from .settings import Settings

__all__ = ["RUNNER", "Job", "WorkerRunner", "build_jobs", "workers_context"]

log = logging.getLogger("scaicontrol.workers")


@attrs.frozen(kw_only=True)
class Job:
    """``run(now)`` does one batch and returns how many items it handled."""

    name: str
    interval: float
    run: Callable[[datetime], int]


class WorkerRunner:
    """Runs jobs concurrently until :meth:`stop`; a failing job is retried after a pause."""

    def __init__(self, jobs: Sequence[Job], clock: Clock, *, error_pause: float = 5.0) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.jobs = {job.name: job for job in jobs}
        self.clock = clock
        self.error_pause = error_pause
        self.runs: dict[str, int] = dict.fromkeys(self.jobs, 0)
        self.failures: dict[str, int] = dict.fromkeys(self.jobs, 0)
        self._wakeups: dict[str, asyncio.Event] = {}
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start one task per job on the running loop."""
        for name in self.jobs:
            self._wakeups[name] = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._loop(name), name=f"job:{name}"))

    def wake(self, name: str) -> None:
        """Run job ``name`` now instead of at its next tick (no-op before start)."""
        event = self._wakeups.get(name)
        if event is not None:
            event.set()

    async def stop(self) -> None:
        """Let running batches finish, then end every loop."""
        self._stopping.set()
        for event in self._wakeups.values():
            event.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _loop(self, name: str) -> None:
        job = self.jobs[name]
        wakeup = self._wakeups[name]
        while not self._stopping.is_set():
            wakeup.clear()
            try:
                handled = await asyncio.to_thread(job.run, self.clock.now())
            except Exception:
                self.failures[name] += 1
                log.exception("job %s failed; retrying in %.0f s", name, self.error_pause)
                delay = self.error_pause
            else:
                self.runs[name] += 1
                delay = 0.0 if handled else job.interval
            if delay and not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), timeout=delay)


def build_jobs(storage: Storage, settings: Settings) -> list[Job]:
    """The jobs every deployment runs."""
    retention = timedelta(days=settings.outbox_retention_days)

    def housekeeping(now: datetime) -> int:
        with storage.unit_of_work(cross_tenant=True) as uow:
            purged = purge_finished_outbox(uow, now=now, retention=retention)
            uow.commit()
        if purged:
            log.info("purged %d finished outbox messages", purged)
        return 0  # never loop straight away: one purge per interval is plenty

    return [Job(name="outbox-housekeeping", interval=3600.0, run=housekeeping)]


RUNNER = web.AppKey("workers", WorkerRunner)


async def workers_context(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: start the workers with the app, stop them with it."""
    runner = WorkerRunner(build_jobs(app[STORAGE], app[SETTINGS]), app[CLOCK])
    app[RUNNER] = runner
    runner.start()
    try:
        yield
    finally:
        await runner.stop()

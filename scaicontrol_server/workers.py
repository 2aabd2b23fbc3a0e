"""Background workers: each job is a function of ``now`` run on a loop (sync ones in a thread).

A job sleeps for its interval (the safety net) but can be woken at once with
:meth:`WorkerRunner.wake`; given the storage, the runner also wakes every job whose
``wake_on`` accepts a commit's :class:`~scaicontrol_core.ports.CommitInfo`. A job that
reports work done runs again immediately, so a backlog drains without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import cast

import attrs
from aiohttp import web

from scaicontrol_core.clock import Clock
from scaicontrol_core.housekeeping import purge_finished_outbox
from scaicontrol_core.ports import CommitInfo, Storage

from .clock import SystemClock
from .keys import CLOCK, SETTINGS, STORAGE
from .settings import Settings

__all__ = ["RUNNER", "Job", "WorkerRunner", "build_jobs", "run_once", "workers_context"]

log = logging.getLogger("scaicontrol.workers")


@attrs.frozen(kw_only=True)
class Job:
    """``run(now)`` (sync, or a coroutine function) does one batch and returns how many items
    it handled. ``wake_on(info)`` runs in the committing thread and says whether a commit
    brings work for the job; ``open()`` is awaited once by :meth:`WorkerRunner.open` (to get
    ready before the first batch), ``close()`` once when the runner stops."""

    name: str
    interval: float
    run: Callable[[datetime], int] | Callable[[datetime], Awaitable[int]]
    wake_on: Callable[[CommitInfo], bool] | None = None
    close: Callable[[], Awaitable[None]] | None = None
    open: Callable[[], Awaitable[None]] | None = None

    async def run_once(self, now: datetime) -> int:
        if inspect.iscoroutinefunction(self.run):
            return await cast(Callable[[datetime], Awaitable[int]], self.run)(now)
        return await asyncio.to_thread(cast(Callable[[datetime], int], self.run), now)


class WorkerRunner:
    """Runs jobs concurrently until :meth:`stop`; a failing job is retried after a pause."""

    def __init__(
        self,
        jobs: Sequence[Job],
        clock: Clock,
        *,
        error_pause: float = 5.0,
        storage: Storage | None = None,
    ) -> None:
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
        self._storage = storage
        self._loop_ref: asyncio.AbstractEventLoop | None = None

    async def open(self) -> None:
        """Get every job ready (optional: a job not opened gets ready on its first batch)."""
        for job in self.jobs.values():
            if job.open is not None:
                await job.open()

    def start(self) -> None:
        """Start one task per job on the running loop (and listen to the storage's commits)."""
        self._loop_ref = asyncio.get_running_loop()
        for name in self.jobs:
            self._wakeups[name] = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._loop(name), name=f"job:{name}"))
        if self._storage is not None:
            self._storage.add_commit_listener(self._on_commit)

    def _on_commit(self, info: CommitInfo) -> None:
        """Runs in whichever thread committed; hands the wake-ups to the loop's thread."""
        loop = self._loop_ref
        if loop is None or loop.is_closed():
            return
        for job in self.jobs.values():
            if job.wake_on is not None and job.wake_on(info):
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(self.wake, job.name)

    def wake(self, name: str) -> None:
        """Run job ``name`` now instead of at its next tick (no-op before start)."""
        event = self._wakeups.get(name)
        if event is not None:
            event.set()

    async def stop(self) -> None:
        """Let running batches finish, end every loop, then close the jobs."""
        if self._storage is not None:
            self._storage.remove_commit_listener(self._on_commit)
        self._stopping.set()
        for event in self._wakeups.values():
            event.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for job in self.jobs.values():
            if job.close is not None:
                try:
                    await job.close()
                except Exception:
                    log.exception("closing job %s failed", job.name)

    async def _loop(self, name: str) -> None:
        job = self.jobs[name]
        wakeup = self._wakeups[name]
        while not self._stopping.is_set():
            wakeup.clear()
            try:
                handled = await job.run_once(self.clock.now())
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


async def run_once(jobs: Sequence[Job], clock: Clock) -> list[tuple[str, int]]:
    """Run every job once, in order, then close them all (``scaicontrol worker --once``)."""
    results = []
    try:
        for job in jobs:
            results.append((job.name, await job.run_once(clock.now())))
    finally:
        for job in jobs:
            if job.close is not None:
                await job.close()
    return results


def build_jobs(storage: Storage, settings: Settings, *, clock: Clock | None = None) -> list[Job]:
    """The jobs every deployment runs."""
    from .lifecycle_jobs import subscription_jobs
    from .webhook_jobs import webhook_jobs

    retention = timedelta(days=settings.outbox_retention_days)

    def housekeeping(now: datetime) -> int:
        with storage.unit_of_work(cross_tenant=True) as uow:
            purged = purge_finished_outbox(uow, now=now, retention=retention)
            uow.commit()
        if purged:
            log.info("purged %d finished outbox messages", purged)
        return 0  # never loop straight away: one purge per interval is plenty

    return [
        Job(name="outbox-housekeeping", interval=3600.0, run=housekeeping),
        *webhook_jobs(storage, settings, clock or SystemClock()),
        *subscription_jobs(storage, settings),
    ]


RUNNER = web.AppKey("workers", WorkerRunner)


async def workers_context(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context: start the workers with the app, stop them with it."""
    storage = app[STORAGE]
    jobs = build_jobs(storage, app[SETTINGS], clock=app[CLOCK])
    runner = WorkerRunner(jobs, app[CLOCK], storage=storage)
    app[RUNNER] = runner
    runner.start()
    try:
        yield
    finally:
        await runner.stop()

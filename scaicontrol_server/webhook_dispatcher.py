"""The webhook dispatcher of one worker process: a small pipeline around the network.

    fan-out / claim  ──►  waiting jobs  ──►  sender (POST, no transaction)  ──►  settler
    (one transaction)                                                       (one transaction)

Fan-out leases events to this process and hands their first attempts straight to the
sender; the claim job does the same with stored deliveries that are due (retries,
redeliveries, replays, test events). The sender POSTs concurrently (``concurrency`` at
most), by default from a child process (:class:`~.webhook_sender_process.ProcessSender`,
so that HTTP and the database work use two cores). Jobs are rendered, signed and
submitted while the sender has fewer than ``sender.slots`` requests outstanding; each
result comes back by callback and starts the next waiting job.
Results are settled in batches, as many as have arrived while the previous batch was
being written. The first attempts of one event are settled together, once all have finished,
because settling them completes the event.
Jobs take no more work than the senders can surely start within a lease: at most
``capacity`` deliveries are accepted and not yet settled (see there). Larger batches make
the bookkeeping cheaper per delivery; the bound keeps queued deliveries from outwaiting
their lease even when every subscriber is slow.

A POST starts only while the lease (of the event, or of the stored delivery) has at least
the request timeout plus a margin left (checked again when the child process gets a free
connection for it), so no other worker can take it over while it is on the wire: a
duplicate can only come from a lease that expired between the POST and its settlement
(for example, a process killed in between). A first attempt that could not be started is
stored as a pending delivery, due at once, with the rest of its event, and is claimed like
a retry. No network call ever happens inside a database transaction.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Final, TypeVar

import attrs

from scaicontrol_core.clock import Clock
from scaicontrol_core.errors import ConcurrencyConflict, ConfigurationError, ValidationError
from scaicontrol_core.ports import Storage, UnitOfWork
from scaicontrol_core.webhooks import REQUEST_TIMEOUT, UrlPolicy, delivery_headers
from scaicontrol_core.webhooks.dispatch import (
    AttemptResult,
    Claimed,
    DeliveryJob,
    FanOut,
    SettleReport,
    claim_deliveries,
    fan_out,
    settle,
)

from .settings import Settings
from .webhook_body import render_body
from .webhook_sender import Sender, SendResult, WebhookSender
from .webhook_sender_process import ProcessSender

__all__ = [
    "DispatcherConfig",
    "DispatcherStats",
    "WebhookDispatcher",
    "worker_name",
]

log = logging.getLogger("scaicontrol.webhooks")

#: Lease a POST must still have left, beyond its timeout, for the sender to start it.
LEASE_MARGIN: Final = timedelta(seconds=2)
#: Shortest lease allowed: a request's timeout, the margin, and time to wait in the queue.
MIN_LEASE: Final = timedelta(seconds=20)
_CONFLICT_RETRIES: Final = 5
_SETTLE_RETRY_PAUSE: Final = 1.0
T = TypeVar("T")

def worker_name() -> str:
    """A lease-owner name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@attrs.frozen(kw_only=True)
class DispatcherConfig:
    """Tunables, normally from :class:`~scaicontrol_server.settings.Settings`."""

    policy: UrlPolicy
    concurrency: int = 64
    batch_size: int = 200
    fanout_batch_size: int = 200
    lease: timedelta = timedelta(seconds=120)
    tick: float = 30.0
    timeout: timedelta = REQUEST_TIMEOUT
    sender_process: bool = False

    @property
    def capacity(self) -> int:
        """Most accepted deliveries not yet settled before the jobs stop taking more: as
        many as the senders can surely start within a lease even if every request takes
        its whole timeout (at least the concurrency; ten times it with the defaults)."""
        rounds = (self.lease - self.timeout - LEASE_MARGIN) // self.timeout
        return self.concurrency * max(1, rounds)

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatcherConfig:
        """Read and check the webhook settings; a bad one raises ``ConfigurationError``."""
        try:
            policy = UrlPolicy(
                allow_http=settings.webhook_allow_http, allowlist=settings.webhook_allowlist
            )
        except ValidationError as exc:
            raise ConfigurationError(
                f"SCAICONTROL_WEBHOOK_ALLOWLIST: {exc}", setting="SCAICONTROL_WEBHOOK_ALLOWLIST"
            ) from None
        positive = {
            "SCAICONTROL_WEBHOOK_CONCURRENCY": settings.webhook_concurrency,
            "SCAICONTROL_WEBHOOK_BATCH_SIZE": settings.webhook_batch_size,
            "SCAICONTROL_WEBHOOK_FANOUT_BATCH_SIZE": settings.webhook_fanout_batch_size,
            "SCAICONTROL_WEBHOOK_TICK_SECONDS": settings.webhook_tick_seconds,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigurationError(f"{name} must be positive", setting=name)
        lease = timedelta(seconds=settings.webhook_lease_seconds)
        if lease < MIN_LEASE:
            name = "SCAICONTROL_WEBHOOK_LEASE_SECONDS"
            raise ConfigurationError(
                f"{name} must be at least {MIN_LEASE.total_seconds():g}", setting=name
            )
        return cls(
            policy=policy,
            concurrency=settings.webhook_concurrency,
            batch_size=settings.webhook_batch_size,
            fanout_batch_size=settings.webhook_fanout_batch_size,
            lease=lease,
            tick=settings.webhook_tick_seconds,
            sender_process=settings.webhook_sender_process,
        )


@attrs.define
class _Event:
    """The first attempts of one leased event: how many, and the results so far."""

    expected: int = 0
    results: list[AttemptResult] = attrs.Factory(list)


@attrs.define
class DispatcherStats:
    """Running totals of one dispatcher, for logs, tests and the benchmark."""

    events: int = 0
    attempts: int = 0
    dispatched: int = 0
    retrying: int = 0
    dead: int = 0
    stale: int = 0
    dropped: int = 0
    orphaned: int = 0


class WebhookDispatcher:
    """Fan-out, claiming, sending and settling for one process; lives on one event loop."""

    def __init__(
        self,
        storage: Storage,
        config: DispatcherConfig,
        *,
        clock: Clock,
        owner: str | None = None,
        sender: Sender | None = None,
    ) -> None:
        self.storage = storage
        self.config = config
        self.clock = clock
        self.owner = owner or worker_name()
        self.stats = DispatcherStats()
        self._sender = sender
        self._waiting: deque[DeliveryJob] = deque()  # accepted, not yet handed to the sender
        self._outstanding = 0  # handed to the sender, no result yet
        self._results: list[AttemptResult] = []
        self._events: dict[int, _Event] = {}  # message seq -> its first attempts
        self._results_ready: asyncio.Event | None = None
        self._room: asyncio.Event | None = None
        self._unsettled = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._dropped_logged_at = -10.0

    # --- jobs ----------------------------------------------------------------------------

    async def fan_out(self, now: datetime | None = None) -> int:
        """Fan out one batch of events and start sending their deliveries; returns how many
        events were taken. (``now`` is read from the clock once there is room.)"""
        room = await self._wait_for_room()
        # with little in flight, a smaller batch gets the senders busy sooner
        ramp = max(self.config.concurrency, self._unsettled)
        limit = min(self.config.fanout_batch_size, room, ramp)
        result: FanOut = await asyncio.to_thread(
            self._in_transaction, lambda uow: self._fan_out_in(uow, limit)
        )
        self.stats.events += result.events
        self._accept(result.jobs)
        return result.events

    async def claim(self, now: datetime | None = None) -> int:
        """Claim one batch of due deliveries and start sending them; returns how many.
        (``now`` is read from the clock once there is room.)"""
        room = await self._wait_for_room()
        limit = min(self.config.batch_size, room)
        claimed: Claimed = await asyncio.to_thread(
            self._in_transaction, lambda uow: claim_deliveries(
                uow, owner=self.owner, now=self.clock.now(), lease=self.config.lease,
                limit=limit,
            )
        )
        self.stats.orphaned += claimed.orphaned
        self._accept(claimed.jobs)
        return len(claimed.jobs) + claimed.orphaned

    async def open(self) -> None:
        """Start the senders (and the sender process, if any) before the first batch."""
        self._start()
        assert self._sender is not None
        await self._sender.open()

    async def idle(self) -> None:
        """Wait until every accepted delivery is sent and settled (or dropped)."""
        while self._unsettled:
            await asyncio.sleep(0.01)

    async def close(self, timeout: float | None = None) -> None:
        """Send and settle what was accepted (bounded by the lease), then stop."""
        if self._tasks:
            limit = self.config.lease.total_seconds() if timeout is None else timeout
            try:
                await asyncio.wait_for(self.idle(), limit)
            except TimeoutError:
                log.warning("stopping with %d deliveries unsettled; their leases will expire "
                            "and another worker will take them over", self._unsettled)
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks.clear()
        self._waiting.clear()  # not handed over: the results of closing must start nothing
        if self._sender is not None:
            await self._sender.close()

    # --- storage side (worker threads) ---------------------------------------------------

    def _in_transaction(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in one committed unit of work, again on an optimistic conflict. The
        commit is quiet: it would only wake this dispatcher's own jobs."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                with self.storage.unit_of_work(cross_tenant=True, quiet=True) as uow:
                    result = work(uow)
                    uow.commit()
                    return result
            except ConcurrencyConflict:
                if attempt == _CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _fan_out_in(self, uow: UnitOfWork, limit: int) -> FanOut:
        return fan_out(
            uow, owner=self.owner, now=self.clock.now(), lease=self.config.lease, limit=limit
        )

    def _settle_in(self, uow: UnitOfWork, results: list[AttemptResult]) -> SettleReport:
        return settle(uow, results, owner=self.owner, now=self.clock.now())

    # --- the pipeline (event loop) -------------------------------------------------------

    def _start(self) -> None:
        if self._tasks:
            return
        self._results_ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        if self._sender is None:
            kind = ProcessSender if self.config.sender_process else WebhookSender
            self._sender = kind(self.config.policy, timeout=self.config.timeout,
                                concurrency=self.config.concurrency)
        self._tasks = [asyncio.create_task(self._settle_loop(), name="webhook-settler")]

    async def _wait_for_room(self) -> int:
        self._start()
        assert self._room is not None
        while self._unsettled >= self.config.capacity:
            self._room.clear()
            await self._room.wait()
        return self.config.capacity - self._unsettled

    def _accept(self, jobs: list[DeliveryJob]) -> None:
        self._unsettled += len(jobs)
        for job in jobs:
            if job.message_seq is not None:
                self._events.setdefault(job.message_seq, _Event()).expected += 1
        self._waiting.extend(jobs)
        self._hand_over()

    def _finished(self, count: int) -> None:
        assert self._room is not None
        self._unsettled -= count
        if self._unsettled < self.config.capacity:
            self._room.set()

    def _hand_over(self) -> None:
        """Start waiting jobs while the sender has free slots (a job is rendered and signed
        only now, so that its timestamp is fresh when it goes out)."""
        assert self._sender is not None
        slots = self._sender.slots
        while self._waiting and self._outstanding < slots:
            job = self._waiting.popleft()
            try:
                submitted = self._attempt(job)
            except Exception:  # a bug must not stop the pipeline
                log.exception("sending delivery %s failed unexpectedly", job.delivery.id)
                self._done(job, None)
            else:
                if submitted:
                    self._outstanding += 1

    def _attempt(self, job: DeliveryJob) -> bool:
        """Hand ``job`` to the sender (True), or pass on at once why it cannot go."""
        delivery, subscription = job.delivery, job.subscription
        now = self.clock.now()
        assert self._sender is not None
        if delivery.lease_expires_at is None:
            self._warn_dropped()
            self._done(job, None)
            return False
        spare = (delivery.lease_expires_at - now - self._sender.timeout - LEASE_MARGIN)
        if spare < timedelta(0):
            self._warn_dropped()
            self._done(job, None)
            return False
        try:
            body = render_body(delivery.payload)
            headers = delivery_headers(
                delivery.payload, body, subscription.secret, now,
                standard_webhooks=subscription.standard_webhooks,
            )
        except ValidationError as exc:
            self._done(job, AttemptResult(
                delivery=delivery, attempted_at=now, duration_ms=0, permanent=True,
                error=f"cannot build the request: {exc}", message_seq=job.message_seq))
            return False
        self._sender.submit(subscription.target_url, body, headers,
                            start_by=time.monotonic() + spare.total_seconds(),
                            done=partial(self._sent, job, now))
        return True

    def _sent(self, job: DeliveryJob, attempted_at: datetime,
              outcome: SendResult | Exception) -> None:
        """The sender's report on ``job``: pass its result on, start the next job."""
        self._outstanding -= 1
        result: AttemptResult | None = None
        if isinstance(outcome, Exception):
            log.error("sending delivery %s failed unexpectedly: %s", job.delivery.id, outcome)
        elif not outcome.sent:  # waited too long for a free connection
            self._warn_dropped()
        else:
            result = AttemptResult(
                delivery=job.delivery, attempted_at=attempted_at,
                duration_ms=outcome.duration_ms, status_code=outcome.status_code,
                error=outcome.error, permanent=outcome.permanent, message_seq=job.message_seq,
            )
        self._done(job, result)
        self._hand_over()

    def _done(self, job: DeliveryJob, result: AttemptResult | None) -> None:
        """Pass a job's result on to settling; None: the job was dropped (a first attempt
        is then settled as not sent)."""
        assert self._results_ready is not None
        if job.message_seq is not None:
            if result is None:
                self.stats.dropped += 1
                result = AttemptResult.not_sent(job, self.clock.now())
            self._first_attempt_done(job.message_seq, result)
        elif result is None:
            self.stats.dropped += 1
            self._finished(1)
        else:
            self._results.append(result)
            self._results_ready.set()

    def _first_attempt_done(self, seq: int, result: AttemptResult) -> None:
        """Collect the first attempts of an event; pass them on once all have finished
        (one that could not be made comes as not sent: its delivery is stored as due)."""
        assert self._results_ready is not None
        event = self._events[seq]
        event.results.append(result)
        if len(event.results) < event.expected:
            return
        del self._events[seq]
        self._results.extend(event.results)
        self._results_ready.set()

    def _warn_dropped(self) -> None:
        """Log skipped deliveries at most every 10 s (they are retried after their lease)."""
        now = time.monotonic()
        if now - self._dropped_logged_at >= 10:
            self._dropped_logged_at = now
            log.warning("skipping deliveries whose lease runs out too soon (%d so far); they "
                        "are sent again later", self.stats.dropped + 1)

    async def _settle_loop(self) -> None:
        assert self._results_ready is not None
        while True:
            await self._results_ready.wait()
            self._results_ready.clear()
            batch, self._results = self._results, []
            if not batch:
                continue
            report = await self._settle(batch)
            self._finished(len(batch))
            if report is not None:
                self._count(report)

    async def _settle(self, batch: list[AttemptResult]) -> SettleReport | None:
        for attempt in range(3):
            try:
                return await asyncio.to_thread(
                    self._in_transaction, lambda uow: self._settle_in(uow, batch)
                )
            except Exception:
                log.exception("recording %d delivery attempts failed (try %d of 3)",
                              len(batch), attempt + 1)
                await asyncio.sleep(_SETTLE_RETRY_PAUSE)
        return None  # the leases expire and the deliveries are attempted again

    def _count(self, report: SettleReport) -> None:
        stats = self.stats
        stats.attempts += report.attempts
        stats.dispatched += report.dispatched
        stats.retrying += report.retrying
        stats.dead += report.dead
        stats.stale += report.stale
        if report.stale:
            log.warning("%d attempt results came after their lease was taken over",
                        report.stale)

"""POSTing webhook bodies from a child process, so that HTTP and bookkeeping use two cores.

A worker spends a good share of its CPU on POSTs (writing and parsing on many connections)
besides the database work around them, and a Python process runs on one core at a time. The
:class:`ProcessSender` has the interface of :class:`~.webhook_sender.WebhookSender`, but
the requests are made by a real ``WebhookSender`` in a child process
(``python -m scaicontrol_server.webhook_sender_process``, started with the first request
or by ``open``). Parent and child share a socket pair and exchange length-prefixed,
pickled batches (a private channel between two processes of the same program), one write
per turn of either event loop, read by the event loops themselves.

The child makes at most ``concurrency`` POSTs at once and enforces the same URL policy,
timeout and limits. The parent keeps :data:`PIPELINE` times as many requests outstanding,
so the child always has the next ones at hand; a request that waited in the child past
its ``start_by`` time is not sent (``sent`` is False), so a waiting request can never
outlast its lease.

If the child dies, every request it held ends as a network error (the delivery is retried
by the usual schedule) and the next request starts a new child. A request whose result is
overdue by :data:`RESULT_GRACE` ends as timed out, and the child, which no longer answers,
is replaced. If the child's sender raises on a request, ``send`` raises
:class:`SenderFailure` in the parent, as the in-process sender would have raised. If the
parent dies, the child sees its socket close and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import pickle
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Final, Generic, TypeVar

from scaicontrol_core.webhooks import REQUEST_TIMEOUT, UrlPolicy

from .webhook_sender import NOT_SENT, Done, ReportingTasks, SendResult, WebhookSender, report

__all__ = ["PIPELINE", "RESULT_GRACE", "ProcessSender", "SenderFailure", "SenderUnavailable"]

log = logging.getLogger("scaicontrol.webhooks")

#: How long past its timeout a request may go without a result before it counts as lost.
RESULT_GRACE: Final = 5.0
_WATCH_INTERVAL: Final = 1.0
_STOP_WAIT: Final = 10.0

#: How many requests the parent keeps outstanding per POST the child may have in flight:
#: enough that the child always has the next ones at hand while replies are on their way.
PIPELINE: Final = 3
#: Longest wait for a new child to say it is ready.
START_TIMEOUT: Final = 60.0

Request = tuple[int, str, bytes, dict[str, str], float | None]  # number, url, body, headers,
#                                                                 start_by (monotonic)
Reply = tuple[int, int | None, str | None, int, bool, bool, str | None]  # number, status,
#                            error, ms, permanent, sent, failure (the sender raised: its text)
T = TypeVar("T")
_LENGTH: Final = struct.Struct("!I")


class _Frames(asyncio.Protocol, Generic[T]):
    """Length-prefixed pickled batches over a stream, in both directions."""

    def __init__(self, on_batch: Callable[[list[T]], None], on_lost: Callable[[], None]) -> None:
        self._on_batch = on_batch
        self._on_lost = on_lost
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while len(buffer) - start >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer, start)
            end = start + _LENGTH.size + size
            if len(buffer) < end:
                break
            batch: list[T] = pickle.loads(memoryview(buffer)[start + _LENGTH.size:end])
            start = end
            self._on_batch(batch)
        del buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._on_lost()

    def send(self, batch: list[Any]) -> bool:
        """Queue ``batch`` for writing; False if the other side is gone."""
        if self.transport is None or self.transport.is_closing():
            return False
        data = pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
        self.transport.write(_LENGTH.pack(len(data)) + data)
        return True


class _Pending:
    """A request sent to a child and not answered yet (times from ``time.monotonic()``)."""

    __slots__ = ("done", "frames", "overdue", "sent_at")

    def __init__(self, done: Done | None, sent_at: float, overdue: float,
                 frames: _Frames[Reply]) -> None:
        self.done = done
        self.sent_at = sent_at
        self.overdue = overdue
        self.frames = frames

    def end(self, outcome: SendResult | Exception) -> None:
        """Report ``outcome`` (once: later calls do nothing). A callback that raises is
        logged: one caller's bug must not cost the other requests their results."""
        done, self.done = self.done, None
        if done is not None:
            report(done, outcome)


class SenderUnavailable(Exception):
    """The child process could not be started."""


class SenderFailure(Exception):
    """The child's sender raised on a request (what ``WebhookSender.send`` would raise)."""


# --- the child -------------------------------------------------------------------------


def child_main(argv: list[str] | None = None) -> None:
    """Entry point of the child (``python -m scaicontrol_server.webhook_sender_process``):
    send what arrives on the inherited socket and reply, until the parent hangs up."""
    parser = argparse.ArgumentParser(description="webhook sender process (started by a worker)")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    config = json.loads(args.config)
    policy = UrlPolicy(allow_http=config["allow_http"], allowlist=tuple(config["allowlist"]))
    link = socket.socket(fileno=args.fd)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C reaches the whole process group
        asyncio.run(_child_loop(link, policy, config["timeout"], config["concurrency"]))


async def _child_loop(
    link: socket.socket, policy: UrlPolicy, timeout: float, concurrency: int
) -> None:
    loop = asyncio.get_running_loop()
    hung_up = asyncio.Event()
    outgoing: list[Reply] = []
    tasks: set[asyncio.Task[None]] = set()
    slots = asyncio.Semaphore(concurrency)
    async with WebhookSender(policy, timeout=timedelta(seconds=timeout),
                             concurrency=concurrency) as sender:

        def flush() -> None:
            batch = outgoing.copy()
            outgoing.clear()
            frames.send(batch)

        async def one(request: Request) -> None:
            number, url, body, headers, start_by = request
            failure: str | None = None
            try:
                result = await admitted(start_by)
                if result is None:  # the lease is checked when a slot is free
                    try:
                        result = await sender.send(url, body, headers, start_by=start_by)
                    finally:
                        slots.release()
            except Exception as exc:  # the parent raises it where send was awaited
                result, failure = NOT_SENT, f"{type(exc).__name__}: {exc}"
            if not outgoing:
                loop.call_soon(flush)
            outgoing.append((number, result.status_code, result.error, result.duration_ms,
                             result.permanent, result.sent, failure))

        async def admitted(start_by: float | None) -> SendResult | None:
            """Wait for a free slot (None once it is held); without ``start_by`` the wait
            counts against the timeout, as waiting for a free slot does in the client."""
            if start_by is not None or not slots.locked():  # (a free slot is taken at once)
                await slots.acquire()
                return None
            started = time.perf_counter()
            try:
                await asyncio.wait_for(slots.acquire(), timeout)
            except TimeoutError:
                return SendResult(status_code=None, error=f"timed out after {timeout:g} s",
                                  duration_ms=int((time.perf_counter() - started) * 1000))
            return None

        def arrived(batch: list[Request]) -> None:
            for request in batch:
                task = loop.create_task(one(request))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        frames: _Frames[Request] = _Frames(arrived, hung_up.set)
        await loop.connect_accepted_socket(lambda: frames, link)
        frames.send([])  # ready
        await hung_up.wait()
        for task in list(tasks):  # the parent is gone: nobody wants these results
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- the parent ------------------------------------------------------------------------


class ProcessSender:
    """A :class:`~.webhook_sender.WebhookSender` in a child process; same ``send``.

    Create and close it on the event loop that uses it.
    """

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        timeout: timedelta = REQUEST_TIMEOUT,
        concurrency: int = 64,
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self._concurrency = concurrency
        self.slots = concurrency * PIPELINE
        self._process: subprocess.Popen[bytes] | None = None
        self._frames: _Frames[Reply] | None = None
        self._starting: asyncio.Task[_Frames[Reply]] | None = None
        self._numbers = itertools.count()
        self._pending: dict[int, _Pending] = {}
        self._outgoing: list[Request] = []
        self._watchdog: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._starting_sends = ReportingTasks()
        self.children_started = 0

    async def open(self) -> None:
        """Start the child now rather than with the first request."""
        if self._frames is None or self._frames.transport is None:
            await self._start()

    async def send(
        self, url: str, body: bytes, headers: Mapping[str, str], *, start_by: float | None = None
    ) -> SendResult:
        """POST ``body`` once, in the child, unless it cannot start by ``start_by``
        (``time.monotonic()``; then ``sent`` is False). Never raises for anything the
        subscriber or network (or the child process) does."""
        frames = self._frames
        if frames is None or frames.transport is None:
            try:
                frames = await self._start()
            except SenderUnavailable as exc:
                return SendResult(status_code=None, error=f"network error: {exc}",
                                  duration_ms=0)
        future: asyncio.Future[SendResult] = asyncio.get_running_loop().create_future()

        def done(outcome: SendResult | Exception) -> None:
            if future.done():  # the caller stopped waiting
                return
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

        self._enqueue(frames, url, body, headers, start_by, done)
        return await future

    def submit(
        self, url: str, body: bytes, headers: Mapping[str, str], *, start_by: float | None,
        done: Done,
    ) -> None:
        """``send`` without a task or future of its own: ``done`` is called from the reply
        (only while no child runs, one is started in a task)."""
        frames = self._frames
        if frames is not None and frames.transport is not None:
            self._enqueue(frames, url, body, headers, start_by, done)
            return
        self._starting_sends.start(self.send(url, body, headers, start_by=start_by), done)

    def _enqueue(self, frames: _Frames[Reply], url: str, body: bytes,
                 headers: Mapping[str, str], start_by: float | None, done: Done) -> None:
        number = next(self._numbers)
        now = time.monotonic()
        timeout = self.timeout.total_seconds()
        # without start_by the child gives up waiting for a slot after the timeout
        latest_start = now + timeout if start_by is None else max(now, start_by)
        overdue = latest_start + timeout + RESULT_GRACE
        self._pending[number] = _Pending(done, now, overdue, frames)
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush, frames)
        self._outgoing.append((number, url, body, dict(headers), start_by))

    async def close(self) -> None:
        """Hang up on the child (its requests in flight end as network errors), stop it.
        Submitted requests still waiting for a child to start are cancelled."""
        await self._starting_sends.cancel()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._starting is not None:
            await asyncio.gather(self._starting, return_exceptions=True)
        frames, self._frames = self._frames, None
        if frames is not None and frames.transport is not None:
            frames.transport.close()
        process, self._process = self._process, None
        if process is not None:
            try:
                await asyncio.to_thread(process.wait, _STOP_WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        self._lost(None, "the webhook sender process stopped")

    async def __aenter__(self) -> ProcessSender:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # --- internals -----------------------------------------------------------------------

    async def _start(self) -> _Frames[Reply]:
        if self._starting is None:
            self._starting = asyncio.create_task(self._spawn())
        starting = self._starting
        try:
            return await asyncio.shield(starting)
        finally:
            if self._starting is starting and starting.done():
                self._starting = None

    async def _spawn(self) -> _Frames[Reply]:
        old, self._process = self._process, None
        if old is not None:
            if old.poll() is None:
                old.kill()
            await asyncio.to_thread(old.wait)
            log.warning("the webhook sender process ended (code %s); starting a new one",
                        old.returncode)
        ours, theirs = socket.socketpair()
        config = json.dumps({
            "allow_http": self.policy.allow_http, "allowlist": list(self.policy.allowlist),
            "timeout": self.timeout.total_seconds(), "concurrency": self._concurrency,
        })
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, "--fd", str(theirs.fileno()),
                 "--config", config],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            ours.close()
            raise SenderUnavailable(f"cannot start the webhook sender process: {exc}") from exc
        finally:
            theirs.close()
        self._process = process
        self.children_started += 1
        loop = asyncio.get_running_loop()
        frames: _Frames[Reply] = _Frames(self._resolve, lambda: self._lost(
            frames, "the webhook sender process exited"))
        self._ready = loop.create_future()
        await loop.connect_accepted_socket(lambda: frames, ours)
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), START_TIMEOUT)
        except (TimeoutError, SenderUnavailable):
            if frames.transport is not None:
                frames.transport.close()
            process.kill()
            await asyncio.to_thread(process.wait)
            raise SenderUnavailable("the webhook sender process did not start") from None
        self._frames = frames
        if self._watchdog is None:
            self._watchdog = loop.create_task(self._watch(), name="webhook-sender-watchdog")
        return frames

    def _flush(self, frames: _Frames[Reply]) -> None:
        batch, self._outgoing = self._outgoing, []
        if batch and not frames.send(batch):
            self._lost(frames, "the webhook sender process exited")

    def _resolve(self, replies: list[Reply]) -> None:
        if not replies and self._ready is not None and not self._ready.done():
            self._ready.set_result(None)
        for number, status, error, duration_ms, permanent, sent, failure in replies:
            entry = self._pending.pop(number, None)
            if entry is None:
                continue
            if failure is not None:
                entry.end(SenderFailure(failure))
            else:
                entry.end(SendResult(status_code=status, error=error, duration_ms=duration_ms,
                                     permanent=permanent, sent=sent))

    def _lost(self, frames: _Frames[Reply] | None, why: str) -> None:
        """End every request in flight to ``frames`` (None: to any child) as a network
        error: it may have been sent."""
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(SenderUnavailable(why))
        now = time.monotonic()
        for number, entry in list(self._pending.items()):
            if frames is None or entry.frames is frames:
                del self._pending[number]
                entry.end(SendResult(status_code=None, error=f"network error: {why}",
                                     duration_ms=int((now - entry.sent_at) * 1000)))

    async def _watch(self) -> None:
        """End overdue requests as timed out; a child that owes results is hung: stop it
        (the next request starts a new one)."""
        while True:
            await asyncio.sleep(_WATCH_INTERVAL)
            now = time.monotonic()
            hung: set[_Frames[Reply]] = set()
            for number, entry in list(self._pending.items()):
                if now > entry.overdue:
                    del self._pending[number]
                    hung.add(entry.frames)
                    entry.end(SendResult(
                        status_code=None, duration_ms=int((now - entry.sent_at) * 1000),
                        error=f"timed out after {self.timeout.total_seconds():g} s "
                              "(no result from the webhook sender process)",
                    ))
            for frames in hung:
                log.warning("the webhook sender process stopped answering; replacing it")
                if frames.transport is not None:
                    frames.transport.abort()
                if frames is self._frames and self._process is not None:
                    self._process.kill()


if __name__ == "__main__":
    child_main()

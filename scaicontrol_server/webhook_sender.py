"""POSTing webhook bodies: kept-alive connections, safe targets, bounded everything.

Safety of targets is enforced where the connection is made. A URL is first checked on its
own (scheme, syntax, literal IP addresses); a host name is then resolved by
:class:`PolicyResolver`, which checks every address it got before any of them may be
connected to. The client (:class:`~.webhook_http.HttpClient`) connects only to the
addresses its resolver returned, so a second DNS answer cannot slip an internal address
past the check. Redirects are never followed, no proxy is used, no cookie is kept, each
attempt has one total timeout, and at most a few KiB of a response body are read.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import timedelta
from typing import Any, Final, Protocol

import attrs

from scaicontrol_core.webhooks import REQUEST_TIMEOUT, UrlPolicy, UrlProblem, check_target_url

from .webhook_http import HttpClient, Resolver, SystemResolver, bracketed

__all__ = [
    "NOT_SENT", "Done", "PolicyResolver", "ReportingTasks", "SendResult", "Sender",
    "UnsafeTarget", "WebhookSender", "report",
]

log = logging.getLogger("scaicontrol.webhooks")

#: Problems of the URL itself: no retry can fix them, so the delivery is dead at once.
PERMANENT_PROBLEMS: Final = frozenset(
    {UrlProblem.MALFORMED, UrlProblem.SCHEME, UrlProblem.USERINFO, UrlProblem.HOST,
     UrlProblem.PORT}
)
#: Most bytes of a response body read (and quoted in the error of a failed attempt).
BODY_LIMIT: Final = 4096
_QUOTE_LIMIT: Final = 200
_VERDICT_CACHE_SIZE: Final = 4096


class UnsafeTarget(Exception):
    """A target refused by the URL policy; ``problem`` is the core's reason code."""

    def __init__(self, problem: UrlProblem | None, detail: str) -> None:
        super().__init__(f"target refused ({problem}): {detail}")
        self.problem = problem


@attrs.frozen(kw_only=True)
class SendResult:
    """How one POST went: the status (None without a response), an error text for
    anything but a 2xx or 409, the duration, and whether no retry could ever help.
    ``sent`` is False for a request that was not started by its ``start_by`` time."""

    status_code: int | None
    error: str | None
    duration_ms: int
    permanent: bool = False
    sent: bool = True


#: Called once with how a submitted request went, or with what the sender raised on it.
Done = Callable[[SendResult | Exception], None]


def report(done: Done, outcome: SendResult | Exception) -> None:
    """Hand ``outcome`` to ``done``. A callback that raises is logged: one caller's bug must
    not cost the other requests their results."""
    try:
        done(outcome)
    except Exception:
        log.exception("handling the result of a webhook request failed")


class Sender(Protocol):
    """What the dispatcher needs of a sender. ``send`` is awaited; ``submit`` starts the
    same request and calls ``done`` with its result, which saves a task and a future per
    request on a busy path. ``slots`` is how many requests a caller should keep outstanding
    to use the sender fully (the dispatcher keeps no more)."""

    timeout: timedelta
    slots: int

    async def open(self) -> None: ...

    async def send(
        self, url: str, body: bytes, headers: Mapping[str, str], *, start_by: float | None = None
    ) -> SendResult: ...

    def submit(
        self, url: str, body: bytes, headers: Mapping[str, str], *, start_by: float | None,
        done: Done,
    ) -> None: ...

    async def close(self) -> None: ...


class ReportingTasks:
    """Requests run in tasks of their own, each reporting its result (or what it raised,
    or its cancellation) to its ``done``; cancelled together on close."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[SendResult]] = set()

    def start(self, request: Coroutine[Any, Any, SendResult], done: Done) -> None:
        task = asyncio.get_running_loop().create_task(request)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

        def finished(task: asyncio.Task[SendResult]) -> None:
            if task.cancelled():
                report(done, RuntimeError("the request was cancelled"))
                return
            failure = task.exception()
            if failure is None:
                report(done, task.result())
            else:
                report(done, failure if isinstance(failure, Exception)
                       else RuntimeError(repr(failure)))

        task.add_done_callback(finished)

    async def cancel(self) -> None:
        """Cancel every task still running and wait for them (``done`` hears of each)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


#: The result of a request that was not started in time.
NOT_SENT: Final = SendResult(status_code=None, error=None, duration_ms=0, sent=False)


class PolicyResolver:
    """Resolves host names and refuses the whole host if any address breaks the policy."""

    def __init__(self, policy: UrlPolicy, inner: Resolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or SystemResolver()

    async def resolve(self, host: str, port: int) -> Sequence[str]:
        addresses = await self._inner.resolve(host, port)
        verdict = check_target_url(f"https://{bracketed(host)}:{port}/", self._policy,
                                   addresses)
        if not verdict:
            raise UnsafeTarget(verdict.problem, verdict.detail)
        return addresses


def _quote(raw: bytes) -> str:
    text = raw[:_QUOTE_LIMIT].decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


class WebhookSender:
    """Sends bodies to subscribers; create and close it on the event loop that uses it."""

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        timeout: timedelta = REQUEST_TIMEOUT,
        concurrency: int = 64,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self.slots = concurrency
        self._client = HttpClient(limit=concurrency, resolver=PolicyResolver(policy, resolver),
                                  ssl_context=ssl_context, body_limit=BODY_LIMIT)
        self._seconds = timeout.total_seconds()
        self._verdicts: dict[str, UnsafeTarget | None] = {}
        self._submitted = ReportingTasks()

    def _precheck(self, url: str) -> UnsafeTarget | None:
        """The URL's own verdict (host names are checked again once resolved)."""
        if url in self._verdicts:
            return self._verdicts[url]
        verdict = check_target_url(url, self.policy)
        refusal = None if verdict else UnsafeTarget(verdict.problem, verdict.detail)
        if len(self._verdicts) >= _VERDICT_CACHE_SIZE:
            self._verdicts.clear()
        self._verdicts[url] = refusal
        return refusal

    async def send(
        self, url: str, body: bytes, headers: Mapping[str, str], *, start_by: float | None = None
    ) -> SendResult:
        """POST ``body`` once, unless it is past ``start_by`` (``time.monotonic()``) already;
        never raises for anything the subscriber or network does."""
        if start_by is not None and time.monotonic() > start_by:
            return NOT_SENT
        started = time.perf_counter()
        refusal = self._precheck(url)
        if refusal is not None:
            return SendResult(status_code=None, error=str(refusal), duration_ms=0,
                              permanent=refusal.problem in PERMANENT_PROBLEMS)
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(url, body, headers, timeout=self._seconds)
        except UnsafeTarget as exc:
            error = str(exc)
        except TimeoutError:
            error = f"timed out after {self._seconds:g} s"
        except OSError as exc:
            error = f"network error: {exc}"
        else:
            status = response.status
            if not (200 <= status <= 299 or status == 409):
                snippet = _quote(response.body)
                error = f"HTTP {status}" + (f": {snippet}" if snippet else "")
        duration_ms = int((time.perf_counter() - started) * 1000)
        return SendResult(status_code=status, error=error, duration_ms=duration_ms)

    def submit(
        self, url: str, body: bytes, headers: Mapping[str, str], *, start_by: float | None,
        done: Done,
    ) -> None:
        """``send`` in a task of its own; ``done`` gets the result."""
        self._submitted.start(self.send(url, body, headers, start_by=start_by), done)

    async def open(self) -> None:
        """Nothing to prepare: connections open with the first requests."""

    async def close(self) -> None:
        """Cancel submitted requests still running (``done`` hears of it), then close."""
        await self._submitted.cancel()
        await self._client.close()

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

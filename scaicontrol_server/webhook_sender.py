"""POSTing webhook bodies: one shared aiohttp session, safe targets, bounded everything.

Safety of targets is enforced where the connection is made. A URL is first checked on its
own (scheme, syntax, literal IP addresses); a host name is then resolved by
:class:`PolicyResolver`, which checks every address it got before aiohttp may connect to
any of them. aiohttp connects only to the addresses its resolver returned, so a second DNS
answer cannot slip an internal address past the check. Redirects are never followed,
proxies from the environment are ignored, cookies are never kept, each attempt has one
total timeout, and at most a few KiB of a response body are read.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final, Protocol

import aiohttp
import attrs
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from scaicontrol_core.webhooks import REQUEST_TIMEOUT, UrlPolicy, UrlProblem, check_target_url

__all__ = [
    "NOT_SENT", "PolicyResolver", "SendResult", "Sender", "UnsafeTarget", "WebhookSender",
]

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


class Sender(Protocol):
    """What the dispatcher needs of a sender. ``slots`` is how many ``send`` calls it
    should keep outstanding to use the sender fully."""

    timeout: timedelta
    slots: int

    async def open(self) -> None: ...

    async def send(
        self, url: str, body: bytes, headers: Mapping[str, str], *, start_by: float | None = None
    ) -> SendResult: ...

    async def close(self) -> None: ...


#: The result of a request that was not started in time.
NOT_SENT: Final = SendResult(status_code=None, error=None, duration_ms=0, sent=False)


class PolicyResolver(AbstractResolver):
    """Resolves host names and refuses the whole host if any address breaks the policy."""

    def __init__(self, policy: UrlPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = DefaultResolver()
        results = await self._inner.resolve(host, port, family)
        where = f"{host}:{port}" if port else host
        verdict = check_target_url(f"https://{where}/", self._policy,
                                   [result["host"] for result in results])
        if not verdict:
            raise UnsafeTarget(verdict.problem, verdict.detail)
        return results

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


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
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self._concurrency = concurrency
        self.slots = concurrency
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._verdicts: dict[str, UnsafeTarget | None] = {}

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._concurrency,
                resolver=PolicyResolver(self.policy, self._resolver),
                ttl_dns_cache=10,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout.total_seconds()),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                auto_decompress=False,
            )
        return self._session

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
            async with self._open().post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                status = response.status
                if not (200 <= status <= 299 or status == 409):
                    snippet = _quote(await response.content.read(BODY_LIMIT))
                    error = f"HTTP {status}" + (f": {snippet}" if snippet else "")
                else:
                    await response.content.read(BODY_LIMIT)
        except UnsafeTarget as exc:
            error = str(exc)
        except TimeoutError:
            error = f"timed out after {self.timeout.total_seconds():g} s"
        except aiohttp.ClientError as exc:
            error = f"network error: {type(exc).__name__}: {exc}"
        except OSError as exc:
            error = f"network error: {exc}"
        duration_ms = int((time.perf_counter() - started) * 1000)
        return SendResult(status_code=status, error=error, duration_ms=duration_ms)

    async def open(self) -> None:
        """Nothing to prepare: the session opens with the first request."""

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

"""A small HTTP/1.1 client for webhook POSTs: kept-alive connections to checked addresses.

Webhook delivery needs one narrow thing of HTTP: POST a body with a few headers, read the
status and the start of the answer, and reuse the connection. aiohttp's general client
spends about three times as much CPU per request on features a webhook sender never uses
(cookies, redirects, proxies, tracing, streaming, decompression), and that CPU is most of
a delivery's cost. This client does only the narrow thing: requests are written as bytes
in one call, answers are parsed by ``httptools`` (the C parser llhttp, as used by Node.js
and uvicorn), and connections are kept per origin.

What it guarantees:

- It connects only to addresses its :class:`Resolver` returned, one after the other until
  one answers; the resolver is where the caller checks them.
- TLS for ``https`` with certificate and host name verification (the system's trust store
  unless an ``ssl.SSLContext`` is given); nothing else is negotiated.
- One total timeout per request covers waiting for a free slot, connecting, writing and
  reading the answer. A connection whose request timed out or failed is closed.
- At most ``body_limit`` bytes of an answer are kept; an answer with more is cut there and
  its connection closed rather than read to the end.
- An answer may be framed by length, by chunks or by the closing of the connection;
  interim (1xx) answers are skipped; ``Connection: close`` and HTTP/1.0 are honoured.
- A request on a kept-alive connection that the server closed before answering anything
  is sent once more on a new connection (servers close idle connections at any time).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import Final, Protocol
from urllib.parse import urlsplit

import attrs
import httptools

__all__ = [
    "BadResponse",
    "ConnectionLost",
    "HttpClient",
    "Resolver",
    "Response",
    "SystemResolver",
    "Target",
    "bracketed",
]

#: How long an unused connection is kept for the next request to the same origin.
IDLE_SECONDS: Final = 15.0
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def bracketed(host: str) -> str:
    """``host`` as written in a URL authority: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host else host


class Resolver(Protocol):
    """Turns a host name into the IP addresses that may be connected to."""

    async def resolve(self, host: str, port: int) -> Sequence[str]: ...


class SystemResolver:
    """The operating system's resolver (``getaddrinfo`` in a thread); IP literals as is."""

    async def resolve(self, host: str, port: int) -> Sequence[str]:
        try:
            ipaddress.ip_address(host)
            return [host]
        except ValueError:
            pass
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class ConnectionLost(ConnectionError):
    """The connection closed before an answer arrived; ``answered`` if part of one did."""

    def __init__(self, message: str, *, answered: bool) -> None:
        super().__init__(message)
        self.answered = answered


class BadResponse(ConnectionError):
    """The server's answer is not valid HTTP/1.x."""


@attrs.frozen
class Response:
    """A status and at most ``body_limit`` bytes of the answer's body."""

    status: int
    body: bytes


@attrs.frozen
class Target:
    """Where a URL's requests go: the origin and the first lines of a request to it."""

    scheme: str
    host: str
    port: int
    head: bytes

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @classmethod
    def parse(cls, url: str) -> Target:
        """Split an http(s) URL; ValueError if it is not one."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        if not url.isascii() or any(ch in url for ch in " \r\n\t"):
            raise ValueError(f"the URL must be ASCII without spaces: {url!r}")
        host = parts.hostname
        port = parts.port or _DEFAULT_PORTS[scheme]
        shown = bracketed(host)
        if parts.port is not None and port != _DEFAULT_PORTS[scheme]:
            shown = f"{shown}:{port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = f"POST {path} HTTP/1.1\r\nHost: {shown}\r\n".encode("ascii")
        return cls(scheme=scheme, host=host, port=port, head=head)


def _header_block(headers: Mapping[str, str], length: int) -> bytes:
    lines = [f"Content-Length: {length}\r\n"]
    for name, value in headers.items():
        if not name.isascii() or any(ch in name for ch in ":\r\n") or "\r" in value or \
                "\n" in value:
            raise ValueError(f"header {name!r} has a forbidden character")
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


class _Connection(asyncio.Protocol):
    """One connection; runs one request at a time and parses its answer."""

    def __init__(self, origin: tuple[str, str, int], body_limit: int) -> None:
        self.origin = origin
        self._body_limit = body_limit
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._status = 0
        self._body = bytearray()
        self._answered = False
        self.reusable = False
        self.idle_since = 0.0

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def request(self, data: bytes) -> asyncio.Future[Response]:
        assert self._transport is not None and self._waiter is None
        self._waiter = asyncio.get_running_loop().create_future()
        self._status = 0
        self._body.clear()
        self._answered = False
        self.reusable = False
        self._transport.write(data)
        return self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def expire(self) -> None:
        """The request ran out of time: fail it and drop the connection."""
        self._fail(TimeoutError())
        self.abort()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # --- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nothing was asked: the stream cannot be trusted
            self.abort()
            return
        self._answered = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._finish(reusable=False)
        except httptools.HttpParserError as exc:
            self._fail(BadResponse(f"invalid HTTP answer: {exc}"))
            self.abort()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._waiter is None:
            return
        if self._status >= 200:  # an answer framed by the end of the connection
            self._finish(reusable=False)
            return
        why = f": {exc}" if exc is not None else ""
        self._fail(ConnectionLost(f"the connection closed before an answer{why}",
                                  answered=self._answered))

    # --- httptools callbacks -------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()

    def on_body(self, chunk: bytes) -> None:
        if self._waiter is None:
            return
        room = self._body_limit - len(self._body)
        self._body += chunk[:room]
        if len(chunk) > room:  # more than we keep: stop reading this answer
            self._finish(reusable=False)
            self.abort()

    def on_message_complete(self) -> None:
        if self._waiter is None:  # a second answer to one request: drop the connection
            self.abort()
            return
        if 100 <= self._status < 200 and self._status != 101:  # interim answer: wait on
            self._status = 0
            return
        self._finish(reusable=self._parser.should_keep_alive())

    # --- ending a request ----------------------------------------------------------------

    def _finish(self, *, reusable: bool) -> None:
        waiter, self._waiter = self._waiter, None
        self.reusable = reusable
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(status=self._status, body=bytes(self._body)))

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class HttpClient:
    """POSTs with kept-alive connections; at most ``limit`` requests at a time.

    Create, use and close it on one event loop. Errors are raised as ``TimeoutError``,
    ``OSError`` (connecting, TLS, :class:`ConnectionLost`, :class:`BadResponse`) or
    whatever the resolver raises.
    """

    def __init__(
        self,
        *,
        limit: int = 64,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        body_limit: int = 4096,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._limit = limit
        self._resolver = resolver or SystemResolver()
        self._ssl_context = ssl_context
        self._body_limit = body_limit
        self._idle_seconds = idle_seconds
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._idle_count = 0
        self._busy: set[_Connection] = set()
        self._targets: dict[str, Target] = {}
        self.connections_made = 0

    def target(self, url: str) -> Target:
        """The parsed URL, cached (a subscriber's URL is used again and again)."""
        target = self._targets.get(url)
        if target is None:
            target = Target.parse(url)
            if len(self._targets) >= 4096:
                self._targets.clear()
            self._targets[url] = target
        return target

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float
    ) -> Response:
        """POST ``body`` to ``url`` and return the answer, all within ``timeout`` seconds."""
        target = self.target(url)
        data = target.head + _header_block(headers, len(body)) + body
        deadline = asyncio.get_running_loop().time() + timeout
        if self._slots.locked():
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        else:
            await self._slots.acquire()  # free: taken at once
        try:
            connection = self._take_idle(target.origin)
            if connection is not None:
                try:
                    return await self._exchange(connection, data, deadline)
                except ConnectionLost as exc:
                    if exc.answered:
                        raise
            async with asyncio.timeout_at(deadline):
                connection = await self._connect(target)
            return await self._exchange(connection, data, deadline)
        finally:
            self._slots.release()

    async def close(self) -> None:
        """Close every connection; requests still running fail."""
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        self._idle_count = 0
        for connection in list(self._busy):
            connection.abort()
        self._busy.clear()
        await asyncio.sleep(0)  # let the transports finish closing

    # --- internals -----------------------------------------------------------------------

    async def _exchange(self, connection: _Connection, data: bytes, deadline: float) -> Response:
        self._busy.add(connection)
        reusable = False
        expiry = asyncio.get_running_loop().call_at(deadline, connection.expire)
        try:
            response = await connection.request(data)
            reusable = connection.reusable
            return response
        finally:
            expiry.cancel()
            self._busy.discard(connection)
            if reusable and connection.is_open:
                self._keep(connection)
            else:
                connection.abort()

    def _take_idle(self, origin: tuple[str, str, int]) -> _Connection | None:
        connections = self._idle.get(origin)
        if not connections:
            return None
        oldest_kept = time.monotonic() - self._idle_seconds
        while connections:
            connection = connections.pop()
            self._idle_count -= 1
            if connection.is_open and connection.idle_since >= oldest_kept:
                return connection
            connection.close()
        return None

    def _keep(self, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        connections = self._idle.setdefault(connection.origin, [])
        if self._idle_count >= self._limit:  # too many idle: drop this origin's oldest
            if not connections:
                connection.close()
                return
            connections.pop(0).close()
            self._idle_count -= 1
        connections.append(connection)
        self._idle_count += 1

    async def _connect(self, target: Target) -> _Connection:
        addresses = await self._resolver.resolve(target.host, target.port)
        if not addresses:
            raise OSError(f"{target.host} did not resolve to any address")
        context: ssl.SSLContext | None = None
        if target.scheme == "https":
            context = self._ssl_context or _default_ssl_context()
        loop = asyncio.get_running_loop()
        failures: list[str] = []
        for address in addresses:
            try:
                _, connection = await loop.create_connection(
                    lambda: _Connection(target.origin, self._body_limit),
                    address, target.port, ssl=context,
                    server_hostname=target.host if context is not None else None,
                )
            except OSError as exc:
                failures.append(f"{address}: {exc.strerror or exc}")
                continue
            self.connections_made += 1
            return connection
        raise OSError(f"cannot connect to {bracketed(target.host)}:{target.port} "
                      f"({'; '.join(failures)})")


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """The system's trust store, loaded once per process (it takes a while)."""
    return ssl.create_default_context()

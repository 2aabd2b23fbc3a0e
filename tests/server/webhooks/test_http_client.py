"""The webhook HTTP client against a scripted raw server: framing, reuse, limits, TLS."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest

from scaicontrol_server.webhook_http import (
    BadResponse,
    ConnectionLost,
    HttpClient,
    Response,
    Target,
)

HEADERS = {"Content-Type": "application/json", "X-Test": "1"}
OK = b"HTTP/1.1 204 No Content\r\n\r\n"


@attrs.define
class Request:
    connection: int
    head: bytes
    body: bytes


#: What the server does with request n (0-based, over all connections): bytes to send back
#: (then keep the connection), ("close", bytes) to send and close, "drop" to close without
#: answering, "hang" to never answer.
Script = Callable[[int], Any]


class RawServer:
    """Reads HTTP/1.1 requests off raw connections and answers from a script."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[Request] = []
        self.connections = 0
        self.active = 0
        self.most_active = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?x=1"

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                body = await reader.readexactly(length)
                self.requests.append(Request(number, head, body))
                self.active += 1
                self.most_active = max(self.most_active, self.active)
                action = self.script(len(self.requests) - 1)
                if isinstance(action, Awaitable):
                    action = await action
                self.active -= 1
                if action == "hang":
                    await asyncio.sleep(3600)
                if action == "drop":
                    return
                if isinstance(action, tuple):
                    writer.write(action[1])
                    await writer.drain()
                    return
                writer.write(action)
                await writer.drain()
        finally:
            writer.close()


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(scenario())


async def post(client: HttpClient, url: str, body: bytes = b'{"a":1}',
               timeout: float = 5.0) -> Response:
    return await client.post(url, body, HEADERS, timeout=timeout)


def post_twice(script: Script, **options: Any) -> tuple[list[Response], int]:
    """Two POSTs in a row from one client: the answers, and how many connections they took."""
    async def scenario() -> tuple[list[Response], int]:
        async with RawServer(script) as server:
            client = HttpClient(**options)
            answers = [await post(client, server.url) for _ in range(2)]
            await client.close()
            return answers, server.connections
    result: tuple[list[Response], int] = run(scenario)
    return result


def test_requests_are_written_exactly_and_connections_are_kept() -> None:
    """Three POSTs: one connection; each request carries the body, its length, the host
    and the given headers, and nothing is lost or reordered."""
    async def scenario() -> None:
        async with RawServer(lambda n: OK) as server:
            client = HttpClient(limit=4)
            results = [await post(client, server.url, f'{{"n":{n}}}'.encode()) for n in range(3)]
            await client.close()
            assert [r.status for r in results] == [204, 204, 204]
            assert server.connections == 1 and client.connections_made == 1
            assert [r.body for r in server.requests] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
            lines = server.requests[0].head.decode().split("\r\n")
            assert lines[0] == "POST /hook?x=1 HTTP/1.1"
            assert f"Host: 127.0.0.1:{server.port}" in lines
            assert {"Content-Length: 7", "Content-Type: application/json", "X-Test: 1"} \
                <= set(lines)
    run(scenario)


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
])
def test_a_connection_the_server_closes_is_not_reused(answer: bytes) -> None:
    """``Connection: close`` and HTTP/1.0 answers end their connection."""
    answers, connections = post_twice(lambda n: answer)
    assert answers == [Response(status=200, body=b"ok")] * 2 and connections == 2


def test_chunked_answers_are_read_and_the_connection_kept() -> None:
    chunked = (b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"4\r\nbusy\r\n7\r\n, later\r\n0\r\n\r\n")
    answers, connections = post_twice(lambda n: chunked)
    assert answers == [Response(status=503, body=b"busy, later")] * 2 and connections == 1


def test_an_answer_framed_by_closing_is_read_to_the_end() -> None:
    async def scenario() -> None:
        answer = ("close", b"HTTP/1.1 500 Oops\r\n\r\nsomething broke")
        async with RawServer(lambda n: answer) as server:
            client = HttpClient()
            assert await post(client, server.url) == Response(status=500,
                                                              body=b"something broke")
            await client.close()
    run(scenario)


def test_long_answers_are_cut_at_the_limit_and_their_connection_closed() -> None:
    big = b"HTTP/1.1 400 Bad\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100_000
    answers, connections = post_twice(lambda n: big, body_limit=10)
    assert answers == [Response(status=400, body=b"x" * 10)] * 2 and connections == 2


def test_interim_answers_are_skipped() -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
    answers, connections = post_twice(lambda n: answer)
    assert [a.status for a in answers] == [201, 201] and connections == 1


def test_a_kept_connection_closed_by_the_server_is_replaced_once() -> None:
    """The server closes the connection after answering (without saying so): the next
    request finds it dead before any answer and goes out again on a new connection."""
    async def scenario() -> None:
        async with RawServer(lambda n: ("close", b"HTTP/1.1 204 No\r\nContent-Length: 0\r\n\r\n")
                             ) as server:
            client = HttpClient()
            assert (await post(client, server.url)).status == 204
            await asyncio.sleep(0.05)  # the close arrives while the connection is idle
            assert (await post(client, server.url)).status == 204
            await client.close()
            assert len(server.requests) == 2 and server.connections == 2
    run(scenario)


def test_a_reused_connection_that_dies_with_the_request_is_retried_on_a_new_one() -> None:
    """The idle connection is still open when the request is written, then the server
    drops it without answering: the request is sent once more on a new connection."""
    async def scenario() -> None:
        async with RawServer(lambda n: "drop" if n == 1 else OK) as server:
            client = HttpClient()
            assert (await post(client, server.url)).status == 204
            assert (await post(client, server.url)).status == 204
            await client.close()
            assert [r.connection for r in server.requests] == [1, 1, 2]
    run(scenario)


def test_a_new_connection_dropped_without_an_answer_is_not_retried() -> None:
    async def scenario() -> None:
        async with RawServer(lambda n: "drop") as server:
            client = HttpClient()
            with pytest.raises(ConnectionLost) as caught:
                await post(client, server.url)
            await client.close()
            assert not caught.value.answered and len(server.requests) == 1
    run(scenario)


def test_a_connection_dropped_mid_answer_is_not_retried() -> None:
    async def scenario() -> None:
        half = ("close", b"HTTP/1.1 200 OK\r\nContent-Len")
        async with RawServer(lambda n: OK if n == 0 else half) as server:
            client = HttpClient()
            await post(client, server.url)
            with pytest.raises(ConnectionLost) as caught:
                await post(client, server.url)
            await client.close()
            assert caught.value.answered and len(server.requests) == 2
    run(scenario)


def test_garbage_is_a_bad_response() -> None:
    async def scenario() -> None:
        async with RawServer(lambda n: b"SMTP ready\r\n\r\n") as server:
            client = HttpClient()
            with pytest.raises(BadResponse):
                await post(client, server.url)
            await client.close()
    run(scenario)


def test_a_request_past_its_timeout_fails_and_its_connection_is_dropped() -> None:
    async def scenario() -> None:
        async with RawServer(lambda n: "hang" if n == 0 else OK) as server:
            client = HttpClient()
            started = asyncio.get_running_loop().time()
            with pytest.raises(TimeoutError):
                await post(client, server.url, timeout=0.2)
            assert asyncio.get_running_loop().time() - started < 1.0
            assert (await post(client, server.url)).status == 204
            await client.close()
            assert server.connections == 2
    run(scenario)


def test_the_timeout_covers_waiting_for_a_free_slot() -> None:
    async def scenario() -> None:
        async with RawServer(lambda n: "hang" if n == 0 else OK) as server:
            client = HttpClient(limit=1)
            first = asyncio.create_task(post(client, server.url, timeout=5.0))
            await asyncio.sleep(0.05)
            with pytest.raises(TimeoutError):
                await post(client, server.url, timeout=0.2)
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
            await client.close()
            assert len(server.requests) == 1
    run(scenario)


def test_at_most_limit_requests_run_at_once() -> None:
    async def slow(n: int) -> bytes:
        await asyncio.sleep(0.02)
        return OK

    async def scenario() -> None:
        async with RawServer(slow) as server:
            client = HttpClient(limit=3)
            results = await asyncio.gather(*(post(client, server.url) for _ in range(12)))
            await client.close()
            assert [r.status for r in results] == [204] * 12
            assert server.most_active == 3 and server.connections == 3
    run(scenario)


def test_idle_connections_expire() -> None:
    async def scenario() -> None:
        async with RawServer(lambda n: OK) as server:
            client = HttpClient(idle_seconds=0.05)
            await post(client, server.url)
            await asyncio.sleep(0.1)
            await post(client, server.url)
            await client.close()
            assert server.connections == 2
    run(scenario)


class Addresses:
    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)

    async def resolve(self, host: str, port: int) -> list[str]:
        return self.addresses


def test_every_resolved_address_is_tried_in_turn() -> None:
    async def scenario() -> None:
        async with RawServer(lambda n: OK) as server:
            closed = await asyncio.start_server(lambda r, w: None, "127.0.0.2", 0)
            port = closed.sockets[0].getsockname()[1]
            closed.close()
            await closed.wait_closed()
            assert port  # nothing listens on 127.0.0.2 at the server's port
            client = HttpClient(resolver=Addresses("127.0.0.2", "127.0.0.1"))
            url = f"http://hooks.test:{server.port}/hook"
            assert (await post(client, url)).status == 204
            await client.close()
            assert f"Host: hooks.test:{server.port}".encode() in server.requests[0].head
            nowhere = HttpClient(resolver=Addresses("127.0.0.2"))
            with pytest.raises(OSError, match=f"cannot connect to hooks.test:{server.port}"):
                await post(nowhere, url)
            await nowhere.close()
    run(scenario)


@pytest.mark.parametrize(("url", "head", "origin"), [
    ("https://hooks.example.com/in", "POST /in HTTP/1.1\r\nHost: hooks.example.com\r\n",
     ("https", "hooks.example.com", 443)),
    ("http://Example.COM:80", "POST / HTTP/1.1\r\nHost: example.com\r\n",
     ("http", "example.com", 80)),
    ("https://[2001:db8::1]:8443/a/b?c=d&e#frag",
     "POST /a/b?c=d&e HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n",
     ("https", "2001:db8::1", 8443)),
])
def test_targets_name_the_origin_and_the_request_line(
    url: str, head: str, origin: tuple[str, str, int]
) -> None:
    target = Target.parse(url)
    assert target.head == head.encode() and target.origin == origin


@pytest.mark.parametrize("url", ["ftp://example.com/", "https:///path", "https://a b.com/",
                                 "https://example.com/\r\nX: y"])
def test_what_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        Target.parse(url)


@pytest.mark.parametrize("headers", [{"X-A": "ok\r\nInjected: yes"}, {"Bad:Name": "v"},
                                     {"X-B": "line\nbreak"}])
def test_headers_cannot_inject_lines(headers: dict[str, str]) -> None:
    async def scenario() -> None:
        client = HttpClient()
        with pytest.raises(ValueError):
            await client.post("http://127.0.0.1:9/", b"", headers, timeout=1)
        await client.close()
    run(scenario)


# --- TLS -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authority() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


async def tls_server(authority: Any) -> tuple[asyncio.Server, int, list[bytes]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("hooks.test").configure_cert(context)
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    return server, server.sockets[0].getsockname()[1], seen


def test_https_verifies_the_certificate_against_the_host_name(authority: Any) -> None:
    async def scenario() -> None:
        server, port, seen = await tls_server(authority)
        trusting = ssl.create_default_context()
        authority.configure_trust(trusting)
        client = HttpClient(resolver=Addresses("127.0.0.1"), ssl_context=trusting)
        answer = await post(client, f"https://hooks.test:{port}/hook")
        assert answer == Response(status=200, body=b"ok") and len(seen) == 1
        with pytest.raises(OSError, match=r"(?i)certificate|hostname|match"):
            await post(client, f"https://other.test:{port}/hook")
        await client.close()
        default = HttpClient(resolver=Addresses("127.0.0.1"))  # the system's trust store
        with pytest.raises(OSError, match=r"(?i)certificate"):
            await post(default, f"https://hooks.test:{port}/hook")
        await default.close()
        server.close()
        assert len(seen) == 1
    run(scenario)


def test_a_second_answer_to_one_request_ends_the_connection() -> None:
    """Extra bytes after an answer cannot be taken as the answer to the next request."""
    doubled = OK + b"HTTP/1.1 500 Stale\r\nContent-Length: 0\r\n\r\n"
    answers, connections = post_twice(lambda n: doubled if n == 0 else OK)
    assert [a.status for a in answers] == [204, 204] and connections == 2

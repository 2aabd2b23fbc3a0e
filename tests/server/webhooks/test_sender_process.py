"""The webhook sender in a child process: real POSTs, the same results as the in-process
sender, the URL policy and ``start_by`` enforced in the child, and a child that dies,
hangs or is hung up on.

Every test talks real HTTP to the local receiver of ``conftest.py`` through a real child
process (``python -m scaicontrol_server.webhook_sender_process``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

import attrs
import pytest

from scaicontrol_core.events import Topic, envelope_to_json
from scaicontrol_core.ids import SequentialIds
from scaicontrol_core.webhooks import (
    REQUEST_TIMEOUT,
    UrlPolicy,
    delivery_headers,
    generate_secret,
)
from scaicontrol_core.webhooks.samples import sample_event
from scaicontrol_server import webhook_sender_process
from scaicontrol_server.webhook_sender import Sender, SendResult, WebhookSender
from scaicontrol_server.webhook_sender_process import PIPELINE, ProcessSender, SenderFailure

if TYPE_CHECKING:
    # What these tests use of conftest's Receiver and Hit (mypy cannot import the folder's
    # conftest as a package module; imported as a top-level module it fails mypy itself).

    class Hit(Protocol):
        @property
        def path(self) -> str: ...
        @property
        def headers(self) -> dict[str, str]: ...
        @property
        def body(self) -> bytes: ...
        @property
        def at(self) -> float: ...

    class Receiver(Protocol):
        hits: list[Hit]
        script: deque[int]
        delay: float
        port: int

        @property
        def url(self) -> str: ...

        def respond(self, *statuses: int) -> None: ...
else:
    from .conftest import Receiver

T = TypeVar("T")
LOCAL = UrlPolicy(allow_http=True, allowlist=("127.0.0.1",))
HEADERS = {"X-ScaiControl-Event-Id": "evt_test", "Content-Type": "application/json"}
BODY = b'{"hello":"world"}'
TRANSPORT_HEADERS = {"host", "content-length", "accept", "accept-encoding"}
#: The watchdog's message for a request the child never answered.
NO_RESULT = "(no result from the webhook sender process)"


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run an async test body on a fresh event loop."""

    async def main() -> T:
        return await make()

    return asyncio.run(main())


async def hits_arrive(receiver: Receiver, count: int, timeout: float = 5.0) -> None:
    """Wait (without blocking the loop) until the receiver got ``count`` requests."""
    deadline = time.monotonic() + timeout
    while len(receiver.hits) < count:
        assert time.monotonic() < deadline, f"{len(receiver.hits)} of {count} requests arrived"
        await asyncio.sleep(0.01)


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def loopback_name() -> str | None:
    """This machine's host name if it resolves to loopback addresses only, else None."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, 80, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return None
    if not infos or any(not str(info[4][0]).startswith("127.") for info in infos):
        return None
    return name


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as ended); Linux /proc only."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.fixture
def fast_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short grace for overdue results and a watchdog that looks ten times a second."""
    monkeypatch.setattr(webhook_sender_process, "RESULT_GRACE", 0.5)
    monkeypatch.setattr(webhook_sender_process, "_WATCH_INTERVAL", 0.1)


# --- the same results as the in-process sender ----------------------------------------


@attrs.frozen(kw_only=True)
class Case:
    """One request and what either sender must make of it. ``url`` may use ``{base}`` (the
    receiver), ``{port}`` (its port), ``{closed}`` (a dead port), ``{name}`` (a host name
    that resolves to loopback)."""

    url: str = "{base}/hook"
    policy: UrlPolicy = LOCAL
    answer: int | None = None  # the receiver's status (204 when None)
    delay: float = 0.0  # the receiver's delay
    timeout: float = 5.0
    start_by: float | None = None  # seconds from now
    status: int | None = 204
    error: str | None = None  # expected prefix; None: no error
    permanent: bool = False
    sent: bool = True
    hits: int = 1  # requests the receiver gets from one sender


CASES = [
    pytest.param(Case(), id="204"),
    pytest.param(Case(answer=409, status=409), id="409-is-success"),
    pytest.param(Case(answer=500, status=500, error="HTTP 500: answer 500"), id="500"),
    pytest.param(Case(policy=UrlPolicy(allowlist=("127.0.0.1",)), status=None,
                      error="target refused (scheme)", permanent=True, hits=0),
                 id="http-not-allowed"),
    pytest.param(Case(policy=UrlPolicy(allow_http=True), status=None,
                      error="target refused (loopback): 127.0.0.1 is loopback", hits=0),
                 id="loopback-literal"),
    pytest.param(Case(url="http://{name}:{port}/hook", policy=UrlPolicy(allow_http=True),
                      status=None, error="target refused (loopback): 127.", hits=0),
                 id="name-resolving-to-loopback"),
    pytest.param(Case(url="http://{name}:{port}/hook"), id="name-resolving-to-allowlisted"),
    pytest.param(Case(url="http://127.0.0.1:{closed}/hook", status=None,
                      error="network error", hits=0), id="closed-port"),
    pytest.param(Case(delay=0.6, timeout=0.3, status=None, error="timed out after 0.3 s"),
                 id="timeout"),
    pytest.param(Case(start_by=-1.0, status=None, sent=False, hits=0), id="past-start-by"),
]

SENDERS: dict[str, Callable[[UrlPolicy, timedelta], Sender]] = {
    "in-process": lambda policy, timeout: WebhookSender(policy, timeout=timeout),
    "child-process": lambda policy, timeout: ProcessSender(policy, timeout=timeout),
}


@pytest.mark.parametrize("case", CASES)
def test_both_senders_give_the_same_result(receiver: Receiver, case: Case) -> None:
    """Same request, same status, error, ``permanent`` and ``sent`` from the in-process
    and the child-process sender, and the receiver sees the same requests; the policy,
    timeout and ``start_by`` are applied in the child as in the parent."""
    name = loopback_name() or ""
    if "{name}" in case.url and not name:
        pytest.skip("this machine's host name does not resolve to loopback")
    url = case.url.format(base=receiver.url, port=receiver.port, closed=closed_port(),
                          name=name)
    receiver.delay = case.delay
    outcomes: dict[str, tuple[int | None, str | None, bool, bool]] = {}
    for kind, make in SENDERS.items():
        if case.answer is not None:
            receiver.respond(case.answer)
        before = len(receiver.hits)

        async def go(make: Callable[[UrlPolicy, timedelta], Sender] = make) -> SendResult:
            sender = make(case.policy, timedelta(seconds=case.timeout))
            try:
                start_by = None if case.start_by is None else time.monotonic() + case.start_by
                return await sender.send(url, BODY, HEADERS, start_by=start_by)
            finally:
                await sender.close()

        result = run(go)
        outcomes[kind] = (result.status_code, result.error, result.permanent, result.sent)
        assert len(receiver.hits) - before == case.hits, kind
        receiver.script.clear()
        assert result.status_code == case.status, kind
        if case.error is None:
            assert result.error is None, kind
        else:
            assert str(result.error).startswith(case.error), (kind, result.error)
        assert (result.permanent, result.sent) == (case.permanent, case.sent), kind
    assert outcomes["child-process"] == outcomes["in-process"]


# --- the requests themselves ----------------------------------------------------------


def test_body_and_headers_arrive_exactly(receiver: Receiver) -> None:
    """A signed delivery of 1 MB goes through the child byte for byte, with exactly the
    given headers (plus transport ones) and the documented user agent."""
    envelope = sample_event(Topic.SUBSCRIPTION_CHANGED, now=datetime.now(UTC),
                            ids=SequentialIds())
    body = envelope_to_json(envelope)[:-1] + b',"pad":"' + b"x" * 1_000_000 + b'"}'
    headers = delivery_headers(envelope, body, generate_secret(bytes(32)), datetime.now(UTC))

    async def go() -> SendResult:
        async with ProcessSender(LOCAL) as sender:
            return await sender.send(receiver.url + "/exact?q=1", body, headers)

    result = run(go)
    assert (result.status_code, result.error, result.sent) == (204, None, True)
    [hit] = receiver.hits
    assert hit.path == "/exact" and hit.body == body
    names = {name.lower() for name in hit.headers}
    assert names - TRANSPORT_HEADERS == {name.lower() for name in headers}
    for name, value in headers.items():
        assert hit.headers[name] == value
    assert hit.headers["User-Agent"] == "ScaiControl-Webhook/1.0"


def test_each_reply_goes_to_its_own_request(receiver: Receiver) -> None:
    """Sixteen concurrent requests of four kinds get their own outcomes back (answers come
    back in a different order than the requests went out)."""
    closed = closed_port()
    urls = {
        "ok": receiver.url + "/ok/{n}",
        "closed": f"http://127.0.0.1:{closed}/hook/{{n}}",
        "private": "https://10.0.0.8/hook/{n}",
        "scheme": "ftp://127.0.0.1/hook/{n}",
    }
    kinds = [kind for _ in range(4) for kind in urls]

    async def go() -> list[SendResult]:
        async with ProcessSender(LOCAL, concurrency=3) as sender:
            return await asyncio.gather(*(
                sender.send(urls[kind].format(n=n), BODY, HEADERS)
                for n, kind in enumerate(kinds)
            ))

    results = run(go)
    for n, (kind, result) in enumerate(zip(kinds, results, strict=True)):
        error = str(result.error)
        if kind == "ok":
            assert (result.status_code, result.error) == (204, None), n
        elif kind == "closed":
            assert result.status_code is None and error.startswith("network error"), n
            assert f":{closed}" in error, n
        elif kind == "private":
            assert error == "target refused (private): 10.0.0.8 is private", n
            assert not result.permanent, n
        else:
            assert error.startswith("target refused (scheme)") and result.permanent, n
    assert sorted(hit.path for hit in receiver.hits) == sorted(
        f"/ok/{n}" for n, kind in enumerate(kinds) if kind == "ok")


def test_the_child_makes_at_most_concurrency_posts_at_once(receiver: Receiver) -> None:
    """With ``concurrency=2`` and a 0.4 s receiver, four requests arrive two and two."""
    receiver.delay = 0.4

    async def go() -> list[SendResult]:
        async with ProcessSender(LOCAL, concurrency=2) as sender:
            return await asyncio.gather(*(
                sender.send(f"{receiver.url}/{n}", BODY, HEADERS) for n in range(4)))

    results = run(go)
    assert [result.status_code for result in results] == [204] * 4
    at = sorted(hit.at for hit in receiver.hits)
    assert at[1] - at[0] < 0.3  # two at once...
    assert at[2] - at[0] >= 0.35 and at[3] - at[1] >= 0.35  # ...then the next two


@pytest.mark.parametrize("concurrency", [1, 5, 64])
def test_slots_and_timeout(concurrency: int) -> None:
    """``slots`` keeps PIPELINE requests per POST outstanding; ``timeout`` is the one
    given (REQUEST_TIMEOUT by default, as for the in-process sender); no child yet."""
    sender = ProcessSender(LOCAL, timeout=timedelta(seconds=7), concurrency=concurrency)
    assert sender.slots == concurrency * PIPELINE and PIPELINE > 1
    assert sender.timeout == timedelta(seconds=7)
    assert ProcessSender(LOCAL).timeout == REQUEST_TIMEOUT == WebhookSender(LOCAL).timeout
    assert sender.children_started == 0 and sender._process is None


# --- start_by ------------------------------------------------------------------------


def test_a_request_waiting_in_the_child_past_its_start_by_is_not_sent(
    receiver: Receiver,
) -> None:
    """With one slot busy for 1 s, a request with 0.3 s to spare reaches the child in time
    but waits there for the slot past its ``start_by``: it comes back not sent once the
    slot is free, and only the first request is POSTed."""
    receiver.delay = 1.0

    async def go() -> tuple[SendResult, SendResult, float]:
        async with ProcessSender(LOCAL, concurrency=1) as sender:
            await sender.open()
            started = time.monotonic()
            first, second = await asyncio.gather(
                sender.send(receiver.url + "/first", BODY, HEADERS),
                sender.send(receiver.url + "/second", BODY, HEADERS,
                            start_by=time.monotonic() + 0.3),
            )
            return first, second, time.monotonic() - started

    first, second, took = run(go)
    assert (first.status_code, first.error, first.sent) == (204, None, True)
    assert (second.sent, second.status_code, second.error) == (False, None, None)
    assert took >= 0.9  # the second was decided when the slot came free, not on arrival
    assert [hit.path for hit in receiver.hits] == ["/first"]


# --- a child that dies, hangs or is hung up on -----------------------------------------


def test_a_dead_child_fails_its_requests_and_is_replaced(receiver: Receiver) -> None:
    """Killing the child during a slow request ends that request at once as a network
    error (not after the receiver's answer or the timeout); the next request starts a
    second child and succeeds."""
    receiver.delay = 1.0

    async def go() -> tuple[SendResult, float, SendResult, int, subprocess.Popen[bytes]]:
        async with ProcessSender(LOCAL) as sender:
            await sender.open()
            first_child = sender._process
            assert first_child is not None
            pending = asyncio.create_task(sender.send(receiver.url + "/slow", BODY, HEADERS))
            await hits_arrive(receiver, 1)
            first_child.kill()
            killed = time.monotonic()
            lost = await asyncio.wait_for(pending, 5)
            waited = time.monotonic() - killed
            receiver.delay = 0.0
            again = await sender.send(receiver.url + "/again", BODY, HEADERS)
            assert sender._process is not first_child
            return lost, waited, again, sender.children_started, first_child

    lost, waited, again, children, first_child = run(go)
    assert lost.status_code is None and str(lost.error).startswith("network error")
    assert not lost.permanent and lost.sent
    assert waited < 0.9
    assert (again.status_code, again.error) == (204, None)
    assert children == 2 and first_child.returncode == -signal.SIGKILL
    assert [hit.path for hit in receiver.hits] == ["/slow", "/again"]


@pytest.mark.usefixtures("fast_watchdog")
def test_a_hung_child_times_out_and_is_replaced(receiver: Receiver) -> None:
    """A stopped child (SIGSTOP) with a request in flight: the watchdog ends the request
    as timed out after timeout + RESULT_GRACE (1 + 0.5 s), kills the child, and the next
    request works through a fresh child."""
    receiver.delay = 0.5
    hung: subprocess.Popen[bytes] | None = None

    async def go() -> tuple[SendResult, float, int, SendResult, int]:
        nonlocal hung
        async with ProcessSender(LOCAL, timeout=timedelta(seconds=1)) as sender:
            await sender.open()
            hung = sender._process
            assert hung is not None
            sent_at = time.monotonic()
            pending = asyncio.create_task(sender.send(receiver.url + "/stuck", BODY, HEADERS))
            await hits_arrive(receiver, 1)
            os.kill(hung.pid, signal.SIGSTOP)
            stuck = await asyncio.wait_for(pending, 5)
            took = time.monotonic() - sent_at
            code = await asyncio.to_thread(hung.wait, 3)  # the watchdog killed it
            receiver.delay = 0.0
            again = await sender.send(receiver.url + "/again", BODY, HEADERS)
            return stuck, took, code, again, sender.children_started

    try:
        stuck, took, code, again, children = run(go)
    finally:
        if hung is not None and hung.poll() is None:
            os.kill(hung.pid, signal.SIGCONT)
            hung.kill()
            hung.wait()
    assert stuck.status_code is None and not stuck.permanent
    assert stuck.error == f"timed out after 1 s {NO_RESULT}"
    assert 1.4 <= took < 3.0
    assert code == -signal.SIGKILL
    assert (again.status_code, again.error) == (204, None) and children == 2


@pytest.mark.usefixtures("fast_watchdog")
def test_a_slow_answer_within_the_grace_keeps_the_child(receiver: Receiver) -> None:
    """A request the child itself times out (1.2 s receiver, 1 s timeout) gets the
    child's own timeout result, not the watchdog's, and the child stays."""
    receiver.delay = 1.2

    async def go() -> tuple[SendResult, SendResult, int, bool]:
        async with ProcessSender(LOCAL, timeout=timedelta(seconds=1)) as sender:
            slow = await sender.send(receiver.url + "/slow", BODY, HEADERS)
            await asyncio.sleep(0.3)  # several watchdog rounds after the answer
            after = await sender.send(receiver.url + "/after", BODY, HEADERS,
                                      start_by=time.monotonic() - 1)
            child = sender._process
            alive = child is not None and child.poll() is None
            return slow, after, sender.children_started, alive

    slow, after, children, alive = run(go)
    assert slow.status_code is None and slow.error == "timed out after 1 s"
    assert after.sent is False  # answered by the child: it still works
    assert children == 1 and alive


def test_close_stops_the_child_and_ends_its_requests(receiver: Receiver) -> None:
    """``close`` hangs up and the child exits by itself (code 0: the parent kills only a
    child that does not exit); the sender forgets it. A request waiting for a slow receiver
    ends as a network error by the time ``close`` returns, long before the receiver would
    answer. Closing twice, or a sender that never started a child, is harmless."""
    receiver.delay = 1.0

    async def go() -> tuple[asyncio.Task[SendResult], float, subprocess.Popen[bytes],
                            ProcessSender]:
        await ProcessSender(LOCAL).close()
        sender = ProcessSender(LOCAL)
        await sender.open()
        child = sender._process
        assert child is not None
        pending = asyncio.create_task(sender.send(receiver.url + "/slow", BODY, HEADERS))
        await hits_arrive(receiver, 1)
        started = time.monotonic()
        await sender.close()
        took = time.monotonic() - started
        assert pending.done(), "close returned with a request still pending"
        await sender.close()
        return pending, took, child, sender

    pending, took, child, sender = run(go)
    result = pending.result()
    assert result.status_code is None and str(result.error).startswith("network error")
    assert took < 0.8
    assert child.returncode == 0 and sender._process is None


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_the_child_exits_when_its_parent_dies() -> None:
    """A parent process killed with SIGKILL (no ``close``) leaves its child without a
    peer on the socket; the child exits by itself."""
    script = (
        "import asyncio, os, signal\n"
        "from scaicontrol_core.webhooks import UrlPolicy\n"
        "from scaicontrol_server.webhook_sender_process import ProcessSender\n"
        "async def main():\n"
        "    sender = ProcessSender(UrlPolicy())\n"
        "    await sender.open()\n"
        "    print(sender._process.pid, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "asyncio.run(main())\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL)
    pid = 0
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        parent.stdout.close()
        assert parent.wait(10) == -signal.SIGKILL
        deadline = time.monotonic() + 5
        while running(pid):
            assert time.monotonic() < deadline, "the orphaned child is still running"
            time.sleep(0.02)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if pid and running(pid):
            os.kill(pid, signal.SIGKILL)


# --- starting the child ----------------------------------------------------------------


def test_concurrent_first_sends_and_opens_start_one_child(receiver: Receiver) -> None:
    """Five sends and two ``open`` calls at once on a fresh sender share the one child
    they start; a later ``open`` keeps it."""

    async def go() -> tuple[list[SendResult], int, bool]:
        async with ProcessSender(LOCAL) as sender:
            sends = [asyncio.create_task(sender.send(f"{receiver.url}/{n}", BODY, HEADERS))
                     for n in range(5)]
            await asyncio.gather(sender.open(), sender.open(), *sends)
            results = [send.result() for send in sends]
            first = sender._process
            await sender.open()
            await sender.open()
            return results, sender.children_started, sender._process is first

    results, children, same = run(go)
    assert [result.status_code for result in results] == [204] * 5
    assert children == 1 and same
    assert sorted(hit.path for hit in receiver.hits) == [f"/{n}" for n in range(5)]


# --- a failing request and a busy child do not cost the child ------------------------


@pytest.mark.usefixtures("fast_watchdog")
def test_a_request_the_child_cannot_make_does_not_cost_the_child(receiver: Receiver) -> None:
    """A header value with CR/LF makes aiohttp raise in the child: ``send`` raises at once,
    as the in-process sender does, and the child stays."""
    bad = {**HEADERS, "X-Extra": "a\r\nX-Injected: 1"}

    async def go() -> tuple[float, int, bool]:
        async with ProcessSender(LOCAL, timeout=timedelta(seconds=1)) as sender:
            await sender.open()
            started = time.monotonic()
            with pytest.raises(SenderFailure, match="ValueError"):  # WebhookSender raises too
                await sender.send(receiver.url + "/bad", BODY, bad)
            took = time.monotonic() - started
            await asyncio.sleep(0.2)
            child = sender._process
            return took, sender.children_started, child is not None and child.poll() is None

    took, children, alive = run(go)
    assert took < 1.0 and children == 1 and alive


@pytest.mark.usefixtures("fast_watchdog")
def test_requests_queued_in_the_child_without_start_by_do_not_cost_the_child(
    receiver: Receiver,
) -> None:
    """Three requests without ``start_by`` for one slot and a 0.7 s receiver: the third
    waits for the slot past the 1 s timeout and times out in the child, which is busy, not
    hung, and is kept."""
    receiver.delay = 0.7

    async def go() -> tuple[list[SendResult], bool]:
        async with ProcessSender(LOCAL, timeout=timedelta(seconds=1), concurrency=1) as sender:
            await sender.open()
            results = await asyncio.gather(*(
                sender.send(f"{receiver.url}/{n}", BODY, HEADERS) for n in range(3)))
            child = sender._process
            return results, child is not None and child.poll() is None

    results, alive = run(go)
    assert not any(NO_RESULT in str(result.error) for result in results)
    assert alive


# --- submitting with a callback instead of awaiting ------------------------------------


async def submit_all(sender: Sender, requests: list[tuple[str, dict[str, str]]],
                     timeout: float = 5.0) -> list[SendResult | Exception]:
    """Submit every (url, headers) request; the outcomes in request order."""
    outcomes: dict[int, SendResult | Exception] = {}
    for n, (url, headers) in enumerate(requests):
        sender.submit(url, BODY, headers, start_by=None,
                      done=lambda outcome, n=n: outcomes.__setitem__(n, outcome))
    deadline = time.monotonic() + timeout
    while len(outcomes) < len(requests):
        assert time.monotonic() < deadline, f"{len(outcomes)} of {len(requests)} reported"
        await asyncio.sleep(0.01)
    return [outcomes[n] for n in range(len(requests))]


def summary(outcome: SendResult | Exception) -> tuple[object, ...]:
    if isinstance(outcome, Exception):
        return (type(outcome).__name__ if type(outcome) is not SenderFailure else "raised",)
    return (outcome.status_code, (outcome.error or "")[:15], outcome.permanent, outcome.sent)


@pytest.mark.parametrize("kind", list(SENDERS))
def test_submit_reports_what_send_returns(receiver: Receiver, kind: str) -> None:
    """Answered, refused, unreachable and unbuildable requests report through ``done`` what
    ``send`` returns or raises (the process sender's child starts with the first submit)."""
    receiver.respond(204, 500, 204, 500)
    bad = {**HEADERS, "X-Extra": "a\r\nX-Injected: 1"}
    requests = [
        (receiver.url + "/a", HEADERS),
        (receiver.url + "/b", HEADERS),
        (f"http://127.0.0.1:{closed_port()}/c", HEADERS),
        ("https://10.0.0.8/d", HEADERS),
    ]

    async def go() -> tuple[list[SendResult | Exception], list[SendResult | Exception]]:
        sender = SENDERS[kind](LOCAL, REQUEST_TIMEOUT)
        async with sender:  # type: ignore[attr-defined]
            submitted = await submit_all(sender, requests)
            raised: list[SendResult | Exception] = []
            for url, headers in [*requests, (receiver.url + "/e", bad)]:
                try:
                    raised.append(await sender.send(url, BODY, headers))
                except Exception as exc:
                    raised.append(exc)
            submitted += await submit_all(sender, [(receiver.url + "/e", bad)])
            return submitted, raised

    submitted, sent = run(go)
    assert [summary(o) for o in submitted] == [summary(o) for o in sent]
    assert [summary(o)[:2] for o in submitted] == [
        (204, ""), (500, "HTTP 500: answe"), (None, "network error: "),
        (None, "target refused "), ("raised",) if kind == "child-process" else ("ValueError",),
    ]


@pytest.mark.parametrize("kind", list(SENDERS))
def test_a_failing_callback_costs_no_other_request_its_result(
    receiver: Receiver, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """One ``done`` that raises is logged, by either sender; the other results (of the same
    reply batch, for the child process) still reach their callbacks."""

    async def go() -> list[SendResult | Exception]:
        sender = SENDERS[kind](LOCAL, REQUEST_TIMEOUT)
        async with sender:  # type: ignore[attr-defined]
            await sender.open()

            def broken(outcome: SendResult | Exception) -> None:
                raise RuntimeError("a bug in the caller")

            sender.submit(receiver.url + "/0", BODY, HEADERS, start_by=None, done=broken)
            return await submit_all(sender, [(f"{receiver.url}/{n}", HEADERS)
                                             for n in range(1, 6)])

    with caplog.at_level("ERROR", logger="scaicontrol.webhooks"):
        outcomes = run(go)
    assert [summary(o)[0] for o in outcomes] == [204] * 5
    assert len(receiver.hits) == 6
    [logged] = [r for r in caplog.records if "handling the result" in r.getMessage()]
    assert logged.exc_info is not None and "a bug in the caller" in str(logged.exc_info[1])


@pytest.mark.parametrize("kind", list(SENDERS))
def test_close_reports_every_submitted_request(receiver: Receiver, kind: str) -> None:
    """Requests still running when the sender closes are reported all the same: as a
    network error from the child process, as cancelled from the in-process sender (also
    when another request's callback raises)."""
    receiver.delay = 5.0

    def broken(outcome: SendResult | Exception) -> None:
        raise RuntimeError("a bug in the caller")

    async def go() -> list[SendResult | Exception]:
        sender = SENDERS[kind](LOCAL, REQUEST_TIMEOUT)
        await sender.open()
        outcomes: list[SendResult | Exception] = []
        sender.submit(f"{receiver.url}/broken", BODY, HEADERS, start_by=None, done=broken)
        for n in range(3):
            sender.submit(f"{receiver.url}/{n}", BODY, HEADERS, start_by=None,
                          done=outcomes.append)
        await hits_arrive(receiver, 4)
        await sender.close()
        return outcomes

    outcomes = run(go)
    assert len(outcomes) == 3
    if kind == "child-process":
        assert all(isinstance(o, SendResult) and str(o.error).startswith("network error")
                   for o in outcomes)
    else:
        assert all(isinstance(o, RuntimeError) and "cancelled" in str(o) for o in outcomes)

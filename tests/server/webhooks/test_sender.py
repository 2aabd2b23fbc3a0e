"""The HTTP side of deliveries: exact headers, signatures, timeouts, redirects, target safety."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

import pytest

from scaicontrol_core.events import Topic, envelope_to_json
from scaicontrol_core.ids import SequentialIds
from scaicontrol_core.webhooks import (
    UrlPolicy,
    UrlProblem,
    delivery_headers,
    generate_secret,
    verify,
    verify_standard,
)
from scaicontrol_core.webhooks.samples import sample_event
from scaicontrol_server.webhook_http import Resolver
from scaicontrol_server.webhook_sender import SendResult, UnsafeTarget, WebhookSender

from .conftest import Receiver

LOCAL = UrlPolicy(allow_http=True, allowlist=("127.0.0.1",))
SECRET = generate_secret(bytes(range(32)))
EXPECTED_HEADERS = {
    "content-type", "user-agent", "x-scaicontrol-event-id", "x-scaicontrol-event-type",
    "x-scaicontrol-timestamp", "x-scaicontrol-signature",
}
TRANSPORT_HEADERS = {"host", "content-length", "accept", "accept-encoding"}


def send(url: str, *, policy: UrlPolicy = LOCAL, standard: bool = False,
         timeout: float = 5.0, resolver: Resolver | None = None,
         body: bytes | None = None) -> tuple[SendResult, bytes, dict[str, str]]:
    envelope = sample_event(Topic.SUBSCRIPTION_CHANGED, now=datetime.now(UTC),
                            ids=SequentialIds())
    raw = envelope_to_json(envelope) if body is None else body
    headers = delivery_headers(envelope, raw, SECRET, datetime.now(UTC),
                               standard_webhooks=standard)

    async def go() -> SendResult:
        async with WebhookSender(policy, timeout=timedelta(seconds=timeout),
                                 resolver=resolver) as sender:
            return await sender.send(url, raw, headers)

    return asyncio.run(go()), raw, headers


def test_a_delivery_carries_exactly_the_documented_headers(receiver: Receiver) -> None:
    """The POST has the six documented headers (plus transport ones) and a valid signature
    over the exact body bytes."""
    result, body, _ = send(receiver.url + "/hook")
    [hit] = receiver.wait_for(1)
    names = {name.lower() for name in hit.headers}
    assert names - TRANSPORT_HEADERS == EXPECTED_HEADERS
    assert hit.body == body and hit.path == "/hook"
    assert hit.headers["User-Agent"] == "ScaiControl-Webhook/1.0"
    assert hit.headers["Content-Type"] == "application/json"
    assert verify(SECRET, hit.body, hit.headers["X-ScaiControl-Signature"],
                  hit.headers["X-ScaiControl-Timestamp"], datetime.now(UTC))
    assert result == SendResult(status_code=204, error=None, duration_ms=result.duration_ms)


def test_standard_webhooks_headers_verify_with_the_standard_scheme(receiver: Receiver) -> None:
    """With Standard Webhooks on, webhook-id/-timestamp/-signature verify as specified."""
    send(receiver.url + "/hook", standard=True)
    [hit] = receiver.wait_for(1)
    assert hit.headers["webhook-id"] == hit.headers["X-ScaiControl-Event-Id"]
    assert verify_standard(SECRET, hit.body, hit.headers["webhook-id"],
                           hit.headers["webhook-timestamp"], hit.headers["webhook-signature"],
                           datetime.now(UTC))


@pytest.mark.parametrize("status", [409, 200, 299])
def test_success_and_conflict_report_no_error(receiver: Receiver, status: int) -> None:
    """2xx and 409 come back as the status with no error text."""
    receiver.respond(status)
    result, _, _ = send(receiver.url + "/hook")
    assert (result.status_code, result.error) == (status, None)


def test_failures_quote_the_status_and_a_bit_of_the_body(receiver: Receiver) -> None:
    """A 503 answer is reported with its status and the start of its body."""
    receiver.respond(503)
    result, _, _ = send(receiver.url + "/hook")
    assert result.status_code == 503 and result.error == "HTTP 503: answer 503"


def test_redirects_are_never_followed(receiver: Receiver) -> None:
    """A 302 is the attempt's answer; the Location is not requested."""
    receiver.respond(302)
    result, _, _ = send(receiver.url + "/hook")
    assert result.status_code == 302
    assert [hit.path for hit in receiver.hits] == ["/hook"]


def test_a_slow_subscriber_times_out(receiver: Receiver) -> None:
    """No answer within the timeout: no status, a timeout error."""
    receiver.delay = 1.0
    result, _, _ = send(receiver.url + "/hook", timeout=0.2)
    assert result.status_code is None and result.error is not None
    assert result.error.startswith("timed out") and not result.permanent


def test_a_closed_port_is_a_network_error() -> None:
    """A refused connection has no status and a network error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result, _, _ = send(f"http://127.0.0.1:{port}/hook")
    assert result.status_code is None and str(result.error).startswith("network error")


@pytest.mark.parametrize(("url", "policy", "permanent"), [
    ("http://127.0.0.1:9/hook", UrlPolicy(allowlist=("127.0.0.1",)), True),  # http not allowed
    ("https://127.0.0.1:9/hook", UrlPolicy(), False),                  # loopback
    ("https://10.0.0.8/hook", LOCAL, False),                           # private
    ("https://169.254.169.254/latest/meta-data", LOCAL, False),       # cloud metadata
    ("https://u:p@example.com/hook", LOCAL, True),                     # credentials
])
def test_unsafe_targets_are_refused_before_connecting(
    receiver: Receiver, url: str, policy: UrlPolicy, permanent: bool
) -> None:
    """Refused targets are never contacted; URL-shape problems are permanent, address
    problems are retried like network errors."""
    result, _, _ = send(url, policy=policy)
    assert result.status_code is None and "target refused" in str(result.error)
    assert result.permanent is permanent and receiver.hits == []


class FakeResolver:
    """Answers every name with fixed addresses."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return list(self.addresses)


def test_host_names_connect_only_to_checked_addresses(receiver: Receiver) -> None:
    """A name that resolves to an allowed address is used as resolved; if any address of
    the answer is internal and not allowed, the host is refused as a whole."""
    url = f"http://hooks.test:{receiver.port}/hook"
    good = FakeResolver("127.0.0.1")
    result, _, _ = send(url, resolver=good)
    assert result.status_code == 204 and good.asked == ["hooks.test"]
    assert receiver.wait_for(1)[0].headers["Host"] == f"hooks.test:{receiver.port}"
    mixed = FakeResolver("127.0.0.1", "10.1.1.1")
    result, _, _ = send(url, resolver=mixed)
    assert result.status_code is None and "10.1.1.1" in str(result.error)
    assert len(receiver.hits) == 1


def test_unsafe_target_names_the_problem() -> None:
    """The refusal carries the core's problem code."""
    refusal = UnsafeTarget(UrlProblem.PRIVATE, "10.0.0.1 is private")
    assert refusal.problem is UrlProblem.PRIVATE and "private" in str(refusal)


def test_big_bodies_are_posted_whole(receiver: Receiver) -> None:
    """Bodies are sent byte for byte, whatever their size."""
    body = b'{"x":"' + b"y" * 200_000 + b'"}'
    result, _, _ = send(receiver.url + "/hook", body=body)
    assert result.status_code == 204 and receiver.wait_for(1)[0].body == body

"""Webhook signatures: conformance vectors, an independent subscriber, headers and secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaicontrol_core.errors import ValidationError
from scaicontrol_core.events import (
    SubscriptionTrialEnding,
    build_event,
    envelope_to_dict,
    envelope_to_json,
)
from scaicontrol_core.ids import SequentialIds
from scaicontrol_core.webhooks import (
    delivery_headers,
    generate_secret,
    sign,
    sign_standard,
    signature_problem,
    standard_key,
    unix_seconds,
    verify,
    verify_standard,
)

# -- conformance vectors (byte-exact) ---------------------------------------------------------

SC_SECRET = "whsec_test_secret"
SC_BODY = (
    b'{"event_id":"00000000-0000-4000-8000-000000000000","event_type":"subscription.activated"}'
)
SC_SIGNATURE = "sha256=ef861807e3ac9a1969cb279194fb6b96d9fa29160acbdac4b83a14a63834e5ce"

SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TIMESTAMP = "1614265330"
SW_BODY = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SW_NOW = datetime.fromtimestamp(1614265330, UTC)

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
NOW_TS = str(unix_seconds(NOW))


def test_scaicontrol_vector_signature() -> None:
    """sign() reproduces the published ScaiControl vector exactly."""
    assert sign(SC_SECRET, SC_BODY) == SC_SIGNATURE


def test_scaicontrol_vector_verifies() -> None:
    """verify() accepts the vector with a current timestamp."""
    assert verify(SC_SECRET, SC_BODY, SC_SIGNATURE, NOW_TS, NOW)


def test_scaicontrol_one_byte_change_fails() -> None:
    """Changing one byte of the vector body makes verification fail."""
    tampered = SC_BODY.replace(b"activated", b"activatee")
    assert len(tampered) == len(SC_BODY)
    assert not verify(SC_SECRET, tampered, SC_SIGNATURE, NOW_TS, NOW)


@pytest.mark.parametrize(
    ("signature", "timestamp", "reason"),
    [
        (None, NOW_TS, "missing signature"),
        ("", NOW_TS, "missing signature"),
        (SC_SIGNATURE.upper(), NOW_TS, "malformed signature"),
        (SC_SIGNATURE.removeprefix("sha256="), NOW_TS, "malformed signature"),
        ("sha1=" + SC_SIGNATURE[7:], NOW_TS, "malformed signature"),
        (" " + SC_SIGNATURE, NOW_TS, "malformed signature"),
        (SC_SIGNATURE[:-1], NOW_TS, "malformed signature"),
        (SC_SIGNATURE[:-1] + "f", NOW_TS, "signature mismatch"),
        (SC_SIGNATURE, None, "missing timestamp"),
        (SC_SIGNATURE, "", "missing timestamp"),
        (SC_SIGNATURE, "soon", "malformed timestamp"),
        (SC_SIGNATURE, "+" + NOW_TS, "malformed timestamp"),
        (SC_SIGNATURE, " " + NOW_TS, "malformed timestamp"),
        (SC_SIGNATURE, NOW_TS + ".0", "malformed timestamp"),
        (SC_SIGNATURE, "-1", "malformed timestamp"),
        (SC_SIGNATURE, "١٢٣", "malformed timestamp"),
        (SC_SIGNATURE, "9" * 13, "malformed timestamp"),
        (SC_SIGNATURE, str(int(NOW_TS) - 301), "timestamp outside the tolerance window"),
        (SC_SIGNATURE, str(int(NOW_TS) + 301), "timestamp outside the tolerance window"),
    ],
)
def test_scaicontrol_verifier_rejects(
    signature: str | None, timestamp: str | None, reason: str
) -> None:
    """Malformed, missing, wrong or stale headers are refused with a reason."""
    assert signature_problem(SC_SECRET, SC_BODY, signature, timestamp, NOW) == reason
    assert not verify(SC_SECRET, SC_BODY, signature, timestamp, NOW)


@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_scaicontrol_window_is_300_seconds_inclusive(offset: int) -> None:
    """Timestamps up to exactly 300 s away either way are accepted."""
    assert verify(SC_SECRET, SC_BODY, SC_SIGNATURE, str(int(NOW_TS) + offset), NOW)


def test_scaicontrol_tolerance_is_a_parameter() -> None:
    """A custom tolerance narrows the window."""
    stamp = str(int(NOW_TS) - 60)
    assert not verify(SC_SECRET, SC_BODY, SC_SIGNATURE, stamp, NOW, timedelta(seconds=30))


# -- an independent subscriber, written from the spec's verification recipe -----------------


def recipe_reject_reason(
    secret: bytes, raw_body: bytes, headers: dict[str, str], now: float
) -> str | None:
    """The spec's subscriber recipe, with the clock passed in."""
    expected = "sha256=" + hmac.new(secret, raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("X-ScaiControl-Signature", ""), expected):
        return "bad signature"
    try:
        stamp = int(headers.get("X-ScaiControl-Timestamp", ""))
    except ValueError:
        return "missing or malformed timestamp"
    if abs(now - stamp) > 300:
        return "timestamp outside replay window"
    return None


def _delivery(secret: str, now: datetime) -> tuple[bytes, dict[str, str]]:
    payload = SubscriptionTrialEnding(
        subscription_id="sub_abc",
        tenant_id="tnt_1",
        partner_id="prt_1",
        plan_key="scaikey.trial",
        trial_ends_at=now + timedelta(days=3),
        days_remaining=3,
    )
    envelope = build_event(payload, occurred_at=now, ids=SequentialIds())
    body = envelope_to_json(envelope)
    return body, delivery_headers(envelope, body, secret, now)


def test_independent_subscriber_accepts_our_deliveries() -> None:
    """A verifier built only from the spec accepts what we sign and send."""
    body, headers = _delivery(SC_SECRET, NOW)
    assert recipe_reject_reason(SC_SECRET.encode(), body, headers, NOW.timestamp()) is None


def test_independent_subscriber_rejects_a_tampered_body() -> None:
    """The spec verifier refuses our signature once the body is altered."""
    body, headers = _delivery(SC_SECRET, NOW)
    tampered = body.replace(b'"days_remaining":3', b'"days_remaining":1')
    assert tampered != body
    reason = recipe_reject_reason(SC_SECRET.encode(), tampered, headers, NOW.timestamp())
    assert reason == "bad signature"


def test_independent_subscriber_rejects_a_late_delivery() -> None:
    """The spec verifier refuses a delivery received more than five minutes later."""
    body, headers = _delivery(SC_SECRET, NOW)
    later = (NOW + timedelta(seconds=301)).timestamp()
    assert recipe_reject_reason(SC_SECRET.encode(), body, headers, later) is not None


secrets_text = st.text(min_size=1, max_size=64)
bodies = st.binary(max_size=512)


@given(secret=secrets_text, body=bodies)
def test_sign_verify_round_trip(secret: str, body: bytes) -> None:
    """Any secret and body verify with their own signature, also by the spec recipe."""
    signature = sign(secret, body)
    assert verify(secret, body, signature, NOW_TS, NOW)
    headers = {"X-ScaiControl-Signature": signature, "X-ScaiControl-Timestamp": NOW_TS}
    assert recipe_reject_reason(secret.encode(), body, headers, NOW.timestamp()) is None


@given(secret=secrets_text, body=bodies.filter(bool), data=st.data())
def test_any_single_byte_mutation_fails(secret: str, body: bytes, data: st.DataObject) -> None:
    """Changing any one byte of the body to any other value breaks the signature."""
    index = data.draw(st.integers(0, len(body) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]))
    mutated = body[:index] + bytes([value]) + body[index + 1 :]
    assert not verify(secret, mutated, sign(secret, body), NOW_TS, NOW)


def test_signing_needs_a_secret_and_bytes() -> None:
    """An empty secret or a str body is a programming error, not a signature."""
    with pytest.raises(ValidationError):
        sign("", b"x")
    with pytest.raises(TypeError):
        sign("s", "x")  # type: ignore[arg-type]


# -- Standard Webhooks ------------------------------------------------------------------------


def test_standard_vector_signature() -> None:
    """sign_standard() reproduces the published Standard Webhooks vector exactly."""
    assert sign_standard(SW_SECRET, SW_ID, int(SW_TIMESTAMP), SW_BODY) == SW_SIGNATURE


def test_standard_vector_verifies() -> None:
    """verify_standard() accepts the vector at its own timestamp."""
    assert verify_standard(SW_SECRET, SW_BODY, SW_ID, SW_TIMESTAMP, SW_SIGNATURE, SW_NOW)


def test_standard_accepts_any_of_several_signatures() -> None:
    """One matching v1 entry among several space-separated ones is enough."""
    header = f"v1,AAAA v2,zzzz {SW_SIGNATURE} v1,"
    assert verify_standard(SW_SECRET, SW_BODY, SW_ID, SW_TIMESTAMP, header, SW_NOW)


FIVE_MIN = timedelta(minutes=5)
SW_CASES = [
    ("missing id", None, SW_TIMESTAMP, SW_SIGNATURE, SW_NOW),
    ("empty id", "", SW_TIMESTAMP, SW_SIGNATURE, SW_NOW),
    ("missing timestamp", SW_ID, None, SW_SIGNATURE, SW_NOW),
    ("non-numeric timestamp", SW_ID, "yesterday", SW_SIGNATURE, SW_NOW),
    ("missing signature", SW_ID, SW_TIMESTAMP, None, SW_NOW),
    ("blank signature", SW_ID, SW_TIMESTAMP, "   ", SW_NOW),
    (
        "last character changed",
        SW_ID,
        SW_TIMESTAMP,
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
        SW_NOW,
    ),
    ("bare v1,", SW_ID, SW_TIMESTAMP, "v1,", SW_NOW),
    ("wrong version", SW_ID, SW_TIMESTAMP, "v2," + SW_SIGNATURE[3:], SW_NOW),
    ("too old", SW_ID, SW_TIMESTAMP, SW_SIGNATURE, SW_NOW + FIVE_MIN + timedelta(seconds=1)),
    ("too new", SW_ID, SW_TIMESTAMP, SW_SIGNATURE, SW_NOW - FIVE_MIN - timedelta(seconds=1)),
    ("other id", "msg_other", SW_TIMESTAMP, SW_SIGNATURE, SW_NOW),
]


@pytest.mark.parametrize(
    ("case", "msg_id", "timestamp", "signature", "now"), SW_CASES, ids=[c[0] for c in SW_CASES]
)
def test_standard_verifier_rejects(
    case: str, msg_id: str | None, timestamp: str | None, signature: str | None, now: datetime
) -> None:
    """Every negative case listed with the Standard Webhooks vector is refused."""
    assert not verify_standard(SW_SECRET, SW_BODY, msg_id, timestamp, signature, now)


def test_standard_one_byte_change_fails() -> None:
    """Changing one byte of the Standard Webhooks body fails verification."""
    tampered = b'{"test": 2432232315}'
    assert not verify_standard(SW_SECRET, tampered, SW_ID, SW_TIMESTAMP, SW_SIGNATURE, SW_NOW)


@pytest.mark.parametrize("offset", [-FIVE_MIN, FIVE_MIN])
def test_standard_window_is_five_minutes_inclusive(offset: timedelta) -> None:
    """Exactly five minutes either way is still accepted."""
    assert verify_standard(SW_SECRET, SW_BODY, SW_ID, SW_TIMESTAMP, SW_SIGNATURE, SW_NOW + offset)


def test_standard_key_strips_prefix_and_decodes() -> None:
    """The key is the base64 decoding of the secret without whsec_."""
    assert standard_key(SW_SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    with pytest.raises(ValidationError):
        standard_key("whsec_not base64!")


@given(raw=st.binary(min_size=24, max_size=64), body=bodies, msg_id=st.text(min_size=1))
def test_generated_secrets_work_for_both_schemes(raw: bytes, body: bytes, msg_id: str) -> None:
    """A generated secret signs and verifies in both schemes and decodes to its bytes."""
    secret = generate_secret(raw)
    assert secret.startswith("whsec_")
    assert standard_key(secret) == raw
    assert verify(secret, body, sign(secret, body), NOW_TS, NOW)
    signature = sign_standard(secret, msg_id, int(NOW_TS), body)
    assert verify_standard(secret, body, msg_id, NOW_TS, signature, NOW)


@pytest.mark.parametrize("size", [0, 16, 23, 65])
def test_generate_secret_needs_enough_random_bytes(size: int) -> None:
    """Fewer than 24 or more than 64 random bytes are refused."""
    with pytest.raises(ValidationError):
        generate_secret(b"\x00" * size)


# -- outbound headers ---------------------------------------------------------------------------


def test_delivery_headers_are_exactly_the_documented_set() -> None:
    """Without Standard Webhooks the six documented headers are produced."""
    body, headers = _delivery(SC_SECRET, NOW)
    envelope_id = "00000000-0000-4000-8000-000000000001"
    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": "ScaiControl-Webhook/1.0",
        "X-ScaiControl-Event-Id": envelope_id,
        "X-ScaiControl-Event-Type": "subscription.trial_ending",
        "X-ScaiControl-Timestamp": NOW_TS,
        "X-ScaiControl-Signature": sign(SC_SECRET, body),
    }


def test_delivery_headers_with_standard_webhooks() -> None:
    """With Standard Webhooks three more headers verify against the same body."""
    secret = generate_secret(bytes(range(32)))
    payload = build_event(
        SubscriptionTrialEnding(
            subscription_id="s1",
            tenant_id=None,
            partner_id="prt_1",
            plan_key="a.b",
            trial_ends_at=NOW,
            days_remaining=1,
        ),
        occurred_at=NOW,
        ids=SequentialIds(),
    )
    body = envelope_to_json(payload)
    headers = delivery_headers(
        envelope_to_dict(payload), body, secret, NOW, user_agent="X/2", standard_webhooks=True
    )
    assert set(headers) == {
        "Content-Type",
        "User-Agent",
        "X-ScaiControl-Event-Id",
        "X-ScaiControl-Event-Type",
        "X-ScaiControl-Timestamp",
        "X-ScaiControl-Signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
    assert headers["User-Agent"] == "X/2"
    assert headers["webhook-id"] == payload.event_id
    assert headers["webhook-timestamp"] == headers["X-ScaiControl-Timestamp"]
    assert verify_standard(
        secret,
        body,
        headers["webhook-id"],
        headers["webhook-timestamp"],
        headers["webhook-signature"],
        NOW,
    )
    assert verify(secret, body, headers["X-ScaiControl-Signature"], NOW_TS, NOW)


def test_each_attempt_is_stamped_afresh() -> None:
    """A later attempt carries a later timestamp but the same body signature."""
    body, first = _delivery(SC_SECRET, NOW)
    event = {"event_id": first["X-ScaiControl-Event-Id"], "event_type": "subscription.trial_ending"}
    later = NOW + timedelta(minutes=5, seconds=0.7)
    second = delivery_headers(event, body, SC_SECRET, later)
    assert int(second["X-ScaiControl-Timestamp"]) == int(NOW_TS) + 300
    assert second["X-ScaiControl-Event-Id"] == first["X-ScaiControl-Event-Id"]
    assert first["X-ScaiControl-Signature"] == second["X-ScaiControl-Signature"]


def test_header_values_must_be_printable() -> None:
    """A user agent with a line break cannot smuggle headers."""
    body, _ = _delivery(SC_SECRET, NOW)
    event = {"event_id": "e", "event_type": "subscription.resumed"}
    with pytest.raises(ValidationError):
        delivery_headers(event, body, SC_SECRET, NOW, user_agent="x\r\nX-Evil: 1")
    with pytest.raises(ValidationError):
        delivery_headers({"event_type": "t"}, body, SC_SECRET, NOW)


def test_unix_seconds_floors() -> None:
    """Fractions of a second are dropped, never rounded up."""
    assert unix_seconds(datetime(1970, 1, 1, 0, 0, 1, 999999, tzinfo=UTC)) == 1

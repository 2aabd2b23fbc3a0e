"""Webhook signatures: the ScaiControl scheme and the optional Standard Webhooks scheme.

ScaiControl: ``X-ScaiControl-Signature: sha256=<lower-case hex>`` = HMAC-SHA256 with the
subscriber secret (the whole string, ``whsec_`` prefix included, as UTF-8) as key and the raw
body as message. The timestamp is not signed; receivers check it against a 300-second window.

Standard Webhooks: ``webhook-signature: v1,<base64>`` = HMAC-SHA256 with the base64-decoded
secret (after removing ``whsec_``) as key over ``{webhook-id}.{webhook-timestamp}.{body}``.
A secret made by :func:`generate_secret` is valid for both schemes.

All comparisons are constant-time; malformed input makes a verifier answer ``False``, never
raise. Only a malformed *secret* (the operator's configuration) raises.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Final, cast

from ..clock import ensure_utc
from ..errors import ValidationError

__all__ = [
    "REPLAY_TOLERANCE",
    "SECRET_PREFIX",
    "generate_secret",
    "sign",
    "sign_standard",
    "signature_problem",
    "standard_key",
    "standard_signature_problem",
    "unix_seconds",
    "verify",
    "verify_standard",
]

#: How far a signed timestamp may be from the receiver's clock, either way.
REPLAY_TOLERANCE: Final = timedelta(seconds=300)
SECRET_PREFIX: Final = "whsec_"
_MIN_SECRET_BYTES: Final = 24
_MAX_SECRET_BYTES: Final = 64
_MAX_SIGNATURES: Final = 16

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SCAICONTROL_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}", re.ASCII)
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}", re.ASCII)


def unix_seconds(moment: datetime) -> int:
    """Whole seconds since the Unix epoch (floored), as sent in timestamp headers."""
    return (ensure_utc(moment) - _EPOCH) // timedelta(seconds=1)


def _require_secret(secret: str) -> bytes:
    if not isinstance(secret, str) or not secret:
        raise ValidationError("a webhook secret must be a non-empty string", field="secret")
    return secret.encode("utf-8")


def _require_body(body: bytes) -> bytes:
    if not isinstance(body, bytes):
        raise TypeError("the body must be the raw bytes that are sent")
    return body


def sign(secret: str, body: bytes) -> str:
    """The ``X-ScaiControl-Signature`` value for ``body``: ``sha256=<hex>``."""
    digest = hmac.new(_require_secret(secret), _require_body(body), hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _timestamp_problem(
    header: str | None, now: datetime, tolerance: timedelta, *, what: str
) -> str | None:
    if tolerance < timedelta(0):
        raise ValueError("tolerance must not be negative")
    if header is None or header == "":
        return f"missing {what}"
    if not _UNIX_SECONDS.fullmatch(header):
        return f"malformed {what}"
    sent = _EPOCH + timedelta(seconds=int(header))
    if abs(ensure_utc(now) - sent) > tolerance:
        return f"{what} outside the tolerance window"
    return None


def signature_problem(
    secret: str,
    body: bytes,
    signature_header: str | None,
    timestamp_header: str | None,
    now: datetime,
    tolerance: timedelta = REPLAY_TOLERANCE,
) -> str | None:
    """Why a ScaiControl delivery must be refused (answer 401), or ``None`` if it is fine."""
    expected = sign(secret, body)
    if signature_header is None or signature_header == "":
        return "missing signature"
    if not _SCAICONTROL_SIGNATURE.fullmatch(signature_header):
        return "malformed signature"
    if not hmac.compare_digest(signature_header.encode("ascii"), expected.encode("ascii")):
        return "signature mismatch"
    return _timestamp_problem(timestamp_header, now, tolerance, what="timestamp")


def verify(
    secret: str,
    body: bytes,
    signature_header: str | None,
    timestamp_header: str | None,
    now: datetime,
    tolerance: timedelta = REPLAY_TOLERANCE,
) -> bool:
    """Whether a ScaiControl delivery is authentic and fresh (subscriber side)."""
    return (
        signature_problem(secret, body, signature_header, timestamp_header, now, tolerance) is None
    )


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks HMAC key: the secret without ``whsec_``, base64-decoded."""
    if not isinstance(secret, str) or not secret:
        raise ValidationError("a webhook secret must be a non-empty string", field="secret")
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValidationError(
            "for Standard Webhooks the secret must be whsec_ followed by base64", field="secret"
        ) from None
    if not key:
        raise ValidationError("the secret decodes to an empty key", field="secret")
    return key


def _standard_digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + _require_body(body)
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode("ascii")


def sign_standard(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256>``."""
    if not msg_id:
        raise ValidationError("a webhook id is required", field="msg_id")
    if type(timestamp) is not int or timestamp < 0:
        raise ValidationError("timestamp must be non-negative Unix seconds", field="timestamp")
    return "v1," + _standard_digest(standard_key(secret), msg_id, str(timestamp), body)


def standard_signature_problem(
    secret: str,
    body: bytes,
    msg_id: str | None,
    timestamp_header: str | None,
    signature_header: str | None,
    now: datetime,
    tolerance: timedelta = REPLAY_TOLERANCE,
) -> str | None:
    """Why a Standard Webhooks message must be refused, or ``None`` if it is fine.

    ``signature_header`` may hold several space-separated ``v<n>,<base64>`` entries; the
    message passes if any ``v1`` entry matches.
    """
    key = standard_key(secret)
    if msg_id is None or msg_id == "":
        return "missing webhook-id"
    problem = _timestamp_problem(timestamp_header, now, tolerance, what="webhook-timestamp")
    if problem is not None:
        return problem
    timestamp = cast(str, timestamp_header)  # present and well formed: checked above
    if signature_header is None or signature_header.strip() == "":
        return "missing webhook-signature"
    expected = _standard_digest(key, msg_id, timestamp, body).encode("ascii")
    matched = False
    for entry in signature_header.split()[:_MAX_SIGNATURES]:
        version, _, candidate = entry.partition(",")
        if version != "v1" or not candidate.isascii():
            continue
        # Every candidate is compared, so timing does not reveal which one matched.
        matched |= hmac.compare_digest(candidate.encode("ascii"), expected)
    return None if matched else "no matching webhook-signature"


def verify_standard(
    secret: str,
    body: bytes,
    msg_id: str | None,
    timestamp_header: str | None,
    signature_header: str | None,
    now: datetime,
    tolerance: timedelta = REPLAY_TOLERANCE,
) -> bool:
    """Whether a Standard Webhooks message is authentic and fresh."""
    problem = standard_signature_problem(
        secret, body, msg_id, timestamp_header, signature_header, now, tolerance
    )
    return problem is None


def generate_secret(random_bytes: bytes) -> str:
    """A subscriber secret ``whsec_<base64>`` from 24-64 caller-supplied random bytes.

    The core has no randomness of its own: pass ``secrets.token_bytes(32)``.
    """
    if not isinstance(random_bytes, bytes) or not (
        _MIN_SECRET_BYTES <= len(random_bytes) <= _MAX_SECRET_BYTES
    ):
        raise ValidationError(
            f"a secret needs {_MIN_SECRET_BYTES} to {_MAX_SECRET_BYTES} random bytes",
            field="random_bytes",
        )
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode("ascii")

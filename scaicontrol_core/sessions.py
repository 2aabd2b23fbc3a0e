"""Single-use, rotating refresh tokens with reuse detection.

A refresh token is ``<id>.<secret>``; only a SHA-256 hash of the secret is stored. Each
login starts a *family*; redeeming a token marks it used and issues its successor in the
same family. Presenting a token that was already used means it leaked (or a client raced
itself): the whole family is revoked, so whoever holds its newest token is logged out too.
Secrets come from the caller (the core has no randomness).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from datetime import datetime, timedelta

import attrs

from .identity_records import RefreshToken
from .ids import IdFactory
from .ports import UnitOfWork

__all__ = ["RedeemOutcome", "Redemption", "issue_refresh_token", "redeem_refresh_token",
           "revoke_family"]


class RedeemOutcome(enum.StrEnum):
    ROTATED = "rotated"
    REUSED = "reused"  # the family has just been revoked: the caller must commit
    INVALID = "invalid"  # unknown, malformed, expired or revoked: nothing changed


@attrs.frozen(kw_only=True)
class Redemption:
    """The result of presenting a refresh token."""

    outcome: RedeemOutcome
    user_id: str | None = None
    token: str | None = None
    record: RefreshToken | None = None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_refresh_token(
    uow: UnitOfWork, *, user_id: str, secret: str, now: datetime, ttl: timedelta,
    ids: IdFactory, family_id: str | None = None,
) -> tuple[str, RefreshToken]:
    """A new token (the string to hand out) and its stored record."""
    token_id = ids.uuid()
    record = uow.refresh_tokens.add(RefreshToken(
        id=token_id, family_id=family_id or token_id, user_id=user_id,
        secret_hash=_digest(secret), issued_at=now, expires_at=now + ttl,
    ))
    return f"{token_id}.{secret}", record


def revoke_family(uow: UnitOfWork, family_id: str, *, now: datetime) -> int:
    """Revoke every live token of a family; returns how many were revoked."""
    revoked = 0
    for record in uow.refresh_tokens.find({"family_id": family_id, "revoked_at": None}):
        uow.refresh_tokens.update(attrs.evolve(record, revoked_at=now))
        revoked += 1
    return revoked


def redeem_refresh_token(
    uow: UnitOfWork, token: str, *, new_secret: str, now: datetime, ttl: timedelta,
    ids: IdFactory,
) -> Redemption:
    """Spend ``token`` and issue its successor, or detect reuse and revoke the family.

    The successor expires ``ttl`` after this rotation. Commit after a ``REUSED`` outcome
    too: the revocation is the point.
    """
    token_id, dot, secret = token.partition(".")
    record = uow.refresh_tokens.get(token_id) if dot and token_id and secret else None
    if record is None or not hmac.compare_digest(record.secret_hash, _digest(secret)):
        return Redemption(outcome=RedeemOutcome.INVALID)
    if record.revoked_at is not None or record.expires_at <= now:
        return Redemption(outcome=RedeemOutcome.INVALID, record=record)
    if record.used_at is not None:
        revoke_family(uow, record.family_id, now=now)
        return Redemption(outcome=RedeemOutcome.REUSED, record=record)
    uow.refresh_tokens.update(attrs.evolve(record, used_at=now))
    successor, _ = issue_refresh_token(
        uow, user_id=record.user_id, secret=new_secret, now=now, ttl=ttl, ids=ids,
        family_id=record.family_id,
    )
    return Redemption(outcome=RedeemOutcome.ROTATED, user_id=record.user_id,
                      token=successor, record=record)

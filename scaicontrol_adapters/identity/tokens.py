"""Checks shared by the providers: reading a JWT header, time claims, and claim mapping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jwt

from scaicontrol_core.errors import Unauthenticated
from scaicontrol_core.identity_provider import VerifiedToken

__all__ = ["check_times", "header_of", "verified_from_claims"]


def header_of(token: str) -> Mapping[str, Any]:
    """The unverified JOSE header, or Unauthenticated for anything that is not a JWT."""
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the bearer token is not a valid JWT") from exc


def _instant(claims: Mapping[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Unauthenticated(f"the token's '{name}' claim is not a number")
    return datetime.fromtimestamp(value, UTC)


def check_times(claims: Mapping[str, Any], now: datetime, leeway: float = 0.0) -> datetime:
    """Refuse an expired or not-yet-valid token (against the given clock); returns ``exp``."""
    expires = _instant(claims, "exp")
    if expires is None:
        raise Unauthenticated("the token has no expiry")
    if now.timestamp() >= expires.timestamp() + leeway:
        raise Unauthenticated("the token has expired")
    not_before = _instant(claims, "nbf")
    if not_before is not None and now.timestamp() + leeway < not_before.timestamp():
        raise Unauthenticated("the token is not valid yet")
    return expires


def _strings(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def verified_from_claims(claims: Mapping[str, Any], expires: datetime) -> VerifiedToken:
    """Map the documented claims: ``sub``, ``tenant_id``, ``partner_id``, ``roles`` (or a
    single ``role``), ``permissions``; ``token_type: client_credentials`` marks a service."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("the token has no subject")
    tenant_id = claims.get("tenant_id")
    partner_id = claims.get("partner_id")
    email = claims.get("email")
    return VerifiedToken(
        subject=subject,
        tenant_id=tenant_id if isinstance(tenant_id, str) and tenant_id else None,
        partner_id=partner_id if isinstance(partner_id, str) and partner_id else None,
        roles=_strings(claims.get("roles")) | _strings(claims.get("role")),
        permissions=_strings(claims.get("permissions")),
        is_service=claims.get("token_type") == "client_credentials",
        email=email if isinstance(email, str) else None,
        expires_at=expires,
    )

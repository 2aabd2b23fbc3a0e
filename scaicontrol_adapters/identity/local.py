"""The ``local`` identity provider: passwords, ES256 access tokens, rotating refresh tokens.

The signing key is an EC P-256 key created on first use and kept in storage, so it
survives restarts and every server process on the same database signs and verifies with
the same keys. Access tokens carry identity only (subject, tenant, partner, e-mail): roles
are looked up when each request is authorized, so a revoked role takes effect at once.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from scaicontrol_core.errors import (
    ConcurrencyConflict,
    DuplicateRecord,
    Unauthenticated,
    ValidationError,
)
from scaicontrol_core.identity import user_by_login
from scaicontrol_core.identity_provider import (
    AuthConfig,
    IdentityConfig,
    IdentityDirectory,
    TokenRequest,
    VerifiedToken,
)
from scaicontrol_core.identity_records import SigningKey, User, UserStatus
from scaicontrol_core.sessions import RedeemOutcome, issue_refresh_token, redeem_refresh_token

from .passwords import Argon2Passwords
from .tokens import check_times, header_of, verified_from_claims

__all__ = ["LocalIdentityProvider"]

ALGORITHM = "ES256"
#: The first key of a deployment has a fixed id, so processes starting together cannot
#: each create one: the second insert collides and that process adopts the first key.
INITIAL_KEY_ID = "local-es256-1"
DEFAULT_ACCESS_TTL = 900
DEFAULT_REFRESH_TTL = 14 * 24 * 3600
_INVALID_LOGIN = "invalid_grant: wrong e-mail address or password"


def _seconds(options: Mapping[str, str], name: str, default: int) -> int:
    raw = options.get(name)
    value = int(raw) if raw else default
    if value <= 0:
        raise ValidationError(f"{name} must be positive", field=name)
    return value


class LocalIdentityProvider:
    """Implements :class:`scaicontrol_core.identity_provider.IdentityProvider`."""

    name = "local"

    def __init__(self, config: IdentityConfig) -> None:
        self._storage = config.storage
        self._clock = config.clock
        self._ids = config.ids
        self.issuer = config.options.get("issuer") or config.public_url.rstrip("/")
        self.token_url = config.public_url.rstrip("/") + "/api/v1/auth/token"
        self.access_ttl = _seconds(config.options, "access_token_ttl", DEFAULT_ACCESS_TTL)
        self.refresh_ttl = _seconds(config.options, "refresh_token_ttl", DEFAULT_REFRESH_TTL)
        self.passwords = Argon2Passwords()
        self._lock = threading.Lock()
        self._signing: tuple[str, Any] | None = None
        self._public: dict[str, Any] = {}
        # verifying a made-up hash keeps a login for an unknown user as slow as a real one
        self._decoy_hash = self.passwords.hash(secrets.token_urlsafe(16))

    # --- port ------------------------------------------------------------------------

    def auth_config(self) -> AuthConfig:
        return AuthConfig(
            provider=self.name, issuer=self.issuer, client_id=None, scopes=(),
            logout_url=None, authorization_url=None, token_url=self.token_url,
            grant_types=("password", "refresh_token"),
        )

    def directory(self) -> IdentityDirectory | None:
        return None

    async def aclose(self) -> None:
        return None

    async def verify(self, token: str) -> VerifiedToken:
        header = header_of(token)
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Unauthenticated("the token was not signed by this server")
        key = await asyncio.to_thread(self._public_key, kid)
        try:
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], issuer=self.issuer,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                         "verify_aud": False, "require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("the token's signature or claims are invalid") from exc
        if claims.get("token_use") != "access":
            raise Unauthenticated("not an access token")
        expires = check_times(claims, self._clock.now())
        return verified_from_claims(claims, expires)

    async def token(self, request: TokenRequest) -> Mapping[str, Any]:
        if request.grant_type == "password":
            if not request.username or not request.password:
                raise ValidationError("invalid_request: username and password are required",
                                      field="username")
            return await asyncio.to_thread(self._login, request.username, request.password)
        if request.grant_type == "refresh_token":
            if not request.refresh_token:
                raise ValidationError("invalid_request: refresh_token is required",
                                      field="refresh_token")
            return await asyncio.to_thread(self._refresh, request.refresh_token)
        raise ValidationError(
            f"unsupported_grant_type: '{request.grant_type}' (use password or refresh_token)",
            field="grant_type",
        )

    # --- grants (run in a worker thread) ----------------------------------------------

    def _login(self, username: str, password: str) -> dict[str, Any]:
        with self._storage.unit_of_work() as uow:
            found = user_by_login(uow, username)
        if found is None:
            self.passwords.verify(self._decoy_hash, password)
            raise ValidationError(_INVALID_LOGIN)
        user, credential = found
        if not self.passwords.verify(credential.password_hash, password):  # outside a txn
            raise ValidationError(_INVALID_LOGIN)
        rehash = self.passwords.hash(password) if self.passwords.needs_rehash(
            credential.password_hash) else None
        now = self._clock.now()
        with self._storage.unit_of_work() as uow:
            if rehash is not None:
                current = uow.credentials.get(credential.id)
                if current is not None and current.version == credential.version:
                    uow.credentials.update(
                        attrs.evolve(current, password_hash=rehash, updated_at=now)
                    )
            refresh, _ = issue_refresh_token(
                uow, user_id=user.id, secret=secrets.token_urlsafe(32), now=now,
                ttl=timedelta(seconds=self.refresh_ttl), ids=self._ids,
            )
            partner_id = self._partner_of(uow, user)
            uow.commit()
        return self._response(user, partner_id, refresh, now)

    def _refresh(self, token: str) -> dict[str, Any]:
        for attempt in range(2):
            try:
                return self._refresh_once(token)
            except ConcurrencyConflict:
                if attempt:  # a concurrent redemption of the same token won twice
                    raise
        raise AssertionError("unreachable")

    def _refresh_once(self, token: str) -> dict[str, Any]:
        now = self._clock.now()
        with self._storage.unit_of_work() as uow:
            result = redeem_refresh_token(
                uow, token, new_secret=secrets.token_urlsafe(32), now=now,
                ttl=timedelta(seconds=self.refresh_ttl), ids=self._ids,
            )
            if result.outcome is RedeemOutcome.REUSED:
                uow.commit()  # the revocation of the whole family must stick
                raise ValidationError(
                    "invalid_grant: this refresh token was already used; "
                    "every token of its session has been revoked"
                )
            if result.outcome is RedeemOutcome.INVALID or result.user_id is None:
                raise ValidationError("invalid_grant: the refresh token is invalid or expired")
            user = uow.users.get(result.user_id)
            if user is None or user.status is not UserStatus.ACTIVE:
                raise ValidationError("invalid_grant: the user is no longer active")
            partner_id = self._partner_of(uow, user)
            uow.commit()
        assert result.token is not None
        return self._response(user, partner_id, result.token, now)

    @staticmethod
    def _partner_of(uow: Any, user: User) -> str | None:
        tenant = uow.tenants.get(user.tenant_id)
        return tenant.partner_id if tenant is not None else None

    def _response(self, user: User, partner_id: str | None, refresh: str,
                  now: datetime) -> dict[str, Any]:
        kid, key = self._signing_key()
        claims = {
            "iss": self.issuer, "sub": user.id, "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + self.access_ttl, "jti": self._ids.uuid(),
            "token_use": "access", "tenant_id": user.tenant_id, "partner_id": partner_id,
            "email": user.email,
        }
        access = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
        return {
            "access_token": access, "token_type": "Bearer", "expires_in": self.access_ttl,
            "refresh_token": refresh, "refresh_expires_in": self.refresh_ttl,
        }

    # --- keys ------------------------------------------------------------------------

    def _signing_key(self) -> tuple[str, Any]:
        with self._lock:
            if self._signing is None:
                record = self._current_key() or self._create_key()
                key = serialization.load_pem_private_key(record.private_key.encode(), None)
                self._signing = (record.id, key)
                self._public[record.id] = key.public_key()
            return self._signing

    def _current_key(self) -> SigningKey | None:
        with self._storage.unit_of_work() as uow:
            keys = uow.signing_keys.find({"retired_at": None}, order_by=["created_at", "id"],
                                         limit=1)
        return keys[0] if keys else None

    def _create_key(self) -> SigningKey:
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        kid = INITIAL_KEY_ID
        public_jwk = dict(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key(), as_dict=True))
        public_jwk.update(kid=kid, alg=ALGORITHM, use="sig")
        try:
            with self._storage.unit_of_work() as uow:
                uow.signing_keys.add(SigningKey(
                    id=kid, algorithm=ALGORITHM, private_key=pem, public_jwk=public_jwk,
                    created_at=self._clock.now(),
                ))
                uow.commit()
        except (DuplicateRecord, ConcurrencyConflict):
            pass  # another process created the first key at the same moment: adopt it
        current = self._current_key()
        assert current is not None
        return current

    def _public_key(self, kid: str) -> Any:
        with self._lock:
            cached = self._public.get(kid)
        if cached is not None:
            return cached
        with self._storage.unit_of_work() as uow:
            record = uow.signing_keys.get(kid)
        if record is None:
            raise Unauthenticated("the token was signed with an unknown key")
        key = serialization.load_pem_private_key(record.private_key.encode(), None).public_key()
        with self._lock:
            self._public[kid] = key
        return key

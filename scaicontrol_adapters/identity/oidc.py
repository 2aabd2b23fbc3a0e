"""The ``oidc`` identity provider: tokens from an external issuer, checked against its JWKS.

Signatures (RS256 or ES256), ``iss``, ``exp`` (and ``aud`` when configured) are checked.
The key set is cached for ``jwks_cache_ttl`` seconds (3600 by default) and fetched again
early when a token names an unknown ``kid`` (a key rotation), at most once per
``jwks_refetch_interval`` seconds so made-up key ids cannot flood the issuer. The token
endpoint forwards the authorization-code and refresh grants to the issuer with this
deployment's client credentials. Timing uses the configured clock, so tests control it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt

from scaicontrol_core.errors import (
    ConfigurationError,
    Unauthenticated,
    UpstreamError,
    ValidationError,
)
from scaicontrol_core.identity_provider import (
    AuthConfig,
    IdentityConfig,
    IdentityDirectory,
    TokenRequest,
    VerifiedToken,
)

from .directory import HttpDirectory
from .tokens import check_times, header_of, verified_from_claims

__all__ = ["OidcIdentityProvider"]

ALGORITHMS = ("RS256", "ES256")
JWKS_PATH = "/api/v1/platform/.well-known/jwks.json"
TIMEOUT = httpx.Timeout(10.0)


def _number(options: Mapping[str, str], name: str, default: float) -> float:
    raw = options.get(name)
    return float(raw) if raw else default


class OidcIdentityProvider:
    """Implements :class:`scaicontrol_core.identity_provider.IdentityProvider`."""

    name = "oidc"
    passwords = None

    def __init__(self, config: IdentityConfig, *, http: httpx.AsyncClient | None = None) -> None:
        options = config.options
        issuer = (options.get("issuer") or "").rstrip("/")
        if not issuer:
            raise ConfigurationError("the oidc identity provider needs an issuer URL",
                                     setting="SCAICONTROL_OIDC_ISSUER")
        self.issuer = issuer
        self.client_id = options.get("client_id") or None
        self.client_secret = options.get("client_secret") or None
        self.audience = options.get("audience") or None
        self.jwks_url = options.get("jwks_url") or issuer + JWKS_PATH
        self.token_endpoint = options.get("token_endpoint") or issuer + "/oauth/token"
        self.authorize_url = issuer + "/oauth/authorize"
        self.logout_url = issuer + "/oauth/logout"
        self.directory_url = (options.get("directory_url") or "").rstrip("/") or None
        self.cache_ttl = timedelta(seconds=_number(options, "jwks_cache_ttl", 3600))
        self.refetch_interval = timedelta(seconds=_number(options, "jwks_refetch_interval", 10))
        self.leeway = _number(options, "leeway", 0)
        self.token_url = config.public_url.rstrip("/") + "/api/v1/auth/token"
        self._clock = config.clock
        self._http = http
        self._keys: dict[str, Any] = {}
        self._fetched_at: datetime | None = None
        self._fetch_lock = asyncio.Lock()
        self.fetches = 0  # how often the key set was downloaded (for operators and tests)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        return self._http

    # --- port ------------------------------------------------------------------------

    def auth_config(self) -> AuthConfig:
        return AuthConfig(
            provider=self.name, issuer=self.issuer, client_id=self.client_id,
            scopes=("openid", "profile", "email"), logout_url=self.logout_url,
            authorization_url=self.authorize_url, token_url=self.token_url,
            grant_types=("authorization_code", "refresh_token"),
        )

    def directory(self) -> IdentityDirectory | None:
        if self.directory_url is None:
            return None
        return HttpDirectory(self._client(), self.directory_url, self.token_endpoint,
                             self.client_id, self.client_secret)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def verify(self, token: str) -> VerifiedToken:
        header = header_of(token)
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise Unauthenticated(f"tokens signed with {algorithm!r} are not accepted")
        kid = header.get("kid")
        key = await self._key_for(kid if isinstance(kid, str) else None)
        try:
            claims = jwt.decode(
                token, key, algorithms=[algorithm], issuer=self.issuer,
                audience=self.audience,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                         "verify_aud": self.audience is not None,
                         "require": ["exp", "sub", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("the token's signature or claims are invalid") from exc
        expires = check_times(claims, self._clock.now(), self.leeway)
        return verified_from_claims(claims, expires)

    async def token(self, request: TokenRequest) -> Mapping[str, Any]:
        form: dict[str, str] = {"grant_type": request.grant_type}
        if request.grant_type == "authorization_code":
            needed = {"code": request.code, "redirect_uri": request.redirect_uri,
                      "code_verifier": request.code_verifier}
        elif request.grant_type == "refresh_token":
            needed = {"refresh_token": request.refresh_token}
        else:
            raise ValidationError(
                f"unsupported_grant_type: '{request.grant_type}' "
                "(use authorization_code or refresh_token)", field="grant_type")
        missing = [name for name, value in needed.items() if not value]
        if missing:
            raise ValidationError(f"invalid_request: {', '.join(missing)} required",
                                  field=missing[0])
        form.update({k: str(v) for k, v in needed.items()})
        if self.client_id:
            form["client_id"] = self.client_id
        if self.client_secret:
            form["client_secret"] = self.client_secret
        try:
            reply = await self._client().post(self.token_endpoint, data=form)
        except httpx.HTTPError as exc:
            raise UpstreamError("the identity provider cannot be reached") from exc
        if reply.status_code >= 500:
            raise UpstreamError(f"the identity provider failed ({reply.status_code})")
        body = _json(reply)
        if reply.status_code >= 400 or body is None:
            reason = body.get("error_description") or body.get("error") if body else None
            raise ValidationError(
                f"the identity provider refused the grant: {reason or 'no reason'}")
        return body

    # --- keys ------------------------------------------------------------------------

    def _fresh(self, now: datetime) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self.cache_ttl

    async def _key_for(self, kid: str | None) -> Any:
        now = self._clock.now()
        if not self._fresh(now):
            await self._refresh_keys(stale_before=now - self.cache_ttl)
        elif kid not in self._keys and (
            self._fetched_at is None or now - self._fetched_at >= self.refetch_interval
        ):
            await self._refresh_keys(stale_before=now - self.refetch_interval)
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        key = self._keys.get(kid) if kid is not None else None
        if key is None:
            raise Unauthenticated("the token was signed with an unknown key")
        return key

    async def _refresh_keys(self, *, stale_before: datetime) -> None:
        async with self._fetch_lock:
            if self._fetched_at is not None and self._fetched_at > stale_before:
                return  # another request fetched them while this one waited
            try:
                reply = await self._client().get(self.jwks_url)
            except httpx.HTTPError as exc:
                if self._keys:
                    return  # keep verifying with the keys we have
                raise UpstreamError("the identity provider's keys cannot be fetched") from exc
            body = _json(reply)
            if reply.status_code != 200 or body is None or not isinstance(body.get("keys"), list):
                if self._keys:
                    return
                raise UpstreamError(f"the identity provider's key set is unusable "
                                    f"({reply.status_code})")
            keys: dict[str, Any] = {}
            for entry in body["keys"]:
                if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                    continue
                try:
                    parsed = jwt.PyJWK(entry)
                except jwt.PyJWTError:
                    continue  # a key type or algorithm we do not use
                keys[str(entry.get("kid", ""))] = parsed.key
            self._keys = keys
            self._fetched_at = self._clock.now()
            self.fetches += 1


def _json(reply: httpx.Response) -> dict[str, Any] | None:
    try:
        body = reply.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None

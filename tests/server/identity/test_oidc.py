"""The oidc identity provider against a real JWKS server on loopback, with RSA and EC keys
made in the test: verification, claim mapping, the 3600 s cache (on a manual clock), key
rotation, the refetch throttle, and the token proxy; then the whole app in oidc mode."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from scaicontrol_adapters.identity import local_plugin, oidc_plugin
from scaicontrol_adapters.identity.oidc import OidcIdentityProvider
from scaicontrol_adapters.storage import memory
from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.clock import ManualClock
from scaicontrol_core.errors import Unauthenticated, UpstreamError, ValidationError
from scaicontrol_core.identity_provider import IdentityConfig, TokenRequest, VerifiedToken
from scaicontrol_core.identity_records import User
from scaicontrol_core.ids import SequentialIds
from scaicontrol_server.settings import Settings

from .conftest import START, identity_server
from .fake_issuer import FakeIssuer, running_issuer

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    """A fake issuer with one RSA key published."""
    with running_issuer() as fake:
        fake.add_key("rsa-1", "RS256")
        yield fake


def _provider(issuer: FakeIssuer, clock: ManualClock, **options: str) -> OidcIdentityProvider:
    config = IdentityConfig(
        storage=MemoryStorage(), clock=clock, ids=SequentialIds(),
        public_url="http://localhost:8000",
        options={"issuer": issuer.base_url, "client_id": "scaicontrol",
                 "client_secret": "s3cret", **options},
    )
    return OidcIdentityProvider(config)


def _verify(provider: OidcIdentityProvider, *tokens: str) -> list[VerifiedToken | Exception]:
    async def go() -> list[VerifiedToken | Exception]:
        results: list[VerifiedToken | Exception] = []
        try:
            for token in tokens:
                try:
                    results.append(await provider.verify(token))
                except (Unauthenticated, UpstreamError) as exc:
                    results.append(exc)
        finally:
            await provider.aclose()
        return results

    return asyncio.run(go())


def test_rs256_and_es256_tokens_verify_and_map_claims(issuer: FakeIssuer) -> None:
    """Documented claims become the verified token: subject, tenant, partner, roles
    (list or single role), permissions, and service tokens."""
    issuer.add_key("ec-1", "ES256")
    clock = ManualClock(NOW)
    user = issuer.token("rsa-1", now=NOW, tenant_id="tnt_a", partner_id="prt_a",
                        roles=["tenant_admin"], role="partner_admin",
                        permissions=["admin:usage"], email="ann@a.example")
    service = issuer.token("ec-1", now=NOW, sub="app_billing", token_type="client_credentials",
                           permissions=["registry:manage"])
    first, second = _verify(_provider(issuer, clock), user, service)
    assert isinstance(first, VerifiedToken) and isinstance(second, VerifiedToken)
    assert (first.subject, first.tenant_id, first.partner_id) == ("usr_oidc_1", "tnt_a",
                                                                 "prt_a")
    assert first.roles == {"tenant_admin", "partner_admin"}
    assert first.permissions == {"admin:usage"} and not first.is_service
    assert second.is_service and second.subject == "app_billing"
    assert issuer.jwks_hits == 1


def test_bad_tokens_are_refused(issuer: FakeIssuer) -> None:
    """Wrong issuer, expiry on the clock, unpublished key, HS256 and garbage: all refused."""
    issuer.add_key("rsa-hidden", "RS256", publish=False)
    clock = ManualClock(NOW)
    provider = _provider(issuer, clock)
    cases = [
        issuer.token("rsa-1", now=NOW, iss="https://evil.example"),
        issuer.token("rsa-1", now=NOW - timedelta(hours=2)),
        issuer.token("rsa-hidden", now=NOW),
        "eyJhbGciOiJIUzI1NiIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiJ4In0.c2ln",
        "not-a-token",
        issuer.token("rsa-1", now=NOW, sub=""),
    ]
    results = _verify(provider, *cases)
    assert all(isinstance(r, Unauthenticated) for r in results), results


def test_audience_is_checked_when_configured(issuer: FakeIssuer) -> None:
    """With an audience set, tokens for another audience are refused."""
    clock = ManualClock(NOW)
    good = issuer.token("rsa-1", now=NOW, aud="scaicontrol")
    bad = issuer.token("rsa-1", now=NOW, aud="other")
    ok, refused = _verify(_provider(issuer, clock, audience="scaicontrol"), good, bad)
    assert isinstance(ok, VerifiedToken) and isinstance(refused, Unauthenticated)


def test_key_set_is_cached_for_an_hour(issuer: FakeIssuer) -> None:
    """The JWKS is downloaded once and again only when 3600 s have passed."""
    clock = ManualClock(NOW)
    provider = _provider(issuer, clock)

    async def go() -> list[int]:
        hits = []
        try:
            for step in (0, 1800, 1799, 1, 10):
                clock.advance(timedelta(seconds=step))
                token = issuer.token("rsa-1", now=clock.now())
                await provider.verify(token)
                hits.append(issuer.jwks_hits)
        finally:
            await provider.aclose()
        return hits

    assert asyncio.run(go()) == [1, 1, 1, 2, 2]


def test_rotation_fetches_the_new_key_at_once(issuer: FakeIssuer) -> None:
    """A token with a kid the cache lacks triggers a refetch (throttled to one per 10 s)."""
    clock = ManualClock(NOW)
    provider = _provider(issuer, clock)

    async def go() -> list[Any]:
        seen: list[Any] = []
        try:
            await provider.verify(issuer.token("rsa-1", now=clock.now()))
            seen.append(issuer.jwks_hits)
            clock.advance(timedelta(seconds=30))
            issuer.add_key("rsa-2", "RS256")
            issuer.unpublish("rsa-1")
            result = await provider.verify(issuer.token("rsa-2", now=clock.now(),
                                                        tenant_id="tnt_b"))
            seen += [result.tenant_id, issuer.jwks_hits]
            with pytest.raises(Unauthenticated):  # a known kid with a bad signature
                await provider.verify(issuer.token("rsa-2", now=clock.now()) + "x")
            issuer.add_key("rsa-3", "RS256", publish=False)
            for _ in range(3):  # unknown kids within 10 s of a download fetch nothing
                with pytest.raises(Unauthenticated):
                    await provider.verify(issuer.token("rsa-3", now=clock.now()))
            seen.append(issuer.jwks_hits)
            clock.advance(timedelta(seconds=10))
            with pytest.raises(Unauthenticated):
                await provider.verify(issuer.token("rsa-3", now=clock.now()))
            seen.append(issuer.jwks_hits)
        finally:
            await provider.aclose()
        return seen

    assert asyncio.run(go()) == [1, "tnt_b", 2, 2, 3]


def test_token_endpoint_is_proxied(issuer: FakeIssuer) -> None:
    """Code exchange is forwarded with the client credentials; upstream 4xx is 400, 5xx 502."""
    clock = ManualClock(NOW)
    provider = _provider(issuer, clock)
    grant = TokenRequest(grant_type="authorization_code", code="good",
                         redirect_uri="https://portal.example/cb", code_verifier="v" * 43)

    async def go() -> list[Any]:
        out: list[Any] = []
        try:
            out.append(await provider.token(grant))
            for request in (attrs.evolve(grant, code="bad"), attrs.evolve(grant, code="boom"),
                            attrs.evolve(grant, code_verifier=None),
                            TokenRequest(grant_type="password", username="a", password="b")):
                try:
                    await provider.token(request)
                except (ValidationError, UpstreamError) as exc:
                    out.append(type(exc).__name__ + ": " + str(exc))
        finally:
            await provider.aclose()
        return out

    ok, bad, boom, missing, password = asyncio.run(go())
    assert ok["access_token"] == "upstream-access" and ok["refresh_token"] == "upstream-refresh"
    assert issuer.token_requests[0] == {
        "grant_type": "authorization_code", "code": "good",
        "redirect_uri": "https://portal.example/cb", "code_verifier": "v" * 43,
        "client_id": "scaicontrol", "client_secret": "s3cret"}
    assert bad.startswith("ValidationError") and "code expired" in bad
    assert boom.startswith("UpstreamError")
    assert missing.startswith("ValidationError") and "code_verifier" in missing
    assert password.startswith("ValidationError") and "unsupported_grant_type" in password


def test_app_in_oidc_mode(issuer: FakeIssuer) -> None:
    """The served app verifies issuer tokens, merges local roles, and proxies /auth/token."""
    clock = ManualClock(START)
    settings = Settings(database_url="memory://", workers_enabled=False,
                        identity_provider="oidc", oidc_issuer=issuer.base_url,
                        oidc_client_id="scaicontrol", oidc_client_secret="s3cret")
    with identity_server(settings, [memory, local_plugin, oidc_plugin], clock) as client:
        config = client.get("/api/v1/auth/config").json()
        assert config["provider"] == "oidc" and config["client_id"] == "scaicontrol"
        assert config["authorization_url"] == issuer.base_url + "/oauth/authorize"
        token = issuer.token("rsa-1", now=clock.now(), sub="usr_oidc_ann",
                             tenant_id="tnt_demo_acme", roles=["tenant_user"])
        headers = {"Authorization": f"Bearer {token}"}
        me = client.get("/api/v1/auth/me", headers=headers).json()
        assert me["roles"] == ["tenant_user"] and "billing:manage" not in me["permissions"]
        assert me["partner_id"] == "prt_demo_operator"  # from the stored tenant
        with client.storage.unit_of_work() as uow:
            uow.users.add(User(id="usr_oidc_ann", tenant_id="tnt_demo_acme",
                               email="ann@acme.example", roles=("tenant_admin",),
                               created_at=START, updated_at=START))
            uow.commit()
        merged = client.get("/api/v1/auth/me", headers=headers).json()
        assert merged["roles"] == ["tenant_admin", "tenant_user"]
        assert merged["email"] == "ann@acme.example" and "billing:manage" in merged["permissions"]
        assert client.get("/api/v1/billing/billing-profile", headers=headers).status == 200
        local = client.post("/api/v1/auth/token", json={
            "grant_type": "password", "username": "admin@acme.example",
            "password": "scaicontrol-demo"})
        assert local.status == 400
        code = client.post("/api/v1/auth/token", json={
            "grant_type": "authorization_code", "code": "good", "code_verifier": "x" * 43,
            "redirect_uri": "https://portal.example/cb"})
        assert code.status == 200 and code.json()["id_token"] == "upstream-id"
        assert client.post("/api/v1/auth/token", json={
            "grant_type": "refresh_token", "refresh_token": "boom"}).status == 502
        clock.advance(timedelta(hours=1))
        assert client.get("/api/v1/auth/me", headers=headers).status == 401

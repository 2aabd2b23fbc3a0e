"""The local identity provider over HTTP: login, refresh, reuse detection, expired and
tampered tokens, deactivated users, and the public auth configuration."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import attrs

from scaicontrol_core.identity_records import UserStatus

from .conftest import IdentityClient

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refresh(client: IdentityClient, token: str) -> object:
    return client.post(TOKEN, json={"grant_type": "refresh_token", "refresh_token": token})


def test_auth_config_is_public_and_describes_the_local_login(server: IdentityClient) -> None:
    """Anyone may read how to log in: the password and refresh grants at /auth/token."""
    reply = server.get("/api/v1/auth/config")
    assert reply.status == 200
    body = reply.json()
    assert body["provider"] == "local" and "data" not in body
    assert body["grant_types"] == ["password", "refresh_token"]
    assert body["token_url"].endswith("/api/v1/auth/token")


def test_login_then_me(server: IdentityClient) -> None:
    """A password login returns a bearer token; /auth/me describes the caller."""
    tokens = server.login("ADMIN@acme.example ")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    reply = server.get(ME, headers=_bearer(tokens["access_token"]))
    assert reply.status == 200
    me = reply.json()
    assert me == {
        "user_id": "usr_demo_acme_admin", "tenant_id": "tnt_demo_acme",
        "partner_id": "prt_demo_operator", "email": "admin@acme.example",
        "display_name": "Acme Admin", "tenant_name": "Acme Analytics GmbH",
        "partner_name": "ScaiLabs Platform B.V.", "roles": ["tenant_admin"],
        "permissions": ["billing:manage", "billing:read", "services:read",
                        "subscriptions:read"],
    }


def test_token_responses_are_not_cached(server: IdentityClient) -> None:
    """The token endpoint forbids caching of its answer."""
    reply = server.post(TOKEN, json={"grant_type": "password",
                                     "username": "admin@acme.example",
                                     "password": "scaicontrol-demo"})
    assert reply.headers["Cache-Control"] == "no-store"


def test_group_role_is_inherited_and_super_admin_sees_every_scope(
    server: IdentityClient,
) -> None:
    """A member of a group with a role gets its scopes; super_admin lists all 16 scopes."""
    finance = server.get(ME, headers=server.headers("group_admin")).json()
    assert finance["roles"] == ["tenant_admin"] and "billing:manage" in finance["permissions"]
    root = server.get(ME, headers=server.headers("super_admin")).json()
    assert root["roles"] == ["super_admin"] and len(root["permissions"]) == 16


def test_wrong_password_and_unknown_user_look_the_same(server: IdentityClient) -> None:
    """Both answer 400 with the same message, so logins cannot probe for accounts."""
    wrong = server.post(TOKEN, json={"grant_type": "password",
                                     "username": "admin@acme.example", "password": "nope"})
    unknown = server.post(TOKEN, json={"grant_type": "password",
                                       "username": "ghost@acme.example", "password": "nope"})
    assert wrong.status == unknown.status == 400
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_bad_token_requests_are_refused_clearly(server: IdentityClient) -> None:
    """An unknown grant type is 422; a grant the provider does not offer, or missing
    fields, is 400."""
    assert server.post(TOKEN, json={"grant_type": "magic"}).status == 422
    assert server.post(TOKEN, json={"grant_type": "authorization_code",
                                    "code": "x"}).status == 400
    missing = server.post(TOKEN, json={"grant_type": "password", "username": "a@b.example"})
    assert missing.status == 400 and "password" in missing.json()["error"]["message"]


def test_refresh_rotates_and_reuse_revokes_the_session(server: IdentityClient) -> None:
    """Each refresh token works once; replaying a spent one kills the whole session."""
    first = server.login("admin@acme.example")["refresh_token"]
    second = _refresh(server, first)
    assert second.status == 200  # type: ignore[attr-defined]
    rotated = second.json()  # type: ignore[attr-defined]
    assert rotated["refresh_token"] != first
    assert server.get(ME, headers=_bearer(rotated["access_token"])).status == 200
    replay = _refresh(server, first)
    assert replay.status == 400  # type: ignore[attr-defined]
    assert "already used" in replay.json()["error"]["message"]  # type: ignore[attr-defined]
    after = _refresh(server, rotated["refresh_token"])
    assert after.status == 400  # type: ignore[attr-defined]
    other = server.login("admin@acme.example")["refresh_token"]  # a new login is unaffected
    assert _refresh(server, other).status == 200  # type: ignore[attr-defined]


def test_refresh_token_expires(server: IdentityClient) -> None:
    """A refresh token older than its lifetime is refused."""
    token = server.login("admin@acme.example")["refresh_token"]
    server.clock.advance(timedelta(days=14))
    assert _refresh(server, token).status == 400  # type: ignore[attr-defined]


def test_expired_access_token_is_401(server: IdentityClient) -> None:
    """An access token is accepted until its expiry and refused from then on."""
    token = server.login("admin@acme.example")["access_token"]
    server.clock.advance(timedelta(seconds=899))
    assert server.get(ME, headers=_bearer(token)).status == 200
    server.clock.advance(timedelta(seconds=1))
    reply = server.get(ME, headers=_bearer(token))
    assert reply.status == 401 and reply.headers["WWW-Authenticate"] == "Bearer"
    assert "expired" in reply.json()["error"]["message"]


def _tamper(token: str, **claims: object) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_tampered_and_malformed_tokens_are_401(server: IdentityClient) -> None:
    """A changed claim, a stripped signature, alg=none, garbage, or no header: all 401."""
    token = server.login("user@acme.example")["access_token"]
    header, payload, _ = token.split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    for bad in (_tamper(token, sub="usr_demo_admin"), f"{header}.{payload}.",
                f"{none_header}.{payload}.", "not-a-jwt", token[:-4] + "AAAA"):
        assert server.get(ME, headers=_bearer(bad)).status == 401, bad
    assert server.get(ME).status == 401
    assert server.get(ME, headers={"Authorization": f"Basic {token}"}).status == 401


def test_deactivated_user_is_locked_out_at_once(server: IdentityClient) -> None:
    """Deactivating a user refuses its still-valid access token and its refresh token."""
    tokens = server.login("user@acme.example")
    with server.storage.unit_of_work() as uow:
        user = uow.users.require("usr_demo_acme_user")
        uow.users.update(attrs.evolve(user, status=UserStatus.DELETED))
        uow.commit()
    assert server.get(ME, headers=_bearer(tokens["access_token"])).status == 401
    assert _refresh(server, tokens["refresh_token"]).status == 400  # type: ignore[attr-defined]
    login = server.post(TOKEN, json={"grant_type": "password", "username": "user@acme.example",
                                     "password": "scaicontrol-demo"})
    assert login.status == 400


def test_revoked_role_takes_effect_without_a_new_token(server: IdentityClient) -> None:
    """Roles are looked up per request: revoking one changes the next answer."""
    headers = server.headers("tenant_admin")
    assert server.get("/api/v1/billing/billing-profile", headers=headers).status == 200
    root = server.headers("super_admin")
    revoke = server.delete("/api/v1/admin/users/usr_demo_acme_admin/role?role=tenant_admin",
                           headers=root)
    assert revoke.status == 200 and revoke.json()["data"]["user"]["roles"] == []
    assert server.get("/api/v1/billing/billing-profile", headers=headers).status == 403

"""A fake OpenID Connect issuer on loopback, run in its own thread: a JWKS endpoint with keys
made in the test, a token endpoint, and a paged user directory.

It counts JWKS downloads so tests can see caching and refetching. Keys can be added and
removed at any time (rotation).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = ["FakeIssuer", "running_issuer"]


class FakeIssuer:
    """State of the fake issuer; the HTTP handlers read it."""

    def __init__(self) -> None:
        self.base_url = ""
        self.keys: dict[str, tuple[str, Any]] = {}  # kid -> (alg, private key)
        self.published: list[str] = []  # kids listed in the JWKS
        self.jwks_hits = 0
        self.token_requests: list[dict[str, str]] = []
        self.users: list[dict[str, Any]] = []
        self.groups: list[dict[str, Any]] = []
        self.directory_token = "directory-token"

    # --- keys ------------------------------------------------------------------------

    def add_key(self, kid: str, algorithm: str = "RS256", *, publish: bool = True) -> None:
        if algorithm == "RS256":
            key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = (algorithm, key)
        if publish:
            self.published.append(kid)

    def unpublish(self, kid: str) -> None:
        self.published.remove(kid)

    def jwks(self) -> dict[str, Any]:
        entries = []
        for kid in self.published:
            algorithm, key = self.keys[kid]
            codec = jwt.algorithms.RSAAlgorithm if algorithm == "RS256" else \
                jwt.algorithms.ECAlgorithm
            entry = dict(codec.to_jwk(key.public_key(), as_dict=True))
            entry.update(kid=kid, alg=algorithm, use="sig")
            entries.append(entry)
        return {"keys": entries}

    def token(self, kid: str, *, now: datetime, lifetime: int = 3600,
              **claims: Any) -> str:
        algorithm, key = self.keys[kid]
        body = {"iss": self.base_url, "sub": "usr_oidc_1", "iat": int(now.timestamp()),
                "exp": int(now.timestamp()) + lifetime, **claims}
        return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid})

    # --- HTTP ------------------------------------------------------------------------

    async def _jwks(self, request: web.Request) -> web.Response:
        self.jwks_hits += 1
        return web.json_response(self.jwks())

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(form)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return web.json_response({"access_token": self.directory_token,
                                      "token_type": "Bearer", "expires_in": 300})
        code = form.get("code") or form.get("refresh_token")
        if code == "boom":
            return web.json_response({"error": "server_error"}, status=503)
        if code != "good":
            return web.json_response({"error": "invalid_grant",
                                      "error_description": "code expired"}, status=400)
        return web.json_response({"access_token": "upstream-access", "token_type": "Bearer",
                                  "expires_in": 3600, "refresh_token": "upstream-refresh",
                                  "id_token": "upstream-id"})

    def _page(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.directory_token}":
            return web.json_response({"error": "unauthorized"}, status=401)
        page, size = int(request.query["page"]), int(request.query["page_size"])
        chunk = items[(page - 1) * size: page * size]
        pages = -(-len(items) // size)
        return web.json_response({"data": chunk, "pagination": {
            "page": page, "page_size": size, "total": len(items), "total_pages": pages}})

    async def _users(self, request: web.Request) -> web.Response:
        return self._page(request, self.users)

    async def _groups(self, request: web.Request) -> web.Response:
        return self._page(request, self.groups)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/platform/.well-known/jwks.json", self._jwks)
        app.router.add_post("/oauth/token", self._token)
        app.router.add_get("/directory/users", self._users)
        app.router.add_get("/directory/groups", self._groups)
        return app


@contextmanager
def running_issuer() -> Iterator[FakeIssuer]:
    """Serve a :class:`FakeIssuer` on 127.0.0.1 (a free port) until the block ends."""
    issuer = FakeIssuer()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(issuer.app(), access_log=None)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        issuer.base_url = f"http://127.0.0.1:{port}"
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    ready.wait(10)
    try:
        yield issuer
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()

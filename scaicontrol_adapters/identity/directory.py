"""Reading users and groups from an identity provider's directory API (``scaicontrol sync``).

The directory is read with a client-credentials token from the issuer's token endpoint.
``GET <directory_url>/users`` and ``/groups`` answer pages of
``{"data": [...], "pagination": {"page", "page_size", "total", "total_pages"}}``; a user
is ``{"id", "tenant_id", "email", "display_name"}``, a group
``{"id", "tenant_id", "name", "description", "member_ids": [...]}``.
"""

from __future__ import annotations

from typing import Any

import httpx

from scaicontrol_core.errors import UpstreamError
from scaicontrol_core.identity_provider import DirectoryGroup, DirectorySnapshot, DirectoryUser

__all__ = ["HttpDirectory"]

PAGE_SIZE = 100
MAX_PAGES = 10_000


class HttpDirectory:
    """Implements :class:`scaicontrol_core.identity_provider.IdentityDirectory`."""

    def __init__(self, http: httpx.AsyncClient, url: str, token_endpoint: str,
                 client_id: str | None, client_secret: str | None) -> None:
        self._http = http
        self._url = url
        self._token_endpoint = token_endpoint
        self._client_id = client_id
        self._client_secret = client_secret

    async def fetch(self) -> DirectorySnapshot:
        headers = {"Authorization": f"Bearer {await self._token()}"}
        users = [_user(item) for item in await self._all("users", headers)]
        groups = [_group(item) for item in await self._all("groups", headers)]
        return DirectorySnapshot(users=users, groups=groups)

    async def _token(self) -> str:
        form = {"grant_type": "client_credentials", "client_id": self._client_id or "",
                "client_secret": self._client_secret or ""}
        body = await self._call("POST", self._token_endpoint, data=form)
        token = body.get("access_token")
        if not isinstance(token, str):
            raise UpstreamError("the directory token response has no access_token")
        return token

    async def _all(self, kind: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            body = await self._call("GET", f"{self._url}/{kind}", headers=headers,
                                    params={"page": page, "page_size": PAGE_SIZE})
            data = body.get("data")
            if not isinstance(data, list):
                raise UpstreamError(f"the directory's {kind} page has no data list")
            items += data
            pages = (body.get("pagination") or {}).get("total_pages", page)
            if not data or page >= pages:
                return items
        raise UpstreamError(f"the directory lists more than {MAX_PAGES} pages of {kind}")

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            reply = await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"the directory cannot be reached: {exc}") from exc
        if reply.status_code != 200:
            raise UpstreamError(f"the directory answered {reply.status_code} for {url}")
        try:
            body = reply.json()
        except ValueError as exc:
            raise UpstreamError(f"the directory answered no JSON for {url}") from exc
        if not isinstance(body, dict):
            raise UpstreamError(f"the directory answered an unexpected shape for {url}")
        return body


def _text(item: dict[str, Any], name: str, required: bool = True) -> Any:
    value = item.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise UpstreamError(f"a directory entry has no usable '{name}': {item!r:.200}")
    return value


def _user(item: Any) -> DirectoryUser:
    if not isinstance(item, dict):
        raise UpstreamError("a directory user is not an object")
    return DirectoryUser(id=_text(item, "id"), tenant_id=_text(item, "tenant_id"),
                         email=_text(item, "email"),
                         display_name=_text(item, "display_name", required=False))


def _group(item: Any) -> DirectoryGroup:
    if not isinstance(item, dict):
        raise UpstreamError("a directory group is not an object")
    members = item.get("member_ids") or []
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise UpstreamError("a directory group's member_ids is not a list of ids")
    return DirectoryGroup(id=_text(item, "id"), tenant_id=_text(item, "tenant_id"),
                          name=_text(item, "name"),
                          description=_text(item, "description", required=False),
                          member_ids=tuple(members))

"""The declarative API layer: what an endpoint is, and what its handler receives.

A feature declares :class:`Endpoint` values in ``scaicontrol_server/routes/<tag>.py`` and
adds them to ``routes.ENDPOINTS``. The router (:mod:`.dispatch`) and the OpenAPI generator
(:mod:`.openapi`) both read that one table. A handler is ``async def h(call) -> data``: it
gets a :class:`Call` with the validated body, query and path values and the application's
services, and returns plain data; the layer validates input (422), checks access, wraps the
result in the envelope, and turns core errors into error envelopes.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Generic, ParamSpec, Protocol, TypeVar

import attrs
import cattrs
from aiohttp import web

from scaicontrol_core.clock import Clock
from scaicontrol_core.ids import IdFactory
from scaicontrol_core.plugins import Plugins
from scaicontrol_core.ports import Storage

from . import keys
from .fields import field
from .tags import TAGS

if TYPE_CHECKING:
    from .settings import Settings

__all__ = [
    "API_PREFIX",
    "AUTHENTICATED",
    "PUBLIC",
    "Authorizer",
    "Call",
    "Endpoint",
    "Handler",
    "Page",
    "PageParams",
    "ResponseDoc",
    "ResponseKind",
    "is_scope",
    "paginate",
]

API_PREFIX: Final = "/api/v1"
#: Anyone may call the endpoint; no credentials are looked at.
PUBLIC: Final = "public"
#: Any authenticated caller may call the endpoint.
AUTHENTICATED: Final = "authenticated"
_SCOPE = re.compile(r"^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

B = TypeVar("B")
Q = TypeVar("Q")
P = TypeVar("P")
T = TypeVar("T")
_Params = ParamSpec("_Params")


def is_scope(access: str) -> bool:
    """Whether ``access`` is a permission scope such as ``admin:tenants``."""
    return _SCOPE.match(access) is not None


class ResponseKind(enum.Enum):
    """How a handler's return value becomes the response body."""

    OBJECT = "object"  # {"data": <object>, "meta": ...}
    LIST = "list"  # {"data": [<item>...], "meta": ...}
    PAGE = "page"  # {"data": [...], "pagination": ..., "meta": ...}; handler returns Page
    EMPTY = "empty"  # no body (204 unless said otherwise); handler returns None
    RAW = "raw"  # the data itself as JSON, or a web.StreamResponse passed through


@attrs.frozen(kw_only=True)
class PageParams:
    """The ``page`` and ``page_size`` query parameters of paginated endpoints."""

    page: int = field(default=1, ge=1, description="1-based page number.")
    page_size: int = field(default=20, ge=1, le=100, description="Items per page (1-100).")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def limit(self) -> int:
        return self.page_size


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a list, as a paginated handler returns it: the items and the total."""

    items: Sequence[T]
    total: int


def paginate(items: Sequence[T], params: PageParams) -> Page[T]:
    """Cut one page out of an in-memory sequence."""
    chosen = items[params.offset : params.offset + params.limit]
    return Page(items=list(chosen), total=len(items))


@attrs.frozen(kw_only=True)
class ResponseDoc:
    """An additional documented response, e.g. the 503 of a readiness probe."""

    status: int
    description: str
    schema: object = None


class Authorizer(Protocol):
    """Identifies the caller of a non-public endpoint and checks its ``access``.

    Returns the principal (handed to the handler as ``call.principal``) or raises
    ``Unauthenticated`` (401) or ``PermissionDenied`` (403) from ``scaicontrol_core.errors``.
    Without an authorizer, every non-public endpoint answers 401.
    """

    async def authorize(self, request: web.Request, endpoint: Endpoint) -> object: ...


@attrs.frozen(kw_only=True)
class Call(Generic[B, Q, P]):
    """Everything a handler gets: validated input, the caller, and the app's services.

    ``body``, ``query`` and ``path`` are instances of the endpoint's schemas (None when the
    endpoint declares none). ``page`` holds the pagination parameters (their defaults on
    endpoints that are not paginated). ``principal`` is what the authorizer returned, None
    on public endpoints.
    """

    request: web.Request
    endpoint: Endpoint
    request_id: str
    body: B
    query: Q
    path: P
    page: PageParams = PageParams()
    principal: object | None = None

    @property
    def app(self) -> web.Application:
        return self.request.app

    @property
    def storage(self) -> Storage:
        return self.request.app[keys.STORAGE]

    @property
    def clock(self) -> Clock:
        return self.request.app[keys.CLOCK]

    @property
    def ids(self) -> IdFactory:
        return self.request.app[keys.IDS]

    @property
    def converter(self) -> cattrs.Converter:
        return self.request.app[keys.CONVERTER]

    @property
    def settings(self) -> Settings:
        return self.request.app[keys.SETTINGS]

    @property
    def plugins(self) -> Plugins:
        return self.request.app[keys.PLUGINS]

    def now(self) -> datetime:
        """The current instant from the application's clock."""
        return self.clock.now()

    async def run(
        self, fn: Callable[_Params, T], /, *args: _Params.args, **kwargs: _Params.kwargs
    ) -> T:
        """Run synchronous (core, storage) code in a worker thread and await its result."""
        return await asyncio.to_thread(fn, *args, **kwargs)


#: An endpoint handler: takes the call, returns data for the envelope.
Handler = Callable[[Call[Any, Any, Any]], Awaitable[Any]]


def _upper(value: str) -> str:
    return value.upper()


def _codes(values: Iterable[int]) -> frozenset[int]:
    return frozenset(values)


def _check_method(_: Any, __: attrs.Attribute[str], value: str) -> None:
    if value not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)}, not {value!r}")


def _check_access(_: Any, __: attrs.Attribute[str], value: str) -> None:
    if value not in (PUBLIC, AUTHENTICATED) and not is_scope(value):
        raise ValueError(f"access must be PUBLIC, AUTHENTICATED or '<area>:<action>': {value!r}")


def _check_tag(_: Any, __: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and value not in TAGS:
        raise ValueError(f"unknown tag {value!r}; add it to scaicontrol_server.tags.TAGS")


def _snake(text: str) -> str:
    return re.sub(r"\W", "_", text.strip().lower())


@attrs.frozen(kw_only=True)
class Endpoint:
    """One HTTP operation, declared once for the router, the OpenAPI document and tests.

    ``path`` is relative to ``prefix`` (``/api/v1`` unless given; ``""`` for paths such as
    ``/healthz``). ``{name}`` placeholders must match the fields of ``path_schema``.
    ``access`` is :data:`PUBLIC`, :data:`AUTHENTICATED` or a permission scope.
    ``errors`` lists error statuses to document beyond those the layer adds by itself.
    ``body_parser`` is an optional fast path for hot endpoints: given the decoded JSON body
    it returns what the handler gets as ``call.body``, or None to let the generic
    structuring of ``body_schema`` run (which also reports the 422). It must accept only
    what ``body_schema`` accepts.
    """

    method: str = attrs.field(converter=_upper, validator=_check_method)
    path: str
    handler: Handler
    access: str = attrs.field(validator=_check_access)
    tag: str | None = attrs.field(default=None, validator=_check_tag)
    kind: ResponseKind = ResponseKind.OBJECT
    response_schema: object = None
    body_schema: object = None
    body_parser: Callable[[Any], object | None] | None = None
    query_schema: type | None = None
    path_schema: type | None = None
    prefix: str = API_PREFIX
    status: int = attrs.field()
    summary: str = attrs.field()
    operation_id: str = attrs.field()
    description: str = attrs.field()
    errors: frozenset[int] = attrs.field(default=frozenset(), converter=_codes)
    extra_responses: tuple[ResponseDoc, ...] = ()
    include_in_schema: bool = True

    @status.default
    def _status(self) -> int:
        return 204 if self.kind is ResponseKind.EMPTY else 200

    @summary.default
    def _summary(self) -> str:
        return str(getattr(self.handler, "__name__", "handler")).replace("_", " ").title()

    @operation_id.default
    def _operation_id(self) -> str:
        return f"{_snake(self.summary)}{_snake(self.full_path)}_{self.method.lower()}"

    @description.default
    def _description(self) -> str:
        return inspect.getdoc(self.handler) or ""

    def __attrs_post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError(f"{self.method} {self.full_path}: " + "; ".join(problems))

    def _problems(self) -> Iterable[str]:
        if not self.path.startswith("/") or (self.prefix and not self.prefix.startswith("/")):
            yield "path and prefix must start with '/'"
        names = self.path_params
        if any(not _IDENTIFIER.match(name) for name in names):
            yield "path placeholders must be plain {identifier}s"
        schema_names: list[str] = []
        if self.path_schema is not None:
            if not attrs.has(self.path_schema):
                yield "path_schema must be an attrs class"
            else:
                schema_names = [f.name for f in attrs.fields(self.path_schema)]
        if sorted(names) != sorted(schema_names):
            yield f"path placeholders {names} do not match path_schema fields {schema_names}"
        if self.query_schema is not None and not attrs.has(self.query_schema):
            yield "query_schema must be an attrs class"
        if self.kind is ResponseKind.PAGE and self.query_schema is not None:
            clash = {"page", "page_size"} & {f.name for f in attrs.fields(self.query_schema)}
            if clash:
                yield f"query_schema must not define {sorted(clash)}: the layer adds them"
        if self.body_schema is not None and self.method == "GET":
            yield "GET endpoints take no body"
        enveloped = (ResponseKind.OBJECT, ResponseKind.LIST, ResponseKind.PAGE)
        if self.kind in enveloped and self.response_schema is None:
            yield f"{self.kind.value} responses need a response_schema"
        if self.kind is ResponseKind.EMPTY and self.response_schema is not None:
            yield "empty responses have no response_schema"
        if not 200 <= self.status < 300:
            yield "status must be a 2xx code"
        if any(not 400 <= code < 600 for code in self.errors):
            yield "errors lists 4xx and 5xx codes only"

    @property
    def full_path(self) -> str:
        """The path as routed, e.g. ``/api/v1/lookups/currencies/{code}``."""
        return self.prefix + self.path

    @property
    def path_params(self) -> list[str]:
        """Names of the ``{placeholders}`` in the path, in order."""
        return _PLACEHOLDER.findall(self.path)

    @property
    def is_public(self) -> bool:
        return self.access == PUBLIC

    @property
    def scope(self) -> str | None:
        """The permission scope required, or None for public and authenticated endpoints."""
        return self.access if is_scope(self.access) else None

    @property
    def paginated(self) -> bool:
        return self.kind is ResponseKind.PAGE

    @property
    def takes_input(self) -> bool:
        """Whether a request can fail validation (and so be answered with 422)."""
        return (
            self.paginated
            or self.body_schema is not None
            or self.query_schema is not None
            or self.path_schema is not None
        )

"""The JSON bodies of every response: success envelopes, error envelopes and 422 details.

The attrs classes here are also what the OpenAPI document publishes for these shapes, so
the document cannot drift from what the server sends.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import attrs
from aiohttp import web

from scaicontrol_core.clock import isoformat

__all__ = [
    "ErrorBody",
    "ErrorCode",
    "ErrorResponse",
    "HTTPValidationError",
    "Meta",
    "Pagination",
    "ValidationErrorItem",
    "error_response",
    "json_response",
    "meta_for",
    "pagination_for",
    "to_json",
    "validation_response",
]

JSON_CONTENT_TYPE = "application/json"


class ErrorCode(enum.StrEnum):
    """The documented error codes; the comments give the status each goes with."""

    BAD_REQUEST = "bad_request"  # 400 (also 405 and 413)
    UNAUTHORIZED = "unauthorized"  # 401
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not_found"  # 404
    CONFLICT = "conflict"  # 409
    INTERNAL_ERROR = "internal_error"  # 500 (also 503)


@attrs.frozen(kw_only=True)
class Meta:
    """Facts about the response itself."""

    request_id: str
    """The req_... id of this request, also sent as the X-Request-Id header."""
    timestamp: datetime
    """When the server produced the response (UTC)."""


@attrs.frozen(kw_only=True)
class Pagination:
    """Where a page sits in the whole list."""

    page: int
    """1-based number of this page."""
    page_size: int
    """Items per page as requested."""
    total: int
    """Items in the whole list."""
    total_pages: int
    """Pages in the whole list (0 when it is empty)."""


@attrs.frozen(kw_only=True)
class ErrorBody:
    """What went wrong."""

    code: ErrorCode
    message: str
    request_id: str


@attrs.frozen(kw_only=True)
class ErrorResponse:
    """The envelope of every error response except request validation (422)."""

    error: ErrorBody


@attrs.frozen(kw_only=True)
class ValidationErrorItem:
    """One request validation problem, in FastAPI's shape."""

    __schema_name__: ClassVar[str] = "ValidationError"

    loc: list[str | int]
    """Where: "body", "query" or "path", then field names and list indexes."""
    msg: str
    type: str


@attrs.frozen(kw_only=True)
class HTTPValidationError:
    """The 422 body: every problem found in the request."""

    detail: list[ValidationErrorItem]


def _extra(value: Any) -> Any:
    # cattrs keeps sets as sets; JSON has arrays only.
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(payload: Any) -> str:
    """Compact JSON text; sets become arrays, NaN and infinity are refused."""
    return json.dumps(
        payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_extra
    )


def json_response(
    payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response with ``application/json; charset=utf-8``."""
    return web.Response(
        body=to_json(payload).encode("utf-8"),
        status=status,
        headers=headers,
        content_type=JSON_CONTENT_TYPE,
        charset="utf-8",
    )


def meta_for(request_id: str, now: datetime) -> dict[str, str]:
    return {"request_id": request_id, "timestamp": isoformat(now)}


def pagination_for(*, page: int, page_size: int, total: int) -> dict[str, int]:
    return {
        "page": page,
        "page_size": page_size,
        "total": total,
        "total_pages": math.ceil(total / page_size),
    }


def error_response(
    status: int,
    code: ErrorCode,
    message: str,
    request_id: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """The error envelope ``{"error": {"code", "message", "request_id"}}``."""
    payload = {"error": {"code": code.value, "message": message, "request_id": request_id}}
    return json_response(payload, status=status, headers=headers)


def validation_response(issues: Sequence[ValidationErrorItem]) -> web.Response:
    """The 422 body ``{"detail": [{"loc", "msg", "type"}, ...]}``."""
    detail = [{"loc": list(i.loc), "msg": i.msg, "type": i.type} for i in issues]
    return json_response({"detail": detail}, status=422)

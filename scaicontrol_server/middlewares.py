"""The one middleware every request passes: request ids, body limit and error envelopes.

:data:`ERROR_TABLE` is the only place that gives core errors an HTTP meaning. Statuses
outside the six documented ones reuse the nearest documented code: 405 and 413 answer
``bad_request``, 503 (storage unavailable) answers ``internal_error``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Final

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler

from scaicontrol_core.errors import (
    ConcurrencyConflict,
    Conflict,
    DuplicateRecord,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    StorageError,
    Unauthenticated,
    UpstreamError,
    ValidationError,
)
from scaicontrol_core.ids import IdPrefix

from . import keys
from .envelopes import ErrorCode, error_response

__all__ = [
    "ERROR_TABLE",
    "REQUEST_ID_HEADER",
    "ErrorMapping",
    "envelope_middleware",
    "mapping_for",
]

log = logging.getLogger(__name__)

REQUEST_ID_HEADER: Final = "X-Request-Id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@attrs.frozen
class ErrorMapping:
    """Status and code for an error; ``message`` replaces the error's own text if set."""

    status: int
    code: ErrorCode
    message: str | None = None


#: Core errors by class; the most specific class in an error's MRO wins.
ERROR_TABLE: Final[Mapping[type[Exception], ErrorMapping]] = {
    ValidationError: ErrorMapping(400, ErrorCode.BAD_REQUEST),
    InvalidTransition: ErrorMapping(400, ErrorCode.BAD_REQUEST),
    Unauthenticated: ErrorMapping(401, ErrorCode.UNAUTHORIZED),
    PermissionDenied: ErrorMapping(403, ErrorCode.FORBIDDEN),
    NotFound: ErrorMapping(404, ErrorCode.NOT_FOUND),
    Conflict: ErrorMapping(409, ErrorCode.CONFLICT),
    DuplicateRecord: ErrorMapping(409, ErrorCode.CONFLICT),
    ConcurrencyConflict: ErrorMapping(409, ErrorCode.CONFLICT),
    # The backend's own words may name hosts or SQL: log them, do not send them.
    StorageError: ErrorMapping(503, ErrorCode.INTERNAL_ERROR, "Storage is unavailable"),
    UpstreamError: ErrorMapping(502, ErrorCode.INTERNAL_ERROR),
}
_UNEXPECTED = ErrorMapping(500, ErrorCode.INTERNAL_ERROR, "Internal server error")
_DEFAULT_MESSAGES: Final[Mapping[ErrorCode, str]] = {
    ErrorCode.UNAUTHORIZED: "Authentication required",
    ErrorCode.FORBIDDEN: "Permission denied",
}
_STATUS_CODES: Final[Mapping[int, ErrorCode]] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    409: ErrorCode.CONFLICT,
}


def mapping_for(exc: BaseException) -> ErrorMapping | None:
    """The table entry for ``exc``, or None for an unexpected error."""
    for cls in type(exc).__mro__:
        found = ERROR_TABLE.get(cls)
        if found is not None:
            return found
    return None


def _request_id(request: web.Request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if _SANE_REQUEST_ID.match(incoming):
        return incoming
    return request.app[keys.IDS].prefixed(IdPrefix.REQUEST)


def _from_exception(request: web.Request, exc: Exception, request_id: str) -> web.Response:
    mapping = mapping_for(exc)
    if mapping is None:
        log.exception(
            "unhandled error on %s %s [%s]", request.method, request.path, request_id
        )
        mapping = _UNEXPECTED
    elif mapping.status >= 500:
        log.error("%s on %s %s [%s]: %s", type(exc).__name__, request.method, request.path,
                  request_id, exc, exc_info=exc)
    message = mapping.message or str(exc) or _DEFAULT_MESSAGES.get(mapping.code, "Error")
    headers = {"WWW-Authenticate": "Bearer"} if mapping.status == 401 else None
    return error_response(mapping.status, mapping.code, message, request_id, headers=headers)


def _from_http_exception(
    request: web.Request, exc: web.HTTPException, request_id: str
) -> web.StreamResponse:
    status = exc.status
    if status < 400:
        return exc  # redirects and the like pass through untouched
    headers: dict[str, str] = {}
    if isinstance(exc, web.HTTPNotFound) and request.match_info.http_exception is not None:
        message = f"Path '{request.path}' not found"
    elif isinstance(exc, web.HTTPMethodNotAllowed):
        message = f"Method '{request.method}' is not allowed on '{request.path}'"
        headers["Allow"] = exc.headers.get("Allow", "")
    elif isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = request.app[keys.MAX_BODY_SIZE]
        message = f"Request body exceeds the limit of {limit} bytes"
    else:
        message = exc.reason
    if status >= 500:
        code = ErrorCode.INTERNAL_ERROR
    else:
        code = _STATUS_CODES.get(status, ErrorCode.BAD_REQUEST)
    return error_response(status, code, message, request_id, headers=headers or None)


@web.middleware
async def envelope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Assign the request id, enforce the body limit, and turn every error into an envelope."""
    request_id = _request_id(request)
    request[keys.REQUEST_ID] = request_id
    response: web.StreamResponse
    try:
        limit = request.app[keys.MAX_BODY_SIZE]
        if request.content_length is not None and request.content_length > limit:
            raise web.HTTPRequestEntityTooLarge(limit, request.content_length)
        response = await handler(request)
    except web.HTTPException as exc:
        response = _from_http_exception(request, exc, request_id)
    except Exception as exc:
        response = _from_exception(request, exc, request_id)
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response

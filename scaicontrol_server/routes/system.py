"""Operational endpoints outside ``/api/v1``: the OpenAPI document and the health probes.

All public and untagged. ``/healthz`` answers while the process runs; ``/readyz`` asks the
storage backend (in a thread) and answers 503 with the reason when it is not ready.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import attrs
from aiohttp import web

from .. import keys
from ..api import PUBLIC, Call, Endpoint, ResponseDoc, ResponseKind
from ..envelopes import json_response

__all__ = ["ENDPOINTS", "CheckResult", "HealthStatus", "ReadinessReport"]

log = logging.getLogger(__name__)

NoInput = Call[None, None, None]


@attrs.frozen(kw_only=True)
class HealthStatus:
    """The process is up."""

    status: Literal["ok"] = "ok"


@attrs.frozen(kw_only=True)
class CheckResult:
    """The outcome of one readiness check."""

    ready: bool
    reachable: bool
    schema_current: bool
    detail: str = ""
    """What the backend reported, or why the check failed."""


@attrs.frozen(kw_only=True)
class ReadinessReport:
    """Whether the server can take traffic, with each check's outcome."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, CheckResult]


async def openapi_document(call: NoInput) -> web.StreamResponse:
    """The OpenAPI 3.1 description of this API."""
    return json_response(call.app[keys.OPENAPI])


async def liveness(call: NoInput) -> HealthStatus:
    """Answers 200 while the process runs."""
    return HealthStatus()


async def _storage_check(call: NoInput) -> CheckResult:
    storage = call.app.get(keys.STORAGE)
    if storage is None:
        return CheckResult(ready=False, reachable=False, schema_current=False,
                           detail="storage is not open")
    try:
        status = await call.run(storage.check)
    except Exception as exc:
        log.warning("storage readiness check failed", exc_info=True)
        return CheckResult(ready=False, reachable=False, schema_current=False,
                           detail=f"check failed: {type(exc).__name__}")
    return CheckResult(ready=status.ready, reachable=status.reachable,
                       schema_current=status.schema_current, detail=status.detail)


async def readiness(call: NoInput) -> web.StreamResponse:
    """Answers 200 when every dependency (the storage backend) is ready, else 503."""
    checks = {"storage": await _storage_check(call)}
    ready = all(check.ready for check in checks.values())
    report = ReadinessReport(status="ready" if ready else "not_ready", checks=checks)
    return json_response(call.converter.unstructure(report), status=200 if ready else 503)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        method="GET",
        path="/openapi.json",
        prefix="",
        handler=openapi_document,
        access=PUBLIC,
        kind=ResponseKind.RAW,
        response_schema=dict[str, Any],
        summary="OpenAPI Document",
        include_in_schema=False,
    ),
    Endpoint(
        method="GET",
        path="/healthz",
        prefix="",
        handler=liveness,
        access=PUBLIC,
        kind=ResponseKind.RAW,
        response_schema=HealthStatus,
        summary="Liveness Probe",
    ),
    Endpoint(
        method="GET",
        path="/readyz",
        prefix="",
        handler=readiness,
        access=PUBLIC,
        kind=ResponseKind.RAW,
        response_schema=ReadinessReport,
        summary="Readiness Probe",
        extra_responses=(ResponseDoc(status=503, description="Not Ready", schema=ReadinessReport),),
    ),
)

"""Operators define metrics and manage service API keys (tag ``admin``, ``admin:registry``).

A new key's full value is in the creation response only; afterwards only its id, name and
service are shown. Revoking takes effect on the next request.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import attrs

from scaicontrol_core.metering.admin import (
    NewMetric,
    define_metric,
    issue_service_key,
    key_token,
    revoke_service_key,
)
from scaicontrol_core.metering.model import Aggregation, MetricDefinition, ServiceApiKey

from ..api import Call, Endpoint, ResponseKind
from ..fields import field
from ._common import principal_of
from ._metering_batch import SLUG

__all__ = [
    "ENDPOINTS",
    "MetricCreateRequest",
    "ServiceKeyCreateRequest",
    "ServiceKeyCreated",
    "ServiceKeyResponse",
]

TAG = "admin"
SCOPE = "admin:registry"


@attrs.frozen(kw_only=True)
class MetricCreateRequest:
    service_slug: str = field(pattern=SLUG, description="The service reporting the metric.")
    slug: str = field(pattern=SLUG, description="Unique within the service; fixed for life.")
    name: str = field(min_length=1, max_length=255)
    unit: str = field(min_length=1, max_length=64, description="Display unit, e.g. 'request'.")
    aggregation: Aggregation
    unique_property: str | None = field(default=None, max_length=64,
                                        description="Counted property (unique_count only).")
    description: str | None = field(default=None, max_length=2000)


@attrs.frozen(kw_only=True)
class MetricQuery:
    service_slug: str | None = field(default=None, max_length=63)


@attrs.frozen(kw_only=True)
class ServiceKeyCreateRequest:
    service_slug: str = field(pattern=SLUG, description="The service the key speaks for.")
    name: str = field(min_length=1, max_length=255, description="What the key is for.")


@attrs.frozen(kw_only=True)
class ServiceKeyResponse:
    id: str
    service_slug: str
    name: str
    permissions: list[str]
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None


@attrs.frozen(kw_only=True)
class ServiceKeyCreated(ServiceKeyResponse):
    key: str = attrs.field(metadata={"description": "Send as X-ScaiControl-Key. Shown once."})


@attrs.frozen(kw_only=True)
class ServiceKeyPath:
    key_id: str = field(max_length=64)


def _view(key: ServiceApiKey) -> ServiceKeyResponse:
    return ServiceKeyResponse(id=key.id, service_slug=key.service_slug, name=key.name,
                              permissions=list(key.permissions), created_by=key.created_by,
                              created_at=key.created_at, revoked_at=key.revoked_at)


async def create_metric(call: Call[MetricCreateRequest, None, None]) -> MetricDefinition:
    """Define a metric of a service: its slug, unit and aggregation (fixed for life)."""
    body, now, metric_id = call.body, call.now(), call.ids.uuid()
    new = NewMetric(service_slug=body.service_slug, slug=body.slug, name=body.name,
                    unit=body.unit, aggregation=body.aggregation,
                    unique_property=body.unique_property, description=body.description)

    def write() -> MetricDefinition:
        with call.storage.unit_of_work() as uow:
            metric = define_metric(uow, new, metric_id=metric_id, now=now)
            uow.commit()
            return metric

    return await call.run(write)


async def list_metrics(call: Call[None, MetricQuery, None]) -> list[MetricDefinition]:
    """Every metric definition, by service and slug."""
    where = {"service_slug": call.query.service_slug} if call.query.service_slug else None

    def read() -> list[MetricDefinition]:
        with call.storage.unit_of_work() as uow:
            return uow.metric_definitions.find(where, order_by=("service_slug", "slug"))

    return await call.run(read)


async def create_service_key(call: Call[ServiceKeyCreateRequest, None, None]) -> ServiceKeyCreated:
    """Make an API key for a service; the response holds the key, shown this once."""
    body, now, key_id = call.body, call.now(), call.ids.uuid()
    secret, actor = secrets.token_urlsafe(32), principal_of(call).subject

    def write() -> ServiceApiKey:
        with call.storage.unit_of_work() as uow:
            key = issue_service_key(uow, service_slug=body.service_slug, name=body.name,
                                    key_id=key_id, secret=secret, now=now, created_by=actor)
            uow.commit()
            return key

    key = await call.run(write)
    return ServiceKeyCreated(**attrs.asdict(_view(key), recurse=False),
                             key=key_token(key.id, secret))


async def list_service_keys(call: Call[None, None, None]) -> list[ServiceKeyResponse]:
    """Every service key (never their secrets), newest first."""
    def read() -> list[ServiceApiKey]:
        with call.storage.unit_of_work() as uow:
            return uow.service_api_keys.find(order_by=("-created_at", "id"))

    return [_view(k) for k in await call.run(read)]


async def revoke_service_key_endpoint(call: Call[None, None, ServiceKeyPath]) -> ServiceKeyResponse:
    """Revoke a key at once (revoking again changes nothing)."""
    now = call.now()

    def write() -> ServiceApiKey:
        with call.storage.unit_of_work() as uow:
            key = revoke_service_key(uow, call.path.key_id, now=now)
            uow.commit()
            return key

    return _view(await call.run(write))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="POST", path="/admin/metering/metrics", handler=create_metric,
             access=SCOPE, tag=TAG, status=201, body_schema=MetricCreateRequest,
             response_schema=MetricDefinition, summary="Create Metric",
             errors={401, 403, 404, 409}),
    Endpoint(method="GET", path="/admin/metering/metrics", handler=list_metrics,
             access=SCOPE, tag=TAG, kind=ResponseKind.LIST, query_schema=MetricQuery,
             response_schema=MetricDefinition, summary="List Metrics", errors={401, 403}),
    Endpoint(method="POST", path="/admin/service-keys", handler=create_service_key,
             access=SCOPE, tag=TAG, status=201, body_schema=ServiceKeyCreateRequest,
             response_schema=ServiceKeyCreated, summary="Create Service Key",
             errors={401, 403, 404}),
    Endpoint(method="GET", path="/admin/service-keys", handler=list_service_keys,
             access=SCOPE, tag=TAG, kind=ResponseKind.LIST,
             response_schema=ServiceKeyResponse, summary="List Service Keys",
             errors={401, 403}),
    Endpoint(method="DELETE", path="/admin/service-keys/{key_id}",
             handler=revoke_service_key_endpoint, access=SCOPE, tag=TAG,
             path_schema=ServiceKeyPath, response_schema=ServiceKeyResponse,
             summary="Revoke Service Key", errors={401, 403, 404}),
)

"""Webhook deliveries and attempts: listing, reading and redelivering (``admin:billing``).

Part of the ``admin-webhook-subscriptions`` tag: ``/api/v1/admin/webhook-deliveries`` lists
deliveries filtered by subscription, status, event type and creation time;
``/api/v1/admin/webhook-attempts`` lists attempts filtered by delivery, subscription,
outcome and time. A redelivered delivery is due at once and wakes the dispatcher.
"""

from __future__ import annotations

from typing import Final

from scaicontrol_core.access import Scope
from scaicontrol_core.webhooks.admin import redeliver
from scaicontrol_core.webhooks.model import AttemptQuery, DeliveryQuery, WebhookDelivery

from ..api import Call, Endpoint, Page, ResponseKind
from ._webhook_views import (
    AttemptFilter,
    DeliveryFilter,
    DeliveryPath,
    WebhookAttemptResponse,
    WebhookDeliveryDetailResponse,
    WebhookDeliveryResponse,
    attempt_view,
    delivery_detail,
    delivery_view,
)

__all__ = ["ENDPOINTS"]

TAG: Final = "admin-webhook-subscriptions"


async def list_deliveries(
    call: Call[None, DeliveryFilter, None],
) -> Page[WebhookDeliveryResponse]:
    """Deliveries, newest first, filtered by subscription, status, event type and time."""
    q = call.query
    query = DeliveryQuery(
        subscription_id=q.subscription_id, status=q.status,
        event_type=None if q.event_type is None else q.event_type.value,
        created_from=q.created_from, created_to=q.created_to,
    )

    def read() -> Page[WebhookDeliveryResponse]:
        with call.storage.unit_of_work() as uow:
            repo = uow.webhook_deliveries
            found = repo.find_matching(query, offset=call.page.offset, limit=call.page.limit)
            total = repo.count_matching(query)
        return Page(items=[delivery_view(d) for d in found], total=total)

    return await call.run(read)


async def get_delivery(call: Call[None, None, DeliveryPath]) -> WebhookDeliveryDetailResponse:
    """One delivery with the envelope it sends."""

    def read() -> WebhookDelivery:
        with call.storage.unit_of_work() as uow:
            found: WebhookDelivery = uow.webhook_deliveries.require(call.path.delivery_id)
            return found

    return delivery_detail(await call.run(read))


async def list_attempts(call: Call[None, AttemptFilter, None]) -> Page[WebhookAttemptResponse]:
    """Attempts, newest first, filtered by delivery, subscription, outcome and time."""
    q = call.query
    query = AttemptQuery(
        delivery_id=q.delivery_id, subscription_id=q.subscription_id, outcome=q.outcome,
        attempted_from=q.attempted_from, attempted_to=q.attempted_to,
    )

    def read() -> Page[WebhookAttemptResponse]:
        with call.storage.unit_of_work() as uow:
            repo = uow.webhook_attempts
            found = repo.find_matching(query, offset=call.page.offset, limit=call.page.limit)
            total = repo.count_matching(query)
        return Page(items=[attempt_view(a) for a in found], total=total)

    return await call.run(read)


async def redeliver_one(
    call: Call[None, None, DeliveryPath],
) -> WebhookDeliveryDetailResponse:
    """Queue a dispatched or dead delivery again, due now, with a fresh attempt budget
    (400 if it is still pending)."""
    now = call.now()

    def write() -> WebhookDelivery:
        with call.storage.unit_of_work() as uow:
            saved = redeliver(uow, call.path.delivery_id, now=now)
            uow.commit()
            return saved

    return delivery_detail(await call.run(write))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/admin/webhook-deliveries", handler=list_deliveries,
             access=Scope.ADMIN_BILLING, tag=TAG, kind=ResponseKind.PAGE,
             response_schema=WebhookDeliveryResponse, query_schema=DeliveryFilter,
             summary="List Webhook Deliveries"),
    Endpoint(method="GET", path="/admin/webhook-deliveries/{delivery_id}", handler=get_delivery,
             access=Scope.ADMIN_BILLING, tag=TAG, response_schema=WebhookDeliveryDetailResponse,
             path_schema=DeliveryPath, summary="Get Webhook Delivery"),
    Endpoint(method="POST", path="/admin/webhook-deliveries/{delivery_id}/redeliver",
             handler=redeliver_one, access=Scope.ADMIN_BILLING, tag=TAG,
             response_schema=WebhookDeliveryDetailResponse, path_schema=DeliveryPath,
             summary="Redeliver Webhook Delivery"),
    Endpoint(method="GET", path="/admin/webhook-attempts", handler=list_attempts,
             access=Scope.ADMIN_BILLING, tag=TAG, kind=ResponseKind.PAGE,
             response_schema=WebhookAttemptResponse, query_schema=AttemptFilter,
             summary="List Webhook Attempts"),
)

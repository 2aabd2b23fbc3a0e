"""Webhook subscriptions: ``/api/v1/admin/webhook-subscriptions`` (scope ``admin:billing``).

The four documented operations (list, create, update, delete), plus reading one, rotating
its secret, replaying its dead deliveries and sending it a test event. Subscriptions are
platform-wide (not tenant data), so every unit of work here is unscoped.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

import attrs

from scaicontrol_core.access import Scope
from scaicontrol_core.errors import ValidationError
from scaicontrol_core.events import Topic, envelope_to_json
from scaicontrol_core.ports import UnitOfWork
from scaicontrol_core.webhooks import delivery_headers, matching_topics
from scaicontrol_core.webhooks.admin import (
    NewSubscription,
    SubscriptionChanges,
    create_subscription,
    delete_subscription,
    record_test_delivery,
    replay_dead,
    rotate_secret,
    sample_delivery,
    update_subscription,
)
from scaicontrol_core.webhooks.dispatch import AttemptResult
from scaicontrol_core.webhooks.model import WebhookSubscription
from scaicontrol_core.webhooks.samples import sample_event

from ..api import Call, Endpoint, Page, ResponseKind
from ..fields import field
from ..webhook_dispatcher import DispatcherConfig, worker_name
from ..webhook_sender import WebhookSender
from ._webhook_views import (
    SubscriptionPath,
    WebhookReplayResponse,
    WebhookSecretRotate,
    WebhookSubscriptionCreate,
    WebhookSubscriptionResponse,
    WebhookSubscriptionSecretResponse,
    WebhookSubscriptionUpdate,
    WebhookTestResponse,
    attempt_view,
    delivery_detail,
    secret_view,
    subscription_view,
)

__all__ = ["ENDPOINTS"]

TAG: Final = "admin-webhook-subscriptions"
BASE: Final = "/admin/webhook-subscriptions"


@attrs.frozen(kw_only=True)
class SubscriptionFilter:
    is_active: bool | None = field(default=None, description="Only active (or inactive) ones.")


@attrs.frozen(kw_only=True)
class TestEventQuery:
    event_type: Topic | None = field(  # noqa: RUF009
        default=None,
        description="Topic of the sample event; by default the first topic the subscription "
                    "receives.",
    )


def _config(call: Call[Any, Any, Any]) -> DispatcherConfig:
    return DispatcherConfig.from_settings(call.settings)


async def list_subscriptions(
    call: Call[None, SubscriptionFilter, None],
) -> Page[WebhookSubscriptionResponse]:
    """Webhook subscriptions, oldest first; secrets are never listed."""
    where = {} if call.query.is_active is None else {"is_active": call.query.is_active}

    def read() -> Page[WebhookSubscriptionResponse]:
        with call.storage.unit_of_work() as uow:
            found = uow.webhook_subscriptions.find(
                where, order_by=["created_at", "id"], offset=call.page.offset,
                limit=call.page.limit,
            )
            total = uow.webhook_subscriptions.count(where)
        return Page(items=[subscription_view(s) for s in found], total=total)

    return await call.run(read)


async def create(
    call: Call[WebhookSubscriptionCreate, None, None],
) -> WebhookSubscriptionSecretResponse:
    """Register a subscriber. The response is the only one that shows the secret."""
    body, policy, now = call.body, _config(call).policy, call.now()
    spec = NewSubscription(
        name=body.name, target_url=body.target_url, topics=body.topics, secret=body.secret,
        is_active=body.is_active, standard_webhooks=body.standard_webhooks,
        description=body.description,
    )

    def write() -> WebhookSubscription:
        with call.storage.unit_of_work() as uow:
            stored = create_subscription(uow, spec, policy=policy, now=now, ids=call.ids,
                                         random_bytes=secrets.token_bytes(32))
            uow.commit()
            return stored

    return secret_view(await call.run(write))


async def get_subscription(
    call: Call[None, None, SubscriptionPath],
) -> WebhookSubscriptionResponse:
    """One webhook subscription (without its secret)."""

    def read() -> WebhookSubscription:
        with call.storage.unit_of_work() as uow:
            found: WebhookSubscription = uow.webhook_subscriptions.require(
                call.path.subscription_id
            )
            return found

    return subscription_view(await call.run(read))


async def update(
    call: Call[WebhookSubscriptionUpdate, None, SubscriptionPath],
) -> WebhookSubscriptionResponse:
    """Change name, target URL, topics, activity, Standard Webhooks or description."""
    body, policy, now = call.body, _config(call).policy, call.now()
    changes = SubscriptionChanges(
        name=body.name, target_url=body.target_url, topics=body.topics,
        is_active=body.is_active, standard_webhooks=body.standard_webhooks,
        description=body.description,
    )

    def write() -> WebhookSubscription:
        with call.storage.unit_of_work() as uow:
            saved = update_subscription(uow, call.path.subscription_id, changes,
                                        policy=policy, now=now)
            uow.commit()
            return saved

    return subscription_view(await call.run(write))


async def delete(call: Call[None, None, SubscriptionPath]) -> None:
    """Delete a subscription. Its deliveries stay; pending ones become dead."""
    now = call.now()

    def write() -> None:
        with call.storage.unit_of_work() as uow:
            delete_subscription(uow, call.path.subscription_id, now=now)
            uow.commit()

    await call.run(write)


async def rotate(
    call: Call[WebhookSecretRotate, None, SubscriptionPath],
) -> WebhookSubscriptionSecretResponse:
    """Replace the signing secret (generated unless given); every later attempt is signed
    with the new one. The response shows it once."""
    now, given = call.now(), call.body.secret

    def write() -> WebhookSubscription:
        with call.storage.unit_of_work() as uow:
            saved = rotate_secret(uow, call.path.subscription_id, now=now, secret=given,
                                  random_bytes=secrets.token_bytes(32))
            uow.commit()
            return saved

    return secret_view(await call.run(write))


async def replay(call: Call[None, None, SubscriptionPath]) -> WebhookReplayResponse:
    """Queue every dead delivery of the subscription again (same event ids and keys)."""
    now = call.now()

    def write() -> int:
        with call.storage.unit_of_work() as uow:
            count = replay_dead(uow, call.path.subscription_id, now=now)
            uow.commit()
            return count

    return WebhookReplayResponse(replayed=await call.run(write))


def _test_topic(subscription: WebhookSubscription, wanted: Topic | None) -> Topic:
    if wanted is not None:
        return wanted
    for pattern in subscription.topics:
        found = matching_topics(pattern)
        if found:
            return found[0]
    raise ValidationError("the subscription receives no topic", field="topics")


async def send_test(call: Call[None, TestEventQuery, SubscriptionPath]) -> WebhookTestResponse:
    """POST a sample event to the subscriber now, once, and record it as a test delivery
    (active or not; a failed test is dead at once and never retried)."""
    config, now = _config(call), call.now()

    def load(uow: UnitOfWork) -> WebhookSubscription:
        found: WebhookSubscription = uow.webhook_subscriptions.require(call.path.subscription_id)
        return found

    def read() -> WebhookSubscription:
        with call.storage.unit_of_work() as uow:
            return load(uow)

    subscription = await call.run(read)
    envelope = sample_event(_test_topic(subscription, call.query.event_type), now=now,
                            ids=call.ids)
    delivery = sample_delivery(subscription, envelope, now=now)
    body = envelope_to_json(envelope)
    try:
        headers = delivery_headers(envelope, body, subscription.secret, now,
                                   standard_webhooks=subscription.standard_webhooks)
    except ValidationError as exc:
        result = AttemptResult(delivery=delivery, attempted_at=now, duration_ms=0,
                               error=f"cannot build the request: {exc}", permanent=True)
    else:
        async with WebhookSender(config.policy, timeout=config.timeout, concurrency=1) as sender:
            sent = await sender.send(subscription.target_url, body, headers)
        result = AttemptResult(delivery=delivery, attempted_at=now, duration_ms=sent.duration_ms,
                               status_code=sent.status_code, error=sent.error,
                               permanent=sent.permanent)

    def write() -> WebhookTestResponse:
        with call.storage.unit_of_work() as uow:
            load(uow)  # deleted meanwhile: 404, nothing stored
            stored, attempt = record_test_delivery(uow, result, worker=worker_name(),
                                                   now=call.now())
            uow.commit()
        return WebhookTestResponse(delivery=delivery_detail(stored), attempt=attempt_view(attempt))

    return await call.run(write)


_PATH = f"{BASE}/{{subscription_id}}"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path=BASE, handler=list_subscriptions, access=Scope.ADMIN_BILLING,
             tag=TAG, kind=ResponseKind.PAGE, response_schema=WebhookSubscriptionResponse,
             query_schema=SubscriptionFilter, summary="List Webhook Subscriptions"),
    Endpoint(method="POST", path=BASE, handler=create, access=Scope.ADMIN_BILLING, tag=TAG,
             status=201, response_schema=WebhookSubscriptionSecretResponse,
             body_schema=WebhookSubscriptionCreate, summary="Create Webhook Subscription"),
    Endpoint(method="GET", path=_PATH, handler=get_subscription, access=Scope.ADMIN_BILLING,
             tag=TAG, response_schema=WebhookSubscriptionResponse, path_schema=SubscriptionPath,
             summary="Get Webhook Subscription"),
    Endpoint(method="PATCH", path=_PATH, handler=update, access=Scope.ADMIN_BILLING, tag=TAG,
             response_schema=WebhookSubscriptionResponse, body_schema=WebhookSubscriptionUpdate,
             path_schema=SubscriptionPath, summary="Update Webhook Subscription"),
    Endpoint(method="DELETE", path=_PATH, handler=delete, access=Scope.ADMIN_BILLING, tag=TAG,
             kind=ResponseKind.EMPTY, path_schema=SubscriptionPath,
             summary="Delete Webhook Subscription"),
    Endpoint(method="POST", path=f"{_PATH}/rotate-secret", handler=rotate,
             access=Scope.ADMIN_BILLING, tag=TAG,
             response_schema=WebhookSubscriptionSecretResponse, body_schema=WebhookSecretRotate,
             path_schema=SubscriptionPath, summary="Rotate Webhook Secret"),
    Endpoint(method="POST", path=f"{_PATH}/replay", handler=replay, access=Scope.ADMIN_BILLING,
             tag=TAG, response_schema=WebhookReplayResponse, path_schema=SubscriptionPath,
             summary="Replay Dead Webhook Deliveries"),
    Endpoint(method="POST", path=f"{_PATH}/test", handler=send_test, access=Scope.ADMIN_BILLING,
             tag=TAG, response_schema=WebhookTestResponse, path_schema=SubscriptionPath,
             query_schema=TestEventQuery, summary="Send Webhook Test Event"),
)

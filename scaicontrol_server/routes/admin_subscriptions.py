"""Operators run subscription lifecycles: ``/api/v1/admin/subscriptions`` (tag
``admin-subscriptions``, scope ``admin:subscriptions``).

The id in a path may name a subscription or a pack subscription: operating on a pack
subscription changes the pack and all its children. A child of a pack is refused (400;
act on its pack). Operations follow the subscription machine exactly; anything else is
400 ``bad_request`` and changes nothing.
"""

from __future__ import annotations

import attrs

from scaicontrol_core.catalog_records import SubscriptionStatus
from scaicontrol_core.commerce import MAX_BULK, BulkAction, PackSubscriptionView
from scaicontrol_core.commerce.admin import Bought

from ..api import Call, Endpoint, Page, ResponseKind
from ..envelopes import ErrorCode
from ..fields import field
from ..middlewares import mapping_for
from ._commerce import admin_lifecycle, admin_reach, subscription_service
from ._commerce_views import (
    PackSubscriptionResponse,
    SubscriptionResponse,
    pack_subscription_view,
    subscription_view,
)
from .subscriptions import SubscriptionPath, plan_reference

__all__ = [
    "ENDPOINTS",
    "AdminCancelRequest",
    "AdminSubscribeRequest",
    "AdminSubscriptionQuery",
    "BulkFailureResponse",
    "BulkRequest",
    "BulkResultResponse",
    "OverrideRequest",
]

TAG = "admin-subscriptions"
SCOPE = "admin:subscriptions"
AnySubscription = SubscriptionResponse | PackSubscriptionResponse


@attrs.frozen(kw_only=True)
class AdminSubscriptionQuery:
    tenant_id: str | None = field(default=None, max_length=64, description="Only this tenant.")
    status: SubscriptionStatus | None = field(default=None, description="Only this status.")  # noqa: RUF009
    service_id: str | None = field(default=None, max_length=64, description="Only this service.")
    plan_key: str | None = field(default=None, max_length=128, description="Only this plan.")


@attrs.frozen(kw_only=True)
class AdminSubscribeRequest:
    tenant_id: str = field(max_length=64, description="The buying tenant.")
    plan_id: str | None = field(default=None, max_length=64, description="The plan's id...")
    plan_key: str | None = field(default=None, max_length=128, description="...or plan key.")
    quantity: int = field(default=1, ge=1, le=1_000_000)
    activate: bool = field(default=True, description="False leaves it pending until "
                                                     "provisioning reports.")

    def __attrs_post_init__(self) -> None:
        plan_reference(self.plan_id, self.plan_key, required=True)


@attrs.frozen(kw_only=True)
class OverrideRequest:
    plan_id: str | None = field(default=None, max_length=64)
    plan_key: str | None = field(default=None, max_length=128)
    quantity: int | None = field(default=None, ge=1, le=1_000_000)
    status: SubscriptionStatus | None = field(  # noqa: RUF009
        default=None, description="Reached only along a documented transition.")
    reason: str | None = field(default=None, max_length=500)

    def __attrs_post_init__(self) -> None:
        plan_reference(self.plan_id, self.plan_key, required=False)


@attrs.frozen(kw_only=True)
class AdminCancelRequest:
    immediate: bool = field(default=False, description="End it now instead of at the end of "
                                                       "the period.")
    reason: str | None = field(default=None, max_length=500)


@attrs.frozen(kw_only=True)
class BulkRequest:
    action: BulkAction
    subscription_ids: list[str] = field(min_length=1, max_length=MAX_BULK,  # noqa: RUF009
                                        description=f"1 to {MAX_BULK} ids.")
    reason: str | None = field(default=None, max_length=500)


@attrs.frozen(kw_only=True)
class BulkFailureResponse:
    id: str
    error: str
    """What went wrong, as the single operation would have said it."""
    code: ErrorCode


@attrs.frozen(kw_only=True)
class BulkResultResponse:
    succeeded: list[str]
    failed: list[BulkFailureResponse]


def _view(result: Bought) -> AnySubscription:
    if isinstance(result, PackSubscriptionView):
        return pack_subscription_view(result)
    return subscription_view(result)


async def list_admin_subscriptions(
    call: Call[None, AdminSubscriptionQuery, None],
) -> Page[SubscriptionResponse]:
    """Subscriptions of the tenants within reach, newest first (pack children included)."""
    query = call.query
    items, total = await call.run(
        subscription_service(call).list, admin_reach(call), status=query.status,
        tenant_id=query.tenant_id, service_id=query.service_id, plan_key=query.plan_key,
        offset=call.page.offset, limit=call.page.limit,
    )
    return Page(items=[subscription_view(s) for s in items], total=total)


async def get_admin_subscription(call: Call[None, None, SubscriptionPath]) -> AnySubscription:
    """One subscription or pack subscription."""
    lifecycle = admin_lifecycle(call)
    return _view(await call.run(lifecycle.get, admin_reach(call), call.path.subscription_id))


async def create_admin_subscription(
    call: Call[AdminSubscribeRequest, None, None],
) -> SubscriptionResponse:
    """Subscribe a tenant to a plan: it starts ``pending`` and, unless ``activate`` is
    false, ends ``trialing`` or ``active`` and records ``subscription.activated``."""
    body = call.body
    created = await call.run(
        subscription_service(call).subscribe, admin_reach(call), tenant_id=body.tenant_id,
        plan=plan_reference(body.plan_id, body.plan_key, required=True) or "",
        quantity=body.quantity, now=call.now(), activate=body.activate,
    )
    return subscription_view(created)


async def override_subscription(
    call: Call[OverrideRequest, None, SubscriptionPath],
) -> AnySubscription:
    """Set plan, quantity and/or status. Each change records its own event
    (``plan_change``, ``quantity_change``, and the event of the transition taken)."""
    body = call.body
    return _view(await call.run(
        admin_lifecycle(call).override, admin_reach(call), call.path.subscription_id,
        now=call.now(), plan=plan_reference(body.plan_id, body.plan_key, required=False),
        status=body.status, quantity=body.quantity, reason=body.reason,
    ))


async def cancel_admin_subscription(
    call: Call[AdminCancelRequest, None, SubscriptionPath],
) -> AnySubscription:
    """Cancel at the end of the period (``cancelling``), or at once with ``immediate``
    (``cancelled``, ``effective_immediately`` true). A trial always ends at once."""
    return _view(await call.run(
        admin_lifecycle(call).cancel, admin_reach(call), call.path.subscription_id,
        now=call.now(), immediate=call.body.immediate, reason=call.body.reason,
    ))


async def resume_admin_subscription(call: Call[None, None, SubscriptionPath]) -> AnySubscription:
    """``cancelling`` back to ``active`` (the scheduled cancellation is undone), or
    ``suspended`` back to ``active`` (``subscription.resumed``)."""
    return _view(await call.run(admin_lifecycle(call).resume, admin_reach(call),
                                call.path.subscription_id, now=call.now()))


async def suspend_admin_subscription(
    call: Call[None, None, SubscriptionPath],
) -> AnySubscription:
    """Suspend a ``past_due`` subscription before dunning does (the machine has no edge
    from ``active`` to ``suspended``)."""
    return _view(await call.run(admin_lifecycle(call).suspend, admin_reach(call),
                                call.path.subscription_id, now=call.now()))


async def bulk_subscriptions(call: Call[BulkRequest, None, None]) -> BulkResultResponse:
    """Apply one action to many subscriptions, best effort: each succeeds or fails alone."""
    body = call.body
    result = await call.run(admin_lifecycle(call).bulk, admin_reach(call), body.action,
                            body.subscription_ids, now=call.now(), reason=body.reason)
    failures = []
    for failure in result.failed:
        mapping = mapping_for(failure.error)
        code = mapping.code if mapping is not None else ErrorCode.INTERNAL_ERROR
        failures.append(BulkFailureResponse(id=failure.id, error=str(failure.error), code=code))
    return BulkResultResponse(succeeded=list(result.succeeded), failed=failures)


_ERRORS = {400, 404, 409}
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/admin/subscriptions", handler=list_admin_subscriptions,
             access=SCOPE, tag=TAG, kind=ResponseKind.PAGE, response_schema=SubscriptionResponse,
             query_schema=AdminSubscriptionQuery),
    Endpoint(method="POST", path="/admin/subscriptions", handler=create_admin_subscription,
             access=SCOPE, tag=TAG, status=201, response_schema=SubscriptionResponse,
             body_schema=AdminSubscribeRequest, errors=_ERRORS),
    Endpoint(method="POST", path="/admin/subscriptions/bulk", handler=bulk_subscriptions,
             access=SCOPE, tag=TAG, response_schema=BulkResultResponse, body_schema=BulkRequest,
             errors={400}),
    Endpoint(method="GET", path="/admin/subscriptions/{subscription_id}",
             handler=get_admin_subscription, access=SCOPE, tag=TAG,
             response_schema=AnySubscription, path_schema=SubscriptionPath, errors={404}),
    Endpoint(method="POST", path="/admin/subscriptions/{subscription_id}/override",
             handler=override_subscription, access=SCOPE, tag=TAG,
             response_schema=AnySubscription, body_schema=OverrideRequest,
             path_schema=SubscriptionPath, errors=_ERRORS),
    Endpoint(method="POST", path="/admin/subscriptions/{subscription_id}/cancel",
             handler=cancel_admin_subscription, access=SCOPE, tag=TAG,
             response_schema=AnySubscription, body_schema=AdminCancelRequest,
             path_schema=SubscriptionPath, errors=_ERRORS),
    Endpoint(method="POST", path="/admin/subscriptions/{subscription_id}/resume",
             handler=resume_admin_subscription, access=SCOPE, tag=TAG,
             response_schema=AnySubscription, path_schema=SubscriptionPath, errors=_ERRORS),
    Endpoint(method="POST", path="/admin/subscriptions/{subscription_id}/suspend",
             handler=suspend_admin_subscription, access=SCOPE, tag=TAG,
             response_schema=AnySubscription, path_schema=SubscriptionPath, errors=_ERRORS),
)

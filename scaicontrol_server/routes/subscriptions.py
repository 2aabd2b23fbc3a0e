"""A tenant's own subscriptions: ``/api/v1/subscriptions`` (tag ``subscriptions``).

Reading needs ``subscriptions:read``; buying and changing need ``billing:manage`` (the
tenant administrator's commerce scope). Everything happens inside the caller's tenant;
other tenants' subscriptions read as missing. A transition the subscription machine does
not allow answers 400 ``bad_request`` and changes nothing.
"""

from __future__ import annotations

import attrs

from scaicontrol_core.catalog_records import SubscriptionStatus

from ..api import Call, Endpoint, Page, ResponseKind
from ..fields import InputError, field
from ._commerce import subscription_service, tenant_reach_of
from ._commerce_views import SubscriptionResponse, subscription_view

__all__ = [
    "ENDPOINTS",
    "SubscribeRequest",
    "SubscriptionChangeRequest",
    "SubscriptionPath",
    "SubscriptionQuery",
    "TenantCancelRequest",
    "plan_reference",
]

TAG = "subscriptions"
READ = "subscriptions:read"
MANAGE = "billing:manage"


def plan_reference(plan_id: str | None, plan_key: str | None, *, required: bool) -> str | None:
    """The plan a body names: ``plan_id`` or ``plan_key``, not both (422 otherwise)."""
    if plan_id is not None and plan_key is not None:
        raise InputError("plan_key", "value_error", "Give plan_id or plan_key, not both")
    if required and plan_id is None and plan_key is None:
        raise InputError("plan_id", "missing", "Give plan_id or plan_key")
    return plan_id if plan_id is not None else plan_key


@attrs.frozen(kw_only=True)
class SubscriptionPath:
    subscription_id: str = field(max_length=64, description="Subscription id.")


@attrs.frozen(kw_only=True)
class SubscriptionQuery:
    status: SubscriptionStatus | None = field(default=None, description="Only this status.")  # noqa: RUF009


@attrs.frozen(kw_only=True)
class SubscribeRequest:
    plan_id: str | None = field(default=None, max_length=64, description="The plan's id...")
    plan_key: str | None = field(default=None, max_length=128,
                                 description="...or its plan key, e.g. scaikey.starter.")
    quantity: int = field(default=1, ge=1, le=1_000_000, description="Units (seats).")

    def __attrs_post_init__(self) -> None:
        plan_reference(self.plan_id, self.plan_key, required=True)


@attrs.frozen(kw_only=True)
class TenantCancelRequest:
    reason: str | None = field(default=None, max_length=500, description="Why, if you like.")


@attrs.frozen(kw_only=True)
class SubscriptionChangeRequest:
    plan_id: str | None = field(default=None, max_length=64, description="New plan's id...")
    plan_key: str | None = field(default=None, max_length=128, description="...or plan key.")
    quantity: int | None = field(default=None, ge=1, le=1_000_000, description="New quantity.")

    def __attrs_post_init__(self) -> None:
        plan_reference(self.plan_id, self.plan_key, required=False)
        if self.plan_id is None and self.plan_key is None and self.quantity is None:
            raise InputError("quantity", "missing", "Give a plan or a quantity to change")


async def list_subscriptions(
    call: Call[None, SubscriptionQuery, None],
) -> Page[SubscriptionResponse]:
    """The caller's tenant's subscriptions, newest first."""
    items, total = await call.run(
        subscription_service(call).list, tenant_reach_of(call), status=call.query.status,
        offset=call.page.offset, limit=call.page.limit,
    )
    return Page(items=[subscription_view(s) for s in items], total=total)


async def get_subscription(call: Call[None, None, SubscriptionPath]) -> SubscriptionResponse:
    """One of the caller's tenant's subscriptions."""
    return subscription_view(await call.run(subscription_service(call).get,
                                            tenant_reach_of(call), call.path.subscription_id))


async def subscribe(call: Call[SubscribeRequest, None, None]) -> SubscriptionResponse:
    """Subscribe the caller's tenant to a plan: ``trialing`` when the plan has trial days,
    else ``active``. The tenant needs a billing profile (400 otherwise) and may hold one
    live subscription per service (409 otherwise)."""
    reach = tenant_reach_of(call)
    body = call.body
    plan = plan_reference(body.plan_id, body.plan_key, required=True)
    assert plan is not None
    created = await call.run(subscription_service(call).subscribe, reach,
                             tenant_id=reach.tenant_id or "", plan=plan,
                             quantity=body.quantity, now=call.now())
    return subscription_view(created)


async def cancel_subscription(
    call: Call[TenantCancelRequest, None, SubscriptionPath],
) -> SubscriptionResponse:
    """Cancel: a trial ends at once; an active subscription becomes ``cancelling`` and ends
    at the end of its period (undo with ``resume`` until then)."""
    return subscription_view(await call.run(
        subscription_service(call).cancel, tenant_reach_of(call), call.path.subscription_id,
        now=call.now(), reason=call.body.reason,
    ))


async def resume_subscription(call: Call[None, None, SubscriptionPath]) -> SubscriptionResponse:
    """Withdraw a scheduled cancellation (``cancelling`` back to ``active``)."""
    return subscription_view(await call.run(
        subscription_service(call).undo_cancellation, tenant_reach_of(call),
        call.path.subscription_id, now=call.now(),
    ))


async def change_subscription(
    call: Call[SubscriptionChangeRequest, None, SubscriptionPath],
) -> SubscriptionResponse:
    """Move to another plan of the same service and/or change the quantity (trialing or
    active subscriptions only); takes effect at once, without proration."""
    body = call.body
    return subscription_view(await call.run(
        subscription_service(call).change, tenant_reach_of(call), call.path.subscription_id,
        now=call.now(), plan=plan_reference(body.plan_id, body.plan_key, required=False),
        quantity=body.quantity,
    ))


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(method="GET", path="/subscriptions", handler=list_subscriptions, access=READ,
             tag=TAG, kind=ResponseKind.PAGE, response_schema=SubscriptionResponse,
             query_schema=SubscriptionQuery),
    Endpoint(method="GET", path="/subscriptions/{subscription_id}", handler=get_subscription,
             access=READ, tag=TAG, response_schema=SubscriptionResponse,
             path_schema=SubscriptionPath, errors={404}),
    Endpoint(method="POST", path="/subscriptions", handler=subscribe, access=MANAGE, tag=TAG,
             status=201, response_schema=SubscriptionResponse, body_schema=SubscribeRequest,
             errors={400, 404, 409}),
    Endpoint(method="POST", path="/subscriptions/{subscription_id}/cancel",
             handler=cancel_subscription, access=MANAGE, tag=TAG,
             response_schema=SubscriptionResponse, body_schema=TenantCancelRequest,
             path_schema=SubscriptionPath, errors={400, 404, 409}),
    Endpoint(method="POST", path="/subscriptions/{subscription_id}/resume",
             handler=resume_subscription, access=MANAGE, tag=TAG,
             response_schema=SubscriptionResponse, path_schema=SubscriptionPath,
             errors={400, 404, 409}),
    Endpoint(method="POST", path="/subscriptions/{subscription_id}/change",
             handler=change_subscription, access=MANAGE, tag=TAG,
             response_schema=SubscriptionResponse, body_schema=SubscriptionChangeRequest,
             path_schema=SubscriptionPath, errors={400, 404, 409}),
)
